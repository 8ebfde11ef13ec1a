"""Validating against the data dictionary: one named test per rule and its 373 code.

Every faulty message is checked three ways, which must agree: parsed and validated by a
dictionary that has never seen its layout (field by field), parsed and validated by one
that already holds a plan for the good message's layout, and built from (tag, value) pairs
without parsing.
"""

from __future__ import annotations

import pytest

from keel.adapters.fix.codec import encode, parse
from keel.adapters.fix.definitions import FieldType, define, group, message, req, section
from keel.adapters.fix.dictionary import FIX42, FIX44, DataDictionary
from keel.adapters.fix.errors import FixFieldError
from keel.adapters.fix.errors import SessionRejectReason as R
from keel.adapters.fix.message import FixMessage

Fields = list[tuple[int, str]]
PARTIAL_FILL: Fields = [
    (35, "8"), (34, "42"), (49, "VENUE"), (52, "20260302-14:30:00.123"), (56, "KEEL"),
    (1, "FUND-A"), (6, "101.25"), (11, "ORD-1"), (14, "400"), (17, "EX-9"), (31, "101.25"),
    (32, "400"), (37, "V-1"), (38, "1000"), (39, "1"), (40, "2"), (44, "101.50"), (54, "1"),
    (55, "ACME"), (59, "0"), (60, "20260302-14:30:00.120"), (75, "20260302"), (150, "F"),
    (151, "600"), (453, "1"), (448, "MM-7"), (447, "D"), (452, "1"),
]  # fmt: skip


def replaced(fields: Fields, tag: int, value: str) -> Fields:
    return [(t, value if t == tag else v) for t, v in fields]


def without(fields: Fields, tag: int) -> Fields:
    return [(t, v) for t, v in fields if t != tag]


def inserted(fields: Fields, at: int, *extra: tuple[int, str]) -> Fields:
    return [*fields[:at], *extra, *fields[at:]]


def rejection(fields: Fields, dictionary: DataDictionary = FIX44) -> FixFieldError:
    """Validate three ways, check they agree, and return the error."""
    version = dictionary.begin_string
    fresh = dictionary.with_options()
    warm = dictionary.with_options()
    warm.validate(parse(encode(version, PARTIAL_FILL if version == "FIX.4.4" else GOOD_42)))
    built = FixMessage(version, [(t, v.encode("latin-1")) for t, v in fields])
    errors = []
    for validator, msg in (
        (fresh, _parsed(version, fields)),
        (warm, _parsed(version, fields)),
        (fresh, built),
    ):
        if msg is None:
            continue
        with pytest.raises(FixFieldError) as caught:
            validator.validate(msg)
        errors.append(caught.value)
    first = errors[0]
    for other in errors[1:]:
        assert (other.tag, other.session_reject_reason) == (first.tag, first.session_reject_reason)
    return first


def _parsed(version: str, fields: Fields) -> FixMessage | None:
    if any(not v or "\x01" in v for _, v in fields):
        return None  # parse itself refuses these; only the built message reaches validate
    return parse(encode(version, fields))


GOOD_42: Fields = [*replaced(PARTIAL_FILL[:24], 150, "1"), (20, "0")]
"""The same partial fill in FIX 4.2: ExecType 1, ExecTransType 0, no Parties."""


def test_the_partial_fills_of_both_versions_validate() -> None:
    FIX44.validate(parse(encode("FIX.4.4", PARTIAL_FILL)))
    FIX42.validate(parse(encode("FIX.4.2", GOOD_42)))
    FIX44.validate(FixMessage("FIX.4.4", [(t, v.encode()) for t, v in PARTIAL_FILL]))


def test_an_unsupported_msg_type_is_373_11() -> None:
    error = rejection(replaced(PARTIAL_FILL, 35, "Z"))

    assert (error.session_reject_reason, error.tag) == (R.INVALID_MSGTYPE, 35)
    assert error.msg_type == "Z"
    assert error.seq_num == 42


def test_a_msg_type_fix_does_not_define_is_373_11_too() -> None:
    assert rejection(replaced(PARTIAL_FILL, 35, "ZZ")).session_reject_reason == 11
    assert "ZZ" not in (FIX44.field(35).values or ())
    assert "Z" in (FIX44.field(35).values or ())


def test_an_undefined_tag_is_373_3() -> None:
    error = rejection(inserted(PARTIAL_FILL, 10, (1234, "x")))

    assert (error.session_reject_reason, error.tag) == (R.UNDEFINED_TAG, 1234)
    assert (error.msg_type, error.seq_num) == ("8", 42)


def test_a_user_defined_tag_is_accepted_unless_the_dictionary_is_strict() -> None:
    fields = inserted(PARTIAL_FILL, 10, (5001, "desk note"))

    FIX44.validate(parse(encode("FIX.4.4", fields)))
    with pytest.raises(FixFieldError) as caught:
        FIX44.with_options(allow_user_defined=False).validate(parse(encode("FIX.4.4", fields)))
    assert (caught.value.session_reject_reason, caught.value.tag) == (3, 5001)


def test_a_tag_defined_but_not_in_this_message_type_is_373_2() -> None:
    error = rejection(inserted(PARTIAL_FILL, 10, (108, "30")))

    assert (error.session_reject_reason, error.tag) == (
        R.TAG_NOT_DEFINED_FOR_THIS_MESSAGE_TYPE,
        108,
    )


def test_a_group_member_outside_its_group_is_373_2() -> None:
    error = rejection(inserted(PARTIAL_FILL, 10, (448, "LOOSE")))

    assert (error.session_reject_reason, error.tag) == (2, 448)


@pytest.mark.parametrize("tag", [49, 56, 34, 52])
def test_a_required_header_tag_missing_is_373_1(tag: int) -> None:
    error = rejection(without(PARTIAL_FILL, tag))

    assert (error.session_reject_reason, error.tag) == (R.REQUIRED_TAG_MISSING, tag)


@pytest.mark.parametrize("tag", [37, 17, 150, 39, 54, 151, 14, 6])
def test_a_required_body_tag_missing_is_373_1(tag: int) -> None:
    error = rejection(without(PARTIAL_FILL, tag))

    assert (error.session_reject_reason, error.tag) == (1, tag)


def test_a_required_tag_missing_in_a_group_instance_is_373_1() -> None:
    strings = [
        define(t, f"Field{t}", FieldType.STRING) for t in (8, 9, 10, 35, 49, 56, 52, 448, 447)
    ]
    strict = DataDictionary(
        "FIX.4.4",
        [
            *strings,
            define(34, "MsgSeqNum", FieldType.SEQNUM),
            define(453, "N", FieldType.NUMINGROUP),
        ],
        section(req(8), req(9), req(35), req(49), req(56), req(34), req(52)),
        section(req(10)),
        [message("U1", "PartiesOnly", group(453, 448, req(447)))],
    )
    head = [(35, b"U1"), (34, b"1"), (49, b"A"), (52, b"20260302-14:30:00"), (56, b"B")]
    strict.validate(FixMessage("FIX.4.4", [*head, (453, b"1"), (448, b"X"), (447, b"D")]))

    lacking = FixMessage("FIX.4.4", [*head, (453, b"2"), (448, b"X"), (447, b"D"), (448, b"Y")])
    with pytest.raises(FixFieldError) as caught:
        strict.validate(lacking)

    assert (caught.value.session_reject_reason, caught.value.tag) == (R.REQUIRED_TAG_MISSING, 447)


def test_an_empty_value_is_373_4() -> None:
    error = rejection(replaced(PARTIAL_FILL, 1, ""))

    assert (error.session_reject_reason, error.tag) == (R.TAG_SPECIFIED_WITHOUT_A_VALUE, 1)


@pytest.mark.parametrize(
    ("tag", "value", "kind"),
    [
        (34, "4x", "SEQNUM"),
        (34, "-1", "SEQNUM"),
        (31, "1.2.3", "PRICE"),
        (38, "1e3", "QTY"),
        (54, "11", "CHAR"),
        (60, "20260302-14:30:00.12", "UTCTIMESTAMP"),
        (52, "20260231-14:30:00", "UTCTIMESTAMP"),
        (75, "20230229", "LOCALMKTDATE"),
        (75, "2026-03-02", "LOCALMKTDATE"),
        (453, "one", "NUMINGROUP"),
        (452, "x", "INT"),
    ],
)
def test_a_value_of_the_wrong_format_is_373_6(tag: int, value: str, kind: str) -> None:
    error = rejection(replaced(PARTIAL_FILL, tag, value))

    assert (error.session_reject_reason, error.tag) == (R.INCORRECT_DATA_FORMAT_FOR_VALUE, tag)
    assert FIX44.field(tag).type == kind  # type: ignore[union-attr]


def test_a_boolean_other_than_y_or_n_is_373_6() -> None:
    error = rejection(inserted(PARTIAL_FILL, 2, (43, "T")))

    assert (error.session_reject_reason, error.tag) == (6, 43)


def test_an_int_that_is_not_a_number_is_373_6() -> None:
    reject = [(35, "3"), (34, "9"), (49, "V"), (52, "20260302-14:30:00"), (56, "K"), (45, "7"),
              (371, "1.5")]  # fmt: skip

    error = rejection(reject)

    assert (error.session_reject_reason, error.tag) == (6, 371)


@pytest.mark.parametrize(("tag", "value"), [(39, "Z"), (150, "1"), (40, "N"), (452, "23")])
def test_a_value_outside_the_enumeration_is_373_5(tag: int, value: str) -> None:
    error = rejection(replaced(PARTIAL_FILL, tag, value))

    assert (error.session_reject_reason, error.tag) == (R.VALUE_IS_INCORRECT, tag)


def test_each_value_of_a_multiple_value_string_is_checked() -> None:
    FIX44.validate(parse(encode("FIX.4.4", inserted(PARTIAL_FILL, 10, (18, "1 G")))))

    error = rejection(inserted(PARTIAL_FILL, 10, (18, "1 T")))

    assert (error.session_reject_reason, error.tag) == (5, 18)


def test_a_tag_repeated_outside_a_group_is_373_13() -> None:
    error = rejection(inserted(PARTIAL_FILL, 20, (55, "ACME")))

    assert (error.session_reject_reason, error.tag) == (R.TAG_APPEARS_MORE_THAN_ONCE, 55)


def test_a_tag_repeated_inside_one_group_instance_is_373_13() -> None:
    error = rejection([*PARTIAL_FILL, (452, "4")])

    assert (error.session_reject_reason, error.tag) == (13, 452)


def test_a_header_field_after_a_body_field_is_373_14() -> None:
    fields = without(PARTIAL_FILL, 49)
    error = rejection(inserted(fields, 8, (49, "VENUE")))

    assert (error.session_reject_reason, error.tag) == (R.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, 49)


def test_a_body_field_after_the_trailer_is_373_14() -> None:
    fields = without(PARTIAL_FILL, 58)
    built = FixMessage("FIX.4.4", [(t, v.encode()) for t, v in fields])
    built.fields = [*built.fields, (93, b"3"), (89, b"sig"), (58, b"late")]

    with pytest.raises(FixFieldError) as caught:
        FIX44.validate(built)

    assert (caught.value.session_reject_reason, caught.value.tag) == (14, 58)


def test_msg_type_not_first_in_a_built_message_is_373_14() -> None:
    built = FixMessage("FIX.4.4", [(34, b"1"), (35, b"0")])

    with pytest.raises(FixFieldError) as caught:
        FIX44.validate(built)

    assert (caught.value.session_reject_reason, caught.value.tag) == (14, 35)


def test_a_message_without_msg_type_is_373_1() -> None:
    with pytest.raises(FixFieldError) as caught:
        FIX44.validate(FixMessage("FIX.4.4", [(34, b"1")]))

    assert (caught.value.session_reject_reason, caught.value.tag) == (1, 35)


def test_a_num_in_group_count_that_does_not_match_is_373_16() -> None:
    error = rejection(replaced(PARTIAL_FILL, 453, "2"))

    assert (error.session_reject_reason, error.tag) == (
        R.INCORRECT_NUMINGROUP_COUNT_FOR_REPEATING_GROUP,
        453,
    )


def test_a_count_of_zero_with_no_instances_is_fine_but_with_one_is_373_16() -> None:
    FIX44.validate(parse(encode("FIX.4.4", [*PARTIAL_FILL[:24], (453, "0")])))

    assert rejection(replaced(PARTIAL_FILL, 453, "0")).session_reject_reason == 16


def test_a_group_instance_not_starting_with_its_delimiter_is_373_15() -> None:
    fields = [*PARTIAL_FILL[:25], (447, "D"), (448, "MM-7"), (452, "1")]

    error = rejection(fields)

    assert (error.session_reject_reason, error.tag) == (R.REPEATING_GROUP_FIELDS_OUT_OF_ORDER, 447)


def test_soh_inside_a_value_is_373_17_in_fix44_and_6_in_fix42() -> None:
    bad_44 = FixMessage(
        "FIX.4.4", [(t, v.encode()) for t, v in replaced(PARTIAL_FILL, 1, "A\x01B")]
    )
    bad_42 = FixMessage("FIX.4.2", [(t, v.encode()) for t, v in replaced(GOOD_42, 1, "A\x01B")])

    with pytest.raises(FixFieldError) as in_44:
        FIX44.validate(bad_44)
    with pytest.raises(FixFieldError) as in_42:
        FIX42.validate(bad_42)

    assert (in_44.value.session_reject_reason, in_44.value.tag) == (17, 1)
    assert (in_42.value.session_reject_reason, in_42.value.tag) == (6, 1)


def test_a_begin_string_of_another_version_is_a_value_fault_on_tag_8() -> None:
    message_42 = parse(encode("FIX.4.2", GOOD_42))

    with pytest.raises(FixFieldError) as caught:
        FIX44.validate(message_42)

    assert (caught.value.session_reject_reason, caught.value.tag) == (5, 8)


def test_data_fields_validate_when_their_length_matches() -> None:
    logon = [(35, "A"), (34, "1"), (49, "K"), (52, "20260302-14:30:00"), (56, "B"), (98, "0"),
             (108, "30"), (95, "5"), (96, "a\x01b=c")]  # fmt: skip
    raw = encode("FIX.4.4", [(t, v.encode()) for t, v in logon])

    FIX44.validate(parse(raw))
    FIX44.validate(parse(raw))

    built = FixMessage("FIX.4.4", [(t, v.encode()) for t, v in replaced(logon, 95, "6")])
    with pytest.raises(FixFieldError) as caught:
        FIX44.validate(built)
    assert caught.value.tag == 96


def test_values_with_equals_signs_validate() -> None:
    FIX44.validate(parse(encode("FIX.4.4", inserted(PARTIAL_FILL, 10, (58, "a=b")))))


def test_plans_are_bounded_per_message_type() -> None:
    small = FIX44.with_options(max_layouts=2)
    for extra in ((58, "x"), (29, "1"), (30, "XNAS"), (21, "1")):
        small.validate(parse(encode("FIX.4.4", inserted(PARTIAL_FILL, 10, extra))))

    assert len(small._rules[b"8"].plans) == 2  # the first two layouts; the rest go slowly
    small.validate(parse(encode("FIX.4.4", inserted(PARTIAL_FILL, 10, (21, "1")))))
