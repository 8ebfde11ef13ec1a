"""The checks a request must pass before it touches the book; each returns a reject or None.

A failed check is a business answer (a REJECTED or CANCEL_REJECTED report), never an error.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from keel.adapters.venues.sim.orders import SimOrder
from keel.adapters.venues.sim.reports import RejectCode
from keel.domain.amounts import ZERO
from keel.domain.enums import OrdType, TimeInForce
from keel.domain.instruments import (
    Instrument,
    Violation,
    check_order_terms,
    check_price,
    check_quantity,
)

Problem = tuple[str, str]
"""A reject's ``(reason_code, text)``."""

SUPPORTED_ORD_TYPES = frozenset({OrdType.LIMIT, OrdType.MARKET})
SUPPORTED_TIFS = frozenset({TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK})


def _first(violations: list[Violation]) -> Problem | None:
    if not violations:
        return None
    return violations[0].code, "; ".join(v.message for v in violations)


def _finite(qty: Decimal, price: Decimal | None) -> bool:
    return qty.is_finite() and (price is None or price.is_finite())


def check_new_order(
    instrument: Instrument | None, order: SimOrder, now: datetime
) -> Problem | None:
    """Return why the venue refuses a new order's terms, or None when they fit."""
    if order.ord_type not in SUPPORTED_ORD_TYPES:
        return RejectCode.UNSUPPORTED_ORD_TYPE, f"{order.ord_type} orders are not supported"
    if order.tif not in SUPPORTED_TIFS:
        return RejectCode.UNSUPPORTED_TIF, f"{order.tif} orders are not supported"
    if instrument is None:
        return RejectCode.UNKNOWN_SYMBOL, f"{order.symbol} is not listed"
    if not _finite(order.order_qty, order.price):
        return RejectCode.NOT_A_NUMBER, "quantity and price must be finite numbers"
    problem = _first(
        check_order_terms(
            instrument,
            ord_type=order.ord_type,
            qty=order.order_qty,
            limit_price=order.price,
            stop_price=None,
            tif=order.tif,
            expire_time=None,
            now=now,
        )
    )
    if problem is None and order.price is not None and order.price <= ZERO:
        return RejectCode.PRICE_NOT_POSITIVE, f"price {order.price} must be positive"
    return problem


def check_request(order: SimOrder | None, cl_ord_id_used: bool) -> Problem | None:
    """Return why a cancel or replace cannot proceed: reused ClOrdID, unknown or closed order."""
    if cl_ord_id_used:
        return RejectCode.DUPLICATE_CL_ORD_ID, "ClOrdID was already used"
    if order is None:
        return RejectCode.UNKNOWN_ORDER, "unknown order"
    if order.status.is_terminal:
        return RejectCode.TOO_LATE, f"too late: the order is {order.status}"
    return None


def check_replace(
    instrument: Instrument, order: SimOrder, qty: Decimal, price: Decimal
) -> Problem | None:
    """Return why the venue refuses the new terms of a replace, or None when they fit.

    ``qty`` is the new total quantity, what has executed included (FIX OrderQty), so it
    must stay above the executed quantity.
    """
    if not _finite(qty, price):
        return RejectCode.NOT_A_NUMBER, "quantity and price must be finite numbers"
    problem = _first(check_quantity(instrument, qty) + check_price(instrument, price, "price"))
    if problem is not None:
        return problem
    if price <= ZERO:
        return RejectCode.PRICE_NOT_POSITIVE, f"price {price} must be positive"
    if qty <= order.cum_qty:
        return (
            RejectCode.QTY_NOT_ABOVE_FILLED,
            f"new quantity {qty} is not above the {order.cum_qty} already executed",
        )
    return None
