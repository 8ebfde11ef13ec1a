"""Exact numbers and the instrument checks intake applies to an order's terms."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from keel.domain.amounts import average_price, decimal_places, parse_price, parse_quantity
from keel.domain.enums import OrdType, TimeInForce
from keel.domain.errors import InvalidNumberError, ValidationError
from keel.domain.ids import InstrumentId
from keel.domain.instruments import Instrument, check_order_terms
from support.builders import T0

ACME = Instrument(
    InstrumentId("ACME"),
    "ACME",
    tick_size=Decimal("0.01"),
    lot_size=Decimal(100),
    min_qty=Decimal(100),
    price_precision=2,
)


def codes(**overrides: object) -> list[str]:
    terms: dict[str, object] = {
        "ord_type": OrdType.LIMIT,
        "qty": Decimal(300),
        "limit_price": Decimal("10.05"),
        "stop_price": None,
        "tif": TimeInForce.DAY,
        "expire_time": None,
        "now": T0,
    }
    terms.update(overrides)
    return [v.code for v in check_order_terms(ACME, **terms)]  # type: ignore[arg-type]


def test_quantities_are_parsed_exactly_and_floats_are_refused() -> None:
    assert parse_quantity("100.5") == Decimal("100.5")
    assert parse_quantity(200) == Decimal(200)
    with pytest.raises(InvalidNumberError, match="not a float"):
        parse_quantity(0.1)
    with pytest.raises(InvalidNumberError, match="greater than zero"):
        parse_quantity("0")
    with pytest.raises(InvalidNumberError, match="not a decimal"):
        parse_quantity("ten")
    with pytest.raises(InvalidNumberError, match="finite"):
        parse_price("NaN", "limit_price")


def test_validation_errors_name_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_price("1e", "limit_price")
    assert caught.value.field == "limit_price"


def test_average_price_is_exact_notional_over_quantity() -> None:
    assert average_price(Decimal("2000.50"), Decimal(200)) == Decimal("10.0025")
    assert average_price(Decimal(0), Decimal(0)) == Decimal(0)
    assert decimal_places(Decimal("10.50")) == 1


def test_order_that_fits_the_instrument_has_no_violations() -> None:
    assert codes() == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"qty": Decimal(150)}, ["QTY_NOT_LOT_MULTIPLE"]),
        ({"qty": Decimal(0)}, ["QTY_NOT_POSITIVE"]),
        ({"limit_price": Decimal("10.005")}, ["PRICE_TOO_PRECISE", "PRICE_NOT_ON_TICK"]),
        ({"limit_price": None}, ["PRICE_REQUIRED"]),
        ({"ord_type": OrdType.MARKET}, ["PRICE_NOT_ALLOWED"]),
        ({"ord_type": OrdType.STOP_LIMIT}, ["PRICE_REQUIRED"]),
        ({"tif": TimeInForce.GTD}, ["EXPIRE_TIME_REQUIRED"]),
        ({"tif": TimeInForce.GTD, "expire_time": T0 - timedelta(1)}, ["EXPIRE_TIME_PAST"]),
        ({"expire_time": T0 + timedelta(1)}, ["EXPIRE_TIME_NOT_ALLOWED"]),
        (
            {"ord_type": OrdType.MARKET, "limit_price": None, "tif": TimeInForce.GTC},
            ["TIF_NOT_ALLOWED"],
        ),
    ],
)
def test_terms_that_do_not_fit_are_named(overrides: dict[str, object], expected: list[str]) -> None:
    assert codes(**overrides) == expected


def test_minimum_quantity_is_enforced() -> None:
    odd_lot = Instrument(
        InstrumentId("BIGCO"), "BIGCO", Decimal("0.05"), Decimal(1), Decimal(10), 2
    )
    found = check_order_terms(
        odd_lot,
        ord_type=OrdType.LIMIT,
        qty=Decimal(5),
        limit_price=Decimal("1.05"),
        stop_price=None,
        tif=TimeInForce.DAY,
        expire_time=None,
        now=T0,
    )
    assert [v.code for v in found] == ["QTY_BELOW_MINIMUM"]
    assert "below the minimum 10" in found[0].message


def test_an_instrument_with_a_non_positive_tick_is_refused() -> None:
    with pytest.raises(ValueError, match="tick size"):
        Instrument(InstrumentId("BAD"), "BAD", Decimal(0), Decimal(1), Decimal(1), 2)
