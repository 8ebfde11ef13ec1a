"""The simulated venue's matching rules and order lifecycle, on a quiet book (no market maker).

Every scenario is a desk sending orders; the venue answers with reports taken from ``due``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from keel.adapters.venues.sim import (
    UNKNOWN_ORDER_ID,
    FaultPlan,
    Listing,
    QuotingRules,
    RejectCode,
    ReportKind,
    SimVenue,
    SimVenueError,
    Trigger,
    VenueReport,
    listing,
)
from keel.domain.amounts import average_price
from keel.domain.enums import OrderStatus, OrdType, RequestKind, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
FUND_A = AccountId("FUND-A")
FUND_B = AccountId("FUND-B")
QUIET = QuotingRules(levels=0)
K = ReportKind


class Desk:
    """A client of the venue: sends requests at its own clock and keeps what comes back."""

    def __init__(self, venue: SimVenue | None = None, now: datetime = T0) -> None:
        self.venue = venue or SimVenue(seed=7, quoting=QUIET)
        self.now = now
        self.received: list[VenueReport] = []

    def collect(self) -> list[VenueReport]:
        out = self.venue.due(self.now)
        self.received += out
        return out

    def order(
        self,
        cl: str,
        side: Side,
        qty: int | str,
        price: str | None = None,
        *,
        tif: TimeInForce = TimeInForce.DAY,
        ord_type: OrdType | None = None,
        symbol: str = "ACME",
        account: AccountId = FUND_A,
    ) -> list[VenueReport]:
        kind = ord_type or (OrdType.MARKET if price is None else OrdType.LIMIT)
        limit = None if price is None else Decimal(price)
        self.venue.new_order(
            ClOrdId(cl), account, symbol, side, Decimal(qty), kind, limit, tif, self.now
        )
        return self.collect()

    def buy(
        self,
        cl: str,
        qty: int | str,
        price: str | None = None,
        *,
        tif: TimeInForce = TimeInForce.DAY,
        ord_type: OrdType | None = None,
        symbol: str = "ACME",
    ) -> list[VenueReport]:
        return self.order(cl, Side.BUY, qty, price, tif=tif, ord_type=ord_type, symbol=symbol)

    def sell(
        self,
        cl: str,
        qty: int | str,
        price: str | None = None,
        *,
        tif: TimeInForce = TimeInForce.DAY,
        symbol: str = "ACME",
    ) -> list[VenueReport]:
        """Sell for another account, so the desk's buys and sells are two clients."""
        return self.order(cl, Side.SELL, qty, price, tif=tif, symbol=symbol, account=FUND_B)

    def cancel(self, cl: str, orig: str) -> list[VenueReport]:
        self.venue.cancel(ClOrdId(cl), ClOrdId(orig), self.now)
        return self.collect()

    def replace(
        self, cl: str, orig: str, qty: int | str, price: str | None = None
    ) -> list[VenueReport]:
        limit = None if price is None else Decimal(price)
        self.venue.replace(ClOrdId(cl), ClOrdId(orig), Decimal(qty), limit, self.now)
        return self.collect()

    def status(self, cl: str) -> VenueReport:
        self.venue.status(ClOrdId(cl), self.now)
        (report,) = self.collect()
        return report

    def later(self, seconds: float = 1) -> None:
        self.now += timedelta(seconds=seconds)

    def of(self, cl: str) -> list[VenueReport]:
        return [r for r in self.received if r.cl_ord_id == ClOrdId(cl)]

    def fills(self, cl: str) -> list[tuple[Decimal, Decimal]]:
        return [(r.last_qty, r.last_px) for r in self.of(cl) if r.is_fill]


def kinds(reports: list[VenueReport]) -> list[tuple[str, ReportKind]]:
    return [(r.cl_ord_id, r.kind) for r in reports]


# -- price-time priority -------------------------------------------------------------------


def test_marketable_buy_sweeps_two_levels_at_resting_prices() -> None:
    desk = Desk()
    desk.sell("S1", 100, "100.01")
    desk.sell("S2", 100, "100.02")
    desk.sell("S3", 100, "100.03")

    desk.buy("B1", 150, "100.02")

    assert desk.fills("B1") == [(100, Decimal("100.01")), (50, Decimal("100.02"))]
    final = desk.of("B1")[-1]
    assert (final.kind, final.order_status) == (K.FILL, OrderStatus.FILLED)
    assert (final.cum_qty, final.leaves_qty) == (150, 0)
    assert final.avg_px == average_price(Decimal("15002.00"), Decimal(150))
    assert final.display_avg_px(Decimal("0.0001")) == Decimal("100.0133")
    assert desk.venue.depth("ACME") == ([], [(Decimal("100.02"), 50), (Decimal("100.03"), 100)])


def test_better_price_trades_first_then_earlier_arrival() -> None:
    desk = Desk()
    desk.sell("S-WORSE", 100, "100.02")
    desk.later()
    desk.sell("S-EARLY", 100, "100.01")
    desk.later()
    desk.sell("S-LATE", 100, "100.01")

    desk.buy("B1", 250, "100.02")

    sellers = [r.cl_ord_id for r in desk.received if r.is_fill and r.side is Side.SELL]
    assert sellers == ["S-EARLY", "S-LATE", "S-WORSE"]
    assert desk.fills("S-WORSE") == [(50, Decimal("100.02"))]


def test_trade_happens_at_the_resting_order_price() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.50")

    desk.sell("S1", 100, "99.00")

    assert desk.fills("S1") == [(100, Decimal("99.50"))]
    assert desk.fills("B1") == [(100, Decimal("99.50"))]


def test_every_trade_reports_to_both_sides_with_its_own_exec_id() -> None:
    desk = Desk()
    desk.sell("S1", 60, "10.00", symbol="BOLT")

    desk.buy("B1", 100, "10.00", symbol="BOLT")

    assert kinds(desk.received) == [
        ("S1", K.NEW),
        ("B1", K.NEW),
        ("B1", K.PARTIAL_FILL),
        ("S1", K.FILL),
    ]
    exec_ids = [r.exec_id for r in desk.received]
    assert exec_ids == [f"SIM-E{n:09d}" for n in range(1, 5)]
    assert [r.venue_order_id for r in desk.of("B1")] == ["SIM-O000000002"] * 2


def test_partial_fill_leaves_the_rest_of_a_day_limit_resting() -> None:
    desk = Desk()
    desk.sell("S1", 100, "100.00")

    desk.buy("B1", 150, "100.00")

    last = desk.of("B1")[-1]
    assert (last.kind, last.order_status) == (K.PARTIAL_FILL, OrderStatus.PARTIALLY_FILLED)
    assert (last.cum_qty, last.leaves_qty) == (100, 50)
    assert desk.venue.depth("ACME") == ([(Decimal("100.00"), 50)], [])


def test_ioc_remainder_is_canceled() -> None:
    desk = Desk()
    desk.sell("S1", 40, "100.00")

    desk.buy("B1", 100, "100.00", tif=TimeInForce.IOC)

    assert [r.kind for r in desk.of("B1")] == [K.NEW, K.PARTIAL_FILL, K.CANCELED]
    canceled = desk.of("B1")[-1]
    assert (canceled.cum_qty, canceled.leaves_qty) == (40, 0)
    assert desk.venue.best_bid("ACME") is None


def test_fok_that_cannot_fill_is_canceled_whole() -> None:
    desk = Desk()
    desk.sell("S1", 100, "100.00")
    desk.sell("S2", 100, "100.05")

    desk.buy("B1", 150, "100.01", tif=TimeInForce.FOK)

    assert [r.kind for r in desk.of("B1")] == [K.NEW, K.CANCELED]
    assert desk.of("B1")[-1].cum_qty == 0
    assert desk.venue.depth("ACME")[1] == [(Decimal("100.00"), 100), (Decimal("100.05"), 100)]


def test_fok_that_can_fill_trades_in_full_across_levels() -> None:
    desk = Desk()
    desk.sell("S1", 100, "100.00")
    desk.sell("S2", 100, "100.05")

    desk.buy("B1", 150, "100.05", tif=TimeInForce.FOK)

    assert desk.fills("B1") == [(100, Decimal("100.00")), (50, Decimal("100.05"))]
    assert desk.of("B1")[-1].order_status is OrderStatus.FILLED


def test_market_order_remainder_is_canceled_when_liquidity_runs_out() -> None:
    desk = Desk()
    desk.buy("B1", 30, "99.00")
    desk.buy("B2", 30, "98.00")

    desk.sell("S1", 100)

    assert desk.fills("S1") == [(30, Decimal("99.00")), (30, Decimal("98.00"))]
    canceled = desk.of("S1")[-1]
    assert (canceled.kind, canceled.cum_qty, canceled.leaves_qty) == (K.CANCELED, 60, 0)
    assert canceled.price is None


def test_market_order_into_an_empty_book_is_canceled() -> None:
    desk = Desk()

    out = desk.buy("B1", 10)

    assert [r.kind for r in out] == [K.NEW, K.CANCELED]


def test_sell_short_trades_as_a_sell() -> None:
    desk = Desk()
    desk.buy("B1", 100, "50.00")

    desk.order("SS1", Side.SELL_SHORT, 100, "50.00")

    assert desk.fills("SS1") == [(100, Decimal("50.00"))]
    assert desk.of("SS1")[-1].side is Side.SELL_SHORT


def test_own_orders_of_one_account_may_trade_with_each_other() -> None:
    desk = Desk()
    desk.buy("B1", 10, "50.00")

    desk.order("S1", Side.SELL, 10, "50.00", account=FUND_A)

    assert desk.of("S1")[-1].kind is K.FILL


# -- what the venue refuses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("qty", "price", "ord_type", "tif", "code"),
    [
        ("100", "100.001", OrdType.LIMIT, TimeInForce.DAY, "PRICE_TOO_PRECISE"),
        ("100", "100.005", OrdType.LIMIT, TimeInForce.DAY, "PRICE_TOO_PRECISE"),
        ("1.5", "100.00", OrdType.LIMIT, TimeInForce.DAY, "QTY_NOT_LOT_MULTIPLE"),
        ("0", "100.00", OrdType.LIMIT, TimeInForce.DAY, "QTY_NOT_POSITIVE"),
        ("-5", "100.00", OrdType.LIMIT, TimeInForce.DAY, "QTY_NOT_POSITIVE"),
        ("100", None, OrdType.LIMIT, TimeInForce.DAY, "PRICE_REQUIRED"),
        ("100", "100.00", OrdType.MARKET, TimeInForce.DAY, "PRICE_NOT_ALLOWED"),
        ("100", None, OrdType.MARKET, TimeInForce.GTC, "TIF_NOT_ALLOWED"),
        ("100", "0", OrdType.LIMIT, TimeInForce.DAY, RejectCode.PRICE_NOT_POSITIVE),
        ("100", "100.00", OrdType.STOP, TimeInForce.DAY, RejectCode.UNSUPPORTED_ORD_TYPE),
        ("100", "100.00", OrdType.LIMIT, TimeInForce.GTD, RejectCode.UNSUPPORTED_TIF),
        ("NaN", "100.00", OrdType.LIMIT, TimeInForce.DAY, RejectCode.NOT_A_NUMBER),
    ],
)
def test_order_that_does_not_fit_is_rejected_with_a_reason(
    qty: str, price: str | None, ord_type: OrdType, tif: TimeInForce, code: str
) -> None:
    desk = Desk()

    out = desk.buy("B1", qty, price, ord_type=ord_type, tif=tif)

    (report,) = out
    assert (report.kind, report.order_status, report.reason_code) == (
        K.REJECTED,
        OrderStatus.REJECTED,
        code,
    )
    assert report.text
    assert report.exec_id is not None
    assert desk.venue.depth("ACME") == ([], [])


def test_quantity_off_the_lot_size_is_rejected() -> None:
    dyno = listing("DYNO", "40.00")
    board_lot = Listing(replace(dyno.instrument, lot_size=Decimal(100)), dyno.reference_price)
    desk = Desk(SimVenue(listings=[board_lot], quoting=QUIET))

    (rejected,) = desk.buy("B1", 150, "40.00", symbol="DYNO")
    accepted = desk.buy("B2", 200, "40.00", symbol="DYNO")

    assert rejected.reason_code == "QTY_NOT_LOT_MULTIPLE"
    assert "lot size 100" in rejected.text
    assert [r.kind for r in accepted] == [K.NEW]


def test_unknown_symbol_is_rejected() -> None:
    (report,) = Desk().buy("B1", 10, "1.00", symbol="NOPE")

    assert (report.kind, report.reason_code) == (K.REJECTED, RejectCode.UNKNOWN_SYMBOL)


def test_duplicate_cl_ord_id_on_a_new_order_is_rejected_and_the_first_order_is_untouched() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")

    (dup,) = desk.buy("B1", 5, "98.00")

    assert (dup.kind, dup.reason_code) == (K.REJECTED, RejectCode.DUPLICATE_CL_ORD_ID)
    assert dup.venue_order_id == UNKNOWN_ORDER_ID
    assert (dup.order_qty, dup.price) == (5, Decimal("98.00"))
    assert desk.status("B1").order_status is OrderStatus.NEW
    assert desk.venue.depth("ACME")[0] == [(Decimal("99.00"), 100)]


def test_rejected_order_still_answers_a_status_request() -> None:
    desk = Desk()
    desk.buy("B1", 10, "1.001")

    assert desk.status("B1").order_status is OrderStatus.REJECTED


# -- cancel --------------------------------------------------------------------------------


def test_cancel_of_a_resting_order_is_acked_and_leaves_the_book() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")

    (ack,) = desk.cancel("B1-X", "B1")

    assert (ack.kind, ack.order_status) == (K.CANCELED, OrderStatus.CANCELED)
    assert (ack.cl_ord_id, ack.orig_cl_ord_id) == ("B1-X", "B1")
    assert (ack.cum_qty, ack.leaves_qty) == (0, 0)
    assert desk.venue.best_bid("ACME") is None


def test_cancel_of_a_partly_filled_order_keeps_what_executed() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")
    desk.sell("S1", 30, "99.00")

    (ack,) = desk.cancel("B1-X", "B1")

    assert (ack.cum_qty, ack.leaves_qty, ack.avg_px) == (30, 0, Decimal("99.00"))


def test_cancel_of_an_unknown_order_is_cancel_rejected() -> None:
    (reject,) = Desk().cancel("X1", "NEVER-SENT")

    assert reject.kind is K.CANCEL_REJECTED
    assert (reject.reason_code, reject.response_to) == (
        RejectCode.UNKNOWN_ORDER,
        RequestKind.CANCEL,
    )
    assert (reject.venue_order_id, reject.exec_id) == (UNKNOWN_ORDER_ID, None)
    assert reject.orig_cl_ord_id == "NEVER-SENT"


def test_cancel_of_a_filled_order_is_too_late() -> None:
    desk = Desk()
    desk.sell("S1", 100, "100.00")
    desk.buy("B1", 100, "100.00")

    (reject,) = desk.cancel("B1-X", "B1")

    assert (reject.kind, reject.reason_code) == (K.CANCEL_REJECTED, RejectCode.TOO_LATE)
    assert reject.order_status is OrderStatus.FILLED
    assert reject.venue_order_id == desk.of("B1")[0].venue_order_id


def test_cancel_reusing_a_cl_ord_id_is_rejected() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")

    (reject,) = desk.cancel("B1", "B1")

    assert reject.reason_code == RejectCode.DUPLICATE_CL_ORD_ID
    assert desk.venue.best_bid("ACME") == Decimal("99.00")


# -- replace -------------------------------------------------------------------------------


def test_replace_down_keeps_time_priority() -> None:
    desk = Desk()
    desk.buy("B-FIRST", 100, "99.00")
    desk.buy("B-SECOND", 100, "99.00")

    (ack,) = desk.replace("B-FIRST-R", "B-FIRST", 60)

    assert (ack.kind, ack.order_qty, ack.leaves_qty) == (K.REPLACED, 60, 60)
    assert desk.venue.queue("ACME", Side.BUY, Decimal("99.00")) == ["B-FIRST-R", "B-SECOND"]
    desk.sell("S1", 60, "99.00")
    assert desk.fills("B-FIRST-R") == [(60, Decimal("99.00"))]
    assert desk.fills("B-SECOND") == []


def test_replace_up_loses_time_priority() -> None:
    desk = Desk()
    desk.buy("B-FIRST", 100, "99.00")
    desk.buy("B-SECOND", 100, "99.00")

    desk.replace("B-FIRST-R", "B-FIRST", 150)

    assert desk.venue.queue("ACME", Side.BUY, Decimal("99.00")) == ["B-SECOND", "B-FIRST-R"]
    assert desk.venue.depth("ACME")[0] == [(Decimal("99.00"), 250)]


def test_replace_to_a_new_price_loses_time_priority() -> None:
    desk = Desk()
    desk.buy("B-FIRST", 100, "99.00")
    desk.buy("B-SECOND", 100, "99.00")

    desk.replace("B-FIRST-R", "B-FIRST", 100, "98.99")
    desk.replace("B-FIRST-R2", "B-FIRST-R", 100, "99.00")

    assert desk.venue.queue("ACME", Side.BUY, Decimal("99.00")) == ["B-SECOND", "B-FIRST-R2"]


def test_replace_to_a_marketable_price_trades_at_once() -> None:
    desk = Desk()
    desk.sell("S1", 50, "100.00")
    desk.buy("B1", 100, "99.00")

    out = desk.replace("B1-R", "B1", 100, "100.00")

    assert kinds(out) == [("B1-R", K.REPLACED), ("B1-R", K.PARTIAL_FILL), ("S1", K.FILL)]
    assert desk.venue.depth("ACME") == ([(Decimal("100.00"), 50)], [])


def test_replace_quantity_is_the_new_total_including_what_executed() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")
    desk.sell("S1", 40, "99.00")

    (ack,) = desk.replace("B1-R", "B1", 70)

    assert (ack.order_qty, ack.cum_qty, ack.leaves_qty) == (70, 40, 30)
    assert ack.order_status is OrderStatus.PARTIALLY_FILLED
    assert ack.price == Decimal("99.00")
    assert desk.venue.depth("ACME")[0] == [(Decimal("99.00"), 30)]


@pytest.mark.parametrize("qty", [40, 25])
def test_replace_to_a_quantity_at_or_below_what_executed_is_rejected(qty: int) -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")
    desk.sell("S1", 40, "99.00")

    (reject,) = desk.replace("B1-R", "B1", qty)

    assert reject.kind is K.CANCEL_REJECTED
    assert (reject.reason_code, reject.response_to) == (
        RejectCode.QTY_NOT_ABOVE_FILLED,
        RequestKind.REPLACE,
    )
    assert (reject.order_qty, reject.leaves_qty) == (100, 60)
    assert desk.status("B1").leaves_qty == 60


@pytest.mark.parametrize(
    ("qty", "price", "code"),
    [
        (100, "99.005", "PRICE_TOO_PRECISE"),
        (0, None, "QTY_NOT_POSITIVE"),
        (100, "-1", "PRICE_NOT_POSITIVE"),
    ],
)
def test_replace_with_terms_that_do_not_fit_is_rejected(
    qty: int, price: str | None, code: str
) -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")

    (reject,) = desk.replace("B1-R", "B1", qty, price)

    assert (reject.kind, reject.reason_code) == (K.CANCEL_REJECTED, code)


def test_replace_of_an_unknown_order_is_cancel_rejected() -> None:
    (reject,) = Desk().replace("R1", "NEVER-SENT", 10, "1.00")

    assert (reject.kind, reject.response_to) == (K.CANCEL_REJECTED, RequestKind.REPLACE)
    assert reject.venue_order_id == UNKNOWN_ORDER_ID


def test_order_answers_to_every_cl_ord_id_of_its_chain() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")
    desk.replace("B1-R", "B1", 80)

    (ack,) = desk.cancel("B1-X", "B1")

    assert (ack.kind, ack.cl_ord_id, ack.order_qty) == (K.CANCELED, "B1-X", 80)
    assert desk.status("B1-R").order_status is OrderStatus.CANCELED


# -- status, expiry, ids -------------------------------------------------------------------


def test_status_reports_the_order_as_it_stands() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")
    desk.sell("S1", 25, "99.00")

    report = desk.status("B1")

    assert report.kind is K.STATUS
    assert (report.order_status, report.cum_qty, report.leaves_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        25,
        75,
    )
    assert report.exec_id is not None


def test_status_of_an_unknown_order_says_so() -> None:
    report = Desk().status("NEVER-SENT")

    assert (report.kind, report.order_status) == (K.STATUS, OrderStatus.REJECTED)
    assert (report.reason_code, report.venue_order_id) == (RejectCode.UNKNOWN_ORDER, "NONE")


def test_end_of_day_expires_day_orders_and_keeps_gtc() -> None:
    desk = Desk()
    desk.buy("B-DAY", 100, "99.00")
    desk.buy("B-GTC", 100, "98.00", tif=TimeInForce.GTC)
    desk.later(3600)

    desk.venue.end_of_day(desk.now)
    out = desk.collect()

    assert kinds(out) == [("B-DAY", K.EXPIRED)]
    assert out[0].order_status is OrderStatus.EXPIRED
    assert desk.venue.depth("ACME")[0] == [(Decimal("98.00"), 100)]


def test_avg_px_is_exact_across_fills() -> None:
    desk = Desk()
    desk.sell("S1", 1, "100.01")
    desk.sell("S2", 2, "100.02")

    desk.buy("B1", 3, "100.02")

    avg = desk.of("B1")[-1].avg_px
    assert avg == average_price(Decimal("300.05"), Decimal(3))
    assert avg * 3 == Decimal("300.0500000000000000000000000000000")
    assert desk.of("B1")[-1].display_avg_px() == Decimal("100.016667")


def test_order_state_is_a_view_that_sends_nothing() -> None:
    desk = Desk()
    desk.buy("B1", 100, "99.00")

    state = desk.venue.order_state(ClOrdId("B1"))

    assert state is not None
    assert (state.kind, state.exec_id, state.leaves_qty) == (K.STATUS, None, 100)
    assert desk.venue.order_state(ClOrdId("NOPE")) is None
    assert desk.collect() == []


# -- misuse is an error, not a reject ------------------------------------------------------


def test_float_quantity_is_a_programming_error() -> None:
    venue = SimVenue(quoting=QUIET)
    with pytest.raises(SimVenueError, match="qty must be a Decimal"):
        venue.new_order(
            ClOrdId("B1"),
            FUND_A,
            "ACME",
            Side.BUY,
            1.5,  # type: ignore[arg-type]
            OrdType.MARKET,
            None,
            TimeInForce.DAY,
            T0,
        )


def test_naive_or_backward_time_is_a_programming_error() -> None:
    venue = SimVenue(quoting=QUIET)
    with pytest.raises(SimVenueError, match="aware"):
        venue.tick(datetime(2026, 3, 2, 14, 30))
    venue.tick(T0)
    with pytest.raises(SimVenueError, match="backwards"):
        venue.due(T0 - timedelta(microseconds=1))


def test_bad_configuration_is_a_programming_error() -> None:
    with pytest.raises(SimVenueError, match="not on the tick"):
        listing("ACME", "100.005")
    with pytest.raises(SimVenueError, match="half_spread_ticks"):
        QuotingRules(half_spread_ticks=0)
    with pytest.raises(SimVenueError, match="ratio"):
        Trigger(ratio=1.5)
    with pytest.raises(SimVenueError, match="split_prints"):
        FaultPlan(split_prints=1)
    with pytest.raises(SimVenueError, match="listed twice"):
        SimVenue(listings=[listing("ACME", "1.00"), listing("ACME", "2.00")])
    with pytest.raises(SimVenueError, match="not listed"):
        SimVenue().best_bid("NOPE")
