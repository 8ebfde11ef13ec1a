"""The fallback match: broker order id, quantity, price and time, when the ids differ."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from keel.domain.enums import Side
from keel.domain.recon import BreakKind, MatchMethod, Tolerances, match_fills
from unit.recon.builders import DAY, T0, keel_fill, kinds, reported

WINDOW = Tolerances(time_window=timedelta(seconds=5))


def test_a_statement_with_its_own_trade_ids_pairs_by_broker_order_and_says_so() -> None:
    ours = keel_fill(1, at=T0)
    theirs = reported(ours, at=T0 + timedelta(seconds=2), exec_id="TRD-9001")
    result = match_fills([ours], [theirs], WINDOW)
    assert result.breaks == ()
    [pair] = result.pairs
    assert pair.method is MatchMethod.FALLBACK
    assert (pair.keel.exec_id, pair.broker.exec_id) == ("E1", "TRD-9001")
    assert (result.matched_by_exec_id, result.matched_by_fallback) == (0, 1)


def test_the_fallback_is_not_used_when_the_exec_id_matches() -> None:
    ours = keel_fill(1, order=5, at=T0)
    twin = keel_fill(2, order=5, at=T0)  # same order, qty, price and time: a fallback twin
    result = match_fills([ours, twin], [reported(ours)], WINDOW)
    [pair] = result.pairs
    assert (pair.keel.exec_id, pair.method) == ("E1", MatchMethod.EXEC_ID)
    assert kinds(result.breaks) == ["MISSING_AT_BROKER"]
    assert result.breaks[0].exec_id == "E2"


def test_ambiguous_candidates_go_to_the_closest_in_time_whatever_the_input_order() -> None:
    far = keel_fill(1, order=5, at=T0 + timedelta(seconds=4))
    near = keel_fill(2, order=5, at=T0 + timedelta(seconds=1))
    theirs = reported(far, at=T0, exec_id="TRD-1")
    for keel in ([far, near], [near, far]):
        result = match_fills(keel, [theirs], WINDOW)
        [pair] = result.pairs
        assert pair.keel.exec_id == "E2"
        assert [b.exec_id for b in result.breaks] == ["E1"]


def test_candidates_equally_close_go_by_fill_id() -> None:
    a = keel_fill(1, order=5, at=T0)
    b = keel_fill(2, order=5, at=T0)
    theirs = reported(a, exec_id="TRD-1")
    for keel in ([a, b], [b, a]):
        [pair] = match_fills(keel, [theirs], WINDOW).pairs
        assert pair.keel.fill_id == "ORD-5-F1"


def test_two_reports_and_candidates_pair_one_to_one_the_same_in_any_order() -> None:
    ours = [keel_fill(n, order=5, at=T0 + timedelta(seconds=n)) for n in range(1, 5)]
    theirs = [
        reported(f, at=f.event_time + timedelta(milliseconds=300), exec_id=f"TRD-{n}")
        for n, f in enumerate(ours, start=1)
    ]
    expected = {(f"E{n}", f"TRD-{n}") for n in range(1, 5)}
    for seed in range(5):
        random.Random(seed).shuffle(ours)
        random.Random(seed + 100).shuffle(theirs)
        result = match_fills(ours, theirs, WINDOW)
        assert {(p.keel.exec_id, p.broker.exec_id) for p in result.pairs} == expected
        assert result.breaks == ()


def test_one_candidate_for_two_reports_pairs_once_and_leaves_a_break() -> None:
    ours = keel_fill(1, at=T0)
    theirs = [
        reported(ours, exec_id="TRD-1"),
        reported(ours, ref="stmt.csv:50", exec_id="TRD-2"),
    ]
    result = match_fills([ours], theirs, WINDOW)
    assert [p.broker.exec_id for p in result.pairs] == ["TRD-1"]
    assert [(b.kind, b.exec_id) for b in result.breaks] == [(BreakKind.MISSING_INTERNALLY, "TRD-2")]


def test_a_report_outside_the_time_window_does_not_pair() -> None:
    ours = keel_fill(1, at=T0)
    late = reported(ours, at=T0 + timedelta(seconds=6), exec_id="TRD-1")
    result = match_fills([ours], [late], WINDOW)
    assert len(result.pairs) == 0
    assert kinds(result.breaks) == ["MISSING_AT_BROKER", "MISSING_INTERNALLY"]
    just_in = reported(ours, at=T0 + timedelta(seconds=5), exec_id="TRD-1")
    assert match_fills([ours], [just_in], WINDOW).breaks == ()


def test_a_report_without_a_time_pairs_only_on_the_same_trade_date() -> None:
    ours = keel_fill(1)
    untimed = reported(ours, at=None, exec_id="TRD-1")
    assert match_fills([ours], [untimed], WINDOW).matched_by_fallback == 1
    next_day = untimed._replace(trade_date=DAY + timedelta(days=1))
    assert match_fills([ours], [next_day], WINDOW).matched_by_fallback == 0


def test_the_fallback_respects_the_price_tolerance() -> None:
    ours = keel_fill(1, price="150.25")
    near = reported(ours, price="150.26", exec_id="TRD-1")
    exact = Tolerances(time_window=timedelta(seconds=5))
    loose = Tolerances(price_tolerance=Decimal("0.01"), time_window=timedelta(seconds=5))
    assert match_fills([ours], [near], exact).matched_by_fallback == 0
    assert match_fills([ours], [near], loose).matched_by_fallback == 1
    assert match_fills([ours], [near], loose).breaks == ()


def test_the_fallback_needs_the_same_quantity_and_direction() -> None:
    ours = keel_fill(1)
    smaller = reported(ours, qty="99", exec_id="TRD-1")
    sold = reported(ours, side=Side.SELL, exec_id="TRD-2")
    assert match_fills([ours], [smaller], WINDOW).matched_by_fallback == 0
    assert match_fills([ours], [sold], WINDOW).matched_by_fallback == 0
    short = keel_fill(2, side=Side.SELL_SHORT)
    plain = reported(short, side=Side.SELL, exec_id="TRD-3")
    assert match_fills([short], [plain], WINDOW).matched_by_fallback == 1


def test_a_report_without_a_broker_order_id_cannot_fall_back() -> None:
    ours = keel_fill(1)
    anonymous = reported(ours, venue_order_id=None, exec_id="TRD-1")
    assert match_fills([ours], [anonymous], WINDOW).matched_by_fallback == 0


def test_a_fallback_pair_on_another_account_is_a_mismatch_that_names_the_fallback() -> None:
    ours = keel_fill(1)
    theirs = reported(ours, account="FUND-B", exec_id="TRD-1")
    [found] = match_fills([ours], [theirs], WINDOW).breaks
    assert found.kind is BreakKind.QUANTITY_MISMATCH
    assert found.explanation.startswith("Exec TRD-1 (fallback match: Keel exec E1): ")
    assert found.break_key == "FILL/QUANTITY_MISMATCH/SIM/TRD-1"
