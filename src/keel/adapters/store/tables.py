"""The tables a store writes, described once from the row types in ``keel.app.records``.

A row type's field names are its table's column names and its annotations say each column's
kind and whether it may be NULL, so every store maps rows to columns the same way. The
migrations in ``schema`` are the frozen DDL; the contract suite checks that they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from types import NoneType, UnionType
from typing import Any, Generic, Literal, TypeVar, get_args, get_type_hints

from keel.app.ports import PROJECTION_TABLES
from keel.app.records import (
    CommitBatch,
    EventRecord,
    ExceptionRow,
    FillRow,
    IdempotencyRecord,
    InputRecord,
    LinkRow,
    OrderRow,
    PositionRow,
    ProjectionRows,
)
from keel.domain.enums import TERMINAL_STATUSES

R = TypeVar("R")

ColumnKind = Literal["int", "text", "decimal", "datetime", "date", "bool", "bytes"]
WriteMode = Literal["insert", "upsert", "ignore"]
"""How a batch writes a table: ``insert`` (a duplicate key is an error), ``upsert`` (the new
row replaces the old), ``ignore`` (the first row with a key wins)."""

_KINDS: dict[Any, ColumnKind] = {
    int: "int",
    str: "text",
    Decimal: "decimal",
    datetime: "datetime",
    date: "date",
    bool: "bool",
    bytes: "bytes",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, the kind of Python value it holds, and whether it may be NULL."""

    name: str
    kind: ColumnKind
    nullable: bool


@dataclass(frozen=True, slots=True)
class Table(Generic[R]):
    """A table, the row type that fills it, its primary key and how a batch writes it."""

    name: str
    make: Callable[..., R]
    """The row type: called with the column values in order."""
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    write: WriteMode

    @property
    def names(self) -> tuple[str, ...]:
        """Return the column names in declaration order."""
        return tuple(c.name for c in self.columns)

    def key_of(self, row: R) -> tuple[Any, ...]:
        """Return the primary key values of ``row``."""
        return tuple(getattr(row, name) for name in self.key)


def columns_of(row_type: type[Any]) -> tuple[Column, ...]:
    """Return a row type's columns from its dataclass fields and their annotations."""
    hints = get_type_hints(row_type)
    columns = []
    for f in fields(row_type):
        hint = hints[f.name]
        args = get_args(hint) if isinstance(hint, UnionType) else ()
        nullable = NoneType in args
        base = next(a for a in args if a is not NoneType) if args else hint
        columns.append(Column(f.name, _KINDS[base], nullable))
    return tuple(columns)


def _table(name: str, row_type: type[R], key: tuple[str, ...], write: WriteMode) -> Table[R]:
    return Table(name, row_type, columns_of(row_type), key, write)


INPUTS = _table("inputs", InputRecord, ("input_seq",), "insert")
EVENTS = _table("events", EventRecord, ("event_seq",), "insert")
KEYS = _table("idempotency_keys", IdempotencyRecord, ("key",), "insert")
ORDERS = _table("orders", OrderRow, ("order_id",), "upsert")
LINKS = _table("order_links", LinkRow, ("kind", "ref"), "ignore")
FILLS = _table("fills", FillRow, ("fill_id",), "upsert")
POSITIONS = _table("positions", PositionRow, ("account", "instrument"), "upsert")
EXCEPTIONS = _table("exceptions", ExceptionRow, ("exception_id",), "upsert")

PROJECTIONS: dict[str, Table[Any]] = {
    t.name: t for t in (ORDERS, LINKS, FILLS, POSITIONS, EXCEPTIONS)
}
"""The projection tables by name, in the order of ``keel.app.ports.PROJECTION_TABLES``."""
assert tuple(PROJECTIONS) == PROJECTION_TABLES

ALL_TABLES: tuple[Table[Any], ...] = (INPUTS, EVENTS, KEYS, *PROJECTIONS.values())


def selectable(table: str, where: Collection[str]) -> Table[Any]:
    """Return the projection table ``select_rows`` may filter by ``where``'s columns: one
    keyed by one column, the filters on its text columns. Raise ``ValueError`` otherwise."""
    spec = PROJECTIONS.get(table)
    if spec is None or len(spec.key) != 1:
        raise ValueError(f"{table!r} is not a projection table keyed by one column")
    kinds = {c.name: c.kind for c in spec.columns}
    for name in where:
        if kinds.get(name) != "text":
            raise ValueError(f"{table}.{name} is not a text column to filter by")
    return spec


TERMINAL = tuple(sorted(str(s) for s in TERMINAL_STATUSES))
"""The order statuses that close an order: such orders are not loaded at start."""

ACTIVE_FILL = "ACTIVE"
"""The fill state that counts towards positions."""

CL_ORD_ID, VENUE_ORDER_ID, CLIENT_ORDER_ID = "CL_ORD_ID", "VENUE_ORDER_ID", "CLIENT_ORDER_ID"
REF_KINDS = (CL_ORD_ID, VENUE_ORDER_ID, CLIENT_ORDER_ID)
"""The link kinds ``resolve_order_ref`` tries after the order id, in that order."""


BARE_REF_KINDS = (CLIENT_ORDER_ID, VENUE_ORDER_ID)
"""The link kinds whose ``SCOPE:ID`` refs ``resolve_order_ref`` also finds by the bare id,
when only one order has it, in that order."""


def bare_ref(ref: str) -> str:
    """Return the id in a ``CLIENT_ORDER_ID`` (``ACCOUNT:ID``) or ``VENUE_ORDER_ID``
    (``VENUE:ID``) link's ref.

    Accounts and venues hold no ``:``; the id may.
    """
    return ref.partition(":")[2] if ":" in ref else ref


def batch_parts(batch: CommitBatch) -> list[tuple[Table[Any], Collection[Any]]]:
    """Return what a batch writes, table by table, in the order a store writes them."""
    return [
        (INPUTS, batch.inputs),
        (EVENTS, batch.events),
        (KEYS, batch.keys),
        *projection_parts(batch.projections),
    ]


def projection_parts(rows: ProjectionRows) -> list[tuple[Table[Any], Collection[Any]]]:
    """Return the projection rows table by table, in ``PROJECTION_TABLES`` order."""
    return [
        (ORDERS, rows.orders.values()),
        (LINKS, rows.links),
        (FILLS, rows.fills.values()),
        (POSITIONS, rows.positions.values()),
        (EXCEPTIONS, rows.exceptions.values()),
    ]
