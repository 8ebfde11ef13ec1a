"""The wire between the venue and its client: where reports are delayed, doubled, swapped,
dropped, and where the venue decides to disconnect.

The wire is one ordered queue, like a FIX session: a delayed report holds up every report
behind it. Each call's reports go through the faults as one batch: drops first, then swaps
within the batch, then duplicates and delays as they are queued.

With the copy line open, the wire also keeps what a broker's drop copy shows: each report
of the batch once, in the order the venue produced it, and twice when the wire sends it
twice (the broker's own duplicate); the wire's drops, delays and swaps do not touch it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime

from keel.adapters.venues.sim.faults import FaultDice, FaultPlan
from keel.adapters.venues.sim.reports import UNKNOWN_ORDER_ID, VenueReport


class Wire:
    """The queue of reports on their way out, with the fault plan's wire faults applied."""

    def __init__(self, plan: FaultPlan, dice: FaultDice) -> None:
        self._plan = plan
        self._dice = dice
        self._queue: deque[tuple[datetime, VenueReport]] = deque()
        self._last_release: datetime | None = None
        self._handed_out = 0
        self._disconnect_after_said = False
        self._disconnect_at_said = False
        self.dropped: list[VenueReport] = []
        """Reports the wire never sent (the drop copy still has them)."""
        self.copies: list[VenueReport] | None = None
        """The drop copy's reports not yet taken; None while the copy line is closed."""

    def set_plan(self, plan: FaultPlan) -> None:
        """Apply ``plan``'s wire faults to what is queued from now on."""
        self._plan = plan

    @property
    def pending(self) -> int:
        """How many reports are queued and not yet handed out."""
        return len(self._queue)

    def send(self, batch: Sequence[VenueReport], now: datetime) -> None:
        """Queue one call's reports, applying the wire faults the plan arms."""
        plan, dice = self._plan, self._dice
        kept: list[VenueReport] = []
        for report in batch:
            if plan.drop.armed and dice.fires("drop", plan.drop, report.cl_ord_id, report.kind):
                self.dropped.append(report)
            else:
                kept.append(report)
        if plan.reorder.armed:
            self._swap(kept)
        doubled: set[int] = set()
        for report in kept:
            release = now
            if plan.delay.armed and dice.fires("delay", plan.delay, report.cl_ord_id, report.kind):
                release = now + plan.delay_by
            if self._last_release is not None and release < self._last_release:
                release = self._last_release
            self._last_release = release
            self._queue.append((release, report))
            if plan.duplicate.armed and dice.fires(
                "duplicate", plan.duplicate, report.cl_ord_id, report.kind
            ):
                self._queue.append((release, report))
                doubled.add(id(report))
        if self.copies is not None:
            self._copy(batch, doubled)

    def _copy(self, batch: Sequence[VenueReport], doubled: set[int]) -> None:
        """Keep the batch for the drop copy: in the venue's order, a duplicated report twice."""
        copies = self.copies
        assert copies is not None
        for report in batch:
            copies.append(report)
            if id(report) in doubled:
                copies.append(report)

    def _swap(self, batch: list[VenueReport]) -> None:
        """Swap reports with the next report of the same order in the batch, where the plan says.

        A report with no later report of its order in the batch cannot be swapped, and a
        scripted swap stays armed until one can.
        """
        swapped: set[int] = set()
        for i, report in enumerate(batch):
            if i in swapped or report.venue_order_id == UNKNOWN_ORDER_ID:
                continue
            partner = next(
                (
                    j
                    for j in range(i + 1, len(batch))
                    if j not in swapped and batch[j].venue_order_id == report.venue_order_id
                ),
                None,
            )
            if partner is None:
                continue
            trigger = self._plan.reorder
            if self._dice.fires("reorder", trigger, report.cl_ord_id, report.kind):
                batch[i], batch[partner] = batch[partner], report
                swapped.update((i, partner))

    def due(self, now: datetime) -> list[VenueReport]:
        """Hand out the reports released at or before ``now``, in send order.

        With ``disconnect_after_messages`` armed, stop at that count so the disconnect falls
        exactly after it.
        """
        limit = None
        after = self._plan.disconnect_after_messages
        if after is not None and not self._disconnect_after_said:
            limit = max(0, after - self._handed_out)
        out: list[VenueReport] = []
        queue = self._queue
        while queue and queue[0][0] <= now and (limit is None or len(out) < limit):
            out.append(queue.popleft()[1])
        self._handed_out += len(out)
        return out

    def disconnect_due(self, now: datetime) -> bool:
        """Return True once for each armed disconnect whose moment has come."""
        plan = self._plan
        after = plan.disconnect_after_messages
        if after is not None and not self._disconnect_after_said and self._handed_out >= after:
            self._disconnect_after_said = True
            return True
        at = plan.disconnect_at
        if at is not None and not self._disconnect_at_said and now >= at:
            self._disconnect_at_said = True
            return True
        return False
