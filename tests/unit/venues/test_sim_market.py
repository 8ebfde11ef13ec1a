"""The synthetic market: the house market maker's quotes, the random walk, and determinism."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from keel.adapters.venues.sim import (
    FaultPlan,
    QuotingRules,
    ReportKind,
    SimVenue,
    Trigger,
    VenueReport,
    listing,
)
from keel.domain.enums import OrderStatus, OrdType, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
FUND_A = AccountId("FUND-A")
TICK = Decimal("0.01")


def send(
    venue: SimVenue,
    cl: str,
    side: Side,
    qty: int,
    price: str | None,
    now: datetime,
    *,
    tif: TimeInForce = TimeInForce.DAY,
    symbol: str = "ACME",
) -> list[VenueReport]:
    kind = OrdType.MARKET if price is None else OrdType.LIMIT
    limit = None if price is None else Decimal(price)
    venue.new_order(ClOrdId(cl), FUND_A, symbol, side, Decimal(qty), kind, limit, tif, now)
    return venue.due(now)


def levels(prices: list[str], qty: int = 100) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(qty)) for p in prices]


def test_the_market_opens_at_the_first_call_with_house_quotes_around_the_reference() -> None:
    venue = SimVenue(seed=1)
    assert venue.depth("ACME") == ([], [])

    venue.due(T0)

    bids, asks = venue.depth("ACME")
    assert bids == levels(["99.99", "99.98", "99.97", "99.96", "99.95"])
    assert asks == levels(["100.01", "100.02", "100.03", "100.04", "100.05"])
    assert venue.reference_price("ACME") == Decimal("100.00")
    assert venue.best_bid("CRNK") == Decimal("8.49")
    assert [i.symbol for i in venue.instruments()] == ["ACME", "BOLT", "CRNK"]


def test_marketable_buy_sweeps_two_levels_of_the_market_maker_at_their_prices() -> None:
    venue = SimVenue(seed=1)

    out = send(venue, "B1", Side.BUY, 150, "100.02", T0)

    assert [(r.kind, r.last_qty, r.last_px) for r in out] == [
        (ReportKind.NEW, 0, 0),
        (ReportKind.PARTIAL_FILL, 100, Decimal("100.01")),
        (ReportKind.FILL, 50, Decimal("100.02")),
    ]
    assert venue.depth("ACME")[1][:2] == [(Decimal("100.02"), 50), (Decimal("100.03"), 100)]
    assert venue.house_traded("ACME") == (0, 150)
    assert [(t.qty, t.aggressor) for t in venue.tape()] == [(100, Side.BUY), (50, Side.BUY)]


def test_market_order_bigger_than_the_whole_book_fills_partly_and_cancels_the_rest() -> None:
    venue = SimVenue(seed=1, quoting=QuotingRules(levels=2, lots_per_level=10))

    out = send(venue, "S1", Side.SELL, 50, None, T0)

    assert [(r.kind, r.last_qty) for r in out] == [
        (ReportKind.NEW, 0),
        (ReportKind.PARTIAL_FILL, 10),
        (ReportKind.PARTIAL_FILL, 10),
        (ReportKind.CANCELED, 0),
    ]
    assert out[-1].cum_qty == 20


def test_reference_price_walks_on_tick_and_the_quotes_recentre() -> None:
    venue = SimVenue(seed=3)
    now = T0
    seen = set()
    previous = venue.reference_price("BOLT")
    for _ in range(50):
        now += timedelta(seconds=1)
        venue.tick(now)
        reference = venue.reference_price("BOLT")
        assert abs(reference - previous) <= 2 * TICK
        assert venue.best_bid("BOLT") == reference - TICK
        assert venue.best_ask("BOLT") == reference + TICK
        assert len(venue.depth("BOLT")[0]) == 5
        seen.add(reference)
        previous = reference
    assert len(seen) > 5


def test_house_replenishes_a_swept_level_on_the_next_tick() -> None:
    venue = SimVenue(seed=1, quoting=QuotingRules(max_step_ticks=0))
    send(venue, "B1", Side.BUY, 100, "100.01", T0)
    assert venue.best_ask("ACME") == Decimal("100.02")

    venue.tick(T0 + timedelta(seconds=1))

    assert venue.depth("ACME")[1][0] == (Decimal("100.01"), 100)


def walk_until_filled(venue: SimVenue, cl: str, now: datetime) -> tuple[int, VenueReport]:
    for step in range(1, 2000):
        now += timedelta(seconds=1)
        venue.tick(now)
        fills = [r for r in venue.due(now) if r.cl_ord_id == cl and r.is_fill]
        if fills:
            return step, fills[-1]
    raise AssertionError(f"{cl} never filled")


def test_resting_buy_fills_when_the_price_walks_down_through_it() -> None:
    venue = SimVenue(seed=11)
    send(venue, "B1", Side.BUY, 100, "99.90", T0)

    step, fill = walk_until_filled(venue, "B1", T0)

    assert (fill.kind, fill.last_qty, fill.last_px) == (ReportKind.FILL, 100, Decimal("99.90"))
    assert venue.reference_price("ACME") + TICK <= Decimal("99.90")
    assert step > 1


def test_resting_sell_fills_when_the_price_walks_up_through_it() -> None:
    venue = SimVenue(seed=5)
    send(venue, "S1", Side.SELL, 30, "100.10", T0)

    _, fill = walk_until_filled(venue, "S1", T0)

    assert (fill.last_qty, fill.last_px, fill.order_status) == (
        30,
        Decimal("100.10"),
        OrderStatus.FILLED,
    )
    assert venue.reference_price("ACME") - TICK >= Decimal("100.10")


def session(venue: SimVenue) -> tuple[list[VenueReport], list[Decimal]]:
    """Drive a fixed mix of ticks and orders; return what went out and the price path."""
    now = T0
    sent: list[VenueReport] = []
    path: list[Decimal] = []
    for n in range(60):
        now += timedelta(milliseconds=250)
        venue.tick(now)
        side = Side.BUY if n % 2 else Side.SELL
        offset = Decimal(n % 7 - 3) * TICK
        price = venue.reference_price("ACME") + (offset if side is Side.BUY else -offset)
        venue.new_order(
            ClOrdId(f"C{n}"),
            FUND_A,
            "ACME",
            side,
            Decimal(40 + n),
            OrdType.LIMIT,
            price,
            TimeInForce.DAY,
            now,
        )
        if n % 5 == 4:
            venue.cancel(ClOrdId(f"X{n}"), ClOrdId(f"C{n - 2}"), now)
        sent += venue.due(now)
        path.append(venue.reference_price("ACME"))
    sent += venue.due(now + timedelta(minutes=5))
    return sent, path


NOISY = FaultPlan(
    split_fill=Trigger(ratio=0.3),
    late_fill_after_cancel=Trigger(ratio=0.5),
    delay=Trigger(ratio=0.2),
    delay_by=timedelta(milliseconds=600),
    duplicate=Trigger(ratio=0.1),
    reorder=Trigger(ratio=0.3),
    drop=Trigger(ratio=0.05),
)


def test_same_seed_and_same_calls_give_the_same_reports() -> None:
    first, second = SimVenue(seed=42, faults=NOISY), SimVenue(seed=42, faults=NOISY)

    assert session(first) == session(second)
    assert first.drop_copy() == second.drop_copy()
    assert first.tape() == second.tape()
    assert first.statement(T0.date()) == second.statement(T0.date())
    assert len(first.statement(T0.date())) > 10


def test_different_seeds_walk_differently() -> None:
    _, path_a = session(SimVenue(seed=1))
    _, path_b = session(SimVenue(seed=2))

    assert path_a != path_b


def test_arming_a_fault_does_not_change_how_the_market_walks() -> None:
    _, quiet_path = session(SimVenue(seed=9))
    _, noisy_path = session(SimVenue(seed=9, faults=NOISY))

    assert quiet_path == noisy_path


def test_price_never_walks_below_the_house_quotes_floor() -> None:
    venue = SimVenue(seed=4, listings=[listing("PENY", "0.09")])
    floor = Decimal("0.07")  # (5 levels + 1 tick half spread + 1) ticks: the lowest bid stays 0.02
    now = T0
    references = []
    for _ in range(300):
        now += timedelta(seconds=1)
        venue.tick(now)
        references.append(venue.reference_price("PENY"))
        assert venue.depth("PENY")[0][-1][0] >= TICK
    assert min(references) == floor
