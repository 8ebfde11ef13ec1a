"""Instruments and the checks an order's terms must pass against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from keel.domain.amounts import ZERO, decimal_places, is_multiple
from keel.domain.enums import OrdType, TimeInForce
from keel.domain.ids import InstrumentId


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable instrument with the trading rules intake enforces."""

    instrument_id: InstrumentId
    symbol: str
    tick_size: Decimal
    lot_size: Decimal
    min_qty: Decimal
    price_precision: int
    currency: str = "USD"

    def __post_init__(self) -> None:
        if self.tick_size <= ZERO or self.lot_size <= ZERO:
            raise ValueError(f"{self.symbol}: tick size and lot size must be positive")
        if self.min_qty < ZERO or self.price_precision < 0:
            raise ValueError(f"{self.symbol}: min qty and price precision must not be negative")


@dataclass(frozen=True, slots=True)
class Violation:
    """One reason an order's terms do not fit; ``code`` is stable, ``message`` is for people."""

    field: str
    code: str
    message: str


def check_quantity(instrument: Instrument, qty: Decimal, field: str = "qty") -> list[Violation]:
    """Return the violations of ``qty`` against the instrument's lot size and minimum."""
    found: list[Violation] = []
    if qty <= ZERO:
        found.append(Violation(field, "QTY_NOT_POSITIVE", "quantity must be greater than zero"))
        return found
    if not is_multiple(qty, instrument.lot_size):
        found.append(
            Violation(
                field,
                "QTY_NOT_LOT_MULTIPLE",
                f"quantity {qty} is not a multiple of the lot size {instrument.lot_size}",
            )
        )
    if qty < instrument.min_qty:
        found.append(
            Violation(
                field,
                "QTY_BELOW_MINIMUM",
                f"quantity {qty} is below the minimum {instrument.min_qty}",
            )
        )
    return found


def check_price(instrument: Instrument, price: Decimal, field: str) -> list[Violation]:
    """Return the violations of ``price`` against the tick size and price precision."""
    found: list[Violation] = []
    if decimal_places(price) > instrument.price_precision:
        found.append(
            Violation(
                field,
                "PRICE_TOO_PRECISE",
                f"price {price} has more than {instrument.price_precision} decimal places",
            )
        )
    if not is_multiple(price, instrument.tick_size):
        found.append(
            Violation(
                field,
                "PRICE_NOT_ON_TICK",
                f"price {price} is not a multiple of the tick size {instrument.tick_size}",
            )
        )
    return found


def check_order_terms(
    instrument: Instrument,
    *,
    ord_type: OrdType,
    qty: Decimal,
    limit_price: Decimal | None,
    stop_price: Decimal | None,
    tif: TimeInForce,
    expire_time: datetime | None,
    now: datetime,
) -> list[Violation]:
    """Return every violation of the order's terms; an empty list means they fit."""
    found = check_quantity(instrument, qty)
    if ord_type.needs_limit_price:
        if limit_price is None:
            found.append(Violation("limit_price", "PRICE_REQUIRED", f"{ord_type} needs a limit"))
        else:
            found.extend(check_price(instrument, limit_price, "limit_price"))
    elif limit_price is not None:
        found.append(
            Violation("limit_price", "PRICE_NOT_ALLOWED", f"{ord_type} takes no limit price")
        )
    if ord_type.needs_stop_price:
        if stop_price is None:
            found.append(Violation("stop_price", "PRICE_REQUIRED", f"{ord_type} needs a stop"))
        else:
            found.extend(check_price(instrument, stop_price, "stop_price"))
    elif stop_price is not None:
        found.append(Violation("stop_price", "PRICE_NOT_ALLOWED", f"{ord_type} takes no stop"))
    if tif is TimeInForce.GTD:
        if expire_time is None:
            found.append(Violation("expire_time", "EXPIRE_TIME_REQUIRED", "GTD needs one"))
        elif expire_time <= now:
            found.append(
                Violation("expire_time", "EXPIRE_TIME_PAST", f"{expire_time} is not in the future")
            )
    elif expire_time is not None:
        found.append(
            Violation("expire_time", "EXPIRE_TIME_NOT_ALLOWED", f"{tif} takes no expire time")
        )
    if ord_type is OrdType.MARKET and tif in (TimeInForce.GTC, TimeInForce.GTD):
        found.append(Violation("tif", "TIF_NOT_ALLOWED", f"a market order cannot be {tif}"))
    return found
