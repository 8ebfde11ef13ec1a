"""The fault plan: each fault injected exactly once; the venue's truth survives the wire."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from keel.adapters.venues.sim import (
    FILL_KINDS,
    FaultPlan,
    QuotingRules,
    RejectCode,
    ReportKind,
    SimVenue,
    Trigger,
    VenueReport,
)
from keel.domain.enums import OrderStatus, OrdType, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
FUND_A = AccountId("FUND-A")
FUND_B = AccountId("FUND-B")
K = ReportKind


def quiet(plan: FaultPlan, seed: int = 7) -> SimVenue:
    return SimVenue(seed=seed, quoting=QuotingRules(levels=0), faults=plan)


def send(
    venue: SimVenue,
    cl: str,
    side: Side,
    qty: int,
    price: str,
    now: datetime = T0,
    *,
    symbol: str = "ACME",
) -> None:
    account = FUND_A if side is Side.BUY else FUND_B
    venue.new_order(
        ClOrdId(cl),
        account,
        symbol,
        side,
        Decimal(qty),
        OrdType.LIMIT,
        Decimal(price),
        TimeInForce.DAY,
        now,
    )


def seen(reports: list[VenueReport]) -> list[tuple[str, ReportKind]]:
    return [(r.cl_ord_id, r.kind) for r in reports]


# -- faults inside the venue ---------------------------------------------------------------


def test_reject_all_new_orders_with_the_plan_text() -> None:
    venue = quiet(FaultPlan(reject_new=Trigger.always(), reject_text="venue halted"))

    send(venue, "B1", Side.BUY, 100, "99.00")

    (report,) = venue.due(T0)
    assert (report.kind, report.reason_code, report.text) == (
        K.REJECTED,
        RejectCode.FAULT_INJECTED,
        "venue halted",
    )
    assert venue.best_bid("ACME") is None


def test_reject_ratio_rejects_a_seeded_share_of_new_orders() -> None:
    def rejected(seed: int) -> list[str]:
        venue = quiet(FaultPlan(reject_new=Trigger(ratio=0.3)), seed=seed)
        for n in range(200):
            send(venue, f"B{n}", Side.BUY, 1, "90.00")
        return [r.cl_ord_id for r in venue.due(T0) if r.kind is K.REJECTED]

    share = rejected(seed=1)

    assert 40 <= len(share) <= 80
    assert rejected(seed=1) == share
    assert rejected(seed=2) != share


def test_reject_every_new_order_on_a_halted_symbol() -> None:
    venue = quiet(FaultPlan(reject_symbols=frozenset({"BOLT"})))

    send(venue, "B1", Side.BUY, 10, "20.00", symbol="BOLT")
    send(venue, "B2", Side.BUY, 10, "90.00", symbol="ACME")

    assert seen(venue.due(T0)) == [("B1", K.REJECTED), ("B2", K.NEW)]


def test_reject_one_named_order_only() -> None:
    venue = quiet(FaultPlan(reject_new=Trigger.once("B2")))

    for cl in ("B1", "B2", "B3"):
        send(venue, cl, Side.BUY, 10, "90.00")

    assert seen(venue.due(T0)) == [("B1", K.NEW), ("B2", K.REJECTED), ("B3", K.NEW)]


def test_split_fill_into_three_prints_each_with_its_own_exec_id() -> None:
    venue = quiet(FaultPlan(split_fill=Trigger.once("B1"), split_prints=3))
    send(venue, "S1", Side.SELL, 10, "100.00")

    send(venue, "B1", Side.BUY, 10, "100.00")

    buys = [r for r in venue.due(T0) if r.cl_ord_id == "B1" and r.is_fill]
    assert [(r.kind, r.last_qty, r.cum_qty) for r in buys] == [
        (K.PARTIAL_FILL, 4, 4),
        (K.PARTIAL_FILL, 3, 7),
        (K.FILL, 3, 10),
    ]
    assert len({r.exec_id for r in buys}) == 3
    rows = venue.statement(T0.date())
    assert [(row.cl_ord_id, row.qty) for row in rows] == [
        ("B1", 4),
        ("S1", 4),
        ("B1", 3),
        ("S1", 3),
        ("B1", 3),
        ("S1", 3),
    ]
    assert len(venue.tape()) == 3


def test_late_fill_after_cancel_is_reported_after_the_cancel_ack() -> None:
    venue = quiet(FaultPlan(late_fill_after_cancel=Trigger.once("B1")))
    send(venue, "B1", Side.BUY, 100, "99.00")
    venue.due(T0)
    cancel_time = T0 + timedelta(seconds=5)

    venue.cancel(ClOrdId("B1-X"), ClOrdId("B1"), cancel_time)

    ack, late = venue.due(cancel_time)
    assert (ack.kind, ack.order_status, ack.cum_qty, ack.leaves_qty) == (
        K.CANCELED,
        OrderStatus.CANCELED,
        0,
        0,
    )
    assert (late.kind, late.order_status, late.last_qty, late.last_px) == (
        K.PARTIAL_FILL,
        OrderStatus.CANCELED,
        50,
        Decimal("99.00"),
    )
    assert (late.cum_qty, late.leaves_qty) == (50, 0)
    assert late.transact_time < ack.transact_time
    venue.status(ClOrdId("B1-X"), cancel_time)
    (status,) = venue.due(cancel_time)
    assert (status.order_status, status.cum_qty) == (OrderStatus.CANCELED, 50)
    assert [row.qty for row in venue.statement(T0.date())] == [50]
    assert venue.house_traded("ACME") == (0, 50)
    assert venue.tape()[0].sell_order_id == "SIM-HOUSE"


def test_late_fill_of_the_whole_leaves_reports_a_fill() -> None:
    plan = FaultPlan(late_fill_after_cancel=Trigger.once("B1"), late_fill_qty=Decimal(500))
    venue = quiet(plan)
    send(venue, "B1", Side.BUY, 100, "99.00")

    venue.cancel(ClOrdId("B1-X"), ClOrdId("B1"), T0)

    *_, late = venue.due(T0)
    assert (late.kind, late.last_qty, late.cum_qty) == (K.FILL, 100, 100)


# -- faults on the wire ----------------------------------------------------------------------


def test_delay_holds_a_report_until_now_plus_delay_and_what_queues_behind_it() -> None:
    plan = FaultPlan(
        delay=Trigger.once("B1", kinds=frozenset({K.NEW})), delay_by=timedelta(seconds=2)
    )
    venue = quiet(plan)
    send(venue, "B1", Side.BUY, 100, "99.00")
    assert venue.due(T0) == []

    send(venue, "B2", Side.BUY, 100, "98.00", T0 + timedelta(seconds=1))

    assert venue.due(T0 + timedelta(seconds=1)) == []
    assert venue.pending_reports == 2
    assert seen(venue.due(T0 + timedelta(seconds=2))) == [("B1", K.NEW), ("B2", K.NEW)]


def test_duplicate_report_is_sent_twice_with_the_same_exec_id() -> None:
    venue = quiet(FaultPlan(duplicate=Trigger.once_on_fill("B1")))
    send(venue, "S1", Side.SELL, 100, "100.00")

    send(venue, "B1", Side.BUY, 100, "100.00")

    out = venue.due(T0)
    assert seen(out) == [
        ("S1", K.NEW),
        ("B1", K.NEW),
        ("B1", K.FILL),
        ("B1", K.FILL),
        ("S1", K.FILL),
    ]
    assert out[2] == out[3]
    assert len(venue.drop_copy()) == 4


def test_out_of_order_swaps_adjacent_reports_of_one_order() -> None:
    venue = quiet(FaultPlan(reorder=Trigger.once("B1")))
    send(venue, "S1", Side.SELL, 100, "100.00")

    send(venue, "B1", Side.BUY, 100, "100.00")

    assert seen(venue.due(T0)) == [("S1", K.NEW), ("B1", K.FILL), ("B1", K.NEW), ("S1", K.FILL)]
    assert seen(venue.drop_copy()) == [
        ("S1", K.NEW),
        ("B1", K.NEW),
        ("B1", K.FILL),
        ("S1", K.FILL),
    ]


def test_a_report_alone_in_its_call_is_never_swapped() -> None:
    venue = quiet(FaultPlan(reorder=Trigger.always()))

    send(venue, "B1", Side.BUY, 100, "99.00")
    send(venue, "B2", Side.BUY, 100, "99.00")

    assert seen(venue.due(T0)) == [("B1", K.NEW), ("B2", K.NEW)]


def test_dropped_fill_is_never_sent_but_the_drop_copy_and_statement_keep_it() -> None:
    venue = quiet(FaultPlan(drop=Trigger.once_on_fill("B1")))
    send(venue, "S1", Side.SELL, 40, "100.00")
    send(venue, "S2", Side.SELL, 60, "100.01")

    send(venue, "B1", Side.BUY, 100, "100.01")

    sent = [r for r in venue.due(T0) if r.cl_ord_id == "B1"]
    assert [(r.kind, r.last_qty, r.cum_qty) for r in sent] == [(K.NEW, 0, 0), (K.FILL, 60, 100)]
    truth = [r for r in venue.drop_copy() if r.cl_ord_id == "B1" and r.kind in FILL_KINDS]
    assert [(r.last_qty, r.cum_qty) for r in truth] == [(40, 40), (60, 100)]
    assert venue.dropped() == truth[:1]
    assert [(row.cl_ord_id, row.qty) for row in venue.statement(T0.date())] == [
        ("B1", 40),
        ("S1", 40),
        ("B1", 60),
        ("S2", 60),
    ]


def test_disconnect_after_n_messages_stops_the_wire_exactly_there() -> None:
    venue = quiet(FaultPlan(disconnect_after_messages=2))
    send(venue, "S1", Side.SELL, 100, "100.00")
    send(venue, "B1", Side.BUY, 100, "100.00")
    assert venue.disconnect_due(T0) is False

    first = venue.due(T0)

    assert len(first) == 2
    assert venue.disconnect_due(T0) is True
    assert venue.disconnect_due(T0) is False
    assert len(venue.due(T0)) == 2


def test_disconnect_at_a_time_is_said_once() -> None:
    venue = quiet(FaultPlan(disconnect_at=T0 + timedelta(seconds=10)))

    answers = [venue.disconnect_due(T0 + timedelta(seconds=s)) for s in (9, 10, 11)]

    assert answers == [False, True, False]


# -- the truth survives the wire -----------------------------------------------------------

WIRE_NOISE = FaultPlan(
    delay=Trigger(ratio=0.3),
    delay_by=timedelta(milliseconds=700),
    duplicate=Trigger(ratio=0.2),
    reorder=Trigger(ratio=0.5),
    drop=Trigger(ratio=0.1),
)


def busy_session(venue: SimVenue) -> list[VenueReport]:
    now = T0
    out: list[VenueReport] = []
    for n in range(80):
        now += timedelta(milliseconds=200)
        venue.tick(now)
        side = Side.BUY if n % 3 else Side.SELL
        reference = venue.reference_price("ACME")
        venue.new_order(
            ClOrdId(f"C{n}"),
            FUND_A,
            "ACME",
            side,
            Decimal(30 + n),
            OrdType.LIMIT,
            reference,
            TimeInForce.DAY,
            now,
        )
        if n % 4 == 3:
            venue.cancel(ClOrdId(f"X{n}"), ClOrdId(f"C{n - 1}"), now)
        out += venue.due(now)
    return out + venue.due(now + timedelta(minutes=1))


def test_wire_faults_never_change_what_the_venue_really_did() -> None:
    clean, noisy = SimVenue(seed=5), SimVenue(seed=5, faults=WIRE_NOISE)

    busy_session(clean)
    busy_session(noisy)

    assert noisy.drop_copy() == clean.drop_copy()
    assert noisy.statement(T0.date()) == clean.statement(T0.date())


def test_every_report_is_sent_or_dropped_and_only_duplicates_repeat() -> None:
    venue = SimVenue(seed=5, faults=WIRE_NOISE)

    sent = busy_session(venue)

    counts = Counter(r.exec_id for r in sent if r.exec_id is not None)
    deduplicated = [r for i, r in enumerate(sent) if i == 0 or sent[i - 1] is not r]
    assert 2 in counts.values()
    assert max(counts.values()) == 2
    assert len({id(r) for r in deduplicated}) == len(deduplicated)
    assert sorted(map(id, deduplicated + venue.dropped())) == sorted(map(id, venue.drop_copy()))
    assert venue.dropped()
    in_truth_order = [r for r in venue.drop_copy() if r not in venue.dropped()]
    assert deduplicated != in_truth_order  # swaps moved some; delays keep the order
    assert sorted(map(id, deduplicated)) == sorted(map(id, in_truth_order))
