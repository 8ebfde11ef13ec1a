"""The FIX session-level rules, one named test each (see ``keel.adapters.fix.session``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from keel.adapters.fix import tags as t
from keel.adapters.fix.actions import Deliver, Ignored, SessionState
from keel.adapters.fix.codec import encode, parse
from keel.adapters.fix.config import SessionSchedule
from keel.adapters.fix.dictionary import FIX44
from keel.adapters.fix.errors import GarbledMessageError
from keel.adapters.fix.message import SOH
from keel.adapters.fix.session import Session
from keel.adapters.fix.store import MemorySessionStore
from support.fix import (
    T0,
    Peer,
    acceptor_config,
    delivered,
    disconnects,
    initiator_config,
    logged_on,
    new_session,
    sent,
    sent_types,
)

# -- logon ---------------------------------------------------------------------------------


def test_first_message_that_is_not_a_logon_disconnects_without_answer() -> None:
    session, peer = new_session(), Peer()
    session.connected(T0)
    actions = session.on_raw(peer.new_order(), T0)
    assert sent_types(actions) == []
    assert disconnects(actions) == ["first message was 'D', not a Logon"]


def test_logon_is_answered_with_logon_and_the_peers_heartbeat_interval() -> None:
    session, peer = new_session(), Peer()
    session.connected(T0)
    actions = session.on_raw(peer.logon(heartbeat=7), T0)
    (answer,) = sent(actions)
    assert answer.msg_type == "A"
    assert answer.get_int(t.HEART_BT_INT) == 7
    assert session.state is SessionState.ACTIVE
    assert session.heartbeat == 7
    assert session.next_target_seq == 2


def test_logon_with_reset_seq_num_flag_starts_both_numbers_at_one() -> None:
    session = new_session(next_sender=40, next_target=50)
    peer = Peer(seq=1)
    session.connected(T0)
    (answer,) = sent(session.on_raw(peer.logon(reset=True), T0))
    assert answer.get_int(t.MSG_SEQ_NUM) == 1
    assert answer.get_bool(t.RESET_SEQ_NUM_FLAG) is True
    assert (session.next_sender_seq, session.next_target_seq) == (2, 2)


def test_initiator_logs_on_when_connected_with_reset_when_configured() -> None:
    session = new_session(initiator_config(reset_on_logon=True), next_sender=9)
    (logon,) = sent(session.connected(T0))
    assert logon.msg_type == "A"
    assert logon.get_int(t.MSG_SEQ_NUM) == 1
    assert logon.get_bool(t.RESET_SEQ_NUM_FLAG) is True
    assert logon.get_int(t.HEART_BT_INT) == 30
    assert session.state is SessionState.LOGON_SENT
    session.on_raw(Peer().logon(reset=True), T0)
    assert session.state is SessionState.ACTIVE


def test_logon_with_too_low_seq_num_is_logged_out() -> None:
    session = new_session(next_target=10)
    session.connected(T0)
    actions = session.on_raw(Peer(seq=3).logon(), T0)
    assert sent_types(actions) == ["5"]
    assert disconnects(actions) == ["MsgSeqNum too low, expecting 10 but received 3"]


def test_logon_with_too_high_seq_num_is_accepted_then_a_resend_is_asked() -> None:
    session = new_session()
    session.connected(T0)
    actions = session.on_raw(Peer(seq=5).logon(), T0)
    logon, resend = sent(actions)
    assert (logon.msg_type, resend.msg_type) == ("A", "2")
    assert (resend.get_int(t.BEGIN_SEQ_NO), resend.get_int(t.END_SEQ_NO)) == (1, 0)


def test_no_logon_within_the_timeout_disconnects() -> None:
    session = new_session()
    session.connected(T0)
    assert session.on_timer(T0 + timedelta(seconds=5)) == []
    assert disconnects(session.on_timer(T0 + timedelta(seconds=11))) == ["no Logon within 10 s"]


# -- header checks -------------------------------------------------------------------------


def test_begin_string_mismatch_logs_out_and_disconnects() -> None:
    session, peer = logged_on()
    actions = session.on_raw(peer.new_order(begin_string="FIX.4.2"), T0)
    assert sent_types(actions) == ["5"]
    assert disconnects(actions) == ["BeginString FIX.4.2 is not FIX.4.4"]


def test_wrong_comp_id_is_rejected_with_reason_9_then_logged_out() -> None:
    session, peer = logged_on()
    actions = session.on_raw(peer.new_order(sender="INTRUDER"), T0)
    reject, logout = sent(actions)
    assert reject.msg_type == "3"
    assert reject.get_int(t.SESSION_REJECT_REASON) == 9
    assert reject.get_int(t.REF_SEQ_NUM) == 2
    assert logout.msg_type == "5"
    assert disconnects(actions)


def test_sending_time_outside_the_tolerance_is_rejected_with_reason_10_then_logged_out() -> None:
    session, peer = logged_on()
    actions = session.on_raw(peer.new_order(at=T0 - timedelta(minutes=5)), T0)
    reject, logout = sent(actions)
    assert reject.get_int(t.SESSION_REJECT_REASON) == 10
    assert reject.get_int(t.REF_TAG_ID) == t.SENDING_TIME
    assert logout.msg_type == "5"
    assert disconnects(actions)


def test_sending_time_within_the_tolerance_is_accepted() -> None:
    session, peer = logged_on()
    actions = session.on_raw(peer.new_order(at=T0 - timedelta(seconds=90)), T0)
    assert len(delivered(actions)) == 1


def test_missing_msg_seq_num_logs_out_and_disconnects() -> None:
    session, peer = logged_on()
    raw = peer.new_order().replace(b"\x0134=2\x01", b"\x01")
    raw = _refresh_trailer(raw)
    actions = session.on_raw(raw, T0)
    assert sent_types(actions) == ["5"]
    assert disconnects(actions) == ["MsgSeqNum(34) missing or not a number"]


# -- heartbeats and test requests ----------------------------------------------------------


def test_heartbeat_is_sent_after_an_interval_without_sending() -> None:
    session, peer = logged_on()
    session.on_raw(peer.msg("0", at=T0 + timedelta(seconds=29)), T0 + timedelta(seconds=29))
    assert session.on_timer(T0 + timedelta(seconds=29)) == []
    assert sent_types(session.on_timer(T0 + timedelta(seconds=30))) == ["0"]


def test_test_request_after_silence_and_disconnect_when_it_goes_unanswered() -> None:
    session, _ = logged_on()
    quiet = T0 + timedelta(seconds=36)
    actions = session.on_timer(quiet)
    assert "1" in sent_types(actions)
    (test_request,) = [m for m in sent(actions) if m.msg_type == "1"]
    assert test_request.get_str(t.TEST_REQ_ID) == "TEST-1"
    assert disconnects(session.on_timer(quiet + timedelta(seconds=29))) == []
    assert disconnects(session.on_timer(quiet + timedelta(seconds=30))) == [
        "no answer to TestRequest TEST-1"
    ]


def test_heartbeat_answering_the_test_request_keeps_the_session_up() -> None:
    session, peer = logged_on()
    quiet = T0 + timedelta(seconds=36)
    session.on_timer(quiet)
    later = quiet + timedelta(seconds=1)
    session.on_raw(peer.msg("0", [(t.TEST_REQ_ID, "TEST-1")], at=later), later)
    assert disconnects(session.on_timer(quiet + timedelta(seconds=31))) == []


def test_test_request_is_answered_with_a_heartbeat_carrying_its_id() -> None:
    session, peer = logged_on()
    (heartbeat,) = sent(session.on_raw(peer.msg("1", [(t.TEST_REQ_ID, "ping-7")]), T0))
    assert heartbeat.msg_type == "0"
    assert heartbeat.get_str(t.TEST_REQ_ID) == "ping-7"


# -- sequence numbers ----------------------------------------------------------------------


def test_seq_num_too_high_asks_a_resend_and_processes_in_order_once_the_gap_closes() -> None:
    session, peer = logged_on()
    first = peer.new_order("C1")  # seq 2, lost on the way
    second = peer.new_order("C2")  # seq 3
    actions = session.on_raw(second, T0)
    (resend,) = sent(actions)
    assert resend.msg_type == "2"
    assert (resend.get_int(t.BEGIN_SEQ_NO), resend.get_int(t.END_SEQ_NO)) == (2, 0)
    assert delivered(actions) == []
    assert sent(session.on_raw(peer.new_order("C3"), T0)) == []  # seq 4: no second request
    actions = session.on_raw(_poss_dup(first), T0)
    assert [m.get_str(t.CL_ORD_ID) for m in delivered(actions)] == ["C1", "C2", "C3"]
    assert session.next_target_seq == 5


def test_seq_num_too_low_without_poss_dup_logs_out() -> None:
    session, peer = logged_on()
    session.on_raw(peer.new_order("C1"), T0)
    actions = session.on_raw(peer.new_order("C2", seq=2), T0)
    assert sent_types(actions) == ["5"]
    assert disconnects(actions) == ["MsgSeqNum too low, expecting 3 but received 2"]


def test_poss_dup_below_the_expected_number_is_ignored() -> None:
    session, peer = logged_on()
    raw = peer.new_order("C1")
    session.on_raw(raw, T0)
    actions = session.on_raw(_poss_dup(raw), T0)
    assert delivered(actions) == []
    assert sent(actions) == []
    assert any(isinstance(a, Ignored) for a in actions)


def test_poss_dup_without_orig_sending_time_is_rejected_with_reason_1() -> None:
    session, peer = logged_on()
    raw = peer.new_order(header=[(t.POSS_DUP_FLAG, True)])
    (reject,) = sent(session.on_raw(raw, T0))
    assert reject.msg_type == "3"
    assert reject.get_int(t.SESSION_REJECT_REASON) == 1
    assert reject.get_int(t.REF_TAG_ID) == t.ORIG_SENDING_TIME
    assert session.next_target_seq == 3


def test_orig_sending_time_later_than_sending_time_is_rejected_with_reason_10() -> None:
    session, peer = logged_on()
    later = T0 + timedelta(seconds=5)
    raw = peer.new_order(header=[(t.POSS_DUP_FLAG, True), (t.ORIG_SENDING_TIME, later)])
    actions = session.on_raw(raw, T0)
    reject, logout = sent(actions)
    assert reject.get_int(t.SESSION_REJECT_REASON) == 10
    assert logout.msg_type == "5"


def test_poss_dup_at_the_expected_number_is_delivered_flagged() -> None:
    session, peer = logged_on()
    actions = session.on_raw(_poss_dup(peer.new_order("C1")), T0)
    (deliver,) = [a for a in actions if isinstance(a, Deliver)]
    assert deliver.poss_dup is True


# -- resend requests -----------------------------------------------------------------------


def test_resend_request_is_answered_with_stored_app_messages_and_gap_fills_for_admin() -> None:
    session, peer = logged_on()  # our Logon was 1
    session.send("8", [(t.ORDER_ID, "O1"), (t.EXEC_ID, "E1")], T0)  # 2
    session.on_timer(T0 + timedelta(seconds=30))  # heartbeat 3 (and maybe a test request)
    after = session.next_sender_seq
    session.send("8", [(t.ORDER_ID, "O1"), (t.EXEC_ID, "E2")], T0 + timedelta(seconds=31))
    later = T0 + timedelta(seconds=40)
    actions = session.on_raw(
        peer.msg("2", [(t.BEGIN_SEQ_NO, 1), (t.END_SEQ_NO, 0)], at=later), later
    )
    resent = sent(actions)
    assert [(m.msg_type, m.get_int(t.MSG_SEQ_NUM)) for m in resent] == [
        ("4", 1), ("8", 2), ("4", 3), ("8", after),
    ]  # fmt: skip
    gap_fill = resent[0]
    assert gap_fill.get_bool(t.GAP_FILL_FLAG) is True
    assert gap_fill.get_int(t.NEW_SEQ_NO) == 2
    assert resent[2].get_int(t.NEW_SEQ_NO) == after
    for message in resent:
        assert message.get_bool(t.POSS_DUP_FLAG) is True
    assert resent[1].get(t.ORIG_SENDING_TIME) == b"20260302-14:30:00.000"
    assert resent[1].get_str(t.EXEC_ID) == "E1"


def test_gap_fill_moves_the_expected_number_and_releases_waiting_messages() -> None:
    session, peer = logged_on()
    peer.seq = 6
    session.on_raw(peer.new_order("C6"), T0)  # gap 2..5
    gap_fill = Peer(seq=2).msg(
        "4", [(t.GAP_FILL_FLAG, True), (t.NEW_SEQ_NO, 6)], header=[(t.POSS_DUP_FLAG, True)]
    )
    actions = session.on_raw(gap_fill, T0)
    assert [m.get_str(t.CL_ORD_ID) for m in delivered(actions)] == ["C6"]
    assert session.next_target_seq == 7


def test_gap_fill_that_would_lower_the_number_is_rejected_with_reason_5() -> None:
    session, peer = logged_on()
    raw = peer.msg("4", [(t.GAP_FILL_FLAG, True), (t.NEW_SEQ_NO, 2)])
    (reject,) = sent(session.on_raw(raw, T0))
    assert reject.get_int(t.SESSION_REJECT_REASON) == 5
    assert reject.get_int(t.REF_TAG_ID) == t.NEW_SEQ_NO


def test_sequence_reset_reset_mode_sets_the_number_whatever_its_own() -> None:
    session, peer = logged_on()
    raw = peer.msg("4", [(t.NEW_SEQ_NO, 20)], seq=99)
    assert sent(session.on_raw(raw, T0)) == []
    assert session.next_target_seq == 20


def test_sequence_reset_that_would_lower_the_number_is_rejected() -> None:
    session, peer = logged_on()
    peer.seq = 5
    session.on_raw(peer.msg("4", [(t.NEW_SEQ_NO, 10)]), T0)
    (reject,) = sent(session.on_raw(peer.msg("4", [(t.NEW_SEQ_NO, 3)]), T0))
    assert reject.get_int(t.SESSION_REJECT_REASON) == 5
    assert session.next_target_seq == 10


# -- invalid and garbled messages ----------------------------------------------------------


def test_missing_required_field_is_rejected_and_consumes_its_number() -> None:
    session, peer = logged_on()
    raw = peer.msg("D", [(t.CL_ORD_ID, "C1"), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
                         (t.TRANSACT_TIME, T0), (t.ORDER_QTY, 100)])  # fmt: skip
    actions = session.on_raw(raw, T0)
    (reject,) = sent(actions)
    assert reject.get_int(t.REF_SEQ_NUM) == 2
    assert reject.get_str(t.REF_MSG_TYPE) == "D"
    assert reject.get_int(t.REF_TAG_ID) == t.ORD_TYPE
    assert reject.get_int(t.SESSION_REJECT_REASON) == 1
    assert reject.get_str(t.TEXT)
    assert delivered(actions) == []
    assert session.next_target_seq == 3


def test_value_outside_the_enumeration_is_rejected_with_reason_5() -> None:
    session, peer = logged_on()
    raw = peer.msg("D", [(t.CL_ORD_ID, "C1"), (t.SYMBOL, "ACME"), (t.SIDE, "Z"),
                         (t.TRANSACT_TIME, T0), (t.ORDER_QTY, 100), (t.ORD_TYPE, "1")])  # fmt: skip
    (reject,) = sent(session.on_raw(raw, T0))
    assert (reject.get_int(t.REF_TAG_ID), reject.get_int(t.SESSION_REJECT_REASON)) == (t.SIDE, 5)


def test_badly_formatted_value_is_rejected_with_reason_6() -> None:
    session, peer = logged_on()
    raw = peer.msg("D", [(t.CL_ORD_ID, "C1"), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
                         (t.TRANSACT_TIME, T0), (t.ORDER_QTY, "lots"),
                         (t.ORD_TYPE, "1")])  # fmt: skip
    (reject,) = sent(session.on_raw(raw, T0))
    assert (reject.get_int(t.REF_TAG_ID), reject.get_int(t.SESSION_REJECT_REASON)) == (
        t.ORDER_QTY,
        6,
    )


def test_repeated_tag_is_rejected_with_reason_13() -> None:
    session, peer = logged_on()
    raw = peer.msg("D", [(t.CL_ORD_ID, "C1"), (t.SYMBOL, "ACME"), (t.SYMBOL, "BOLT"),
                         (t.SIDE, "1"), (t.TRANSACT_TIME, T0), (t.ORDER_QTY, 100),
                         (t.ORD_TYPE, "1")])  # fmt: skip
    (reject,) = sent(session.on_raw(raw, T0))
    assert (reject.get_int(t.REF_TAG_ID), reject.get_int(t.SESSION_REJECT_REASON)) == (
        t.SYMBOL,
        13,
    )


def test_undefined_tag_is_rejected_with_reason_3() -> None:
    strict = FIX44.with_options(allow_user_defined=False)
    store = MemorySessionStore(T0 - timedelta(hours=1))
    session, peer = logged_on(Session(acceptor_config(), store, dictionary=strict))
    raw = peer.msg("D", [(t.CL_ORD_ID, "C1"), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
                         (t.TRANSACT_TIME, T0), (t.ORDER_QTY, 100), (t.ORD_TYPE, "1"),
                         (4999, "x")])  # fmt: skip
    (reject,) = sent(session.on_raw(raw, T0))
    assert (reject.get_int(t.REF_TAG_ID), reject.get_int(t.SESSION_REJECT_REASON)) == (4999, 3)


def test_tag_not_defined_for_the_message_type_is_rejected_with_reason_2() -> None:
    session, peer = logged_on()
    raw = peer.msg("D", [(t.CL_ORD_ID, "C1"), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
                         (t.TRANSACT_TIME, T0), (t.ORDER_QTY, 100), (t.ORD_TYPE, "1"),
                         (t.TEST_REQ_ID, "x")])  # fmt: skip
    (reject,) = sent(session.on_raw(raw, T0))
    assert (reject.get_int(t.REF_TAG_ID), reject.get_int(t.SESSION_REJECT_REASON)) == (
        t.TEST_REQ_ID,
        2,
    )


def test_validation_off_delivers_what_the_dictionary_would_reject() -> None:
    session, peer = logged_on(new_session(acceptor_config(validate=False)))
    raw = peer.msg("D", [(t.CL_ORD_ID, "C1"), (t.SIDE, "Z")])
    assert len(delivered(session.on_raw(raw, T0))) == 1


def test_garbled_message_is_ignored_without_consuming_a_number() -> None:
    session, peer = logged_on()
    raw = peer.new_order("C1")
    garbled = raw[:-4] + b"000\x01"  # a wrong checksum
    actions = session.on_raw(garbled, T0)
    assert sent(actions) == []
    assert any(isinstance(a, Ignored) for a in actions)
    assert session.next_target_seq == 2
    assert len(delivered(session.on_raw(raw, T0))) == 1


def test_framers_verdict_of_garbled_bytes_is_ignored() -> None:
    session, _ = logged_on()
    actions = session.on_raw(GarbledMessageError("bad body length"), T0)
    assert [type(a) for a in actions] == [Ignored]


def test_unsupported_application_message_gets_a_business_message_reject() -> None:
    session, peer = logged_on(new_session(acceptor_config(app_msg_types=frozenset({"D"}))))
    raw = peer.msg("H", [(t.CL_ORD_ID, "C1"), (t.SYMBOL, "ACME"), (t.SIDE, "1")])
    (reject,) = sent(session.on_raw(raw, T0))
    assert reject.msg_type == "j"
    assert reject.get_int(t.BUSINESS_REJECT_REASON) == 3
    assert reject.get_str(t.REF_MSG_TYPE) == "H"
    assert reject.get_int(t.REF_SEQ_NUM) == 2


# -- logout --------------------------------------------------------------------------------


def test_logout_received_is_answered_then_disconnects() -> None:
    session, peer = logged_on()
    actions = session.on_raw(peer.msg("5", [(t.TEXT, "end of day")]), T0)
    assert sent_types(actions) == ["5"]
    assert disconnects(actions) == ["logged out by the peer: end of day"]


def test_logout_sent_waits_for_the_peers_logout_then_disconnects() -> None:
    session, peer = logged_on()
    assert sent_types(session.logout("done", T0)) == ["5"]
    assert session.state is SessionState.LOGOUT_SENT
    actions = session.on_raw(peer.msg("5"), T0)
    assert sent_types(actions) == []
    assert disconnects(actions) == ["logged out"]


def test_logout_sent_without_answer_disconnects_after_the_timeout() -> None:
    session, _ = logged_on()
    session.logout("done", T0)
    assert disconnects(session.on_timer(T0 + timedelta(seconds=6))) == ["no answer to Logout"]


def test_reset_on_logout_starts_the_numbers_again() -> None:
    session, peer = logged_on(new_session(acceptor_config(reset_on_logout=True)))
    session.on_raw(peer.msg("5"), T0)
    assert (session.next_sender_seq, session.next_target_seq) == (1, 1)


def test_reset_on_disconnect_starts_the_numbers_again() -> None:
    session, _ = logged_on(new_session(acceptor_config(reset_on_disconnect=True)))
    session.disconnected(T0)
    assert (session.next_sender_seq, session.next_target_seq) == (1, 1)


def test_numbers_survive_a_disconnect_by_default() -> None:
    session, _ = logged_on()
    session.disconnected(T0)
    assert (session.next_sender_seq, session.next_target_seq) == (2, 2)


# -- schedules -----------------------------------------------------------------------------

HOURS = SessionSchedule(start=time(13, 0), end=time(21, 0))


def test_logon_outside_the_schedule_is_refused() -> None:
    session = new_session(acceptor_config(schedule=HOURS))
    night = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
    session.connected(night)
    actions = session.on_raw(Peer().logon(at=night), night)
    assert sent_types(actions) == ["5"]
    assert disconnects(actions) == ["Logon outside the session's schedule"]


def test_session_logs_out_at_the_end_of_the_schedule() -> None:
    session, _ = logged_on(new_session(acceptor_config(schedule=HOURS)))
    actions = session.on_timer(datetime(2026, 3, 2, 21, 0, tzinfo=UTC))
    assert sent_types(actions) == ["5"]
    assert session.state is SessionState.LOGOUT_SENT


def test_a_new_schedule_period_starts_the_numbers_again() -> None:
    session, _ = logged_on(new_session(acceptor_config(schedule=HOURS)))
    session.disconnected(T0)
    next_day = datetime(2026, 3, 3, 13, 5, tzinfo=UTC)
    session.connected(next_day)
    assert (session.next_sender_seq, session.next_target_seq) == (1, 1)


def test_overnight_schedule_knows_both_sides_of_midnight() -> None:
    overnight = SessionSchedule(start=time(22, 0), end=time(6, 0))
    assert overnight.in_session(datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
    assert overnight.in_session(datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    assert not overnight.in_session(datetime(2026, 3, 3, 12, 0, tzinfo=UTC))


# -- helpers -------------------------------------------------------------------------------


def _poss_dup(raw: bytes) -> bytes:
    """The same message sent again: PossDupFlag=Y, OrigSendingTime its first time."""
    msg = parse(raw)
    fields = [(tag, value) for tag, value in msg.fields if tag != t.MSG_TYPE]
    header = [(t.POSS_DUP_FLAG, b"Y"), (t.ORIG_SENDING_TIME, msg.get(t.SENDING_TIME) or b"")]
    ordered = sorted([*(f for f in fields if f[0] in _HEADER), *header], key=lambda f: f[0])
    body = [f for f in fields if f[0] not in _HEADER]
    return encode(msg.begin_string, [(t.MSG_TYPE, msg.msg_type), *ordered, *body])


_HEADER = {t.MSG_SEQ_NUM, t.SENDER_COMP_ID, t.SENDING_TIME, t.TARGET_COMP_ID}


def _refresh_trailer(raw: bytes) -> bytes:
    """Recompute BodyLength and CheckSum after editing a message's bytes."""
    parts = raw.split(SOH)[:-1]
    begin = parts[0].split(b"=", 1)[1].decode()
    fields = [(int(p.split(b"=", 1)[0]), p.split(b"=", 1)[1]) for p in parts[2:-1]]
    return encode(begin, fields)
