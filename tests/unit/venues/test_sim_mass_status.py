"""An order mass status request at the simulated venue: after a reconnect a desk asks which
of its orders the venue holds open, and gets one status report per open order, numbered
within the answer, or one report saying there is none. Then how FIX says it, and refuses it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from keel.adapters.fix import tags as t
from keel.adapters.fix.codec import FieldValue, encode, parse
from keel.adapters.fix.config import FIX42, FIX44
from keel.adapters.fix.dictionary import dictionary_for
from keel.adapters.fix.errors import FixFieldError, SessionRejectReason
from keel.adapters.fix.message import FixMessage
from keel.adapters.venues.sim import (
    UNKNOWN_ORDER_ID,
    FaultPlan,
    MassStatusPart,
    QuotingRules,
    ReportKind,
    SimVenue,
    Trigger,
    VenueReport,
)
from keel.adapters.venues.sim.fix_mapping import report_message
from keel.adapters.venues.sim.mass_status import (
    LAST_RPT_REQUESTED,
    TOT_NUM_REPORTS,
    BusinessReject,
    MassStatusRequest,
    read_mass_status_request,
    venue_dictionary,
)
from keel.domain.enums import OrderStatus, OrdType, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
DESK_A = "FIX.4.4:SIM->DESK-A"
DESK_B = "FIX.4.4:SIM->DESK-B"
STATUS_ONLY = frozenset({ReportKind.STATUS})


class Desks:
    """Two desks trading on one quiet venue (no market maker), each on its own session."""

    def __init__(self, faults: FaultPlan | None = None) -> None:
        self.venue = SimVenue(seed=3, quoting=QuotingRules(levels=0), faults=faults)
        self.sent: list[VenueReport] = []

    def limit(
        self, session: str, cl: str, side: Side, qty: int, price: str, symbol: str = "ACME"
    ) -> None:
        self.venue.new_order(
            ClOrdId(cl), AccountId("FUND-A"), symbol, side, Decimal(qty), OrdType.LIMIT,
            Decimal(price), TimeInForce.DAY, T0, session=session,
        )  # fmt: skip
        self.sent += self.venue.due(T0)

    def cancel(self, cl: str, orig: str) -> None:
        self.venue.cancel(ClOrdId(cl), ClOrdId(orig), T0)
        self.sent += self.venue.due(T0)

    def replace(self, cl: str, orig: str, qty: int) -> None:
        self.venue.replace(ClOrdId(cl), ClOrdId(orig), Decimal(qty), None, T0)
        self.sent += self.venue.due(T0)

    def ask(self, session: str, request_id: str = "MS-1") -> list[VenueReport]:
        self.venue.mass_status(request_id, T0, session=session)
        return self.venue.due(T0)


def desks_after_a_morning_of_trading(faults: FaultPlan | None = None) -> Desks:
    """Desk A: A1 resting, A2 partly filled, A3 replaced by A3R and resting, A4 canceled,
    A5 rejected, A6 filled. Desk B: B1 filled (against A2), B2 resting."""
    desks = Desks(faults)
    desks.limit(DESK_A, "A1", Side.BUY, 100, "95.00")
    desks.limit(DESK_A, "A2", Side.BUY, 100, "96.00")
    desks.limit(DESK_B, "B1", Side.SELL, 40, "96.00")
    desks.limit(DESK_A, "A3", Side.BUY, 10, "94.00")
    desks.replace("A3R", "A3", 20)
    desks.limit(DESK_A, "A4", Side.BUY, 10, "93.00")
    desks.cancel("A4X", "A4")
    desks.limit(DESK_A, "A5", Side.BUY, 10, "93.00", symbol="ZZZZ")
    desks.limit(DESK_B, "B2", Side.SELL, 10, "110.00")
    desks.limit(DESK_A, "A6", Side.BUY, 10, "110.00")  # takes B2 whole
    desks.limit(DESK_B, "B3", Side.SELL, 5, "111.00")
    return desks


def fix_message(begin_string: str, msg_type: str, body: list[tuple[int, FieldValue]]) -> bytes:
    header: list[tuple[int, FieldValue]] = [
        (t.MSG_TYPE, msg_type), (t.MSG_SEQ_NUM, 9), (t.SENDER_COMP_ID, "SIM"),
        (t.SENDING_TIME, T0), (t.TARGET_COMP_ID, "KEEL"),
    ]  # fmt: skip
    return encode(begin_string, [*header, *body])


def written(report: VenueReport, begin_string: str) -> FixMessage:
    """The report as the client receives it, checked by Keel's own FIX dictionary."""
    msg_type, body = report_message(report, begin_string)
    message = parse(fix_message(begin_string, msg_type, body))
    dictionary_for(begin_string).validate(message)
    return message


def request(*fields: tuple[int, FieldValue], begin_string: str = FIX44) -> FixMessage:
    return parse(fix_message(begin_string, "AF", list(fields)))


# -- what the venue answers ------------------------------------------------------------------
def test_mass_status_lists_exactly_the_asking_desk_s_open_orders_by_venue_order_id() -> None:
    desks = desks_after_a_morning_of_trading()

    answer = desks.ask(DESK_A)

    assert [r.cl_ord_id for r in answer] == ["A1", "A2", "A3R"]  # not A4X, A5, A6, nor B's
    assert [r.order_status for r in answer] == [
        OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.NEW,
    ]  # fmt: skip
    assert {r.kind for r in answer} == {ReportKind.STATUS}
    assert [r.venue_order_id for r in answer] == sorted(r.venue_order_id for r in answer)
    assert [r.mass_status for r in answer] == [
        MassStatusPart("MS-1", DESK_A, 3, last=False),
        MassStatusPart("MS-1", DESK_A, 3, last=False),
        MassStatusPart("MS-1", DESK_A, 3, last=True),
    ]
    partly = answer[1]
    assert (partly.order_qty, partly.cum_qty, partly.leaves_qty) == (100, 40, 60)
    assert (answer[2].order_qty, answer[2].leaves_qty, answer[2].price) == (20, 20, 94)


def test_each_report_of_the_answer_has_a_fresh_exec_id() -> None:
    desks = desks_after_a_morning_of_trading()

    answer = desks.ask(DESK_A) + desks.ask(DESK_A, "MS-2")

    ids = [r.exec_id for r in answer]
    assert None not in ids
    assert len(set(ids)) == 6
    assert not set(ids) & {r.exec_id for r in desks.sent}


def test_another_desk_sees_only_its_own_open_order() -> None:
    desks = desks_after_a_morning_of_trading()

    (only,) = desks.ask(DESK_B, "MS-B")

    assert (only.cl_ord_id, only.order_status) == ("B3", OrderStatus.NEW)
    assert only.mass_status == MassStatusPart("MS-B", DESK_B, 1, last=True)


def test_no_open_order_is_one_report_that_says_so() -> None:
    desks = Desks()
    desks.limit(DESK_A, "A1", Side.BUY, 10, "95.00")
    desks.cancel("A2", "A1")
    desks.limit(DESK_B, "B1", Side.BUY, 10, "95.00")

    (nothing,) = desks.ask(DESK_A)

    assert (nothing.kind, nothing.order_status) == (ReportKind.STATUS, OrderStatus.REJECTED)
    assert (nothing.venue_order_id, nothing.cl_ord_id) == (UNKNOWN_ORDER_ID, "NONE")
    assert nothing.mass_status == MassStatusPart("MS-1", DESK_A, 0, last=True)
    assert nothing.text == "no open orders"
    assert nothing.exec_id is not None
    assert (nothing.symbol, nothing.side, nothing.cum_qty, nothing.leaves_qty) == (
        None, None, 0, 0,
    )  # fmt: skip


def test_the_answer_goes_through_the_wire_faults_and_is_in_the_venue_s_truth() -> None:
    faults = FaultPlan(
        drop=Trigger.once("A1", kinds=STATUS_ONLY),
        duplicate=Trigger.once("A3R", kinds=STATUS_ONLY),
    )
    desks = desks_after_a_morning_of_trading(faults)

    answer = desks.ask(DESK_A)

    assert [r.cl_ord_id for r in answer] == ["A2", "A3R", "A3R"]
    assert answer[1] == answer[2]  # the same report twice, same ExecID
    (dropped,) = desks.venue.dropped()
    assert (dropped.cl_ord_id, dropped.mass_status) == (
        "A1", MassStatusPart("MS-1", DESK_A, 3, last=False),
    )  # fmt: skip
    truth = [r for r in desks.venue.drop_copy() if r.mass_status is not None]
    assert [r.cl_ord_id for r in truth] == ["A1", "A2", "A3R"]


# -- how FIX says it -------------------------------------------------------------------------
def test_fix44_reports_carry_the_request_id_the_count_and_which_is_last() -> None:
    first, _, last = desks_after_a_morning_of_trading().ask(DESK_A)

    one, three = written(first, FIX44), written(last, FIX44)

    assert (one.get_str(t.EXEC_TYPE), one.get_str(t.ORD_STATUS)) == ("I", "0")
    assert (one.get_str(t.CL_ORD_ID), one.get_str(t.ORDER_ID)) == ("A1", first.venue_order_id)
    assert one.get_str(t.MASS_STATUS_REQ_ID) == "MS-1"
    assert (one.get_int(TOT_NUM_REPORTS), one.get_str(LAST_RPT_REQUESTED)) == (3, "N")
    assert (three.get_int(TOT_NUM_REPORTS), three.get_str(LAST_RPT_REQUESTED)) == (3, "Y")
    assert (three.get_str(t.ACCOUNT), three.get_str(t.SYMBOL), three.get_str(t.SIDE)) == (
        "FUND-A", "ACME", "1",
    )  # fmt: skip
    assert (three.get_str(t.ORDER_QTY), three.get_str(t.PRICE)) == ("20", "94.00")
    assert (three.get_str(t.LEAVES_QTY), three.get_str(t.CUM_QTY), three.get_str(t.AVG_PX)) == (
        "20", "0", "0",
    )  # fmt: skip


def test_fix44_answer_with_no_open_order_has_every_field_an_execution_report_needs() -> None:
    desks = Desks()
    (nothing,) = desks.ask(DESK_A)

    message = written(nothing, FIX44)

    assert (message.get_str(t.ORDER_ID), message.get_str(t.CL_ORD_ID)) == ("NONE", None)
    assert (message.get_str(t.EXEC_TYPE), message.get_str(t.ORD_STATUS)) == ("I", "8")
    assert (message.get_str(t.SYMBOL), message.get_str(t.SIDE)) == ("NA", "7")
    assert [message.get_str(tag) for tag in (t.LEAVES_QTY, t.CUM_QTY, t.AVG_PX)] == ["0"] * 3
    assert message.get_str(t.MASS_STATUS_REQ_ID) == "MS-1"
    assert (message.get_int(TOT_NUM_REPORTS), message.get_str(LAST_RPT_REQUESTED)) == (0, "Y")
    assert message.get_str(t.TEXT) == "no open orders"


def test_fix42_writes_a_plain_status_report_without_the_43_fields() -> None:
    first = desks_after_a_morning_of_trading().ask(DESK_A)[0]

    message = written(first, FIX42)  # a FIX 4.2 drop copy of a 4.4 session's answer

    assert (message.get_str(t.EXEC_TRANS_TYPE), message.get_str(t.EXEC_TYPE)) == ("3", "0")
    assert all(
        tag not in message for tag in (t.MASS_STATUS_REQ_ID, TOT_NUM_REPORTS, LAST_RPT_REQUESTED)
    )


def test_fix42_answer_with_no_open_order_is_a_status_answer_about_no_order() -> None:
    (nothing,) = Desks().ask(DESK_A)

    message = written(nothing, FIX42)

    assert (message.get_str(t.EXEC_TRANS_TYPE), message.get_str(t.EXEC_TYPE)) == ("3", "8")
    assert (message.get_str(t.ORDER_ID), message.get_str(t.SYMBOL)) == ("NONE", "NA")
    assert message.get_str(t.TEXT) == "no open orders"


# -- how FIX asks, and what the venue refuses ------------------------------------------------
def test_a_request_for_all_orders_is_read() -> None:
    asked = request((t.MASS_STATUS_REQ_ID, "MS-1"), (t.MASS_STATUS_REQ_TYPE, 7))

    assert read_mass_status_request(asked, FIX44) == MassStatusRequest("MS-1")


@pytest.mark.parametrize(
    ("fields", "reason", "ref_id", "text"),
    [
        (((584, "MS-1"), (585, 1)), 0, "MS-1", "MassStatusReqType(585)=1 is not supported"),
        (((584, "MS-1"), (585, "x")), 0, "MS-1", "MassStatusReqType(585): "),
        (((585, 7),), 5, None, "MassStatusReqID(584) is required"),
        (((584, "MS-1"),), 5, "MS-1", "MassStatusReqType(585) is required"),
    ],
    ids=["security-type", "not-a-number", "no-req-id", "no-req-type"],
)
def test_a_request_the_venue_cannot_answer_gets_a_business_message_reject(
    fields: tuple[tuple[int, FieldValue], ...], reason: int, ref_id: str | None, text: str
) -> None:
    refused = read_mass_status_request(request(*fields), FIX44)

    assert isinstance(refused, BusinessReject)
    assert (refused.ref_seq_num, refused.ref_msg_type) == (9, "AF")
    assert (refused.reason, refused.ref_id) == (reason, ref_id)
    assert refused.text.startswith(text)
    body = dict(refused.body())
    assert (body[t.REF_MSG_TYPE], body[t.BUSINESS_REJECT_REASON]) == ("AF", reason)
    assert body.get(t.BUSINESS_REJECT_REF_ID) == ref_id


def test_a_fix42_session_s_request_is_an_unsupported_message_type() -> None:
    asked = request((t.MASS_STATUS_REQ_ID, "MS-1"), (t.MASS_STATUS_REQ_TYPE, 7), begin_string=FIX42)

    refused = read_mass_status_request(asked, FIX42)

    assert isinstance(refused, BusinessReject)
    assert (refused.reason, refused.ref_id) == (3, "MS-1")
    assert "FIX 4.3 and later" in refused.text


def test_the_venue_s_fix42_sessions_know_the_request_so_they_can_pass_it_on() -> None:
    asked = request((t.MASS_STATUS_REQ_ID, "MS-1"), (t.MASS_STATUS_REQ_TYPE, 7), begin_string=FIX42)

    venue_dictionary(FIX42).validate(asked)
    with pytest.raises(FixFieldError) as plain:
        dictionary_for(FIX42).validate(asked)
    assert plain.value.session_reject_reason == SessionRejectReason.INVALID_MSGTYPE
    assert venue_dictionary(FIX44) is dictionary_for(FIX44)
