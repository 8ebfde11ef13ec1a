"""Operations working an order's exceptions: acknowledge, resolve, four-eyes approval.

Each scenario raises a real exception through the state machine (a CumQty gap, a late fill)
and then works it the way an operations desk would.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from keel.domain.enums import (
    ExceptionKind,
    ExceptionStatus,
    OrderStatus,
    Outcome,
    ResolutionKind,
    WorkflowAction,
)
from keel.domain.events import (
    ExceptionAcknowledged,
    ExceptionCleared,
    ExceptionRaised,
    ExceptionResolved,
    FillAmended,
    FillBooked,
    ResolutionDeclined,
    ResolutionProposed,
)
from keel.domain.order import FillState
from keel.domain.state_machine import Transition
from support.builders import OrderScenario, spec

A = WorkflowAction
R = ResolutionKind


def _with_gap() -> tuple[OrderScenario, str]:
    """A working order of 300 whose venue CumQty (250) is 100 ahead of its fills (150)."""
    s = OrderScenario().working(spec(300))
    s.fill(100, exec_id="EX-A")
    gap = s.fill(50, exec_id="EX-C", cum=250)
    return s, gap.exceptions[0].exception_id


def _types(tr: Transition) -> list[type]:
    return [type(e) for e in tr.events]


def test_acknowledging_assigns_the_exception_and_keeps_it_open() -> None:
    s, xid = _with_gap()

    tr = s.work(xid, A.ACKNOWLEDGE, "ops-anna", comment="looking at it")

    assert _types(tr) == [ExceptionAcknowledged]
    ref = s.now.open_exceptions[0]
    assert ref.status is ExceptionStatus.ACKNOWLEDGED
    assert ref.assignee == "ops-anna"
    assert s.status is OrderStatus.PARTIALLY_FILLED
    assert s.rebuilt() == s.now


def test_acknowledging_can_assign_to_someone_else_and_reassign() -> None:
    s, xid = _with_gap()
    s.work(xid, A.ACKNOWLEDGE, "ops-lead", assignee="ops-anna")

    again = s.work(xid, A.ACKNOWLEDGE, "ops-lead", assignee="ops-anna")
    moved = s.work(xid, A.ACKNOWLEDGE, "ops-lead", assignee="ops-ben")

    assert again.outcome is Outcome.IGNORED
    assert _types(moved) == [ExceptionAcknowledged]
    assert s.now.open_exceptions[0].assignee == "ops-ben"


def test_explained_resolution_closes_the_exception_without_approval() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(300)
    s.cancel()
    late = s.fill(10, exec_id="EX-LATE")
    xid = late.exceptions[0].exception_id

    tr = s.work(xid, A.RESOLVE, "ops-anna", resolution=R.EXPLAINED, comment="venue's own error")

    resolved = tr.events[0]
    assert isinstance(resolved, ExceptionResolved)
    assert resolved.resolution.kind is R.EXPLAINED
    assert resolved.resolution.actor == "ops-anna"
    assert resolved.approved_by is None
    assert s.now.open_exceptions == ()
    assert s.rebuilt() == s.now


def test_resolution_needs_a_kind_and_a_comment() -> None:
    s, xid = _with_gap()

    no_kind = s.work(xid, A.RESOLVE, "ops-anna", comment="fine")
    no_comment = s.work(xid, A.RESOLVE, "ops-anna", resolution=R.EXPLAINED, comment="  ")

    assert no_kind.outcome is Outcome.REFUSED
    assert "kind" in no_kind.note
    assert no_comment.outcome is Outcome.REFUSED
    assert "comment" in no_comment.note
    assert no_kind.events == no_comment.events == ()
    assert s.now.open_exceptions[0].status is ExceptionStatus.OPEN


def test_booking_a_missing_fill_needs_a_second_person() -> None:
    s, xid = _with_gap()

    proposed = s.work(
        xid, A.RESOLVE, "ops-anna", resolution=R.BOOKED_MISSING_FILL,
        comment="fill on the broker's drop copy", exec_id="EX-B", qty=100, price="10.00",
    )  # fmt: skip
    assert _types(proposed) == [ResolutionProposed]
    assert s.now.open_exceptions[0].status is ExceptionStatus.AWAITING_APPROVAL
    assert s.now.cum_qty == Decimal(150)  # nothing booked yet

    self_approved = s.work(xid, A.APPROVE, "ops-anna")
    assert self_approved.outcome is Outcome.REFUSED
    assert "four eyes" in self_approved.note
    assert s.now.cum_qty == Decimal(150)

    approved = s.work(xid, A.APPROVE, "ops-ben")

    assert _types(approved)[:2] == [ExceptionResolved, FillBooked]
    resolved = approved.events[0]
    assert isinstance(resolved, ExceptionResolved)
    assert resolved.approved_by == "ops-ben"
    assert resolved.resolution.actor == "ops-anna"
    assert s.now.cum_qty == Decimal(250)
    booked = s.now.fill_by_exec_id(s.now.fills[-1].exec_id)
    assert booked is not None
    assert booked.exec_id == "EX-B"
    assert not booked.late
    assert s.now.open_exceptions == ()
    assert s.rebuilt() == s.now


def test_approved_booking_that_leaves_a_gap_raises_it_again() -> None:
    s, xid = _with_gap()
    s.work(
        xid, A.RESOLVE, "ops-anna", resolution=R.BOOKED_MISSING_FILL,
        comment="one of two missing fills", exec_id="EX-B1", qty=40, price="10.00",
    )  # fmt: skip

    approved = s.work(xid, A.APPROVE, "ops-ben")

    assert s.now.cum_qty == Decimal(190)
    raised = [e for e in approved.events if isinstance(e, ExceptionRaised)]
    assert [e.exception.kind for e in raised] == [ExceptionKind.MISSING_EXECUTION]


def test_booking_an_exec_id_already_booked_is_refused() -> None:
    s, xid = _with_gap()

    tr = s.work(
        xid, A.RESOLVE, "ops-anna", resolution=R.BOOKED_MISSING_FILL,
        comment="dup", exec_id="EX-A", qty=100, price="10.00",
    )  # fmt: skip

    assert tr.outcome is Outcome.REFUSED
    assert "already booked" in tr.note


def test_approval_is_refused_when_the_missing_fill_arrived_meanwhile() -> None:
    s, xid = _with_gap()
    s.work(
        xid, A.RESOLVE, "ops-anna", resolution=R.BOOKED_MISSING_FILL,
        comment="book it", exec_id="EX-B", qty=100, price="10.00",
    )  # fmt: skip
    arrived = s.fill(100, exec_id="EX-B", cum=250)
    assert of_kind(arrived, ExceptionCleared)

    tr = s.work(xid, A.APPROVE, "ops-ben")

    assert tr.outcome is Outcome.REFUSED
    assert s.now.cum_qty == Decimal(250)


def test_busting_a_fill_after_approval_keeps_the_original_in_history() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100, exec_id="EX-A")
    s.cancel()
    s.cancel_ack()
    late = s.fill(50, exec_id="EX-LATE")
    xid = late.exceptions[0].exception_id
    s.work(xid, A.ACKNOWLEDGE, "ops-anna")
    s.work(
        xid, A.RESOLVE, "ops-anna", resolution=R.BUSTED_FILL,
        comment="venue confirmed the late fill was an error", exec_id="EX-LATE",
    )  # fmt: skip

    approved = s.work(xid, A.APPROVE, "ops-ben")

    assert _types(approved) == [ExceptionResolved, FillAmended]
    assert s.now.cum_qty == Decimal(100)
    late_fill = s.now.fill_by_exec_id(s.now.fills[-1].exec_id)
    assert late_fill is not None
    assert late_fill.state is FillState.BUSTED
    assert s.status is OrderStatus.CANCELED
    assert s.now.open_exceptions == ()  # no TERMINAL_AMENDMENT raised for a reviewed bust
    assert s.rebuilt() == s.now


def test_declined_proposal_goes_back_to_the_assignee() -> None:
    s, xid = _with_gap()
    s.work(
        xid, A.RESOLVE, "ops-anna", resolution=R.BOOKED_MISSING_FILL,
        comment="book it", exec_id="EX-B", qty=100, price="10.00",
    )  # fmt: skip

    blocked = s.work(xid, A.RESOLVE, "ops-anna", resolution=R.EXPLAINED, comment="never mind")
    declined = s.work(xid, A.DECLINE, "ops-ben", comment="price is wrong")

    assert blocked.outcome is Outcome.REFUSED
    assert _types(declined) == [ResolutionDeclined]
    ref = s.now.open_exceptions[0]
    assert ref.status is ExceptionStatus.ACKNOWLEDGED
    assert ref.proposal is None
    assert s.now.cum_qty == Decimal(150)


@pytest.mark.parametrize("action", list(A))
def test_any_step_on_an_exception_that_is_not_open_is_refused(action: WorkflowAction) -> None:
    s, xid = _with_gap()
    s.work(xid, A.RESOLVE, "ops-anna", resolution=R.EXPLAINED, comment="explained")

    tr = s.work(xid, action, "ops-ben", resolution=R.EXPLAINED, comment="again")
    unknown = s.work("NOPE-X9", action, "ops-ben", resolution=R.EXPLAINED, comment="x")

    assert tr.outcome is Outcome.REFUSED
    assert unknown.outcome is Outcome.REFUSED
    assert "not open" in tr.note


def test_approve_or_decline_without_a_proposal_is_refused() -> None:
    s, xid = _with_gap()

    approve = s.work(xid, A.APPROVE, "ops-ben")
    decline = s.work(xid, A.DECLINE, "ops-ben")

    assert approve.outcome is decline.outcome is Outcome.REFUSED


def of_kind(tr: Transition, kind: type) -> list[object]:
    return [e for e in tr.events if isinstance(e, kind)]
