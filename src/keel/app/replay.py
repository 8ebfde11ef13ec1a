"""Replay: rebuild every projection from the event log and compare it with the live tables.

Events are read in sequence and grouped by the input that caused them (one transition per
input); each group is folded onto its order and handed to the same ``Projector`` the
sequencer uses. ``verify`` compares the result row by row with the live tables; ``rebuild``
writes it in their place in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from keel.app import codec
from keel.app.ports import PROJECTION_TABLES, EventStore
from keel.app.projector import Projector
from keel.app.records import EventRecord, ExceptionRow, FillRow, ProjectionRows, row_values
from keel.domain.events import Event
from keel.domain.fold import evolve
from keel.domain.ids import OrderId
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
    """Rebuild one order from its own events (None if it has none)."""
    order: Order | None = None
    for record in store.events_for_order(order_id):
        order = evolve(
            order, codec.decode_event(record.type, record.payload, record.schema_version)
        )
    return order


def _events(store: EventStore, batch: int = 10_000) -> Iterator[EventRecord]:
    after = 0
    while True:
        records = store.read_events(after, batch)
        if not records:
            return
        yield from records
        after = records[-1].event_seq


def rebuild_rows(store: EventStore, progress: Progress | None = None) -> ProjectionRows:
    """Return every projection row as the log alone says it should be."""
    rows = ProjectionRows()
    orders: dict[OrderId, Order] = {}

    def fills_of(account: str, instrument: str) -> list[FillRow]:
        return []  # the rebuild's own rows hold every fill booked so far

    def exceptions_of(order_id: str) -> list[ExceptionRow]:
        return [x for x in rows.exceptions.values() if x.order_id == order_id]

    projector = Projector({}, fills_of, exceptions_of)
    seen = 0
    for (input_seq, order_id), group in groupby(
        _events(store), key=lambda r: (r.input_seq, r.order_id)
    ):
        records = list(group)
        events: list[Event] = [
            codec.decode_event(r.type, r.payload, r.schema_version) for r in records
        ]
        order = orders.get(OrderId(order_id))
        for event in events:
            order = evolve(order, event)
        assert order is not None
        orders[order.order_id] = order
        projector.project(rows, order, events, records[0].event_seq, input_seq)
        seen += len(records)
        if progress is not None:
            progress(seen)
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
    """Rebuild every projection from the log and return how the live tables differ."""
    return compare(store, rebuild_rows(store, progress))


def rebuild(store: EventStore, progress: Progress | None = None) -> int:
    """Replace the live projection tables with the log's rebuild; return rows written."""
    rows = rebuild_rows(store, progress)
    store.replace_projections(rows)
    return (
        len(rows.orders)
        + len(rows.links)
        + len(rows.fills)
        + len(rows.positions)
        + len(rows.exceptions)
    )
