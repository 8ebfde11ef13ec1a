"""The model a FIX data dictionary is written in, the small language of its tables, and
what a value of each field type looks like.

``spec42`` and ``spec44`` are written with ``define``, ``message``, ``group``, ``req`` and
``section``; ``dictionary.DataDictionary`` turns them into validation. Kept apart from
``dictionary`` so the tables can import it without an import cycle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from keel.adapters.fix.message import (
    DATE_FORMAT,
    DECIMAL_FORMAT,
    INT_FORMAT,
    TIME_FORMAT,
    UTC_TIMESTAMP_FORMAT,
    is_decimal,
    is_int,
    parse_utc_timestamp,
)


class FieldType(StrEnum):
    """FIX field types, spelled as the FIX specification and QuickFIX's dictionaries do."""

    INT = "INT"
    LENGTH = "LENGTH"
    SEQNUM = "SEQNUM"
    NUMINGROUP = "NUMINGROUP"
    TAGNUM = "TAGNUM"
    DAYOFMONTH = "DAYOFMONTH"
    PRICE = "PRICE"
    QTY = "QTY"
    AMT = "AMT"
    FLOAT = "FLOAT"
    PRICEOFFSET = "PRICEOFFSET"
    PERCENTAGE = "PERCENTAGE"
    CHAR = "CHAR"
    BOOLEAN = "BOOLEAN"
    STRING = "STRING"
    MULTIPLEVALUESTRING = "MULTIPLEVALUESTRING"
    CURRENCY = "CURRENCY"
    EXCHANGE = "EXCHANGE"
    COUNTRY = "COUNTRY"
    UTCTIMESTAMP = "UTCTIMESTAMP"
    UTCTIMEONLY = "UTCTIMEONLY"
    UTCDATEONLY = "UTCDATEONLY"
    UTCDATE = "UTCDATE"
    LOCALMKTDATE = "LOCALMKTDATE"
    MONTHYEAR = "MONTHYEAR"
    DATA = "DATA"


class FieldDef(NamedTuple):
    """One field: its tag, name, type, and enumerated values (None: any value of the type)."""

    tag: int
    name: str
    type: FieldType
    values: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A repeating group: NumInGroup tag, delimiter, member fields in order, nested groups.

    ``required`` holds the members every instance must carry. Whether the group itself is
    required is said by its parent (the message's or outer group's ``required``).
    """

    count_tag: int
    first_tag: int
    fields: tuple[int, ...]
    required: frozenset[int]
    groups: Mapping[int, GroupDef] = field(default_factory=dict)
    members: frozenset[int] = field(init=False)
    """Tags that continue an instance: ``fields``, nested count tags included."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", frozenset(self.fields))


@dataclass(frozen=True, slots=True)
class MessageDef:
    """A message type: the body's top-level fields in order (group count tags included),
    the required ones, and the repeating groups by count tag. Header and trailer fields
    belong to the dictionary, not to each message."""

    msg_type: str
    name: str
    admin: bool
    fields: tuple[int, ...]
    required: frozenset[int]
    groups: Mapping[int, GroupDef] = field(default_factory=dict)


class Required(NamedTuple):
    """Marks a tag as required in a table."""

    tag: int


Item = int | Required | GroupDef


def req(tag: int) -> Required:
    """Mark ``tag`` required in a ``message``, ``group`` or ``section`` table."""
    return Required(tag)


def define(tag: int, name: str, type_: FieldType, values: str | None = None) -> FieldDef:
    """Define a field; ``values`` is its enumeration, space separated (``"1 2 3"``)."""
    return FieldDef(tag, name, type_, None if values is None else frozenset(values.split()))


def _unpack(items: Sequence[Item]) -> tuple[tuple[int, ...], frozenset[int], dict[int, GroupDef]]:
    tags: list[int] = []
    required: set[int] = set()
    groups: dict[int, GroupDef] = {}
    for item in items:
        if isinstance(item, GroupDef):
            tags.append(item.count_tag)
            groups[item.count_tag] = item
        elif isinstance(item, Required):
            tags.append(item.tag)
            required.add(item.tag)
        else:
            tags.append(item)
    return tuple(tags), frozenset(required), groups


def group(count_tag: int, *items: Item) -> GroupDef:
    """Define a repeating group; its first item is the delimiter that starts each instance."""
    tags, required, groups = _unpack(items)
    return GroupDef(count_tag, tags[0], tags, required, groups)


def message(msg_type: str, name: str, *items: Item, admin: bool = False) -> MessageDef:
    """Define a message type from its body table: tags, ``req(tag)`` and ``group(...)``."""
    tags, required, groups = _unpack(items)
    return MessageDef(msg_type, name, admin, tags, required, groups)


class Section(NamedTuple):
    """The standard header or trailer: its tags in order and the required ones."""

    fields: tuple[int, ...]
    required: frozenset[int]


def section(*items: int | Required) -> Section:
    """Define the standard header or trailer from its table of tags and ``req(tag)``."""
    tags, required, _ = _unpack(items)
    return Section(tags, required)


_T = FieldType
_FORMATS: dict[FieldType, bytes | None] = {
    _T.INT: INT_FORMAT,
    _T.LENGTH: rb"\d+",
    _T.SEQNUM: rb"\d+",
    _T.NUMINGROUP: rb"\d+",
    _T.TAGNUM: rb"[1-9]\d*",
    _T.DAYOFMONTH: rb"0?[1-9]|[12]\d|3[01]",
    _T.PRICE: DECIMAL_FORMAT,
    _T.QTY: DECIMAL_FORMAT,
    _T.AMT: DECIMAL_FORMAT,
    _T.FLOAT: DECIMAL_FORMAT,
    _T.PRICEOFFSET: DECIMAL_FORMAT,
    _T.PERCENTAGE: DECIMAL_FORMAT,
    _T.CHAR: rb"[^\x01]",
    _T.BOOLEAN: rb"[YN]",
    _T.STRING: None,
    _T.MULTIPLEVALUESTRING: None,
    _T.CURRENCY: None,
    _T.EXCHANGE: None,
    _T.COUNTRY: None,
    _T.UTCTIMESTAMP: UTC_TIMESTAMP_FORMAT,
    _T.UTCTIMEONLY: TIME_FORMAT,
    _T.UTCDATEONLY: DATE_FORMAT,
    _T.UTCDATE: DATE_FORMAT,
    _T.LOCALMKTDATE: DATE_FORMAT,
    _T.MONTHYEAR: rb"\d{4}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|w[1-5])?",
    _T.DATA: None,
}
"""Each type's format as a regex over the value's bytes. None: any non-empty value without
SOH (any bytes at all for DATA, which its length field measures)."""


_PLAN_DECIMAL = rb"-?\d+\.?\d*"
_PLAN_DATE = (
    rb"(?:19|20)\d\d(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)"
    rb"|(?:0[13578]|1[02])31)|(?:19|20)(?:0[48]|[2468][048]|[13579][26])0229|20000229"
)
_PLAN_FORMATS: dict[FieldType, bytes | None] = {
    kind: None if source is None else source.replace(rb"\d", rb"[0-9]")
    for kind, source in {
        **_FORMATS,
        **dict.fromkeys(
            (_T.PRICE, _T.QTY, _T.AMT, _T.FLOAT, _T.PRICEOFFSET, _T.PERCENTAGE), _PLAN_DECIMAL
        ),
        **dict.fromkeys((_T.UTCDATEONLY, _T.UTCDATE, _T.LOCALMKTDATE), _PLAN_DATE),
        _T.UTCTIMESTAMP: rb"(?:" + _PLAN_DATE + rb")-" + TIME_FORMAT,
    }.items()
}
"""The formats layout plans check with: never looser than ``_FORMATS`` and cheaper for the
regex engine (no ``.5``, years 1900-2099 only, and ``[0-9]``, which ``re`` tests inline
where ``\\d`` costs a call per byte). A value they refuse goes to the slow path, which
has the last word."""


class ValueCheck(NamedTuple):
    """How one field's value is checked."""

    valid: Callable[[bytes], bool] | None  # the type's format; None: any value
    values: frozenset[bytes] | None
    multiple: bool  # MULTIPLEVALUESTRING: space-separated values, each enumerated
    pattern: bytes | None  # the whole check as one regex, for plans; None: nothing to check


_VALID: dict[FieldType, Callable[[bytes], bool]] = {
    _T.INT: is_int,
    _T.LENGTH: bytes.isdigit,
    _T.SEQNUM: bytes.isdigit,
    _T.NUMINGROUP: bytes.isdigit,
    _T.PRICE: is_decimal,
    _T.QTY: is_decimal,
    _T.AMT: is_decimal,
    _T.FLOAT: is_decimal,
    _T.PRICEOFFSET: is_decimal,
    _T.PERCENTAGE: is_decimal,
    _T.CHAR: lambda value: len(value) == 1,
    _T.BOOLEAN: lambda value: value in (b"Y", b"N"),
    _T.UTCTIMESTAMP: lambda value: parse_utc_timestamp(value) is not None,
}
"""Checks equal to ``_FORMATS`` (tests hold them to it) but cheaper than a regex call,
for the slow path, which checks one value at a time."""


def _matcher(pattern: re.Pattern[bytes]) -> Callable[[bytes], bool]:
    return lambda value: pattern.fullmatch(value) is not None


def value_check(definition: FieldDef) -> ValueCheck:
    """Return how to check a value of this field: alone (slow path) and as a regex (plans)."""
    source = _FORMATS[definition.type]
    valid = _VALID.get(definition.type)
    if valid is None and source is not None:
        valid = _matcher(re.compile(source))
    multiple = definition.type is _T.MULTIPLEVALUESTRING
    values = (
        None
        if definition.values is None
        else frozenset(value.encode("latin-1") for value in definition.values)
    )
    pattern = _PLAN_FORMATS[definition.type]
    if values is not None:  # the enumeration implies the format (checked in _check_tables)
        choice = b"(?:" + one_of(values) + b")"
        pattern = choice + b"(?: " + choice + b")*" if multiple else choice
    return ValueCheck(valid, values, multiple, pattern)


def one_of(words: Iterable[bytes]) -> bytes:
    """Return a regex matching exactly one of ``words`` (none empty), shaped as a trie.

    ``10|11|...|1`` makes the regex engine try alternative after alternative;
    ``1[0-9]?`` decides with one look at each byte.
    """
    rests: dict[int, set[bytes]] = {}
    for word in words:
        rests.setdefault(word[0], set()).add(word[1:])
    alone = sorted(first for first, rest in rests.items() if rest == {b""})
    branches = [_class(alone)] if alone else []
    for first, rest in sorted(rests.items()):
        if rest == {b""}:
            continue
        tail = one_of(rest - {b""})
        if b"" in rest:
            simple = tail.startswith(b"[") and tail.endswith(b"]") and b"|" not in tail
            tail = tail + b"?" if simple or len(tail) == 1 else b"(?:" + tail + b"|)"
        elif b"|" in tail:
            tail = b"(?:" + tail + b")"
        branches.append(re.escape(bytes([first])) + tail)
    return b"|".join(branches)


def _class(bytes_: list[int]) -> bytes:
    escaped = [re.escape(bytes([byte])) for byte in bytes_]
    return escaped[0] if len(escaped) == 1 else b"[" + b"".join(escaped) + b"]"
