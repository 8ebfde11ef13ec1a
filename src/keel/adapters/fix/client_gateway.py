"""Clients over FIX: their orders in through intake, their orders' lifecycle out.

``FixClientGateway`` is the application of Keel's acceptor sessions. A NewOrderSingle,
OrderCancelRequest, OrderCancelReplaceRequest or OrderStatusRequest is read into an
``OrderRequest`` (or the order it names), checked by intake against the session's accounts,
and submitted to the sequencer with its raw bytes. What the client hears back comes from
the committed events, as a broker's OMS would say it: PendingNew when the order is taken,
New when the venue acknowledges it, a Trade for each fill booked, Canceled, Replaced,
Expired, Rejected, and OrderCancelReject when a cancel or replace is refused.

A request intake refuses (an account the session may not trade, an unknown symbol, terms
off tick) creates nothing: the client gets an ExecutionReport Rejected with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from keel.adapters.fix import tags as t
from keel.adapters.fix.codec import FieldValue
from keel.adapters.fix.codes import (
    ORD_STATUS_CODES,
    ORD_TYPES,
    SIDE_CODES,
    SIDES,
    TIF_CODES,
    TIFS,
)
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.errors import FixFieldError
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.session import FixSessionError, Session
from keel.adapters.fix.transport import FixConnection
from keel.adapters.fix.venue_gateway import position_of
from keel.app.errors import SequencerStoppedError
from keel.app.intake import Intake, OrderRequest, Refused
from keel.app.results import Committed, Result
from keel.domain.enums import Outcome, RequestKind
from keel.domain.events import (
    Event,
    FillBooked,
    OrderAcknowledged,
    OrderCanceled,
    OrderCreated,
    OrderDoneForDay,
    OrderExpired,
    OrderRejected,
    ReplaceAcknowledged,
    RequestRefused,
    RequestRejected,
    RequestSent,
)
from keel.domain.ids import OrderId
from keel.domain.inputs import CancelRequest, Input, ReplaceRequest
from keel.domain.order import Order

log = logging.getLogger(__name__)

Fields = list[tuple[int, FieldValue]]

OTHER_REJECT = "99"
DUPLICATE_ORDER = "6"
UNKNOWN_ORDER = "5"
TOO_LATE = "0"


@dataclass(frozen=True, slots=True)
class ClientSession:
    """A client's FIX session: who it trades as and which accounts it may touch."""

    config: SessionConfig
    user: str
    accounts: frozenset[str]
    pending_new: bool = True
    """Send ExecType PendingNew (A) when Keel takes an order. FIX makes it optional: a
    client that wants only New (0) once the venue acknowledges says ``pending_new = false``."""

    @property
    def comp_id(self) -> str:
        """The client's SenderCompID (our session's target)."""
        return self.config.target_comp_id

    @property
    def actor(self) -> str:
        """The user's identity in events, the same as their REST requests carry (the input's
        source says which FIX session it came through)."""
        return f"user:{self.user}"


class Sequencing(Protocol):
    """What the gateway needs of the sequencer (a ``Sequencer`` has all of it)."""

    @property
    def open_orders(self) -> Mapping[OrderId, Order]: ...

    def enqueue(
        self, inp: Input, *, source: str, raw: bytes | None = None,
        idempotency_key: str | None = None, fix: tuple[str, int, int] | None = None,
    ) -> asyncio.Future[Result]: ...  # fmt: skip


class FixClientGateway:
    """The acceptor sessions' application, and a subscriber to committed batches."""

    def __init__(
        self,
        intake: Intake,
        sequencer: Sequencing,
        clients: Sequence[ClientSession],
        clock: Callable[[], datetime],
        *,
        find_order: Callable[[str], Order | None] = lambda _: None,
    ) -> None:
        self._intake = intake
        self._sequencer = sequencer
        self._clients = {c.comp_id: c for c in clients}
        self._now = clock
        self._find_order = find_order
        self._connections: dict[str, FixConnection] = {}
        self._owner: dict[OrderId, str] = {}
        """order id -> the client's CompID."""
        self._client_ids: dict[tuple[str, str], OrderId] = {}
        """(client CompID, the client's ClOrdID) -> order id."""
        self._client_cl_of: dict[str, str] = {}
        """Keel's ClOrdID of a client's cancel or replace -> the client's ClOrdID for it."""
        self._outbox: asyncio.Queue[tuple[str, str, Fields] | None] = asyncio.Queue()
        self.sessions: dict[str, Session] = {}
        """The clients' sessions by their CompID: a report for a client that is away is
        numbered and kept in its session, and resent when the client asks after logon."""
        self._flushing: set[asyncio.Future[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self.refused = 0

    def start(self) -> None:
        """Start the writer, and take over the open orders clients sent before a restart."""
        for order in self._sequencer.open_orders.values():
            self._adopt(order)
        self._task = asyncio.create_task(self._write(), name="keel-fix-clients")

    async def stop(self) -> None:
        if self._task is not None:
            await self._outbox.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def connected(self) -> frozenset[str]:
        """The CompIDs of the clients logged on now."""
        return frozenset(self._connections)

    # -- FixApplication -------------------------------------------------------------------
    async def on_logon(self, connection: FixConnection) -> None:
        self._connections[connection.session.config.target_comp_id] = connection

    async def on_logout(self, connection: FixConnection, reason: str) -> None:
        comp_id = connection.session.config.target_comp_id
        if self._connections.get(comp_id) is connection:
            del self._connections[comp_id]

    async def on_message(
        self, connection: FixConnection, message: FixMessage, poss_dup: bool
    ) -> None:
        client = self._clients.get(connection.session.config.target_comp_id)
        if client is None:  # an acceptor session with no client configured: refuse all
            await self._reject_unknown(connection, message, "this session may not trade")
            return
        try:
            match message.msg_type:
                case "D":
                    await self._new_order(connection, client, message)
                case "F" | "G":
                    await self._amend(connection, client, message)
                case "H":
                    await self._status(connection, client, message)
                case other:
                    log.warning("%s: %r not handled", client.comp_id, other)
        except FixFieldError as e:
            await self._business_reject(connection, message, e.reason, tag=e.tag)

    # -- what clients ask -----------------------------------------------------------------
    async def _new_order(self, conn: FixConnection, client: ClientSession, msg: FixMessage) -> None:
        now = self._now()
        request = self._read_order(msg)
        cl = request.client_order_id or ""
        if (client.comp_id, cl) in self._client_ids:
            await self._send(
                conn, "8", self._refusal(msg, cl, "duplicate ClOrdID", DUPLICATE_ORDER)
            )
            return
        accepted = self._intake.new_order(request, actor=client.actor, accounts=client.accounts,
                                          now=now)  # fmt: skip
        if isinstance(accepted, Refused):
            self.refused += 1
            await self._send(conn, "8", self._refusal(msg, cl, accepted.text, OTHER_REJECT))
            return
        self._owner[accepted.order_id] = client.comp_id
        self._client_ids[(client.comp_id, cl)] = accepted.order_id
        self._submit(conn, accepted, client, msg)

    async def _amend(self, conn: FixConnection, client: ClientSession, msg: FixMessage) -> None:
        now = self._now()
        cl = _required(msg, t.CL_ORD_ID)
        orig = _required(msg, t.ORIG_CL_ORD_ID)
        order = self._order_named(client, orig)
        response_to = "1" if msg.msg_type == "F" else "2"
        if order is None or self._owner.get(order.order_id) != client.comp_id:
            refusal = self._cancel_reject(
                cl, orig, None, response_to, UNKNOWN_ORDER, "unknown order"
            )
            await self._send(conn, "9", refusal)
            return
        self._client_ids[(client.comp_id, cl)] = order.order_id
        inp: CancelRequest | ReplaceRequest | Refused
        if msg.msg_type == "F":
            inp = self._intake.cancel(order, actor=client.actor, now=now)
        else:
            inp = self._intake.replace(
                order, actor=client.actor, now=now, qty=msg.get_decimal(t.ORDER_QTY),
                limit_price=msg.get_decimal(t.PRICE), stop_price=msg.get_decimal(t.STOP_PX),
                tif=TIFS.get(msg.get_str(t.TIME_IN_FORCE) or ""),
            )  # fmt: skip
        if isinstance(inp, Refused):
            await self._send(conn, "9", self._cancel_reject(cl, orig, order, response_to,
                                                            OTHER_REJECT, inp.text))  # fmt: skip
            return
        self._client_cl_of[inp.cl_ord_id] = cl
        self._submit(conn, inp, client, msg)

    async def _status(self, conn: FixConnection, client: ClientSession, msg: FixMessage) -> None:
        cl = _required(msg, t.CL_ORD_ID)
        order = self._order_named(client, cl)
        if order is None or self._owner.get(order.order_id) != client.comp_id:
            fields = self._refusal(msg, cl, "unknown order", UNKNOWN_ORDER)
            await self._send(conn, "8", _as_status(fields, conn))
            return
        fields = self._report(order, "I", f"{order.order_id}-S{order.version}", cl)
        await self._send(conn, "8", _as_status(fields, conn))

    def _submit(
        self, conn: FixConnection, inp: Input, client: ClientSession, msg: FixMessage
    ) -> None:
        try:
            future = self._sequencer.enqueue(
                inp, source=f"fix:{client.comp_id}", raw=msg.raw, fix=position_of(conn, msg)
            )
        except SequencerStoppedError:
            log.error("%s: the sequencer has stopped; %s not taken", client.comp_id, inp)
            return
        future.add_done_callback(lambda f: self._duplicate_check(f, client, msg))

    def _duplicate_check(self, future: asyncio.Future[Result], client: ClientSession,
                         msg: FixMessage) -> None:  # fmt: skip
        if future.cancelled() or future.exception() is not None:
            return
        if future.result().outcome is Outcome.DUPLICATE and msg.msg_type == "D":
            cl = msg.get_str(t.CL_ORD_ID) or ""
            self._queue(client.comp_id, "8", self._refusal(msg, cl, "duplicate order",
                                                           DUPLICATE_ORDER))  # fmt: skip

    # -- what clients hear: the committed events ------------------------------------------
    def __call__(self, batch: Sequence[Committed]) -> None:
        """The sequencer's subscriber: queue the reports of the clients' orders."""
        for committed in batch:
            order = committed.result.order
            if order is None:
                continue
            comp_id = self._owner.get(order.order_id)
            if comp_id is None:
                continue
            client = self._clients.get(comp_id)
            pending_new = client is None or client.pending_new
            for event in committed.result.events:
                if not pending_new and type(event) is OrderCreated:
                    continue
                out = self._for_event(order, event)
                if out is not None:
                    self._queue(comp_id, *out)

    def _for_event(self, order: Order, event: Event) -> tuple[str, Fields] | None:
        exec_id = f"{order.order_id}-{event.version}"
        client_cl = order.client_order_id or order.cl_ord_id
        match event:
            case OrderCreated():
                return "8", self._report(order, "A", exec_id, client_cl)
            case OrderAcknowledged():
                return "8", self._report(order, "0", exec_id, client_cl)
            case FillBooked(fill=fill):
                fields = self._report(order, "F", exec_id, client_cl)
                fields += [(t.LAST_QTY, fill.qty), (t.LAST_PX, fill.price)]
                return "8", fields
            case RequestSent(request=request):
                exec_type = "6" if request.kind is RequestKind.CANCEL else "E"
                cl = self._client_cl_of.get(request.cl_ord_id, request.cl_ord_id)
                fields = self._report(order, exec_type, exec_id, cl)
                fields.append((t.ORIG_CL_ORD_ID, client_cl))
                return "8", fields
            case OrderCanceled(cl_ord_id=keel_cl):
                cl = self._client_cl_of.get(keel_cl or "", client_cl)
                fields = self._report(order, "4", exec_id, cl)
                fields.append((t.ORIG_CL_ORD_ID, client_cl))
                return "8", fields
            case ReplaceAcknowledged(cl_ord_id=keel_cl):
                cl = self._client_cl_of.get(keel_cl, client_cl)
                fields = self._report(order, "5", exec_id, cl)
                fields.append((t.ORIG_CL_ORD_ID, client_cl))
                return "8", fields
            case OrderRejected(text=text, reason_code=code):
                fields = self._report(order, "8", exec_id, client_cl)
                fields += [(t.ORD_REJ_REASON, OTHER_REJECT), (t.TEXT, f"{code}: {text}")]
                return "8", fields
            case OrderExpired():
                return "8", self._report(order, "C", exec_id, client_cl)
            case OrderDoneForDay():
                return "8", self._report(order, "3", exec_id, client_cl)
            case RequestRefused(kind=kind, cl_ord_id=keel_cl, text=text, reason_code=code):
                return self._refused_request(order, kind, keel_cl, client_cl, f"{code}: {text}")
            case RequestRejected(kind=kind, cl_ord_id=keel_cl, text=text, reason_code=code):
                return self._refused_request(order, kind, keel_cl, client_cl, f"{code}: {text}")
            case _:
                return None

    def _refused_request(
        self, order: Order, kind: RequestKind, keel_cl: str, client_cl: str, text: str
    ) -> tuple[str, Fields]:
        """A cancel or replace refused by Keel or rejected by the venue: OrderCancelReject."""
        cl = self._client_cl_of.get(keel_cl, keel_cl)
        response_to = "1" if kind is RequestKind.CANCEL else "2"
        return "9", self._cancel_reject(cl, client_cl, order, response_to, OTHER_REJECT, text)

    def _report(self, order: Order, exec_type: str, exec_id: str, cl: str) -> Fields:
        spec = order.spec
        fields: Fields = [
            (t.ORDER_ID, order.order_id), (t.CL_ORD_ID, cl), (t.EXEC_ID, exec_id),
            (t.EXEC_TYPE, exec_type), (t.ORD_STATUS, ORD_STATUS_CODES[order.status]),
            (t.ACCOUNT, spec.account), (t.SYMBOL, spec.instrument),
            (t.SIDE, SIDE_CODES[spec.side]), (t.ORDER_QTY, spec.qty),
        ]  # fmt: skip
        if spec.limit_price is not None:
            fields.append((t.PRICE, spec.limit_price))
        fields += [
            (t.TIME_IN_FORCE, TIF_CODES[spec.tif]),
            (t.LEAVES_QTY, order.leaves_qty), (t.CUM_QTY, order.cum_qty),
            (t.AVG_PX, order.avg_px), (t.TRANSACT_TIME, order.times.processed_time),
        ]  # fmt: skip
        return fields

    def _refusal(self, msg: FixMessage, cl: str, text: str, reason: str) -> Fields:
        """An ExecutionReport Rejected for a request that created no order."""
        now = self._now()
        fields: Fields = [
            (t.ORDER_ID, "NONE"), (t.CL_ORD_ID, cl or "NONE"),
            (t.EXEC_ID, f"REJ-{msg.get_int(t.MSG_SEQ_NUM)}-{int(now.timestamp() * 1e6)}"),
            (t.EXEC_TYPE, "8"), (t.ORD_STATUS, "8"),
            (t.SYMBOL, msg.get_str(t.SYMBOL) or "NONE"), (t.SIDE, msg.get_str(t.SIDE) or "1"),
            (t.LEAVES_QTY, 0), (t.CUM_QTY, 0), (t.AVG_PX, 0),
            (t.ORD_REJ_REASON, reason), (t.TEXT, text), (t.TRANSACT_TIME, now),
        ]  # fmt: skip
        return fields

    def _cancel_reject(
        self, cl: str, orig: str, order: Order | None, response_to: str, reason: str, text: str
    ) -> Fields:
        status = ORD_STATUS_CODES[order.status] if order is not None else "8"
        return [
            (t.ORDER_ID, order.order_id if order is not None else "NONE"),
            (t.CL_ORD_ID, cl), (t.ORIG_CL_ORD_ID, orig), (t.ORD_STATUS, status),
            (t.CXL_REJ_RESPONSE_TO, response_to), (t.CXL_REJ_REASON, reason), (t.TEXT, text),
        ]  # fmt: skip

    # -- reading requests -----------------------------------------------------------------
    def _read_order(self, msg: FixMessage) -> OrderRequest:
        side_code = _required(msg, t.SIDE)
        side = SIDES.get(side_code)
        if side is None:
            raise FixFieldError(t.SIDE, f"Side {side_code!r} is not traded here", 5, "D")
        type_code = _required(msg, t.ORD_TYPE)
        ord_type = ORD_TYPES.get(type_code)
        if ord_type is None:
            raise FixFieldError(t.ORD_TYPE, f"OrdType {type_code!r} is not traded here", 5, "D")
        tif_code = msg.get_str(t.TIME_IN_FORCE) or "0"
        tif = TIFS.get(tif_code)
        if tif is None:
            raise FixFieldError(t.TIME_IN_FORCE, f"TimeInForce {tif_code!r} is not traded here",
                                5, "D")  # fmt: skip
        qty = msg.get_decimal(t.ORDER_QTY)
        if qty is None:
            raise FixFieldError(t.ORDER_QTY, "OrderQty(38) is required", 1, "D")
        return OrderRequest(
            account=msg.get_str(t.ACCOUNT) or "", symbol=_required(msg, t.SYMBOL), side=side,
            qty=qty, ord_type=ord_type, limit_price=msg.get_decimal(t.PRICE),
            stop_price=msg.get_decimal(t.STOP_PX), tif=tif,
            expire_time=msg.get_utc(t.EXPIRE_TIME), client_order_id=_required(msg, t.CL_ORD_ID),
            venue=msg.get_str(t.EX_DESTINATION),
        )  # fmt: skip

    def _order_named(self, client: ClientSession, client_cl: str) -> Order | None:
        order_id = self._client_ids.get((client.comp_id, client_cl))
        if order_id is None:
            return None
        return self._sequencer.open_orders.get(order_id) or self._find_order(order_id)

    def _adopt(self, order: Order) -> None:
        """Take over an open order a client of this gateway sent before a restart."""
        actor = order.lineage[0].actor if order.lineage else ""
        for comp_id, client in self._clients.items():
            if actor == client.actor:
                self._owner[order.order_id] = comp_id
                if order.client_order_id:
                    self._client_ids[(comp_id, order.client_order_id)] = order.order_id

    # -- writing --------------------------------------------------------------------------
    def _queue(self, comp_id: str, msg_type: str, fields: Fields) -> None:
        self._outbox.put_nowait((comp_id, msg_type, fields))

    async def _write(self) -> None:
        while True:
            item = await self._outbox.get()
            try:
                if item is None:
                    return
                comp_id, msg_type, fields = item
                connection = self._connections.get(comp_id)
                if connection is None:
                    self._keep(comp_id, msg_type, fields)
                    continue
                await self._send(connection, msg_type, fields)
            except Exception:
                log.exception("writing to a client failed")
            finally:
                self._outbox.task_done()

    def _keep(self, comp_id: str, msg_type: str, fields: Fields) -> None:
        """Keep a report for a client that is away, for its resend request after logon."""
        session = self.sessions.get(comp_id)
        if session is None:
            log.warning("%s is not connected and has no session here; %s report dropped",
                        comp_id, msg_type)  # fmt: skip
            return
        if msg_type == "8" and session.config.begin_string == "FIX.4.2":
            fields = _fix42_report(fields)
        seq = session.keep_for_resend(msg_type, fields, self._now())
        log.info("%s is away: %s report kept as %d for its resend request", comp_id, msg_type, seq)
        task = asyncio.ensure_future(session.store.flush())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _send(self, connection: FixConnection, msg_type: str, fields: Fields) -> None:
        """Number and keep the report now; it is written once durable, with the others
        queued meanwhile (one commit for many reports)."""
        if msg_type == "8" and connection.session.config.begin_string == "FIX.4.2":
            fields = _fix42_report(fields)
        try:
            connection.send_nowait(msg_type, fields)
        except FixSessionError as e:
            log.warning("%s not sent: %s", msg_type, e)

    async def _reject_unknown(self, conn: FixConnection, msg: FixMessage, text: str) -> None:
        await self._business_reject(conn, msg, text)

    async def _business_reject(
        self, conn: FixConnection, msg: FixMessage, text: str, tag: int | None = None
    ) -> None:
        fields: Fields = [
            (t.REF_SEQ_NUM, msg.get_int(t.MSG_SEQ_NUM) or 0), (t.REF_MSG_TYPE, msg.msg_type),
        ]  # fmt: skip
        ref = msg.get_str(t.CL_ORD_ID)
        if ref:
            fields.append((t.BUSINESS_REJECT_REF_ID, ref))
        reason = 5 if tag is not None else 0
        fields += [(t.BUSINESS_REJECT_REASON, reason), (t.TEXT, text)]
        await self._send(conn, "j", fields)


def _required(msg: FixMessage, tag: int) -> str:
    value = msg.get_str(tag)
    if not value:
        raise FixFieldError(tag, f"tag {tag} is required", 1, msg.msg_type)
    return value


def _as_status(fields: Fields, conn: FixConnection) -> Fields:
    """An answer to OrderStatusRequest: ExecType I (4.4); 4.2 says it with ExecTransType 3."""
    out: Fields = [(tag, "I" if tag == t.EXEC_TYPE else value) for tag, value in fields]
    if conn.session.config.begin_string == "FIX.4.2":
        out.insert(0, (t.EXEC_TRANS_TYPE, "3"))
    return out


_FIX42_EXEC_TYPES = {"I": None, "F": None, "A": "A", "0": "0", "4": "4", "5": "5", "6": "6",
                     "8": "8", "C": "C", "E": "E", "3": "3"}  # fmt: skip


def _fix42_report(fields: Fields) -> Fields:
    """Say an ExecutionReport in FIX 4.2: ExecTransType(20) first (0 New unless already
    given), a trade as ExecType 1 (partial) or 2 (filled), a status answer as its OrdStatus."""
    status = next((str(v) for tag, v in fields if tag == t.ORD_STATUS), "0")
    out: Fields = []
    if all(tag != t.EXEC_TRANS_TYPE for tag, _ in fields):
        out.append((t.EXEC_TRANS_TYPE, "0"))
    for tag, value in fields:
        said = value
        if tag == t.EXEC_TYPE:
            code = str(value)
            if code == "F":
                said = "2" if status == "2" else "1"
            elif code == "I":
                said = status if status in _FIX42_EXEC_TYPES else "0"
        out.append((tag, said))
    return out
