"""Exact numbers: parsing and checking prices and quantities as ``Decimal``.

Floats are refused outright: ``Decimal(0.1)`` is not a tenth, and a desk's books must add up.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation
from typing import NewType

from keel.domain.errors import InvalidNumberError

Price = NewType("Price", Decimal)
Quantity = NewType("Quantity", Decimal)

ZERO = Decimal(0)

AVERAGE_PRICE_CONTEXT = Context(prec=34)
"""Average prices divide an exact notional by an exact quantity, rounded to 34 digits."""


def average_price(notional: Decimal, qty: Decimal) -> Decimal:
    """Return the quantity-weighted average price, or zero when nothing is filled."""
    return AVERAGE_PRICE_CONTEXT.divide(notional, qty) if qty else ZERO


def parse_decimal(value: object, field: str) -> Decimal:
    """Return ``value`` as a finite ``Decimal``; accept str, int or Decimal, never float."""
    if isinstance(value, (bool, float)):
        raise InvalidNumberError(field, "must be given as a decimal string, not a float")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidNumberError(field, f"{value!r} is not a decimal number") from None
    else:
        raise InvalidNumberError(field, f"expected a decimal string, got {type(value).__name__}")
    if not number.is_finite():
        raise InvalidNumberError(field, f"{value!r} is not a finite number")
    return number


def parse_quantity(value: object, field: str = "qty") -> Quantity:
    """Return a strictly positive quantity."""
    number = parse_decimal(value, field)
    if number <= ZERO:
        raise InvalidNumberError(field, "must be greater than zero")
    return Quantity(number)


def parse_price(value: object, field: str = "price") -> Price:
    """Return a price; prices may be zero or negative (spreads, some futures)."""
    return Price(parse_decimal(value, field))


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """Return whether ``value`` is an exact whole multiple of ``step``."""
    return step > ZERO and value % step == ZERO


def decimal_places(value: Decimal) -> int:
    """Return the number of digits after the decimal point that ``value`` uses."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only
    return max(0, -exponent)
