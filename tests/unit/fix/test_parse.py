"""Parsing one FIX message: what frames, what is garbled, and which field faults parse names.

A garbled message (BeginString, BodyLength or CheckSum broken) is ignored by a session
without consuming its sequence number, so parse raises ``GarbledMessageError`` carrying the
bytes; a message that frames but has an unreadable field raises ``FixFieldError`` with the
373 code, so the session can Reject it.
"""

from __future__ import annotations

import pytest

from keel.adapters.fix.codec import checksum_of, encode, parse
from keel.adapters.fix.errors import FixFieldError, GarbledMessageError, SessionRejectReason

SOH = b"\x01"
HEARTBEAT = [(35, "0"), (34, 7), (49, "BROKER"), (52, "20260302-14:30:00.000"), (56, "KEEL")]


def wire(text: str) -> bytes:
    """Write a message with '|' for SOH, as FIX people do on paper."""
    return text.replace("|", "\x01").encode("latin-1")


def framed(body: str, begin_string: str = "FIX.4.4") -> bytes:
    """Frame a body (from 35 on, '|' for SOH) with a correct BodyLength and CheckSum."""
    payload = wire(body)
    head = b"8=%b\x019=%d\x01%b" % (begin_string.encode(), len(payload), payload)
    return head + b"10=%03d\x01" % checksum_of(head, len(head))


def test_a_heartbeat_parses_into_its_fields_without_8_9_and_10() -> None:
    raw = encode("FIX.4.4", HEARTBEAT)

    message = parse(raw)

    assert message.begin_string == "FIX.4.4"
    assert message.msg_type == "0"
    assert message.fields == [
        (35, b"0"), (34, b"7"), (49, b"BROKER"), (52, b"20260302-14:30:00.000"), (56, b"KEEL")
    ]  # fmt: skip
    assert message.raw is raw


def test_a_value_may_contain_equals_signs() -> None:
    message = parse(framed("35=0|34=1|58=a=b==c|"))

    assert message.get(58) == b"a=b==c"


def test_a_data_field_is_read_by_its_length_even_with_soh_and_equals_inside() -> None:
    message = parse(framed("35=A|34=1|95=7|96=x\x01y=z\x01w|98=0|108=30|"))

    assert message.get(96) == b"x\x01y=z\x01w"
    assert message.get(98) == b"0"


def test_a_tag_above_9999_parses() -> None:
    assert parse(framed("35=0|34=1|20001=custom|")).get(20001) == b"custom"


def test_a_bad_checksum_is_garbled() -> None:
    raw = encode("FIX.4.4", HEARTBEAT)
    bad = raw[:-4] + b"%03d\x01" % ((int(raw[-4:-1]) + 1) % 256)

    with pytest.raises(GarbledMessageError, match="CheckSum") as caught:
        parse(bad)
    assert caught.value.raw == bad


def test_a_wrong_body_length_is_garbled() -> None:
    raw = encode("FIX.4.4", HEARTBEAT).replace(b"\x019=53\x01", b"\x019=54\x01")

    with pytest.raises(GarbledMessageError, match="BodyLength 54 does not match the body's 53"):
        parse(raw)


def test_a_body_length_that_is_not_a_number_is_garbled() -> None:
    with pytest.raises(GarbledMessageError, match="not a number"):
        parse(wire("8=FIX.4.4|9=x5|35=0|10=000|"))


def test_a_missing_checksum_is_garbled() -> None:
    raw = encode("FIX.4.4", HEARTBEAT)

    with pytest.raises(GarbledMessageError, match="CheckSum \\(10\\) is missing"):
        parse(raw[:-7])


def test_a_checksum_that_is_not_last_is_garbled() -> None:
    raw = encode("FIX.4.4", HEARTBEAT) + b"58=late\x01"

    with pytest.raises(GarbledMessageError, match="not the last field"):
        parse(raw)


def test_a_checksum_of_two_digits_is_garbled() -> None:
    raw = encode("FIX.4.4", HEARTBEAT)

    with pytest.raises(GarbledMessageError):
        parse(raw[:-5] + raw[-4:])


def test_a_message_not_starting_with_begin_string_is_garbled() -> None:
    raw = encode("FIX.4.4", HEARTBEAT)

    with pytest.raises(GarbledMessageError, match="BeginString \\(8\\) is not the first"):
        parse(b"9=1\x01" + raw)


def test_an_empty_begin_string_is_garbled() -> None:
    with pytest.raises(GarbledMessageError, match="BeginString \\(8\\) is empty"):
        parse(wire("8=|9=5|35=0|10=000|"))


def test_body_length_not_second_is_garbled() -> None:
    payload = wire("35=0|34=1|9=10|")
    raw = b"8=FIX.4.4\x0134=1\x01" + payload
    raw += b"10=%03d\x01" % checksum_of(raw, len(raw))

    with pytest.raises(GarbledMessageError, match="BodyLength \\(9\\) is not the second"):
        parse(raw)


def test_msg_type_not_third_is_garbled() -> None:
    with pytest.raises(GarbledMessageError, match="MsgType \\(35\\) is not the third"):
        parse(framed("34=1|35=0|"))


def test_bytes_without_any_soh_are_garbled() -> None:
    with pytest.raises(GarbledMessageError, match="no SOH"):
        parse(b"8=FIX.4.4 9=5 35=0 10=000")


def test_a_field_without_equals_is_garbled() -> None:
    with pytest.raises(GarbledMessageError, match="no '='"):
        parse(framed("35=0|34=1|junk|"))


def test_a_tag_that_is_not_a_number_is_373_invalid_tag_number() -> None:
    with pytest.raises(FixFieldError) as caught:
        parse(framed("35=D|34=12|5x=1|"))

    error = caught.value
    assert error.session_reject_reason == SessionRejectReason.INVALID_TAG_NUMBER == 0
    assert error.tag is None
    assert (error.msg_type, error.seq_num) == ("D", 12)


def test_a_tag_with_a_leading_zero_is_373_invalid_tag_number() -> None:
    with pytest.raises(FixFieldError) as caught:
        parse(framed("35=0|034=1|"))

    assert caught.value.session_reject_reason == SessionRejectReason.INVALID_TAG_NUMBER


def test_an_empty_value_is_373_tag_specified_without_a_value() -> None:
    with pytest.raises(FixFieldError) as caught:
        parse(framed("35=8|34=3|58=|"))

    error = caught.value
    assert error.session_reject_reason == SessionRejectReason.TAG_SPECIFIED_WITHOUT_A_VALUE == 4
    assert (error.tag, error.msg_type, error.seq_num) == (58, "8", 3)


def test_data_shorter_than_its_length_is_a_format_fault() -> None:
    with pytest.raises(FixFieldError) as caught:
        parse(framed("35=A|34=1|95=9|96=abc|98=0|"))

    assert caught.value.tag == 96
    assert caught.value.session_reject_reason == SessionRejectReason.INCORRECT_DATA_FORMAT_FOR_VALUE


def test_a_data_length_that_is_not_a_number_is_a_format_fault() -> None:
    with pytest.raises(FixFieldError) as caught:
        parse(framed("35=A|34=1|95=x|96=abc|"))

    assert caught.value.tag == 95


def test_the_same_layout_parses_the_same_every_time() -> None:
    first = parse(encode("FIX.4.4", HEARTBEAT))
    again = parse(encode("FIX.4.4", [*HEARTBEAT[:1], (34, 8), *HEARTBEAT[2:]]))

    assert first.columns()[0] is again.columns()[0]  # one tags tuple per layout
    assert again.get(34) == b"8"


def test_a_layout_seen_before_parses_by_its_pattern_to_the_same_message() -> None:
    first = [(35, "8"), (34, 1), (49, "V"), (52, "20260302-14:30:00.000"), (56, "K"),
             (58, "plain"), (31, "10.5")]  # fmt: skip
    parse(encode("FIX.4.4", first))
    again = encode("FIX.4.4", [*first[:5], (58, "a=b"), (31, "10.25")])

    message = parse(again)

    assert message.get(58) == b"a=b"
    assert message.get(31) == b"10.25"
    assert message.fields[0] == (35, b"8")


def test_a_layout_seen_before_still_refuses_a_bad_checksum_and_body_length() -> None:
    raw = encode("FIX.4.4", HEARTBEAT)
    parse(raw)

    with pytest.raises(GarbledMessageError, match="CheckSum"):
        parse(raw[:-4] + b"%03d\x01" % ((int(raw[-4:-1]) + 1) % 256))
    with pytest.raises(GarbledMessageError, match="BodyLength 54"):
        parse(resummed(raw.replace(b"\x019=53\x01", b"\x019=54\x01")))


def test_a_body_length_with_a_leading_zero_is_still_read() -> None:
    raw = encode("FIX.4.4", HEARTBEAT)
    parse(raw)

    assert parse(resummed(raw.replace(b"\x019=53\x01", b"\x019=053\x01"))).get(34) == b"7"


def resummed(raw: bytes) -> bytes:
    """The same message with its CheckSum made right again."""
    head = raw[:-7]
    return head + b"10=%03d\x01" % checksum_of(head, len(head))
