"""After the commit: carry out the effects of committed transitions, in commit order.

The sequencer hands each committed batch to its subscribers; ``EffectDispatcher`` is the one
that acts on the effects. Venue instructions (new order, cancel, replace, status request)
go to the ``VenueGateway`` of the order's venue; timers are armed on the event loop and
come back as ``TimerFired`` inputs. The subscriber call only queues (it must not block the
sequencer); one worker task sends, so a venue sees instructions in the order the log has
them.

A venue that has no gateway, or whose session is down, cannot take an instruction: the
dispatcher records that as the venue's answer would be, so the order does not hang — a new
order is rejected (``VENUE_UNAVAILABLE``), a cancel or replace is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from keel.app.errors import AppError, SequencerStoppedError
from keel.app.ports import Clock
from keel.app.results import Committed
from keel.domain.effects import (
    Effect,
    RequestStatus,
    ScheduleTimer,
    SendCancel,
    SendNewOrder,
    SendReplace,
)
from keel.domain.ids import ExecId, OrderId
from keel.domain.inputs import CancelReject, Input, ReplaceReject, TimerFired, VenueReject
from keel.domain.order import Order

log = logging.getLogger(__name__)

VENUE_UNAVAILABLE = "VENUE_UNAVAILABLE"


class VenueUnavailableError(AppError):
    """The venue's session is not logged on, or Keel has no gateway for it."""


class VenueGateway(Protocol):
    """Sends Keel's instructions to one venue; raises ``VenueUnavailableError`` when it
    cannot."""

    @property
    def venue(self) -> str: ...

    async def send_new_order(self, effect: SendNewOrder, order: Order) -> None: ...

    async def send_cancel(self, effect: SendCancel, order: Order) -> None: ...

    async def send_replace(self, effect: SendReplace, order: Order) -> None: ...

    async def request_status(self, effect: RequestStatus, order: Order) -> None: ...


class Submitter(Protocol):
    """The sequencer, as the dispatcher uses it."""

    def enqueue(
        self,
        inp: Input,
        *,
        source: str,
        raw: bytes | None = None,
        idempotency_key: str | None = None,
        fix: tuple[str, int, int] | None = None,
    ) -> Awaitable[Any]: ...


@dataclass(frozen=True, slots=True)
class _Work:
    effect: Effect
    order: Order


class EffectDispatcher:
    """Subscribes to the sequencer and carries out venue instructions and timers."""

    def __init__(
        self,
        submit: Submitter,
        clock: Clock,
        gateways: Sequence[VenueGateway] = (),
    ) -> None:
        self._submit = submit
        self._clock = clock
        self._gateways = {g.venue: g for g in gateways}
        self._queue: asyncio.Queue[_Work | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self.sent = 0
        self.failed = 0

    def add_gateway(self, gateway: VenueGateway) -> None:
        self._gateways[gateway.venue] = gateway

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="keel-effects")

    async def stop(self) -> None:
        """Finish what is queued, then stop; pending timers are dropped (the state machine
        arms them again after a restart from the orders' state)."""
        for handle in self._timers:
            handle.cancel()
        self._timers.clear()
        if self._task is not None:
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def __call__(self, batch: Sequence[Committed]) -> None:
        """The sequencer's subscriber: queue the effects of a committed batch."""
        for committed in batch:
            result = committed.result
            order = result.order
            if order is None:
                continue
            for effect in result.effects:
                if isinstance(effect, ScheduleTimer):
                    self._arm(effect)
                elif isinstance(effect, (SendNewOrder, SendCancel, SendReplace, RequestStatus)):
                    self._queue.put_nowait(_Work(effect, order))

    async def drained(self) -> None:
        """Wait until every queued instruction has been handed to its gateway."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            work = await self._queue.get()
            try:
                if work is None:
                    return
                await self._carry_out(work.effect, work.order)
            except Exception:  # one instruction's bug must not stop the others
                log.exception("carrying out %r failed", work)
            finally:
                self._queue.task_done()

    async def _carry_out(self, effect: Effect, order: Order) -> None:
        venue = order.spec.venue
        gateway = self._gateways.get(venue) if venue else None
        try:
            if gateway is None:
                raise VenueUnavailableError(f"no gateway for venue {venue!r}")
            match effect:
                case SendNewOrder():
                    await gateway.send_new_order(effect, order)
                case SendCancel():
                    await gateway.send_cancel(effect, order)
                case SendReplace():
                    await gateway.send_replace(effect, order)
                case RequestStatus():
                    await gateway.request_status(effect, order)
            self.sent += 1
        except VenueUnavailableError as e:
            self.failed += 1
            log.warning("%s for order %s: %s", type(effect).__name__, order.order_id, e)
            answer = _unavailable(effect, str(e), self._clock.now())
            if answer is not None:
                self._enqueue(answer, source=f"gateway:{venue}")

    def _arm(self, effect: ScheduleTimer) -> None:
        loop = asyncio.get_running_loop()
        delay = max(0.0, (effect.due - self._clock.now()).total_seconds())

        def fire() -> None:
            self._timers.discard(handle)
            now = self._clock.now()
            self._enqueue(
                TimerFired(
                    order_id=effect.order_id, ingest_time=now, event_time=effect.due,
                    timer=effect.timer, cl_ord_id=effect.cl_ord_id, attempt=effect.attempt,
                ),
                source="timer",
            )  # fmt: skip

        handle = loop.call_later(delay, fire)
        self._timers.add(handle)

    def _enqueue(self, inp: Input, *, source: str) -> None:
        try:
            self._submit.enqueue(inp, source=source)
        except SequencerStoppedError:
            log.warning("the sequencer has stopped; %s dropped", type(inp).__name__)


def _unavailable(effect: Effect, why: str, now: datetime) -> Input | None:
    """The answer Keel records for an instruction no venue could take."""
    match effect:
        case SendNewOrder(order_id=order_id, cl_ord_id=cl_ord_id):
            return VenueReject(
                order_id=OrderId(order_id), exec_id=ExecId(f"KEEL-UNSENT-{cl_ord_id}"),
                cl_ord_id=cl_ord_id, reason_code=VENUE_UNAVAILABLE, text=why,
                ingest_time=now, event_time=now,
            )  # fmt: skip
        case SendCancel(order_id=order_id, cl_ord_id=cl_ord_id, orig_cl_ord_id=orig):
            return CancelReject(
                order_id=order_id, cl_ord_id=cl_ord_id, orig_cl_ord_id=orig,
                reason_code=VENUE_UNAVAILABLE, text=why, ingest_time=now, event_time=now,
            )  # fmt: skip
        case SendReplace(order_id=order_id, cl_ord_id=cl_ord_id, orig_cl_ord_id=orig):
            return ReplaceReject(
                order_id=order_id, cl_ord_id=cl_ord_id, orig_cl_ord_id=orig,
                reason_code=VENUE_UNAVAILABLE, text=why, ingest_time=now, event_time=now,
            )  # fmt: skip
        case _:
            return None  # a status request that cannot go: the stuck-order timer retries
