"""Positions: what an account holds of an instrument, from its fills, by average cost.

Quantities and the cost of the open position are exact sums of ``Decimal`` products. Two
divisions remain, and both are rounded to 34 significant digits: the average cost shown,
and the share of the open cost a reducing trade takes off. Realized P&L is exact otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Context, Decimal
from typing import NamedTuple

from keel.domain.amounts import ZERO
from keel.domain.enums import Side

_DIVIDE = Context(prec=34)


class Position(NamedTuple):
    net_qty: Decimal
    """Long is positive, short negative."""
    open_cost: Decimal
    """What the open position cost: positive for a long, negative for a short."""
    realized_pnl: Decimal

    @property
    def avg_cost(self) -> Decimal:
        """Average price of the open position (zero when flat)."""
        return _DIVIDE.divide(self.open_cost, self.net_qty) if self.net_qty else ZERO


FLAT = Position(ZERO, ZERO, ZERO)


def apply_trade(position: Position, side: Side, qty: Decimal, price: Decimal) -> Position:
    """Return the position after a trade of ``qty`` at ``price`` on ``side``.

    A trade that adds to the position adds its cost; one that reduces it realizes the
    difference between its price and the average cost of what it closes; one that crosses
    zero closes the old position and opens the rest at its own price.
    """
    signed = qty if side is Side.BUY else -qty
    net, cost, realized = position
    if net == ZERO or (net > ZERO) == (signed > ZERO):
        return Position(net + signed, cost + signed * price, realized)
    closing = min(qty, abs(net))
    closed_cost = _DIVIDE.divide(cost * closing, abs(net))  # share of the open cost
    direction = 1 if net > ZERO else -1
    realized += direction * (closing * price) - closed_cost
    new_net = net + signed
    remaining = qty - closing
    if new_net == ZERO:
        return Position(ZERO, ZERO, realized)
    if remaining > ZERO:  # crossed zero: the rest opens at this trade's price
        return Position(new_net, new_net * price, realized)
    return Position(new_net, cost - closed_cost, realized)


def position_of(trades: Iterable[tuple[Side, Decimal, Decimal]]) -> Position:
    """Fold trades (side, qty, price) in booking order into a position."""
    position = FLAT
    for side, qty, price in trades:
        position = apply_trade(position, side, qty, price)
    return position
