"""Handlers for the venue's view of an order: sent, acknowledged, rejected, expired,
done for day, status reports, and the timers that chase unanswered instructions.
"""

from __future__ import annotations

from keel.domain.amounts import ZERO
from keel.domain.effects import (
    RequestStatus,
    ScheduleTimer,
)
from keel.domain.enums import (
    ExceptionKind,
    OrderStatus,
    Outcome,
    RejectSource,
    RequestKind,
    TimerKind,
)
from keel.domain.events import (
    OrderAcknowledged,
    OrderDoneForDay,
    OrderExpired,
    OrderRejected,
    OrderSent,
    StatusAdopted,
    StatusRequested,
)
from keel.domain.inputs import (
    SentToVenue,
    StatusReport,
    TimerFired,
    VenueAck,
    VenueDoneForDay,
    VenueExpired,
    VenueReject,
)
from keel.domain.order import (
    Order,
    Times,
)
from keel.domain.state_machine.outcomes import (
    PENDING_STATUSES,
    UNACKED_STATUSES,
    conflict,
    evidence_of,
    has_open_exception,
    ignore,
    implied_ack,
)
from keel.domain.state_machine.policy import Policy
from keel.domain.state_machine.transition import Step, Transition, applied

# --- new orders and sending --------------------------------------------------------------


def mark_sent(step: Step, inp: SentToVenue) -> None:
    order = step.order
    step.emit(OrderSent(order.order_id, step.next_version, step.times, inp.cl_ord_id))
    due = step.times.processed_time + step.policy.ack_timeout
    step.effect(ScheduleTimer(order.order_id, TimerKind.ACK_TIMEOUT, inp.cl_ord_id, due))


# --- venue acknowledgements and rejects --------------------------------------------------


# Enum members as module globals for the hot path: ``OrderStatus.FILLED`` costs 80 ns a
# look-up in CPython 3.11, a global 7 ns.
_NEW = OrderStatus.NEW


def acknowledge_fast(
    order: Order, inp: VenueAck, times: Times, policy: Policy
) -> Transition | None:
    """The first ack of an order waiting for it, without the ``Step``."""
    if order.acknowledged:
        return None
    event = OrderAcknowledged(
        order.order_id,
        order.version + 1,
        times,
        inp.exec_id,
        inp.venue_order_id,
        False,
        _NEW,
    )
    return applied(order, event)


def acknowledge(step: Step, inp: VenueAck) -> None:
    """The venue accepted the order (or restated it after a done-for-day)."""
    order = step.order
    if order.acknowledged and not order.done_for_day:
        if (
            inp.venue_order_id
            and order.venue_order_id
            and inp.venue_order_id != order.venue_order_id
        ):
            conflict(ExceptionKind.VENUE_ORDER_ID_MISMATCH, "an ack with another venue order id")(
                step, inp
            )
        else:
            ignore("already acknowledged")(step, inp)
        return
    if order.status in UNACKED_STATUSES:
        status = OrderStatus.NEW
    elif order.status is OrderStatus.DONE_FOR_DAY:
        status = OrderStatus.PARTIALLY_FILLED if order.cum_qty > ZERO else OrderStatus.NEW
    else:  # a cancel or replace was requested before the ack arrived
        status = order.status
    step.emit(
        OrderAcknowledged(
            order.order_id,
            step.next_version,
            step.times,
            inp.exec_id,
            inp.venue_order_id,
            False,
            status,
        )
    )


def venue_rejects(step: Step, inp: VenueReject) -> None:
    """The venue refused an order it never acknowledged."""
    order = step.order
    if order.acknowledged:
        conflict(ExceptionKind.STATUS_CONFLICT, "a venue reject of an acknowledged order")(
            step, inp
        )
        return
    step.emit(
        OrderRejected(
            order.order_id,
            step.next_version,
            step.times,
            RejectSource.VENUE,
            inp.reason_code,
            inp.text,
            inp.exec_id,
        )
    )


# --- end of life -------------------------------------------------------------------------


def expire(step: Step, inp: VenueExpired) -> None:
    order = step.order
    step.emit(OrderExpired(order.order_id, step.next_version, step.times, inp.exec_id))


def done_for_day(step: Step, inp: VenueDoneForDay) -> None:
    """No more executions today; a pending cancel or replace stays visible."""
    if step.order.status in UNACKED_STATUSES:
        implied_ack(step, inp.exec_id, inp.venue_order_id)
    order = step.order
    status = order.status if order.status in PENDING_STATUSES else OrderStatus.DONE_FOR_DAY
    step.emit(OrderDoneForDay(order.order_id, step.next_version, step.times, inp.exec_id, status))


# --- status reports ----------------------------------------------------------------------

_LIVE_AT_VENUE = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
        OrderStatus.DONE_FOR_DAY,
    }
)
_DEAD_AT_VENUE = frozenset({OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED})


def _compare_cum(step: Step, inp: StatusReport) -> None:
    order = step.order
    if inp.cum_qty > order.cum_qty and not has_open_exception(
        order, ExceptionKind.MISSING_EXECUTION
    ):
        step.raise_exception(
            ExceptionKind.MISSING_EXECUTION,
            f"venue reports CumQty {inp.cum_qty}, booked {order.cum_qty}",
            evidence_of(inp, order),
            exec_id=inp.exec_id,
        )
    elif inp.cum_qty < order.cum_qty and not has_open_exception(
        order, ExceptionKind.CUM_QTY_MISMATCH
    ):
        step.raise_exception(
            ExceptionKind.CUM_QTY_MISMATCH,
            f"venue reports CumQty {inp.cum_qty}, booked {order.cum_qty}",
            evidence_of(inp, order),
            exec_id=inp.exec_id,
        )


def reconcile_working(step: Step, inp: StatusReport) -> None:
    """Compare the venue's view of a working order with ours; adopt what we missed."""
    order = step.order
    venue_status = inp.ord_status
    if venue_status in _DEAD_AT_VENUE:
        pending = order.pending
        canceling = pending is not None and pending.kind is RequestKind.CANCEL
        expected = (canceling and venue_status is OrderStatus.CANCELED) or (
            venue_status is OrderStatus.REJECTED and not order.acknowledged
        )
        step.emit(
            StatusAdopted(
                order.order_id,
                step.next_version,
                step.times,
                inp.exec_id,
                order.status,
                venue_status,
                ZERO,
            )
        )
        if not expected:
            step.raise_exception(
                ExceptionKind.MISSED_STATUS,
                f"venue reports {venue_status}; Keel had {order.status} and no message for it",
                evidence_of(inp, order),
            )
    elif not order.acknowledged and (
        venue_status in _LIVE_AT_VENUE or venue_status is OrderStatus.FILLED
    ):
        implied_ack(step, inp.exec_id, inp.venue_order_id)
    _compare_cum(step, inp)
    if not step.events:
        ignore("venue status agrees")(step, inp)


def reconcile_closed(step: Step, inp: StatusReport) -> None:
    """A status report on a closed order: a live order at the venue is a conflict."""
    order = step.order
    if inp.ord_status in _LIVE_AT_VENUE:
        conflict(ExceptionKind.STATUS_CONFLICT, f"the venue reports the order {inp.ord_status}")(
            step, inp
        )
        return
    _compare_cum(step, inp)
    if not step.events:
        ignore(f"venue reports {inp.ord_status}; order already {order.status}")(step, inp)


# --- timers ------------------------------------------------------------------------------


def _awaited(order: Order, inp: TimerFired) -> bool:
    """Return whether the wait this timer guards is still unanswered."""
    if inp.attempt != order.status_requests + 1:
        return False
    pending = order.pending
    if inp.timer is TimerKind.ACK_TIMEOUT:
        return not order.acknowledged and order.cl_ord_id == inp.cl_ord_id
    if inp.timer is TimerKind.CANCEL_TIMEOUT:
        return (
            pending is not None
            and pending.kind is RequestKind.CANCEL
            and pending.cl_ord_id == inp.cl_ord_id
        )
    if inp.timer is TimerKind.REPLACE_TIMEOUT:
        return (
            pending is not None
            and pending.kind is RequestKind.REPLACE
            and pending.cl_ord_id == inp.cl_ord_id
        )
    return True  # EXPIRY: the order is still open past its expiry time


_TIMEOUTS = {
    TimerKind.ACK_TIMEOUT: "ack_timeout",
    TimerKind.CANCEL_TIMEOUT: "cancel_timeout",
    TimerKind.REPLACE_TIMEOUT: "replace_timeout",
    TimerKind.EXPIRY: "expiry_grace",
}


def chase(step: Step, inp: TimerFired) -> None:
    """An unanswered instruction: ask the venue for the status, then raise STUCK_ORDER."""
    order = step.order
    if inp.timer is TimerKind.SILENCE:
        flag_silence(step, inp)
        return
    if not _awaited(order, inp):
        ignore("stale timer: answered since it was armed")(step, inp)
        return
    if order.status_requests < step.policy.status_requests_before_stuck:
        attempt = order.status_requests + 1
        step.emit(
            StatusRequested(
                order.order_id,
                step.next_version,
                step.times,
                inp.cl_ord_id,
                str(inp.timer),
                attempt,
            )
        )
        step.effect(RequestStatus(order.order_id, inp.cl_ord_id, str(inp.timer)))
        due = step.times.processed_time + getattr(step.policy, _TIMEOUTS[inp.timer])
        step.effect(ScheduleTimer(order.order_id, inp.timer, inp.cl_ord_id, due, attempt + 1))
        return
    step.emit(
        StatusRequested(
            order.order_id,
            step.next_version,
            step.times,
            inp.cl_ord_id,
            f"{inp.timer} unanswered",
            order.status_requests + 1,
        )
    )
    step.raise_exception(
        ExceptionKind.STUCK_ORDER,
        f"{inp.timer}: no answer to {inp.cl_ord_id} after {order.status_requests} status requests",
        evidence_of(inp, order),
    )
    step.outcome = Outcome.CONFLICT


def flag_silence(step: Step, inp: TimerFired) -> None:
    """A working order quiet for longer than the policy's window: raise SILENT_ORDER once
    (until resolved), with when it last changed. An order that is not working, or has been
    updated since the monitor looked, is left alone."""
    order = step.order
    window = step.policy.silence_window
    if window is None or order.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
        ignore("silence is only watched on working orders")(step, inp)
        return
    quiet = step.times.processed_time - order.times.processed_time
    if quiet < window:
        ignore("updated since the monitor looked")(step, inp)
        return
    if has_open_exception(order, ExceptionKind.SILENT_ORDER):
        ignore("already flagged SILENT_ORDER")(step, inp)
        return
    step.raise_exception(
        ExceptionKind.SILENT_ORDER,
        f"working order {order.status} with no update for {quiet} (window {window})",
        (
            ("order status", str(order.status)),
            ("last update", order.times.processed_time.isoformat()),
            ("quiet for", str(quiet)),
            ("window", str(window)),
            ("leaves qty", str(order.leaves_qty)),
            ("current ClOrdID", str(order.cl_ord_id)),
        ),
    )
    step.outcome = Outcome.CONFLICT


def expire_unsent(step: Step, inp: TimerFired) -> None:
    """An order still waiting to be sent when its expiry comes is expired here; a waiting
    order's other timers are chased as usual."""
    if inp.timer is TimerKind.EXPIRY:
        order = step.order
        step.emit(OrderExpired(order.order_id, step.next_version, step.times, None))
        return
    chase(step, inp)
