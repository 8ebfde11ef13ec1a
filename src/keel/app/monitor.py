"""The stuck-order monitor's sweep for silent working orders.

Unanswered instructions are chased by the timers the state machine arms itself (a status
request, then STUCK_ORDER). A working order that simply hears nothing has no instruction
to time out, so this sweep looks at the open orders every ``interval`` and sends the
state machine a ``SILENCE`` timer for each working order quiet for longer than the
policy's window. The state machine decides (it flags SILENT_ORDER once, with the
evidence), so the sweep is safe to run after a restart or twice: it holds no state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from keel.app.errors import SequencerStoppedError
from keel.app.ports import Clock
from keel.app.sequencer import Sequencer
from keel.domain.enums import ExceptionKind, OrderStatus, TimerKind
from keel.domain.inputs import TimerFired

log = logging.getLogger(__name__)

_WORKING = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class SilenceMonitor:
    """Every ``interval`` seconds, ask the state machine about each quiet working order."""

    def __init__(
        self, sequencer: Sequencer, clock: Clock, window: timedelta, *, interval: float = 5.0
    ) -> None:
        self._sequencer = sequencer
        self._clock = clock
        self._window = window
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self.flagged_checks = 0
        """Silence timers sent since start."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="keel-silence-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def sweep(self) -> int:
        """Send a SILENCE timer for every working order quiet beyond the window; return
        how many were sent."""
        now = self._clock.now()
        sent = 0
        for order in list(self._sequencer.open_orders.values()):
            if order.status not in _WORKING:
                continue
            if now - order.times.processed_time < self._window:
                continue
            if any(x.kind is ExceptionKind.SILENT_ORDER for x in order.open_exceptions):
                continue
            self._sequencer.enqueue(
                TimerFired(
                    order_id=order.order_id, ingest_time=now, event_time=now,
                    timer=TimerKind.SILENCE, cl_ord_id=order.cl_ord_id,
                ),
                source="monitor",
            )  # fmt: skip
            sent += 1
        self.flagged_checks += sent
        return sent

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                self.sweep()
            except SequencerStoppedError:
                return
            except Exception:  # a bug in a sweep must not stop the next one
                log.exception("the silence sweep failed")
