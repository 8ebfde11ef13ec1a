"""The fast paths answer exactly as the slow ones, on random and broken input.

``parse`` and ``DataDictionary.validate`` each have a fast path for the common case and a
field-by-field path that defines what is right. Hypothesis drives random messages, and the
same messages broken at random, through both; the outcomes (the message, or the error class,
373 code and tag) must be the same. The value checks the slow path uses must say what the
regular expressions used by layout plans say.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.adapters.fix.codec import _parse_slowly, checksum_of, encode, parse
from keel.adapters.fix.definitions import (
    _FORMATS,
    _PLAN_FORMATS,
    FieldType,
    define,
    one_of,
    value_check,
)
from keel.adapters.fix.dictionary import FIX44
from keel.adapters.fix.errors import FixError, FixFieldError, GarbledMessageError
from keel.adapters.fix.message import parse_utc_timestamp

PARTIAL_FILL = [
    (35, "8"), (34, "42"), (49, "VENUE"), (52, "20260302-14:30:00.123"), (56, "KEEL"),
    (1, "FUND-A"), (6, "101.25"), (11, "ORD-1"), (14, "400"), (17, "EX-9"), (31, "101.25"),
    (32, "400"), (37, "V-1"), (38, "1000"), (39, "1"), (40, "2"), (44, "101.50"), (54, "1"),
    (55, "ACME"), (59, "0"), (60, "20260302-14:30:00.120"), (150, "F"), (151, "600"),
    (453, "1"), (448, "MM-7"), (447, "D"), (452, "1"),
]  # fmt: skip
TEXT = st.text(alphabet="0123456789.-=:ABCDEFGHIJYNZ xyz", min_size=1, max_size=12)
NUMBERS = st.text(alphabet="0123456789.-", min_size=1, max_size=8)
CHECKED_TYPES = [kind for kind, source in _FORMATS.items() if source is not None]


def outcome(action: object, *args: object) -> object:
    """The result of a call, or (error class, 373 code, tag) if it raised a FixError."""
    try:
        result = action(*args)  # type: ignore[operator]
    except FixFieldError as e:
        return ("FixFieldError", e.session_reject_reason, e.tag, e.msg_type, e.seq_num)
    except GarbledMessageError:
        return ("GarbledMessageError",)
    except FixError as e:  # pragma: no cover - would be a bug, shown in the diff
        return (type(e).__name__, str(e))
    if result is None:
        return None
    return ("message", result.begin_string, result.fields)  # type: ignore[attr-defined]


@st.composite
def timestamps(draw: st.DrawFn) -> bytes:
    """Near-valid UTCTimestamps: right shape, digits anywhere, sometimes a stray byte."""
    digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
    shape = draw(
        st.sampled_from(
            ["dddddddd-dd:dd:dd", "dddddddd-dd:dd:dd.ddd", "dddddddd-dd:dd:dd.dddddd",
             "dddddddd-dd:dd:dd.ddddddddd", "dddddddd-dd:dd:dd.dd", "ddddddd-dd:dd:dd"]
        )
    )  # fmt: skip
    text = "".join(draw(digits) if char == "d" else char for char in shape)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from("x-:. 9")) + text[at + 1 :]
    return text.encode()


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(CHECKED_TYPES), st.one_of(TEXT.map(str.encode), NUMBERS.map(str.encode)))
def test_each_types_check_agrees_with_its_regular_expression(kind: FieldType, value: bytes) -> None:
    source = _FORMATS[kind]
    assert source is not None
    check = value_check(define(1, "Any", kind)).valid
    assert check is not None

    assert check(value) == (re.fullmatch(source, value) is not None)


@settings(max_examples=600, deadline=None)
@given(timestamps())
def test_the_timestamp_check_agrees_with_its_regular_expression(value: bytes) -> None:
    source = _FORMATS[FieldType.UTCTIMESTAMP]
    assert source is not None

    assert (parse_utc_timestamp(value) is not None) == (re.fullmatch(source, value) is not None)


def test_every_day_from_1999_to_2101_is_a_date_exactly_when_the_calendar_says_so() -> None:
    source = _FORMATS[FieldType.LOCALMKTDATE]
    assert source is not None
    pattern = re.compile(source)
    for year in (1, 4, 100, 400, 1900, 1999, 2000, 2024, 2100, 2101, 9999):
        for month in range(0, 14):
            for day in range(0, 33):
                text = b"%04d%02d%02d" % (year, month, day)
                try:
                    datetime(year, month, day, tzinfo=UTC)
                    real = True
                except ValueError:
                    real = False
                assert (pattern.fullmatch(text) is not None) == real, text


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(CHECKED_TYPES), st.one_of(TEXT.map(str.encode), timestamps()))
def test_a_plan_never_accepts_a_value_its_type_refuses(kind: FieldType, value: bytes) -> None:
    exact, plan = _FORMATS[kind], _PLAN_FORMATS[kind]
    assert exact is not None
    assert plan is not None

    if re.fullmatch(plan, value):
        assert re.fullmatch(exact, value), (kind, value)


def test_plans_accept_the_values_of_everyday_trading() -> None:
    for kind, value in [
        (FieldType.PRICE, b"101.25"), (FieldType.QTY, b"1000"), (FieldType.PRICE, b"-0.5"),
        (FieldType.UTCTIMESTAMP, b"20260302-14:30:00.123"), (FieldType.LOCALMKTDATE, b"20240229"),
        (FieldType.UTCTIMESTAMP, b"20000229-00:00:00.123456789"),
    ]:  # fmt: skip
        plan = _PLAN_FORMATS[kind]
        assert plan is not None
        assert re.fullmatch(plan, value), (kind, value)


@settings(max_examples=300, deadline=None)
@given(
    st.sets(st.binary(min_size=1, max_size=3), min_size=1, max_size=12),
    st.binary(max_size=4),
)
def test_one_of_matches_exactly_the_words_it_was_given(words: set[bytes], probe: bytes) -> None:
    pattern = re.compile(b"(?:" + one_of(words) + b")", re.DOTALL)

    for word in words:
        assert pattern.fullmatch(word)
    assert (pattern.fullmatch(probe) is not None) == (probe in words)


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    """Well-framed messages with random fields, then often broken somewhere."""
    tags = st.sampled_from([34, 49, 52, 56, 1, 11, 31, 38, 58, 95, 96, 448, 5001, 12345])
    fields: list[tuple[int, str | bytes]] = [(35, draw(st.sampled_from(["8", "0", "D"])))]
    fields += draw(st.lists(st.tuples(tags, TEXT), max_size=8))
    raw = encode(draw(st.sampled_from(["FIX.4.2", "FIX.4.4"])), fields)
    damage = draw(st.sampled_from(["none", "replace", "insert", "delete"]))
    if damage == "none":
        return raw
    at = draw(st.integers(0, len(raw) - 1))
    byte = bytes([draw(st.sampled_from(b"\x01=0917ax"))])
    if damage == "replace":
        return raw[:at] + byte + raw[at + 1 :]
    if damage == "insert":
        return raw[:at] + byte + raw[at:]
    return raw[:at] + raw[at + 1 :]


@settings(max_examples=800, deadline=None)
@given(raw_messages())
def test_parse_agrees_with_the_field_by_field_parser(raw: bytes) -> None:
    expected = outcome(_parse_slowly, raw)

    assert outcome(parse, raw) == expected  # a new layout: split, or field by field
    assert outcome(parse, raw) == expected  # a layout seen: its compiled pattern
    if isinstance(expected, tuple) and expected[0] == "message":
        _, begin_string, fields = expected
        with contextlib.suppress(FixError, ValueError):  # learn it from a plain twin
            parse(encode(begin_string, [(tag, b"x") if tag != 35 else (tag, value)
                                        for tag, value in fields]))  # fmt: skip
        assert outcome(parse, raw) == expected


@st.composite
def mutated_fills(draw: st.DrawFn) -> list[tuple[int, str]]:
    """The partial fill with a few values replaced by random ones, or a field moved."""
    fields = list(PARTIAL_FILL)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(1, len(fields) - 1))
        value = draw(st.one_of(TEXT, NUMBERS, st.sampled_from(["1", "F", "0", "2", "D", "Y"])))
        fields[at] = (fields[at][0], value)
    if draw(st.booleans()):
        at, to = draw(st.integers(1, len(fields) - 1)), draw(st.integers(1, len(fields) - 1))
        fields.insert(to, fields.pop(at))
    return fields


@settings(max_examples=500, deadline=None)
@given(mutated_fills())
def test_validating_by_a_layouts_plan_agrees_with_validating_field_by_field(
    fields: list[tuple[int, str]],
) -> None:
    raw = encode("FIX.4.4", fields)
    planned = FIX44.with_options()
    planned.validate(parse(encode("FIX.4.4", PARTIAL_FILL)))
    try:  # learn this layout's plan from a good message of the same layout, if there is one
        good = [(tag, dict(PARTIAL_FILL)[tag]) for tag, _ in fields]
        planned.validate(parse(encode("FIX.4.4", good)))
    except FixFieldError:
        pass
    unplanned = FIX44.with_options(max_layouts=0)

    assert outcome(planned.validate, parse(raw)) == outcome(unplanned.validate, parse(raw))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1400), st.data())
def test_the_checksum_is_the_byte_sum_modulo_256(data: bytes, draw: st.DataObject) -> None:
    end = draw.draw(st.integers(0, len(data)))

    assert checksum_of(data, end) == sum(data[:end]) % 256


@pytest.mark.parametrize("size", [255, 256, 257, 514, 515, 516, 1024])
def test_the_checksum_is_exact_at_the_edges_of_adler32(size: int) -> None:
    for byte in (0x7F, 0xFF):
        data = bytes([byte]) * size
        assert checksum_of(data, size) == sum(data) % 256
