"""The OrderMassStatusRequest (35=AF) between FIX and the simulated venue.

A client asks which orders the venue holds open for its session, typically after a
reconnect. ``read_mass_status_request`` reads the request or says why the venue refuses it;
the venue answers (``SimVenue.mass_status``) and ``fix_mapping`` writes each report as an
ExecutionReport with ``mass_status_fields``.

Request (FIX 4.4): MassStatusReqID (584) and MassStatusReqType (585), of which the venue
answers 7, all orders (of the requesting session).

Answer: one ExecutionReport per open order (new or partially filled), by venue order id,
written as a status answer (ExecType I, OrdStatus the order's) plus MassStatusReqID (584)
echoed, TotNumReports (911) the number of reports in the answer and LastRptRequested (912)
Y on the last, N on the others. With no open order: one ExecutionReport, ExecType I,
OrdStatus 8, OrderID NONE, no ClOrdID, Symbol NA, Side 7 (undisclosed), LeavesQty, CumQty
and AvgPx 0, 584 echoed, 911=0, 912=Y, Text "no open orders". The answers go through the
wire like other reports (its faults apply as to status reports) and to the drop copy.

Refusals are BusinessMessageRejects (35=j): RefSeqNum (45), RefMsgType (372) AF,
BusinessRejectRefID (379) the MassStatusReqID when there is one, BusinessRejectReason
(380) and Text:

- a FIX 4.2 session: 3, unsupported message type (AF is FIX 4.3 and later);
- a MassStatusReqType other than 7: 0, other, the Text naming the one type answered;
- 584 or 585 missing: 5; a 585 that is not a number: 0. A validating session (the
  default) never lets these through: it rejects them itself (35=3, 373=1, 5 or 6), as it
  does any message its dictionary refuses, and so does it a 585 outside 1-8.

A FIX 4.2 dictionary does not know AF, so a 4.2 session would refuse it itself as an
invalid MsgType (35=3, 373=11); ``venue_dictionary`` gives the venue's 4.2 sessions a
dictionary that knows the message, so that the venue can say "unsupported" in FIX's terms.
"""

from __future__ import annotations

from dataclasses import dataclass

from keel.adapters.fix import tags as t
from keel.adapters.fix.codec import FieldValue
from keel.adapters.fix.config import FIX42
from keel.adapters.fix.definitions import FieldType, define, message
from keel.adapters.fix.dictionary import DataDictionary, dictionary_for
from keel.adapters.fix.errors import FixFieldError
from keel.adapters.fix.message import FixMessage
from keel.adapters.venues.sim.reports import MassStatusPart

Fields = list[tuple[int, FieldValue]]

ORDER_MASS_STATUS_REQUEST = "AF"
TOT_NUM_REPORTS = 911
LAST_RPT_REQUESTED = 912
ALL_ORDERS = 7
"""MassStatusReqType (585): status of all orders; the one type this venue answers."""
NO_ORDER_SYMBOL = "NA"
UNDISCLOSED_SIDE = "7"
"""Side (54) on the answer that lists no order: the ExecutionReport must carry one."""

OTHER = 0
UNSUPPORTED_MESSAGE_TYPE = 3
REQUIRED_FIELD_MISSING = 5
"""BusinessRejectReason (380): conditionally required field missing (FIX has no
"required field missing" at the business level; the session's is 373=1)."""


@dataclass(frozen=True, slots=True)
class MassStatusRequest:
    """An OrderMassStatusRequest the venue answers: all the session's open orders."""

    request_id: str


@dataclass(frozen=True, slots=True)
class BusinessReject:
    """A request the venue refuses with a BusinessMessageReject (35=j)."""

    ref_seq_num: int
    ref_msg_type: str
    ref_id: str | None
    """BusinessRejectRefID (379): the refused request's own id, when it had one."""
    reason: int
    text: str

    def body(self) -> Fields:
        """Return the BusinessMessageReject's body."""
        fields: Fields = [(t.REF_SEQ_NUM, self.ref_seq_num), (t.REF_MSG_TYPE, self.ref_msg_type)]
        if self.ref_id:
            fields.append((t.BUSINESS_REJECT_REF_ID, self.ref_id))
        fields += [(t.BUSINESS_REJECT_REASON, self.reason), (t.TEXT, self.text)]
        return fields


def read_mass_status_request(
    request: FixMessage, begin_string: str
) -> MassStatusRequest | BusinessReject:
    """Read an OrderMassStatusRequest from a ``begin_string`` session, or say why not."""
    request_id = request.get_str(t.MASS_STATUS_REQ_ID) or None
    if begin_string == FIX42:
        text = (
            f"OrderMassStatusRequest (AF) is FIX 4.3 and later; this session speaks "
            f"{begin_string}: ask each order with an OrderStatusRequest (H)"
        )
        return refuse_mass_status(request, UNSUPPORTED_MESSAGE_TYPE, text)
    if request_id is None:
        return refuse_mass_status(
            request, REQUIRED_FIELD_MISSING, "MassStatusReqID(584) is required"
        )
    try:
        req_type = request.get_int(t.MASS_STATUS_REQ_TYPE)
    except FixFieldError as e:
        return refuse_mass_status(request, OTHER, f"MassStatusReqType(585): {e.reason}")
    if req_type is None:
        text = "MassStatusReqType(585) is required"
        return refuse_mass_status(request, REQUIRED_FIELD_MISSING, text)
    if req_type != ALL_ORDERS:
        text = (
            f"MassStatusReqType(585)={req_type} is not supported: this venue answers "
            f"{ALL_ORDERS} (all orders) only"
        )
        return refuse_mass_status(request, OTHER, text)
    return MassStatusRequest(request_id)


def refuse_mass_status(request: FixMessage, reason: int, text: str) -> BusinessReject:
    """Return the refusal of an OrderMassStatusRequest, repeating what of it can be read."""
    return BusinessReject(
        ref_seq_num=request.get_int(t.MSG_SEQ_NUM) or 0,
        ref_msg_type=request.get_str(t.MSG_TYPE) or ORDER_MASS_STATUS_REQUEST,
        ref_id=request.get_str(t.MASS_STATUS_REQ_ID) or None,
        reason=reason,
        text=text,
    )


def mass_status_fields(part: MassStatusPart) -> Fields:
    """Return what an ExecutionReport adds when it is part of a mass status answer."""
    return [
        (t.MASS_STATUS_REQ_ID, part.request_id),
        (TOT_NUM_REPORTS, part.total),
        (LAST_RPT_REQUESTED, part.last),
    ]


def venue_dictionary(begin_string: str) -> DataDictionary:
    """Return the dictionary the venue's sessions of ``begin_string`` validate with: the
    standard one, and for FIX 4.2 one that also knows the OrderMassStatusRequest."""
    if begin_string == FIX42:
        return _VENUE_FIX42
    return dictionary_for(begin_string)


def _fix42_knowing_mass_status() -> DataDictionary:
    """FIX 4.2 plus AF (584, 585, and the 4.4 request's instrument, account and side, none
    required: any AF reaches the venue, which refuses it as unsupported)."""
    base = dictionary_for(FIX42)
    msg_type = base.fields[t.MSG_TYPE]
    known = " ".join(sorted({*(msg_type.values or ()), ORDER_MASS_STATUS_REQUEST}))
    fields = [field for tag, field in base.fields.items() if tag != t.MSG_TYPE]
    fields += [
        define(t.MSG_TYPE, msg_type.name, msg_type.type, known),
        define(t.MASS_STATUS_REQ_ID, "MassStatusReqID", FieldType.STRING),
        define(t.MASS_STATUS_REQ_TYPE, "MassStatusReqType", FieldType.INT),
    ]
    request = message(
        ORDER_MASS_STATUS_REQUEST, "OrderMassStatusRequest", t.MASS_STATUS_REQ_ID,
        t.MASS_STATUS_REQ_TYPE, t.ACCOUNT, t.SYMBOL, t.SECURITY_ID, t.SECURITY_ID_SOURCE, t.SIDE,
    )  # fmt: skip
    messages = [*base.messages.values(), request]
    return DataDictionary(base.begin_string, fields, base.header, base.trailer, messages)


_VENUE_FIX42 = _fix42_knowing_mass_status()
