"""The fault plan: what goes wrong at the simulated venue, on purpose and reproducibly.

Each fault has a ``Trigger``: a ratio of chances drawn from the venue's seeded generator,
and/or a set of ClOrdIDs for which it fires exactly once, so a test can inject one fault on
one order. Faults inside the venue (reject, split prints, late fill after cancel) name the
order by the ClOrdID it has when the fault would fire; faults on the wire (delay, duplicate,
reorder, drop) name it by the report's ClOrdID and may be limited to some report kinds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from keel.adapters.venues.sim.reports import FILL_KINDS, ReportKind, SimVenueError
from keel.domain.ids import ClOrdId

ALL_KINDS = frozenset(ReportKind)


@dataclass(frozen=True, slots=True)
class Trigger:
    """When a fault fires: on a ``ratio`` of its chances, and once for each order in ``of``."""

    ratio: float = 0.0
    """A probability in [0, 1], drawn per chance only when above zero (never money)."""
    of: frozenset[ClOrdId] = frozenset()
    kinds: frozenset[ReportKind] = ALL_KINDS
    """Wire faults only: the report kinds the fault may hit."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.ratio <= 1.0:
            raise SimVenueError(f"a fault ratio must be within [0, 1], not {self.ratio}")

    @classmethod
    def once(cls, *cl_ord_ids: str, kinds: frozenset[ReportKind] = ALL_KINDS) -> Trigger:
        """Return a trigger that fires exactly once for each named order."""
        return cls(of=frozenset(ClOrdId(c) for c in cl_ord_ids), kinds=kinds)

    @classmethod
    def once_on_fill(cls, *cl_ord_ids: str) -> Trigger:
        """Return a trigger that fires on the first fill report of each named order."""
        return cls.once(*cl_ord_ids, kinds=FILL_KINDS)

    @classmethod
    def always(cls, kinds: frozenset[ReportKind] = ALL_KINDS) -> Trigger:
        """Return a trigger that fires at every chance."""
        return cls(ratio=1.0, kinds=kinds)

    @property
    def armed(self) -> bool:
        """Whether the trigger can fire at all; unarmed faults cost nothing and draw nothing."""
        return self.ratio > 0.0 or bool(self.of)


NEVER = Trigger()


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Every fault the venue may inject; the default plan injects none."""

    # -- inside the venue ----------------------------------------------------------------
    reject_new: Trigger = NEVER
    """Reject new orders (``Trigger.always()`` rejects all)."""
    reject_symbols: frozenset[str] = frozenset()
    """Reject every new order on these symbols."""
    reject_text: str = "rejected by the simulated venue's fault plan"
    split_fill: Trigger = NEVER
    """Split a match into ``split_prints`` executions (each its own ExecID) instead of one."""
    split_prints: int = 2
    late_fill_after_cancel: Trigger = NEVER
    """Ack a cancel, then report a fill that executed just before it."""
    late_fill_qty: Decimal | None = None
    """The late fill's quantity; ``None``: half the leaves, rounded down to a lot, at least one."""
    # -- on the wire ---------------------------------------------------------------------
    delay: Trigger = NEVER
    delay_by: timedelta = timedelta(seconds=1)
    """A delayed report leaves at ``now + delay_by``, and holds up what queues behind it."""
    duplicate: Trigger = NEVER
    """Send the report twice, with the same ExecID."""
    reorder: Trigger = NEVER
    """Swap the report with the next report of the same order from the same call."""
    drop: Trigger = NEVER
    """Never send the report; the drop copy and the statement still have it."""
    disconnect_after_messages: int | None = None
    """Say "disconnect now" once, after this many reports have been handed out."""
    disconnect_at: datetime | None = None
    """Say "disconnect now" once, at the first check at or after this time."""

    def __post_init__(self) -> None:
        if self.split_prints < 2:  # noqa: PLR2004 - one print is no split
            raise SimVenueError("split_prints must be at least 2")
        if self.delay_by < timedelta(0):
            raise SimVenueError("delay_by must not be negative")
        if self.late_fill_qty is not None and self.late_fill_qty <= 0:
            raise SimVenueError("late_fill_qty must be positive")
        if self.disconnect_after_messages is not None and self.disconnect_after_messages < 0:
            raise SimVenueError("disconnect_after_messages must not be negative")
        if self.disconnect_at is not None and self.disconnect_at.utcoffset() is None:
            raise SimVenueError("disconnect_at must be an aware UTC datetime")


class FaultDice:
    """Decide whether a fault fires, with the seeded generator; a named order fires once."""

    __slots__ = ("_rng", "_spent")

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._spent: set[tuple[str, ClOrdId]] = set()

    def fires(
        self, fault: str, trigger: Trigger, cl_ord_id: ClOrdId, kind: ReportKind | None = None
    ) -> bool:
        """Return whether ``fault`` fires for this chance, spending a scripted shot if so.

        The generator is drawn only for triggers with a ratio, so arming a scripted fault
        does not move any other random choice.
        """
        if kind is not None and kind not in trigger.kinds:
            return False
        if cl_ord_id in trigger.of and (fault, cl_ord_id) not in self._spent:
            self._spent.add((fault, cl_ord_id))
            return True
        return trigger.ratio > 0.0 and self._rng.random() < trigger.ratio
