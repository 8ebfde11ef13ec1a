"""Position-level reconciliation: bought and sold per account, trade date and symbol."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from keel.domain.enums import Side
from keel.domain.order import FillState
from keel.domain.recon import BreakKind, BreakLevel, BrokerSource, Tolerances, match_positions
from unit.recon.builders import DAY, keel_fill, kinds, reported


def test_books_that_add_up_have_one_line_per_account_date_and_symbol_and_no_break() -> None:
    ours = [
        keel_fill(1, qty="100", price="10"),
        keel_fill(2, qty="50", price="11", side=Side.SELL),
        keel_fill(3, symbol="MSFT"),
        keel_fill(4, trade_date=DAY + timedelta(days=1)),
    ]
    result = match_positions(ours, [reported(f) for f in ours])
    assert result.breaks == ()
    assert [(str(line.trade_date), line.symbol) for line in result.lines] == [
        ("2026-03-02", "AAPL"), ("2026-03-02", "MSFT"), ("2026-03-03", "AAPL"),
    ]  # fmt: skip
    first = result.lines[0].keel
    assert first is not None
    assert (first.bought, first.sold, first.bought_notional, first.sold_notional) == (
        Decimal(100), Decimal(50), Decimal(1000), Decimal(550),
    )  # fmt: skip
    assert first.net == Decimal(50)


def test_a_symbol_only_the_broker_traded_is_missing_internally() -> None:
    [found] = match_positions([], [reported(keel_fill(1))]).breaks
    assert found.kind is BreakKind.MISSING_INTERNALLY
    assert found.level is BreakLevel.POSITION
    assert found.explanation == (
        "FUND-A AAPL on 2026-03-02: the broker has bought 100 and sold 0 in 1 fill and Keel "
        "has none"
    )
    assert found.break_key == "POSITION/MISSING_INTERNALLY/FUND-A/2026-03-02/AAPL"


def test_a_symbol_only_keel_traded_is_missing_at_broker() -> None:
    [found] = match_positions([keel_fill(1)], []).breaks
    assert found.kind is BreakKind.MISSING_AT_BROKER
    assert found.broker == ()


def test_a_different_total_quantity_is_a_quantity_mismatch() -> None:
    ours = [keel_fill(1), keel_fill(2)]
    [found] = match_positions(ours, [reported(ours[0])]).breaks
    assert found.kind is BreakKind.QUANTITY_MISMATCH
    assert found.explanation == (
        "FUND-A AAPL on 2026-03-02: Keel has bought 200 and sold 0 in 2 fills, the broker "
        "bought 100 and sold 0 in 1 fill"
    )
    assert ("bought", "200") in found.keel
    assert ("bought", "100") in found.broker


def test_offsetting_errors_the_fills_hide_still_show_in_the_notional() -> None:
    ours = [keel_fill(1, price="10.00"), keel_fill(2, price="10.00")]
    theirs = [reported(ours[0], price="10.01"), reported(ours[1], price="9.98")]
    [found] = match_positions(ours, theirs).breaks
    assert found.kind is BreakKind.PRICE_MISMATCH
    assert found.explanation == (
        "FUND-A AAPL on 2026-03-02: notional bought 2000.00 in Keel, 1999.00 at the broker "
        "(allowed 0)"
    )


def test_the_notional_allows_what_the_price_tolerance_allows_per_unit() -> None:
    ours = [keel_fill(1, qty="100", price="10.00")]
    theirs = [reported(ours[0], price="10.01")]
    assert match_positions(ours, theirs, Tolerances(price_tolerance=Decimal("0.01"))).breaks == ()
    assert kinds(match_positions(ours, theirs).breaks) == ["PRICE_MISMATCH"]


def test_a_duplicate_report_and_a_drop_copy_count_once() -> None:
    ours = keel_fill(1)
    theirs = [
        reported(ours),
        reported(ours, ref="stmt.csv:99"),
        reported(ours, source=BrokerSource.DROP_COPY),
    ]
    assert match_positions([ours], theirs).breaks == ()


def test_busted_fills_do_not_count_in_keels_books() -> None:
    busted = keel_fill(1, state=FillState.BUSTED)
    assert match_positions([busted], []).breaks == ()
    assert kinds(match_positions([busted], [reported(busted)]).breaks) == ["MISSING_INTERNALLY"]


def test_short_sales_count_as_sold() -> None:
    short = keel_fill(1, side=Side.SELL_SHORT)
    assert match_positions([short], [reported(short, side=Side.SELL)]).breaks == ()
