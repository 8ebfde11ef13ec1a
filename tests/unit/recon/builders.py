"""Builders for reconciliation tests: fills and orders as Keel books them and as brokers say.

``keel_fill(7)`` is Keel's fill of exec ``E7``; ``reported(fill)`` is the broker's statement
line for the same execution, with any term changed by keyword.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from keel.domain.enums import OrderStatus, Side
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
from keel.domain.recon import BrokerFill, BrokerSource, KeelFill, KeelOrder, VenueOrder

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
DAY = date(2026, 3, 2)
VENUE = VenueId("SIM")


def keel_fill(
    n: int = 1,
    *,
    qty: str = "100",
    price: str = "150.25",
    side: Side = Side.BUY,
    symbol: str = "AAPL",
    account: str = "FUND-A",
    venue: str = "SIM",
    exec_id: str | None = None,
    order: int | None = None,
    venue_order_id: str | None = None,
    at: datetime | None = None,
    trade_date: date = DAY,
    state: FillState = FillState.ACTIVE,
) -> KeelFill:
    """Keel's ``n``-th fill: exec ``E<n>`` of order ``ORD-<order or n>`` at venue order
    ``V-<order or n>``, booked ``n`` seconds after T0."""
    order_no = order if order is not None else n
    return KeelFill(
        fill_id=FillId(f"ORD-{order_no}-F{n}"),
        order_id=OrderId(f"ORD-{order_no}"),
        venue=VenueId(venue),
        exec_id=ExecId(exec_id or f"E{n}"),
        venue_order_id=VenueOrderId(venue_order_id or f"V-{order_no}"),
        cl_ord_id=ClOrdId(f"C-{order_no}"),
        account=AccountId(account),
        symbol=InstrumentId(symbol),
        side=side,
        qty=Decimal(qty),
        price=Decimal(price),
        event_time=at if at is not None else T0 + timedelta(seconds=n),
        trade_date=trade_date,
        state=state,
    )


def reported(
    fill: KeelFill,
    *,
    source: BrokerSource = BrokerSource.STATEMENT,
    ref: str | None = None,
    at: datetime | Literal["same"] | None = "same",
    **changes: Any,
) -> BrokerFill:
    """The broker's report of ``fill``: the same terms unless ``changes`` says otherwise.

    ``ref`` defaults to a statement line ``stmt.csv:<n+1>`` (or ``dc:<exec id>`` for a drop
    copy); ``at`` is the broker's transact time (``None`` when the broker gives none).
    """
    if ref is None:
        ref = (
            f"stmt.csv:{fill.exec_id[1:]}"
            if source is BrokerSource.STATEMENT
            else f"dc:{fill.exec_id}"
        )
    report = BrokerFill(
        source=source,
        ref=ref,
        exec_id=fill.exec_id,
        venue=fill.venue,
        venue_order_id=fill.venue_order_id,
        cl_ord_id=fill.cl_ord_id,
        account=fill.account,
        symbol=fill.symbol,
        side=fill.side,
        qty=fill.qty,
        price=fill.price,
        trade_date=fill.trade_date,
        settle_date=fill.trade_date + timedelta(days=2),
        transact_time=fill.event_time if isinstance(at, str) else at,
    )
    for name in ("qty", "price"):
        if name in changes:
            changes[name] = Decimal(changes[name])
    return report._replace(**changes)


def keel_order(
    n: int = 1,
    *,
    status: OrderStatus = OrderStatus.NEW,
    qty: str = "300",
    cum_qty: str = "0",
    updated_at: datetime = T0,
    venue_order_id: str | None = "default",
) -> KeelOrder:
    """Keel's order ``ORD-<n>``: BUY 300 AAPL for FUND-A at SIM, venue order ``V-<n>``."""
    return KeelOrder(
        order_id=OrderId(f"ORD-{n}"),
        venue=VENUE,
        cl_ord_id=ClOrdId(f"C-{n}"),
        venue_order_id=VenueOrderId(f"V-{n}")
        if venue_order_id == "default"
        else (VenueOrderId(venue_order_id) if venue_order_id else None),
        account=AccountId("FUND-A"),
        symbol=InstrumentId("AAPL"),
        side=Side.BUY,
        qty=Decimal(qty),
        cum_qty=Decimal(cum_qty),
        status=status,
        updated_at=updated_at,
    )


def venue_says(
    order: KeelOrder, *, status: OrderStatus | None = None, cum_qty: str | None = None
) -> VenueOrder:
    """The venue's status answer for ``order``: the same unless told otherwise."""
    return VenueOrder(
        source=BrokerSource.ORDER_STATUS,
        ref=f"mass-status:{order.order_id}",
        venue=order.venue,
        venue_order_id=order.venue_order_id,
        cl_ord_id=order.cl_ord_id,
        symbol=order.symbol,
        side=order.side,
        qty=order.qty,
        cum_qty=Decimal(cum_qty) if cum_qty is not None else order.cum_qty,
        status=status if status is not None else order.status,
        account=order.account,
    )


def kinds(breaks: Any) -> list[str]:
    """The kinds of ``breaks``, in order, as plain strings."""
    return [b.kind.value for b in breaks]
