"""What the drop copy writes: the original report's body with its trading session in the
routing header, and a BusinessMessageReject for anything a client sends on it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from keel.adapters.fix import tags as t
from keel.adapters.fix.codec import encode, parse
from keel.adapters.fix.config import FIX42, FIX44
from keel.adapters.venues.sim import QuotingRules, ReportKind, SimVenue, VenueReport
from keel.adapters.venues.sim.drop_copy import copy_message, drop_copy_session, read_only_reject
from keel.adapters.venues.sim.fix_mapping import report_message
from keel.adapters.venues.sim.fix_venue import venue_session
from keel.domain.enums import OrdType, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
TRADING = venue_session(FIX44, "SIM", "KEEL")


def reports_of_a_fill_and_a_late_cancel() -> list[VenueReport]:
    venue = SimVenue(seed=1, quoting=QuotingRules(levels=0))
    for cl, side in (("S1", Side.SELL), ("B1", Side.BUY)):
        venue.new_order(
            ClOrdId(cl), AccountId("FUND-A"), "ACME", side, Decimal(10), OrdType.LIMIT,
            Decimal("100.00"), TimeInForce.DAY, T0,
        )  # fmt: skip
    venue.cancel(ClOrdId("B2"), ClOrdId("B1"), T0)  # too late: filled
    return venue.due(T0)


def test_a_copy_is_the_original_body_behind_the_trading_session_s_comp_ids() -> None:
    fill = next(r for r in reports_of_a_fill_and_a_late_cancel() if r.kind is ReportKind.FILL)

    copy = copy_message(fill, FIX44, TRADING)

    assert copy is not None
    msg_type, body = copy
    assert msg_type == "8"
    assert body[:2] == [(115, "SIM"), (128, "KEEL")]
    assert body[2:] == report_message(fill, FIX44)[1]


def test_a_copy_is_written_in_the_drop_copy_session_s_own_fix_version() -> None:
    fill = next(r for r in reports_of_a_fill_and_a_late_cancel() if r.kind is ReportKind.FILL)

    copy = copy_message(fill, FIX42, TRADING)

    assert copy is not None
    fields = dict(copy[1])
    assert (fields[t.EXEC_TRANS_TYPE], fields[t.EXEC_TYPE]) == ("0", "2")


def test_a_cancel_reject_is_not_an_execution_report_and_is_not_copied() -> None:
    (refused,) = [
        r for r in reports_of_a_fill_and_a_late_cancel() if r.kind is ReportKind.CANCEL_REJECTED
    ]

    assert copy_message(refused, FIX44, TRADING) is None


def test_an_order_on_the_drop_copy_is_refused_as_not_authorized_with_its_cl_ord_id() -> None:
    order = parse(
        encode(FIX44, [
            (t.MSG_TYPE, "D"), (t.MSG_SEQ_NUM, 7), (t.SENDER_COMP_ID, "KEEL-DC"),
            (t.SENDING_TIME, T0), (t.TARGET_COMP_ID, "SIM"), (t.CL_ORD_ID, "DC1"),
        ])
    )  # fmt: skip

    body = dict(read_only_reject(order, drop_copy_session()))

    assert (body[t.REF_SEQ_NUM], body[t.REF_MSG_TYPE], body[t.BUSINESS_REJECT_REF_ID]) == (
        7, "D", "DC1",
    )  # fmt: skip
    assert body[t.BUSINESS_REJECT_REASON] == 6
    assert "FIX.4.4:SIM->KEEL-DC is a drop-copy session and is read-only" in str(body[t.TEXT])


def test_fix42_has_no_not_authorized_reason_so_the_refusal_says_other() -> None:
    status = parse(
        encode(FIX42, [
            (t.MSG_TYPE, "AF"), (t.MSG_SEQ_NUM, 3), (t.SENDER_COMP_ID, "KEEL-DC"),
            (t.SENDING_TIME, T0), (t.TARGET_COMP_ID, "SIM"),
        ])
    )  # fmt: skip

    body = dict(read_only_reject(status, drop_copy_session(FIX42)))

    assert (body[t.BUSINESS_REJECT_REASON], body[t.REF_MSG_TYPE]) == (0, "AF")
    assert t.BUSINESS_REJECT_REF_ID not in body
