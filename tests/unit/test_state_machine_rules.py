"""The order state machine's rules, told as the desk's scenarios.

Each test drives one order through the real ``apply`` with ``OrderScenario`` and checks what
the desk cares about: the booked quantities, the status, the events and effects, and the
exception records raised for a person to look at. Every scenario ends by checking that the
events alone rebuild the order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from typing import TypeVar

import pytest

from keel.domain.effects import (
    NotifyClient,
    RequestStatus,
    ScheduleTimer,
    SendCancel,
    SendNewOrder,
    SendReplace,
)
from keel.domain.enums import (
    ExceptionKind,
    OrderStatus,
    Outcome,
    RejectSource,
    RequestKind,
    TimeInForce,
    TimerKind,
)
from keel.domain.events import (
    ExceptionCleared,
    ExceptionRaised,
    FillAmended,
    FillBooked,
    OrderAcknowledged,
    OrderCanceled,
    OrderCreated,
    OrderRejected,
    ReplaceAcknowledged,
    RequestQueued,
    RequestRefused,
    RequestRejected,
    RequestSent,
    StatusAdopted,
    StatusRequested,
)
from keel.domain.ids import ClOrdId, ExecId
from keel.domain.order import FillState, Order, VersionState
from keel.domain.state_machine import PendingRequestPolicy, Policy, Transition
from support.builders import OrderScenario, spec

S = OrderStatus
T = TypeVar("T")
QUEUE = Policy(replace_while_pending=PendingRequestPolicy.QUEUE)
EXACT = Context(prec=34)
"""The precision Keel divides an exact notional by an exact quantity with."""


def kinds(tr: Transition) -> list[ExceptionKind]:
    return [record.kind for record in tr.exceptions]


def event_types(tr: Transition) -> list[type]:
    return [type(event) for event in tr.events]


def of_type(items: tuple[object, ...], cls: type[T]) -> list[T]:
    return [item for item in items if isinstance(item, cls)]


def evidence(tr: Transition) -> dict[str, str]:
    assert tr.exception is not None
    return dict(tr.exception.evidence)


def state_of(order: Order, cl_ord_id: str) -> VersionState:
    """Return the lineage state of the instruction ``cl_ord_id``."""
    version = order.version_of(ClOrdId(cl_ord_id))
    assert version is not None, f"{cl_ord_id} is not in the lineage"
    return version.state


def assert_replays(s: OrderScenario) -> None:
    """The events alone rebuild the order the transitions produced."""
    assert s.rebuilt() == s.order


def assert_books_balance(order: Order) -> None:
    """Cum qty is the sum of active fills; notional is their exact sum; leaves never lie."""
    active = order.active_fills
    assert order.cum_qty == sum((f.qty for f in active), Decimal(0))
    assert order.cum_notional == sum((f.qty * f.price for f in active), Decimal(0))
    if order.status.is_terminal:
        assert order.leaves_qty == 0
    else:
        assert order.leaves_qty == max(order.spec.qty - order.cum_qty, Decimal(0))


# --- fills ---------------------------------------------------------------------------------


def test_fill_only_reduces_leaves_and_cum_is_sum_of_fills() -> None:
    s = OrderScenario().working(spec(300, "10.00"))
    leaves_seen = [s.now.leaves_qty]

    s.fill(100, "10.00")
    leaves_seen.append(s.now.leaves_qty)
    s.fill(50, "9.99")
    leaves_seen.append(s.now.leaves_qty)

    order = s.now
    assert leaves_seen == [Decimal(300), Decimal(200), Decimal(150)]
    assert order.status is S.PARTIALLY_FILLED
    assert order.cum_qty == Decimal(150)
    assert order.cum_notional == Decimal("1499.50")
    assert order.avg_px == EXACT.divide(Decimal("1499.50"), Decimal(150))
    assert str(order.avg_px).startswith("9.99666666666666666666666666666666")
    assert [f.qty for f in order.fills] == [Decimal(100), Decimal(50)]
    assert_books_balance(order)
    assert_replays(s)


def test_fill_that_completes_the_order_makes_it_filled_with_no_leaves() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)

    tr = s.fill(200)

    assert s.status is S.FILLED
    assert s.now.leaves_qty == 0
    assert tr.exceptions == ()
    assert tr.effects == ()  # clients learn of fills from the committed FillBooked event
    assert_replays(s)


def test_duplicate_execution_changes_nothing_and_is_reported() -> None:
    s = OrderScenario().working()
    s.fill(100, exec_id="EX-FILL-1")
    before = s.now

    tr = s.fill(100, exec_id="EX-FILL-1")

    assert tr.outcome is Outcome.DUPLICATE
    assert "EX-FILL-1" in tr.note
    assert tr.events == ()
    assert tr.effects == ()
    assert tr.exceptions == ()
    assert s.now == before
    assert s.now.cum_qty == Decimal(100)
    assert_replays(s)


def test_duplicate_cancel_request_with_the_same_cl_ord_id_changes_nothing() -> None:
    s = OrderScenario().working()
    s.cancel(cl_ord_id="CX-1")
    before = s.now

    tr = s.cancel(cl_ord_id="CX-1")

    assert tr.outcome is Outcome.DUPLICATE
    assert (tr.events, tr.effects) == ((), ())
    assert s.now == before


def test_fill_before_ack_implies_the_ack() -> None:
    s = OrderScenario()
    s.new()
    s.sent()

    tr = s.fill(100, exec_id="EX-EARLY")

    assert event_types(tr) == [OrderAcknowledged, FillBooked]
    ack = tr.events[0]
    assert isinstance(ack, OrderAcknowledged)
    assert ack.implied is True
    assert ack.exec_id == "EX-EARLY"
    assert s.status is S.PARTIALLY_FILLED
    assert s.now.acknowledged
    assert s.now.venue_order_id == "V-1"
    assert s.now.lineage[0].state is VersionState.ACKNOWLEDGED
    assert tr.exceptions == ()
    assert_replays(s)


def test_real_ack_after_a_fill_implied_it_is_ignored() -> None:
    s = OrderScenario()
    s.new()
    s.sent()
    s.fill(100)
    before = s.now

    tr = s.ack()

    assert tr.outcome is Outcome.IGNORED
    assert s.now == before


def test_fill_while_cancel_is_pending_before_the_ack_implies_the_ack() -> None:
    """A fill proves the venue holds the order, even if our cancel went out before its ack."""
    s = OrderScenario()
    s.new()
    s.sent()
    s.cancel()

    tr = s.fill(100)

    assert s.status is S.PENDING_CANCEL
    assert s.now.acknowledged
    assert of_type(tr.events, OrderAcknowledged)[0].implied is True
    assert_replays(s)

    # The venue cannot now reject the order as if it never had it: that is a conflict.
    reject = s.venue_reject()

    assert reject.outcome is Outcome.CONFLICT
    assert kinds(reject) == [ExceptionKind.STATUS_CONFLICT]
    assert s.status is S.PENDING_CANCEL
    assert s.now.cum_qty == Decimal(100)
    assert_replays(s)


def test_late_fill_after_cancel_is_booked_and_flagged() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)
    s.cancel()
    s.cancel_ack()
    assert s.status is S.CANCELED

    tr = s.fill(50, "10.01", exec_id="EX-LATE")

    order = s.now
    assert order.status is S.CANCELED
    assert order.cum_qty == Decimal(150)
    assert order.leaves_qty == 0
    assert order.fills[-1].exec_id == "EX-LATE"
    assert order.fills[-1].late is True
    assert order.fills[0].late is False
    assert kinds(tr) == [ExceptionKind.LATE_FILL]
    found = evidence(tr)
    assert found["input"] == "Fill"
    assert found["exec_id"] == "EX-LATE"
    assert found["last_qty"] == "50"
    assert found["order status"] == "CANCELED"
    assert found["booked cum qty"] == "100"
    assert tr.exception is not None
    assert tr.exception.order_id == s.order_id
    assert ExceptionKind.LATE_FILL in [ref.kind for ref in order.open_exceptions]
    assert_books_balance(order)
    assert_replays(s)


@pytest.mark.parametrize("closed", [S.REJECTED, S.EXPIRED])
def test_late_fill_after_reject_or_expiry_is_booked_and_flagged(closed: OrderStatus) -> None:
    s = OrderScenario().reach(closed)

    tr = s.fill(100)

    assert s.status is closed
    assert s.now.cum_qty == Decimal(100)
    assert s.now.fills[-1].late
    assert ExceptionKind.LATE_FILL in kinds(tr)
    assert_replays(s)


def test_fill_beyond_order_qty_after_replace_down_raises_overfill() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)
    s.replace(qty=150)
    s.replace_ack()
    assert (s.status, s.now.leaves_qty) == (S.PARTIALLY_FILLED, Decimal(50))

    tr = s.fill(100)  # the venue traded against the old quantity

    order = s.now
    assert order.cum_qty == Decimal(200)
    assert order.status is S.FILLED
    assert order.leaves_qty == 0
    assert kinds(tr) == [ExceptionKind.OVERFILL]
    assert evidence(tr)["order qty"] == "150"
    assert_books_balance(order)
    assert_replays(s)


def test_fill_while_replace_down_is_pending_raises_overfill_when_acked() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)
    s.replace(qty=150)
    s.fill(100)
    assert (s.status, s.now.cum_qty) == (S.PENDING_REPLACE, Decimal(200))

    tr = s.replace_ack()

    assert s.status is S.FILLED
    assert s.now.spec.qty == Decimal(150)
    assert s.now.leaves_qty == 0
    assert kinds(tr) == [ExceptionKind.OVERFILL]
    assert_replays(s)


def test_cum_qty_skipping_ahead_raises_missing_execution_and_requests_status() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100, exec_id="EX-A")

    # The venue says CumQty 250 after a fill of 50: a fill of 100 never reached us.
    gap = s.fill(50, exec_id="EX-C", cum=250)

    assert s.now.cum_qty == Decimal(150)
    assert s.now.venue_cum_qty == Decimal(250)
    assert kinds(gap) == [ExceptionKind.MISSING_EXECUTION]
    assert evidence(gap)["missing qty"] == "100"
    requested = of_type(gap.events, StatusRequested)
    assert len(requested) == 1
    assert requested[0].reason == "CUM_QTY_GAP"
    assert RequestStatus(s.order_id, s.now.cl_ord_id, "CUM_QTY_GAP") in gap.effects
    missing = gap.exceptions[0].exception_id
    assert [ref.exception_id for ref in s.now.open_exceptions] == [missing]

    # The missing fill arrives: it is booked and the exception clears itself.
    closed = s.fill(100, exec_id="EX-B", cum=250)

    assert s.now.cum_qty == Decimal(250)
    cleared = of_type(closed.events, ExceptionCleared)
    assert [c.exception_id for c in cleared] == [missing]
    assert "EX-B" in cleared[0].reason
    assert closed.exceptions == ()
    assert s.now.open_exceptions == ()
    assert_replays(s)


def test_cum_qty_gap_is_raised_once_while_it_stays_open() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(50, cum=150)

    again = s.fill(50, cum=200)

    assert again.exceptions == ()
    assert not of_type(again.effects, RequestStatus)
    assert [ref.kind for ref in s.now.open_exceptions] == [ExceptionKind.MISSING_EXECUTION]


# --- cancel and replace --------------------------------------------------------------------


def test_cancel_is_sent_with_a_new_cl_ord_id_and_a_timer() -> None:
    s = OrderScenario().working()

    tr = s.cancel(cl_ord_id="CX-1")

    assert s.status is S.PENDING_CANCEL
    assert SendCancel(s.order_id, "CX-1", "CL-1") in tr.effects
    timers = of_type(tr.effects, ScheduleTimer)
    assert [(t.timer, t.cl_ord_id) for t in timers] == [(TimerKind.CANCEL_TIMEOUT, "CX-1")]
    assert s.now.cl_ord_id == "CL-1"  # in force until the venue confirms the cancel

    s.cancel_ack()

    assert s.status is S.CANCELED
    assert s.now.cl_ord_id == "CX-1"
    assert state_of(s.now, "CX-1") is VersionState.ACKNOWLEDGED
    assert_replays(s)


@pytest.mark.parametrize(
    ("fills_before", "fills_while_pending", "prior"),
    [
        (0, 0, S.NEW),
        (100, 0, S.PARTIALLY_FILLED),
        (0, 100, S.PARTIALLY_FILLED),
    ],
    ids=["working", "partially-filled", "filled-while-pending"],
)
def test_cancel_reject_returns_order_to_prior_status(
    fills_before: int, fills_while_pending: int, prior: OrderStatus
) -> None:
    s = OrderScenario().working(spec(300))
    if fills_before:
        s.fill(fills_before)
    s.cancel()
    if fills_while_pending:
        s.fill(fills_while_pending)
        assert s.status is S.PENDING_CANCEL
    cancel_id = s.pending_cl_ord_id()

    tr = s.cancel_reject()

    assert s.status is prior
    assert s.now.pending is None
    rejected = of_type(tr.events, RequestRejected)
    assert [(r.kind, r.cl_ord_id, r.status) for r in rejected] == [
        (RequestKind.CANCEL, cancel_id, prior)
    ]
    assert state_of(s.now, cancel_id) is VersionState.REJECTED
    assert s.now.cl_ord_id == "CL-1"
    assert s.now.leaves_qty == Decimal(200) if prior is S.PARTIALLY_FILLED else Decimal(300)
    assert_replays(s)


def test_cancel_reject_after_a_fill_completed_the_order_leaves_it_filled() -> None:
    s = OrderScenario().working(spec(300))
    s.cancel()
    s.fill(300)
    assert s.status is S.FILLED

    tr = s.cancel_reject()

    assert s.status is S.FILLED
    assert s.now.pending is None
    assert tr.exceptions == ()
    assert_replays(s)


@pytest.mark.parametrize(
    ("fills_before", "fills_while_pending", "prior"),
    [
        (0, 0, S.NEW),
        (100, 0, S.PARTIALLY_FILLED),
        (0, 100, S.PARTIALLY_FILLED),
    ],
    ids=["working", "partially-filled", "filled-while-pending"],
)
def test_replace_reject_returns_order_to_prior_status(
    fills_before: int, fills_while_pending: int, prior: OrderStatus
) -> None:
    s = OrderScenario().working(spec(300, "10.00"))
    if fills_before:
        s.fill(fills_before)
    s.replace(qty=250, limit="10.05")
    if fills_while_pending:
        s.fill(fills_while_pending)
        assert s.status is S.PENDING_REPLACE
    replace_id = s.pending_cl_ord_id()

    tr = s.replace_reject()

    order = s.now
    assert order.status is prior
    assert order.pending is None
    assert (order.spec.qty, order.spec.limit_price) == (Decimal(300), Decimal("10.00"))
    assert order.cl_ord_id == "CL-1"
    rejected = of_type(tr.events, RequestRejected)
    assert [(r.kind, r.status) for r in rejected] == [(RequestKind.REPLACE, prior)]
    assert state_of(order, replace_id) is VersionState.REJECTED
    assert_books_balance(order)
    assert_replays(s)


def test_replace_ack_puts_new_terms_in_force_under_the_new_cl_ord_id() -> None:
    s = OrderScenario().working(spec(300, "10.00"))
    s.fill(100)

    sent = s.replace(qty=400, limit="10.05", cl_ord_id="CL-R1")

    assert s.status is S.PENDING_REPLACE
    send = of_type(sent.effects, SendReplace)
    assert [(x.cl_ord_id, x.orig_cl_ord_id, x.spec.qty) for x in send] == [
        ("CL-R1", "CL-1", Decimal(400))
    ]
    assert s.now.spec.qty == Decimal(300)  # nothing changes before the venue agrees

    tr = s.replace_ack()

    order = s.now
    assert event_types(tr) == [ReplaceAcknowledged]
    assert order.status is S.PARTIALLY_FILLED
    assert (order.spec.qty, order.spec.limit_price) == (Decimal(400), Decimal("10.05"))
    assert order.leaves_qty == Decimal(300)
    assert order.cl_ord_id == "CL-R1"
    assert_replays(s)


def test_clordid_lineage_records_each_version_and_what_it_changed() -> None:
    s = OrderScenario().working(spec(300, "10.00"))
    s.replace(qty=200, limit="10.05", cl_ord_id="CL-R1")
    s.replace_ack()
    s.replace(qty=100, cl_ord_id="CL-R2")
    s.replace_reject()
    s.cancel(cl_ord_id="CL-C1")

    lineage = [(v.cl_ord_id, v.kind, v.orig_cl_ord_id, v.state) for v in s.now.lineage]
    assert lineage == [
        ("CL-1", "NEW", None, VersionState.ACKNOWLEDGED),
        ("CL-R1", "REPLACE", "CL-1", VersionState.ACKNOWLEDGED),
        ("CL-R2", "REPLACE", "CL-R1", VersionState.REJECTED),
        ("CL-C1", "CANCEL", "CL-R1", VersionState.PENDING),
    ]
    first_replace = s.now.version_of("CL-R1")
    assert first_replace is not None
    assert first_replace.changes == (("qty", "300", "200"), ("limit_price", "10.00", "10.05"))
    assert first_replace.actor == "trader-1"
    assert first_replace.answered_at is not None
    second_replace = s.now.version_of("CL-R2")
    assert second_replace is not None
    assert second_replace.changes == (("qty", "200", "100"),)
    assert second_replace.reason == "REPLACE_REJECTED"
    assert_replays(s)


def test_replace_that_changes_nothing_is_refused() -> None:
    s = OrderScenario().working(spec(300, "10.00"))

    tr = s.replace(qty=300, limit="10.00")

    assert tr.outcome is Outcome.REFUSED
    assert [e.reason_code for e in of_type(tr.events, RequestRefused)] == ["NO_CHANGE"]
    assert s.status is S.NEW
    assert not of_type(tr.effects, SendReplace)
    assert_replays(s)


def test_second_replace_while_pending_is_refused_by_default() -> None:
    s = OrderScenario().working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")

    tr = s.replace(qty=100, cl_ord_id="CL-R2")

    assert tr.outcome is Outcome.REFUSED
    refused = of_type(tr.events, RequestRefused)
    assert [(r.cl_ord_id, r.reason_code) for r in refused] == [("CL-R2", "REPLACE_PENDING")]
    assert NotifyClient(
        s.order_id, "replace_refused", S.PENDING_REPLACE, "REPLACE_PENDING", "CL-R2"
    ) in (tr.effects)
    assert not of_type(tr.effects, SendReplace)
    assert s.status is S.PENDING_REPLACE
    assert s.pending_cl_ord_id() == "CL-R1"
    assert s.now.queued is None
    assert state_of(s.now, "CL-R2") is VersionState.REFUSED
    assert_replays(s)


def test_second_replace_while_pending_is_queued_when_policy_says_so() -> None:
    s = OrderScenario(policy=QUEUE).working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")

    queued = s.replace(qty=100, cl_ord_id="CL-R2")

    assert queued.outcome is Outcome.APPLIED
    assert event_types(queued) == [RequestQueued]
    assert not of_type(queued.effects, SendReplace)
    assert s.status is S.PENDING_REPLACE
    assert s.pending_cl_ord_id() == "CL-R1"
    assert s.now.queued is not None
    assert s.now.queued.cl_ord_id == "CL-R2"
    assert state_of(s.now, "CL-R2") is VersionState.QUEUED

    # The first replace is acknowledged: the queued one goes out against the new terms.
    acked = s.replace_ack()

    assert event_types(acked) == [ReplaceAcknowledged, RequestSent]
    send = of_type(acked.effects, SendReplace)
    assert [(x.cl_ord_id, x.orig_cl_ord_id, x.spec.qty) for x in send] == [
        ("CL-R2", "CL-R1", Decimal(100))
    ]
    assert s.status is S.PENDING_REPLACE
    assert s.now.spec.qty == Decimal(200)
    assert s.pending_cl_ord_id() == "CL-R2"
    assert s.now.queued is None
    sent_version = s.now.version_of("CL-R2")
    assert sent_version is not None
    assert sent_version.state is VersionState.PENDING
    assert sent_version.orig_cl_ord_id == "CL-R1"
    assert sent_version.changes == (("qty", "200", "100"),)

    s.replace_ack()

    assert (s.status, s.now.spec.qty, s.now.cl_ord_id) == (S.NEW, Decimal(100), "CL-R2")
    assert_replays(s)


def test_queued_replace_is_sent_when_the_pending_one_is_rejected() -> None:
    s = OrderScenario(policy=QUEUE).working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")
    s.replace(qty=100, cl_ord_id="CL-R2")

    tr = s.replace_reject()

    assert event_types(tr) == [RequestRejected, RequestSent]
    send = of_type(tr.effects, SendReplace)
    assert [(x.cl_ord_id, x.orig_cl_ord_id, x.spec.qty) for x in send] == [
        ("CL-R2", "CL-1", Decimal(100))
    ]
    assert s.status is S.PENDING_REPLACE
    assert s.pending_cl_ord_id() == "CL-R2"
    assert_replays(s)


def test_newer_queued_replace_supersedes_the_older_queued_one() -> None:
    s = OrderScenario(policy=QUEUE).working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")
    s.replace(qty=150, cl_ord_id="CL-R2")

    tr = s.replace(qty=100, cl_ord_id="CL-R3")

    assert of_type(tr.events, RequestQueued)[0].superseded == "CL-R2"
    assert NotifyClient(
        s.order_id, "request_refused", S.PENDING_REPLACE, "SUPERSEDED", "CL-R2"
    ) in (tr.effects)
    assert s.now.queued is not None
    assert s.now.queued.cl_ord_id == "CL-R3"
    assert state_of(s.now, "CL-R2") is VersionState.REFUSED
    assert_replays(s)


def test_replace_ack_for_other_cl_ord_id_raises_lineage_mismatch() -> None:
    s = OrderScenario().working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")
    before = s.now

    tr = s.replace_ack(cl_ord_id="CL-SOMEONE-ELSE", exec_id="EX-R")

    assert tr.outcome is Outcome.CONFLICT
    assert kinds(tr) == [ExceptionKind.LINEAGE_MISMATCH]
    found = evidence(tr)
    assert found["cl_ord_id"] == "CL-SOMEONE-ELSE"
    assert found["order status"] == "PENDING_REPLACE"
    assert s.status is S.PENDING_REPLACE
    assert s.now.spec == before.spec
    assert s.pending_cl_ord_id() == "CL-R1"
    assert s.now.cl_ord_id == "CL-1"
    assert_replays(s)


def test_repeat_replace_ack_for_an_answered_replace_is_a_duplicate() -> None:
    s = OrderScenario().working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")
    s.replace_ack()
    before = s.now

    tr = s.replace_ack(cl_ord_id="CL-R1")

    assert tr.outcome is Outcome.DUPLICATE
    assert s.now == before


def test_cancel_reject_for_a_cl_ord_id_never_sent_raises_unknown_request() -> None:
    s = OrderScenario().working()
    s.cancel(cl_ord_id="CX-1")

    tr = s.cancel_reject(cl_ord_id="CX-NEVER")

    assert kinds(tr) == [ExceptionKind.UNKNOWN_REQUEST]
    assert s.status is S.PENDING_CANCEL
    assert s.pending_cl_ord_id() == "CX-1"
    assert_replays(s)


@pytest.mark.parametrize(
    ("new_qty", "overfill"), [(200, False), (150, True)], ids=["to-cum", "below-cum"]
)
def test_replace_to_or_below_cum_qty_leaves_order_filled(new_qty: int, overfill: bool) -> None:
    s = OrderScenario().working(spec(300))
    s.fill(200)
    s.replace(qty=new_qty)

    tr = s.replace_ack()

    order = s.now
    assert order.status is S.FILLED
    assert order.spec.qty == Decimal(new_qty)
    assert order.leaves_qty == 0
    assert order.cum_qty == Decimal(200)
    assert (ExceptionKind.OVERFILL in kinds(tr)) is overfill
    assert_replays(s)


def test_cancel_while_replace_pending_is_queued_and_sent_after_answer() -> None:
    s = OrderScenario().working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")

    queued = s.cancel(cl_ord_id="CL-C1")

    assert queued.outcome is Outcome.APPLIED
    assert event_types(queued) == [RequestQueued]
    assert not of_type(queued.effects, SendCancel)
    assert s.status is S.PENDING_REPLACE
    assert s.now.queued is not None
    assert (s.now.queued.kind, s.now.queued.cl_ord_id) == (RequestKind.CANCEL, "CL-C1")

    answered = s.replace_ack()

    assert event_types(answered) == [ReplaceAcknowledged, RequestSent]
    assert SendCancel(s.order_id, "CL-C1", "CL-R1") in answered.effects
    timers = of_type(answered.effects, ScheduleTimer)
    assert [(t.timer, t.cl_ord_id) for t in timers] == [(TimerKind.CANCEL_TIMEOUT, "CL-C1")]
    assert s.status is S.PENDING_CANCEL
    assert s.now.spec.qty == Decimal(200)

    s.cancel_ack()

    assert s.status is S.CANCELED
    assert s.now.cl_ord_id == "CL-C1"
    assert_replays(s)


def test_cancel_queued_behind_a_replace_is_sent_after_a_replace_reject() -> None:
    s = OrderScenario().working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")
    s.cancel(cl_ord_id="CL-C1")

    tr = s.replace_reject()

    assert event_types(tr) == [RequestRejected, RequestSent]
    assert SendCancel(s.order_id, "CL-C1", "CL-1") in tr.effects
    assert s.status is S.PENDING_CANCEL
    assert_replays(s)


def test_cancel_queued_behind_a_replace_is_refused_if_the_order_filled_meanwhile() -> None:
    s = OrderScenario().working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")
    s.cancel(cl_ord_id="CL-C1")
    s.fill(200)

    tr = s.replace_ack()

    assert s.status is S.FILLED
    refused = of_type(tr.events, RequestRefused)
    assert [(r.cl_ord_id, r.reason_code) for r in refused] == [("CL-C1", "TOO_LATE_TO_CANCEL")]
    assert not of_type(tr.effects, SendCancel)
    assert s.now.queued is None
    assert_replays(s)


def test_replace_while_cancel_queued_is_refused() -> None:
    s = OrderScenario(policy=QUEUE).working(spec(300))
    s.replace(qty=200)
    s.cancel(cl_ord_id="CL-C1")

    tr = s.replace(qty=100)

    assert tr.outcome is Outcome.REFUSED
    assert [r.reason_code for r in of_type(tr.events, RequestRefused)] == ["CANCEL_QUEUED"]
    assert s.now.queued is not None
    assert s.now.queued.cl_ord_id == "CL-C1"


def test_unsolicited_cancel_of_ioc_remainder_closes_the_order_without_exception() -> None:
    s = OrderScenario().working(spec(300, tif=TimeInForce.IOC))
    s.fill(100)

    tr = s.cancel_ack()  # the venue cancels what did not trade at once

    assert s.status is S.CANCELED
    assert s.now.leaves_qty == 0
    assert s.now.cum_qty == Decimal(100)
    canceled = of_type(tr.events, OrderCanceled)
    assert [c.unsolicited for c in canceled] == [True]
    assert tr.exceptions == ()
    assert s.now.open_exceptions == ()
    assert_replays(s)


def test_unsolicited_cancel_while_replace_pending_closes_the_replace() -> None:
    s = OrderScenario().working(spec(300))
    s.replace(qty=200, cl_ord_id="CL-R1")

    s.cancel_ack(cl_ord_id="CL-1")

    assert s.status is S.CANCELED
    assert s.now.pending is None
    replace = s.now.version_of("CL-R1")
    assert replace is not None
    assert (replace.state, replace.reason) == (VersionState.REJECTED, "CANCELED")
    assert_replays(s)


def test_cancel_request_on_an_order_not_yet_acked_is_sent() -> None:
    s = OrderScenario()
    s.new()
    s.sent()

    tr = s.cancel(cl_ord_id="CX-1")

    assert s.status is S.PENDING_CANCEL
    assert SendCancel(s.order_id, "CX-1", "CL-1") in tr.effects


def test_replace_request_before_the_ack_is_refused() -> None:
    s = OrderScenario()
    s.new()
    s.sent()

    tr = s.replace(qty=200)

    assert tr.outcome is Outcome.REFUSED
    assert [r.reason_code for r in of_type(tr.events, RequestRefused)] == ["NOT_ACKNOWLEDGED"]
    assert s.status is S.SENT


# --- closed orders -------------------------------------------------------------------------


@pytest.mark.parametrize("closed", [S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED])
def test_terminal_statuses_absorb_everything_but_late_fills_and_corrections(
    closed: OrderStatus,
) -> None:
    def closed_order() -> OrderScenario:
        return OrderScenario().reach(closed)

    # Client requests are refused and answered.
    for request in (lambda s: s.cancel(), lambda s: s.replace(qty=500)):
        s = closed_order()
        tr = request(s)
        assert tr.outcome is Outcome.REFUSED, closed
        assert of_type(tr.events, RequestRefused)
        assert not of_type(tr.effects, SendCancel)
        assert not of_type(tr.effects, SendReplace)
        assert s.status is closed
        assert_replays(s)

    # Venue acks and expiries are ignored, or raised as a conflict; never a status change.
    for message in (lambda s: s.ack(), lambda s: s.expired(), lambda s: s.done_for_day()):
        s = closed_order()
        before = s.now
        tr = message(s)
        assert tr.outcome in (Outcome.IGNORED, Outcome.CONFLICT), closed
        if tr.outcome is Outcome.IGNORED:
            assert s.now == before
        else:
            assert kinds(tr) == [ExceptionKind.STATUS_CONFLICT]
        assert s.status is closed
        assert s.now.leaves_qty == 0
        assert_replays(s)

    # Execution truth wins: a fill is booked and flagged, and so is its correction.
    s = closed_order()
    booked_before = s.now.cum_qty
    fill = s.fill(40, "10.02", exec_id="EX-AFTER")
    assert s.status is closed
    assert s.now.cum_qty == booked_before + 40
    assert s.now.leaves_qty == 0
    expected = ExceptionKind.OVERFILL if closed is S.FILLED else ExceptionKind.LATE_FILL
    assert kinds(fill) == [expected]

    correction = s.correct("EX-AFTER", 30, "10.02")
    assert s.status is closed
    assert s.now.cum_qty == booked_before + 30
    corrected = s.now.fill_by_exec_id(ExecId("EX-AFTER"))
    assert corrected is not None
    assert corrected.state is FillState.CORRECTED
    assert ExceptionKind.TERMINAL_AMENDMENT in kinds(correction)

    bust = s.bust(of_type(correction.events, FillAmended)[0].exec_id)
    assert s.status is closed
    assert s.now.cum_qty == booked_before
    assert ExceptionKind.TERMINAL_AMENDMENT in kinds(bust)
    assert_books_balance(s.now)
    assert_replays(s)


def test_conflicting_input_becomes_exception_with_evidence_not_silent_change() -> None:
    s = OrderScenario().reach(S.REJECTED)
    before = s.now

    tr = s.ack(exec_id="EX-ACK-LATE", venue_order_id="V-9")

    assert tr.outcome is Outcome.CONFLICT
    assert kinds(tr) == [ExceptionKind.STATUS_CONFLICT]
    assert event_types(tr) == [ExceptionRaised]
    found = evidence(tr)
    assert found["input"] == "VenueAck"
    assert found["exec_id"] == "EX-ACK-LATE"
    assert found["venue_order_id"] == "V-9"
    assert found["order status"] == "REJECTED"
    assert tr.exception is not None
    assert tr.exception.exec_id == "EX-ACK-LATE"
    order = s.now
    assert order.status is S.REJECTED
    assert order.acknowledged is False
    assert order.venue_order_id == before.venue_order_id
    assert [ref.kind for ref in order.open_exceptions] == [ExceptionKind.STATUS_CONFLICT]
    assert_replays(s)

    # The same message again is a duplicate, not a second exception.
    again = s.ack(exec_id="EX-ACK-LATE", venue_order_id="V-9")
    assert again.outcome is Outcome.DUPLICATE
    assert len(s.now.open_exceptions) == 1


def test_venue_reject_of_an_acknowledged_order_is_a_conflict() -> None:
    s = OrderScenario().working()

    tr = s.venue_reject()

    assert kinds(tr) == [ExceptionKind.STATUS_CONFLICT]
    assert s.status is S.NEW
    assert_replays(s)


def test_repeat_ack_with_another_venue_order_id_raises_mismatch() -> None:
    s = OrderScenario().working()

    tr = s.ack(venue_order_id="V-OTHER")

    assert kinds(tr) == [ExceptionKind.VENUE_ORDER_ID_MISMATCH]
    assert s.now.venue_order_id == "V-1"
    assert_replays(s)


def test_cancel_ack_of_a_filled_order_is_a_conflict() -> None:
    s = OrderScenario().reach(S.FILLED)

    tr = s.cancel_ack(cl_ord_id="CL-1")

    assert kinds(tr) == [ExceptionKind.STATUS_CONFLICT]
    assert s.status is S.FILLED


# --- new orders ----------------------------------------------------------------------------


def test_new_order_is_created_pending_and_sent_to_its_venue() -> None:
    s = OrderScenario()

    tr = s.new(spec(300, "10.00"), cl_ord_id="CL-1")

    assert event_types(tr) == [OrderCreated]
    assert s.status is S.PENDING_NEW
    assert (s.now.leaves_qty, s.now.cum_qty) == (Decimal(300), Decimal(0))
    assert SendNewOrder(s.order_id, "CL-1", spec(300, "10.00")) in tr.effects

    sent = s.sent()

    assert s.status is S.SENT
    timers = of_type(sent.effects, ScheduleTimer)
    assert [(t.timer, t.cl_ord_id, t.attempt) for t in timers] == [
        (TimerKind.ACK_TIMEOUT, "CL-1", 1)
    ]
    assert_replays(s)


def test_retried_new_order_is_a_duplicate() -> None:
    s = OrderScenario().working()
    before = s.now

    tr = s.new()

    assert tr.outcome is Outcome.DUPLICATE
    assert s.now == before


def test_new_order_denied_by_risk_is_recorded_rejected_with_reason() -> None:
    s = OrderScenario()

    tr = s.deny(code="MAX_QTY", source=RejectSource.RISK)

    assert event_types(tr) == [OrderCreated, OrderRejected]
    rejected = tr.events[1]
    assert isinstance(rejected, OrderRejected)
    assert (rejected.source, rejected.reason_code) == (RejectSource.RISK, "MAX_QTY")
    order = s.now
    assert order.status is S.REJECTED
    assert order.leaves_qty == 0
    assert order.reject_reason == "MAX_QTY: over the limit"
    assert order.lineage[0].state is VersionState.REJECTED
    assert order.lineage[0].reason == "MAX_QTY"
    assert not of_type(tr.effects, SendNewOrder)
    assert NotifyClient(s.order_id, "rejected", S.REJECTED, "MAX_QTY") in tr.effects
    assert tr.exceptions == ()  # a risk denial is business, not a break
    assert_replays(s)


def test_gtd_order_schedules_an_expiry_timer() -> None:
    expire_at = datetime(2026, 3, 3, 21, 0, tzinfo=UTC)
    s = OrderScenario()

    tr = s.new(spec(300, tif=TimeInForce.GTD, expire_time=expire_at))

    timers = of_type(tr.effects, ScheduleTimer)
    grace = s.policy.expiry_grace
    assert timers == [ScheduleTimer(s.order_id, TimerKind.EXPIRY, "CL-1", expire_at + grace)]


def test_day_order_schedules_no_expiry_timer() -> None:
    tr = OrderScenario().new(spec(300, tif=TimeInForce.DAY))

    assert not of_type(tr.effects, ScheduleTimer)


def test_expiry_of_an_order_never_sent_expires_it_here() -> None:
    s = OrderScenario()
    s.new(spec(300, tif=TimeInForce.GTD, expire_time=datetime(2026, 3, 3, 21, 0, tzinfo=UTC)))

    s.timer(TimerKind.EXPIRY)

    assert s.status is S.EXPIRED
    assert s.now.leaves_qty == 0
    assert_replays(s)


def test_unknown_order_raises_unknown_order_exception() -> None:
    s = OrderScenario()

    tr = s.fill(100, exec_id="EX-STRAY")

    assert tr.outcome is Outcome.CONFLICT
    assert tr.order is None
    assert kinds(tr) == [ExceptionKind.UNKNOWN_ORDER]
    record = tr.exception
    assert record is not None
    # no order holds it: it opens a case, a stream of its own, in the same queue
    [opened] = tr.events
    assert isinstance(opened, ExceptionRaised)
    assert (opened.order_id, opened.version) == (f"CASE:{record.exception_id}", 1)
    assert record.order_id is None
    assert record.exec_id == "EX-STRAY"
    assert dict(record.evidence)["order_id"] == s.order_id
    assert dict(record.evidence)["input"] == "Fill"


# --- venue end of day, expiry and status reports -------------------------------------------


def test_done_for_day_stops_trading_and_a_later_fill_is_flagged() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)

    s.done_for_day()

    assert s.status is S.DONE_FOR_DAY
    assert s.now.leaves_qty == Decimal(200)
    assert not s.now.is_terminal

    tr = s.fill(50)

    assert s.status is S.DONE_FOR_DAY
    assert s.now.cum_qty == Decimal(150)
    assert s.now.fills[-1].late
    assert kinds(tr) == [ExceptionKind.LATE_FILL]
    assert_replays(s)


def test_done_for_day_order_is_restated_by_the_next_days_ack() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)
    s.done_for_day()

    s.ack()

    assert s.status is S.PARTIALLY_FILLED
    assert not s.now.done_for_day
    assert_replays(s)


def test_done_for_day_order_can_be_canceled_but_not_replaced() -> None:
    s = OrderScenario().working(spec(300))
    s.done_for_day()

    refused = s.replace(qty=200)
    assert refused.outcome is Outcome.REFUSED
    assert s.status is S.DONE_FOR_DAY

    s.cancel()
    assert s.status is S.PENDING_CANCEL

    s.cancel_reject()
    assert s.status is S.DONE_FOR_DAY
    assert_replays(s)


def test_venue_expiry_closes_a_working_order() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)

    s.expired()

    assert s.status is S.EXPIRED
    assert (s.now.cum_qty, s.now.leaves_qty) == (Decimal(100), Decimal(0))
    assert_replays(s)


def test_status_report_adopts_missed_cancel_and_flags_it() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)

    tr = s.status_report(S.CANCELED, cum=100, leaves=0)

    adopted = of_type(tr.events, StatusAdopted)
    assert [(a.previous, a.status) for a in adopted] == [(S.PARTIALLY_FILLED, S.CANCELED)]
    assert s.status is S.CANCELED
    assert s.now.leaves_qty == 0
    assert s.now.cum_qty == Decimal(100)
    assert kinds(tr) == [ExceptionKind.MISSED_STATUS]
    found = evidence(tr)
    assert (found["input"], found["ord_status"]) == ("StatusReport", "CANCELED")
    assert found["order status"] == "PARTIALLY_FILLED"
    assert_replays(s)


def test_status_report_confirming_our_pending_cancel_is_adopted_quietly() -> None:
    s = OrderScenario().working(spec(300))
    s.cancel(cl_ord_id="CX-1")

    tr = s.status_report(S.CANCELED, cum=0, leaves=0)

    assert s.status is S.CANCELED
    assert tr.exceptions == ()
    assert s.now.pending is None
    assert_replays(s)


def test_status_report_that_agrees_is_ignored() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)
    before = s.now

    tr = s.status_report(S.PARTIALLY_FILLED, cum=100, leaves=200)

    assert tr.outcome is Outcome.IGNORED
    assert s.now == before


def test_status_report_with_less_cum_qty_than_booked_raises_mismatch() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100)

    tr = s.status_report(S.PARTIALLY_FILLED, cum=50, leaves=250)

    assert kinds(tr) == [ExceptionKind.CUM_QTY_MISMATCH]
    assert s.now.cum_qty == Decimal(100)  # the booked fills are not rewritten
    assert_replays(s)


def test_status_report_of_a_live_order_implies_a_missed_ack() -> None:
    s = OrderScenario()
    s.new()
    s.sent()

    tr = s.status_report(S.NEW, cum=0, leaves=300)

    assert event_types(tr) == [OrderAcknowledged]
    assert s.status is S.NEW
    assert s.now.acknowledged
    assert_replays(s)


def test_status_report_of_a_live_order_keel_holds_closed_is_a_conflict() -> None:
    s = OrderScenario().reach(S.CANCELED)

    tr = s.status_report(S.NEW, cum=0, leaves=300)

    assert kinds(tr) == [ExceptionKind.STATUS_CONFLICT]
    assert s.status is S.CANCELED


# --- corrections and busts -----------------------------------------------------------------


def test_correction_recomputes_cum_and_avg_px_and_keeps_original() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100, "10.00", exec_id="EX-F1")
    s.fill(50, "9.99", exec_id="EX-F2")

    tr = s.correct("EX-F1", 80, "10.01")

    order = s.now
    amended = of_type(tr.events, FillAmended)
    assert [(a.ref_exec_id, a.superseded_state) for a in amended] == [
        ("EX-F1", FillState.CORRECTED)
    ]
    assert [(f.exec_id, f.state, f.corrects) for f in order.fills] == [
        ("EX-F1", FillState.CORRECTED, None),
        ("EX-F2", FillState.ACTIVE, None),
        (amended[0].exec_id, FillState.ACTIVE, "EX-F1"),
    ]
    original = order.fill_by_exec_id("EX-F1")
    assert original is not None
    assert (original.qty, original.price) == (Decimal(100), Decimal("10.00"))
    notional = Decimal(80) * Decimal("10.01") + Decimal(50) * Decimal("9.99")
    assert order.cum_qty == Decimal(130)
    assert order.leaves_qty == Decimal(170)
    assert order.cum_notional == notional == Decimal("1300.30")
    assert order.avg_px == EXACT.divide(notional, Decimal(130))
    assert order.status is S.PARTIALLY_FILLED
    assert tr.exceptions == ()
    assert_books_balance(order)
    assert_replays(s)


def test_correction_that_completes_the_order_makes_it_filled() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100, exec_id="EX-F1")

    s.correct("EX-F1", 300, "10.00")

    assert s.status is S.FILLED
    assert s.now.leaves_qty == 0
    assert_replays(s)


def test_bust_removes_fill_effect_and_keeps_original() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100, "10.00", exec_id="EX-F1")
    s.fill(50, "9.99", exec_id="EX-F2")

    tr = s.bust("EX-F1")

    order = s.now
    amended = of_type(tr.events, FillAmended)
    assert [(a.ref_exec_id, a.superseded_state, a.replacement) for a in amended] == [
        ("EX-F1", FillState.BUSTED, None)
    ]
    assert [(f.exec_id, f.state) for f in order.fills] == [
        ("EX-F1", FillState.BUSTED),
        ("EX-F2", FillState.ACTIVE),
    ]
    assert order.cum_qty == Decimal(50)
    assert order.leaves_qty == Decimal(250)
    assert order.cum_notional == Decimal("499.50")
    assert order.avg_px == Decimal("9.99")
    assert order.status is S.PARTIALLY_FILLED
    assert_books_balance(order)

    s.bust("EX-F2")

    assert (s.status, s.now.cum_qty, s.now.avg_px) == (S.NEW, Decimal(0), Decimal(0))
    assert len(s.now.fills) == 2
    assert_replays(s)


def test_amending_a_fill_never_booked_or_already_busted_raises_unknown_execution() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100, exec_id="EX-F1")
    s.bust("EX-F1")
    before_cum = s.now.cum_qty

    unknown = s.correct("EX-NEVER", 10, "10.00")
    busted_again = s.bust("EX-F1")

    assert kinds(unknown) == [ExceptionKind.UNKNOWN_EXECUTION]
    assert kinds(busted_again) == [ExceptionKind.UNKNOWN_EXECUTION]
    assert s.now.cum_qty == before_cum
    assert_replays(s)


# --- timers --------------------------------------------------------------------------------


def test_stuck_ack_requests_status_then_raises_stuck_order() -> None:
    s = OrderScenario()
    s.new()
    s.sent()

    first = s.timer(TimerKind.ACK_TIMEOUT, attempt=1)

    assert first.outcome is Outcome.APPLIED
    requested = of_type(first.events, StatusRequested)
    assert [(r.cl_ord_id, r.attempt) for r in requested] == [("CL-1", 1)]
    assert RequestStatus(s.order_id, "CL-1", "ACK_TIMEOUT") in first.effects
    timers = of_type(first.effects, ScheduleTimer)
    assert [(t.timer, t.cl_ord_id, t.attempt) for t in timers] == [
        (TimerKind.ACK_TIMEOUT, "CL-1", 2)
    ]
    assert timers[0].due == s.clock + s.policy.ack_timeout
    assert first.exceptions == ()

    stale = s.timer(TimerKind.ACK_TIMEOUT, attempt=1)  # the first timer fires again

    assert stale.outcome is Outcome.IGNORED
    assert stale.events == ()

    second = s.timer(TimerKind.ACK_TIMEOUT, attempt=2)

    assert second.outcome is Outcome.CONFLICT
    assert kinds(second) == [ExceptionKind.STUCK_ORDER]
    assert evidence(second)["timer"] == "ACK_TIMEOUT"
    assert not of_type(second.effects, ScheduleTimer)
    assert s.status is S.SENT  # stuck is an exception for a person, not a status

    assert s.timer(TimerKind.ACK_TIMEOUT, attempt=2).outcome is Outcome.IGNORED
    assert s.timer(TimerKind.ACK_TIMEOUT, attempt=1).outcome is Outcome.IGNORED
    assert len(s.now.open_exceptions) == 1
    assert_replays(s)


def test_ack_timer_that_fires_after_the_ack_is_ignored() -> None:
    s = OrderScenario().working()

    tr = s.timer(TimerKind.ACK_TIMEOUT, cl_ord_id="CL-1")

    assert tr.outcome is Outcome.IGNORED


def test_unanswered_cancel_is_chased_then_stuck() -> None:
    s = OrderScenario().working()
    s.cancel(cl_ord_id="CX-1")

    first = s.timer(TimerKind.CANCEL_TIMEOUT, cl_ord_id="CX-1", attempt=1)
    second = s.timer(TimerKind.CANCEL_TIMEOUT, cl_ord_id="CX-1", attempt=2)

    assert RequestStatus(s.order_id, "CX-1", "CANCEL_TIMEOUT") in first.effects
    assert kinds(second) == [ExceptionKind.STUCK_ORDER]
    assert s.status is S.PENDING_CANCEL
    assert_replays(s)


def test_cancel_timer_after_the_cancel_was_answered_is_ignored() -> None:
    s = OrderScenario().working()
    s.cancel(cl_ord_id="CX-1")
    s.cancel_reject()

    tr = s.timer(TimerKind.CANCEL_TIMEOUT, cl_ord_id="CX-1")

    assert tr.outcome is Outcome.IGNORED
    assert s.status is S.NEW


# --- replay --------------------------------------------------------------------------------


def test_replaying_the_events_rebuilds_the_order_after_every_step() -> None:
    s = OrderScenario(policy=QUEUE)
    story = [
        lambda: s.new(spec(300, "10.00")),
        s.sent,
        lambda: s.fill(50, "10.00"),  # before the ack
        s.ack,
        lambda: s.replace(qty=250, limit="10.02"),
        lambda: s.replace(qty=200),  # queued
        lambda: s.fill(25, "10.01", cum=100),  # a gap of 25
        lambda: s.fill(25, "10.00", exec_id="EX-3"),  # duplicate ExecID
        s.replace_ack,
        s.replace_reject,
        lambda: s.fill(25, "10.00", cum=100),  # the missing fill
        lambda: s.correct("EX-2", 60, "9.98"),
        lambda: s.timer(TimerKind.ACK_TIMEOUT, cl_ord_id="CL-1"),
        s.done_for_day,
        s.ack,
        s.cancel,
        s.cancel_ack,
        lambda: s.fill(10, "10.00"),  # late
        lambda: s.bust("EX-2"),
    ]

    for step in story:
        step()
        assert s.rebuilt() == s.order
        assert s.now.version == len(s.events)
        assert_books_balance(s.now)

    assert s.status is S.CANCELED
    assert {t.outcome for t in s.transitions} >= {
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.IGNORED,
    }
    assert s.clock - s.now.created_at < timedelta(seconds=1)
