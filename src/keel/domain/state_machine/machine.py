"""``apply``: the one pure function through which every order changes."""

from __future__ import annotations

from datetime import datetime

from keel.domain.build import build
from keel.domain.cases import open_case
from keel.domain.effects import NotifyClient, ScheduleTimer, SendNewOrder
from keel.domain.enums import ExceptionKind, OrderStatus, Outcome, TimeInForce, TimerKind
from keel.domain.events import OrderCreated, OrderRejected
from keel.domain.fold import evolve
from keel.domain.ids import ExceptionId
from keel.domain.inputs import (
    CancelReject,
    CancelRequest,
    Input,
    NewOrderAccepted,
    NewOrderDenied,
    ReplaceReject,
    ReplaceRequest,
    VenueReport,
)
from keel.domain.order import Order, Times
from keel.domain.order_exceptions import OrderException
from keel.domain.state_machine.outcomes import evidence_of
from keel.domain.state_machine.policy import DEFAULT_POLICY, Policy
from keel.domain.state_machine.table import TABLE
from keel.domain.state_machine.transition import Step, Transition


def apply(
    order: Order | None,
    inp: Input,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
) -> Transition:
    """Apply one input to one order and return what happened.

    ``order`` is None when the sequencer knows no order with the input's id: only a new
    order creates one; anything else raises an UNKNOWN_ORDER exception record. ``now`` is
    the processing time the sequencer stamps on the input.
    """
    times = build(Times, (inp.ingest_time, inp.event_time, now))
    if order is None:
        return _create(inp, times, policy)
    if isinstance(inp, VenueReport):
        if inp.exec_id in order.exec_ids:
            return Transition(order, (), (), (), Outcome.DUPLICATE, f"ExecID {inp.exec_id} seen")
    elif (
        isinstance(inp, (CancelRequest, ReplaceRequest)) and inp.cl_ord_id in order.cl_ord_ids_seen
    ):
        return Transition(order, (), (), (), Outcome.DUPLICATE, f"ClOrdID {inp.cl_ord_id} seen")
    rule = TABLE[order.status, inp.KIND]
    if rule.fast is not None:
        fast = rule.fast(order, inp, times, policy)
        if fast is not None:
            return fast
    step = Step(order, times, policy)
    rule.handler(step, inp)
    return step.done()


def _create(inp: Input, times: Times, policy: Policy) -> Transition:
    if not isinstance(inp, (NewOrderAccepted, NewOrderDenied)):
        return _unknown_order(inp, times)
    created = OrderCreated(
        inp.order_id,
        1,
        times,
        inp.spec,
        inp.cl_ord_id,
        inp.client_order_id,
        inp.parent_id,
        inp.actor,
    )
    order = evolve(None, created)
    step = Step(order, times, policy)
    step.events.append(created)
    if isinstance(inp, NewOrderDenied):
        step.emit(
            OrderRejected(order.order_id, 2, times, inp.source, inp.reason_code, inp.text, None)
        )
        step.effect(NotifyClient(order.order_id, "rejected", OrderStatus.REJECTED, inp.reason_code))
        step.note = f"denied by {inp.source}: {inp.reason_code}"
        return step.done()
    step.effect(SendNewOrder(order.order_id, inp.cl_ord_id, inp.spec))
    step.effect(NotifyClient(order.order_id, "accepted", OrderStatus.PENDING_NEW))
    if inp.spec.tif is TimeInForce.GTD and inp.spec.expire_time is not None:
        due = inp.spec.expire_time + policy.expiry_grace
        step.effect(ScheduleTimer(order.order_id, TimerKind.EXPIRY, inp.cl_ord_id, due))
    return step.done()


def _unknown_order(inp: Input, times: Times) -> Transition:
    ref = getattr(inp, "exec_id", None) or getattr(inp, "cl_ord_id", None) or "?"
    if isinstance(inp, (CancelReject, ReplaceReject)):
        ref = inp.cl_ord_id
    record = OrderException(
        exception_id=ExceptionId(f"{inp.order_id}-U-{ref}"),
        kind=ExceptionKind.UNKNOWN_ORDER,
        order_id=None,
        summary=f"{type(inp).__name__} for unknown order {inp.order_id}",
        evidence=evidence_of(inp),
        raised_at=times.processed_time,
        exec_id=getattr(inp, "exec_id", None),
    )
    # No order holds it: the exception opens a case of its own, worked in the same queue.
    opened = open_case(record, times)
    return Transition(None, opened.events, (), opened.exceptions, Outcome.CONFLICT, record.summary)
