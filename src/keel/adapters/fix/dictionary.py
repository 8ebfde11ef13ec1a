"""FIX data dictionaries (4.2 and 4.4): which fields a message may and must carry, and how.

``DataDictionary.validate`` names the first fault with the SessionRejectReason (373) a
session answers with. It is on the hot path, so it works in two tiers:

- The *slow path* walks the fields in wire order and is the definition of valid: unknown
  MsgType (11), undefined tag (3), tag not in this message type (2), header or trailer
  out of place (14), repeated tag (13), empty value (4), format (6), enumeration (5),
  repeating groups (15, 16), required fields (1).
- Everything but the values depends only on the *layout*, the sequence of tags. A venue
  sends a handful of layouts per message type (its partial fills all carry the same tags),
  so once a layout has passed the slow path its structure is known good and a *plan* is
  kept for it: one regular expression over just the values that need checking (numbers,
  times, enumerations, group counts as literals), joined by SOH. The next message with
  that layout costs one dict lookup, one join and one match. Layouts with data fields are
  never planned, and at most ``MAX_LAYOUTS`` are kept per message type, so a peer sending
  random layouts only ever meets the slow path. A plan only accepts what the slow path
  accepts; anything it does not accept goes to the slow path for the precise answer.

The tables are in ``spec42`` and ``spec44``, written in ``definitions``' terms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import NamedTuple

from keel.adapters.fix import spec42, spec44
from keel.adapters.fix import tags as t
from keel.adapters.fix.codec import DATA_FIELDS
from keel.adapters.fix.definitions import (
    FieldDef,
    FieldType,
    GroupDef,
    MessageDef,
    Section,
    value_check,
)
from keel.adapters.fix.errors import FixError, FixFieldError, SessionRejectReason
from keel.adapters.fix.message import SOH, FixMessage
from keel.adapters.fix.quickfix_xml import dictionary_xml

__all__ = [
    "FIX42",
    "FIX44",
    "DataDictionary",
    "FieldDef",
    "FieldType",
    "GroupDef",
    "MessageDef",
    "dictionary_for",
]

R = SessionRejectReason
USER_DEFINED_TAGS_FROM = 5000
"""FIX reserves tags 5000 and up for fields firms agree between themselves."""
MAX_LAYOUTS = 256
"""Tag layouts remembered per message type; beyond that, messages take the slow path."""


class _Plan(NamedTuple):
    """The value checks left for a layout whose structure has passed the slow path."""

    tags: tuple[int, ...]  # the layout, kept alive so that its id stays its own
    pick: Callable[[Sequence[bytes]], tuple[bytes, ...]]
    match: Callable[[bytes], re.Match[bytes] | None]


_HEADER, _BODY, _TRAILER = 0, 1, 2
_SECTION_NAMES = ("header", "body", "trailer")
_FRAMING = frozenset({8, 9, 10})
Context = tuple[str | None, int | None]


class _Rules:
    """One message type's precomputed sets, and the plans of the layouts seen so far.

    The parser hands every message of a layout the same tags tuple, so a plan is found
    by that tuple's id (no hashing of 30 ints); other tuples are found by value.
    """

    __slots__ = ("by_id", "groups", "plans", "required", "sections")

    def __init__(
        self, definition: MessageDef, required: tuple[int, ...], header: Section, trailer: Section
    ) -> None:
        self.sections = {
            **dict.fromkeys(definition.fields, _BODY),
            **dict.fromkeys(trailer.fields, _TRAILER),
            **dict.fromkeys(header.fields, _HEADER),
        }
        """Each tag allowed outside a group, and where: header, body or trailer."""
        self.groups = definition.groups
        self.required = required
        self.plans: dict[tuple[int, ...], _Plan] = {}
        self.by_id: dict[int, _Plan] = {}


class DataDictionary:
    """One FIX version's fields and messages, and the validation that uses them."""

    def __init__(
        self,
        begin_string: str,
        fields: Iterable[FieldDef],
        header: Section,
        trailer: Section,
        messages: Iterable[MessageDef],
        *,
        allow_user_defined: bool = True,
        max_layouts: int = MAX_LAYOUTS,
    ) -> None:
        self.begin_string = begin_string
        self.allow_user_defined = allow_user_defined
        """Accept undefined tags of 5000 and up (user-defined fields) in a message body."""
        self.max_layouts = max_layouts
        """Tag layouts to keep a plan for, per message type (0: always the slow path)."""
        self.header = header
        self.trailer = trailer
        self._fields = {definition.tag: definition for definition in fields}
        self._messages = {definition.msg_type: definition for definition in messages}
        self._header_tags = frozenset(header.fields)
        self._trailer_tags = frozenset(trailer.fields)
        self._data_tags = frozenset(
            tag for tag, field in self._fields.items() if field.type is FieldType.DATA
        )
        self._unplannable = self._data_tags | DATA_FIELDS.keys()
        self._checks = {tag: value_check(field) for tag, field in self._fields.items()}
        reasons = (
            self._fields[t.SESSION_REJECT_REASON].values
            if t.SESSION_REJECT_REASON in self._fields
            else None
        )
        self._soh_reason = (
            R.NON_DATA_VALUE_INCLUDES_FIELD_DELIMITER
            if reasons is None or "17" in reasons
            else R.INCORRECT_DATA_FORMAT_FOR_VALUE  # FIX 4.2 has no 373=17
        )
        head = [t for t in header.fields if t in header.required and t not in _FRAMING]
        tail = [t for t in trailer.fields if t in trailer.required and t not in _FRAMING]
        self._rules = {
            definition.msg_type.encode("latin-1"): _Rules(
                definition,
                (*head, *(t for t in definition.fields if t in definition.required), *tail),
                header,
                trailer,
            )
            for definition in self._messages.values()
        }
        self._check_tables()

    def field(self, tag: int) -> FieldDef | None:
        """Return the definition of ``tag``, or None if this dictionary does not define it."""
        return self._fields.get(tag)

    def message(self, msg_type: str) -> MessageDef | None:
        """Return the definition of a message type, or None if this dictionary lacks it.

        ``field(35).values`` lists every MsgType of the version, so a caller can tell a real
        but unsupported message (BusinessMessageReject 380=3) from garbage (Reject 373=11).
        """
        return self._messages.get(msg_type)

    @property
    def fields(self) -> Mapping[int, FieldDef]:
        """Every field defined, by tag."""
        return self._fields

    @property
    def messages(self) -> Mapping[str, MessageDef]:
        """Every message type defined, by MsgType."""
        return self._messages

    def with_options(
        self, *, allow_user_defined: bool | None = None, max_layouts: int | None = None
    ) -> DataDictionary:
        """Return a copy with other options: refuse user-defined tags (373=3), or keep a
        different number of layout plans (0 for none, as a benchmark's worst case)."""
        return DataDictionary(
            self.begin_string,
            self._fields.values(),
            self.header,
            self.trailer,
            self._messages.values(),
            allow_user_defined=(
                self.allow_user_defined if allow_user_defined is None else allow_user_defined
            ),
            max_layouts=self.max_layouts if max_layouts is None else max_layouts,
        )

    def validate(self, msg: FixMessage) -> None:
        """Check ``msg`` against this dictionary; raise ``FixFieldError`` at the first fault.

        The error carries the 373 code, the tag, and the message's MsgType and MsgSeqNum
        when they can be read, for the session's Reject. A BeginString of another version
        is a 373=5 on tag 8 (a session usually logs out instead).
        """
        tags = msg._tags
        if tags is not None and msg.begin_string == self.begin_string:
            # Parsed: MsgType is first, no value is empty or holds SOH, and every message
            # of a layout shares one tags tuple.
            values: Sequence[bytes] = msg._values  # type: ignore[assignment]
            rules = self._rules.get(values[0])
            if rules is not None:
                plan = rules.by_id.get(id(tags))
                if plan is not None and plan.tags is tags:
                    if plan.match(b"\x01".join(plan.pick(values))):
                        return
                else:
                    plan = rules.plans.get(tags)
                    if plan is not None and plan.match(b"\x01".join(plan.pick(values))):
                        return
        else:
            tags, values = msg.columns()
            if (
                tags
                and tags[0] == t.MSG_TYPE
                and msg.begin_string == self.begin_string
                and b"" not in values
                and SOH not in b"".join(values)
            ):
                rules = self._rules.get(values[0])
                plan = None if rules is None else rules.plans.get(tags)
                if plan is not None and plan.match(b"\x01".join(plan.pick(values))):
                    return
        self._validate_slowly(msg.begin_string, tags, values)

    def _validate_slowly(
        self, begin_string: str, tags: tuple[int, ...], values: Sequence[bytes]
    ) -> None:
        seq_num = _seq_num(tags, values)
        if t.MSG_TYPE not in tags:
            raise FixFieldError(
                t.MSG_TYPE, "MsgType is missing", R.REQUIRED_TAG_MISSING, None, seq_num
            )
        msg_type = values[tags.index(t.MSG_TYPE)].decode("latin-1")
        context: Context = (msg_type, seq_num)
        if begin_string != self.begin_string:
            raise FixFieldError(
                8,
                f"BeginString {begin_string} is not {self.begin_string}",
                R.VALUE_IS_INCORRECT,
                *context,
            )
        if tags[0] != t.MSG_TYPE:
            raise FixFieldError(
                t.MSG_TYPE,
                "MsgType is not the third field",
                R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER,
                *context,
            )
        rules = self._rules.get(values[0])
        if rules is None:
            raise FixFieldError(
                t.MSG_TYPE, f"MsgType {msg_type!r} is not supported", R.INVALID_MSGTYPE, *context
            )
        counts = self._walk(rules, tags, values, context)
        if (
            tags not in rules.plans
            and len(rules.plans) < self.max_layouts
            and self._unplannable.isdisjoint(tags)
        ):
            plan = self._plan(tags, counts)
            rules.plans[tags] = plan
            rules.by_id[id(tags)] = plan

    def _walk(
        self, rules: _Rules, tags: tuple[int, ...], values: Sequence[bytes], context: Context
    ) -> dict[int, int]:
        """Check every field in wire order; return each group's instance count, by the
        position of its NumInGroup field."""
        counts: dict[int, int] = {}
        seen = set(_FRAMING)  # parse takes 8, 9 and 10 off: any other is a repeat
        data_lengths: dict[int, int] = {}
        sections, groups, check = rules.sections, rules.groups, self._check
        where = _HEADER
        at = 0
        while at < len(tags):
            tag = tags[at]
            section = sections.get(tag)
            if section is None:
                section = self._unlisted(tag, context)
            if section < where:
                raise FixFieldError(
                    tag,
                    f"{_SECTION_NAMES[section]} field after the {_SECTION_NAMES[where]}",
                    R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER,
                    *context,
                )
            where = section
            if tag in seen:
                raise FixFieldError(
                    tag, "tag appears more than once", R.TAG_APPEARS_MORE_THAN_ONCE, *context
                )
            seen.add(tag)
            check(tag, values[at], data_lengths, context)
            nested = groups.get(tag)
            if nested is None:
                at += 1
            else:
                at = self._walk_group(nested, tags, values, at, counts, data_lengths, context)
        for tag in rules.required:
            if tag not in seen:
                raise FixFieldError(tag, "required tag missing", R.REQUIRED_TAG_MISSING, *context)
        return counts

    def _unlisted(self, tag: int, context: Context) -> int:
        """Place a tag the message type does not list: a user-defined one goes in the body;
        any other is refused, as undefined (373=3) or not for this MsgType (373=2)."""
        if tag in self._fields:
            raise FixFieldError(
                tag,
                f"tag not defined for MsgType {context[0]!r}",
                R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE,
                *context,
            )
        if self.allow_user_defined and tag >= USER_DEFINED_TAGS_FROM:
            return _BODY
        raise FixFieldError(tag, "undefined tag", R.UNDEFINED_TAG, *context)

    def _walk_group(
        self,
        definition: GroupDef,
        tags: tuple[int, ...],
        values: Sequence[bytes],
        at: int,
        counts: dict[int, int],
        data_lengths: dict[int, int],
        context: Context,
    ) -> int:
        """Check the repeating group whose NumInGroup is at ``at``; return where it ends."""
        members, first = definition.members, definition.first_tag
        end = at + 1
        instances = 0
        while end < len(tags) and tags[end] in members:
            if tags[end] != first:
                raise FixFieldError(
                    tags[end],
                    f"group {definition.count_tag} instance does not start with {first}",
                    R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER,
                    *context,
                )
            instances += 1
            seen: set[int] = set()
            while True:
                tag = tags[end]
                if tag in seen:
                    raise FixFieldError(
                        tag,
                        "tag appears more than once in a group instance",
                        R.TAG_APPEARS_MORE_THAN_ONCE,
                        *context,
                    )
                seen.add(tag)
                self._check(tag, values[end], data_lengths, context)
                nested = definition.groups.get(tag)
                if nested is None:
                    end += 1
                else:
                    end = self._walk_group(nested, tags, values, end, counts, data_lengths, context)
                if end >= len(tags) or tags[end] == first or tags[end] not in members:
                    break
            for tag in definition.fields:
                if tag in definition.required and tag not in seen:
                    raise FixFieldError(
                        tag,
                        f"required tag missing in group {definition.count_tag}",
                        R.REQUIRED_TAG_MISSING,
                        *context,
                    )
        if int(values[at]) != instances:
            raise FixFieldError(
                definition.count_tag,
                f"NumInGroup is {values[at].decode('latin-1')} but {instances} instances follow",
                R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP,
                *context,
            )
        counts[at] = instances
        return end

    def _check(
        self, tag: int, value: bytes, data_lengths: dict[int, int], context: Context
    ) -> None:
        """Check one value: present, its type's format, among the enumerated values."""
        if not value:
            raise FixFieldError(
                tag, "tag specified without a value", R.TAG_SPECIFIED_WITHOUT_A_VALUE, *context
            )
        check = self._checks.get(tag)
        if check is None:  # a user-defined tag: any value
            return
        if data_lengths and tag in data_lengths:  # a data field: as many bytes as said
            size = data_lengths.pop(tag)
            if size != len(value):
                raise FixFieldError(
                    tag,
                    f"data is {len(value)} bytes, its length says {size}",
                    R.INCORRECT_DATA_FORMAT_FOR_VALUE,
                    *context,
                )
            return
        if SOH in value and tag not in self._data_tags:
            raise FixFieldError(tag, "value contains SOH", self._soh_reason, *context)
        valid = check.valid
        if valid is not None and not valid(value):
            raise FixFieldError(
                tag,
                f"{value.decode('latin-1')!r} is not a valid {self._fields[tag].type}",
                R.INCORRECT_DATA_FORMAT_FOR_VALUE,
                *context,
            )
        enumerated = check.values
        if enumerated is not None:
            for token in value.split(b" ") if check.multiple else (value,):
                if token not in enumerated:
                    raise FixFieldError(
                        tag,
                        f"{token.decode('latin-1')!r} is not a value of {self._fields[tag].name}",
                        R.VALUE_IS_INCORRECT,
                        *context,
                    )
        if tag in DATA_FIELDS:
            data_lengths[DATA_FIELDS[tag]] = int(value)

    def _plan(self, tags: tuple[int, ...], counts: dict[int, int]) -> _Plan:
        """Build a validated layout's value checks; group counts become literals."""
        positions: list[int] = []
        patterns: list[bytes] = []
        for at, tag in enumerate(tags):
            if at == 0:  # MsgType: the plan was found through it
                continue
            check = self._checks.get(tag)
            pattern: bytes | None = None
            if at in counts:
                pattern = re.escape(b"%d" % counts[at])
            elif check is not None:
                pattern = check.pattern
            if pattern is not None:
                positions.append(at)
                patterns.append(b"(?:" + pattern + b")")
        return _Plan(tags, _picker(positions), re.compile(b"\x01".join(patterns)).fullmatch)

    def to_quickfix_xml(self) -> str:
        """Write this dictionary as a QuickFIX DataDictionary XML document.

        For tests and benchmarks only, so QuickFIX can validate by the same rules.
        """
        return dictionary_xml(
            self.begin_string, self._fields, self.header, self.trailer, self._messages
        )

    def _check_tables(self) -> None:
        """Refuse tables that name undefined fields or enumerate values their type forbids."""
        named = set(self.header.fields) | set(self.trailer.fields)
        pending: list[Mapping[int, GroupDef]] = []
        for definition in self._messages.values():
            named.update(definition.fields)
            pending.append(definition.groups)
        while pending:
            for nested in pending.pop().values():
                named.update(nested.fields)
                pending.append(nested.groups)
        missing = sorted(named - self._fields.keys())
        if missing:
            raise FixError(f"{self.begin_string} dictionary uses undefined tags {missing}")
        for tag, check in self._checks.items():
            for value in check.values or ():
                if check.valid is not None and not check.valid(value):
                    raise FixError(f"{self.begin_string} tag {tag}: {value!r} is not its type")


def _picker(positions: list[int]) -> Callable[[Sequence[bytes]], tuple[bytes, ...]]:
    """Return a function taking the values at ``positions``, as a tuple, in C when it can."""
    if len(positions) > 1:
        return itemgetter(*positions)
    if positions:
        position = positions[0]
        return lambda values: (values[position],)
    return lambda values: ()


def _seq_num(tags: Sequence[int], values: Sequence[bytes]) -> int | None:
    if t.MSG_SEQ_NUM not in tags:
        return None
    value = values[tags.index(t.MSG_SEQ_NUM)]
    return int(value) if value.isdigit() else None


FIX42 = DataDictionary("FIX.4.2", spec42.FIELDS, spec42.HEADER, spec42.TRAILER, spec42.MESSAGES)
"""FIX 4.2: the standard header and trailer, session messages, and an OMS's order flow."""
FIX44 = DataDictionary("FIX.4.4", spec44.FIELDS, spec44.HEADER, spec44.TRAILER, spec44.MESSAGES)
"""FIX 4.4: as FIX 4.2, plus Parties, OrderMassStatusRequest and the 4.4 enumerations."""


def dictionary_for(begin_string: str) -> DataDictionary:
    """Return the dictionary for ``FIX.4.2`` or ``FIX.4.4``; ``FixError`` for any other."""
    for dictionary in (FIX42, FIX44):
        if dictionary.begin_string == begin_string:
            return dictionary
    raise FixError(f"no FIX dictionary for BeginString {begin_string!r}")
