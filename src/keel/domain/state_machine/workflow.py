"""The operations workflow on an order's exceptions: acknowledge, resolve, four-eyes approval.

An exception is ``OPEN`` when raised, ``ACKNOWLEDGED`` once someone takes it, and
``RESOLVED`` with a kind and a comment. A resolution that changes the books (booking a
missing fill, busting a fill) is only proposed (``AWAITING_APPROVAL``) until a second person
approves it; the approval resolves the exception and books or busts the fill in the same
transition. Any step that the exception's state does not allow is refused with the reason:
the input is kept, nothing changes.

The order's status does not matter here: exceptions are worked on open and closed orders
alike. Who may take which step (roles, entitlements) is the application's business; the one
rule this module keeps is that the proposer of a resolution cannot approve it.
"""

from __future__ import annotations

from keel.domain.amounts import ZERO
from keel.domain.enums import ExceptionStatus, Outcome, ResolutionKind, WorkflowAction
from keel.domain.events import (
    ExceptionAcknowledged,
    ExceptionResolved,
    ResolutionDeclined,
    ResolutionProposed,
)
from keel.domain.ids import ExecId
from keel.domain.inputs import ExceptionWork, Fill, TradeBust
from keel.domain.order import ExceptionRef, FillState, Order
from keel.domain.order_exceptions import Resolution
from keel.domain.state_machine.fills import book_by_operator, bust_by_operator
from keel.domain.state_machine.transition import Step

_ACKNOWLEDGED = ExceptionStatus.ACKNOWLEDGED
_AWAITING = ExceptionStatus.AWAITING_APPROVAL


def work_exception(step: Step, inp: ExceptionWork) -> None:
    """Take one workflow step on one of the order's open exceptions."""
    ref = _open_exception(step.order, inp)
    if ref is None:
        _refuse(step, f"exception {inp.exception_id} is not open on order {step.order.order_id}")
        return
    match inp.action:
        case WorkflowAction.ACKNOWLEDGE:
            _acknowledge(step, inp, ref)
        case WorkflowAction.RESOLVE:
            _resolve(step, inp, ref)
        case WorkflowAction.APPROVE:
            _approve(step, inp, ref)
        case WorkflowAction.DECLINE:
            _decline(step, inp, ref)


def _open_exception(order: Order, inp: ExceptionWork) -> ExceptionRef | None:
    for ref in order.open_exceptions:
        if ref.exception_id == inp.exception_id:
            return ref
    return None


def _refuse(step: Step, reason: str) -> None:
    step.outcome = Outcome.REFUSED
    step.note = reason


def _acknowledge(step: Step, inp: ExceptionWork, ref: ExceptionRef) -> None:
    if ref.status is _AWAITING:
        _refuse(step, f"a resolution of {ref.exception_id} awaits approval: approve or decline")
        return
    assignee = inp.assignee or inp.actor
    if ref.status is _ACKNOWLEDGED and ref.assignee == assignee:
        step.outcome = Outcome.IGNORED
        step.note = f"{ref.exception_id} is already assigned to {assignee}"
        return
    step.emit(
        ExceptionAcknowledged(
            step.order.order_id,
            step.next_version,
            step.times,
            ref.exception_id,
            inp.actor,
            assignee,
            inp.comment,
        )
    )
    step.note = f"{ref.exception_id} assigned to {assignee}"


def _resolve(step: Step, inp: ExceptionWork, ref: ExceptionRef) -> None:
    if ref.status is _AWAITING:
        _refuse(step, f"a resolution of {ref.exception_id} awaits approval: approve or decline")
        return
    if inp.resolution is None:
        _refuse(step, "a resolution needs a kind")
        return
    if not inp.comment.strip():
        _refuse(step, "a resolution needs a comment saying why")
        return
    resolution = Resolution(
        inp.resolution, inp.comment, inp.actor, inp.exec_id, inp.qty, inp.price, inp.trade_date
    )
    problem = _books_problem(step.order, resolution)
    if problem:
        _refuse(step, problem)
        return
    order = step.order
    if resolution.kind.changes_books:
        step.emit(
            ResolutionProposed(
                order.order_id, step.next_version, step.times, ref.exception_id, resolution
            )
        )
        step.note = f"{resolution.kind} of {ref.exception_id} proposed; awaiting approval"
        return
    step.emit(
        ExceptionResolved(
            order.order_id, step.next_version, step.times, ref.exception_id, resolution, None
        )
    )
    step.note = f"{ref.exception_id} resolved: {resolution.kind}"


def _approve(step: Step, inp: ExceptionWork, ref: ExceptionRef) -> None:
    proposal = ref.proposal
    if ref.status is not _AWAITING or proposal is None:
        _refuse(step, f"{ref.exception_id} has no resolution awaiting approval")
        return
    if inp.actor == proposal.actor:
        _refuse(step, f"four eyes: {inp.actor} proposed this resolution and cannot approve it")
        return
    problem = _books_problem(step.order, proposal)
    if problem:
        _refuse(step, f"{problem}; decline the proposal")
        return
    order = step.order
    step.emit(
        ExceptionResolved(
            order.order_id, step.next_version, step.times, ref.exception_id, proposal, inp.actor
        )
    )
    exec_id = ExecId(proposal.exec_id or "")
    if proposal.kind is ResolutionKind.BOOKED_MISSING_FILL:
        assert proposal.qty is not None
        assert proposal.price is not None
        order = step.order
        book_by_operator(
            step,
            Fill(
                order_id=order.order_id,
                ingest_time=inp.ingest_time,
                event_time=inp.event_time,
                exec_id=exec_id,
                cl_ord_id=order.cl_ord_id,
                venue_order_id=order.venue_order_id,
                last_qty=proposal.qty,
                last_px=proposal.price,
                cum_qty=order.venue_cum_qty,
                leaves_qty=ZERO,
                trade_date=proposal.trade_date,
            ),
        )
    elif proposal.kind is ResolutionKind.BUSTED_FILL:
        bust_by_operator(
            step,
            TradeBust(
                order_id=order.order_id,
                ingest_time=inp.ingest_time,
                event_time=inp.event_time,
                exec_id=ExecId(f"{ref.exception_id}-BUST"),
                ref_exec_id=exec_id,
            ),
        )
    step.note = f"{ref.exception_id} resolved: {proposal.kind}, approved by {inp.actor}"


def _decline(step: Step, inp: ExceptionWork, ref: ExceptionRef) -> None:
    if ref.status is not _AWAITING:
        _refuse(step, f"{ref.exception_id} has no resolution awaiting approval")
        return
    step.emit(
        ResolutionDeclined(
            step.order.order_id,
            step.next_version,
            step.times,
            ref.exception_id,
            inp.actor,
            inp.comment,
        )
    )
    step.note = f"resolution of {ref.exception_id} declined by {inp.actor}"


def _books_problem(order: Order, resolution: Resolution) -> str:
    """Return why a resolution that books or busts a fill cannot be carried out ('' if it
    can): the terms must be complete, and still true of the order."""
    if resolution.kind is ResolutionKind.BOOKED_MISSING_FILL:
        if not resolution.exec_id:
            return "booking a missing fill needs the venue's exec_id"
        if resolution.qty is None or resolution.qty <= ZERO:
            return "booking a missing fill needs a positive qty"
        if resolution.price is None or resolution.price <= ZERO:
            return "booking a missing fill needs a positive price"
        if resolution.exec_id in order.exec_ids:
            return f"ExecID {resolution.exec_id} is already booked on {order.order_id}"
    elif resolution.kind is ResolutionKind.BUSTED_FILL:
        if not resolution.exec_id:
            return "busting a fill needs the exec_id of the booked fill"
        fill = order.fill_by_exec_id(resolution.exec_id)
        if fill is None or fill.state is not FillState.ACTIVE:
            return f"no active fill with ExecID {resolution.exec_id} on {order.order_id}"
    return ""
