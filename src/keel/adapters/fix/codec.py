"""FIX tag=value bytes: ``parse`` one message, ``encode`` one, and ``Framer`` for a stream.

``parse`` is on the hot path (every execution report from every venue), so the common case
is done by a few whole-message C-level operations instead of a Python loop per field:

1. ``translate`` turns every ``=`` into SOH, and one ``split`` gives tag, value, tag, value...
   This is only right when each field has exactly one ``=``; a second ``translate`` keeps
   just the separators, which must alternate ``=``, SOH, ``=``, SOH... (a value holding
   ``=`` is legal FIX, and goes to the slow path).
2. A table of tag numbers turns tag bytes into ints and rejects anything that is not a
   plain tag number. Length tags of data fields (93, 95, ...) are not in the table, so a
   message with a data field, whose value may hold SOH and ``=``, never takes this path.
3. Tag bytes become ints once per *layout* (the sequence of tags), not per message: the
   tags joined by SOH are looked up in a bounded dict of layouts seen, and a venue repeats
   a few layouts. Every message of a layout shares one tags tuple.
4. The CheckSum is a byte sum modulo 256. Summing in Python costs ~10 ns a byte; zlib's
   Adler-32 keeps ``1 + the byte sum`` (modulo 65521) in its low 16 bits, so the sum is
   taken in C, in one call for a message of up to 515 ASCII bytes.

Anything the fast path does not accept is parsed again by ``_parse_slowly``, field by field,
which handles data fields and names exactly what is wrong. The fast path may only accept what
the slow path accepts; tests check the two agree.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

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
_EQUALS_TO_SOH = bytes.maketrans(b"=", SOH)
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
_MAX_LAYOUTS = 4096
_adler32 = zlib.adler32


def parse(raw: bytes) -> FixMessage:
    """Parse one whole message; check BeginString, BodyLength, MsgType and CheckSum.

    8 must come first, 9 second with the body's exact length, 35 third, and 10 last with the
    3-digit sum of the bytes before it modulo 256. Broken framing raises
    ``GarbledMessageError`` (a session ignores the message); a tag that is not a number
    raises ``FixFieldError`` with 373=0, an empty value 373=4. Nothing else about the fields
    is checked here: that is ``DataDictionary.validate``'s job.
    """
    parts = raw.translate(_EQUALS_TO_SOH).split(SOH)
    try:
        begin_string, length, end = parts[1], parts[3], len(raw) - 7
        if (
            parts[4] == b"35"
            and parts[-3] == b"10"
            and parts[0] == b"8"
            and parts[2] == b"9"
            and not parts[-1]
            and begin_string
            # canonical digits only: anything else is left to the slow path to judge
            and length == b"%d" % (end - len(begin_string) - len(length) - 6)
            and parts[-2] == b"%03d" % checksum_of(raw, end)
            # every field has one "=" then one SOH, so the split is tag, value, tag, ...
            and _SEPARATOR_PAIRS.startswith(raw.translate(None, _NOT_SEPARATORS))
        ):
            tag_parts = parts[4:-3:2]
            layout = SOH.join(tag_parts)
            tags = _LAYOUTS.get(layout)
            if tags is None:
                tags = _learn_layout(layout, tag_parts)
            values = parts[5:-3:2]
            if all(values):
                return FixMessage.from_columns(
                    _BEGIN_STRINGS.get(begin_string) or begin_string.decode("latin-1"),
                    tags,
                    values,
                    raw,
                )
    except (IndexError, KeyError):
        pass
    return _parse_slowly(raw)


def _learn_layout(layout: bytes, tag_parts: list[bytes]) -> tuple[int, ...]:
    """Turn a layout's tag bytes into tags, and remember them while there is room.

    KeyError if one is not a plain tag number (or is a data field's length: those
    messages go to the slow path, which reads data fields by their length).
    """
    tags = tuple(map(_TAG_NUMBERS.__getitem__, tag_parts))
    if len(_LAYOUTS) < _MAX_LAYOUTS:
        _LAYOUTS[layout] = tags
    return tags


def checksum_of(data: bytes, end: int) -> int:
    """Return the FIX CheckSum of ``data[:end]``: the sum of its bytes modulo 256."""
    # Adler-32's low half is (1 + the byte sum) mod 65521, and its high half never reaches
    # the 8 bits kept: exact while the sum stays below 65520, i.e. up to 256 bytes of any
    # value or 515 bytes of ASCII (FIX is ASCII unless a Text carries latin-1).
    if end <= 256 or (end <= 515 and data.isascii()):
        return (_adler32(data[:end]) - 1) & 0xFF
    total = 0
    for start in range(0, end, 256):
        total += _adler32(data[start : min(start + 256, end)]) - 1
    return total & 0xFF


def _parse_slowly(raw: bytes) -> FixMessage:
    """Parse field by field, reading data fields by length and naming the first fault."""
    if not raw.startswith(b"8="):
        raise GarbledMessageError("BeginString (8) is not the first field", raw)
    begin_end = raw.find(SOH)
    if begin_end < 0:
        raise GarbledMessageError("no SOH-terminated tag=value field", raw)
    if begin_end == 2:
        raise GarbledMessageError("BeginString (8) is empty", raw)
    if raw[begin_end + 1 : begin_end + 3] != b"9=":
        raise GarbledMessageError("BodyLength (9) is not the second field", raw)
    length_end = raw.find(SOH, begin_end + 1)
    length = raw[begin_end + 3 : length_end] if length_end > 0 else b""
    if not length.isdigit():
        raise GarbledMessageError(f"BodyLength {length!r} is not a number", raw)
    body_start = length_end + 1
    body_end = body_start + int(length)
    trailer_at = len(raw) - 7
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
    return FixMessage.from_columns(
        raw[2:begin_end].decode("latin-1"), tuple(tags), values, raw
    )


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
                raw, tags, values, None, f"{tag_bytes!r} is not a tag number",
                SessionRejectReason.INVALID_TAG_NUMBER,
            )  # fmt: skip
        tag = int(tag_bytes)
        size = data_lengths.pop(tag, None)
        if size is not None:
            delimiter = equals + 1 + size
            if delimiter >= end or raw[delimiter] != SOH[0]:
                raise _field_error(
                    raw, tags, values, tag, f"data is not {size} bytes long as its length says",
                    SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE,
                )  # fmt: skip
        value = raw[equals + 1 : delimiter]
        if not value:
            raise _field_error(
                raw, tags, values, tag, "tag specified without a value",
                SessionRejectReason.TAG_SPECIFIED_WITHOUT_A_VALUE,
            )  # fmt: skip
        data_tag = DATA_FIELDS.get(tag)
        if data_tag is not None:
            if not value.isdigit():
                raise _field_error(
                    raw, tags, values, tag, f"data length {value!r} is not a number",
                    SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE,
                )  # fmt: skip
            data_lengths[data_tag] = int(value)
        tags.append(tag)
        values.append(value)
        at = delimiter + 1
    return tags, values


def _field_error(
    raw: bytes, tags: list[int], values: list[bytes], tag: int | None, reason: str, code: int
) -> FixFieldError:
    msg_type = values[tags.index(35)].decode("latin-1") if 35 in tags else None
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
    if not fields or fields[0][0] != 35:
        raise ValueError("the fields must start with MsgType (35)")
    body = b"".join([b"%d=%b\x01" % (tag, _value_bytes(tag, value)) for tag, value in fields])
    message = b"8=%b\x019=%d\x01%b" % (begin_string.encode("ascii"), len(body), body)
    return b"%b10=%03d\x01" % (message, checksum_of(message, len(message)))


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


def format_utc(value: datetime, precision: int = 3) -> str:
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
    if precision == 0:
        return text
    if precision == 3:
        return f"{text}.{moment.microsecond // 1000:03d}"
    if precision == 6:
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
            if size - at < 88:  # the two header fields may still be arriving
                return at, None
            return self._garbled(buffer, at, "no BodyLength after BeginString")
        if buffer[begin_end + 1 : begin_end + 3] != b"9=" or not buffer[
            begin_end + 3 : length_end
        ].isdigit():
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
