"""Reading a FIX message: typed accessors, repeating groups, and faults named as 373 codes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from keel.adapters.fix.codec import encode, parse
from keel.adapters.fix.errors import FixFieldError, SessionRejectReason
from keel.adapters.fix.message import FixMessage

PARTY_TAGS = frozenset({448, 447, 452})


def partial_fill(**values: str) -> FixMessage:
    """A FIX 4.4 partial fill with two Parties; ``values`` replaces fields by tag name."""
    fields: dict[str, str] = {
        "35": "8", "34": "42", "49": "VENUE", "52": "20260302-14:30:00.123", "56": "KEEL",
        "37": "V-1", "17": "EX-9", "150": "F", "39": "1", "54": "1", "32": "400",
        "31": "101.25", "151": "600", "14": "400", "6": "101.25", "141": "Y",
    }  # fmt: skip
    fields.update({tag.lstrip("t"): value for tag, value in values.items()})
    body = [(int(tag), value) for tag, value in fields.items()]
    parties = [(453, "2"), (448, "MM-7"), (447, "D"), (452, "1"), (448, "CLR-3"), (447, "D"),
               (452, "4")]  # fmt: skip
    return parse(encode("FIX.4.4", [*body, *parties, (58, "tail")]))


def test_get_returns_the_first_value_and_get_all_every_one() -> None:
    message = partial_fill()

    assert message.get(448) == b"MM-7"
    assert message.get_all(448) == [b"MM-7", b"CLR-3"]
    assert message.get(9999) is None
    assert 448 in message
    assert 9999 not in message


def test_typed_accessors_read_text_ints_exact_decimals_and_booleans() -> None:
    message = partial_fill()

    assert message.msg_type == "8"
    assert message.get_str(37) == "V-1"
    assert message.get_int(34) == 42
    assert message.get_decimal(31) == Decimal("101.25")
    assert isinstance(message.get_decimal(31), Decimal)
    assert message.get_bool(141) is True
    assert message.get_int(9999) is None
    assert message.get_decimal(9999) is None


def test_decimals_keep_their_scale_and_sign() -> None:
    message = partial_fill(t31="-0.50", t6=".5", t14="7.")

    assert str(message.get_decimal(31)) == "-0.50"
    assert message.get_decimal(6) == Decimal("0.5")
    assert message.get_decimal(14) == Decimal(7)


@pytest.mark.parametrize("bad", ["1e3", "1,5", "1.2.3", ".", "-", "+1", " 1", "NaN", "1_0"])
def test_a_malformed_decimal_is_a_373_incorrect_data_format(bad: str) -> None:
    with pytest.raises(FixFieldError) as caught:
        partial_fill(t31=bad).get_decimal(31)

    error = caught.value
    assert error.session_reject_reason == SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE
    assert (error.tag, error.msg_type, error.seq_num) == (31, "8", 42)


@pytest.mark.parametrize("bad", ["x", "1.0", "--1", "+1", "1_000"])
def test_a_malformed_int_is_a_373_incorrect_data_format(bad: str) -> None:
    with pytest.raises(FixFieldError) as caught:
        partial_fill(t151=bad).get_int(151)

    assert caught.value.session_reject_reason == 6


def test_a_negative_int_reads() -> None:
    assert partial_fill(t151="-3").get_int(151) == -3


def test_a_boolean_other_than_y_or_n_is_a_format_fault() -> None:
    with pytest.raises(FixFieldError, match="Y or N"):
        partial_fill(t141="yes").get_bool(141)
    assert partial_fill(t141="N").get_bool(141) is False


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("20260302-14:30:05", datetime(2026, 3, 2, 14, 30, 5, tzinfo=UTC)),
        ("20260302-14:30:05.123", datetime(2026, 3, 2, 14, 30, 5, 123_000, tzinfo=UTC)),
        ("20260302-14:30:05.123456", datetime(2026, 3, 2, 14, 30, 5, 123_456, tzinfo=UTC)),
        ("20260302-14:30:05.123456789", datetime(2026, 3, 2, 14, 30, 5, 123_456, tzinfo=UTC)),
        ("20240229-23:59:59.999", datetime(2024, 2, 29, 23, 59, 59, 999_000, tzinfo=UTC)),
    ],
)
def test_utc_timestamps_read_at_any_precision_nanoseconds_truncated(
    text: str, moment: datetime
) -> None:
    value = partial_fill(t52=text).get_utc(52)

    assert value == moment
    assert value is not None
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    "bad",
    [
        "20260302 14:30:05",  # space for dash
        "20260302-14:30",  # no seconds
        "20260302-14:30:05.12",  # two fraction digits
        "20260302-14:30:05.1234",  # four
        "20260230-14:30:05",  # 30 February
        "20250229-14:30:05",  # not a leap year
        "20260302-24:00:00",
        "20260302-14:60:00",
        "20261302-14:30:05",
        "00000101-00:00:00",
        "2026030X-14:30:05",
    ],
)
def test_a_malformed_utc_timestamp_is_a_format_fault(bad: str) -> None:
    with pytest.raises(FixFieldError) as caught:
        partial_fill(t52=bad).get_utc(52)

    assert caught.value.tag == 52
    assert caught.value.session_reject_reason == 6


def test_dates_read_and_impossible_days_are_format_faults() -> None:
    assert partial_fill(t75="20240229").get_date(75) == date(2024, 2, 29)
    with pytest.raises(FixFieldError):
        partial_fill(t75="20230229").get_date(75)


def test_groups_come_out_in_wire_order_one_list_per_instance() -> None:
    instances = partial_fill().groups(453, 448, PARTY_TAGS)

    assert instances == [
        [(448, b"MM-7"), (447, b"D"), (452, b"1")],
        [(448, b"CLR-3"), (447, b"D"), (452, b"4")],
    ]
    assert partial_fill().groups(78, 79, {79, 80}) == []


def test_a_group_count_that_does_not_match_is_373_16() -> None:
    message = parse(
        encode("FIX.4.4", [(35, "8"), (34, 5), (453, 3), (448, "A"), (452, "1"), (58, "x")])
    )

    with pytest.raises(FixFieldError) as caught:
        message.groups(453, 448, PARTY_TAGS)

    assert caught.value.session_reject_reason == 16
    assert (caught.value.tag, caught.value.seq_num) == (453, 5)


def test_a_group_not_starting_with_its_delimiter_is_373_15() -> None:
    message = parse(encode("FIX.4.4", [(35, "8"), (34, 5), (453, 1), (452, "1"), (448, "A")]))

    with pytest.raises(FixFieldError) as caught:
        message.groups(453, 448, PARTY_TAGS)

    assert caught.value.session_reject_reason == 15


def test_a_message_built_from_pairs_reads_like_a_parsed_one() -> None:
    built = FixMessage("FIX.4.4", [(35, b"0"), (34, b"3"), (112, b"T")])
    parsed = parse(encode("FIX.4.4", [(35, "0"), (34, 3), (112, "T")]))

    assert built == parsed
    assert built.get_int(34) == 3
    assert built.msg_type == "0"
    assert built.raw is None
    assert list(built) == list(parsed)
    assert len(built) == len(parsed) == 3


def test_fields_become_the_truth_once_read_and_may_be_replaced() -> None:
    message = partial_fill()

    fields = message.fields
    fields.append((5001, b"late"))

    assert message.get(5001) == b"late"
    message.fields = [(35, b"0")]
    assert message.get(34) is None
    assert message.columns() == ((35,), [b"0"])


def test_a_message_without_msg_type_says_so_with_373_1() -> None:
    with pytest.raises(FixFieldError) as caught:
        _ = FixMessage("FIX.4.4", [(34, b"9")]).msg_type

    assert caught.value.session_reject_reason == 1
    assert caught.value.seq_num == 9


def test_the_repr_shows_the_fields_with_bars() -> None:
    assert repr(FixMessage("FIX.4.4", [(35, b"0"), (34, b"1")])) == (
        "FixMessage('FIX.4.4', '35=0|34=1')"
    )
