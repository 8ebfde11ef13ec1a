"""Column values: checked and made canonical on the way in, rebuilt exactly on the way out.

Every store reads back the same Python values, so the canonical forms are the ones that
PostgreSQL's types keep:

- ``Decimal``: finite only; the exponent is kept (``Decimal("10.00")`` stays ``10.00``) except
  that a positive exponent is written out (``1E+2`` -> ``100``) and a negative zero loses its
  sign (``-0.00`` -> ``0.00``), as NUMERIC does. SQLite keeps the canonical text, never REAL.
- ``datetime``: aware, converted to UTC (``datetime.UTC``), microseconds; a naive one is an
  error. SQLite keeps ISO 8601 text with the offset, so text order is time order.
- ``date``: ISO text in SQLite. ``bool``: 0/1 in SQLite. ``bytes``: ``bytearray`` and
  ``memoryview`` are copied to ``bytes``; anything else is an error.

A value of the wrong type raises ``StoreError``: money must never pass through a float.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, Generic, TypeVar

from keel.adapters.store.tables import (
    EVENTS,
    EXCEPTIONS,
    FILLS,
    INPUTS,
    KEYS,
    LINKS,
    ORDERS,
    POSITIONS,
    ColumnKind,
    Table,
)
from keel.app.errors import StoreError

R = TypeVar("R")
Convert = Callable[[Any], Any]


def _wrong(kind: str, value: object) -> StoreError:
    return StoreError(f"expected {kind}, got {type(value).__name__} {value!r}")


def checked_decimal(value: Any) -> Decimal:
    """Return ``value`` if it is a finite ``Decimal``; raise ``StoreError`` otherwise."""
    if type(value) is not Decimal:
        raise _wrong("a Decimal", value)
    if not value.is_finite():
        raise StoreError(f"a stored Decimal must be finite, got {value!r}")
    return value


def decimal_text(value: Any) -> str:
    """Return the canonical text of a ``Decimal`` (see the module docstring)."""
    text = str(checked_decimal(value))
    if "E+" in text:
        text = format(value, "f")
    if text[0] == "-" and not value:
        text = text[1:]
    return text


def canonical_decimal(value: Any) -> Decimal:
    """Return the canonical ``Decimal`` equal to ``value``, exponent and sign as stored."""
    text = decimal_text(value)
    return value if text == str(value) else Decimal(text)


def utc_datetime(value: Any) -> datetime:
    """Return an aware ``datetime`` in UTC; raise ``StoreError`` for a naive one."""
    if type(value) is not datetime:
        raise _wrong("a datetime", value)
    if value.tzinfo is UTC:
        return value
    if value.utcoffset() is None:
        raise StoreError(f"a stored datetime must be aware (UTC), got the naive {value!r}")
    return value.astimezone(UTC)


def datetime_text(value: Any) -> str:
    """Return ISO 8601 text in UTC with microseconds and the ``+00:00`` offset."""
    return utc_datetime(value).isoformat(timespec="microseconds")


def checked_date(value: Any) -> date:
    """Return ``value`` if it is a ``date`` (and not a ``datetime``)."""
    if type(value) is not date:
        raise _wrong("a date", value)
    return value


def date_text(value: Any) -> str:
    """Return a date as ISO 8601 text."""
    return checked_date(value).isoformat()


def checked_bool(value: Any) -> bool:
    """Return ``value`` if it is a ``bool``."""
    if type(value) is not bool:
        raise _wrong("a bool", value)
    return value


def bool_int(value: Any) -> int:
    """Return 1 or 0 for a ``bool``."""
    return 1 if checked_bool(value) else 0


def checked_bytes(value: Any) -> bytes:
    """Return ``value`` as ``bytes``, copying a ``bytearray`` or ``memoryview``."""
    if type(value) is bytes:
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise _wrong("bytes", value)


Converters = Mapping[ColumnKind, Convert]

MEMORY_IN: Converters = {
    "decimal": canonical_decimal,
    "datetime": utc_datetime,
    "date": checked_date,
    "bool": checked_bool,
    "bytes": checked_bytes,
}
"""What the memory store does to a value on the way in: check it and make it canonical."""

SQLITE_IN: Converters = {
    "decimal": decimal_text,
    "datetime": datetime_text,
    "date": date_text,
    "bool": bool_int,
    "bytes": checked_bytes,
}
SQLITE_OUT: Converters = {
    "decimal": Decimal,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "bool": bool,
}

POSTGRES_IN: Converters = {
    "decimal": checked_decimal,
    "datetime": utc_datetime,
    "date": checked_date,
    "bool": checked_bool,
    "bytes": checked_bytes,
}
"""NUMERIC makes a Decimal canonical itself; psycopg returns every type as it should."""


def _nullable(convert: Convert) -> Convert:
    def maybe(value: Any) -> Any:
        return None if value is None else convert(value)

    return maybe


class RowCodec(Generic[R]):
    """Turn a table's rows into column values for a store, and column values back into rows.

    ``check_required`` makes ``encode`` refuse ``None`` in a NOT NULL column, which the SQL
    stores leave to the database.
    """

    def __init__(
        self,
        table: Table[R],
        into: Converters,
        out: Converters | None = None,
        *,
        check_required: bool = False,
    ) -> None:
        self.table = table
        self.names = table.names
        self._values = attrgetter(*self.names)
        self._into: list[tuple[int, Convert]] = []
        self._out: list[tuple[int, Convert]] = []
        self._required = [
            i for i, c in enumerate(table.columns) if check_required and not c.nullable
        ]
        for i, column in enumerate(table.columns):
            if column.kind in into:
                convert = into[column.kind]
                self._into.append((i, _nullable(convert) if column.nullable else convert))
            if out is not None and column.kind in out:
                self._out.append((i, out[column.kind]))

    def encode(self, row: R) -> list[Any]:
        """Return the column values of ``row``, checked and converted for the store."""
        values = list(self._values(row))
        for i in self._required:
            if values[i] is None:
                raise StoreError(f"{self.table.name}.{self.names[i]} may not be None")
        for i, convert in self._into:
            values[i] = convert(values[i])
        return values

    def decode(self, values: Sequence[Any]) -> R:
        """Return the row that the column ``values`` (as the store returned them) hold."""
        if self._out:
            values = list(values)
            for i, convert in self._out:
                value = values[i]
                if value is not None:
                    values[i] = convert(value)
        return self.table.make(*values)

    def decode_dict(self, values: Sequence[Any]) -> dict[str, Any]:
        """Return the column -> value mapping that the column ``values`` hold."""
        if self._out:
            values = list(values)
            for i, convert in self._out:
                value = values[i]
                if value is not None:
                    values[i] = convert(value)
        return dict(zip(self.names, values, strict=True))


class Codecs:
    """One store's ``RowCodec`` for every table, typed by row."""

    def __init__(
        self, into: Converters, out: Converters | None = None, *, check_required: bool = False
    ) -> None:
        def codec(table: Table[R]) -> RowCodec[R]:
            return RowCodec(table, into, out, check_required=check_required)

        self.inputs = codec(INPUTS)
        self.events = codec(EVENTS)
        self.keys = codec(KEYS)
        self.orders = codec(ORDERS)
        self.links = codec(LINKS)
        self.fills = codec(FILLS)
        self.positions = codec(POSITIONS)
        self.exceptions = codec(EXCEPTIONS)
        self.by_table: dict[str, RowCodec[Any]] = {
            c.table.name: c
            for c in (
                self.inputs,
                self.events,
                self.keys,
                self.orders,
                self.links,
                self.fills,
                self.positions,
                self.exceptions,
            )
        }
