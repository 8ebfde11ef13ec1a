"""A broker's drop copy over FIX: copies of the ExecutionReports the broker sent us.

``DropCopyGateway`` is the ``FixApplication`` of an initiator session to the broker's
drop-copy acceptor. Each ExecutionReport becomes a ``DropCopyReport`` input: recorded with
its raw bytes, never applied to an order (reconciliation compares it with Keel's books).
A broker that sends the same execution twice shows it twice here; that is evidence, so the
input is keyed by the message's place in the session (a FIX resend of one message is one
input), not by its ExecID. The session's expected number moves in the transaction that
records the input, as for a venue's reports. Anything but an ExecutionReport is refused
with a BusinessMessageReject: the session is read-only.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from keel.adapters.fix import tags as t
from keel.adapters.fix.codes import ORD_STATUS_CODES, SIDES
from keel.adapters.fix.errors import FixError
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.transport import FixConnection
from keel.adapters.fix.venue_gateway import Resolver, position_of
from keel.app.dispatch import Submitter
from keel.app.errors import SequencerStoppedError
from keel.app.ports import Clock
from keel.domain.enums import OrderStatus
from keel.domain.ids import ClOrdId, ExecId, OrderId, VenueOrderId, venue_order_ref
from keel.domain.inputs import DropCopyReport

log = logging.getLogger(__name__)

ORD_STATUSES = {
    code: status for status, code in ORD_STATUS_CODES.items() if status is not OrderStatus.SENT
}
"""OrdStatus(39) code -> order status (Pending New is Keel's PENDING_NEW)."""
UNSUPPORTED_MESSAGE_TYPE = 3
"""BusinessRejectReason(380): unsupported message type."""
REQUIRED_FIELD_MISSING = 5
"""BusinessRejectReason(380): conditionally required field missing."""


class DropCopyGateway:
    """One broker's drop-copy session."""

    def __init__(
        self,
        broker: str,
        submit: Submitter,
        clock: Clock,
        *,
        resolve: Resolver | None = None,
        venue: str | None = None,
    ) -> None:
        """``venue``: the venue whose orders the broker reports, for finding an order by
        the venue's order id when a copy carries no ClOrdID Keel knows."""
        self.broker = broker
        self._venue = venue
        self._submit = submit
        self._clock = clock
        self._resolve = resolve
        self.connection: FixConnection | None = None
        self.reports = 0
        self.refused = 0

    @property
    def source(self) -> str:
        """The source recorded with each input from this session."""
        return f"dropcopy:{self.broker}"

    async def on_logon(self, connection: FixConnection) -> None:
        self.connection = connection

    async def on_logout(self, connection: FixConnection, reason: str) -> None:
        if self.connection is connection:
            self.connection = None

    async def on_message(
        self, connection: FixConnection, message: FixMessage, poss_dup: bool
    ) -> None:
        if message.msg_type != "8":
            await self._refuse(connection, message, UNSUPPORTED_MESSAGE_TYPE,
                               "a drop-copy session takes ExecutionReports only")  # fmt: skip
            return
        exec_id = message.get_str(t.EXEC_ID)
        if not exec_id:
            await self._refuse(connection, message, REQUIRED_FIELD_MISSING, "ExecID(17) missing")
            return
        now = self._clock.now()
        transact = message.get_utc(t.TRANSACT_TIME)
        cl_ord_id = message.get_str(t.CL_ORD_ID)
        venue_order_id = message.get_str(t.ORDER_ID)
        report = DropCopyReport(
            order_id=self._order_of(cl_ord_id, venue_order_id),
            ingest_time=now, event_time=transact or now, broker=self.broker,
            exec_id=ExecId(exec_id), exec_type=_exec_type(message),
            ref_exec_id=ExecId(ref) if (ref := message.get_str(t.EXEC_REF_ID)) else None,
            cl_ord_id=ClOrdId(cl_ord_id) if cl_ord_id else None,
            venue_order_id=VenueOrderId(venue_order_id) if venue_order_id else None,
            account=message.get_str(t.ACCOUNT), symbol=message.get_str(t.SYMBOL) or "",
            side=_side(message.get_str(t.SIDE)), last_qty=_number(message, t.LAST_QTY),
            last_px=_number(message, t.LAST_PX), transact_time=transact,
            trade_date=message.get_date(t.TRADE_DATE),
            ord_status=ORD_STATUSES.get(message.get_str(t.ORD_STATUS) or ""),
            order_qty=_number(message, t.ORDER_QTY), cum_qty=_number(message, t.CUM_QTY),
            leaves_qty=_number(message, t.LEAVES_QTY),
        )  # fmt: skip
        position = position_of(connection, message)
        key = None if position is None else f"{position[0]}:{position[1]}:{position[2]}"
        try:
            self._submit.enqueue(report, source=self.source, raw=message.raw,
                                 idempotency_key=key, fix=position)  # fmt: skip
        except SequencerStoppedError as e:
            raise FixError(f"drop copy {self.broker}: the sequencer has stopped") from e
        self.reports += 1

    def _order_of(self, cl_ord_id: str | None, venue_order_id: str | None) -> OrderId:
        if self._resolve is not None:
            scoped = venue_order_ref(self._venue, venue_order_id) if venue_order_id else None
            for ref in (cl_ord_id, scoped):
                found = self._resolve(ref) if ref else None
                if found:
                    return OrderId(found)
        return OrderId("")

    async def _refuse(
        self, connection: FixConnection, message: FixMessage, reason: int, text: str
    ) -> None:
        self.refused += 1
        seq = message.get_int(t.MSG_SEQ_NUM)
        log.warning("drop copy %s: %s (35=%s) refused: %s; raw=%r", self.broker, seq,
                    message.msg_type, text, message.raw)  # fmt: skip
        await connection.send("j", [
            (t.REF_SEQ_NUM, message.get_int(t.MSG_SEQ_NUM) or 0),
            (t.REF_MSG_TYPE, message.msg_type),
            (t.BUSINESS_REJECT_REASON, reason),
            (t.TEXT, text),
        ])  # fmt: skip


def _exec_type(message: FixMessage) -> str:
    """ExecType in FIX 4.4's terms: a 4.2 report says correct and cancel (bust) in
    ExecTransType, and a trade as ExecType 1 or 2."""
    trans = message.get_str(t.EXEC_TRANS_TYPE)
    if trans == "1":
        return "H"
    if trans == "2":
        return "G"
    return message.get_str(t.EXEC_TYPE) or ""


def _side(code: str | None) -> str:
    side = SIDES.get(code or "")
    return side.value if side is not None else (code or "")


def _number(message: FixMessage, tag: int) -> Decimal | None:
    text = message.get_str(tag)
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
