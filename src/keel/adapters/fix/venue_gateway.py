"""A venue reached over FIX: Keel's instructions out, the venue's reports in.

``FixVenueGateway`` is both the ``VenueGateway`` the effect dispatcher calls and the
``FixApplication`` of the initiator session to the venue. Outbound, an instruction becomes
the venue's message through its ``VenueMapping``; a new order written to the wire is then
recorded as ``SentToVenue``. Inbound, each ExecutionReport or OrderCancelReject becomes a
domain input, submitted to the sequencer with its raw bytes and keyed by the venue's ExecID
(a report sent twice changes nothing). After every logon, the orders whose state is in
doubt (sent without an answer, a cancel or replace pending) are asked for with an
OrderStatusRequest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from keel.adapters.fix import tags as t
from keel.adapters.fix.errors import FixError, FixFieldError, SessionRejectReason
from keel.adapters.fix.mass_status import MassStatusAnswer
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.session import FixSessionError
from keel.adapters.fix.transport import FixConnection
from keel.adapters.fix.venue_mapping import Fields, VenueMapping
from keel.app.dispatch import Submitter, VenueUnavailableError
from keel.app.errors import SequencerStoppedError
from keel.app.ports import Clock
from keel.domain.effects import RequestStatus, SendCancel, SendNewOrder, SendReplace
from keel.domain.enums import OrderStatus
from keel.domain.ids import ClOrdId, OrderId, venue_order_ref
from keel.domain.inputs import Input, SentToVenue, VenueReject
from keel.domain.order import Order

log = logging.getLogger(__name__)

IN_DOUBT = frozenset({OrderStatus.SENT, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_REPLACE})
"""Statuses in which the venue may know more than Keel after a reconnect."""
UNKNOWN_ORDER_PREFIX = "UNKNOWN:"
"""Order id given to a report that names no order Keel knows (the state machine records
an UNKNOWN_ORDER exception under it)."""

Resolver = Callable[[str], str | None]
"""Return the order id a ClOrdID or venue order id names, if any (the store's links)."""


class FixVenueGateway:
    """One venue over one FIX initiator session."""

    def __init__(
        self,
        mapping: VenueMapping,
        submit: Submitter,
        clock: Clock,
        *,
        resolve: Resolver | None = None,
        open_orders: Callable[[], Iterable[Order]] = tuple,
    ) -> None:
        self.mapping = mapping
        self._submit = submit
        self._clock = clock
        self._resolve = resolve
        self._open_orders = open_orders
        self.connection: FixConnection | None = None
        self._started_at = clock.now()
        self._by_cl_ord_id: dict[str, OrderId] = {}
        self.reports = 0
        self.unreadable = 0
        self.status_requests = 0
        self.mass_status: MassStatusAnswer | None = None
        """The mass status request in flight, if any."""
        self.mass_status_requests = 0

    @property
    def venue(self) -> str:
        return self.mapping.venue

    @property
    def source(self) -> str:
        """The source recorded with each input from this venue."""
        return f"fix:{self.mapping.venue}"

    # -- VenueGateway ---------------------------------------------------------------------
    async def send_new_order(self, effect: SendNewOrder, order: Order) -> None:
        connection = self._live()
        now = self._clock.now()
        self._remember(effect.cl_ord_id, effect.order_id)
        await self._send(
            connection, "D", self.mapping.new_order(effect.cl_ord_id, effect.spec, now)
        )
        self._enqueue(
            SentToVenue(order_id=effect.order_id, ingest_time=now, event_time=now,
                        cl_ord_id=effect.cl_ord_id),
            source=f"gateway:{self.venue}",
        )  # fmt: skip

    async def send_cancel(self, effect: SendCancel, order: Order) -> None:
        connection = self._live()
        self._remember(effect.cl_ord_id, effect.order_id)
        body = self.mapping.cancel(
            effect.cl_ord_id, effect.orig_cl_ord_id, order.spec, order.venue_order_id,
            self._clock.now(),
        )  # fmt: skip
        await self._send(connection, "F", body)

    async def send_replace(self, effect: SendReplace, order: Order) -> None:
        connection = self._live()
        self._remember(effect.cl_ord_id, effect.order_id)
        body = self.mapping.replace(
            effect.cl_ord_id, effect.orig_cl_ord_id, effect.spec, order.venue_order_id,
            self._clock.now(),
        )  # fmt: skip
        await self._send(connection, "G", body)

    async def request_status(self, effect: RequestStatus, order: Order) -> None:
        connection = self._live()
        self.status_requests += 1
        body = self.mapping.status(effect.cl_ord_id, order.spec, order.venue_order_id)
        await self._send(connection, "H", body)

    # -- FixApplication -------------------------------------------------------------------
    async def on_logon(self, connection: FixConnection) -> None:
        self.connection = connection
        for order in list(self._open_orders()):
            if order.spec.venue != self.venue:
                continue
            for cl in order.cl_ord_ids_seen:
                self._remember(cl, order.order_id)
            if order.status in IN_DOUBT or self._left_pending(order):
                log.info("%s: order %s is %s after logon; asking its status",
                         self.venue, order.order_id, order.status)  # fmt: skip
                self.status_requests += 1
                body = self.mapping.status(order.cl_ord_id, order.spec, order.venue_order_id)
                await connection.send("H", body)
        if self.mapping.mass_status and not self.mapping.fix42:
            await self._ask_mass_status(connection)

    async def _ask_mass_status(self, connection: FixConnection) -> None:
        """Ask the venue for every order it holds open for us."""
        now = self._clock.now()
        self.mass_status_requests += 1
        req_id = f"MS-{int(now.timestamp() * 1000):x}-{self.mass_status_requests}"
        self.mass_status = MassStatusAnswer(self.venue, req_id, now)
        await connection.send("AF", self.mapping.mass_status_request(req_id))

    async def on_logout(self, connection: FixConnection, reason: str) -> None:
        if self.connection is connection:
            self.connection = None

    async def on_message(
        self, connection: FixConnection, message: FixMessage, poss_dup: bool
    ) -> None:
        msg_type = message.msg_type
        if msg_type in ("8", "9"):
            await self._report(connection, message)
        elif msg_type == "j":
            self._business_reject(message)
        else:
            log.warning("%s: unexpected message type %r ignored", self.venue, msg_type)

    # -- inbound --------------------------------------------------------------------------
    async def _report(self, connection: FixConnection, message: FixMessage) -> None:
        asked = self.mass_status
        if asked is not None and asked.is_answer(message):
            if not asked.is_empty(message):
                asked.note(message)
                await self._report_order(connection, message)
            if asked.is_last(message):
                self.mass_status = None
                for missing in asked.unlisted(self._open_orders(), self._clock.now()):
                    self._enqueue(missing, source=self.source)
            return
        await self._report_order(connection, message)

    async def _report_order(self, connection: FixConnection, message: FixMessage) -> None:
        now = self._clock.now()
        order_id = self._order_of(message)
        try:
            inp = self.mapping.report(message, order_id, now)
        except FixFieldError as e:
            self.unreadable += 1
            log.error("%s: unreadable report kept as evidence: %s; raw=%r",
                      self.venue, e, message.raw)  # fmt: skip
            await connection.send("j", [
                (t.REF_SEQ_NUM, message.get_int(t.MSG_SEQ_NUM) or 0),
                (t.REF_MSG_TYPE, message.msg_type),
                (t.BUSINESS_REJECT_REASON, 5 if e.session_reject_reason
                 == SessionRejectReason.REQUIRED_TAG_MISSING else 0),
                (t.TEXT, e.reason),
            ])  # fmt: skip
            return
        if inp is None:
            return  # a pending acknowledgement: nothing changes
        self.reports += 1
        self._enqueue(
            inp, source=self.source, raw=message.raw, fix=position_of(connection, message)
        )

    def _business_reject(self, message: FixMessage) -> None:
        """The venue refused one of our messages as a whole (35=j): when it names a new
        order's ClOrdID, that order is rejected; anything else is logged."""
        ref = message.get_str(t.BUSINESS_REJECT_REF_ID)
        text = message.get_str(t.TEXT) or ""
        order_id = self._by_cl_ord_id.get(ref or "")
        if message.get_str(t.REF_MSG_TYPE) == "D" and ref and order_id:
            now = self._clock.now()
            reason = message.get_str(t.BUSINESS_REJECT_REASON) or "0"
            self._enqueue(
                VenueReject(
                    order_id=order_id, ingest_time=now, event_time=now,
                    exec_id=f"BMR-{message.get_int(t.MSG_SEQ_NUM)}-{ref}",  # type: ignore[arg-type]
                    cl_ord_id=ClOrdId(ref), reason_code=f"BUSINESS_REJECT:{reason}", text=text,
                ),
                source=self.source, raw=message.raw,
            )  # fmt: skip
        else:
            log.warning("%s: BusinessMessageReject for %s %s: %s", self.venue,
                        message.get_str(t.REF_MSG_TYPE), ref, text)  # fmt: skip

    def _order_of(self, message: FixMessage) -> OrderId:
        for tag in (t.CL_ORD_ID, t.ORIG_CL_ORD_ID):
            ref = message.get_str(tag)
            if ref:
                found = self._by_cl_ord_id.get(ref)
                if found is None and self._resolve is not None:
                    resolved = self._resolve(ref)
                    found = OrderId(resolved) if resolved else None
                if found is not None:
                    return found
        venue_order_id = message.get_str(t.ORDER_ID)
        if venue_order_id and self._resolve is not None:
            resolved = self._resolve(venue_order_ref(self.venue, venue_order_id))
            if resolved:
                return OrderId(resolved)
        cl = message.get_str(t.CL_ORD_ID) or venue_order_id or "?"
        return OrderId(f"{UNKNOWN_ORDER_PREFIX}{self.venue}:{cl}")

    # -- helpers --------------------------------------------------------------------------
    def _left_pending(self, order: Order) -> bool:
        """A PENDING_NEW order from before this process started: the process stopped
        between committing it and recording it sent, so whether the venue has it is in
        doubt. (One created since is simply waiting its turn in the dispatcher.)"""
        return order.status is OrderStatus.PENDING_NEW and order.created_at < self._started_at

    def _live(self) -> FixConnection:
        connection = self.connection
        if connection is None or not connection.logged_on:
            raise VenueUnavailableError(f"the FIX session to {self.venue} is not logged on")
        return connection

    async def _send(self, connection: FixConnection, msg_type: str, body: Fields) -> None:
        """Number and keep the message now; it is written once durable, together with
        whatever else is sent in the meantime (one commit for a burst of orders)."""
        try:
            connection.send_nowait(msg_type, body)
        except FixSessionError as e:  # logged out between the check and the write
            raise VenueUnavailableError(str(e)) from e

    def _remember(self, cl_ord_id: str, order_id: OrderId) -> None:
        self._by_cl_ord_id[cl_ord_id] = order_id

    def _enqueue(
        self,
        inp: Input,
        *,
        source: str,
        raw: bytes | None = None,
        fix: tuple[str, int, int] | None = None,
    ) -> None:
        try:
            self._submit.enqueue(inp, source=source, raw=raw, fix=fix)
        except SequencerStoppedError as e:
            raise FixError(f"{self.venue}: the sequencer has stopped; input not taken") from e


def position_of(connection: FixConnection, message: FixMessage) -> tuple[str, int, int] | None:
    """Where ``message`` stands in its session, for the sequencer to commit with its input."""
    seq = message.get_int(t.MSG_SEQ_NUM)
    if seq is None:
        return None
    session = connection.session
    return (session.config.session_id, session.store.epoch, seq)
