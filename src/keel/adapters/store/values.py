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
- ``str``: a subclass (a ``StrEnum`` member such as ``Side.BUY``) is stored as its plain
  string value and comes back as ``str``. ``int``: likewise for a subclass (``IntEnum``);
  a ``bool`` is refused.

A value of the wrong type raises ``StoreError``: money must never pass through a float.

Speed: a commit converts tens of thousands of values, so each table gets an encoder made
once (``make_encoder``): a function that reads the row's fields and converts each one as its
column's kind says, with the common case (a value already right, such as an exact ``str``)
decided by an inline test instead of a call. The per-kind functions below stay the
reference for what is accepted and what is refused; the inline tests only skip them for
values they would return unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
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
Encoder = Callable[[R], tuple[Any, ...]]
Decoder = Callable[[Sequence[Any]], R]


def _wrong(kind: str, value: object) -> StoreError:
    return StoreError(f"expected {kind}, got {type(value).__name__} {value!r}")


def checked_text(value: Any) -> str:
    """Return ``value`` as a plain ``str``: a ``str`` subclass gives its string value."""
    if type(value) is str:
        return value
    if isinstance(value, str):
        return str.__str__(value)  # the characters, whatever the subclass's __str__ says
    raise _wrong("a str", value)


def checked_int(value: Any) -> int:
    """Return ``value`` as a plain ``int``; a ``bool`` is refused (it would come back 1)."""
    if type(value) is int:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__index__(value)
    raise _wrong("an int", value)


def checked_decimal(value: Any) -> Decimal:
    """Return ``value`` if it is a finite ``Decimal``; raise ``StoreError`` otherwise."""
    if type(value) is not Decimal:
        raise _wrong("a Decimal", value)
    if not value.is_finite():
        raise StoreError(f"a stored Decimal must be finite, got {value!r}")
    return value


def decimal_text(value: Any) -> str:
    """Return the canonical text of a ``Decimal`` (see the module docstring)."""
    if type(value) is not Decimal:
        raise _wrong("a Decimal", value)
    text = str(value)
    if not value.is_finite():
        raise StoreError(f"a stored Decimal must be finite, got {value!r}")
    if "E+" in text:
        text = format(value, "f")
    if text[0] == "-" and not value:
        text = text[1:]
    return text


def decimal_str(value: Any) -> str:
    """Return ``str()`` of a finite ``Decimal``: what PostgreSQL reads as that NUMERIC."""
    return str(checked_decimal(value))


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


def cached_datetime_text(size: int = 8192) -> Convert:
    """Return a ``datetime_text`` that remembers what it made, for one store's writer.

    A batch repeats its time objects (an input's processing time is also its events' and
    its order's; an order's creation time comes back in every batch that changes it), so
    the text made for a ``datetime`` object is kept with the object itself (which keeps its
    id from being reused). Another time in UTC is built from the text of its second, also
    kept, and its microseconds. Each cache is emptied when it holds ``size`` entries.
    """
    made: dict[int, tuple[Any, str]] = {}
    seconds: dict[tuple[int, int, int, int], str] = {}
    made_for, second_of = made.get, seconds.get

    def convert(value: Any) -> str:
        entry = made_for(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        if type(value) is datetime and value.tzinfo is UTC:
            key = (value.toordinal(), value.hour, value.minute, value.second)
            prefix = second_of(key)
            if prefix is None:
                if len(seconds) >= size:
                    seconds.clear()
                prefix = seconds[key] = value.isoformat(timespec="seconds")[:19]
            text = "%s.%06d+00:00" % (prefix, value.microsecond)  # noqa: UP031 (the fastest)
        else:
            text = datetime_text(value)  # converts another zone, refuses what is not a time
        if len(made) >= size:
            made.clear()
        made[id(value)] = (value, text)
        return text

    return convert


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


def blob(value: Any) -> bytearray:
    """Return ``bytes`` (or a ``bytearray`` or ``memoryview``) as a new ``bytearray``.

    For SQLite only: its driver binds a ``bytearray`` as a BLOB directly, where ``bytes``
    first goes through its adapter lookup, which costs several times the copy.
    """
    if type(value) is bytes or isinstance(value, bytearray | memoryview):
        return bytearray(value)
    raise _wrong("bytes", value)


@dataclass(frozen=True, slots=True)
class Conversion:
    """How a store takes one kind of column value."""

    convert: Convert
    """Check a value and return what the store keeps; raise ``StoreError`` for a wrong one."""
    ready: str | None = None
    """A Python expression in ``{v}`` that is true only for values ``convert`` would return
    unchanged: the encoder then keeps the value without calling ``convert``."""


Converters = Mapping[ColumnKind, Conversion]

_TEXT = Conversion(checked_text, "type({v}) is str")
_INT = Conversion(checked_int, "type({v}) is int")
_UTC = Conversion(utc_datetime, "type({v}) is datetime and {v}.tzinfo is UTC")
_DATE = Conversion(checked_date, "type({v}) is date")
_BOOL = Conversion(checked_bool, "type({v}) is bool")
_BYTES = Conversion(checked_bytes, "type({v}) is bytes")

MEMORY_IN: Converters = {
    "int": _INT,
    "text": _TEXT,
    "decimal": Conversion(canonical_decimal),
    "datetime": _UTC,
    "date": _DATE,
    "bool": _BOOL,
    "bytes": _BYTES,
}
"""What the memory store does to a value on the way in: check it and make it canonical."""


def sqlite_in() -> Converters:
    """Return what the SQLite store does to a value on the way in (with a time cache of its
    own: make one per store)."""
    return {
        "int": _INT,
        "text": _TEXT,
        "decimal": Conversion(decimal_text),
        "datetime": Conversion(cached_datetime_text()),
        "date": Conversion(date_text),
        "bool": Conversion(bool_int),
        "bytes": Conversion(blob),
    }


SQLITE_OUT: Mapping[ColumnKind, Convert] = {
    "decimal": Decimal,
    "datetime": datetime.fromisoformat,
    "date": date.fromisoformat,
    "bool": bool,
}

POSTGRES_IN: Converters = {
    "int": _INT,
    "text": _TEXT,
    "decimal": Conversion(decimal_str),
    "datetime": _UTC,
    "date": _DATE,
    "bool": _BOOL,
    "bytes": _BYTES,
}
"""A Decimal goes as its text, which NUMERIC reads and makes canonical itself; psycopg
returns every type as it should."""

_NAMESPACE: dict[str, Any] = {
    "UTC": UTC,
    "Decimal": Decimal,
    "date": date,
    "datetime": datetime,
}
"""The names a ``Conversion.ready`` expression may use, besides the builtins."""


def make_encoder(table: Table[R], into: Converters) -> Encoder[R]:
    """Return a function that turns a row of ``table`` into its column values for a store.

    It is generated once per table and store kind: for a ``FillRow`` it reads
    ``row.fill_id``, tests ``type(v1) is str`` and only calls ``checked_text`` when that
    fails, and so on for each column; a nullable column passes ``None`` through. A value
    that is refused raises ``StoreError`` naming its table and column.
    """
    namespace = dict(_NAMESPACE)
    namespace["StoreError"] = StoreError
    namespace["explain"] = _explainer(table, into)
    body: list[str] = []
    for i, column in enumerate(table.columns):
        v = f"v{i}"
        body.append(f"{v} = row.{column.name}")
        conversion = into.get(column.kind)
        if conversion is None:
            continue
        namespace[f"convert{i}"] = conversion.convert
        tests = [f"{v} is not None"] if column.nullable else []
        if conversion.ready is not None:
            tests.append(f"not ({conversion.ready.format(v=v)})")
        call = f"{v} = convert{i}({v})"
        body.append(f"if {' and '.join(tests)}: {call}" if tests else call)
    values = ", ".join(f"v{i}" for i in range(len(table.columns)))
    body.append(f"return ({values},)")
    source = "\n".join(
        [
            "def encode(row):",
            "    try:",
            *(f"        {line}" for line in body),
            "    except StoreError as e:",
            "        raise explain(row, e) from None",
        ]
    )
    exec(compile(source, f"<encoder of {table.name}>", "exec"), namespace)
    encode: Encoder[R] = namespace["encode"]
    encode.__doc__ = f"Return a {table.name} row's column values.\n\n{source}"
    return encode


def make_decoder(table: Table[R], out: Mapping[ColumnKind, Convert]) -> Decoder[R]:
    """Return a function that turns a store's column values for ``table`` back into a row.

    Generated once per table and store kind, like ``make_encoder``: the values are unpacked
    and passed to the row type, each through its kind's conversion unless it is ``None``
    (for an ``EventRecord`` from SQLite only ``recorded_at`` is converted). A table with
    nothing to convert gets the row type itself, called with the values.
    """
    if not any(column.kind in out for column in table.columns):
        make = table.make

        def decode(values: Sequence[Any]) -> R:
            return make(*values)

        return decode
    namespace: dict[str, Any] = {"make": table.make}
    names = [f"v{i}" for i in range(len(table.columns))]
    args = []
    for i, column in enumerate(table.columns):
        convert = out.get(column.kind)
        if convert is None:
            args.append(names[i])
        else:
            namespace[f"convert{i}"] = convert
            args.append(f"None if {names[i]} is None else convert{i}({names[i]})")
    source = "\n".join(
        [
            "def decode(values):",
            f"    {', '.join(names)}, = values",
            f"    return make({', '.join(args)})",
        ]
    )
    exec(compile(source, f"<decoder of {table.name}>", "exec"), namespace)
    generated: Decoder[R] = namespace["decode"]
    generated.__doc__ = f"Return a {table.name} row from its column values.\n\n{source}"
    return generated


def _explainer(table: Table[Any], into: Converters) -> Callable[[Any, StoreError], StoreError]:
    """Return what rebuilds an encoder's error with the table and column that caused it."""

    def explain(row: Any, error: StoreError) -> StoreError:
        for column in table.columns:
            value = getattr(row, column.name)
            where = f"{table.name}.{column.name}"
            if value is None:
                if not column.nullable:
                    return StoreError(f"{where} may not be None")
                continue
            conversion = into.get(column.kind)
            if conversion is None:
                continue
            try:
                conversion.convert(value)
            except StoreError as e:
                return StoreError(f"{where}: {e}")
        return error

    return explain


class RowCodec(Generic[R]):
    """Turn a table's rows into column values for a store, and column values back into rows.

    ``encode`` refuses ``None`` in a NOT NULL column and any value of the wrong type.
    """

    def __init__(
        self,
        table: Table[R],
        into: Converters,
        out: Mapping[ColumnKind, Convert] | None = None,
    ) -> None:
        self.table = table
        self.names = table.names
        self.encode: Encoder[R] = make_encoder(table, into)
        self._out: list[tuple[int, Convert]] = [
            (i, out[column.kind])
            for i, column in enumerate(table.columns)
            if out is not None and column.kind in out
        ]
        self.decode: Decoder[R] = make_decoder(table, out or {})
        """Return the row that the column ``values`` (as the store returned them) hold."""

    def encode_all(self, rows: Iterable[R]) -> Iterator[tuple[Any, ...]]:
        """Return the rows' column values, made as they are consumed."""
        return map(self.encode, rows)

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

    def __init__(self, into: Converters, out: Mapping[ColumnKind, Convert] | None = None) -> None:
        def codec(table: Table[R]) -> RowCodec[R]:
            return RowCodec(table, into, out)

        self.into = into
        """How the store takes each kind of value (for a query's parameters too)."""
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
