"""Canonical inputs to the state machine.

Intake turns client requests into the command inputs; ingestion turns venue messages into
the report inputs. Downstream code never sees raw client or FIX fields. Every input carries
``ingest_time`` (when Keel received it) and ``event_time`` (when its sender says it
happened); the sequencer supplies ``processed_time`` when it applies the input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from keel.domain.enums import (
    ExceptionKind,
    OrderStatus,
    RejectSource,
    ResolutionKind,
    TimeInForce,
    TimerKind,
    WorkflowAction,
)
from keel.domain.ids import ClientOrderId, ClOrdId, ExceptionId, ExecId, OrderId, VenueOrderId
from keel.domain.order import OrderSpec


class InputKind(StrEnum):
    NEW_ORDER_ACCEPTED = "NEW_ORDER_ACCEPTED"
    NEW_ORDER_DENIED = "NEW_ORDER_DENIED"
    SENT_TO_VENUE = "SENT_TO_VENUE"
    VENUE_ACK = "VENUE_ACK"
    VENUE_REJECT = "VENUE_REJECT"
    FILL = "FILL"
    CANCEL_REQUEST = "CANCEL_REQUEST"
    CANCEL_ACK = "CANCEL_ACK"
    CANCEL_REJECT = "CANCEL_REJECT"
    REPLACE_REQUEST = "REPLACE_REQUEST"
    REPLACE_ACK = "REPLACE_ACK"
    REPLACE_REJECT = "REPLACE_REJECT"
    EXPIRED = "EXPIRED"
    DONE_FOR_DAY = "DONE_FOR_DAY"
    TRADE_CORRECTION = "TRADE_CORRECTION"
    TRADE_BUST = "TRADE_BUST"
    STATUS_REPORT = "STATUS_REPORT"
    TIMER = "TIMER"
    EXCEPTION_WORK = "EXCEPTION_WORK"
    BREAK_FOUND = "BREAK_FOUND"
    DROP_COPY = "DROP_COPY"
    STATEMENT = "STATEMENT"


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseInput:
    KIND: ClassVar[InputKind]
    order_id: OrderId
    ingest_time: datetime
    event_time: datetime


# --- client commands (from intake) -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrderAccepted(BaseInput):
    """A new order that passed validation and risk; it will be sent to its venue."""

    KIND = InputKind.NEW_ORDER_ACCEPTED
    spec: OrderSpec
    cl_ord_id: ClOrdId
    client_order_id: ClientOrderId | None = None
    parent_id: OrderId | None = None
    actor: str = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrderDenied(BaseInput):
    """A new order refused by validation or risk: recorded as REJECTED with the reason."""

    KIND = InputKind.NEW_ORDER_DENIED
    spec: OrderSpec
    cl_ord_id: ClOrdId
    source: RejectSource
    reason_code: str
    text: str
    client_order_id: ClientOrderId | None = None
    parent_id: OrderId | None = None
    actor: str = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequest(BaseInput):
    KIND = InputKind.CANCEL_REQUEST
    cl_ord_id: ClOrdId
    """The new ClOrdID this cancel instruction will carry."""
    actor: str = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceRequest(BaseInput):
    """Change quantity, prices or time in force; ``None`` leaves a term as it is."""

    KIND = InputKind.REPLACE_REQUEST
    cl_ord_id: ClOrdId
    qty: Decimal | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce | None = None
    expire_time: datetime | None = None
    actor: str = "system"


# --- gateway and timers ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SentToVenue(BaseInput):
    """The venue gateway has written the NewOrderSingle to the wire."""

    KIND = InputKind.SENT_TO_VENUE
    cl_ord_id: ClOrdId


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired(BaseInput):
    """A timer the state machine scheduled has come due.

    ``cl_ord_id`` names the instruction whose answer was awaited and ``attempt`` counts the
    firings; a timer whose wait has been answered since it was armed is stale and ignored.
    """

    KIND = InputKind.TIMER
    timer: TimerKind
    cl_ord_id: ClOrdId
    attempt: int = 1


# --- venue reports (from ingestion) ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueReport(BaseInput):
    exec_id: ExecId
    cl_ord_id: ClOrdId | None = None
    venue_order_id: VenueOrderId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueAck(VenueReport):
    """ExecutionReport ExecType=0 (New)."""

    KIND = InputKind.VENUE_ACK


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueReject(VenueReport):
    """ExecutionReport ExecType=8 (Rejected) for a new order."""

    KIND = InputKind.VENUE_REJECT
    reason_code: str = "VENUE_REJECT"
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill(VenueReport):
    """ExecutionReport ExecType=F (Trade), partial or full."""

    KIND = InputKind.FILL
    last_qty: Decimal
    last_px: Decimal
    cum_qty: Decimal
    """The venue's CumQty after this fill."""
    leaves_qty: Decimal
    trade_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAck(VenueReport):
    """ExecutionReport ExecType=4 (Canceled): an answer to a cancel, or unsolicited."""

    KIND = InputKind.CANCEL_ACK
    orig_cl_ord_id: ClOrdId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceAck(VenueReport):
    """ExecutionReport ExecType=5 (Replaced)."""

    KIND = InputKind.REPLACE_ACK
    orig_cl_ord_id: ClOrdId | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueExpired(VenueReport):
    """ExecutionReport ExecType=C (Expired)."""

    KIND = InputKind.EXPIRED


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueDoneForDay(VenueReport):
    """ExecutionReport ExecType=3 (Done for day)."""

    KIND = InputKind.DONE_FOR_DAY


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeCorrection(VenueReport):
    """ExecutionReport ExecType=G: the fill ``ref_exec_id`` now has this quantity and price."""

    KIND = InputKind.TRADE_CORRECTION
    ref_exec_id: ExecId
    last_qty: Decimal
    last_px: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeBust(VenueReport):
    """ExecutionReport ExecType=H: the fill ``ref_exec_id`` did not happen."""

    KIND = InputKind.TRADE_BUST
    ref_exec_id: ExecId


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusReport(VenueReport):
    """ExecutionReport ExecType=I: the venue's view of the order, e.g. after a status request."""

    KIND = InputKind.STATUS_REPORT
    ord_status: OrderStatus
    cum_qty: Decimal
    leaves_qty: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelReject(BaseInput):
    """OrderCancelReject (35=9) answering a cancel request."""

    KIND = InputKind.CANCEL_REJECT
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId | None = None
    reason_code: str = "CANCEL_REJECTED"
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceReject(BaseInput):
    """OrderCancelReject (35=9, CxlRejResponseTo=2) answering a replace request."""

    KIND = InputKind.REPLACE_REJECT
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId | None = None
    reason_code: str = "REPLACE_REJECTED"
    text: str = ""


# --- operations ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ExceptionWork(BaseInput):
    """An operator's step on one of the order's exceptions: acknowledge (take it, or assign
    it to ``assignee``), resolve (with a kind and a comment), approve or decline a proposed
    resolution. The fill terms are those of a ``BOOKED_MISSING_FILL`` resolution
    (``exec_id``, ``qty``, ``price``, ``trade_date``) or the fill a ``BUSTED_FILL`` busts
    (``exec_id``)."""

    KIND = InputKind.EXCEPTION_WORK
    exception_id: ExceptionId
    action: WorkflowAction
    actor: str
    assignee: str | None = None
    resolution: ResolutionKind | None = None
    comment: str = ""
    exec_id: ExecId | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    trade_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakFound(BaseInput):
    """A reconciliation run found a difference involving this order: raise it as an
    exception on the order (once: a break already open under ``break_key`` is not raised
    again). ``evidence`` names both sides' values and where each came from."""

    KIND = InputKind.BREAK_FOUND
    kind: ExceptionKind
    break_key: str
    summary: str
    evidence: tuple[tuple[str, str], ...]
    run_id: str
    exec_id: ExecId | None = None
    actor: str = "system"


# --- evidence: recorded, compared by reconciliation, never applied to an order ------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DropCopyReport(BaseInput):
    """An ExecutionReport copied from a broker's drop-copy session (the raw message is kept
    with the input). ``order_id`` is the Keel order its ClOrdID leads to, or empty."""

    KIND = InputKind.DROP_COPY
    broker: str
    exec_id: ExecId
    exec_type: str
    """ExecType(150) as in FIX 4.4: ``F`` a trade, ``G`` a trade correction, ``H`` a bust (a
    FIX 4.2 report's ExecTransType 1 and 2 are read as ``H`` and ``G``)."""
    ref_exec_id: ExecId | None = None
    """For a correction or bust: the ExecID of the trade it amends."""
    cl_ord_id: ClOrdId | None = None
    venue_order_id: VenueOrderId | None = None
    account: str | None = None
    symbol: str = ""
    side: str = ""
    last_qty: Decimal | None = None
    last_px: Decimal | None = None
    transact_time: datetime | None = None
    trade_date: date | None = None
    ord_status: OrderStatus | None = None
    """The broker's status of the order after this report (from OrdStatus(39))."""
    order_qty: Decimal | None = None
    cum_qty: Decimal | None = None
    leaves_qty: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatementReceived(BaseInput):
    """A broker's statement file, kept whole (the file's bytes are the raw input) before a
    reconciliation run compares it; ``order_id`` is empty."""

    KIND = InputKind.STATEMENT
    broker: str
    file_name: str
    sha256: str
    rows: int
    mapping_version: int
    trade_date: date | None = None


EVIDENCE_KINDS = frozenset({InputKind.DROP_COPY, InputKind.STATEMENT})
"""Inputs the sequencer records without applying them to an order."""


Input = (
    NewOrderAccepted
    | NewOrderDenied
    | CancelRequest
    | ReplaceRequest
    | SentToVenue
    | TimerFired
    | VenueAck
    | VenueReject
    | Fill
    | CancelAck
    | ReplaceAck
    | VenueExpired
    | VenueDoneForDay
    | TradeCorrection
    | TradeBust
    | StatusReport
    | CancelReject
    | ReplaceReject
    | ExceptionWork
    | BreakFound
    | DropCopyReport
    | StatementReceived
)

ALL_INPUT_TYPES: tuple[type[BaseInput], ...] = (
    NewOrderAccepted,
    NewOrderDenied,
    SentToVenue,
    VenueAck,
    VenueReject,
    Fill,
    CancelRequest,
    CancelAck,
    CancelReject,
    ReplaceRequest,
    ReplaceAck,
    ReplaceReject,
    VenueExpired,
    VenueDoneForDay,
    TradeCorrection,
    TradeBust,
    StatusReport,
    TimerFired,
    ExceptionWork,
    BreakFound,
    DropCopyReport,
    StatementReceived,
)
