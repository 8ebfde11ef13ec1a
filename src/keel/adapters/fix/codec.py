"""FIX tag=value bytes: ``parse`` one message, ``encode`` one, and ``Framer`` for a stream.

``parse`` is on the hot path (every execution report from every venue). It works by
*layout*, the sequence of tags: a venue sends a handful of layouts per message type (its
partial fills all carry the same tags), so most messages are of a layout already seen.

1. A layout seen before has a compiled pattern: its tags as literals, each value
   ``[^SOH]+``, BeginString, BodyLength and CheckSum around them. One ``fullmatch`` checks
   the whole structure and cuts out every value; BodyLength and CheckSum are then compared.
   The candidates are found by MsgType; a message that fits none goes on to 2.
2. A layout not seen yet: ``replace`` turns every ``=`` into SOH and one ``split`` gives
   tag, value, tag, value... That is only right when each field has exactly one ``=``, so
   a ``translate`` keeps just the separators, which must alternate ``=``, SOH, ``=``,
   SOH (a value holding ``=`` is legal FIX and goes on to 3). A table of tag numbers turns
   the tag bytes into ints and refuses anything else, data fields' length tags included
   (a data value may hold SOH and ``=``). The layout is learnt for 1.
3. Anything else is parsed field by field by ``_parse_slowly``, which reads data fields by
   their length and names exactly what is wrong.

1 and 2 may only accept what 3 accepts, and give the same message; tests drive random and
broken messages through all three. Layouts and patterns are remembered within bounds, so a
peer sending ever new layouts costs time, not memory.

The CheckSum is a byte sum modulo 256. Summing in Python costs ~10 ns a byte; zlib's
Adler-32 keeps ``1 + the byte sum`` (modulo 65521) in its low 16 bits, so the sum is taken
in C, in one call for a message of up to 515 ASCII bytes.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import NamedTuple

from keel.adapters.fix import tags as t
from keel.adapters.fix.errors import FixFieldError, GarbledMessageError, SessionRejectReason
from keel.adapters.fix.message import SOH, FixMessage

FieldValue = str | bytes | int | Decimal | datetime | date | bool
"""What ``encode`` accepts as a field's value. Never float: money is exact."""

DATA_FIELDS: dict[int, int] = {
    90: 91,  # SecureDataLen -> SecureData
    93: 89,  # SignatureLength -> Signature
    95: 96,  # RawDataLength -> RawData
    212: 213,  # XmlDataLen -> XmlData
    348: 349,  # EncodedIssuerLen -> EncodedIssuer
    350: 351,  # EncodedSecurityDescLen -> EncodedSecurityDesc
    352: 353,  # EncodedListExecInstLen -> EncodedListExecInst
    354: 355,  # EncodedTextLen -> EncodedText
    356: 357,  # EncodedSubjectLen -> EncodedSubject
    358: 359,  # EncodedHeadlineLen -> EncodedHeadline
    360: 361,  # EncodedAllocTextLen -> EncodedAllocText
    362: 363,  # EncodedUnderlyingIssuerLen -> EncodedUnderlyingIssuer
    364: 365,  # EncodedUnderlyingSecurityDescLen -> EncodedUnderlyingSecurityDesc
    445: 446,  # EncodedListStatusTextLen -> EncodedListStatusText
    618: 619,  # EncodedLegIssuerLen -> EncodedLegIssuer
    621: 622,  # EncodedLegSecurityDescLen -> EncodedLegSecurityDesc
}
"""FIX 4.x length fields and the data field each one measures. A data value may hold any
byte, SOH included, so it is read by its length, not up to the next SOH."""
_DATA_VALUE_TAGS = frozenset(DATA_FIELDS.values())

_TAG_NUMBERS: dict[bytes, int] = {
    b"%d" % number: number for number in range(1, 10_000) if number not in DATA_FIELDS
}
"""Tag bytes -> tag for the fast path: 1-9999 in canonical form, data length tags left out."""
_NOT_SEPARATORS = bytes(byte for byte in range(256) if byte not in b"=\x01")
_SEPARATOR_PAIRS = b"=\x01" * 4096
"""The separators of up to 4096 well-formed fields; longer messages take the slow path."""
_BEGIN = b"8=FIX"
_TRAILER = re.compile(rb"\x0110=\d\d\d\x01")
_SEQ_NUM = re.compile(rb"\x0134=(\d+)\x01")
_BEGIN_STRINGS = {b"FIX.4.2": "FIX.4.2", b"FIX.4.4": "FIX.4.4"}
_LAYOUTS: dict[bytes, tuple[int, ...]] = {}
"""Tag layouts seen (tag bytes joined by SOH) -> their tags: a venue repeats a few layouts,
so converting each message's tags costs one join and one dict lookup."""
_MAX_LAYOUTS = 1024


class _Layout(NamedTuple):
    """A layout seen, and the compiled pattern of its messages, one group per value."""

    tags: tuple[int, ...]
    match: Callable[[bytes], re.Match[bytes] | None]


_PATTERNS: dict[bytes, list[_Layout]] = {}
"""MsgType -> the layouts seen with it, the one seen last first."""
_MAX_PATTERNS_PER_TYPE = 8
_MAX_MSG_TYPES = 64
_adler32 = zlib.adler32
_new_message = object.__new__
_ADLER_EXACT = 256
"""Bytes Adler-32 sums exactly whatever their values: 256 x 255 + 1 < 65521."""
_ADLER_EXACT_ASCII = 515
"""ASCII bytes Adler-32 sums exactly: 515 x 127 + 1 < 65521."""
_TRAILER_SIZE = 7  # "10=ddd" and its SOH
_FEWEST_PARTS = 9  # 8, 9, 35 and 10, each a tag and a value, and the empty tail
_HEADER_ROOM = 88  # BeginString and BodyLength fields, at most, before giving up on them


def parse(raw: bytes) -> FixMessage:
    """Parse one whole message; check BeginString, BodyLength, MsgType and CheckSum.

    8 must come first, 9 second with the body's exact length, 35 third, and 10 last with the
    3-digit sum of the bytes before it modulo 256. Broken framing raises
    ``GarbledMessageError`` (a session ignores the message); a tag that is not a number
    raises ``FixFieldError`` with 373=0, an empty value 373=4. Nothing else about the fields
    is checked here: that is ``DataDictionary.validate``'s job.
    """
    at = raw.find(b"\x0135=")
    layouts = _PATTERNS.get(raw[at + 4 : raw.find(SOH, at + 4)]) if at > 0 else None
    if layouts:
        for layout in layouts:
            found = layout.match(raw)
            if found is None:
                continue
            values = found.groups()
            begin_string, length, end = values[0], values[1], len(raw) - 7
            if end <= _ADLER_EXACT or (end <= _ADLER_EXACT_ASCII and raw.isascii()):
                checksum = (_adler32(raw[:end]) - 1) & 0xFF  # checksum_of's common case
            else:
                checksum = checksum_of(raw, end)
            # the pattern saw digits in both: only their numbers are left to compare
            if (
                int(values[-1]) != checksum
                or int(length) != end - len(begin_string) - len(length) - 6
            ):
                return _parse_slowly(raw)
            if layout is not layouts[0]:  # the layout seen last is tried first
                index = layouts.index(layout)  # a swap, so the list always holds them all
                layouts[0], layouts[index] = layout, layouts[0]
            # FixMessage.from_columns, inlined: a call costs more than the stores here
            message = _new_message(FixMessage)
            text = _BEGIN_STRINGS.get(begin_string)
            message.begin_string = text or begin_string.decode("latin-1")
            message.raw = raw
            message._fields = None
            message._tags = layout.tags
            message._values = values[2:-1]
            return message
    return _parse_split(raw)


def _parse_split(raw: bytes) -> FixMessage:
    """Parse a message of a layout not seen yet; learn the layout for the next ones."""
    parts = raw.replace(b"=", SOH).split(SOH)
    if len(parts) < _FEWEST_PARTS:
        return _parse_slowly(raw)
    begin_string, length, end = parts[1], parts[3], len(raw) - 7  # 7: "10=ddd" and SOH
    if not (
        parts[4] == b"35"
        and parts[-3] == b"10"
        and parts[0] == b"8"
        and parts[2] == b"9"
        and not parts[-1]
        and begin_string
        # canonical digits only: anything else is left to the slow path to judge
        and length == b"%d" % (end - len(begin_string) - len(length) - 6)
    ):
        return _parse_slowly(raw)
    if end <= _ADLER_EXACT or (end <= _ADLER_EXACT_ASCII and raw.isascii()):
        checksum = (_adler32(raw[:end]) - 1) & 0xFF  # checksum_of's common case, inlined
    else:
        checksum = checksum_of(raw, end)
    # the CheckSum, and every field having one "=" then one SOH: tag, value, tag, value...
    if parts[-2] != b"%03d" % checksum or not _SEPARATOR_PAIRS.startswith(
        raw.translate(None, _NOT_SEPARATORS)
    ):
        return _parse_slowly(raw)
    tags = _LAYOUTS.get(SOH.join(parts[4:-3:2]))
    if tags is None:
        try:
            tags = _learn_layout(parts[4:-3:2])
        except KeyError:
            return _parse_slowly(raw)
    values = parts[5:-3:2]
    if not all(values):
        return _parse_slowly(raw)
    _learn_pattern(values[0], tags)
    return FixMessage.from_columns(
        _BEGIN_STRINGS.get(begin_string) or begin_string.decode("latin-1"), tags, values, raw
    )


def _learn_layout(tag_parts: list[bytes]) -> tuple[int, ...]:
    """Turn a layout's tag bytes into tags, and remember them while there is room.

    KeyError if one is not a plain tag number (or is a data field's length: those
    messages go to the slow path, which reads data fields by their length).
    """
    tags = tuple(map(_TAG_NUMBERS.__getitem__, tag_parts))
    if len(_LAYOUTS) < _MAX_LAYOUTS:
        _LAYOUTS[SOH.join(tag_parts)] = tags
    return tags


def _learn_pattern(msg_type: bytes, tags: tuple[int, ...]) -> None:
    """Compile a layout's pattern, which checks and cuts its next messages in one call."""
    layouts = _PATTERNS.get(msg_type)
    if layouts is None:
        if len(_PATTERNS) >= _MAX_MSG_TYPES:
            return
        layouts = _PATTERNS.setdefault(msg_type, [])
    if len(layouts) < _MAX_PATTERNS_PER_TYPE and all(seen.tags != tags for seen in layouts):
        fields = b"".join(b"%d=([^\x01]+)\x01" % tag for tag in tags)
        pattern = b"8=([^\x01]+)\x019=([0-9]+)\x01" + fields + b"10=([0-9]{3})\x01"
        layouts.append(_Layout(tags, re.compile(pattern).fullmatch))


def checksum_of(data: bytes, end: int) -> int:
    """Return the FIX CheckSum of ``data[:end]``: the sum of its bytes modulo 256."""
    # Adler-32's low half is (1 + the byte sum) mod 65521, and its high half never reaches
    # the 8 bits kept: exact while the sum stays below 65520, i.e. up to 256 bytes of any
    # value or 515 bytes of ASCII (FIX is ASCII unless a Text carries latin-1).
    if end <= _ADLER_EXACT or (end <= _ADLER_EXACT_ASCII and data.isascii()):
        return (_adler32(data[:end]) - 1) & 0xFF
    total = 0
    for start in range(0, end, _ADLER_EXACT):
        total += _adler32(data[start : min(start + _ADLER_EXACT, end)]) - 1
    return total & 0xFF


def _parse_slowly(raw: bytes) -> FixMessage:
    """Parse field by field, reading data fields by length and naming the first fault."""
    if not raw.startswith(b"8="):
        raise GarbledMessageError("BeginString (8) is not the first field", raw)
    begin_end = raw.find(SOH)
    if begin_end < 0:
        raise GarbledMessageError("no SOH-terminated tag=value field", raw)
    if raw.startswith(b"8=\x01"):
        raise GarbledMessageError("BeginString (8) is empty", raw)
    if raw[begin_end + 1 : begin_end + 3] != b"9=":
        raise GarbledMessageError("BodyLength (9) is not the second field", raw)
    length_end = raw.find(SOH, begin_end + 1)
    length = raw[begin_end + 3 : length_end] if length_end > 0 else b""
    if not length.isdigit():
        raise GarbledMessageError(f"BodyLength {length!r} is not a number", raw)
    body_start = length_end + 1
    body_end = body_start + int(length)
    trailer_at = len(raw) - _TRAILER_SIZE
    if _TRAILER.fullmatch(raw, trailer_at - 1) is None:
        if _TRAILER.search(raw, body_start - 1) is not None:
            raise GarbledMessageError("CheckSum (10) is not the last field", raw)
        raise GarbledMessageError("CheckSum (10) is missing", raw)
    if body_end != trailer_at:
        raise GarbledMessageError(
            f"BodyLength {int(length)} does not match the body's {trailer_at - body_start} bytes",
            raw,
        )
    declared, computed = int(raw[trailer_at + 3 : trailer_at + 6]), checksum_of(raw, trailer_at)
    if declared != computed:
        raise GarbledMessageError(f"CheckSum {declared:03d} is not the sum {computed:03d}", raw)
    if not raw.startswith(b"35=", body_start):
        raise GarbledMessageError("MsgType (35) is not the third field", raw)
    tags, values = _split_fields(raw, body_start, body_end)
    return FixMessage.from_columns(raw[2:begin_end].decode("latin-1"), tuple(tags), values, raw)


def _split_fields(raw: bytes, start: int, end: int) -> tuple[list[int], list[bytes]]:
    tags: list[int] = []
    values: list[bytes] = []
    data_lengths: dict[int, int] = {}
    at = start
    while at < end:
        equals = raw.find(b"=", at, end)
        delimiter = raw.find(SOH, at, end)
        if equals < 0 or delimiter < equals:
            raise GarbledMessageError("a field has no '=' between tag and value", raw)
        tag_bytes = raw[at:equals]
        if not tag_bytes.isdigit() or tag_bytes.startswith(b"0"):
            raise _field_error(
                raw,
                tags,
                values,
                None,
                f"{tag_bytes!r} is not a tag number",
                SessionRejectReason.INVALID_TAG_NUMBER,
            )
        tag = int(tag_bytes)
        size = data_lengths.pop(tag, None)
        if size is not None:
            delimiter = equals + 1 + size
            if delimiter >= end or raw[delimiter] != SOH[0]:
                raise _field_error(
                    raw,
                    tags,
                    values,
                    tag,
                    f"data is not {size} bytes long as its length says",
                    SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE,
                )
        value = raw[equals + 1 : delimiter]
        if not value:
            raise _field_error(
                raw,
                tags,
                values,
                tag,
                "tag specified without a value",
                SessionRejectReason.TAG_SPECIFIED_WITHOUT_A_VALUE,
            )
        data_tag = DATA_FIELDS.get(tag)
        if data_tag is not None:
            if not value.isdigit():
                raise _field_error(
                    raw,
                    tags,
                    values,
                    tag,
                    f"data length {value!r} is not a number",
                    SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE,
                )
            data_lengths[data_tag] = int(value)
        tags.append(tag)
        values.append(value)
        at = delimiter + 1
    return tags, values


def _field_error(
    raw: bytes, tags: list[int], values: list[bytes], tag: int | None, reason: str, code: int
) -> FixFieldError:
    msg_type = values[tags.index(t.MSG_TYPE)].decode("latin-1") if t.MSG_TYPE in tags else None
    seq_num = _SEQ_NUM.search(raw)
    return FixFieldError(tag, reason, code, msg_type, int(seq_num[1]) if seq_num else None)


def encode(begin_string: str, fields: Sequence[tuple[int, FieldValue]]) -> bytes:
    """Encode one message; the fields start with MsgType (35), and 8, 9 and 10 are added.

    Values: ``int`` as decimal digits; ``Decimal`` in plain notation keeping its scale
    (``Decimal("1E+3")`` -> ``1000``, ``Decimal("10.50")`` -> ``10.50``); an aware
    ``datetime`` as UTC ``YYYYMMDD-HH:MM:SS.sss``; ``date`` as ``YYYYMMDD``; ``bool`` as
    ``Y``/``N``; ``str`` as latin-1. A float is a ``TypeError`` (money is exact); an empty
    value, a naive datetime or an SOH outside a data field is a ``ValueError``.
    """
    if not fields or fields[0][0] != t.MSG_TYPE:
        raise ValueError("the fields must start with MsgType (35)")
    parts: list[bytes] = []
    append = parts.append
    for tag, value in fields:
        # The exact types that make up nearly every message first, checked inline; the
        # rest (subclasses such as StrEnum, dates, bytes) through ``_value_bytes``.
        if type(value) is str:
            if not value or ("\x01" in value and tag not in _DATA_VALUE_TAGS):
                encoded = _value_bytes(tag, value)  # raises, or keeps a data field's SOH
            else:
                encoded = value.encode("latin-1")
        elif type(value) is Decimal and value.is_finite():
            encoded = format(value, "f").encode("ascii")
        elif type(value) is int:
            encoded = b"%d" % value
        elif type(value) is datetime and value.tzinfo is UTC:
            encoded = _utc_millis(value)
        else:
            encoded = _value_bytes(tag, value)
        prefix = _TAG_PREFIXES.get(tag)
        if prefix is None:
            prefix = b"%d=" % tag
        append(prefix)
        append(encoded)
        append(b"\x01")
    body = b"".join(parts)
    message = b"8=%b\x019=%d\x01%b" % (begin_string.encode("ascii"), len(body), body)
    return b"%b10=%03d\x01" % (message, checksum_of(message, len(message)))


_TAG_PREFIXES: dict[int, bytes] = {number: b"%d=" % number for number in range(1, 1_000)}
"""Tag -> ``b"tag="`` for the tags most messages use."""


class _SecondText:
    """The last whole second formatted, and its text: reports sent within the same second
    share it. One tuple, replaced whole, so a reader never pairs one second with another's
    text."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last: tuple[datetime | None, bytes] = (None, b"")

    def __call__(self, moment: datetime) -> bytes:
        """An aware UTC datetime as ``YYYYMMDD-HH:MM:SS.sss`` (truncated, as ``format_utc``)."""
        second = moment.replace(microsecond=0)
        cached, text = self.last
        if cached != second:
            text = format_utc(second, _SECONDS).encode("ascii")
            self.last = (second, text)
        return b"%b.%03d" % (text, moment.microsecond // 1000)


_utc_millis = _SecondText()


def _value_bytes(tag: int, value: FieldValue) -> bytes:
    if isinstance(value, bytes):
        encoded = value
    elif isinstance(value, str):
        encoded = value.encode("latin-1")
    elif isinstance(value, bool):
        encoded = b"Y" if value else b"N"
    elif isinstance(value, int):
        encoded = b"%d" % value
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"tag {tag}: {value} is not a finite decimal")
        encoded = format(value, "f").encode("ascii")
    elif isinstance(value, datetime):
        encoded = format_utc(value).encode("ascii")
    elif isinstance(value, date):
        encoded = b"%04d%02d%02d" % (value.year, value.month, value.day)
    else:
        raise TypeError(
            f"tag {tag}: {type(value).__name__} is not a FIX value"
            + (" (money is exact: use Decimal)" if isinstance(value, float) else "")
        )
    if not encoded:
        raise ValueError(f"tag {tag}: FIX does not allow an empty value")
    if SOH in encoded and tag not in _DATA_VALUE_TAGS:
        raise ValueError(f"tag {tag}: only data fields may contain SOH")
    return encoded


_SECONDS, _MILLISECONDS, _MICROSECONDS = 0, 3, 6


def format_utc(value: datetime, precision: int = _MILLISECONDS) -> str:
    """Format an aware datetime as a FIX UTCTimestamp with 0, 3 or 6 fractional digits.

    The fraction is truncated, never rounded up into the next second or millisecond.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value!r} is naive: FIX times are UTC, give an aware datetime")
    moment = value.astimezone(UTC)
    text = (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}-"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if precision == _SECONDS:
        return text
    if precision == _MILLISECONDS:
        return f"{text}.{moment.microsecond // 1000:03d}"
    if precision == _MICROSECONDS:
        return f"{text}.{moment.microsecond:06d}"
    raise ValueError(f"precision {precision}: FIX timestamps carry 0, 3 or 6 digits here")


class Framer:
    """Splits a TCP byte stream into whole raw messages.

    ``feed`` checks only the framing (BeginString, BodyLength, a CheckSum field where the
    length says); ``parse`` checks the rest, the CheckSum's value included. Bytes that do not
    frame come back as ``GarbledMessageError`` holding them, for the caller to log and
    ignore; the framer then resynchronises on the next ``8=FIX``.
    """

    def __init__(self, max_message_size: int = 1 << 20) -> None:
        self._buffer = bytearray()
        self._max = max_message_size

    def feed(self, data: bytes) -> list[bytes | GarbledMessageError]:
        """Add ``data``; return every complete message now available, in order.

        A partial message is kept for the next call. A message that declares more than the
        size limit is garbled, so a broken peer cannot make the buffer grow without bound.
        """
        buffer = self._buffer
        buffer += data
        found: list[bytes | GarbledMessageError] = []
        at = 0
        while at < len(buffer):
            at, item = self._next(buffer, at)
            if item is None:
                break
            found.append(item)
        del buffer[:at]
        return found

    def _next(self, buffer: bytearray, at: int) -> tuple[int, bytes | GarbledMessageError | None]:
        """Return (where to go on, what was found at ``at``), or (at, None) to wait for data."""
        size = len(buffer)
        if not buffer.startswith(_BEGIN, at):
            start = buffer.find(_BEGIN, at)
            if start < 0:  # keep a tail that may be the start of "8=FIX"
                start = max(at, size - len(_BEGIN) + 1)
                while start < size and not _BEGIN.startswith(buffer[start:]):
                    start += 1
                if start == at:
                    return at, None
            return start, GarbledMessageError("bytes outside a message", bytes(buffer[at:start]))
        begin_end = buffer.find(SOH, at, at + 64)
        length_end = buffer.find(SOH, begin_end + 1, begin_end + 24) if begin_end > 0 else -1
        if length_end < 0:
            if size - at < _HEADER_ROOM:  # the two header fields may still be arriving
                return at, None
            return self._garbled(buffer, at, "no BodyLength after BeginString")
        if (
            buffer[begin_end + 1 : begin_end + 3] != b"9="
            or not buffer[begin_end + 3 : length_end].isdigit()
        ):
            return self._garbled(buffer, at, "BodyLength (9) is not the second field")
        end = length_end + 1 + int(buffer[begin_end + 3 : length_end]) + 7
        if end - at > self._max:
            return self._garbled(buffer, at, f"message longer than {self._max} bytes")
        if size < end:
            # A trailer followed by the next message before the declared end means the
            # length is too long; cut there rather than swallow the next messages.
            trailer = _TRAILER.search(buffer, length_end)
            if trailer is not None and buffer.startswith(_BEGIN, trailer.end()):
                return trailer.end(), GarbledMessageError(
                    "BodyLength is longer than the message", bytes(buffer[at : trailer.end()])
                )
            if size - at > self._max:
                return self._garbled(buffer, at, f"message longer than {self._max} bytes")
            return at, None
        if _TRAILER.fullmatch(buffer, end - 8, end) is not None:
            return end, bytes(buffer[at:end])
        trailer = _TRAILER.search(buffer, length_end)
        if trailer is not None:
            return trailer.end(), GarbledMessageError(
                "BodyLength does not end at the CheckSum field", bytes(buffer[at : trailer.end()])
            )
        return self._garbled(buffer, at, "no CheckSum (10) where BodyLength says")

    def _garbled(
        self, buffer: bytearray, at: int, reason: str
    ) -> tuple[int, GarbledMessageError | None]:
        """Drop from ``at`` to the next message start; wait if none has arrived yet."""
        start = buffer.find(_BEGIN, at + 1)
        if start < 0:
            if len(buffer) - at <= self._max:
                return at, None
            start = len(buffer)
        return start, GarbledMessageError(reason, bytes(buffer[at:start]))
