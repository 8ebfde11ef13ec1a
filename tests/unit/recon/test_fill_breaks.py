"""Fill-level reconciliation: each break kind, as the desk meets it."""

from __future__ import annotations

import random
from decimal import Decimal

from keel.domain.enums import Side
from keel.domain.order import FillState
from keel.domain.recon import (
    BreakKind,
    BreakLevel,
    BrokerSource,
    Evidence,
    EvidenceKind,
    MatchMethod,
    Tolerances,
    match_fills,
)
from unit.recon.builders import keel_fill, kinds, reported

STATEMENT = EvidenceKind.STATEMENT


def test_fills_both_sides_report_alike_pair_by_exec_id_with_no_break() -> None:
    ours = [keel_fill(1), keel_fill(2, side=Side.SELL, qty="40", price="150.30")]
    result = match_fills(ours, [reported(f) for f in ours])
    assert result.breaks == ()
    assert [(p.keel.exec_id, p.broker.exec_id, p.method) for p in result.pairs] == [
        ("E1", "E1", MatchMethod.EXEC_ID),
        ("E2", "E2", MatchMethod.EXEC_ID),
    ]
    assert (result.matched_by_exec_id, result.matched_by_fallback) == (2, 0)
    assert (result.keel_fills, result.broker_reports, len(result.pairs)) == (2, 2, 2)


def test_a_fill_the_broker_reports_and_keel_never_booked_is_missing_internally() -> None:
    theirs = reported(keel_fill(7), ref="stmt.csv:17")
    [found] = match_fills([], [theirs]).breaks
    assert found.kind is BreakKind.MISSING_INTERNALLY
    assert found.level is BreakLevel.FILL
    assert found.explanation == (
        "Broker reports a fill of BUY 100 AAPL @ 150.25 for FUND-A (exec E7) that Keel never booked"
    )
    assert found.keel == ()
    assert ("qty", "100") in found.broker
    assert ("ref", "stmt.csv:17") in found.broker
    assert found.evidence == (Evidence(STATEMENT, "stmt.csv:17"),)
    assert found.break_key == "FILL/MISSING_INTERNALLY/SIM/E7"
    assert found.exec_id == "E7"
    assert found.order_id is None


def test_a_fill_keel_booked_that_the_broker_does_not_report_is_missing_at_broker() -> None:
    [found] = match_fills([keel_fill(3)], []).breaks
    assert found.kind is BreakKind.MISSING_AT_BROKER
    assert found.explanation == (
        "Keel booked a fill of BUY 100 AAPL @ 150.25 for FUND-A (exec E3, fill ORD-3-F3) "
        "that the broker does not report"
    )
    assert found.broker == ()
    assert found.evidence == (
        Evidence(EvidenceKind.KEEL_FILL, "ORD-3-F3"),
        Evidence(EvidenceKind.KEEL_ORDER, "ORD-3"),
    )
    assert found.order_id == "ORD-3"
    assert found.break_key == "FILL/MISSING_AT_BROKER/SIM/E3"


def test_the_broker_reporting_a_different_quantity_is_a_quantity_mismatch() -> None:
    ours = keel_fill(4, qty="100")
    [found] = match_fills([ours], [reported(ours, qty="90")]).breaks
    assert found.kind is BreakKind.QUANTITY_MISMATCH
    assert found.explanation == (
        "Exec E4: Keel booked BUY 100 AAPL for FUND-A, the broker reports BUY 90 AAPL for "
        "FUND-A (qty differ)"
    )
    assert ("qty", "100") in found.keel
    assert ("qty", "90") in found.broker
    assert {e.kind for e in found.evidence} == {
        STATEMENT, EvidenceKind.KEEL_FILL, EvidenceKind.KEEL_ORDER,
    }  # fmt: skip


def test_a_buy_the_broker_reports_as_a_sale_is_a_quantity_mismatch() -> None:
    ours = keel_fill(5)
    [found] = match_fills([ours], [reported(ours, side=Side.SELL)]).breaks
    assert found.kind is BreakKind.QUANTITY_MISMATCH
    assert "(side differ)" in found.explanation


def test_a_fill_the_broker_books_to_another_account_is_a_quantity_mismatch() -> None:
    ours = keel_fill(6)
    [found] = match_fills([ours], [reported(ours, account="FUND-B")]).breaks
    assert found.kind is BreakKind.QUANTITY_MISMATCH
    assert found.explanation.endswith("for FUND-B (account differ)")


def test_a_short_sale_the_broker_reports_as_a_plain_sale_is_the_same_execution() -> None:
    ours = keel_fill(8, side=Side.SELL_SHORT)
    assert match_fills([ours], [reported(ours, side=Side.SELL)]).breaks == ()


def test_a_different_price_is_a_price_mismatch() -> None:
    ours = keel_fill(9, price="150.25")
    [found] = match_fills([ours], [reported(ours, price="150.26")]).breaks
    assert found.kind is BreakKind.PRICE_MISMATCH
    assert found.explanation == (
        "Exec E9: Keel booked BUY 100 AAPL at 150.25, the broker reports 150.26: 0.01 "
        "apart, tolerance 0"
    )
    assert found.break_key == "FILL/PRICE_MISMATCH/SIM/E9"


def test_a_price_within_the_tolerance_is_no_break() -> None:
    ours = keel_fill(10, price="150.25")
    loose = Tolerances(price_tolerance=Decimal("0.01"))
    assert match_fills([ours], [reported(ours, price="150.26")], loose).breaks == ()
    assert kinds(match_fills([ours], [reported(ours, price="150.27")], loose).breaks) == [
        "PRICE_MISMATCH"
    ]


def test_a_broker_reporting_fewer_decimals_agrees_once_both_are_rounded() -> None:
    ours = keel_fill(11, price="150.2549")
    two_places = Tolerances(price_decimals=2)
    assert match_fills([ours], [reported(ours, price="150.25")], two_places).breaks == ()
    assert kinds(match_fills([ours], [reported(ours, price="150.25")]).breaks) == ["PRICE_MISMATCH"]


def test_a_wrong_quantity_and_price_on_one_fill_are_two_breaks() -> None:
    ours = keel_fill(12)
    result = match_fills([ours], [reported(ours, qty="99", price="151")])
    assert kinds(result.breaks) == ["PRICE_MISMATCH", "QUANTITY_MISMATCH"]


def test_the_same_exec_id_twice_in_the_statement_is_a_duplicate_at_broker() -> None:
    ours = keel_fill(13)
    first = reported(ours, ref="stmt.csv:14")
    again = reported(ours, ref="stmt.csv:40")
    result = match_fills([ours], [first, again])
    [found] = result.breaks
    assert found.kind is BreakKind.DUPLICATE_AT_BROKER
    assert found.explanation == (
        "Broker reports exec E13 (BUY 100 AAPL @ 150.25 for FUND-A) 2 times in its statement"
    )
    assert found.evidence[:2] == (
        Evidence(STATEMENT, "stmt.csv:14"),
        Evidence(STATEMENT, "stmt.csv:40"),
    )
    assert found.order_id == "ORD-13"
    assert len(result.pairs) == 1  # the execution itself is still matched, once
    assert result.broker_reports == 2


def test_a_duplicate_whose_copies_differ_says_so() -> None:
    ours = keel_fill(14)
    result = match_fills([ours], [reported(ours), reported(ours, qty="50", ref="stmt.csv:99")])
    [found] = result.breaks
    assert found.kind is BreakKind.DUPLICATE_AT_BROKER
    assert found.explanation.endswith("2 times in its statement; the copies differ")


def test_the_drop_copy_of_a_statement_line_corroborates_it_and_is_no_duplicate() -> None:
    ours = keel_fill(15)
    line = reported(ours)
    copy = reported(ours, source=BrokerSource.DROP_COPY)
    result = match_fills([ours], [line, copy])
    assert result.breaks == ()
    assert [(p.broker.source, p.method) for p in result.corroborations] == [
        (BrokerSource.DROP_COPY, MatchMethod.EXEC_ID)
    ]


def test_a_fill_keel_missed_seen_in_statement_and_drop_copy_is_one_break_with_both() -> None:
    missed = keel_fill(16)
    line = reported(missed)
    copy = reported(missed, source=BrokerSource.DROP_COPY)
    [found] = match_fills([], [line, copy]).breaks
    assert found.kind is BreakKind.MISSING_INTERNALLY
    assert found.evidence == (
        Evidence(STATEMENT, "stmt.csv:16"),
        Evidence(EvidenceKind.DROP_COPY, "dc:E16"),
    )


def test_a_drop_copy_that_disagrees_with_keel_is_a_break_though_the_statement_agrees() -> None:
    ours = keel_fill(17)
    result = match_fills(
        [ours], [reported(ours), reported(ours, source=BrokerSource.DROP_COPY, qty="10")]
    )
    [found] = result.breaks
    assert found.kind is BreakKind.QUANTITY_MISMATCH
    assert Evidence(EvidenceKind.DROP_COPY, "dc:E17") in found.evidence


def test_a_fill_keel_busted_that_the_broker_still_reports_is_missing_internally() -> None:
    busted = keel_fill(18, state=FillState.BUSTED)
    [found] = match_fills([busted], [reported(busted)]).breaks
    assert found.kind is BreakKind.MISSING_INTERNALLY
    assert found.explanation.endswith("that Keel booked as fill ORD-18-F18 and then marked BUSTED")
    assert found.order_id == "ORD-18"
    assert Evidence(EvidenceKind.KEEL_FILL, "ORD-18-F18") in found.evidence


def test_a_busted_fill_the_broker_does_not_report_is_no_break() -> None:
    assert match_fills([keel_fill(19, state=FillState.BUSTED)], []).breaks == ()


def test_a_corrected_fill_pairs_its_correction_not_the_superseded_one() -> None:
    old = keel_fill(20, state=FillState.CORRECTED)
    new = keel_fill(20, qty="90")  # the correction kept the ExecID (data from elsewhere)
    result = match_fills([old, new], [reported(new)])
    assert result.breaks == ()
    assert [p.keel.state for p in result.pairs] == [FillState.ACTIVE]


def test_one_exec_id_at_two_venues_is_two_executions() -> None:
    here = keel_fill(21, venue="SIM")
    there = keel_fill(21, venue="XNYS", qty="5")
    result = match_fills([here, there], [reported(there), reported(here)])
    assert result.breaks == ()
    assert len(result.pairs) == 2


def test_break_keys_are_the_same_on_a_second_run_and_in_any_order() -> None:
    ours = [keel_fill(n) for n in range(1, 30)]
    theirs = [reported(f) for f in ours[3:]]
    theirs[5] = theirs[5]._replace(qty=Decimal(1))
    theirs.append(reported(keel_fill(99)))
    first = match_fills(ours, theirs).breaks
    random.Random(7).shuffle(ours)
    random.Random(8).shuffle(theirs)
    second = match_fills(ours, theirs).breaks
    assert first == second
    assert [b.break_key for b in first] == sorted(b.break_key for b in first)
    assert kinds(first).count("MISSING_AT_BROKER") == 3
