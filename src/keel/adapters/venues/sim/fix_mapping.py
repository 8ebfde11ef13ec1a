"""Between FIX and the simulated venue: read a client's requests, write the venue's reports.

Pure functions over values, the FIX version an argument. ``read_request`` turns a
NewOrderSingle, OrderCancelRequest, OrderCancelReplaceRequest or OrderStatusRequest into a
request ``SimVenue`` takes, or into a ``Refusal`` when it cannot be read (a field missing,
malformed or with a code this venue does not trade). The business checks (symbol, tick,
lot, price) stay the venue's: the gateway only decides whether it understood the message.

``report_message`` writes a ``VenueReport`` as an ExecutionReport (35=8) or an
OrderCancelReject (35=9): FIX 4.4 with ExecType F for trades and I for status; FIX 4.2 with
ExecTransType (20) 0, or 3 for status, and ExecType 1/2 for partial and full fills. A
status report that answers an OrderMassStatusRequest adds 584, 911 and 912 in FIX 4.4
(``mass_status`` says how). ``refusal_report`` expresses a refusal as a report too, so
one writer says everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from keel.adapters.fix import codes
from keel.adapters.fix import tags as t
from keel.adapters.fix.codec import FieldValue
from keel.adapters.fix.config import FIX42
from keel.adapters.fix.errors import FixFieldError
from keel.adapters.fix.message import FixMessage
from keel.adapters.venues.sim.checks import SUPPORTED_ORD_TYPES, SUPPORTED_TIFS
from keel.adapters.venues.sim.mass_status import (
    NO_ORDER_SYMBOL,
    ORDER_MASS_STATUS_REQUEST,
    UNDISCLOSED_SIDE,
    mass_status_fields,
)
from keel.adapters.venues.sim.reports import (
    RejectCode,
    ReportKind,
    SimVenueError,
    VenueReport,
    unknown_order_answer,
)
from keel.domain.amounts import ZERO
from keel.domain.enums import OrderStatus, OrdType, RequestKind, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId, ExecId

Fields = list[tuple[int, FieldValue]]
_V = TypeVar("_V")

HANDLED_MSG_TYPES = frozenset({"D", "F", "G", "H", ORDER_MASS_STATUS_REQUEST})
"""The application messages the venue answers; the session refuses any other (35=j).
OrderMassStatusRequest (AF) is read by ``mass_status``, not here."""

SIDES: Mapping[str, Side] = codes.SIDES
ORD_TYPES: Mapping[str, OrdType] = {
    code: kind for code, kind in codes.ORD_TYPES.items() if kind in SUPPORTED_ORD_TYPES
}
"""The order types the venue trades; any other OrdType code is refused as unknown."""
TIFS: Mapping[str, TimeInForce] = {
    code: tif for code, tif in codes.TIFS.items() if tif in SUPPORTED_TIFS
}
SIDE_CODES: Mapping[Side, str] = codes.SIDE_CODES
ORD_STATUS_CODES: Mapping[OrderStatus, str] = codes.ORD_STATUS_CODES
EXEC_TYPES_44: Mapping[ReportKind, str] = {
    ReportKind.NEW: "0",
    ReportKind.PARTIAL_FILL: "F",
    ReportKind.FILL: "F",
    ReportKind.CANCELED: "4",
    ReportKind.REPLACED: "5",
    ReportKind.REJECTED: "8",
    ReportKind.EXPIRED: "C",
    ReportKind.STATUS: "I",
}
EXEC_TYPES_42: Mapping[ReportKind, str] = {
    **EXEC_TYPES_44,
    ReportKind.PARTIAL_FILL: "1",
    ReportKind.FILL: "2",
    # STATUS: ExecTransType 3 and the order's status as ExecType (4.2 has no ExecType I)
}


class GatewayRejectCode(StrEnum):
    """Why the gateway answered a request itself instead of passing it to the venue."""

    MISSING_FIELD = "MISSING_FIELD"
    BAD_FIELD = "BAD_FIELD"
    """A value that is not in the FIX format its tag needs."""
    UNSUPPORTED_VALUE = "UNSUPPORTED_VALUE"
    """A side, order type or time in force this venue does not trade."""
    INTERNAL_ERROR = "INTERNAL_ERROR"


_ORD_REJ_REASONS_44: Mapping[str, str] = {
    RejectCode.FAULT_INJECTED: "0",  # broker / exchange option
    RejectCode.UNKNOWN_SYMBOL: "1",
    RejectCode.UNKNOWN_ORDER: "5",
    RejectCode.DUPLICATE_CL_ORD_ID: "6",
    RejectCode.UNSUPPORTED_ORD_TYPE: "11",  # unsupported order characteristic
    RejectCode.UNSUPPORTED_TIF: "11",
    GatewayRejectCode.UNSUPPORTED_VALUE: "11",
    "QTY_NOT_POSITIVE": "13",  # incorrect quantity
    "QTY_BELOW_MINIMUM": "13",
    "QTY_NOT_LOT_MULTIPLE": "13",
}
_ORD_REJ_REASONS_42: Mapping[str, str] = {
    RejectCode.UNKNOWN_SYMBOL: "1",
    RejectCode.UNKNOWN_ORDER: "5",
    RejectCode.DUPLICATE_CL_ORD_ID: "6",
}
_CXL_REJ_REASONS_44: Mapping[str, str] = {
    RejectCode.TOO_LATE: "0",
    RejectCode.UNKNOWN_ORDER: "1",
    RejectCode.DUPLICATE_CL_ORD_ID: "6",
}
_CXL_REJ_REASONS_42: Mapping[str, str] = {RejectCode.TOO_LATE: "0", RejectCode.UNKNOWN_ORDER: "1"}
_OTHER_44, _BROKER_OPTION_42, _OTHER_CXL_42 = "99", "0", "2"


# -- requests ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Echo:
    """What a request said that its answer repeats when the venue cannot say it itself."""

    symbol: str | None = None
    side_code: str | None = None


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A NewOrderSingle (35=D) the venue can take."""

    cl_ord_id: ClOrdId
    account: AccountId
    symbol: str
    side: Side
    qty: Decimal
    ord_type: OrdType
    price: Decimal | None
    tif: TimeInForce
    account_given: bool = True
    """False when the order named no Account (1) and ``account`` is the session's default."""


@dataclass(frozen=True, slots=True)
class Cancel:
    """An OrderCancelRequest (35=F)."""

    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId


@dataclass(frozen=True, slots=True)
class Replace:
    """An OrderCancelReplaceRequest (35=G): ``qty`` is the new total, ``price`` None keeps it."""

    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId
    qty: Decimal
    price: Decimal | None


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """An OrderStatusRequest (35=H); ``echo`` is repeated if the venue does not know it."""

    cl_ord_id: ClOrdId
    echo: Echo


Request = NewOrder | Cancel | Replace | StatusRequest


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request the gateway answers itself; it carries what the answer repeats."""

    request_type: str
    """The refused message's MsgType: D, F, G or H."""
    code: str
    text: str
    cl_ord_id: str | None
    orig_cl_ord_id: str | None = None
    account: str | None = None
    symbol: str | None = None
    side_code: str | None = None
    qty: Decimal | None = None
    price: Decimal | None = None

    @property
    def echo(self) -> Echo:
        return Echo(self.symbol, self.side_code)


class _Unreadable(Exception):  # noqa: N818 - private control flow, never leaves this module
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def read_request(message: FixMessage, default_account: AccountId) -> Request | Refusal:
    """Read a client request; a message that cannot be read becomes a ``Refusal``.

    ``default_account`` is used when a new order names no Account (1).
    """
    msg_type = message.get_str(t.MSG_TYPE) or ""
    try:
        match msg_type:
            case "D":
                return _new_order(message, default_account)
            case "F":
                return Cancel(_id(message, t.CL_ORD_ID), _id(message, t.ORIG_CL_ORD_ID))
            case "G":
                return Replace(
                    _id(message, t.CL_ORD_ID),
                    _id(message, t.ORIG_CL_ORD_ID),
                    _quantity(message),
                    _decimal(message, t.PRICE, "Price", required=False),
                )
            case "H":
                echo = Echo(message.get_str(t.SYMBOL), message.get_str(t.SIDE))
                return StatusRequest(_id(message, t.CL_ORD_ID), echo)
            case _:
                raise _Unreadable(
                    GatewayRejectCode.UNSUPPORTED_VALUE, f"MsgType {msg_type!r} is not handled"
                )
    except _Unreadable as e:
        return refusal_for(message, e.code, e.text)


def refusal_for(message: FixMessage, code: str, text: str) -> Refusal:
    """Return a refusal of ``message`` that repeats whatever of it can be read."""
    return Refusal(
        request_type=message.get_str(t.MSG_TYPE) or "",
        code=code,
        text=text,
        cl_ord_id=message.get_str(t.CL_ORD_ID) or None,
        orig_cl_ord_id=message.get_str(t.ORIG_CL_ORD_ID) or None,
        account=message.get_str(t.ACCOUNT) or None,
        symbol=message.get_str(t.SYMBOL) or None,
        side_code=message.get_str(t.SIDE) or None,
        qty=_readable_decimal(message, t.ORDER_QTY),
        price=_readable_decimal(message, t.PRICE),
    )


def _new_order(message: FixMessage, default_account: AccountId) -> NewOrder:
    cl_ord_id = _id(message, t.CL_ORD_ID)
    symbol = _text(message, t.SYMBOL, "Symbol")
    side = _code(message, t.SIDE, "Side", SIDES)
    qty = _quantity(message)
    ord_type = _code(message, t.ORD_TYPE, "OrdType", ORD_TYPES)
    price = _decimal(message, t.PRICE, "Price", required=False)
    tif = TimeInForce.DAY
    if t.TIME_IN_FORCE in message:
        tif = _code(message, t.TIME_IN_FORCE, "TimeInForce", TIFS)
    named = message.get_str(t.ACCOUNT)
    account = AccountId(named or default_account)
    return NewOrder(cl_ord_id, account, symbol, side, qty, ord_type, price, tif, bool(named))


def _text(message: FixMessage, tag: int, name: str) -> str:
    value = message.get_str(tag)
    if not value:
        raise _Unreadable(GatewayRejectCode.MISSING_FIELD, f"{name}({tag}) is required")
    return value


def _id(message: FixMessage, tag: int) -> ClOrdId:
    return ClOrdId(_text(message, tag, "ClOrdID" if tag == t.CL_ORD_ID else "OrigClOrdID"))


def _code(message: FixMessage, tag: int, name: str, table: Mapping[str, _V]) -> _V:
    code = _text(message, tag, name)
    try:
        return table[code]
    except KeyError:
        known = ", ".join(table)
        raise _Unreadable(
            GatewayRejectCode.UNSUPPORTED_VALUE,
            f"{name}({tag})={code} is not supported (supported: {known})",
        ) from None


def _quantity(message: FixMessage) -> Decimal:
    qty = _decimal(message, t.ORDER_QTY, "OrderQty", required=True)
    assert qty is not None
    return qty


def _decimal(message: FixMessage, tag: int, name: str, *, required: bool) -> Decimal | None:
    try:
        value = message.get_decimal(tag)
    except FixFieldError as e:
        raise _Unreadable(GatewayRejectCode.BAD_FIELD, f"{name}({tag}): {e.reason}") from None
    if value is None and required:
        raise _Unreadable(GatewayRejectCode.MISSING_FIELD, f"{name}({tag}) is required")
    return value


def _readable_decimal(message: FixMessage, tag: int) -> Decimal | None:
    try:
        return message.get_decimal(tag)
    except FixFieldError:
        return None


# -- refusals as reports -------------------------------------------------------------------
def refusal_report(
    refusal: Refusal, exec_id: ExecId | None, now: datetime, order: VenueReport | None = None
) -> VenueReport:
    """Return the answer to a refused request as a report in the venue's own terms.

    A refused new order is REJECTED, a refused status request a STATUS of an unknown order,
    a refused cancel or replace CANCEL_REJECTED; ``order`` is the venue's view of the order
    a cancel or replace named, when it may be shown to this client.
    """
    cl_ord_id = ClOrdId(refusal.cl_ord_id or "NONE")
    orig = ClOrdId(refusal.orig_cl_ord_id) if refusal.orig_cl_ord_id else None
    response_to = {"F": RequestKind.CANCEL, "G": RequestKind.REPLACE}.get(refusal.request_type)
    if response_to is not None:
        if order is not None:
            return replace(
                order, kind=ReportKind.CANCEL_REJECTED, cl_ord_id=cl_ord_id,
                orig_cl_ord_id=orig or ClOrdId("NONE"), exec_id=None, last_qty=ZERO, last_px=ZERO,
                transact_time=now, text=refusal.text, reason_code=refusal.code,
                response_to=response_to,
            )  # fmt: skip
        return unknown_order_answer(
            ReportKind.CANCEL_REJECTED, cl_ord_id, orig or ClOrdId("NONE"), None, now,
            refusal.code, refusal.text, response_to,
        )  # fmt: skip
    kind = ReportKind.STATUS if refusal.request_type == "H" else ReportKind.REJECTED
    return unknown_order_answer(
        kind, cl_ord_id, None, exec_id, now, refusal.code, refusal.text,
        account=AccountId(refusal.account) if refusal.account else None,
        side=SIDES.get(refusal.side_code or ""), symbol=refusal.symbol,
        order_qty=refusal.qty if refusal.qty is not None else ZERO, price=refusal.price,
    )  # fmt: skip


# -- reports -------------------------------------------------------------------------------
def report_message(
    report: VenueReport, begin_string: str, echo: Echo | None = None
) -> tuple[str, Fields]:
    """Return the MsgType and body that tell ``report`` in ``begin_string``'s FIX.

    ``echo`` supplies Symbol and Side when the report has none (an order the venue does not
    know), since an ExecutionReport must carry Side. A mass status answer that lists no
    order says Symbol NA, Side 7 (undisclosed), whatever ``echo`` says.
    """
    fix42 = begin_string == FIX42
    if report.kind is ReportKind.CANCEL_REJECTED:
        return "9", _cancel_reject(report, fix42)
    if report.mass_status is not None:
        echo = Echo(NO_ORDER_SYMBOL, UNDISCLOSED_SIDE)
    return "8", _execution_report(report, fix42, echo or Echo())


def _execution_report(report: VenueReport, fix42: bool, echo: Echo) -> Fields:
    if report.exec_id is None:
        raise SimVenueError(f"a {report.kind} report has no ExecID: {report}")
    status = ORD_STATUS_CODES[report.order_status]
    fields: Fields = [(t.ORDER_ID, report.venue_order_id)]
    if report.cl_ord_id and report.cl_ord_id != "NONE":
        fields.append((t.CL_ORD_ID, report.cl_ord_id))
    if report.orig_cl_ord_id:
        fields.append((t.ORIG_CL_ORD_ID, report.orig_cl_ord_id))
    if report.mass_status is not None and not fix42:  # FIX 4.2 has no 584, 911, 912
        fields += mass_status_fields(report.mass_status)
    fields.append((t.EXEC_ID, report.exec_id))
    if fix42:
        is_status = report.kind is ReportKind.STATUS
        fields.append((t.EXEC_TRANS_TYPE, "3" if is_status else "0"))
        fields.append((t.EXEC_TYPE, status if is_status else EXEC_TYPES_42[report.kind]))
    else:
        fields.append((t.EXEC_TYPE, EXEC_TYPES_44[report.kind]))
    fields.append((t.ORD_STATUS, status))
    if report.kind is ReportKind.REJECTED:
        fields.append((t.ORD_REJ_REASON, _ord_rej_reason(report.reason_code, fix42)))
    if report.account:
        fields.append((t.ACCOUNT, report.account))
    symbol = report.symbol or echo.symbol
    if symbol:
        fields.append((t.SYMBOL, symbol))
    side = SIDE_CODES[report.side] if report.side is not None else echo.side_code
    if side:
        fields.append((t.SIDE, side))
    if report.order_qty:
        fields.append((t.ORDER_QTY, report.order_qty))
    if report.price is not None:
        fields.append((t.PRICE, report.price))
    if report.is_fill:
        fields += [(t.LAST_QTY, report.last_qty), (t.LAST_PX, report.last_px)]
    fields += [
        (t.LEAVES_QTY, report.leaves_qty),
        (t.CUM_QTY, report.cum_qty),
        (t.AVG_PX, _avg_px(report)),
        (t.TRANSACT_TIME, report.transact_time),
    ]
    if report.text:
        fields.append((t.TEXT, _latin1(report.text)))
    return fields


def _cancel_reject(report: VenueReport, fix42: bool) -> Fields:
    fields: Fields = [
        (t.ORDER_ID, report.venue_order_id),
        (t.CL_ORD_ID, report.cl_ord_id or "NONE"),
        (t.ORIG_CL_ORD_ID, report.orig_cl_ord_id or "NONE"),
        (t.ORD_STATUS, ORD_STATUS_CODES[report.order_status]),
    ]
    if report.account:
        fields.append((t.ACCOUNT, report.account))
    response_to = "2" if report.response_to is RequestKind.REPLACE else "1"
    fields += [
        (t.TRANSACT_TIME, report.transact_time),
        (t.CXL_REJ_RESPONSE_TO, response_to),
        (t.CXL_REJ_REASON, _cxl_rej_reason(report.reason_code, fix42)),
    ]
    if report.text:
        fields.append((t.TEXT, _latin1(report.text)))
    return fields


def _ord_rej_reason(code: str | None, fix42: bool) -> str:
    if fix42:
        return _ORD_REJ_REASONS_42.get(code or "", _BROKER_OPTION_42)
    return _ORD_REJ_REASONS_44.get(code or "", _OTHER_44)


def _cxl_rej_reason(code: str | None, fix42: bool) -> str:
    if fix42:
        return _CXL_REJ_REASONS_42.get(code or "", _OTHER_CXL_42)
    return _CXL_REJ_REASONS_44.get(code or "", _OTHER_44)


def _avg_px(report: VenueReport) -> Decimal:
    """The average price as people read it (six places, trailing zeros dropped).

    The venue's exact average has 34 significant digits; no one books AvgPx, they book
    LastQty and LastPx.
    """
    if not report.cum_qty:
        return ZERO
    return report.display_avg_px().normalize()


def _latin1(text: str) -> str:
    """FIX text is latin-1 here; anything else becomes ``?`` rather than failing the send."""
    return text.encode("latin-1", "replace").decode("latin-1")
