"""Pre-trade limits: each breach, the order of the checks, and which limits apply."""

from __future__ import annotations

from decimal import Decimal

import pytest

from keel.domain.enums import OrdType
from keel.domain.risk import (
    MAX_NOTIONAL,
    MAX_QTY,
    NO_PRICE,
    PRICE_COLLAR,
    Limits,
    check_limits,
    limits_for,
)

D = Decimal


def check(limits: Limits, qty: str, price: str | None, last: str | None,
          ord_type: OrdType = OrdType.LIMIT) -> str | None:  # fmt: skip
    breach = check_limits(
        limits, ord_type=ord_type, qty=D(qty), limit_price=D(price) if price else None,
        last_price=D(last) if last else None,
    )  # fmt: skip
    return breach.code if breach else None


def test_an_order_within_every_limit_passes() -> None:
    limits = Limits(max_order_qty=D(1000), max_notional=D(100_000), collar=D("0.05"))
    assert check(limits, "1000", "100.00", "100.00") is None


def test_a_quantity_above_the_limit_is_denied_first() -> None:
    limits = Limits(max_order_qty=D(1000), max_notional=D(1))
    assert check(limits, "1001", "100.00", None) == MAX_QTY


def test_a_notional_above_the_limit_is_denied_with_the_figures() -> None:
    breach = check_limits(Limits(max_notional=D(100_000)), ord_type=OrdType.LIMIT,
                          qty=D(1001), limit_price=D(100), last_price=None)  # fmt: skip
    assert breach is not None
    assert breach.code == MAX_NOTIONAL
    assert breach.text == "notional 100100 is above the limit of 100000"


def test_a_market_order_is_priced_at_the_last_price_and_refused_without_one() -> None:
    limits = Limits(max_notional=D(100_000))
    assert check(limits, "999", None, "100", OrdType.MARKET) is None
    assert check(limits, "1001", None, "100", OrdType.MARKET) == MAX_NOTIONAL
    assert check(limits, "1", None, None, OrdType.MARKET) == NO_PRICE


@pytest.mark.parametrize(("price", "code"), [("105.00", None), ("105.01", PRICE_COLLAR),
                                             ("94.99", PRICE_COLLAR), ("95.00", None)])  # fmt: skip
def test_the_price_collar_holds_a_limit_within_its_share_of_the_last_price(
    price: str, code: str | None
) -> None:
    assert check(Limits(collar=D("0.05")), "10", price, "100.00") == code


def test_without_a_last_price_the_collar_is_not_checked() -> None:
    assert check(Limits(collar=D("0.05")), "10", "500.00", None) is None


def test_the_most_specific_limits_apply() -> None:
    table = {
        ("FUND-A", "ACME"): Limits(max_order_qty=D(1)),
        ("FUND-A", "*"): Limits(max_order_qty=D(2)),
        ("*", "ACME"): Limits(max_order_qty=D(3)),
        ("*", "*"): Limits(max_order_qty=D(4)),
    }
    assert limits_for(table, "FUND-A", "ACME") == Limits(max_order_qty=D(1))
    assert limits_for(table, "FUND-A", "BOLT") == Limits(max_order_qty=D(2))
    assert limits_for(table, "FUND-B", "ACME") == Limits(max_order_qty=D(3))
    assert limits_for(table, "FUND-B", "BOLT") == Limits(max_order_qty=D(4))
    assert limits_for({}, "FUND-B", "BOLT") is None
