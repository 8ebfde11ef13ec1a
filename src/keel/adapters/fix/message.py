"""One FIX message as Keel holds it: BeginString plus its fields in wire order.

Values stay ``bytes`` until asked for: a gateway reads a handful of tags per message, and
decoding the rest would be waste. The typed accessors (``get_int``, ``get_decimal``,
``get_utc``, ...) check the FIX format and raise ``FixFieldError`` with the 373 code a
session would reject with; money comes back as an exact ``Decimal``, never a float.

The value formats are defined here, once, and the data dictionary validates with the same
definitions, so a message that validates always decodes.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from keel.adapters.fix.errors import FixFieldError, SessionRejectReason

SOH = b"\x01"

INT_FORMAT = rb"-?\d+"
"""FIX int: digits with an optional leading minus (no plus sign, no spaces)."""
DECIMAL_FORMAT = rb"-?(?:\d+\.?\d*|\.\d+)"
"""FIX float/Price/Qty/Amt: an optional minus, digits and at most one point, never an exponent."""
DATE_FORMAT = (
    rb"(?!0000)\d{4}(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])(?:29|30)"
    rb"|(?:0[13578]|1[02])31)|(?:\d\d(?:0[48]|[2468][048]|[13579][26])"
    rb"|(?:[02468][048]|[13579][26])00)0229"
)
"""YYYYMMDD of a real day (years 0001-9999, as ``datetime``): the day fits the month, and
29 February comes only in leap years."""
TIME_FORMAT = rb"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{9}|\.\d{6}|\.\d{3}|)"
"""HH:MM:SS with no fraction, milliseconds, microseconds or nanoseconds."""
UTC_TIMESTAMP_FORMAT = rb"(?:" + DATE_FORMAT + rb")-" + TIME_FORMAT

_DATE = re.compile(DATE_FORMAT)

_REASON_FORMAT = SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE
_SECONDS_LENGTH, _MILLISECONDS_LENGTH = 17, 21  # YYYYMMDD-HH:MM:SS, and .sss
_TIMESTAMP_LENGTHS = frozenset({_SECONDS_LENGTH, _MILLISECONDS_LENGTH, 24, 27})
_DASH, _COLON, _POINT = ord("-"), ord(":"), ord(".")


def is_int(value: bytes) -> bool:
    """Say whether ``value`` is a FIX int (``INT_FORMAT``), without a regex call's overhead."""
    return value.isdigit() or (value[:1] == b"-" and value[1:].isdigit())


def is_decimal(value: bytes) -> bool:
    """Say whether ``value`` is a FIX decimal (``DECIMAL_FORMAT``): one point at most, at
    least one digit, an optional leading minus."""
    digits = value[1:] if value[:1] == b"-" else value
    return digits.replace(b".", b"", 1).isdigit()


def parse_utc_timestamp(value: bytes) -> datetime | None:
    """Read a UTCTimestamp ``YYYYMMDD-HH:MM:SS[.sss|.ssssss|.sssssssss]``; None if malformed.

    Nanoseconds are truncated to microseconds, the finest a ``datetime`` holds.
    """
    size = len(value)
    if (
        size not in _TIMESTAMP_LENGTHS
        or value[8] != _DASH
        or value[11] != _COLON
        or value[14] != _COLON
        or not (value[:8] + value[9:11] + value[12:14] + value[15:17]).isdigit()
    ):
        return None
    micro = 0
    if size > _SECONDS_LENGTH:
        fraction = value[18:]
        if value[17] != _POINT or not fraction.isdigit():
            return None
        micro = int(fraction) * 1000 if size == _MILLISECONDS_LENGTH else int(fraction[:6])
    try:
        return datetime(
            int(value[:4]),
            int(value[4:6]),
            int(value[6:8]),
            int(value[9:11]),
            int(value[12:14]),
            int(value[15:17]),
            micro,
            tzinfo=UTC,
        )
    except ValueError:  # 20260230, 25:00:00, ...
        return None


def parse_date(value: bytes) -> date | None:
    """Read a LocalMktDate or UTCDateOnly ``YYYYMMDD``; None if it is not a real day."""
    if _DATE.fullmatch(value) is None:
        return None
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


class FixMessage:
    """A FIX message: BeginString plus its fields in wire order as (tag, value-bytes) pairs,
    WITHOUT tags 8, 9 and 10.

    ``raw`` keeps the exact bytes it was parsed from, as evidence. A parsed message holds
    its tags and values as two columns (cheaper to build and to search); ``fields`` builds
    the pairs on first use, and from then on the pairs are the message. Treat a parsed
    message as a value: build a new one rather than editing another's fields.
    """

    __slots__ = ("_fields", "_tags", "_values", "begin_string", "raw")

    def __init__(
        self, begin_string: str, fields: list[tuple[int, bytes]], raw: bytes | None = None
    ) -> None:
        self.begin_string = begin_string
        self.raw = raw
        self._fields: list[tuple[int, bytes]] | None = fields
        self._tags: tuple[int, ...] | None = None
        self._values: Sequence[bytes] | None = None

    @classmethod
    def from_columns(
        cls, begin_string: str, tags: tuple[int, ...], values: Sequence[bytes], raw: bytes | None
    ) -> FixMessage:
        """Build a message from parallel tag and value columns, as the parser produces them.

        The columns are taken, not copied: the caller hands them over.
        """
        message = cls.__new__(cls)
        message.begin_string = begin_string
        message.raw = raw
        message._fields = None
        message._tags = tags
        message._values = values
        return message

    @property
    def fields(self) -> list[tuple[int, bytes]]:
        """The (tag, value) pairs in wire order, without tags 8, 9 and 10."""
        fields = self._fields
        if fields is None:
            assert self._tags is not None
            assert self._values is not None
            fields = self._fields = list(zip(self._tags, self._values, strict=True))
            self._tags = self._values = None  # the pairs may be edited: they are the truth now
        return fields

    @fields.setter
    def fields(self, fields: list[tuple[int, bytes]]) -> None:
        self._fields = fields
        self._tags = self._values = None

    def columns(self) -> tuple[tuple[int, ...], Sequence[bytes]]:
        """Return the tags and the values as two parallel sequences, in wire order."""
        if self._tags is not None:
            assert self._values is not None
            return self._tags, tuple(self._values)
        fields = self._fields
        assert fields is not None
        return tuple([tag for tag, _ in fields]), [value for _, value in fields]

    @property
    def msg_type(self) -> str:
        """MsgType (tag 35)."""
        value = self.get(35)
        if value is None:
            raise FixFieldError(
                35,
                "MsgType is missing",
                SessionRejectReason.REQUIRED_TAG_MISSING,
                seq_num=self._seq_num_or_none(),
            )
        return value.decode("latin-1")

    def get(self, tag: int) -> bytes | None:
        """Return the first value of ``tag``, or None when the message does not carry it."""
        tags = self._tags
        if tags is not None:
            if tag in tags:
                assert self._values is not None
                return self._values[tags.index(tag)]
            return None
        assert self._fields is not None
        for field_tag, value in self._fields:
            if field_tag == tag:
                return value
        return None

    def get_all(self, tag: int) -> list[bytes]:
        """Return every value of ``tag`` in wire order (repeating groups repeat tags)."""
        tags, values = self._columns()
        return [value for field_tag, value in zip(tags, values, strict=True) if field_tag == tag]

    def __contains__(self, tag: object) -> bool:
        tags, _ = self._columns()
        return tag in tags

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        tags, values = self._columns()
        return zip(tags, values, strict=True)

    def __len__(self) -> int:
        return len(self._columns()[0])

    def get_str(self, tag: int) -> str | None:
        """Return ``tag`` as text (latin-1, which every byte decodes as), or None."""
        value = self.get(tag)
        return None if value is None else value.decode("latin-1")

    def get_int(self, tag: int) -> int | None:
        """Return ``tag`` as an int, or None; a value that is not an integer is a 373=6."""
        value = self.get(tag)
        if value is None:
            return None
        if not is_int(value):
            raise self._bad_format(tag, value, "an integer")
        return int(value)

    def get_decimal(self, tag: int) -> Decimal | None:
        """Return ``tag`` as an exact ``Decimal`` (prices, quantities, amounts), or None."""
        value = self.get(tag)
        if value is None:
            return None
        if not is_decimal(value):
            raise self._bad_format(tag, value, "a decimal number")
        return Decimal(value.decode("ascii"))

    def get_bool(self, tag: int) -> bool | None:
        """Return a FIX Boolean (``Y``/``N``) as a bool, or None."""
        value = self.get(tag)
        if value is None:
            return None
        if value == b"Y":
            return True
        if value == b"N":
            return False
        raise self._bad_format(tag, value, "Y or N")

    def get_utc(self, tag: int) -> datetime | None:
        """Return a UTCTimestamp as an aware UTC ``datetime``, or None.

        Seconds, milliseconds, microseconds and nanoseconds are all accepted, since peers
        differ; nanoseconds are truncated to microseconds.
        """
        value = self.get(tag)
        if value is None:
            return None
        moment = parse_utc_timestamp(value)
        if moment is None:
            raise self._bad_format(tag, value, "a UTC timestamp YYYYMMDD-HH:MM:SS[.fff]")
        return moment

    def get_date(self, tag: int) -> date | None:
        """Return a LocalMktDate or UTCDateOnly (``YYYYMMDD``) as a ``date``, or None."""
        value = self.get(tag)
        if value is None:
            return None
        day = parse_date(value)
        if day is None:
            raise self._bad_format(tag, value, "a date YYYYMMDD")
        return day

    def groups(
        self, count_tag: int, first_tag: int, member_tags: frozenset[int] | Collection[int]
    ) -> list[list[tuple[int, bytes]]]:
        """Return the instances of the repeating group counted by ``count_tag``, in order.

        Each instance starts with ``first_tag`` (the group's delimiter) and runs while the
        tags belong to ``member_tags`` (include nested groups' tags to keep them inside their
        instance). A group that does not start with its delimiter is a 373=15, a count that
        does not match the instances a 373=16. The first occurrence of ``count_tag`` is used.
        """
        tags, values = self._columns()
        if count_tag not in tags:
            return []
        at = tags.index(count_tag)
        count = values[at]
        if not count.isdigit():
            raise self._bad_format(count_tag, count, "a NumInGroup count")
        members = member_tags if isinstance(member_tags, frozenset) else frozenset(member_tags)
        instances: list[list[tuple[int, bytes]]] = []
        for tag, value in zip(tags[at + 1 :], values[at + 1 :], strict=True):
            if tag == first_tag:
                instances.append([(tag, value)])
            elif tag in members:
                if not instances:
                    raise FixFieldError(
                        tag,
                        f"repeating group {count_tag} does not start with its first field "
                        f"{first_tag}",
                        SessionRejectReason.REPEATING_GROUP_FIELDS_OUT_OF_ORDER,
                        *self._context(),
                    )
                instances[-1].append((tag, value))
            else:
                break
        if len(instances) != int(count):
            raise FixFieldError(
                count_tag,
                f"NumInGroup says {int(count)} but {len(instances)} instances follow",
                SessionRejectReason.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP,
                *self._context(),
            )
        return instances

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FixMessage):
            return NotImplemented
        mine, theirs = self._columns(), other._columns()
        return (
            self.begin_string == other.begin_string
            and tuple(mine[0]) == tuple(theirs[0])
            and list(mine[1]) == list(theirs[1])
        )

    __hash__ = None  # type: ignore[assignment]  # fields may change, so no hash

    def __repr__(self) -> str:
        tags, values = self._columns()
        body = "|".join(
            f"{tag}={value.decode('latin-1')}" for tag, value in zip(tags, values, strict=True)
        )
        return f"FixMessage({self.begin_string!r}, {body!r})"

    def _columns(self) -> tuple[Sequence[int], Sequence[bytes]]:
        """The columns without copying; callers in this module only read them."""
        if self._tags is not None:
            assert self._values is not None
            return self._tags, self._values
        fields = self._fields
        assert fields is not None
        return [tag for tag, _ in fields], [value for _, value in fields]

    def _seq_num_or_none(self) -> int | None:
        value = self.get(34)
        return int(value) if value is not None and value.isdigit() else None

    def _context(self) -> tuple[str | None, int | None]:
        msg_type = self.get(35)
        return (
            None if msg_type is None else msg_type.decode("latin-1"),
            self._seq_num_or_none(),
        )

    def _bad_format(self, tag: int, value: bytes, expected: str) -> FixFieldError:
        return FixFieldError(
            tag,
            f"{value.decode('latin-1')!r} is not {expected}",
            _REASON_FORMAT,
            *self._context(),
        )
