"""What reconciliation compares: executions and orders as each side sees them, and tolerances.

The per-execution and per-order values are ``NamedTuple``s because a run builds a million of
them from a statement file: a frozen dataclass sets each field through
``object.__setattr__`` and costs several times as much to build (see ``keel.domain.order``).
They are immutable all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import NamedTuple

from keel.domain.amounts import ZERO
from keel.domain.enums import OrderStatus, Side
from keel.domain.errors import ValidationError
from keel.domain.ids import (
    AccountId,
    ClOrdId,
    ExecId,
    FillId,
    InstrumentId,
    OrderId,
    VenueId,
    VenueOrderId,
)
from keel.domain.order import FillState

MAX_PRICE_DECIMALS = 18


class BrokerSource(StrEnum):
    """Where a broker's view of an execution or order came from."""

    STATEMENT = "STATEMENT"
    """A row of a broker statement file."""
    DROP_COPY = "DROP_COPY"
    """An ExecutionReport copied to Keel on a drop-copy session."""
    ORDER_STATUS = "ORDER_STATUS"
    """An order status or mass status answer from a venue."""


class MatchMethod(StrEnum):
    """How a broker execution was paired with a Keel fill."""

    EXEC_ID = "EXEC_ID"
    """Same venue and ExecID (the broker's trade id)."""
    FALLBACK = "FALLBACK"
    """Same venue, broker order id, side and quantity, price within tolerance, and time
    within the window: the ids differ, so the pair is reported as a fallback match."""


class BrokerFill(NamedTuple):
    """One execution as the broker reports it, with where it was read for evidence."""

    source: BrokerSource
    ref: str
    """The statement line (``file.csv:17``) or raw message the report was read from."""
    exec_id: ExecId
    """The broker's trade id or the FIX ExecID (17)."""
    venue: VenueId
    venue_order_id: VenueOrderId | None
    """The broker's order id (FIX OrderID 37)."""
    cl_ord_id: ClOrdId | None
    account: AccountId
    symbol: InstrumentId
    side: Side
    qty: Decimal
    price: Decimal
    trade_date: date
    settle_date: date | None = None
    transact_time: datetime | None = None
    """When the broker says it traded, with its zone (UTC); ``None`` when it does not say."""


class KeelFill(NamedTuple):
    """One fill as Keel booked it.

    ``trade_date`` is required: when the venue sent none, the caller derives it from the
    event time in the venue's calendar, so that both sides are grouped by the same day.
    """

    fill_id: FillId
    order_id: OrderId
    venue: VenueId
    exec_id: ExecId
    venue_order_id: VenueOrderId | None
    cl_ord_id: ClOrdId | None
    account: AccountId
    symbol: InstrumentId
    side: Side
    qty: Decimal
    price: Decimal
    event_time: datetime
    trade_date: date
    state: FillState = FillState.ACTIVE


class KeelOrder(NamedTuple):
    """One order as Keel knows it, for the order-level match."""

    order_id: OrderId
    venue: VenueId
    cl_ord_id: ClOrdId
    """The ClOrdID of the version in force."""
    venue_order_id: VenueOrderId | None
    account: AccountId
    symbol: InstrumentId
    side: Side
    qty: Decimal
    cum_qty: Decimal
    status: OrderStatus
    updated_at: datetime
    """When Keel last changed the order; an order changed after the venue's snapshot is left
    for the next run, as the two sides cannot be compared at one moment."""
    cl_ord_ids: tuple[ClOrdId, ...] = ()
    """Earlier ClOrdIDs of the lineage, which a venue may still quote."""


class VenueOrder(NamedTuple):
    """One order as the venue reports it in an order status or mass status answer."""

    source: BrokerSource
    ref: str
    venue: VenueId
    venue_order_id: VenueOrderId | None
    cl_ord_id: ClOrdId | None
    symbol: InstrumentId
    side: Side
    qty: Decimal
    cum_qty: Decimal
    status: OrderStatus
    account: AccountId | None = None


@dataclass(frozen=True, slots=True)
class Tolerances:
    """How close the two sides must be to agree. Quantities always agree exactly.

    ``price_decimals`` rounds both prices (half-even) before comparing, for a broker that
    reports fewer decimals than the venue; ``price_tolerance`` is the largest absolute
    difference then allowed. ``time_window`` bounds the gap between the broker's transact
    time and Keel's event time for a fallback match.
    """

    price_decimals: int | None = None
    price_tolerance: Decimal = ZERO
    time_window: timedelta = timedelta(seconds=5)

    def __post_init__(self) -> None:
        decimals = self.price_decimals
        if decimals is not None and not 0 <= decimals <= MAX_PRICE_DECIMALS:
            raise ValidationError(
                "price_decimals", f"must be a whole number from 0 to {MAX_PRICE_DECIMALS}"
            )
        if not isinstance(self.price_tolerance, Decimal) or not self.price_tolerance.is_finite():
            raise ValidationError("price_tolerance", "must be a finite Decimal")
        if self.price_tolerance < ZERO:
            raise ValidationError("price_tolerance", "must not be negative")
        if self.time_window < timedelta(0):
            raise ValidationError("time_window", "must not be negative")

    @property
    def price_unit(self) -> Decimal:
        """The smallest price step compared: ``10 ** -price_decimals``, zero when exact."""
        if self.price_decimals is None:
            return ZERO
        return Decimal(1).scaleb(-self.price_decimals)

    def prices_agree(self, keel: Decimal, broker: Decimal) -> bool:
        """Return whether two prices agree within these tolerances."""
        if keel == broker:
            return True
        return abs(self._rounded(keel) - self._rounded(broker)) <= self.price_tolerance

    def price_gap(self, keel: Decimal, broker: Decimal) -> Decimal:
        """Return the absolute difference the tolerance is measured against."""
        return abs(self._rounded(keel) - self._rounded(broker))

    def _rounded(self, price: Decimal) -> Decimal:
        if self.price_decimals is None:
            return price
        try:
            return price.quantize(self.price_unit, ROUND_HALF_EVEN)
        except InvalidOperation:  # more digits than the context holds: compare as given
            return price


DEFAULT_TOLERANCES = Tolerances()
"""Prices equal to the last digit; a fallback match within 5 seconds."""


def same_direction(a: Side, b: Side) -> bool:
    """Return whether two sides move a position the same way (SELL and SELL_SHORT do).

    Brokers' statements often do not mark short sales, so a short sale booked by Keel that
    the broker reports as a sale is the same execution.
    """
    return a is b or (a is not Side.BUY and b is not Side.BUY)
