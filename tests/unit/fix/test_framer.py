"""Cutting a TCP byte stream into whole FIX messages, whatever the chunks and the junk."""

from __future__ import annotations

from keel.adapters.fix.codec import Framer, encode, parse
from keel.adapters.fix.errors import GarbledMessageError


def heartbeat(seq_num: int, text: str = "") -> bytes:
    fields = [(35, "0"), (34, seq_num), (49, "BROKER"), (52, "20260302-14:30:00.000"),
              (56, "KEEL")]  # fmt: skip
    if text:
        fields.append((58, text))
    return encode("FIX.4.4", fields)


def with_body_length(raw: bytes, change: int) -> bytes:
    """The same bytes with BodyLength off by ``change``."""
    head, rest = raw.split(b"\x019=", 1)
    length, tail = rest.split(b"\x01", 1)
    return head + b"\x019=%d\x01" % (int(length) + change) + tail


def messages(found: list[bytes | GarbledMessageError]) -> list[bytes]:
    return [item for item in found if isinstance(item, bytes)]


def garbled(found: list[bytes | GarbledMessageError]) -> list[GarbledMessageError]:
    return [item for item in found if isinstance(item, GarbledMessageError)]


def test_two_messages_in_one_feed_come_out_in_order() -> None:
    first, second = heartbeat(1), heartbeat(2)

    assert Framer().feed(first + second) == [first, second]


def test_a_message_split_across_many_feeds_comes_out_once_whole() -> None:
    raw = heartbeat(3, "a=b")
    framer = Framer()

    found = [item for byte in range(len(raw)) for item in framer.feed(raw[byte : byte + 1])]

    assert found == [raw]
    assert parse(raw).get(58) == b"a=b"


def test_chunks_that_cut_messages_anywhere_give_every_message_once() -> None:
    stream = b"".join(heartbeat(n, "x" * n) for n in range(1, 30))
    framer = Framer()

    found: list[bytes | GarbledMessageError] = []
    for size in (1, 2, 3, 5, 7, 11, 13, 17, 64, 1000):
        framer = Framer()
        found = []
        for start in range(0, len(stream), size):
            found += framer.feed(stream[start : start + size])
        assert b"".join(messages(found)) == stream
        assert not garbled(found)


def test_junk_between_messages_is_reported_as_garbled_and_the_next_message_still_arrives() -> None:
    first, second = heartbeat(1), heartbeat(2)

    found = Framer().feed(first + b"line noise\r\n" + second)

    assert messages(found) == [first, second]
    assert [error.raw for error in garbled(found)] == [b"line noise\r\n"]


def test_junk_before_the_first_message_is_reported() -> None:
    found = Framer().feed(b"\x00\x00" + heartbeat(1))

    assert garbled(found)[0].raw == b"\x00\x00"
    assert messages(found) == [heartbeat(1)]


def test_the_start_of_a_begin_string_is_kept_until_the_rest_arrives() -> None:
    raw = heartbeat(1)
    framer = Framer()

    first = framer.feed(b"junk" + raw[:3])
    rest = framer.feed(raw[3:])

    assert [error.raw for error in garbled(first)] == [b"junk"]
    assert messages(first) == []
    assert rest == [raw]


def test_a_body_length_too_short_makes_one_garbled_message_not_two_lost() -> None:
    bad = with_body_length(heartbeat(1), -6)
    good = heartbeat(2)

    found = Framer().feed(bad + good)

    assert [error.raw for error in garbled(found)] == [bad]
    assert messages(found) == [good]


def test_a_body_length_too_long_does_not_swallow_the_next_message() -> None:
    bad = with_body_length(heartbeat(1), +40)
    good = heartbeat(2)

    found = Framer().feed(bad + good)

    assert [error.raw for error in garbled(found)] == [bad]
    assert messages(found) == [good]


def test_body_length_not_second_is_dropped_up_to_the_next_message() -> None:
    bad = b"8=FIX.4.4\x0135=0\x0110=000\x01"
    good = heartbeat(2)

    found = Framer().feed(bad + good)

    assert [error.raw for error in garbled(found)] == [bad]
    assert messages(found) == [good]


def test_a_message_longer_than_the_limit_is_garbled_and_the_buffer_stays_bounded() -> None:
    big = heartbeat(1, "x" * 5000)
    framer = Framer(max_message_size=1000)

    found = framer.feed(big + heartbeat(2))

    assert garbled(found)
    assert messages(found) == [heartbeat(2)]


def test_a_declared_length_over_the_limit_is_garbled_before_the_bytes_arrive() -> None:
    framer = Framer(max_message_size=1000)

    found = framer.feed(b"8=FIX.4.4\x019=999999\x0135=0\x01")
    found += framer.feed(b"x" * 2000 + heartbeat(3))

    assert garbled(found)
    assert messages(found) == [heartbeat(3)]


def test_a_bad_checksum_frames_and_is_left_to_parse() -> None:
    raw = heartbeat(1)
    bad = raw[:-4] + b"000\x01" if not raw.endswith(b"000\x01") else raw[:-4] + b"001\x01"

    assert Framer().feed(bad) == [bad]
