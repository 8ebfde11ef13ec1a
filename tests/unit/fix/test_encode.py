"""Encoding a FIX message: exact values, BodyLength and CheckSum computed, bad values refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest

from keel.adapters.fix.codec import encode, format_utc, parse

SOH = b"\x01"


def body_of(raw: bytes) -> bytes:
    """The fields after BodyLength and before CheckSum, '|' for SOH."""
    return raw.split(SOH, 2)[2][:-8].replace(SOH, b"|")


def test_body_length_counts_from_msg_type_to_the_soh_before_the_checksum() -> None:
    raw = encode("FIX.4.4", [(35, "0"), (34, 1)])

    assert raw == b"8=FIX.4.4\x019=10\x0135=0\x0134=1\x0110=%03d\x01" % (
        sum(b"8=FIX.4.4\x019=10\x0135=0\x0134=1\x01") % 256
    )


def test_the_checksum_is_three_digits_with_leading_zeros() -> None:
    for seq_num in range(1, 300):
        raw = encode("FIX.4.2", [(35, "0"), (34, seq_num)])
        assert raw[-7:-4] == b"10="
        assert int(raw[-4:-1]) == sum(raw[:-7]) % 256


def test_money_is_written_exactly_in_plain_notation_keeping_its_scale() -> None:
    raw = encode(
        "FIX.4.4",
        [(35, "8"), (44, Decimal("10.50")), (38, Decimal("1E+3")), (31, Decimal("-0.000125")),
         (6, Decimal("1.23E-7")), (14, Decimal(0))],
    )  # fmt: skip

    assert body_of(raw) == b"35=8|44=10.50|38=1000|31=-0.000125|6=0.000000123|14=0"


def test_a_float_is_refused_because_money_is_exact() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        encode("FIX.4.4", [(35, "D"), (44, 10.5)])  # type: ignore[list-item]


def test_an_infinite_decimal_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        encode("FIX.4.4", [(35, "D"), (44, Decimal("Infinity"))])


def test_times_are_utc_with_milliseconds_and_dates_are_yyyymmdd() -> None:
    paris = timezone(timedelta(hours=1))
    raw = encode(
        "FIX.4.4",
        [(35, "D"), (60, datetime(2026, 3, 2, 15, 30, 0, 123_999, tzinfo=paris)),
         (432, date(2026, 3, 20)), (141, True), (43, False), (34, 12)],
    )  # fmt: skip

    assert body_of(raw) == b"35=D|60=20260302-14:30:00.123|432=20260320|141=Y|43=N|34=12"


def test_utc_times_in_one_second_and_the_next_each_carry_their_own_digits() -> None:
    # The encoder reuses the text of the second it formatted last: the next second, a
    # second earlier, or the same second a day later must not reuse it.
    moments = [
        datetime(2026, 3, 2, 14, 30, 0, 999_999, tzinfo=UTC),
        datetime(2026, 3, 2, 14, 30, 1, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 14, 30, 1, 1_000, tzinfo=UTC),
        datetime(2026, 3, 2, 14, 30, 0, 5_000, tzinfo=UTC),
        datetime(2026, 3, 3, 14, 30, 0, 5_000, tzinfo=UTC),
    ]
    texts = [body_of(encode("FIX.4.4", [(35, "0"), (52, m)])) for m in moments]
    assert texts == [
        b"35=0|52=20260302-14:30:00.999", b"35=0|52=20260302-14:30:01.000",
        b"35=0|52=20260302-14:30:01.001", b"35=0|52=20260302-14:30:00.005",
        b"35=0|52=20260303-14:30:00.005",
    ]  # fmt: skip


def test_str_subclasses_and_large_tags_encode_as_plain_values() -> None:
    class Side(StrEnum):
        BUY = "1"

    raw = encode("FIX.4.4", [(35, "D"), (54, Side.BUY), (5001, "x"), (38, 7)])
    assert body_of(raw) == b"35=D|54=1|5001=x|38=7"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        encode("FIX.4.4", [(35, "D"), (60, datetime(2026, 3, 2, 14, 30))])


def test_text_is_latin_1_and_bytes_pass_through() -> None:
    raw = encode("FIX.4.4", [(35, "j"), (58, "Société générale"), (372, b"D")])

    assert parse(raw).get_str(58) == "Société générale"
    assert parse(raw).get(372) == b"D"


def test_the_fields_must_start_with_msg_type() -> None:
    with pytest.raises(ValueError, match="MsgType"):
        encode("FIX.4.4", [(34, 1), (35, "0")])
    with pytest.raises(ValueError, match="MsgType"):
        encode("FIX.4.4", [])


def test_an_empty_value_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        encode("FIX.4.4", [(35, "0"), (58, "")])


def test_soh_is_refused_outside_a_data_field_and_allowed_inside_one() -> None:
    with pytest.raises(ValueError, match="SOH"):
        encode("FIX.4.4", [(35, "0"), (58, "a\x01b")])

    raw = encode("FIX.4.4", [(35, "A"), (34, 1), (95, 3), (96, b"a\x01b"), (98, 0)])
    assert parse(raw).get(96) == b"a\x01b"


def test_an_unknown_value_type_is_refused() -> None:
    with pytest.raises(TypeError, match="list"):
        encode("FIX.4.4", [(35, "0"), (58, ["x"])])  # type: ignore[list-item]


def test_format_utc_writes_seconds_milliseconds_or_microseconds_truncating() -> None:
    moment = datetime(2026, 3, 2, 14, 30, 5, 999_999, tzinfo=UTC)

    assert format_utc(moment, 0) == "20260302-14:30:05"
    assert format_utc(moment) == "20260302-14:30:05.999"
    assert format_utc(moment, 6) == "20260302-14:30:05.999999"
    with pytest.raises(ValueError, match="precision"):
        format_utc(moment, 9)
    with pytest.raises(ValueError, match="naive"):
        format_utc(datetime(2026, 3, 2))


def test_a_parsed_message_encodes_back_to_the_same_bytes() -> None:
    raw = encode(
        "FIX.4.2",
        [(35, "8"), (34, 9), (49, "B"), (52, "20260302-14:30:00.000"), (56, "K"), (6, "0"),
         (58, "x=y")],
    )  # fmt: skip
    message = parse(raw)

    assert encode(message.begin_string, message.fields) == raw
