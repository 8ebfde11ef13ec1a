"""The venue's own record of one order while it works.

This record is mutable on purpose: the book moves quantities on it at every match, and
copying a frozen value per print would cost more than the whole match. It never leaves the
package; what goes out is a frozen ``VenueReport`` snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from keel.adapters.venues.sim.reports import (
    MassStatusPart,
    ReportKind,
    StatementRow,
    VenueOrderState,
    VenueReport,
    trade_date_of,
)
from keel.domain.amounts import ZERO, average_price
from keel.domain.enums import OrderStatus, OrdType, RequestKind, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId, ExecId, VenueOrderId


@dataclass(eq=False, slots=True)
class SimOrder:
    """One order at the venue; equality is identity, so a book can find it in a queue fast."""

    venue_order_id: VenueOrderId
    cl_ord_id: ClOrdId
    account: AccountId
    symbol: str
    side: Side
    ord_type: OrdType
    tif: TimeInForce
    order_qty: Decimal
    """The total quantity, including what has executed (FIX OrderQty)."""
    price: Decimal | None
    accepted_at: datetime
    is_house: bool = False
    """The synthetic market maker's order: trades like any other, reports to nobody."""
    session: str = ""
    """The session the order came in on; empty when the venue is called directly."""
    account_given: bool = True
    """Whether the client named ``account``; if not, the statement shows no account."""
    is_buy: bool = field(init=False)
    status: OrderStatus = OrderStatus.NEW
    cum_qty: Decimal = ZERO
    leaves_qty: Decimal = field(init=False)
    notional: Decimal = ZERO

    def __post_init__(self) -> None:
        self.is_buy = self.side is Side.BUY
        self.leaves_qty = self.order_qty

    @property
    def avg_px(self) -> Decimal:
        return average_price(self.notional, self.cum_qty)

    def fill(self, qty: Decimal, price: Decimal) -> None:
        """Execute ``qty`` at ``price`` against what is left."""
        self.cum_qty += qty
        self.leaves_qty -= qty
        self.notional += qty * price
        self.status = OrderStatus.PARTIALLY_FILLED if self.leaves_qty else OrderStatus.FILLED

    def book_late_fill(self, qty: Decimal, price: Decimal) -> None:
        """Book an execution that happened before a cancel the venue has already acked.

        The order stays closed: its cum qty grows, its leaves stay zero.
        """
        self.cum_qty += qty
        self.notional += qty * price

    def close(self, status: OrderStatus) -> None:
        """End the order with ``status``; nothing is left to trade."""
        self.status = status
        self.leaves_qty = ZERO

    def report(
        self,
        kind: ReportKind,
        exec_id: ExecId | None,
        at: datetime,
        *,
        last_qty: Decimal = ZERO,
        last_px: Decimal = ZERO,
        orig: ClOrdId | None = None,
        code: str | None = None,
        text: str = "",
        response_to: RequestKind | None = None,
        cl_ord_id: ClOrdId | None = None,
        mass_status: MassStatusPart | None = None,
    ) -> VenueReport:
        """Return a frozen snapshot of the order as a report of ``kind``.

        ``cl_ord_id`` overrides the order's own, for answers to a request that was refused.
        """
        return VenueReport(
            kind=kind,
            cl_ord_id=cl_ord_id or self.cl_ord_id,
            orig_cl_ord_id=orig,
            venue_order_id=self.venue_order_id,
            exec_id=exec_id,
            order_status=self.status,
            account=self.account,
            side=self.side,
            symbol=self.symbol,
            order_qty=self.order_qty,
            price=self.price,
            last_qty=last_qty,
            last_px=last_px,
            cum_qty=self.cum_qty,
            leaves_qty=self.leaves_qty,
            avg_px=self.avg_px,
            transact_time=at,
            text=text,
            reason_code=code,
            response_to=response_to,
            mass_status=mass_status,
        )

    def execution(
        self, exec_id: ExecId, qty: Decimal, price: Decimal, currency: str, at: datetime
    ) -> StatementRow:
        """Return the statement row of one execution of this order."""
        return StatementRow(
            trade_date=trade_date_of(at),
            exec_id=exec_id,
            venue_order_id=self.venue_order_id,
            cl_ord_id=self.cl_ord_id,
            account=self.account if self.account_given else AccountId(""),
            symbol=self.symbol,
            side=self.side,
            qty=qty,
            price=price,
            currency=currency,
            transact_time=at,
            session=self.session,
        )

    def state(self) -> VenueOrderState:
        """Return a frozen snapshot of where the order stands now."""
        return VenueOrderState(
            venue_order_id=self.venue_order_id,
            cl_ord_id=self.cl_ord_id,
            session=self.session,
            account=self.account,
            symbol=self.symbol,
            side=self.side,
            order_qty=self.order_qty,
            price=self.price,
            status=self.status,
            cum_qty=self.cum_qty,
            leaves_qty=self.leaves_qty,
            avg_px=self.avg_px,
        )
