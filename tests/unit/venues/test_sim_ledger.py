"""The venue's executions ledger, its view of each order, and the drop copy's stream: the
broker's truth that Keel reconciles against, whatever the wire does to the reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from keel.adapters.venues.sim import (
    FaultPlan,
    QuotingRules,
    ReportKind,
    SimVenue,
    StatementRow,
    Trigger,
    VenueReport,
)
from keel.domain.enums import OrderStatus, OrdType, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
DESK = "FIX.4.4:SIM->KEEL"
K = ReportKind


class Desk:
    """A client of a quiet venue (no market maker), on one session, at its own clock."""

    def __init__(self, plan: FaultPlan | None = None, session: str = DESK) -> None:
        self.venue = SimVenue(seed=7, quoting=QuotingRules(levels=0), faults=plan)
        self.session = session
        self.now = T0
        self.sent: list[VenueReport] = []

    def order(
        self,
        cl: str,
        side: Side,
        qty: int | str,
        price: str,
        *,
        account: str = "FUND-A",
        account_given: bool = True,
    ) -> None:
        self.venue.new_order(
            ClOrdId(cl), AccountId(account), "ACME", side, Decimal(qty), OrdType.LIMIT,
            Decimal(price), TimeInForce.DAY, self.now, session=self.session,
            account_given=account_given,
        )  # fmt: skip
        self.collect()

    def cancel(self, cl: str, orig: str) -> None:
        self.venue.cancel(ClOrdId(cl), ClOrdId(orig), self.now)
        self.collect()

    def replace(self, cl: str, orig: str, qty: int, price: str) -> None:
        self.venue.replace(ClOrdId(cl), ClOrdId(orig), Decimal(qty), Decimal(price), self.now)
        self.collect()

    def later(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def collect(self) -> None:
        self.sent += self.venue.due(self.now)

    def fills_sent(self, cl: str | None = None) -> list[VenueReport]:
        return [r for r in self.sent if r.is_fill and (cl is None or r.cl_ord_id == cl)]

    def ledger(self, cl: str | None = None) -> list[StatementRow]:
        return [e for e in self.venue.executions() if cl is None or e.cl_ord_id == cl]


def test_a_fill_is_in_the_ledger_with_the_exec_id_order_and_session_of_its_report() -> None:
    desk = Desk()
    desk.order("S1", Side.SELL, 100, "100.00", account="FUND-B")
    desk.later(1)

    desk.order("B1", Side.BUY, 60, "100.05")

    (buy_fill,) = desk.fills_sent("B1")
    (entry,) = desk.ledger("B1")
    assert entry == StatementRow(
        trade_date=T0.date(),
        exec_id=buy_fill.exec_id,  # type: ignore[arg-type]
        venue_order_id=buy_fill.venue_order_id,
        cl_ord_id=ClOrdId("B1"),
        account=AccountId("FUND-A"),
        symbol="ACME",
        side=Side.BUY,
        qty=Decimal(60),
        price=Decimal("100.00"),
        currency="USD",
        transact_time=T0 + timedelta(seconds=1),
        session=DESK,
    )
    (sell_entry,) = desk.ledger("S1")
    assert (sell_entry.side, sell_entry.account, sell_entry.qty) == (Side.SELL, "FUND-B", 60)
    assert [e.exec_id for e in desk.venue.executions()] == [r.exec_id for r in desk.fills_sent()]


def test_split_prints_are_one_ledger_entry_each_with_their_own_exec_id() -> None:
    desk = Desk(FaultPlan(split_fill=Trigger.once("B1"), split_prints=3))
    desk.order("S1", Side.SELL, 10, "100.00")

    desk.order("B1", Side.BUY, 10, "100.00")

    assert [(e.qty, e.exec_id) for e in desk.ledger("B1")] == [
        (r.last_qty, r.exec_id) for r in desk.fills_sent("B1")
    ]
    assert [e.qty for e in desk.ledger("B1")] == [4, 3, 3]
    assert len(desk.ledger()) == 6  # the seller's three prints too


def test_a_late_fill_after_cancel_is_in_the_ledger_under_the_cancel_s_cl_ord_id() -> None:
    desk = Desk(FaultPlan(late_fill_after_cancel=Trigger.once("B1")))
    desk.order("B1", Side.BUY, 100, "99.00")
    desk.later(5)

    desk.cancel("B1-X", "B1")

    (late,) = desk.fills_sent()
    (entry,) = desk.ledger()
    assert (entry.exec_id, entry.cl_ord_id, entry.qty, entry.price) == (
        late.exec_id, "B1-X", 50, Decimal("99.00"),
    )  # fmt: skip
    assert entry.transact_time == late.transact_time < desk.now
    assert entry.venue_order_id == desk.sent[0].venue_order_id


def test_a_fill_dropped_on_the_wire_is_still_in_the_ledger() -> None:
    desk = Desk(FaultPlan(drop=Trigger.once_on_fill("B1")))
    desk.order("S1", Side.SELL, 40, "100.00")

    desk.order("B1", Side.BUY, 40, "100.00")

    assert desk.fills_sent("B1") == []
    (dropped,) = desk.venue.dropped()
    (entry,) = desk.ledger("B1")
    assert (entry.exec_id, entry.qty) == (dropped.exec_id, 40)


def test_a_fill_sent_twice_is_one_execution_in_the_ledger() -> None:
    desk = Desk(FaultPlan(duplicate=Trigger.once_on_fill("B1")))
    desk.order("S1", Side.SELL, 40, "100.00")

    desk.order("B1", Side.BUY, 40, "100.00")

    first, second = desk.fills_sent("B1")
    assert first.exec_id == second.exec_id
    assert [e.exec_id for e in desk.ledger("B1")] == [first.exec_id]


def test_fills_after_a_replace_carry_the_replace_s_cl_ord_id() -> None:
    desk = Desk()
    desk.order("B1", Side.BUY, 100, "99.00")
    desk.replace("B2", "B1", 100, "99.50")

    desk.order("S1", Side.SELL, 30, "99.50")

    assert [(e.cl_ord_id, e.qty, e.price) for e in desk.ledger()] == [
        ("S1", 30, Decimal("99.50")),  # the taker's execution first
        ("B2", 30, Decimal("99.50")),
    ]


def test_an_order_without_an_account_has_none_in_the_ledger_though_reports_show_the_default() -> (
    None
):
    desk = Desk()
    desk.order("S1", Side.SELL, 10, "100.00")

    desk.order("B1", Side.BUY, 10, "100.00", account="KEEL", account_given=False)

    assert {r.account for r in desk.sent if r.cl_ord_id == "B1"} == {"KEEL"}
    (entry,) = desk.ledger("B1")
    assert entry.account == ""


def test_order_states_show_each_order_where_it_stands_and_open_orders_only_the_working() -> None:
    desk = Desk(FaultPlan(reject_new=Trigger.once("B4")))
    desk.order("S1", Side.SELL, 30, "100.00")
    desk.order("B1", Side.BUY, 100, "100.00")  # 30 filled, 70 rest
    desk.order("B2", Side.BUY, 10, "98.00")
    desk.cancel("B3", "B2")
    desk.order("B4", Side.BUY, 10, "97.00")

    states = desk.venue.order_states()

    assert [(s.cl_ord_id, s.status, s.cum_qty, s.leaves_qty) for s in states] == [
        ("S1", OrderStatus.FILLED, 30, 0),
        ("B1", OrderStatus.PARTIALLY_FILLED, 30, 70),
        ("B3", OrderStatus.CANCELED, 0, 0),
        ("B4", OrderStatus.REJECTED, 0, 0),
    ]
    assert {s.session for s in states} == {DESK}
    assert states[1].venue_order_id == desk.fills_sent("B1")[0].venue_order_id
    assert [s.cl_ord_id for s in desk.venue.open_orders()] == ["B1"]


# -- the drop copy's stream ------------------------------------------------------------------


def test_without_the_copy_line_open_the_venue_keeps_no_copies() -> None:
    desk = Desk(FaultPlan(duplicate=Trigger.always()))

    desk.order("B1", Side.BUY, 10, "99.00")

    assert desk.venue.take_copies() == []


def test_the_copy_line_has_duplicates_twice_dropped_and_delayed_reports_and_the_venue_order() -> (
    None
):
    plan = FaultPlan(
        duplicate=Trigger.once_on_fill("B1"),
        drop=Trigger.once_on_fill("S1"),
        delay=Trigger.once("B2"),
        delay_by=timedelta(seconds=30),
        reorder=Trigger.once("B1"),
    )
    desk = Desk(plan)
    desk.venue.open_copy_line()
    desk.order("S1", Side.SELL, 40, "100.00")

    desk.order("B1", Side.BUY, 40, "100.00")
    desk.order("B2", Side.BUY, 10, "98.00")

    copies = desk.venue.take_copies()
    assert [(r.cl_ord_id, r.kind) for r in copies] == [
        ("S1", K.NEW),
        ("B1", K.NEW),
        ("B1", K.FILL),
        ("B1", K.FILL),
        ("S1", K.FILL),
        ("B2", K.NEW),
    ]
    assert copies[2] is copies[3]
    assert [(r.cl_ord_id, r.kind) for r in desk.sent] == [
        ("S1", K.NEW),
        ("B1", K.FILL),  # swapped on the wire
        ("B1", K.FILL),
        ("B1", K.NEW),
    ]  # S1's fill dropped, B2's ack not yet released
    assert desk.venue.take_copies() == []
