"""``keel demo``: scripted order lifecycles through the real state machine, shown with Rich.

Until the service and the simulated venue exist, the venue's side is scripted here: the
messages a broker really sends, including a duplicate, a fill before the ack, a gap in
CumQty and a fill after the cancel. Everything the tables show comes from ``apply``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypedDict

from rich.console import Console
from rich.table import Table

from keel.adapters.clock import ManualClock
from keel.app.order_book import OrderBook
from keel.domain.enums import ExceptionStatus, OrderStatus, OrdType, Outcome, RejectSource, Side
from keel.domain.events import ExceptionCleared
from keel.domain.ids import AccountId, ClOrdId, ExecId, InstrumentId, OrderId, VenueId, VenueOrderId
from keel.domain.inputs import (
    CancelAck,
    CancelRequest,
    Fill,
    Input,
    NewOrderAccepted,
    NewOrderDenied,
    ReplaceAck,
    ReplaceRequest,
    SentToVenue,
    VenueAck,
)
from keel.domain.order import Order, OrderSpec

START = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)

STATUS_STYLE = {
    OrderStatus.FILLED: "bold green",
    OrderStatus.PARTIALLY_FILLED: "green",
    OrderStatus.CANCELED: "yellow",
    OrderStatus.REJECTED: "bold red",
    OrderStatus.EXPIRED: "magenta",
    OrderStatus.PENDING_CANCEL: "cyan",
    OrderStatus.PENDING_REPLACE: "cyan",
}
OUTCOME_STYLE = {
    Outcome.DUPLICATE: "dim",
    Outcome.IGNORED: "dim",
    Outcome.REFUSED: "yellow",
    Outcome.CONFLICT: "bold red",
}


class _Stamp(TypedDict):
    order_id: OrderId
    ingest_time: datetime
    event_time: datetime


@dataclass
class Script:
    """Builds one order's inputs with consistent ids and a moving clock."""

    order_id: OrderId
    clock: datetime = START
    execs: int = 0

    def _t(self) -> _Stamp:
        self.clock += timedelta(milliseconds=137)
        return {"order_id": self.order_id, "ingest_time": self.clock, "event_time": self.clock}

    def spec(self, side: Side, qty: int, limit: str) -> OrderSpec:
        return OrderSpec(
            AccountId("FUND-A"),
            InstrumentId("ACME"),
            side,
            OrdType.LIMIT,
            Decimal(qty),
            Decimal(limit),
            venue=VenueId("SIM"),
        )

    def exec_id(self) -> ExecId:
        self.execs += 1
        return ExecId(f"{self.order_id}-E{self.execs}")

    def new(self, side: Side, qty: int, limit: str) -> NewOrderAccepted:
        return NewOrderAccepted(
            **self._t(),
            spec=self.spec(side, qty, limit),
            cl_ord_id=ClOrdId(f"{self.order_id}.1"),
            actor="alice",
        )

    def sent(self) -> SentToVenue:
        return SentToVenue(**self._t(), cl_ord_id=ClOrdId(f"{self.order_id}.1"))

    def ack(self) -> VenueAck:
        return VenueAck(
            **self._t(),
            exec_id=self.exec_id(),
            venue_order_id=VenueOrderId(f"V{self.order_id}"),
        )

    def fill(self, qty: int, px: str, cum: int, order_qty: int) -> Fill:
        return Fill(
            **self._t(),
            exec_id=self.exec_id(),
            last_qty=Decimal(qty),
            last_px=Decimal(px),
            cum_qty=Decimal(cum),
            leaves_qty=Decimal(max(order_qty - cum, 0)),
        )


def _scenarios() -> Iterator[tuple[str, list[Input]]]:
    a = Script(OrderId("ORD-1"))
    fill_2 = None
    steps: list[Input] = [a.new(Side.BUY, 300, "10.00"), a.sent(), a.ack()]
    steps.append(a.fill(100, "10.00", 100, 300))
    fill_2 = a.fill(100, "10.01", 200, 300)
    steps += [fill_2, fill_2, a.fill(100, "9.99", 300, 300)]
    yield "Buy 300 ACME: three fills, one delivered twice", steps

    b = Script(OrderId("ORD-2"))
    steps = [b.new(Side.SELL, 500, "10.05"), b.sent(), b.ack(), b.fill(200, "10.05", 200, 500)]
    steps.append(
        ReplaceRequest(**b._t(), cl_ord_id=ClOrdId("ORD-2.2"), qty=Decimal(400), actor="alice")
    )
    steps.append(ReplaceAck(**b._t(), exec_id=b.exec_id(), cl_ord_id=ClOrdId("ORD-2.2")))
    steps.append(CancelRequest(**b._t(), cl_ord_id=ClOrdId("ORD-2.3"), actor="alice"))
    steps.append(CancelAck(**b._t(), exec_id=b.exec_id(), cl_ord_id=ClOrdId("ORD-2.3")))
    steps.append(b.fill(50, "10.05", 250, 400))
    yield "Sell 500 ACME: replaced to 400, canceled, then a late fill", steps

    c = Script(OrderId("ORD-3"))
    early = c.fill(100, "10.02", 100, 400)
    skipped = c.fill(100, "10.03", 200, 400)
    later = c.fill(100, "10.04", 300, 400)
    steps = [c.new(Side.BUY, 400, "10.05"), c.sent(), early, later, skipped]
    yield "Buy 400 ACME: fills before the ack, one out of order", steps

    d = Script(OrderId("ORD-4"))
    steps = [
        NewOrderDenied(
            **d._t(),
            spec=d.spec(Side.BUY, 1_000_000, "10.00"),
            cl_ord_id=ClOrdId("ORD-4.1"),
            source=RejectSource.RISK,
            reason_code="MAX_NOTIONAL",
            text="notional 10,000,000.00 over the 5,000,000.00 limit for FUND-A",
            actor="alice",
        )
    ]
    yield "Buy 1,000,000 ACME: denied by the pre-trade risk check", steps


def _status(order: Order | None) -> str:
    if order is None:
        return "-"
    style = STATUS_STYLE.get(order.status, "")
    return f"[{style}]{order.status}[/]" if style else str(order.status)


def _describe(inp: Input) -> str:
    name = type(inp).__name__
    if isinstance(inp, Fill):
        return f"{name} {inp.last_qty} @ {inp.last_px} (venue cum {inp.cum_qty}) {inp.exec_id}"
    if isinstance(inp, ReplaceRequest):
        return f"{name} qty -> {inp.qty} as {inp.cl_ord_id}"
    exec_id = getattr(inp, "exec_id", None)
    return f"{name} {exec_id}" if exec_id else name


def run_demo(console: Console, pause: Callable[[], None] = lambda: None) -> OrderBook:
    """Play every scenario through an order book and print what happened."""
    book = OrderBook(ManualClock(START, timedelta(microseconds=250)))
    console.rule("[bold]Keel[/] - order lifecycles through the state machine")
    for title, inputs in _scenarios():
        table = Table(title=title, title_justify="left", expand=True)
        for column in (
            "#",
            "input",
            "outcome",
            "status",
            "cum",
            "leaves",
            "avg px",
            "raised / note",
        ):
            table.add_column(column, no_wrap=column not in ("input", "note"))
        for n, inp in enumerate(inputs, 1):
            tr = book.submit(inp)
            order = tr.order
            outcome_style = OUTCOME_STYLE.get(tr.outcome, "")
            raised = ", ".join(f"[bold red]{x.kind}[/]" for x in tr.exceptions)
            if not raised and tr.note:
                raised = f"[dim]{tr.note}[/]"
            table.add_row(
                str(n),
                _describe(inp),
                f"[{outcome_style}]{tr.outcome}[/]" if outcome_style else str(tr.outcome),
                _status(order),
                str(order.cum_qty) if order else "-",
                str(order.leaves_qty) if order else "-",
                f"{order.avg_px:.4f}" if order and order.cum_qty else "-",
                raised,
            )
        console.print(table)
        pause()

    blotter = Table(title="Blotter", title_justify="left")
    for column in ("order", "side", "qty", "status", "cum", "leaves", "avg px", "ClOrdIDs"):
        blotter.add_column(column)
    for order in book.orders.values():
        blotter.add_row(
            order.order_id,
            str(order.spec.side),
            str(order.spec.qty),
            _status(order),
            str(order.cum_qty),
            str(order.leaves_qty),
            f"{order.avg_px:.4f}" if order.cum_qty else "-",
            " > ".join(f"{v.cl_ord_id}({v.kind[0]}:{v.state[:3]})" for v in order.lineage),
        )
    console.print(blotter)

    exceptions = Table(title="Exceptions for review", title_justify="left")
    for column in ("id", "kind", "status", "summary"):
        exceptions.add_column(column)
    # Cleared: the order itself answered them (e.g. the missing fill arrived).
    cleared = {e.exception_id for e in book.events if isinstance(e, ExceptionCleared)}
    for record in book.exceptions:
        state = "CLEARED" if record.exception_id in cleared else str(ExceptionStatus.OPEN)
        exceptions.add_row(record.exception_id, str(record.kind), state, record.summary)
    console.print(exceptions)
    counts = ", ".join(f"{outcome}: {n}" for outcome, n in sorted(book.outcomes.items()))
    console.print(f"[dim]{len(book.journal)} inputs, {len(book.events)} events ({counts})[/]")
    return book
