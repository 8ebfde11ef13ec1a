"""``SimFixVenue``: the simulated venue's FIX application. It answers any number of client
sessions from one ``SimVenue``; ``fix_venue.run_sim_venue`` serves it over TCP.

Requests go to the venue the moment they arrive; what the venue says comes out of
``SimVenue.due`` (after the fault plan's delays, duplicates, swaps and drops) and is written
as ExecutionReports and OrderCancelRejects in each session's FIX version. Every inbound
message flushes the wire, and so does the server's clock (``fix_venue``).

Routing: a ClOrdID belongs to the session that first used it, and every report goes to the
owner of its ClOrdID. A session cannot use, cancel, replace or ask about another session's
ClOrdIDs: the gateway answers such requests itself (a duplicate ClOrdID, an unknown order),
as it does requests it cannot read. Those answers skip the wire's faults.

OrderMassStatusRequest (35=AF): the venue answers the asking session with a status report
per order of that session it holds open (or one saying there is none), through the wire
like any report; a request it will not answer gets a BusinessMessageReject (35=j) from the
gateway. The ``mass_status`` module gives the formats.

Reports for a session that is not logged on are numbered into that session's sequence and
kept in its store, exactly as if they had been sent and lost with the line. When the client
logs on again, the venue's Logon shows the gap, the client sends a ResendRequest and gets
them with PossDupFlag=Y. That is the FIX way to recover what a cut swallowed, and it is the
same path as a report written just before the cut and never read: one mechanism, and the
client sees from the sequence numbers that something was missed. (A client that logs on
with ResetSeqNumFlag=Y throws them away, as it would at any venue.)

Drop copy: sessions passed as ``drop_copy`` are read-only and get a copy of every
ExecutionReport of the trading sessions, the ones kept for a logged-off client included
(``drop_copy`` module says what a copy carries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime

from keel.adapters.fix import tags as t
from keel.adapters.fix.codec import encode
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.session import FixSessionError, Session
from keel.adapters.fix.transport import FixConnection
from keel.adapters.venues.sim.drop_copy import copy_message, read_only_reject
from keel.adapters.venues.sim.fix_mapping import (
    Cancel,
    Echo,
    Fields,
    GatewayRejectCode,
    NewOrder,
    Refusal,
    Replace,
    StatusRequest,
    read_request,
    refusal_for,
    refusal_report,
    report_message,
)
from keel.adapters.venues.sim.mass_status import (
    ORDER_MASS_STATUS_REQUEST,
    OTHER,
    BusinessReject,
    read_mass_status_request,
    refuse_mass_status,
)
from keel.adapters.venues.sim.reports import RejectCode, SimVenueError, VenueReport
from keel.adapters.venues.sim.venue import SimVenue
from keel.app.ports import Clock
from keel.domain.ids import AccountId, ClOrdId, ExecId

log = logging.getLogger(__name__)

Answer = tuple[str, VenueReport, Echo | None]
"""A report for one session (by session id), with what it repeats of the request."""
Reply = tuple[str, BusinessReject]
"""A BusinessMessageReject for one session (by session id)."""


class SimFixVenue:
    """A ``FixApplication`` for any number of client sessions, backed by one ``SimVenue``;
    ``drop_copy`` sessions get a copy of every ExecutionReport and may send nothing."""

    def __init__(
        self,
        venue: SimVenue,
        sessions: Sequence[Session],
        clock: Clock,
        drop_copy: Sequence[Session] = (),
    ) -> None:
        self.venue = venue
        self._sessions = {s.config.session_id: s for s in sessions}
        self._copy_sessions = {s.config.session_id: s for s in drop_copy}
        if self._sessions.keys() & self._copy_sessions.keys():
            raise SimVenueError("a session cannot be both a trading and a drop-copy session")
        if self._copy_sessions:
            venue.open_copy_line()
        self._clock = clock
        self._live: dict[str, FixConnection] = {}
        self._owners: dict[ClOrdId, str] = {}
        """Each ClOrdID's session (by session id): where its reports go."""
        self._echoes: dict[ClOrdId, Echo] = {}
        """What status requests about orders the venue does not know said (Symbol, Side)."""
        self._lock = asyncio.Lock()
        """Held while handing out and writing reports, so they leave in the wire's order."""
        self._last_now: datetime | None = None
        self._gateway_exec_seq = 0
        self.unrouted: list[VenueReport] = []
        """Reports no session owns (none, unless the venue is also driven directly)."""
        self.cuts = 0
        """How many times the fault plan made the venue drop its connections."""

    @property
    def sessions(self) -> list[Session]:
        """The trading sessions."""
        return list(self._sessions.values())

    @property
    def drop_copy_sessions(self) -> list[Session]:
        """The read-only drop-copy sessions."""
        return list(self._copy_sessions.values())

    def connection(self, session_id: str) -> FixConnection | None:
        """Return the session's logged-on connection, if any."""
        return self._live.get(session_id)

    # -- FixApplication ----------------------------------------------------------------------
    async def on_logon(self, connection: FixConnection) -> None:
        self._live[connection.session.config.session_id] = connection
        await self.flush()

    async def on_logout(self, connection: FixConnection, reason: str) -> None:
        session_id = connection.session.config.session_id
        if self._live.get(session_id) is connection:
            del self._live[session_id]

    async def on_message(
        self, connection: FixConnection, message: FixMessage, poss_dup: bool
    ) -> None:
        """Take one request; answer it (and whatever else is due) before the next is read."""
        session_id = connection.session.config.session_id
        if session_id in self._copy_sessions:
            body = read_only_reject(message, connection.session.config)
            with contextlib.suppress(FixSessionError):  # the line went: nothing to answer
                await connection.send("j", body)
            return
        now = self._now()
        answers: list[Answer] = []
        replies: list[Reply] = []
        is_mass_status = message.get_str(t.MSG_TYPE) == ORDER_MASS_STATUS_REQUEST
        try:
            if is_mass_status:
                replies = self._take_mass_status(connection.session, message, now)
            else:
                answers = self._take(session_id, message, poss_dup, now)
        except Exception:  # a bug here must answer the client, not kill its connection
            log.exception("%s: could not process %r", session_id, message)
            text = "the venue could not process it"
            if is_mass_status:
                replies = [(session_id, refuse_mass_status(message, OTHER, text))]
            else:
                refusal = refusal_for(message, GatewayRejectCode.INTERNAL_ERROR, text)
                answers = [self._refuse(session_id, refusal, now)]
        await self.flush(answers, replies)

    # -- the clock -----------------------------------------------------------------------------
    async def tick(self) -> None:
        """Move the market one step (resting orders may fill), then send what is due."""
        self.venue.tick(self._now())
        await self.flush()

    async def end_of_day(self) -> None:
        """Expire the working DAY orders, then send what is due."""
        self.venue.end_of_day(self._now())
        await self.flush()

    async def flush(self, answers: Sequence[Answer] = (), replies: Sequence[Reply] = ()) -> int:
        """Send the reports the wire has released, then ``answers`` and ``replies``; cut the
        connections if the fault plan says so. Return how many messages were written or kept
        for resend."""
        async with self._lock:
            now = self._now()
            count = 0
            if self._copy_sessions:
                for report in self.venue.take_copies():
                    await self._copy(report, now)
            for report in self.venue.due(now):
                session_id = self._session_of(report)
                if session_id is None:
                    log.warning("no session owns %s; report not sent: %s", report.cl_ord_id, report)
                    self.unrouted.append(report)
                    continue
                await self._send(session_id, report, self._echoes.get(report.cl_ord_id), now)
                count += 1
            if self.venue.disconnect_due(self._now()):  # sends above may have let time move on
                await self._cut()
            for session_id, report, echo in answers:
                await self._send(session_id, report, echo, now)
                count += 1
                if self._copy_sessions:
                    await self._copy(report, now, session_id, echo)
            for session_id, reject in replies:
                await self._deliver(self._sessions[session_id], "j", reject.body(), now)
                count += 1
            return count

    async def log_out_all(self, text: str, timeout: float) -> None:
        """Log every client out and wait (up to ``timeout`` seconds) for their Logouts."""
        for connection in list(self._live.values()):
            await connection.logout(text)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._live:
                    await asyncio.sleep(0.01)

    # -- requests --------------------------------------------------------------------------------
    def _take(
        self, session_id: str, message: FixMessage, poss_dup: bool, now: datetime
    ) -> list[Answer]:
        """Pass a request to the venue, or return the gateway's own answer to it."""
        account = AccountId(self._sessions[session_id].config.target_comp_id)
        request = read_request(message, account)
        if isinstance(request, Refusal):
            return [self._refuse(session_id, request, now)]
        venue, cl_ord_id = self.venue, request.cl_ord_id
        if not self._may_use(session_id, cl_ord_id):
            code = RejectCode.DUPLICATE_CL_ORD_ID
            if isinstance(request, StatusRequest):
                code = RejectCode.UNKNOWN_ORDER
            return [self._refuse(session_id, self._refusal(message, code), now)]
        if isinstance(request, Cancel | Replace) and not self._may_use(
            session_id, request.orig_cl_ord_id
        ):
            refusal = self._refusal(message, RejectCode.UNKNOWN_ORDER)
            return [self._refuse(session_id, refusal, now, show_order=False)]
        if (
            poss_dup
            and not isinstance(request, StatusRequest)
            and self._owners.get(cl_ord_id) == session_id
            and venue.order_state(cl_ord_id) is not None
        ):  # a resent request the venue already took: say where the order stands
            venue.status(cl_ord_id, now)
            return []
        self._owners[cl_ord_id] = session_id
        match request:
            case NewOrder():
                venue.new_order(
                    cl_ord_id, request.account, request.symbol, request.side, request.qty,
                    request.ord_type, request.price, request.tif, now, session=session_id,
                    account_given=request.account_given,
                )  # fmt: skip
            case Cancel():
                venue.cancel(cl_ord_id, request.orig_cl_ord_id, now)
            case Replace():
                venue.replace(cl_ord_id, request.orig_cl_ord_id, request.qty, request.price, now)
            case StatusRequest():
                if venue.order_state(cl_ord_id) is None:
                    self._echoes[cl_ord_id] = request.echo
                venue.status(cl_ord_id, now)
        return []

    def _take_mass_status(
        self, session: Session, message: FixMessage, now: datetime
    ) -> list[Reply]:
        """Ask the venue for the session's open orders (the answer comes through the wire),
        or return the refusal of a request it will not answer."""
        session_id = session.config.session_id
        request = read_mass_status_request(message, session.config.begin_string)
        if isinstance(request, BusinessReject):
            return [(session_id, request)]
        self.venue.mass_status(request.request_id, now, session=session_id)
        return []

    def _session_of(self, report: VenueReport) -> str | None:
        """Return the session a report of the venue goes to: a mass status answer's asker,
        or the owner of the report's ClOrdID."""
        if report.mass_status is not None:
            asker = report.mass_status.session
            return asker if asker in self._sessions else None
        return self._owners.get(report.cl_ord_id)

    def _may_use(self, session_id: str, cl_ord_id: ClOrdId) -> bool:
        owner = self._owners.get(cl_ord_id)
        return owner is None or owner == session_id

    def _refusal(self, message: FixMessage, code: RejectCode) -> Refusal:
        cl_ord_id = message.get_str(t.CL_ORD_ID) or ""
        if code is RejectCode.DUPLICATE_CL_ORD_ID:
            text = f"ClOrdID {cl_ord_id} was already used"
        else:
            orig = message.get_str(t.ORIG_CL_ORD_ID) or cl_ord_id
            text = f"unknown order {orig}"
        return refusal_for(message, code, text)

    def _refuse(
        self, session_id: str, refusal: Refusal, now: datetime, *, show_order: bool = True
    ) -> Answer:
        """Answer a request the venue will not see; a cancel or replace of one of the
        session's own orders shows that order's state."""
        order = None
        orig = refusal.orig_cl_ord_id
        if show_order and orig and self._owners.get(ClOrdId(orig)) == session_id:
            order = self.venue.order_state(ClOrdId(orig))
        exec_id = None
        if refusal.request_type not in ("F", "G"):
            self._gateway_exec_seq += 1
            exec_id = ExecId(f"SIMGW-E{self._gateway_exec_seq:09d}")
        return session_id, refusal_report(refusal, exec_id, now, order), refusal.echo

    # -- sending ---------------------------------------------------------------------------------
    async def _send(
        self, session_id: str, report: VenueReport, echo: Echo | None, now: datetime
    ) -> None:
        session = self._sessions[session_id]
        try:
            msg_type, body = report_message(report, session.config.begin_string, echo)
        except Exception:  # one report the writer cannot say must not stop the wire
            log.exception("%s: cannot write %s", session_id, report)
            return
        await self._deliver(session, msg_type, body, now)

    async def _copy(
        self,
        report: VenueReport,
        now: datetime,
        session_id: str | None = None,
        echo: Echo | None = None,
    ) -> None:
        """Send the drop copy of a report sent (or to be sent) on a trading session; the
        venue's own reports name their session by the owner of their ClOrdID (a mass status
        answer by the session that asked)."""
        if session_id is None:
            session_id = self._session_of(report)
            echo = self._echoes.get(report.cl_ord_id)
        origin = None
        if session_id is not None and session_id in self._sessions:
            origin = self._sessions[session_id].config
        for session in self._copy_sessions.values():
            config = session.config
            try:
                copy = copy_message(report, config.begin_string, origin, echo)
            except Exception:  # as in _send: one bad report must not stop the copies
                log.exception("%s: cannot copy %s", config.session_id, report)
                continue
            if copy is None:
                return
            await self._deliver(session, *copy, now)

    async def _deliver(self, session: Session, msg_type: str, body: Fields, now: datetime) -> None:
        """Send on the session's live connection, or keep for resend when it is not live."""
        connection = self._live.get(session.config.session_id)
        if connection is not None and connection.logged_on:
            try:
                await connection.send(msg_type, body)
            except FixSessionError:  # the line went between the check and the send
                pass
            else:
                return
        _keep_for_resend(session, msg_type, body, now)

    async def _cut(self) -> None:
        """Drop the trading lines (the drop copy is another line, and stays)."""
        self.cuts += 1
        for session_id, connection in list(self._live.items()):
            if session_id in self._sessions:
                await connection.close("the simulated venue dropped the connection (fault plan)")

    def clock_now(self) -> datetime:
        """Return the venue's time now (never earlier than the last it used)."""
        return self._now()

    def _now(self) -> datetime:
        """The clock's time, never earlier than the last (the venue refuses time going back)."""
        now = self._clock.now()
        if self._last_now is not None and now < self._last_now:
            now = self._last_now
        self._last_now = now
        return now


def _keep_for_resend(session: Session, msg_type: str, body: Fields, now: datetime) -> None:
    """Number an application message in the session's sequence and store it unsent.

    The header is the one ``Session`` writes (fields by tag), so a resend of it is the same
    message as one that was sent and lost.
    """
    config, store = session.config, session.store
    seq = store.load().next_sender
    header: Fields = [
        (t.MSG_SEQ_NUM, seq),
        (t.SENDER_COMP_ID, config.sender_comp_id),
        (t.SENDING_TIME, now),
        (t.TARGET_COMP_ID, config.target_comp_id),
    ]
    raw = encode(config.begin_string, [(t.MSG_TYPE, msg_type), *header, *body])
    store.store_sent(seq, raw)
