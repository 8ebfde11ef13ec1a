"""Positions by average cost, exact in Decimal."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817 - money in tables reads better short

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.domain.enums import Side
from keel.domain.positions import FLAT, Position, apply_trade, position_of


def test_buys_average_their_cost() -> None:
    pos = position_of([(Side.BUY, D(100), D("10.00")), (Side.BUY, D(100), D("11.00"))])
    assert pos == Position(D(200), D("2100.00"), D(0))
    assert pos.avg_cost == D("10.5")


def test_a_sale_from_a_long_realizes_against_the_average_cost() -> None:
    pos = position_of([(Side.BUY, D(100), D("10.00")), (Side.SELL, D(40), D("12.00"))])
    assert pos.net_qty == D(60)
    assert pos.realized_pnl == D("80.00")
    assert pos.avg_cost == D("10.00")


def test_covering_a_short_realizes_the_gain() -> None:
    pos = position_of([(Side.SELL_SHORT, D(100), D("10.00")), (Side.BUY, D(40), D("8.00"))])
    assert pos.net_qty == D(-60)
    assert pos.realized_pnl == D("80.00")
    assert pos.avg_cost == D("10.00")


def test_crossing_zero_opens_the_rest_at_the_trade_price() -> None:
    pos = position_of([(Side.BUY, D(100), D("10.00")), (Side.SELL, D(150), D("9.00"))])
    assert pos.net_qty == D(-50)
    assert pos.realized_pnl == D("-100.00")
    assert pos.avg_cost == D("9.00")


def test_flat_after_closing_has_no_cost() -> None:
    pos = position_of([(Side.BUY, D(100), D("10.00")), (Side.SELL, D(100), D("10.50"))])
    assert pos == Position(D(0), D(0), D("50.00"))
    assert pos.avg_cost == D(0)


trades = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 500).map(D),
        st.integers(900, 1100).map(lambda c: D(c) / 100),
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(trades)
def test_net_qty_is_the_signed_sum_and_round_trips_realize_exactly(
    book: list[tuple[Side, D, D]],
) -> None:
    pos = FLAT
    for side, qty, price in book:
        pos = apply_trade(pos, side, qty, price)
    assert pos.net_qty == sum((q if s is Side.BUY else -q for s, q, _ in book), D(0))
    # closing the position at its own average cost realizes nothing more
    if pos.net_qty:
        side = Side.SELL if pos.net_qty > 0 else Side.BUY
        closed = apply_trade(pos, side, abs(pos.net_qty), pos.avg_cost)
        assert closed.net_qty == 0
        assert abs(closed.realized_pnl - pos.realized_pnl) < D("1e-20")
