"""Between FIX and the domain, for one venue: versioned, because venues differ and change.

A ``VenueMapping`` says how Keel's instructions become a venue's FIX messages (which side,
order type and time-in-force codes; which fields it wants) and how the venue's
ExecutionReports and OrderCancelRejects become domain inputs. The FIX 4.2 and 4.4 defaults
follow the specification; a venue's own mapping changes what differs and bumps its version
(its ``name``, ``VENUE/vN``, is in every error it raises). The raw message is kept with
each input, so an input can always be read again with another mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType

from keel.adapters.fix import tags as t
from keel.adapters.fix.codec import FieldValue
from keel.adapters.fix.codes import ORD_TYPE_CODES, SIDE_CODES, TIF_CODES
from keel.adapters.fix.errors import FixFieldError, SessionRejectReason
from keel.adapters.fix.message import FixMessage
from keel.domain.enums import OrderStatus, OrdType, Side, TimeInForce
from keel.domain.ids import ClOrdId, ExecId, OrderId, VenueOrderId
from keel.domain.inputs import (
    CancelAck,
    CancelReject,
    Fill,
    Input,
    ReplaceAck,
    ReplaceReject,
    StatusReport,
    TradeBust,
    TradeCorrection,
    VenueAck,
    VenueDoneForDay,
    VenueExpired,
    VenueReject,
)
from keel.domain.order import OrderSpec

REQUIRED_TAG_MISSING = SessionRejectReason.REQUIRED_TAG_MISSING
VALUE_IS_INCORRECT = SessionRejectReason.VALUE_IS_INCORRECT

Fields = list[tuple[int, FieldValue]]

ALL_ORDERS = 7
"""MassStatusReqType(585): status of all orders."""

_ORD_STATUS = {
    "0": OrderStatus.NEW, "1": OrderStatus.PARTIALLY_FILLED, "2": OrderStatus.FILLED,
    "3": OrderStatus.DONE_FOR_DAY, "4": OrderStatus.CANCELED, "6": OrderStatus.PENDING_CANCEL,
    "8": OrderStatus.REJECTED, "C": OrderStatus.EXPIRED, "E": OrderStatus.PENDING_REPLACE,
    "A": OrderStatus.SENT, "5": OrderStatus.NEW,  # 5 = Replaced (4.2): working under a new id
}  # fmt: skip


def _frozen(
    mapping: Mapping[Side, str] | Mapping[OrdType, str] | Mapping[TimeInForce, str],
) -> Mapping[str, str]:
    """A read-only code table keyed by the enum's plain value (a StrEnum member finds it)."""
    return MappingProxyType({str(key.value): code for key, code in mapping.items()})


@dataclass(frozen=True, slots=True)
class VenueMapping:
    """How one venue's FIX maps to Keel's domain; ``version`` is recorded with each input."""

    venue: str
    version: int
    begin_string: str
    sides: Mapping[str, str] = field(default_factory=lambda: _frozen(SIDE_CODES))
    ord_types: Mapping[str, str] = field(default_factory=lambda: _frozen(ORD_TYPE_CODES))
    tifs: Mapping[str, str] = field(default_factory=lambda: _frozen(TIF_CODES))
    send_account: bool = True
    handl_inst: str | None = "1"
    """HandlInst(21) on new orders (required in 4.2; "1" = automated, no broker intervention)."""
    ex_destination: str | None = None
    mass_status: bool = False
    """After each logon, ask the venue for all its open orders (OrderMassStatusRequest,
    FIX 4.4) and compare its answer with Keel's working orders."""

    @property
    def name(self) -> str:
        return f"{self.venue}/v{self.version}"

    @property
    def fix42(self) -> bool:
        return self.begin_string == "FIX.4.2"

    # -- outbound -------------------------------------------------------------------------
    def new_order(self, cl_ord_id: ClOrdId, spec: OrderSpec, now: datetime) -> Fields:
        """The body of a NewOrderSingle (35=D) for ``spec``."""
        fields: Fields = [(t.CL_ORD_ID, cl_ord_id)]
        if self.send_account:
            fields.append((t.ACCOUNT, spec.account))
        if self.handl_inst is not None:
            fields.append((t.HANDL_INST, self.handl_inst))
        fields += self._terms(spec, now)
        if self.ex_destination:
            fields.append((t.EX_DESTINATION, self.ex_destination))
        return fields

    def cancel(
        self, cl_ord_id: ClOrdId, orig: ClOrdId, spec: OrderSpec, venue_order_id: str | None,
        now: datetime,
    ) -> Fields:  # fmt: skip
        """The body of an OrderCancelRequest (35=F)."""
        fields: Fields = [(t.ORIG_CL_ORD_ID, orig), (t.CL_ORD_ID, cl_ord_id)]
        if venue_order_id:
            fields.insert(0, (t.ORDER_ID, venue_order_id))
        if self.send_account:
            fields.append((t.ACCOUNT, spec.account))
        fields += [
            (t.SYMBOL, spec.instrument), (t.SIDE, self.sides[spec.side]),
            (t.TRANSACT_TIME, now), (t.ORDER_QTY, spec.qty),
        ]  # fmt: skip
        return fields

    def replace(
        self, cl_ord_id: ClOrdId, orig: ClOrdId, spec: OrderSpec, venue_order_id: str | None,
        now: datetime,
    ) -> Fields:  # fmt: skip
        """The body of an OrderCancelReplaceRequest (35=G) carrying the order's new terms."""
        fields: Fields = [(t.ORIG_CL_ORD_ID, orig), (t.CL_ORD_ID, cl_ord_id)]
        if venue_order_id:
            fields.insert(0, (t.ORDER_ID, venue_order_id))
        if self.send_account:
            fields.append((t.ACCOUNT, spec.account))
        if self.handl_inst is not None:
            fields.append((t.HANDL_INST, self.handl_inst))
        fields += self._terms(spec, now)
        return fields

    def status(self, cl_ord_id: ClOrdId, spec: OrderSpec, venue_order_id: str | None) -> Fields:
        """The body of an OrderStatusRequest (35=H)."""
        fields: Fields = [(t.CL_ORD_ID, cl_ord_id)]
        if venue_order_id:
            fields.insert(0, (t.ORDER_ID, venue_order_id))
        fields += [(t.SYMBOL, spec.instrument), (t.SIDE, self.sides[spec.side])]
        return fields

    def mass_status_request(self, req_id: str) -> Fields:
        """An OrderMassStatusRequest (35=AF) for every order the venue holds for us."""
        return [(t.MASS_STATUS_REQ_ID, req_id), (t.MASS_STATUS_REQ_TYPE, ALL_ORDERS)]

    def _terms(self, spec: OrderSpec, now: datetime) -> Fields:
        fields: Fields = [
            (t.SYMBOL, spec.instrument), (t.SIDE, self.sides[spec.side]),
            (t.TRANSACT_TIME, now), (t.ORDER_QTY, spec.qty),
            (t.ORD_TYPE, self.ord_types[spec.ord_type]),
        ]  # fmt: skip
        if spec.limit_price is not None:
            fields.append((t.PRICE, spec.limit_price))
        if spec.stop_price is not None:
            fields.append((t.STOP_PX, spec.stop_price))
        fields.append((t.TIME_IN_FORCE, self.tifs[spec.tif]))
        if spec.expire_time is not None:
            fields.append((t.EXPIRE_TIME, spec.expire_time))
        return fields

    # -- inbound --------------------------------------------------------------------------
    def report(self, msg: FixMessage, order_id: OrderId, ingest_time: datetime) -> Input | None:
        """Turn an ExecutionReport (35=8) or OrderCancelReject (35=9) into a domain input.

        Return None for reports that change nothing (PendingNew, PendingCancel,
        PendingReplace acknowledgements). Raise ``FixFieldError`` when a field the input
        needs is missing or has a value this mapping does not know.
        """
        event_time = msg.get_utc(t.TRANSACT_TIME) or msg.get_utc(t.SENDING_TIME) or ingest_time
        if msg.msg_type == "9":
            return self._cancel_reject(msg, order_id, ingest_time, event_time)
        if msg.msg_type != "8":
            raise FixFieldError(
                t.MSG_TYPE, f"{msg.msg_type!r} is not an execution report", VALUE_IS_INCORRECT,
                msg.msg_type, msg.get_int(t.MSG_SEQ_NUM),
            )  # fmt: skip
        exec_type = _required(msg, t.EXEC_TYPE)
        base = {
            "order_id": order_id,
            "ingest_time": ingest_time,
            "event_time": event_time,
            "exec_id": ExecId(_required(msg, t.EXEC_ID)),
            "cl_ord_id": _cl(msg.get_str(t.CL_ORD_ID)),
            "venue_order_id": _venue_id(msg.get_str(t.ORDER_ID)),
        }
        if self.fix42:
            trans = msg.get_str(t.EXEC_TRANS_TYPE) or "0"
            if trans == "1":
                return TradeBust(**base, ref_exec_id=ExecId(_required(msg, t.EXEC_REF_ID)))  # type: ignore[arg-type]
            if trans == "2":
                return TradeCorrection(
                    **base,  # type: ignore[arg-type]
                    ref_exec_id=ExecId(_required(msg, t.EXEC_REF_ID)),
                    last_qty=_decimal(msg, t.LAST_QTY), last_px=_decimal(msg, t.LAST_PX),
                )  # fmt: skip
            if trans == "3":
                exec_type = "I"
            if exec_type in ("1", "2"):
                exec_type = "F"
        match exec_type:
            case "0":
                return VenueAck(**base)  # type: ignore[arg-type]
            case "F":
                return Fill(
                    **base,  # type: ignore[arg-type]
                    last_qty=_decimal(msg, t.LAST_QTY), last_px=_decimal(msg, t.LAST_PX),
                    cum_qty=_decimal(msg, t.CUM_QTY), leaves_qty=_decimal(msg, t.LEAVES_QTY),
                    trade_date=msg.get_date(t.TRADE_DATE),
                )  # fmt: skip
            case "8":
                text = msg.get_str(t.TEXT) or ""
                code = msg.get_str(t.ORD_REJ_REASON)
                reason = f"VENUE_REJECT:{code}" if code else "VENUE_REJECT"
                return VenueReject(**base, reason_code=reason, text=text)  # type: ignore[arg-type]
            case "4":
                orig = _cl(msg.get_str(t.ORIG_CL_ORD_ID))
                return CancelAck(**base, orig_cl_ord_id=orig)  # type: ignore[arg-type]
            case "5":
                orig = _cl(msg.get_str(t.ORIG_CL_ORD_ID))
                return ReplaceAck(**base, orig_cl_ord_id=orig)  # type: ignore[arg-type]
            case "C":
                return VenueExpired(**base)  # type: ignore[arg-type]
            case "3":
                return VenueDoneForDay(**base)  # type: ignore[arg-type]
            case "G":
                return TradeCorrection(
                    **base,  # type: ignore[arg-type]
                    ref_exec_id=ExecId(_required(msg, t.EXEC_REF_ID)),
                    last_qty=_decimal(msg, t.LAST_QTY), last_px=_decimal(msg, t.LAST_PX),
                )  # fmt: skip
            case "H":
                return TradeBust(**base, ref_exec_id=ExecId(_required(msg, t.EXEC_REF_ID)))  # type: ignore[arg-type]
            case "I" | "D":
                status_code = _required(msg, t.ORD_STATUS)
                status = _ORD_STATUS.get(status_code)
                if status is None:
                    raise FixFieldError(
                        t.ORD_STATUS, f"OrdStatus {status_code!r} is not known to {self.name}",
                        VALUE_IS_INCORRECT, "8", msg.get_int(t.MSG_SEQ_NUM),
                    )  # fmt: skip
                return StatusReport(
                    **base,  # type: ignore[arg-type]
                    ord_status=status, cum_qty=_decimal(msg, t.CUM_QTY),
                    leaves_qty=_decimal(msg, t.LEAVES_QTY),
                )  # fmt: skip
            case "A" | "6" | "E":
                return None  # pending acknowledgements: the order already says so
            case _:
                raise FixFieldError(
                    t.EXEC_TYPE, f"ExecType {exec_type!r} is not known to {self.name}",
                    VALUE_IS_INCORRECT, "8", msg.get_int(t.MSG_SEQ_NUM),
                )  # fmt: skip

    def _cancel_reject(
        self, msg: FixMessage, order_id: OrderId, ingest_time: datetime, event_time: datetime
    ) -> Input:
        cl = ClOrdId(_required(msg, t.CL_ORD_ID))
        orig = _cl(msg.get_str(t.ORIG_CL_ORD_ID))
        text = msg.get_str(t.TEXT) or ""
        code = msg.get_str(t.CXL_REJ_REASON)
        common = {"order_id": order_id, "ingest_time": ingest_time, "event_time": event_time,
                  "cl_ord_id": cl, "orig_cl_ord_id": orig, "text": text}  # fmt: skip
        if msg.get_str(t.CXL_REJ_RESPONSE_TO) == "2":
            reason = f"REPLACE_REJECTED:{code}" if code else "REPLACE_REJECTED"
            return ReplaceReject(**common, reason_code=reason)  # type: ignore[arg-type]
        reason = f"CANCEL_REJECTED:{code}" if code else "CANCEL_REJECTED"
        return CancelReject(**common, reason_code=reason)  # type: ignore[arg-type]


def default_mapping(venue: str, begin_string: str) -> VenueMapping:
    """The mapping the FIX specification gives, for a venue that needs nothing else."""
    return VenueMapping(venue, 1, begin_string)


def _required(msg: FixMessage, tag: int) -> str:
    value = msg.get_str(tag)
    if not value:
        raise FixFieldError(
            tag, f"tag {tag} is required here", REQUIRED_TAG_MISSING, msg.msg_type,
            msg.get_int(t.MSG_SEQ_NUM),
        )  # fmt: skip
    return value


def _decimal(msg: FixMessage, tag: int) -> Decimal:
    value = msg.get_decimal(tag)
    if value is None:
        raise FixFieldError(
            tag, f"tag {tag} is required here", REQUIRED_TAG_MISSING, msg.msg_type,
            msg.get_int(t.MSG_SEQ_NUM),
        )  # fmt: skip
    return value


def _cl(value: str | None) -> ClOrdId | None:
    return ClOrdId(value) if value else None


def _venue_id(value: str | None) -> VenueOrderId | None:
    return VenueOrderId(value) if value else None
