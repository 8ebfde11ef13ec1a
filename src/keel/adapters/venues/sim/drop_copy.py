"""The simulated venue's FIX drop copy: a read-only session on which the venue copies every
ExecutionReport it sends on its trading sessions, as a broker's drop copy does.

Configuring it: pass ``drop_copy=[drop_copy_session(target="KEEL-DC")]`` to
``run_sim_venue`` (the venue is ``SIM``, the drop-copy client logs on as ``KEEL-DC``; any
FIX version, whatever the trading sessions speak), or run ``keel venue-sim --drop-copy
KEEL-DC``. A drop-copy session's CompIDs and version must differ from every trading
session's, since the acceptor finds a session by them.

What is copied: every ExecutionReport (35=8) the venue writes on a trading session (acks,
fills, split prints, late fills, cancels, replaces, rejects, status and mass status answers,
and the gateway's own rejects of requests it could not read), in the order the venue
produced them.
OrderCancelRejects (35=9) change nothing at the broker and are not copied. Copies are taken
after the duplicate fault (a report the venue sends twice is copied twice, with the same
ExecID, as a real broker's drop copy shows the broker's own duplicate) and before the
wire's drop, delay and reorder faults (a report dropped on the trading line is still on the
drop copy, and a delayed one is copied at once). A disconnect fault cuts the trading
lines only.

What a copy carries: the body of the original ExecutionReport, field for field (OrderID,
ClOrdID, OrigClOrdID, ExecID, ExecType, OrdStatus, Account when known, Symbol, Side,
OrderQty, Price, LastQty, LastPx, LeavesQty, CumQty, AvgPx, TransactTime, Text, and on a
mass status answer MassStatusReqID, TotNumReports and LastRptRequested, which FIX 4.2 does
not have), written in the drop-copy session's FIX version; and in the header, which
trading session the original went out on, in FIX's own third-party routing terms:

- OnBehalfOfCompID (115): the trading session's SenderCompID (the venue, ``SIM``), the firm
  that originated the report;
- DeliverToCompID (128): the trading session's TargetCompID (the client, ``KEEL``), the
  firm it was for.

A report no trading session owns (only when the venue is also driven directly) is copied
without them.

Read-only: an application message the client sends on the drop copy gets a
BusinessMessageReject (35=j) with RefSeqNum (45), RefMsgType (372), BusinessRejectRefID
(379, the message's ClOrdID when it has one), BusinessRejectReason (380) 6, not authorized
(FIX 4.2 has no 6: 0, other) and a Text saying why. The venue never acts on it.

While the drop-copy client is logged off, copies are numbered into the session's sequence
and kept, and the client recovers them by the normal ResendRequest on its next logon (the
same mechanism as a trading session's; see ``fix_venue``).
"""

from __future__ import annotations

from dataclasses import replace

from keel.adapters.fix import tags as t
from keel.adapters.fix.config import FIX42, FIX44, SessionConfig
from keel.adapters.fix.message import FixMessage
from keel.adapters.venues.sim.fix_mapping import HANDLED_MSG_TYPES, Echo, Fields, report_message
from keel.adapters.venues.sim.reports import ReportKind, VenueReport

ON_BEHALF_OF_COMP_ID = 115
DELIVER_TO_COMP_ID = 128
NOT_AUTHORIZED_44 = 6
OTHER_42 = 0

DROP_COPY_READS = HANDLED_MSG_TYPES | frozenset({"8", "9", "AF"})
"""The application messages a drop-copy session hands to the venue, which refuses them with
its own reason; the session itself refuses any other (380=3, unsupported)."""


def drop_copy_session(
    begin_string: str = FIX44, sender: str = "SIM", target: str = "KEEL-DC", **changes: object
) -> SessionConfig:
    """Return the venue's side of a drop-copy session: ``sender`` is the venue's CompID,
    ``target`` the drop-copy client's."""
    config = SessionConfig(
        begin_string, sender, target, initiator=False, app_msg_types=DROP_COPY_READS
    )
    return replace(config, **changes)  # type: ignore[arg-type]


def copy_message(
    report: VenueReport,
    begin_string: str,
    origin: SessionConfig | None,
    echo: Echo | None = None,
) -> tuple[str, Fields] | None:
    """Return the drop copy of ``report`` (sent on ``origin``) in ``begin_string``'s FIX, or
    None when the report is not an ExecutionReport."""
    if report.kind is ReportKind.CANCEL_REJECTED:
        return None
    msg_type, body = report_message(report, begin_string, echo)
    if origin is None:
        return msg_type, body
    routing: Fields = [
        (ON_BEHALF_OF_COMP_ID, origin.sender_comp_id),
        (DELIVER_TO_COMP_ID, origin.target_comp_id),
    ]
    return msg_type, routing + body  # header fields, written right after the session's own


def read_only_reject(message: FixMessage, config: SessionConfig) -> Fields:
    """Return the body of the BusinessMessageReject that refuses ``message`` on the
    drop-copy session ``config``."""
    msg_type = message.get_str(t.MSG_TYPE) or ""
    body: Fields = [
        (t.REF_SEQ_NUM, message.get_int(t.MSG_SEQ_NUM) or 0),
        (t.REF_MSG_TYPE, msg_type),
    ]
    cl_ord_id = message.get_str(t.CL_ORD_ID)
    if cl_ord_id:
        body.append((t.BUSINESS_REJECT_REF_ID, cl_ord_id))
    reason = OTHER_42 if config.begin_string == FIX42 else NOT_AUTHORIZED_44
    text = (
        f"{config.session_id} is a drop-copy session and is read-only: "
        f"MsgType {msg_type} is not taken here; send orders on a trading session"
    )
    body += [(t.BUSINESS_REJECT_REASON, reason), (t.TEXT, text)]
    return body
