"""Replay: rebuild every projection from the event log and compare it with the live tables.

Events are read in sequence and grouped by the input that caused them (one transition per
input); each group is folded onto its order and handed to the same ``Projector`` the
sequencer uses. ``verify`` compares the result row by row with the live tables; ``rebuild``
writes it in their place in one transaction.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from keel.app import codec
from keel.app.ports import PROJECTION_TABLES, EventRow, EventStore
from keel.app.projector import PROJECTION_VERSION, Projector
from keel.app.records import ExceptionRow, FillRow, ProjectionRows, row_values
from keel.domain.cases import CASE_PREFIX, Case, fold_cases, is_case
from keel.domain.events import Event
from keel.domain.fold import evolve
from keel.domain.order import Order

Progress = Callable[[int], None]
"""Told how many events have been replayed so far."""

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "orders": ("order_id",),
    "order_links": ("kind", "ref"),
    "fills": ("fill_id",),
    "positions": ("account", "instrument"),
    "exceptions": ("exception_id",),
}


@dataclass(frozen=True, slots=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    column: str
    live: Any
    rebuilt: Any

    def __str__(self) -> str:
        key = "/".join(str(k) for k in self.key)
        return f"{self.table} {key}: {self.column} is {self.live!r} live, {self.rebuilt!r} rebuilt"


def load_order(store: EventStore, order_id: str) -> Order | None:
    """Rebuild one order from its own events (None if it has none, or names a case)."""
    if is_case(order_id):
        return None
    order: Order | None = None
    for record in store.events_for_order(order_id):
        order = evolve(
            order, codec.decode_event(record.type, record.payload, record.schema_version)
        )
    return order


def load_case(store: EventStore, stream: str) -> Case | None:
    """Rebuild one case (an exception no order holds) from its events (None if none)."""
    events = [
        codec.decode_event(r.type, r.payload, r.schema_version)
        for r in store.events_for_order(stream)
    ]
    return fold_cases(events)


PAGE_EVENTS = 1_000
"""Events per ``read_event_rows`` call while replaying: a page small enough that its rows
and events are still in the CPU's caches when they are folded (measured on SQLite: 1,000
folds about a quarter faster than 10,000 or 50,000; the extra queries cost little)."""


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a replay allocates millions of objects.

    Replay makes tuples (events, orders) by the hundred thousand and keeps most of them
    alive: each allocation counts toward a collection, and each collection walks every young
    container, then the whole heap ever more often as it grows (a third of replay's time
    measured with the collector on). Replay makes no reference cycles, so reference counting
    frees all its garbage anyway; the collector is switched back on (if it was) afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _event_rows(store: EventStore, batch: int = PAGE_EVENTS) -> Iterator[list[EventRow]]:
    """Yield the log's rows a page at a time, in sequence."""
    after = 0
    while rows := store.read_event_rows(after, batch):
        yield rows
        after = rows[-1][0]


def fold_orders(store: EventStore, batch: int = PAGE_EVENTS) -> dict[str, Order]:
    """Return every order as the log alone says it is: replay's scan, decode and fold,
    without the projections (``bench/replay.py`` measures this).

    Each row is decoded as it is folded (``codec.decode_stored``), not a page of events first:
    measured, that keeps a row's objects in the CPU's caches and is a third faster.
    """
    orders: dict[str, Order] = {}
    get = orders.get
    decode = codec.decode_stored
    with _gc_paused():
        for rows in _event_rows(store, batch):
            for _, _, order_id, type_name, version, payload in rows:
                if order_id.startswith(CASE_PREFIX):  # a case, not an order
                    continue
                orders[order_id] = evolve(get(order_id), decode(type_name, payload, version))
    return orders


def rebuild_rows(store: EventStore, progress: Progress | None = None) -> ProjectionRows:
    """Return every projection row as the log alone says it should be."""
    with _gc_paused():
        return _rebuild_rows(store, progress)


def _rebuild_rows(store: EventStore, progress: Progress | None) -> ProjectionRows:
    rows = ProjectionRows()
    orders: dict[str, Order] = {}

    def fills_of(account: str, instrument: str) -> list[FillRow]:
        return []  # the rebuild's own rows hold every fill booked so far

    def exceptions_of(order_id: str) -> list[ExceptionRow]:
        return [x for x in rows.exceptions.values() if x.order_id == order_id]

    projector = Projector({}, fills_of, exceptions_of, rows.exceptions.get)
    project = projector.project
    seen = 0
    # One group per transition: the consecutive events of one input on one order.
    group: list[Event] = []
    first_seq = group_input = 0
    group_order = ""
    order: Order | None = None

    def close_group() -> None:
        nonlocal seen
        if is_case(group_order):
            projector.project_case(rows, group, group_input)
        else:
            assert order is not None
            orders[order.order_id] = order
            project(rows, order, group, first_seq, group_input)
        seen += len(group)
        if progress is not None:
            progress(seen)

    decode = codec.decode_stored
    for page in _event_rows(store, PAGE_EVENTS):
        for event_seq, input_seq, order_id, type_name, version, payload in page:
            event = decode(type_name, payload, version)
            if input_seq != group_input or order_id != group_order or not group:
                if group:
                    close_group()
                group = []
                first_seq, group_input, group_order = event_seq, input_seq, order_id
                order = orders.get(order_id)
            if not order_id.startswith(CASE_PREFIX):
                order = evolve(order, event)
            group.append(event)
    if group:
        close_group()
    projector.finish(rows)
    rows.links = _first_per_key(rows)
    return rows


def _first_per_key(rows: ProjectionRows) -> list[Any]:
    """Links are insert-or-ignore: the first row for a (kind, ref) stays."""
    first: dict[tuple[str, str], Any] = {}
    for link in rows.links:
        first.setdefault((link.kind, link.ref), link)
    return list(first.values())


def _rebuilt_table(rows: ProjectionRows, table: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    source: Any = {
        "orders": rows.orders.values(),
        "order_links": rows.links,
        "fills": rows.fills.values(),
        "positions": rows.positions.values(),
        "exceptions": rows.exceptions.values(),
    }[table]
    keys = PRIMARY_KEYS[table]
    out = {}
    for row in source:
        values = row_values(row)
        out[tuple(values[k] for k in keys)] = values
    return out


def compare(store: EventStore, rows: ProjectionRows) -> list[Difference]:
    """Return every difference between the live projection tables and ``rows``."""
    differences: list[Difference] = []
    for table in PROJECTION_TABLES:
        rebuilt = _rebuilt_table(rows, table)
        keys = PRIMARY_KEYS[table]
        for live in store.read_table(table):
            key = tuple(live[k] for k in keys)
            expected = rebuilt.pop(key, None)
            if expected is None:
                differences.append(Difference(table, key, "(row)", "present", "absent"))
                continue
            for column, value in live.items():
                if expected.get(column) != value:
                    differences.append(Difference(table, key, column, value, expected.get(column)))
        differences.extend(Difference(table, key, "(row)", "absent", "present") for key in rebuilt)
    return differences


def verify(store: EventStore, progress: Progress | None = None) -> list[Difference]:
    """Rebuild every projection from the log and return how the live tables differ.

    Tables built by another projection version differ by design: that is reported first,
    and ``rebuild`` is the remedy.
    """
    differences = []
    stored = store.projection_version()
    if stored != PROJECTION_VERSION:
        differences.append(
            Difference("projection_versions", (), "version", stored, PROJECTION_VERSION)
        )
    return differences + compare(store, rebuild_rows(store, progress))


def rebuild(store: EventStore, progress: Progress | None = None) -> int:
    """Replace the live projection tables with the log's rebuild; return rows written."""
    rows = rebuild_rows(store, progress)
    store.replace_projections(rows, PROJECTION_VERSION)
    return (
        len(rows.orders)
        + len(rows.links)
        + len(rows.fills)
        + len(rows.positions)
        + len(rows.exceptions)
    )
