"""Reconciliation breaks raised on the orders they involve: once, with the evidence, and
worked like any other exception (a missing fill booked with four eyes)."""

from __future__ import annotations

from decimal import Decimal

from keel.domain.enums import ExceptionKind, Outcome, ResolutionKind, WorkflowAction
from keel.domain.events import ExceptionRaised
from support.builders import OrderScenario, spec


def test_a_break_is_raised_on_the_order_with_both_sides_and_the_run() -> None:
    s = OrderScenario().working(spec(300))

    tr = s.break_found(ExceptionKind.MISSING_INTERNALLY, "MI:SIM:EX-B", run_id="R7")

    assert tr.outcome is Outcome.APPLIED
    [raised] = [e for e in tr.events if isinstance(e, ExceptionRaised)]
    record = raised.exception
    assert record.kind is ExceptionKind.MISSING_INTERNALLY
    assert record.break_key == "MI:SIM:EX-B"
    evidence = dict(record.evidence)
    assert (evidence["broker qty"], evidence["recon run"]) == ("100", "R7")
    assert [x.ref for x in s.now.open_exceptions] == ["MI:SIM:EX-B"]
    assert s.rebuilt() == s.now


def test_a_rerun_finding_the_same_open_break_raises_nothing_new() -> None:
    s = OrderScenario().working(spec(300))
    s.break_found(key="MI:SIM:EX-B", run_id="R1")

    again = s.break_found(key="MI:SIM:EX-B", run_id="R2")

    assert again.outcome is Outcome.IGNORED
    assert again.events == ()
    assert len(s.now.open_exceptions) == 1


def test_a_missing_fill_break_is_booked_after_a_second_persons_approval() -> None:
    s = OrderScenario().working(spec(300))
    s.fill(100, exec_id="EX-A")
    xid = s.break_found(key="MI:SIM:EX-B", exec_id="EX-B").exceptions[0].exception_id
    assert "EX-B" not in s.now.exec_ids  # talked about, not processed: still bookable

    s.work(
        xid, WorkflowAction.RESOLVE, "ops-anna", resolution=ResolutionKind.BOOKED_MISSING_FILL,
        comment="on the statement and the drop copy", exec_id="EX-B", qty=50, price="10.00",
    )  # fmt: skip
    s.work(xid, WorkflowAction.APPROVE, "ops-ben")

    assert s.now.cum_qty == Decimal(150)
    assert s.now.open_exceptions == ()
    late = s.fill(50, exec_id="EX-B")  # the venue's own report, if it ever comes: a duplicate
    assert late.outcome is Outcome.DUPLICATE


def test_evidence_inputs_never_change_an_order() -> None:
    s = OrderScenario().working(spec(300))
    before = s.now

    assert s.drop_copy().outcome is Outcome.IGNORED
    assert s.statement().outcome is Outcome.IGNORED
    assert s.now == before
