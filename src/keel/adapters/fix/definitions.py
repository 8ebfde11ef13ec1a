"""The model a FIX data dictionary is written in, and the small language of its tables.

``spec42`` and ``spec44`` are written with ``define``, ``message``, ``group``, ``req`` and
``section``; ``dictionary.DataDictionary`` turns them into validation. Kept apart from
``dictionary`` so the tables can import it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


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
    """Marks a tag, or a group by its count tag, as required in a table."""

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


