"""Random order flows through the simulated venue keep the books straight at every step.

Hypothesis drives new orders (limit and market, every TIF the venue takes, around the
market), cancels, replaces, status requests and ticks, with engine and wire faults on a
seeded ratio, and checks after each call: cum qty is the sum of an order's fills, leaves =
qty - cum for working orders, fills are at the limit or better, ExecIDs never repeat except
as a duplicate fault's copy, the book never stays crossed, and bought equals sold.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.adapters.venues.sim import (
    FaultPlan,
    QuotingRules,
    SimVenue,
    Trigger,
    VenueReport,
)
from keel.domain.enums import OrderStatus, OrdType, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId, ExecId

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
SYMBOLS = ("ACME", "BOLT")
TICK = Decimal("0.01")
RULES = QuotingRules(levels=3, lots_per_level=50)
FAULTS = FaultPlan(
    split_fill=Trigger(ratio=0.2),
    late_fill_after_cancel=Trigger(ratio=0.3),
    delay=Trigger(ratio=0.2),
    delay_by=timedelta(milliseconds=300),
    duplicate=Trigger(ratio=0.1),
    reorder=Trigger(ratio=0.3),
    drop=Trigger(ratio=0.1),
)


@dataclass(frozen=True)
class NewOrder:
    symbol: str
    side: Side
    lots: int
    ord_type: OrdType
    offset_ticks: int
    tif: TimeInForce


@dataclass(frozen=True)
class Cancel:
    pick: int


@dataclass(frozen=True)
class Replace:
    pick: int
    lots: int
    offset_ticks: int | None


@dataclass(frozen=True)
class Status:
    pick: int


@dataclass(frozen=True)
class Tick:
    pass


Step = NewOrder | Cancel | Replace | Status | Tick

new_orders = st.builds(
    NewOrder,
    st.sampled_from(SYMBOLS),
    st.sampled_from([Side.BUY, Side.SELL, Side.SELL_SHORT]),
    st.integers(1, 200),
    st.sampled_from([OrdType.LIMIT, OrdType.LIMIT, OrdType.MARKET]),
    st.integers(-8, 4),  # mostly passive, so cancels and replaces find working orders
    st.sampled_from([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK]),
)
steps = st.lists(
    st.one_of(
        new_orders,
        st.builds(Cancel, st.integers(0, 1000)),
        st.builds(
            Replace, st.integers(0, 1000), st.integers(1, 250), st.none() | st.integers(-6, 6)
        ),
        st.builds(Status, st.integers(0, 1000)),
        st.just(Tick()),
    ),
    max_size=40,
)


class Flow:
    """Plays steps against a venue and keeps everything it said."""

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue
        self.now = T0
        self.ids: list[ClOrdId] = []
        """The latest ClOrdID of each order sent, so later steps can name it."""
        self.sent: list[VenueReport] = []
        self.serial = 0

    def next_id(self, prefix: str) -> ClOrdId:
        self.serial += 1
        return ClOrdId(f"{prefix}{self.serial}")

    def price(self, symbol: str, offset_ticks: int, side: Side) -> Decimal:
        toward = 1 if side is Side.BUY else -1
        return self.venue.reference_price(symbol) + toward * offset_ticks * TICK

    def play(self, step: Step) -> None:
        self.now += timedelta(milliseconds=100)
        venue, now = self.venue, self.now
        if isinstance(step, NewOrder):
            cl = self.next_id("N")
            self.ids.append(cl)
            price = None
            if step.ord_type is OrdType.LIMIT:
                price = max(TICK, self.price(step.symbol, step.offset_ticks, step.side))
            tif = step.tif
            if step.ord_type is OrdType.MARKET and tif is TimeInForce.GTC:
                tif = TimeInForce.DAY
            account = AccountId("FUND-A" if step.side is Side.BUY else "FUND-B")
            venue.new_order(
                cl,
                account,
                step.symbol,
                step.side,
                Decimal(step.lots),
                step.ord_type,
                price,
                tif,
                now,
            )
        elif isinstance(step, Tick):
            venue.tick(now)
        elif self.ids:
            slot = step.pick % len(self.ids)
            orig = self.ids[slot]
            if isinstance(step, Status):
                venue.status(orig, now)
            elif isinstance(step, Cancel):
                cl = self.next_id("X")
                venue.cancel(cl, orig, now)
            else:
                cl = self.next_id("R")
                state = venue.order_state(orig)
                price = None
                if step.offset_ticks is not None and state is not None and state.symbol:
                    side = state.side or Side.BUY
                    price = max(TICK, self.price(state.symbol, step.offset_ticks, side))
                venue.replace(cl, orig, Decimal(step.lots), price, now)
            if not isinstance(step, Status) and venue.order_state(cl) is not None:
                self.ids[slot] = cl  # accepted: the order now answers to the new ClOrdID
        self.sent += venue.due(now)


def check_books(flow: Flow) -> None:
    venue = flow.venue
    truth = venue.drop_copy()

    exec_ids = [r.exec_id for r in truth if r.exec_id is not None]
    assert len(exec_ids) == len(set(exec_ids))
    assert exec_ids == sorted(exec_ids)
    seen: dict[ExecId, VenueReport] = {}
    for report in flow.sent:
        if report.exec_id is None:
            continue
        if report.exec_id in seen:
            assert seen[report.exec_id] is report  # only a duplicate fault's copy repeats
        seen[report.exec_id] = report

    by_order: dict[str, list[VenueReport]] = defaultdict(list)
    for report in truth:
        if report.venue_order_id != "NONE":
            by_order[report.venue_order_id].append(report)
    bought: dict[str, Decimal] = defaultdict(Decimal)
    sold: dict[str, Decimal] = defaultdict(Decimal)
    for reports in by_order.values():
        cum = Decimal(0)
        for report in reports:
            if report.is_fill:
                cum += report.last_qty
                assert report.price is None or (
                    report.last_px <= report.price
                    if report.side is Side.BUY
                    else report.last_px >= report.price
                ), "a fill must be at the order's limit or better"
                assert report.symbol is not None
                if report.side is Side.BUY:
                    bought[report.symbol] += report.last_qty
                else:
                    sold[report.symbol] += report.last_qty
            assert report.cum_qty == cum
        state = venue.order_state(reports[0].cl_ord_id)
        assert state is not None
        assert state.cum_qty == cum
        assert state.cum_qty <= state.order_qty
        if state.order_status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            assert state.leaves_qty == state.order_qty - state.cum_qty > 0
        else:
            assert state.leaves_qty == 0

    for symbol in SYMBOLS:
        bid, ask = venue.best_bid(symbol), venue.best_ask(symbol)
        assert bid is None or ask is None or bid < ask
        house_bought, house_sold = venue.house_traded(symbol)
        assert bought[symbol] + house_bought == sold[symbol] + house_sold
        volume = sum((t.qty for t in venue.tape() if t.symbol == symbol), Decimal(0))
        assert bought[symbol] + house_bought == volume

    statement = venue.statement(T0.date())
    assert [row.exec_id for row in statement] == [r.exec_id for r in truth if r.is_fill]


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10_000), flow_steps=steps, faulty=st.booleans())
def test_random_order_flows_keep_the_books_straight(
    seed: int, flow_steps: list[Step], faulty: bool
) -> None:
    flow = Flow(SimVenue(seed=seed, quoting=RULES, faults=FAULTS if faulty else None))
    for step in flow_steps:
        flow.play(step)
        check_books(flow)
    flow.sent += flow.venue.due(flow.now + timedelta(minutes=1))
    delivered = {id(r) for r in flow.sent} | {id(r) for r in flow.venue.dropped()}
    assert delivered == {id(r) for r in flow.venue.drop_copy()}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), flow_steps=steps)
def test_same_seed_and_same_flow_give_the_same_reports(seed: int, flow_steps: list[Step]) -> None:
    first = Flow(SimVenue(seed=seed, quoting=RULES, faults=FAULTS))
    second = Flow(SimVenue(seed=seed, quoting=RULES, faults=FAULTS))

    for step in flow_steps:
        first.play(step)
        second.play(step)

    assert first.sent == second.sent
    assert first.venue.drop_copy() == second.venue.drop_copy()
    assert first.venue.tape() == second.venue.tape()
