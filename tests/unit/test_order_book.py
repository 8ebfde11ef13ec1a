"""The in-memory order book applies inputs in arrival order with the clock's time."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from keel.adapters.clock import ManualClock
from keel.app.order_book import OrderBook
from keel.domain.enums import ExceptionKind, OrderStatus, Outcome
from keel.domain.fold import fold
from keel.domain.ids import ClOrdId, ExecId, OrderId
from keel.domain.inputs import Fill, NewOrderAccepted, SentToVenue
from support.builders import T0, spec

ORDER = OrderId("ORD-7")


def new_order() -> NewOrderAccepted:
    return NewOrderAccepted(
        order_id=ORDER, ingest_time=T0, event_time=T0, spec=spec(200), cl_ord_id=ClOrdId("C-1")
    )


def fill(exec_id: str, qty: int, cum: int) -> Fill:
    return Fill(
        order_id=ORDER,
        ingest_time=T0,
        event_time=T0,
        exec_id=ExecId(exec_id),
        last_qty=Decimal(qty),
        last_px=Decimal("10.00"),
        cum_qty=Decimal(cum),
        leaves_qty=Decimal(200 - cum),
    )


def test_order_book_stamps_processed_time_from_its_clock_and_counts_outcomes() -> None:
    book = OrderBook(ManualClock(T0, timedelta(seconds=1)))
    book.submit(new_order())
    book.submit(
        SentToVenue(order_id=ORDER, ingest_time=T0, event_time=T0, cl_ord_id=ClOrdId("C-1"))
    )
    book.submit(fill("E-1", 100, 100))
    book.submit(fill("E-1", 100, 100))
    book.submit(fill("E-2", 100, 200))

    order = book.orders[ORDER]
    assert order.status is OrderStatus.FILLED
    assert order.times.processed_time == T0 + timedelta(seconds=4)
    assert book.outcomes[Outcome.APPLIED] == 4
    assert book.outcomes[Outcome.DUPLICATE] == 1
    assert [e.sequence for e in book.history(ORDER)] == [1, 2, 3, 4, 5]
    assert fold(book.events) == order


def test_input_for_an_unknown_order_is_kept_as_an_exception() -> None:
    book = OrderBook(ManualClock(T0))
    tr = book.submit(fill("E-9", 100, 100))
    assert tr.outcome is Outcome.CONFLICT
    assert [x.kind for x in book.exceptions] == [ExceptionKind.UNKNOWN_ORDER]
    assert book.orders == {}
