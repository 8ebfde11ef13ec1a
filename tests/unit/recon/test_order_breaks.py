"""Order-level reconciliation: Keel's orders against the venue's open orders."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keel.domain.enums import OrderStatus
from keel.domain.ids import ClOrdId
from keel.domain.recon import BreakKind, Evidence, EvidenceKind, match_orders
from unit.recon.builders import T0, keel_order, kinds, venue_says

S = OrderStatus
AS_OF = T0 + timedelta(minutes=5)


def test_working_orders_the_venue_lists_as_open_agree() -> None:
    orders = [keel_order(1), keel_order(2, status=S.PARTIALLY_FILLED, cum_qty="100")]
    result = match_orders(orders, [venue_says(o) for o in orders], AS_OF)
    assert result.breaks == ()
    assert [p.keel.order_id for p in result.pairs] == ["ORD-1", "ORD-2"]


def test_closed_orders_the_venue_does_not_list_need_no_answer() -> None:
    closed = [
        keel_order(1, status=S.FILLED, cum_qty="300"),
        keel_order(2, status=S.CANCELED),
        keel_order(3, status=S.EXPIRED),
        keel_order(4, status=S.REJECTED),
    ]
    assert match_orders(closed, [], AS_OF).breaks == ()


def test_a_working_order_the_venue_does_not_list_is_missing_at_broker() -> None:
    [found] = match_orders([keel_order(1)], [], AS_OF).breaks
    assert found.kind is BreakKind.MISSING_AT_BROKER
    assert found.explanation == (
        "Keel has order ORD-1 (BUY 300 AAPL for FUND-A) NEW but the venue does not list it "
        "as open: no execution, cancel or expiry of it reached Keel"
    )
    assert found.break_key == "ORDER/MISSING_AT_BROKER/ORD-1"
    assert found.evidence == (Evidence(EvidenceKind.KEEL_ORDER, "ORD-1"),)
    assert found.order_id == "ORD-1"


@pytest.mark.parametrize("status", [S.SENT, S.PENDING_CANCEL, S.PENDING_REPLACE])
def test_an_order_waiting_on_the_venue_that_it_does_not_list_is_a_break(
    status: OrderStatus,
) -> None:
    assert kinds(match_orders([keel_order(1, status=status)], [], AS_OF).breaks) == [
        "MISSING_AT_BROKER"
    ]


@pytest.mark.parametrize("status", [S.PENDING_NEW, S.DONE_FOR_DAY])
def test_orders_a_venue_need_not_list_are_no_break_when_absent(status: OrderStatus) -> None:
    assert match_orders([keel_order(1, status=status)], [], AS_OF).breaks == ()


def test_an_order_keel_has_working_and_the_venue_has_canceled_is_a_status_mismatch() -> None:
    order = keel_order(1)
    [found] = match_orders([order], [venue_says(order, status=S.CANCELED)], AS_OF).breaks
    assert found.kind is BreakKind.STATUS_MISMATCH
    assert found.explanation == (
        "Order ORD-1 (BUY 300 AAPL for FUND-A): Keel has it NEW, the venue reports it CANCELED"
    )
    assert found.evidence == (
        Evidence(EvidenceKind.KEEL_ORDER, "ORD-1"),
        Evidence(EvidenceKind.ORDER_STATUS, "mass-status:ORD-1"),
    )
    assert ("status", "NEW") in found.keel
    assert ("status", "CANCELED") in found.broker


def test_an_order_keel_closed_that_the_venue_lists_as_open_is_a_status_mismatch() -> None:
    order = keel_order(1, status=S.CANCELED)
    result = match_orders([order], [venue_says(order, status=S.NEW)], AS_OF)
    assert kinds(result.breaks) == ["STATUS_MISMATCH"]


def test_an_order_both_closed_differently_is_a_status_mismatch() -> None:
    order = keel_order(1, status=S.CANCELED, cum_qty="300")
    result = match_orders([order], [venue_says(order, status=S.FILLED)], AS_OF)
    assert kinds(result.breaks) == ["STATUS_MISMATCH"]


def test_working_statuses_may_differ_while_the_filled_quantity_agrees() -> None:
    order = keel_order(1, status=S.PENDING_CANCEL)
    assert match_orders([order], [venue_says(order, status=S.NEW)], AS_OF).breaks == ()


def test_a_different_filled_quantity_is_a_quantity_mismatch() -> None:
    order = keel_order(1, status=S.PARTIALLY_FILLED, cum_qty="100")
    [found] = match_orders([order], [venue_says(order, cum_qty="200")], AS_OF).breaks
    assert found.kind is BreakKind.QUANTITY_MISMATCH
    assert found.explanation == (
        "Order ORD-1 (BUY 300 AAPL for FUND-A): Keel has 100 filled, the venue reports 200"
    )


def test_an_order_the_venue_lists_that_keel_does_not_know_is_an_unknown_order() -> None:
    stranger = venue_says(keel_order(9))._replace(cl_ord_id=ClOrdId("THEIRS-1"))
    [found] = match_orders([], [stranger], AS_OF).breaks
    assert found.kind is BreakKind.UNKNOWN_ORDER
    assert found.explanation == (
        "The venue reports order V-9 (BUY 300 AAPL for FUND-A, NEW, 0 filled) that Keel does "
        "not know"
    )
    assert found.break_key == "ORDER/UNKNOWN_ORDER/SIM/V-9"
    assert found.keel == ()


def test_a_report_quoting_an_earlier_cl_ord_id_of_the_lineage_finds_the_order() -> None:
    order = keel_order(1, venue_order_id=None)._replace(
        cl_ord_id=ClOrdId("C-1b"), cl_ord_ids=(ClOrdId("C-1"),)
    )
    answer = venue_says(order)._replace(cl_ord_id=ClOrdId("C-1"))
    result = match_orders([order], [answer], AS_OF)
    assert result.breaks == ()
    assert len(result.pairs) == 1


def test_an_order_keel_changed_after_the_snapshot_is_left_for_the_next_run() -> None:
    moved = keel_order(1, status=S.CANCELED, updated_at=AS_OF + timedelta(seconds=1))
    result = match_orders([moved], [venue_says(moved, status=S.NEW)], AS_OF)
    assert result.breaks == ()
    assert result.skipped == ("ORD-1",)


def test_the_later_of_two_answers_for_one_order_counts() -> None:
    order = keel_order(1, status=S.CANCELED)
    answers = [venue_says(order, status=S.NEW), venue_says(order, status=S.CANCELED)]
    assert match_orders([order], answers, AS_OF).breaks == ()
