"""Pre-trade limits: pure checks of a new order against an account's limits.

A breach is a business outcome, not an error: intake records the order as REJECTED with
the breach's code and text (``NewOrderDenied``), so it shows on the blotter and in the
order's timeline. The checks take the last known price as an argument (from fills or the
venue's market data); without one, the price collar cannot be checked and is skipped, and
a market order's notional cannot be priced and is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from keel.domain.enums import OrdType

MAX_QTY = "RISK_MAX_ORDER_QTY"
MAX_NOTIONAL = "RISK_MAX_NOTIONAL"
PRICE_COLLAR = "RISK_PRICE_COLLAR"
NO_PRICE = "RISK_NO_REFERENCE_PRICE"


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits of one account on one instrument (or on all of them)."""

    max_order_qty: Decimal | None = None
    max_notional: Decimal | None = None
    """Quantity times the limit price (or the last price, for a market order)."""
    collar: Decimal | None = None
    """The largest distance of a limit price from the last price, as a fraction (0.05)."""


@dataclass(frozen=True, slots=True)
class Breach:
    code: str
    text: str


def check_limits(
    limits: Limits,
    *,
    ord_type: OrdType,
    qty: Decimal,
    limit_price: Decimal | None,
    last_price: Decimal | None,
) -> Breach | None:
    """Return the first limit the order breaks, or None."""
    if limits.max_order_qty is not None and qty > limits.max_order_qty:
        return Breach(MAX_QTY, f"quantity {qty} is above the limit of {limits.max_order_qty}")
    price = limit_price if ord_type.needs_limit_price else last_price
    if limits.max_notional is not None:
        if price is None:
            return Breach(NO_PRICE, "no price to check the notional limit against")
        notional = qty * price
        if notional > limits.max_notional:
            return Breach(
                MAX_NOTIONAL, f"notional {notional} is above the limit of {limits.max_notional}"
            )
    if limits.collar is not None and limit_price is not None and last_price:
        distance = abs(limit_price - last_price) / last_price
        if distance > limits.collar:
            side_text = "above" if limit_price > last_price else "below"
            return Breach(
                PRICE_COLLAR,
                f"limit {limit_price} is {side_text} the last price {last_price} by more than "
                f"{limits.collar * 100:g}%",
            )
    return None


def limits_for(table: dict[tuple[str, str], Limits], account: str, symbol: str) -> Limits | None:
    """The most specific limits: the account on the symbol, the account on any symbol, any
    account on the symbol, then any account on any symbol (``"*"``)."""
    for key in ((account, symbol), (account, "*"), ("*", symbol), ("*", "*")):
        found = table.get(key)
        if found is not None:
            return found
    return None
