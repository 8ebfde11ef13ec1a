"""Reconciliation runs: Keel's fills against a broker's statement and drop copy.

A run takes what the broker says (a statement file, read by the ``StatementReader`` the
process was given; the drop-copy reports already recorded from the broker's session) and
what Keel booked, and compares them with the pure functions of ``keel.domain.recon``.

- The statement file is recorded first, whole, as an input (``StatementReceived``, its
  bytes as the raw input): a break's evidence points at ``input N`` and a line of it.
- Each break that involves a Keel order is raised on that order (``BreakFound``) and joins
  the exceptions queue, to be worked (and, for a missing or false fill, booked or busted
  with four eyes) like any other. A break already open is not raised again; a break
  already resolved is reported as known, not raised again.
- A position difference on an account, day and symbol where fill-level breaks were found is
  what those breaks add up to: it is listed, not raised a second time.
- The run's report (summary and every break, with what became of it) is kept in
  ``recon_runs``; a run with nothing but known, resolved breaks is ``CLEAN``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from keel.app import codec
from keel.app.errors import AppError
from keel.app.ports import Clock, EventStore
from keel.app.recon_books import KeelBooks
from keel.app.records import ExceptionRow, ReconRunRow
from keel.app.results import Result
from keel.app.sequencer import Sequencer
from keel.domain.amounts import ZERO
from keel.domain.cases import CASE_PREFIX, case_stream
from keel.domain.enums import ExceptionKind, ExceptionStatus, Outcome, Side
from keel.domain.ids import (
    AccountId,
    InstrumentId,
    OrderId,
    VenueId,
    venue_order_ref,
)
from keel.domain.inputs import BreakFound, DropCopyReport, StatementReceived
from keel.domain.recon import (
    DEFAULT_TOLERANCES,
    Break,
    BreakLevel,
    BrokerFill,
    BrokerSource,
    Tolerances,
    VenueOrder,
    reconcile,
)

FILL_EXEC_TYPES = frozenset({"F", "1", "2"})
"""ExecType(150) of a trade (FIX 4.4 ``F``; FIX 4.2 partial and full fill ``1``, ``2``)."""
AMENDING_EXEC_TYPES = frozenset({"G", "H"})
"""ExecType(150) of a trade correction and a trade bust."""


class ReconInputError(AppError):
    """A run cannot start: an unknown broker, or a statement with bad lines (each named)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class Statement:
    """A broker statement as read: the file's bytes and the executions its lines give."""

    file_name: str
    content: bytes
    mapping_version: int
    fills: tuple[BrokerFill, ...]
    lines: int


StatementReader = Callable[[str, Path, date | None], Statement]
"""Read ``path`` as ``broker``'s statement (for ``trade_date``, which picks the mapping
version); raise ``ReconInputError`` naming every bad line."""


@dataclass(frozen=True, slots=True)
class BrokerSetup:
    """A broker Keel reconciles with: the venue whose fills it reports, and how close the
    two sides must be."""

    name: str
    venue: VenueId
    tolerances: Tolerances = DEFAULT_TOLERANCES

    @property
    def drop_copy_source(self) -> str:
        return f"dropcopy:{self.name}"


class Reconciler:
    """Runs reconciliations and keeps their reports."""

    def __init__(
        self,
        sequencer: Sequencer,
        store: EventStore,
        clock: Clock,
        brokers: Mapping[str, BrokerSetup],
        read_statement: StatementReader | None = None,
    ) -> None:
        self._sequencer = sequencer
        self._store = store
        self._books = KeelBooks(store)
        self._clock = clock
        self.brokers = dict(brokers)
        self._read_statement = read_statement
        self._runs = 0
        self.finished: list[Callable[[dict[str, Any]], None]] = []
        """Called with each run's report once it is kept (metrics)."""

    async def run(
        self,
        broker: str,
        *,
        statement: Path | None = None,
        trade_date: date | None = None,
        actor: str = "system",
    ) -> dict[str, Any]:
        """Reconcile ``broker`` and return the run's report (as kept in ``recon_runs``)."""
        setup = self.brokers.get(broker)
        if setup is None:
            known = ", ".join(sorted(self.brokers)) or "none configured"
            raise ReconInputError(f"unknown broker {broker!r} (known: {known})")
        started = self._clock.now()
        run_id = f"RUN-{int(started.timestamp() * 1000):x}-{self._runs}"
        self._runs += 1
        broker_fills: list[BrokerFill] = []
        inputs: dict[str, Any] = {}
        if statement is not None:
            parsed, input_seq = await self._take_statement(setup, statement, trade_date)
            broker_fills += parsed.fills
            inputs["statement"] = {
                "file": parsed.file_name, "input_seq": input_seq, "lines": parsed.lines,
                "mapping_version": parsed.mapping_version,
            }  # fmt: skip
        copies = await asyncio.to_thread(self._drop_copies, setup)
        broker_fills += copies.fills
        inputs["drop_copy_fills"] = len(copies.fills)
        inputs["drop_copy_orders"] = len(copies.orders)
        if trade_date is not None:
            broker_fills = [f for f in broker_fills if f.trade_date == trade_date]
        keel_fills = await asyncio.to_thread(self._books.fills, setup.venue, trade_date)
        keel_orders = (
            await asyncio.to_thread(self._books.orders, setup.venue, copies.orders)
            if copies.orders else []
        )  # fmt: skip
        found = await asyncio.to_thread(
            reconcile, keel_fills, broker_fills, setup.tolerances,
            keel_orders=keel_orders, venue_orders=copies.orders, as_of=copies.as_of,
        )  # fmt: skip
        located = [(b, b.order_id or self._order_of(b, setup.venue)) for b in found.breaks]
        breaks = await self._file_all(_without_echoes(located), run_id, actor)
        unexplained = [b for b in breaks if b["state"] != "RESOLVED_BEFORE"]
        fills = found.fills
        summary = {
            "inputs": inputs, "keel_fills": len(keel_fills), "broker_fills": len(broker_fills),
            "matched_by_exec_id": fills.matched_by_exec_id,
            "matched_by_fallback": fills.matched_by_fallback,
            "orders_compared": len(found.orders.pairs) if found.orders else 0,
            "breaks_by_kind": dict(Counter(b["kind"] for b in breaks)),
            "breaks_by_state": dict(Counter(b["state"] for b in breaks)),
        }  # fmt: skip
        row = ReconRunRow(
            run_id, setup.name, trade_date.isoformat() if trade_date else None, started,
            self._clock.now(), actor, "BREAKS" if unexplained else "CLEAN",
            codec.to_json_text(summary), codec.to_json_text(breaks),
        )  # fmt: skip
        await asyncio.to_thread(self._store.save_recon_run, row)
        report = run_view(row)
        for listener in self.finished:
            listener(report)
        return report

    def run_report(self, run_id: str) -> dict[str, Any] | None:
        row = self._store.recon_run(run_id)
        return None if row is None else run_view(row)

    def runs(self, limit: int = 100) -> list[dict[str, Any]]:
        return [run_view(row, with_breaks=False) for row in self._store.recon_runs(limit)]

    # -- the broker's side ----------------------------------------------------------------
    async def _take_statement(
        self, setup: BrokerSetup, path: Path, trade_date: date | None
    ) -> tuple[Statement, int]:
        """Read the statement and record it as an input before anything is compared."""
        if self._read_statement is None:
            raise ReconInputError("this process reads no statements (no mappings configured)")
        parsed = await asyncio.to_thread(self._read_statement, setup.name, path, trade_date)
        digest = hashlib.sha256(parsed.content).hexdigest()
        now = self._clock.now()
        result = await self._sequencer.submit(
            StatementReceived(
                order_id=OrderId(""), ingest_time=now, event_time=now, broker=setup.name,
                file_name=parsed.file_name, sha256=digest, rows=len(parsed.fills),
                mapping_version=parsed.mapping_version, trade_date=trade_date,
            ),
            source=f"statement:{setup.name}", raw=parsed.content,
            idempotency_key=f"statement:{setup.name}:{digest}",
        )  # fmt: skip
        return parsed, result.duplicate_of or result.input_seq

    def _drop_copies(self, setup: BrokerSetup) -> _DropCopy:
        """What the drop-copy reports recorded from the broker's session say: the fills,
        and each order as its latest report left it (the broker's view of its orders)."""
        fills: list[BrokerFill] = []
        orders: dict[str, VenueOrder] = {}
        as_of = None
        for record in self._store.inputs_from("DROP_COPY", setup.drop_copy_source):
            report = codec.decode_input("DropCopyReport", record.payload)
            assert isinstance(report, DropCopyReport)
            ref = f"input {record.input_seq}"
            if report.exec_type in AMENDING_EXEC_TYPES and report.ref_exec_id:
                fills = _amended(fills, report, setup.venue, ref)
                continue
            fill = _as_fill(report, setup.venue, ref)
            if fill is not None:
                fills.append(fill)
            order = _as_order(report, setup.venue, ref)
            if order is not None:
                orders[order.venue_order_id or order.cl_ord_id or ref] = order
            as_of = record.processed_time
        return _DropCopy(fills, list(orders.values()), as_of)

    # -- the breaks -----------------------------------------------------------------------
    async def _file_all(
        self, breaks: Sequence[Located], run_id: str, actor: str
    ) -> list[dict[str, Any]]:
        """Raise every break on its order or case at once (one group commit for many), and
        return them as reported."""
        filed = [self._file(found, order_id, run_id, actor) for found, order_id in breaks]
        pending = [self._sequencer.enqueue(inp, source="recon") for _, inp, _ in filed if inp]
        results = iter(await asyncio.gather(*pending))
        views = []
        for view, inp, known in filed:
            if inp is not None:
                _outcome(view, next(results), known)
            views.append(view)
        return views

    def _file(
        self, found: Break, order_id: OrderId | None, run_id: str, actor: str
    ) -> tuple[dict[str, Any], BreakFound | None, ExceptionRow | None]:
        """The break as reported, the input that raises it (None if it was resolved
        before), and the exception it already is, if any."""
        view = _break_view(found)
        if order_id is None:  # no order holds it: a case of its own, in the same queue
            digest = hashlib.sha256(found.break_key.encode()).hexdigest()[:16]
            stream = case_stream(f"BRK-{digest}")
            known = self._store.find_exception(stream.removeprefix(CASE_PREFIX))
        else:
            stream = order_id
            view["order_id"] = order_id
            known = next(
                (x for x in self._store.exceptions_for_order(order_id)
                 if x.break_key == found.break_key),
                None,
            )  # fmt: skip
        if known is not None and known.status == ExceptionStatus.RESOLVED.value:
            view.update(state="RESOLVED_BEFORE", exception_id=known.exception_id,
                        resolution=known.resolution_kind or "CLEARED")  # fmt: skip
            return view, None, known
        now = self._clock.now()
        raising = BreakFound(
            order_id=stream, ingest_time=now, event_time=now,
            kind=ExceptionKind(found.kind.value), break_key=found.break_key,
            summary=found.explanation, evidence=found.labelled(), run_id=run_id,
            exec_id=found.exec_id, actor=actor,
        )  # fmt: skip
        return view, raising, known

    def _order_of(self, found: Break, venue: VenueId) -> OrderId | None:
        """The Keel order a broker's report names by its ClOrdID or order id, if any."""
        values = dict(found.broker)
        for label in ("ClOrdID", "broker order"):
            ref = values.get(label)
            if ref:
                if label == "broker order":
                    ref = venue_order_ref(venue, ref)
                order_id = self._store.resolve_order_ref(ref)
                if order_id is not None:
                    return OrderId(order_id)
        return None


def _amended(
    fills: list[BrokerFill], report: DropCopyReport, venue: VenueId, ref: str
) -> list[BrokerFill]:
    """The broker's fills after a correction or bust of one of them: a bust takes the trade
    away; a correction replaces it with the correction's ExecID, quantity and price (as
    Keel books a correction). A report amending a trade not seen is not a fill."""
    kept = [f for f in fills if f.exec_id != report.ref_exec_id]
    if report.exec_type == "G":
        original = next((f for f in fills if f.exec_id == report.ref_exec_id), None)
        corrected = _as_fill(report, venue, ref, trade=True)
        if original is not None and corrected is not None:
            kept.append(corrected._replace(trade_date=original.trade_date))
    return kept


def _as_fill(
    report: DropCopyReport, venue: VenueId, ref: str, *, trade: bool = False
) -> BrokerFill | None:
    """A drop-copy report of a trade as a broker fill (other reports are not fills)."""
    if not trade and report.exec_type not in FILL_EXEC_TYPES:
        return None
    if not report.last_qty or not report.last_px:
        return None
    try:
        side = Side(report.side)
    except ValueError:
        return None
    when = report.transact_time
    day = report.trade_date or (when.date() if when is not None else report.ingest_time.date())
    return BrokerFill(
        BrokerSource.DROP_COPY, ref, report.exec_id, venue, report.venue_order_id,
        report.cl_ord_id, AccountId(report.account or ""), InstrumentId(report.symbol), side,
        report.last_qty, report.last_px, day, None, when,
    )  # fmt: skip


def _outcome(view: dict[str, Any], result: Result, known: ExceptionRow | None) -> None:
    """Say in the break's view what raising it did."""
    raised = result.exceptions[0].exception_id if result.exceptions else None
    if raised is not None:
        view.update(state="RAISED", exception_id=raised)
    elif result.outcome is Outcome.IGNORED:
        view.update(state="STILL_OPEN", exception_id=known.exception_id if known else None)
    else:
        view.update(state=str(result.outcome), note=result.note)


def _as_order(report: DropCopyReport, venue: VenueId, ref: str) -> VenueOrder | None:
    """The broker's view of an order after a drop-copy report that says its status."""
    status = report.ord_status
    if status is None or report.cum_qty is None:
        return None
    try:
        side = Side(report.side)
    except ValueError:
        return None
    qty = report.order_qty
    if qty is None:
        qty = report.cum_qty + (report.leaves_qty or ZERO)
    return VenueOrder(
        BrokerSource.DROP_COPY, ref, venue, report.venue_order_id, report.cl_ord_id,
        InstrumentId(report.symbol), side, qty, report.cum_qty, status,
        AccountId(report.account) if report.account else None,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _DropCopy:
    fills: list[BrokerFill]
    orders: list[VenueOrder]
    as_of: datetime | None
    """When the latest report was recorded: the moment the broker's view stands for."""


Located = tuple[Break, OrderId | None]
"""A break and the Keel order it involves, if any."""


def _without_echoes(breaks: Sequence[Located]) -> list[Located]:
    """Drop a position break where fill-level breaks were found on the same account, day
    and symbol, and an order-level break on an order with fill-level breaks: each is what
    those fill breaks add up to, and is worked through them."""
    fills = [(b, order_id) for b, order_id in breaks if b.level is BreakLevel.FILL]
    orders = {order_id for _, order_id in fills if order_id}
    touched = {
        (dict(b.keel).get("account") or dict(b.broker).get("account"),
         dict(b.keel).get("trade date") or dict(b.broker).get("trade date"),
         dict(b.keel).get("symbol") or dict(b.broker).get("symbol"))
        for b, _ in fills
    }  # fmt: skip
    kept = []
    for found, order_id in breaks:
        if found.level is BreakLevel.ORDER and order_id in orders:
            continue
        if found.level is BreakLevel.POSITION:
            _, _, account, day, symbol = found.break_key.split("/", 4)
            if (account, day, symbol) in touched:
                continue
        kept.append((found, order_id))
    return kept


def _break_view(found: Break) -> dict[str, Any]:
    return {
        "break_key": found.break_key, "kind": found.kind.value, "level": found.level.value,
        "explanation": found.explanation, "keel": dict(found.keel),
        "broker": dict(found.broker),
        "evidence": [{"kind": e.kind.value, "ref": e.ref} for e in found.evidence],
        "order_id": found.order_id, "exec_id": found.exec_id, "state": "",
        "exception_id": None,
    }  # fmt: skip


def run_view(row: ReconRunRow, *, with_breaks: bool = True) -> dict[str, Any]:
    """A run as the API and the CLI show it."""
    view: dict[str, Any] = {
        "run_id": row.run_id, "broker": row.broker, "trade_date": row.trade_date,
        "started_at": row.started_at.isoformat(), "finished_at": row.finished_at.isoformat(),
        "actor": row.actor, "result": row.result, "summary": json.loads(row.summary),
    }  # fmt: skip
    if with_breaks:
        view["breaks"] = json.loads(row.breaks)
    return view
