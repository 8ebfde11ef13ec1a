"""What the simulated venue says: reports in the venue's own terms, its tape and statement.

The reports are close to a FIX ExecutionReport and OrderCancelReject but are not FIX: the FIX
layer maps them to messages. Every value is a frozen snapshot taken when it was produced.

    KeelError (keel.domain.errors)
    └── SimVenueError    the venue was called wrongly (a programming error, never a reject)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from keel.domain.amounts import ZERO
from keel.domain.enums import OrderStatus, RequestKind, Side
from keel.domain.errors import KeelError
from keel.domain.ids import AccountId, ClOrdId, ExecId, VenueOrderId


class SimVenueError(KeelError):
    """The simulated venue was used wrongly: bad configuration, naive or backward time, a float.

    Business outcomes (a rejected order, a cancel that comes too late) are reports, never this.
    """


class ReportKind(StrEnum):
    """What a report tells: roughly FIX ExecType, plus the cancel reject."""

    NEW = "NEW"
    PARTIAL_FILL = "PARTIAL_FILL"
    FILL = "FILL"
    CANCELED = "CANCELED"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    CANCEL_REJECTED = "CANCEL_REJECTED"
    """An answer to a cancel or a replace that the venue refused (FIX OrderCancelReject)."""
    STATUS = "STATUS"
    EXPIRED = "EXPIRED"

    @property
    def is_fill(self) -> bool:
        return self in FILL_KINDS


FILL_KINDS = frozenset({ReportKind.PARTIAL_FILL, ReportKind.FILL})


class RejectCode(StrEnum):
    """Stable reason codes of the venue's rejects; order-term violations use the domain's."""

    DUPLICATE_CL_ORD_ID = "DUPLICATE_CL_ORD_ID"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    UNSUPPORTED_ORD_TYPE = "UNSUPPORTED_ORD_TYPE"
    UNSUPPORTED_TIF = "UNSUPPORTED_TIF"
    NOT_A_NUMBER = "NOT_A_NUMBER"
    PRICE_NOT_POSITIVE = "PRICE_NOT_POSITIVE"
    TOO_LATE = "TOO_LATE"
    """The order is already closed (filled, canceled, expired or rejected)."""
    QTY_NOT_ABOVE_FILLED = "QTY_NOT_ABOVE_FILLED"
    """A replace asked for a total quantity at or below what has already executed."""
    FAULT_INJECTED = "FAULT_INJECTED"
    """The fault plan said no."""


UNKNOWN_ORDER_ID = VenueOrderId("NONE")
"""The venue order id on answers about an order the venue does not know (as FIX venues say)."""

DISPLAY_PRICE = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class MassStatusPart:
    """Where one ``STATUS`` report stands in the answer to an order mass status request
    (FIX MassStatusReqID 584, TotNumReports 911, LastRptRequested 912)."""

    request_id: str
    """The request's own id, echoed on every report of the answer."""
    session: str
    """The session that asked: the answer goes there (and lists only its orders)."""
    total: int
    """How many reports the answer has; 0 when no order is open (one report says so)."""
    last: bool


@dataclass(frozen=True, slots=True)
class VenueReport:
    """One report from the venue about one order.

    Quantities and prices are exact; ``avg_px`` is the exact notional over ``cum_qty`` (34
    significant digits), so use ``display_avg_px`` to show it. ``exec_id`` is ``None`` only on
    ``CANCEL_REJECTED`` (FIX OrderCancelReject has no ExecID). ``account``, ``side`` and
    ``symbol`` are ``None`` only when the venue does not know the order.
    """

    kind: ReportKind
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId | None
    venue_order_id: VenueOrderId
    exec_id: ExecId | None
    order_status: OrderStatus
    account: AccountId | None
    side: Side | None
    symbol: str | None
    order_qty: Decimal
    price: Decimal | None
    last_qty: Decimal
    last_px: Decimal
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    transact_time: datetime
    text: str = ""
    reason_code: str | None = None
    response_to: RequestKind | None = None
    """On ``CANCEL_REJECTED``: whether a cancel or a replace was refused (FIX 434)."""
    mass_status: MassStatusPart | None = None
    """On a ``STATUS`` report that answers an order mass status request: its place there."""

    @property
    def is_fill(self) -> bool:
        return self.kind in FILL_KINDS

    def display_avg_px(self, quantum: Decimal = DISPLAY_PRICE) -> Decimal:
        """Return the average price rounded for people; never book this one."""
        return self.avg_px.quantize(quantum, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Trade:
    """One print on the venue's tape: both sides, including the synthetic market maker's."""

    trade_id: str
    symbol: str
    qty: Decimal
    price: Decimal
    buy_order_id: VenueOrderId
    sell_order_id: VenueOrderId
    aggressor: Side
    time: datetime


@dataclass(frozen=True, slots=True)
class StatementRow:
    """One execution the venue really did for a client: an entry of its executions ledger,
    and a row of its end-of-day statement.

    The ledger is the venue's truth, whatever the wire does later: a report the wire drops
    is still here, and a report the wire sends twice is here once. ``cl_ord_id`` is the
    ClOrdID in force on the execution's report (a late fill after a cancel carries the
    cancel's); ``account`` is the Account (1) the client named on the order, empty when it
    named none (even if the reports show the session's default account).
    """

    trade_date: date
    exec_id: ExecId
    venue_order_id: VenueOrderId
    cl_ord_id: ClOrdId
    account: AccountId
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    currency: str
    transact_time: datetime
    session: str = ""
    """The session the order came in on (``FIX.4.4:SIM->KEEL``); empty when the venue was
    called directly."""

    @property
    def notional(self) -> Decimal:
        return self.qty * self.price


@dataclass(frozen=True, slots=True)
class VenueOrderState:
    """The venue's view of one client order now, for an order-level comparison."""

    venue_order_id: VenueOrderId
    cl_ord_id: ClOrdId
    """The ClOrdID in force (the latest accepted replace or cancel's)."""
    session: str
    account: AccountId
    """The account the venue books the order to (the session's default if none was named)."""
    symbol: str
    side: Side
    order_qty: Decimal
    price: Decimal | None
    status: OrderStatus
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    """Exact (34 significant digits), as on ``VenueReport``."""


def unknown_order_answer(
    kind: ReportKind,
    cl_ord_id: ClOrdId,
    orig_cl_ord_id: ClOrdId | None,
    exec_id: ExecId | None,
    at: datetime,
    code: str | None,
    text: str,
    response_to: RequestKind | None = None,
    *,
    account: AccountId | None = None,
    side: Side | None = None,
    symbol: str | None = None,
    order_qty: Decimal = ZERO,
    price: Decimal | None = None,
    mass_status: MassStatusPart | None = None,
) -> VenueReport:
    """Return an answer about an order the venue has no record of (status REJECTED)."""
    return VenueReport(
        kind=kind,
        cl_ord_id=cl_ord_id,
        orig_cl_ord_id=orig_cl_ord_id,
        venue_order_id=UNKNOWN_ORDER_ID,
        exec_id=exec_id,
        order_status=OrderStatus.REJECTED,
        account=account,
        side=side,
        symbol=symbol,
        order_qty=order_qty,
        price=price,
        last_qty=ZERO,
        last_px=ZERO,
        cum_qty=ZERO,
        leaves_qty=ZERO,
        avg_px=ZERO,
        transact_time=at,
        text=text,
        reason_code=code,
        response_to=response_to,
        mass_status=mass_status,
    )


def trade_date_of(moment: datetime) -> date:
    """Return the UTC calendar date of ``moment``: the venue's trade date."""
    return moment.astimezone(UTC).date()
