"""Handlers for cancel and replace requests and the venue's answers to them."""

from __future__ import annotations

from keel.domain.amounts import ZERO
from keel.domain.build import build
from keel.domain.effects import (
    Effect,
    NotifyClient,
    ScheduleTimer,
    SendCancel,
    SendReplace,
)
from keel.domain.enums import (
    ExceptionKind,
    OrderStatus,
    RequestKind,
    TimerKind,
)
from keel.domain.events import (
    OrderCanceled,
    ReplaceAcknowledged,
    RequestQueued,
    RequestRefused,
    RequestRejected,
    RequestSent,
)
from keel.domain.ids import ClOrdId
from keel.domain.inputs import (
    CancelAck,
    CancelReject,
    CancelRequest,
    ReplaceAck,
    ReplaceReject,
    ReplaceRequest,
)
from keel.domain.order import (
    Amendment,
    Order,
    PendingRequest,
    Times,
    VersionState,
    spec_changes,
    working_status,
)
from keel.domain.state_machine.outcomes import (
    conflict,
    duplicate,
    evidence_of,
    leaves_for,
    refuse_request,
)
from keel.domain.state_machine.policy import PendingRequestPolicy, Policy
from keel.domain.state_machine.transition import Step, Transition, applied

# --- cancel and replace requests ---------------------------------------------------------


# Enum members as module globals for the hot path: ``OrderStatus.FILLED`` costs 80 ns a
# look-up in CPython 3.11, a global 7 ns.
_CANCEL = RequestKind.CANCEL
_PENDING_CANCEL = OrderStatus.PENDING_CANCEL
_CANCEL_TIMEOUT = TimerKind.CANCEL_TIMEOUT


def sent_request(
    order: Order, request: PendingRequest, times: Times, policy: Policy
) -> tuple[RequestSent, tuple[Effect, ...]]:
    """Return the event and effects of sending a cancel or replace now: the pending status,
    the venue message, the client's answer and the timer that chases the venue's."""
    if request.orig_cl_ord_id != order.cl_ord_id or (
        request.amendment is not None and request.new_spec is None
    ):  # a queued request, sent against the ClOrdID and terms in force now
        request = PendingRequest(
            request.kind,
            request.cl_ord_id,
            order.cl_ord_id,
            request.requested_at,
            request.actor,
            request.amendment,
            request.amendment.apply_to(order.spec) if request.amendment is not None else None,
        )
    if request.kind is _CANCEL:
        status = _PENDING_CANCEL
        changes: tuple[tuple[str, str, str], ...] = ()
        send: SendCancel | SendReplace = build(
            SendCancel, (order.order_id, request.cl_ord_id, request.orig_cl_ord_id)
        )
        timer, timeout = _CANCEL_TIMEOUT, policy.cancel_timeout
    else:
        assert request.new_spec is not None
        status = OrderStatus.PENDING_REPLACE
        changes = spec_changes(order.spec, request.new_spec)
        send = SendReplace(
            order.order_id, request.cl_ord_id, request.orig_cl_ord_id, request.new_spec
        )
        timer, timeout = TimerKind.REPLACE_TIMEOUT, policy.replace_timeout
    # Every cancel comes through here: built with ``build`` (keel.domain.build).
    event = build(RequestSent, (order.order_id, order.version + 1, times, request, changes, status))
    answer = build(
        NotifyClient,
        (order.order_id, _PENDING_ANSWER[request.kind], status, None, request.cl_ord_id),
    )
    due = times.processed_time + timeout
    chase = build(ScheduleTimer, (order.order_id, timer, request.cl_ord_id, due, 1))
    return event, (send, answer, chase)


_PENDING_ANSWER = {RequestKind.CANCEL: "pending_cancel", RequestKind.REPLACE: "pending_replace"}


def _send(step: Step, request: PendingRequest) -> None:
    """Send a cancel or replace now (see ``sent_request``)."""
    event, effects = sent_request(step.order, request, step.times, step.policy)
    step.emit(event)
    step.effects.extend(effects)


def _request_of(step: Step, inp: CancelRequest | ReplaceRequest) -> PendingRequest:
    order = step.order
    if isinstance(inp, CancelRequest):
        return PendingRequest(
            RequestKind.CANCEL, inp.cl_ord_id, order.cl_ord_id, step.times.processed_time, inp.actor
        )
    amendment = Amendment(inp.qty, inp.limit_price, inp.stop_price, inp.tif, inp.expire_time)
    return PendingRequest(
        RequestKind.REPLACE,
        inp.cl_ord_id,
        order.cl_ord_id,
        step.times.processed_time,
        inp.actor,
        amendment,
    )


def request_cancel(step: Step, inp: CancelRequest) -> None:
    """Send a cancel to the venue; the order is PENDING_CANCEL until it answers."""
    _send(step, _request_of(step, inp))


def request_cancel_fast(
    order: Order, inp: CancelRequest, times: Times, policy: Policy
) -> Transition:
    """``request_cancel`` without the ``Step``: it never raises or refuses."""
    request = build(
        PendingRequest,
        (
            _CANCEL,
            inp.cl_ord_id,
            order.cl_ord_id,
            times.processed_time,
            inp.actor,
            None,
            None,
        ),
    )
    event, effects = sent_request(order, request, times, policy)
    return applied(order, event, effects)


def request_replace(step: Step, inp: ReplaceRequest) -> None:
    """Send a cancel/replace to the venue; PENDING_REPLACE until it answers."""
    request = _request_of(step, inp)
    assert request.amendment is not None
    if not spec_changes(step.order.spec, request.amendment.apply_to(step.order.spec)):
        refuse_request(step, inp, "NO_CHANGE", "the replace changes none of the order's terms")
        return
    _send(step, request)


def _queue(step: Step, inp: CancelRequest | ReplaceRequest) -> None:
    order = step.order
    request = _request_of(step, inp)
    queued = order.queued
    if (
        queued is not None
        and queued.kind is RequestKind.CANCEL
        and request.kind is RequestKind.REPLACE
    ):
        refuse_request(
            step, inp, "CANCEL_QUEUED", "a cancel is already queued behind the pending replace"
        )
        return
    changes = (
        spec_changes(order.spec, request.amendment.apply_to(order.spec))
        if request.amendment is not None
        else ()
    )
    superseded = queued.cl_ord_id if queued is not None else None
    step.emit(
        RequestQueued(order.order_id, step.next_version, step.times, request, changes, superseded)
    )
    if superseded is not None:
        step.effect(
            NotifyClient(order.order_id, "request_refused", order.status, "SUPERSEDED", superseded)
        )
    step.effect(NotifyClient(order.order_id, "request_queued", order.status, None, inp.cl_ord_id))
    step.note = (
        f"{request.kind} queued behind pending replace {order.pending and order.pending.cl_ord_id}"
    )


def queue_cancel(step: Step, inp: CancelRequest) -> None:
    """A cancel behind a pending replace is held and sent as soon as the replace is answered."""
    _queue(step, inp)


def replace_while_replace_pending(step: Step, inp: ReplaceRequest) -> None:
    """A second replace while one is pending: refused, or queued, as the policy says."""
    if step.policy.replace_while_pending is PendingRequestPolicy.QUEUE:
        _queue(step, inp)
    else:
        refuse_request(step, inp, "REPLACE_PENDING", "a replace is already pending")


def _dispatch_queued(step: Step) -> None:
    """Send the request held behind the one just answered, or refuse it if now too late."""
    queued = step.order.queued
    if queued is None:
        return
    order = step.order
    if order.status.is_terminal:
        code = "TOO_LATE_TO_CANCEL" if queued.kind is RequestKind.CANCEL else "ORDER_CLOSED"
        step.emit(
            RequestRefused(
                order.order_id,
                step.next_version,
                step.times,
                queued.kind,
                queued.cl_ord_id,
                code,
                f"the order is {order.status}",
                queued.actor,
            )
        )
        step.effect(
            NotifyClient(order.order_id, "request_refused", order.status, code, queued.cl_ord_id)
        )
        return
    _send(step, queued)


# --- answers to cancel and replace -------------------------------------------------------


def _canceled(order: Order, inp: CancelAck, times: Times) -> OrderCanceled:
    pending = order.pending
    solicited = pending is not None and pending.kind is _CANCEL
    return OrderCanceled(
        order.order_id, order.version + 1, times, inp.exec_id, inp.cl_ord_id, not solicited
    )


def cancel_done(step: Step, inp: CancelAck) -> None:
    """The venue canceled the order: our cancel's answer, or unsolicited (IOC remainder,
    venue risk, disconnect)."""
    step.emit(_canceled(step.order, inp, step.times))


def cancel_done_fast(order: Order, inp: CancelAck, times: Times, policy: Policy) -> Transition:
    """``cancel_done`` without the ``Step``: one event, always."""
    event = _canceled(order, inp, times)
    return applied(order, event)


def _answered_request(order: Order, kind: RequestKind, cl_ord_id: ClOrdId) -> bool:
    pending = order.pending
    return pending is not None and pending.kind is kind and pending.cl_ord_id == cl_ord_id


def _unmatched_answer(
    step: Step, inp: CancelReject | ReplaceReject | ReplaceAck, what: str
) -> None:
    """An answer to a request that is not the pending one: old news or a lineage break."""
    entry = step.order.version_of(inp.cl_ord_id) if inp.cl_ord_id else None
    if entry is not None and entry.state is not VersionState.PENDING:
        duplicate(f"{what} for {inp.cl_ord_id}, already answered")(step, inp)
    elif entry is None and isinstance(inp, (CancelReject, ReplaceReject)):
        if inp.cl_ord_id in step.order.cl_ord_ids_seen:  # UNKNOWN_REQUEST already raised
            duplicate(f"{what} for {inp.cl_ord_id}, already raised as unknown")(step, inp)
        else:
            conflict(ExceptionKind.UNKNOWN_REQUEST, f"a {what} for a ClOrdID Keel never sent")(
                step, inp
            )
    else:
        conflict(ExceptionKind.LINEAGE_MISMATCH, f"a {what} that is not for the pending request")(
            step, inp
        )


def request_rejected(step: Step, inp: CancelReject | ReplaceReject) -> None:
    """The venue refused our cancel or replace: back to the status the fills give."""
    kind = RequestKind.CANCEL if isinstance(inp, CancelReject) else RequestKind.REPLACE
    order = step.order
    if not _answered_request(order, kind, inp.cl_ord_id):
        _unmatched_answer(step, inp, f"{kind.lower()} reject")
        return
    status = order.status if order.status.is_terminal else working_status(order)
    step.emit(
        RequestRejected(
            order.order_id,
            step.next_version,
            step.times,
            kind,
            inp.cl_ord_id,
            inp.reason_code,
            inp.text,
            status,
        )
    )
    _dispatch_queued(step)


def replace_done(step: Step, inp: ReplaceAck) -> None:
    """The venue accepted the replace: the new terms are in force under the new ClOrdID."""
    order = step.order
    pending = order.pending
    if (
        inp.cl_ord_id is None
        or not _answered_request(order, RequestKind.REPLACE, inp.cl_ord_id)
        or pending is None
        or pending.new_spec is None
    ):
        _unmatched_answer(step, inp, "replace ack")
        return
    spec = pending.new_spec
    cum_qty = order.cum_qty
    if cum_qty >= spec.qty:
        status = OrderStatus.FILLED
    elif order.done_for_day:
        status = OrderStatus.DONE_FOR_DAY
    else:
        status = OrderStatus.PARTIALLY_FILLED if cum_qty > ZERO else OrderStatus.NEW
    step.emit(
        ReplaceAcknowledged(
            order.order_id,
            step.next_version,
            step.times,
            inp.exec_id,
            inp.cl_ord_id,
            inp.venue_order_id,
            spec,
            leaves_for(status, spec.qty, cum_qty),
            status,
        )
    )
    if cum_qty > spec.qty:
        step.raise_exception(
            ExceptionKind.OVERFILL,
            f"replace lowered the quantity to {spec.qty} below the booked {cum_qty}",
            evidence_of(inp, order),
        )
    _dispatch_queued(step)


def replace_ack_without_pending(step: Step, inp: ReplaceAck) -> None:
    """A replace ack when no replace is pending: a repeat of an old answer, or a break."""
    _unmatched_answer(step, inp, "replace ack")
