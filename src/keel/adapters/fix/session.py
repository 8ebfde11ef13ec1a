"""The FIX session engine: the session-level rules, with no I/O.

A ``Session`` is told what happens (``connected``, ``on_raw`` for each framed message,
``on_timer``, ``send`` for an application message, ``logout``, ``disconnected``) and
answers with the ``actions`` its transport carries out. Time is always an argument, so
every rule is tested without sockets or sleeps.

The rules, as the FIX session-level specification gives them:

- The first message on an acceptor's connection must be a Logon; anything else disconnects.
- Logon carries HeartBtInt; ResetSeqNumFlag=Y starts both sequence numbers at 1.
- A message whose BeginString is not the session's: Logout, disconnect.
- Wrong SenderCompID/TargetCompID: Reject (373=9), Logout, disconnect.
- SendingTime further from now than the tolerance: Reject (373=10), Logout, disconnect.
- MsgSeqNum missing: Logout, disconnect.
- MsgSeqNum higher than expected: ResendRequest for the gap; the message waits and is
  processed in order once the gap is filled (a ResendRequest or Logout is acted on at once).
- MsgSeqNum lower than expected without PossDupFlag=Y: Logout, disconnect. With
  PossDupFlag=Y: ignored (already processed), after checking OrigSendingTime.
- PossDupFlag=Y needs OrigSendingTime (else Reject 373=1), not later than SendingTime
  (else Reject 373=10, Logout).
- A ResendRequest is answered with the stored application messages, PossDupFlag=Y and
  OrigSendingTime set; administrative messages are replaced by SequenceReset-GapFill.
- SequenceReset-GapFill moves the expected number up (never down: Reject 373=5);
  SequenceReset-Reset sets it whatever its own MsgSeqNum.
- An invalid message (dictionary validation, when on) gets a Reject with RefSeqNum,
  RefTagID, RefMsgType, SessionRejectReason and Text, and consumes its sequence number.
- Garbled messages (bad BodyLength or CheckSum) are ignored without consuming a number.
- An application message the application does not handle gets a BusinessMessageReject.
- Heartbeats when nothing was sent for HeartBtInt; a TestRequest when nothing arrived for
  HeartBtInt plus 20%; disconnect when that TestRequest goes unanswered for HeartBtInt.
- Logout is a handshake: a Logout received is answered with a Logout, then disconnect;
  a Logout sent waits for the peer's (or a timeout) before disconnecting.
- Schedules: no logon outside the session's hours; logout at the end; sequence numbers
  start again in each new period. ResetOnLogon, ResetOnLogout, ResetOnDisconnect.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from keel.adapters.fix import tags as t
from keel.adapters.fix.actions import (
    Action,
    Deliver,
    Disconnect,
    Ignored,
    Send,
    SessionState,
    StateChanged,
)
from keel.adapters.fix.codec import FieldValue, encode, parse
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.dictionary import DataDictionary, dictionary_for
from keel.adapters.fix.errors import (
    FixError,
    FixFieldError,
    GarbledMessageError,
    SessionRejectReason,
)
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.store import SessionStore, msg_type_of

COMPID_PROBLEM = SessionRejectReason.COMPID_PROBLEM
REQUIRED_TAG_MISSING = SessionRejectReason.REQUIRED_TAG_MISSING
SENDING_TIME_ACCURACY = SessionRejectReason.SENDINGTIME_ACCURACY_PROBLEM
VALUE_IS_INCORRECT = SessionRejectReason.VALUE_IS_INCORRECT
ADMIN_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "A"})
UNSUPPORTED_MESSAGE_TYPE = 3
"""BusinessRejectReason(380) for an application message this side does not handle."""
TEST_REQUEST_GRACE = 1.2
"""Silence, in heartbeat intervals, after which a TestRequest is sent."""


class FixSessionError(FixError):
    """The application asked the session for something it cannot do now (such as sending
    while not logged on)."""


class Session:
    """One FIX session's state and rules; see the module docstring."""

    def __init__(
        self,
        config: SessionConfig,
        store: SessionStore,
        *,
        password: str | None = None,
        dictionary: DataDictionary | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._password = password
        self._dd = dictionary or dictionary_for(config.begin_string)
        self.state = SessionState.DISCONNECTED
        self.heartbeat = config.heartbeat_interval
        self._queued: dict[int, FixMessage] = {}
        """Messages that arrived ahead of a gap, by MsgSeqNum."""
        self._resend_to: int | None = None
        """While a ResendRequest is outstanding: the highest number it must bring."""
        self._since = self._last_sent = self._last_received = _EPOCH
        self._test_request: tuple[str, datetime] | None = None
        self._test_requests = 0

    def __repr__(self) -> str:
        return f"Session({self.config.session_id}, {self.state})"

    # -- sequence numbers -----------------------------------------------------------------
    @property
    def next_sender_seq(self) -> int:
        return self.store.load().next_sender

    @property
    def next_target_seq(self) -> int:
        return self.store.load().next_target

    # -- what the transport tells the session ---------------------------------------------
    def connected(self, now: datetime) -> list[Action]:
        """A connection is up: the initiator logs on; the acceptor waits for a Logon."""
        self._new_period_reset(now)
        self._queued.clear()
        self._resend_to = None
        self._test_request = None
        self._since = self._last_received = now
        if not self.config.initiator:
            return [self._move(SessionState.AWAITING_LOGON, "connected; waiting for Logon", now)]
        if not self.config.schedule.in_session(now):
            return [Disconnect("outside the session's schedule")]
        if self.config.reset_on_logon:
            self.store.reset(now)
        out: list[Action] = [self._move(SessionState.LOGON_SENT, "connected; Logon sent", now)]
        out.append(self._logon(now, reset=self.config.reset_on_logon))
        return out

    def disconnected(self, now: datetime) -> list[Action]:
        """The connection is gone, whoever closed it."""
        if self.state is SessionState.DISCONNECTED:
            return []
        if self.config.reset_on_disconnect:
            self.store.reset(now)
        self._queued.clear()
        self._resend_to = None
        return [self._move(SessionState.DISCONNECTED, "disconnected", now)]

    def on_raw(self, raw: bytes | GarbledMessageError, now: datetime) -> list[Action]:
        """One framed message from the peer (or the framer's verdict that it was garbled)."""
        if isinstance(raw, GarbledMessageError):
            return [Ignored(f"garbled message ignored: {raw}", getattr(raw, "raw", b""))]
        try:
            msg = parse(raw)
        except GarbledMessageError as e:
            return [Ignored(f"garbled message ignored: {e}", raw)]
        except FixFieldError as e:
            return self._unreadable(raw, e, now)
        self._last_received = now
        return self._received(msg, now)

    def on_timer(self, now: datetime) -> list[Action]:
        """Heartbeats, TestRequests and the timeouts of logon and logout; call about once a
        second."""
        state, cfg = self.state, self.config
        if state is SessionState.AWAITING_LOGON and now - self._since > cfg.logon_timeout:
            return [Disconnect(f"no Logon within {cfg.logon_timeout.total_seconds():g} s")]
        if state is SessionState.LOGON_SENT and now - self._since > cfg.logon_timeout:
            return [
                Disconnect(f"no answer to Logon within {cfg.logon_timeout.total_seconds():g} s")
            ]
        if state is SessionState.LOGOUT_SENT and now - self._since > cfg.logout_timeout:
            return [Disconnect("no answer to Logout")]
        if state is not SessionState.ACTIVE:
            return []
        if not cfg.schedule.in_session(now):
            return self.logout("end of the session's schedule", now)
        interval = timedelta(seconds=self.heartbeat)
        out: list[Action] = []
        if self._test_request is not None:
            if now - self._test_request[1] >= interval:
                return [Disconnect(f"no answer to TestRequest {self._test_request[0]}")]
        elif now - self._last_received >= interval * TEST_REQUEST_GRACE:
            self._test_requests += 1
            test_id = f"TEST-{self._test_requests}"
            self._test_request = (test_id, now)
            out.append(self._admin("1", [(t.TEST_REQ_ID, test_id)], now))
        if now - self._last_sent >= interval:
            out.append(self._admin("0", [], now))
        return out

    # -- what the application asks --------------------------------------------------------
    def send(
        self, msg_type: str, body: Sequence[tuple[int, FieldValue]], now: datetime
    ) -> list[Action]:
        """Send an application message: number it, keep it for resends, and write it."""
        if self.state is not SessionState.ACTIVE:
            raise FixSessionError(f"{self.config.session_id} is not logged on ({self.state})")
        seq = self.store.load().next_sender
        raw = self._encode(msg_type, seq, body, now)
        self.store.store_sent(seq, raw)
        self._last_sent = now
        return [Send(raw, seq, msg_type)]

    def keep_for_resend(
        self, msg_type: str, body: Sequence[tuple[int, FieldValue]], now: datetime
    ) -> int:
        """Number and keep an application message without sending it (the peer is away):
        when it logs on again it sees the gap and asks for the message, which is resent
        like any other. Return its MsgSeqNum."""
        seq = self.store.load().next_sender
        self.store.store_sent(seq, self._encode(msg_type, seq, body, now))
        return seq

    def logout(self, text: str, now: datetime) -> list[Action]:
        """Start the Logout handshake."""
        if self.state not in (SessionState.ACTIVE, SessionState.LOGON_SENT):
            return [Disconnect(text)]
        out: list[Action] = [self._admin("5", [(t.TEXT, text)] if text else [], now)]
        out.append(self._move(SessionState.LOGOUT_SENT, text, now))
        return out

    # -- receiving ------------------------------------------------------------------------
    def _received(self, msg: FixMessage, now: datetime) -> list[Action]:
        cfg = self.config
        if msg.begin_string != cfg.begin_string:
            return self._fatal(
                f"BeginString {msg.begin_string} is not {cfg.begin_string}", now, logout=True
            )
        msg_type = msg.get_str(t.MSG_TYPE) or ""
        if self.state is SessionState.AWAITING_LOGON and msg_type != "A":
            return [Disconnect(f"first message was {msg_type!r}, not a Logon")]
        try:
            seq = msg.get_int(t.MSG_SEQ_NUM)
        except FixFieldError:
            seq = None
        if seq is None:
            return self._fatal("MsgSeqNum(34) missing or not a number", now, logout=True)
        if (msg.get_str(t.SENDER_COMP_ID), msg.get_str(t.TARGET_COMP_ID)) != (
            cfg.target_comp_id,
            cfg.sender_comp_id,
        ):
            text = (
                f"CompID problem: expected {cfg.target_comp_id}->{cfg.sender_comp_id}, got "
                f"{msg.get_str(t.SENDER_COMP_ID)}->{msg.get_str(t.TARGET_COMP_ID)}"
            )
            return self._fatal_reject(seq, msg_type, None, COMPID_PROBLEM, text, now)
        time_problem = self._sending_time_problem(msg, now)
        if time_problem is not None:
            return self._fatal_reject(
                seq, msg_type, t.SENDING_TIME, SENDING_TIME_ACCURACY, time_problem, now
            )
        if msg_type == "A":
            return self._on_logon(msg, seq, now)
        if self.state not in (SessionState.ACTIVE, SessionState.LOGOUT_SENT):
            return [Disconnect(f"{msg_type!r} received before logon completed")]
        if msg_type == "4" and not msg.get_bool(t.GAP_FILL_FLAG):
            return self._on_sequence_reset(msg, seq, now)
        expected = self.store.load().next_target
        if seq > expected:
            return self._too_high(msg, msg_type, seq, expected, now)
        if seq < expected:
            return self._too_low(msg, msg_type, seq, expected, now)
        out = self._process(msg, msg_type, seq, now)
        out.extend(self._drain(now))
        return out

    def _too_high(
        self, msg: FixMessage, msg_type: str, seq: int, expected: int, now: datetime
    ) -> list[Action]:
        out: list[Action] = []
        if msg_type == "5":  # a Logout is honoured whatever the gap
            return self._on_logout(msg, now)
        if msg_type == "2":  # answer the peer's ResendRequest now; its number waits
            out.extend(self._on_resend_request(msg, seq, now))
        self._queued[seq] = msg
        if self._resend_to is None:
            out.append(self._admin("2", [(t.BEGIN_SEQ_NO, expected), (t.END_SEQ_NO, 0)], now))
            out.append(
                StateChanged(self.state, f"gap: expected {expected}, received {seq}; resend asked")
            )
        self._resend_to = max(self._resend_to or 0, seq)
        return out

    def _too_low(
        self, msg: FixMessage, msg_type: str, seq: int, expected: int, now: datetime
    ) -> list[Action]:
        if msg.get_bool(t.POSS_DUP_FLAG):
            problem = self._poss_dup_problem(msg, seq, msg_type, now)
            if problem is not None:
                return problem
            return [Ignored(f"possible duplicate {seq} already processed", msg.raw or b"")]
        return self._fatal(
            f"MsgSeqNum too low, expecting {expected} but received {seq}", now, logout=True
        )

    def _process(self, msg: FixMessage, msg_type: str, seq: int, now: datetime) -> list[Action]:
        """Act on the message the session expects next, and count it."""
        store = self.store
        if msg.get_bool(t.POSS_DUP_FLAG):
            problem = self._poss_dup_problem(msg, seq, msg_type, now)
            if problem is not None:
                store.set_next_target(seq + 1)
                return problem
        if self.config.validate:
            try:
                self._dd.validate(msg)
            except FixFieldError as e:
                store.set_next_target(seq + 1)
                tag = e.tag
                return [self._reject(seq, msg_type, tag, e.session_reject_reason, e.reason, now)]
        if msg_type == "4":  # SequenceReset-GapFill
            return self._on_gap_fill(msg, seq, now)
        store.set_next_target(seq + 1)
        if self._resend_to is not None and seq >= self._resend_to:
            self._resend_to = None
        match msg_type:
            case "0":
                test_id = msg.get_str(t.TEST_REQ_ID)
                if self._test_request is not None and test_id == self._test_request[0]:
                    self._test_request = None
                return []
            case "1":
                self._test_request = None
                test_id = msg.get_str(t.TEST_REQ_ID) or ""
                return [self._admin("0", [(t.TEST_REQ_ID, test_id)], now)]
            case "2":
                return self._on_resend_request(msg, seq, now)
            case "3":
                return [StateChanged(self.state, f"peer rejected our {msg.get_str(t.REF_SEQ_NUM)}: "
                                     f"{msg.get_str(t.TEXT) or ''}")]  # fmt: skip
            case "5":
                return self._on_logout(msg, now)
            case _:
                pass
        if msg_type not in self.config.app_msg_types:
            return [self._business_reject(seq, msg_type, now)]
        return [Deliver(msg, seq, bool(msg.get_bool(t.POSS_DUP_FLAG)))]

    def _drain(self, now: datetime) -> list[Action]:
        """Process the messages that waited behind a gap, now in order."""
        out: list[Action] = []
        while self._queued and self.state in (SessionState.ACTIVE, SessionState.LOGOUT_SENT):
            expected = self.store.load().next_target
            # a gap fill may have moved past some waiting messages: they are duplicates now
            for stale in [s for s in self._queued if s < expected]:
                del self._queued[stale]
            msg = self._queued.pop(expected, None)
            if msg is None:
                break
            msg_type = msg.get_str(t.MSG_TYPE) or ""
            if msg_type == "2":  # answered when it arrived; now only counted
                self.store.set_next_target(expected + 1)
                continue
            out.extend(self._process(msg, msg_type, expected, now))
        resend_to = self._resend_to
        if not self._queued and resend_to is not None and self.store.load().next_target > resend_to:
            self._resend_to = None
        return out

    # -- logon and logout -----------------------------------------------------------------
    def _on_logon(self, msg: FixMessage, seq: int, now: datetime) -> list[Action]:
        cfg = self.config
        if self.state is SessionState.ACTIVE and not msg.get_bool(t.RESET_SEQ_NUM_FLAG):
            return self._fatal("Logon received while logged on", now, logout=True)
        if cfg.validate:
            try:
                self._dd.validate(msg)
            except FixFieldError as e:
                return self._fatal(f"invalid Logon: {e.reason}", now, logout=True)
        heartbeat = msg.get_int(t.HEART_BT_INT)
        if heartbeat is None or heartbeat < 0:
            return self._fatal("Logon without a valid HeartBtInt(108)", now, logout=True)
        if not cfg.schedule.in_session(now):
            return self._fatal("Logon outside the session's schedule", now, logout=True)
        peer_reset = bool(msg.get_bool(t.RESET_SEQ_NUM_FLAG))
        out: list[Action] = []
        if self.state is SessionState.AWAITING_LOGON or (
            self.state is SessionState.ACTIVE and peer_reset
        ):
            if peer_reset or cfg.reset_on_logon:
                self.store.reset(now)
            if heartbeat > 0:
                self.heartbeat = heartbeat
        elif self.state is not SessionState.LOGON_SENT:
            return [Disconnect(f"Logon received in state {self.state}")]
        expected = self.store.load().next_target
        if seq < expected:
            return self._fatal(
                f"MsgSeqNum too low, expecting {expected} but received {seq}", now, logout=True
            )
        if self.state is not SessionState.LOGON_SENT:  # we are the acceptor, or reset in session
            out.append(self._logon(now, reset=peer_reset or cfg.reset_on_logon))
        out.append(
            self._move(SessionState.ACTIVE, f"logged on (HeartBtInt {self.heartbeat} s)", now)
        )
        if seq > expected:
            out.append(self._admin("2", [(t.BEGIN_SEQ_NO, expected), (t.END_SEQ_NO, 0)], now))
            out.append(
                StateChanged(self.state, f"gap at logon: expected {expected}, received {seq}")
            )
            self._resend_to = seq
        else:
            self.store.set_next_target(seq + 1)
        return out

    def _on_logout(self, msg: FixMessage, now: datetime) -> list[Action]:
        text = msg.get_str(t.TEXT) or ""
        out: list[Action] = []
        if self.state is not SessionState.LOGOUT_SENT:
            out.append(self._admin("5", [], now))
        out.append(Disconnect(f"logged out by the peer: {text}" if text else "logged out"))
        if self.config.reset_on_logout:
            self.store.reset(now)
        return out

    def _logon(self, now: datetime, *, reset: bool) -> Send:
        body: list[tuple[int, FieldValue]] = [
            (t.ENCRYPT_METHOD, 0),
            (t.HEART_BT_INT, self.heartbeat),
        ]
        if reset:
            body.append((t.RESET_SEQ_NUM_FLAG, True))
        if self.config.username is not None and self.config.begin_string != "FIX.4.2":
            body.append((t.USERNAME, self.config.username))
            if self._password is not None:
                body.append((t.PASSWORD, self._password))
        return self._admin("A", body, now)

    # -- resends and resets ---------------------------------------------------------------
    def _on_resend_request(self, msg: FixMessage, seq: int, now: datetime) -> list[Action]:
        begin = msg.get_int(t.BEGIN_SEQ_NO) or 1
        end = msg.get_int(t.END_SEQ_NO) or 0
        last_sent = self.store.load().next_sender - 1
        if end == 0 or end > last_sent:
            end = last_sent
        if begin > end:
            return [StateChanged(self.state, f"ResendRequest {begin}..{end}: nothing to resend")]
        out: list[Action] = []
        stored = dict(self.store.sent_between(begin, end))
        gap_from: int | None = None
        for n in range(begin, end + 1):
            raw = stored.get(n)
            if raw is None or msg_type_of(raw) in ADMIN_TYPES:
                if gap_from is None:
                    gap_from = n
                continue
            if gap_from is not None:
                out.append(self._gap_fill(gap_from, n, now))
                gap_from = None
            out.append(self._resent(raw, n, now))
        if gap_from is not None:
            out.append(self._gap_fill(gap_from, end + 1, now))
        return out

    def _resent(self, raw: bytes, seq: int, now: datetime) -> Send:
        """Return a stored message again: PossDupFlag=Y, OrigSendingTime its first time."""
        original = parse(raw)
        orig_time = original.get(t.SENDING_TIME) or b""
        body = [
            (tag, value)
            for tag, value in original.fields
            if tag not in _HEADER_WE_WRITE and tag not in (t.POSS_DUP_FLAG, t.ORIG_SENDING_TIME)
        ]
        extra: list[tuple[int, FieldValue]] = [(t.POSS_DUP_FLAG, True)]
        if orig_time:
            extra.append((t.ORIG_SENDING_TIME, orig_time))
        data = self._encode(original.msg_type, seq, body, now, extra)
        self._last_sent = now
        return Send(data, seq, original.msg_type)

    def _gap_fill(self, seq: int, new_seq: int, now: datetime) -> Send:
        body: list[tuple[int, FieldValue]] = [(t.GAP_FILL_FLAG, True), (t.NEW_SEQ_NO, new_seq)]
        data = self._encode("4", seq, body, now, [(t.POSS_DUP_FLAG, True)])
        self._last_sent = now
        return Send(data, seq, "4")

    def _on_gap_fill(self, msg: FixMessage, seq: int, now: datetime) -> list[Action]:
        new_seq = msg.get_int(t.NEW_SEQ_NO)
        if new_seq is None or new_seq <= seq:
            self.store.set_next_target(seq + 1)
            return [
                self._reject(
                    seq, "4", t.NEW_SEQ_NO, VALUE_IS_INCORRECT,
                    f"SequenceReset-GapFill to {new_seq} would not move past {seq}", now,
                )
            ]  # fmt: skip
        self.store.set_next_target(new_seq)
        if self._resend_to is not None and new_seq > self._resend_to:
            self._resend_to = None
        return []

    def _on_sequence_reset(self, msg: FixMessage, seq: int, now: datetime) -> list[Action]:
        """SequenceReset-Reset: set the expected number, whatever this message's own."""
        new_seq = msg.get_int(t.NEW_SEQ_NO)
        expected = self.store.load().next_target
        if new_seq is None or new_seq < expected:
            return [
                self._reject(
                    seq, "4", t.NEW_SEQ_NO, VALUE_IS_INCORRECT,
                    f"SequenceReset to {new_seq} would lower the expected {expected}", now,
                )
            ]  # fmt: skip
        self.store.set_next_target(new_seq)
        self._queued = {s: m for s, m in self._queued.items() if s >= new_seq}
        self._resend_to = None
        out: list[Action] = [StateChanged(self.state, f"sequence reset to {new_seq}")]
        out.extend(self._drain(now))
        return out

    # -- checks ---------------------------------------------------------------------------
    def _sending_time_problem(self, msg: FixMessage, now: datetime) -> str | None:
        try:
            sent = msg.get_utc(t.SENDING_TIME)
        except FixFieldError:
            return "SendingTime(52) is not a UTC timestamp"
        if sent is None:
            return "SendingTime(52) missing"
        if abs(now - sent) > self.config.sending_time_tolerance:
            return (
                f"SendingTime accuracy problem: {sent.isoformat()} is more than "
                f"{self.config.sending_time_tolerance.total_seconds():g} s from {now.isoformat()}"
            )
        return None

    def _poss_dup_problem(
        self, msg: FixMessage, seq: int, msg_type: str, now: datetime
    ) -> list[Action] | None:
        if msg_type == "4":  # a gap fill needs no OrigSendingTime
            return None
        try:
            orig = msg.get_utc(t.ORIG_SENDING_TIME)
            sent = msg.get_utc(t.SENDING_TIME)
        except FixFieldError as e:
            return [self._reject(seq, msg_type, e.tag, e.session_reject_reason, e.reason, now)]
        if orig is None:
            return [
                self._reject(
                    seq, msg_type, t.ORIG_SENDING_TIME, REQUIRED_TAG_MISSING,
                    "PossDupFlag=Y without OrigSendingTime(122)", now,
                )
            ]  # fmt: skip
        if sent is not None and orig > sent:
            return self._fatal_reject(
                seq, msg_type, t.ORIG_SENDING_TIME, SENDING_TIME_ACCURACY,
                "OrigSendingTime(122) is later than SendingTime(52)", now,
            )  # fmt: skip
        return None

    def _unreadable(self, raw: bytes, error: FixFieldError, now: datetime) -> list[Action]:
        """A message that frames but cannot be read: Reject it if its number is readable
        and expected; otherwise it is as good as garbled."""
        seq = error.seq_num
        self._last_received = now
        if self.state is not SessionState.ACTIVE or seq is None:
            return [Ignored(f"unreadable message ignored: {error}", raw)]
        expected = self.store.load().next_target
        if seq != expected:
            return [Ignored(f"unreadable message {seq} ignored (expecting {expected})", raw)]
        self.store.set_next_target(seq + 1)
        out: list[Action] = [
            self._reject(
                seq, error.msg_type or "", error.tag, error.session_reject_reason, error.reason,
                now,
            )
        ]  # fmt: skip
        out.extend(self._drain(now))
        return out

    # -- sending --------------------------------------------------------------------------
    def _admin(self, msg_type: str, body: Sequence[tuple[int, FieldValue]], now: datetime) -> Send:
        """Send an administrative message: numbered, not kept (a resend gap-fills it)."""
        seq = self.store.load().next_sender
        data = self._encode(msg_type, seq, body, now)
        self.store.store_sent(seq, data)  # every message is kept; a resend gap-fills these
        self._last_sent = now
        return Send(data, seq, msg_type)

    def _encode(
        self,
        msg_type: str,
        seq: int,
        body: Sequence[tuple[int, FieldValue]],
        now: datetime,
        extra_header: Sequence[tuple[int, FieldValue]] = (),
    ) -> bytes:
        cfg = self.config
        header: list[tuple[int, FieldValue]] = [
            (t.MSG_SEQ_NUM, seq),
            (t.SENDER_COMP_ID, cfg.sender_comp_id),
            (t.SENDING_TIME, now),
            (t.TARGET_COMP_ID, cfg.target_comp_id),
        ]
        if extra_header:  # header fields by tag, as QuickFIX writes them (34 < 49 < 52 < 56)
            header += extra_header
            header.sort(key=lambda f: f[0])
        return encode(cfg.begin_string, [(t.MSG_TYPE, msg_type), *header, *body])

    def _reject(
        self,
        ref_seq: int,
        ref_msg_type: str,
        ref_tag: int | None,
        reason: int,
        text: str,
        now: datetime,
    ) -> Send:
        body: list[tuple[int, FieldValue]] = [(t.REF_SEQ_NUM, ref_seq)]
        if ref_tag is not None:
            body.append((t.REF_TAG_ID, ref_tag))
        if ref_msg_type:
            body.append((t.REF_MSG_TYPE, ref_msg_type))
        body.append((t.SESSION_REJECT_REASON, reason))
        body.append((t.TEXT, text))
        return self._admin("3", body, now)

    def _business_reject(self, ref_seq: int, ref_msg_type: str, now: datetime) -> Send:
        """Refuse an application message this side does not handle: 35=j, 380=3."""
        body: list[tuple[int, FieldValue]] = [
            (t.REF_SEQ_NUM, ref_seq),
            (t.REF_MSG_TYPE, ref_msg_type),
            (t.BUSINESS_REJECT_REASON, UNSUPPORTED_MESSAGE_TYPE),
            (t.TEXT, f"unsupported message type {ref_msg_type!r}"),
        ]
        seq = self.store.load().next_sender
        data = self._encode("j", seq, body, now)
        self.store.store_sent(seq, data)  # an application message: resent on request
        self._last_sent = now
        return Send(data, seq, "j")

    def _fatal(self, text: str, now: datetime, *, logout: bool) -> list[Action]:
        out: list[Action] = []
        if logout:
            out.append(self._admin("5", [(t.TEXT, text)], now))
        out.append(Disconnect(text))
        return out

    def _fatal_reject(
        self,
        seq: int,
        msg_type: str,
        tag: int | None,
        reason: int,
        text: str,
        now: datetime,
    ) -> list[Action]:
        """Reject a message, then log out and disconnect (CompID and SendingTime problems)."""
        if self.store.load().next_target == seq:
            self.store.set_next_target(seq + 1)
        out: list[Action] = [self._reject(seq, msg_type, tag, reason, text, now)]
        out.extend(self._fatal(text, now, logout=True))
        return out

    # -- state ----------------------------------------------------------------------------
    def _move(self, state: SessionState, reason: str, now: datetime) -> StateChanged:
        """Enter ``state``; its timeouts count from ``now``."""
        self.state = state
        self._since = now
        return StateChanged(state, reason)

    def _new_period_reset(self, now: datetime) -> None:
        """Start the numbers again when the schedule has begun a period since they last
        started."""
        schedule = self.config.schedule
        if not schedule.reset_each_period:
            return
        started = schedule.period_start(now)
        if started is not None and self.store.load().created_at < started:
            self.store.reset(now)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEADER_WE_WRITE = frozenset({t.MSG_TYPE, t.MSG_SEQ_NUM, t.SENDER_COMP_ID, t.TARGET_COMP_ID,
                              t.SENDING_TIME})  # fmt: skip
