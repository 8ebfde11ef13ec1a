"""Encode domain values to the bytes the log keeps, and decode them back, exactly.

JSON through msgspec: ``Decimal`` as strings (exact), times as RFC 3339 UTC, enums as their
values, NamedTuples as arrays and dataclasses as objects. Each input and event is stored
with its type name and a schema version; ``decode_event`` picks the type by name, so a
future schema change adds an upcaster here and old logs still read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from keel.app.errors import CodecError
from keel.domain.events import EVENT_TYPES, Event
from keel.domain.inputs import ALL_INPUT_TYPES, BaseInput, Input
from keel.domain.order import Order

SCHEMA_VERSION = 1
"""The schema version of events and inputs written by this code."""

_encoder = msgspec.json.Encoder(decimal_format="string", order="deterministic")
_EVENT_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    t.__name__: msgspec.json.Decoder(t) for t in EVENT_TYPES
}
_INPUT_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    t.__name__: msgspec.json.Decoder(t) for t in ALL_INPUT_TYPES
}
_ORDER_DECODER = msgspec.json.Decoder(Order)

Upcaster = Callable[[bytes], bytes]
_UPCASTERS: dict[tuple[str, int], Upcaster] = {}
"""(type name, schema version) -> a function from that version's bytes to the next's."""


def encode(value: Any) -> bytes:
    """Encode any domain value (event, input, order, exception) as JSON bytes."""
    return _encoder.encode(value)


def event_type(event: Event) -> str:
    return type(event).__name__


def decode_event(type_name: str, payload: bytes, schema_version: int = SCHEMA_VERSION) -> Event:
    """Decode a stored event of ``type_name``, upcasting older schema versions first."""
    while schema_version < SCHEMA_VERSION:
        payload = _UPCASTERS[type_name, schema_version](payload)
        schema_version += 1
    decoder = _EVENT_DECODERS.get(type_name)
    if decoder is None:
        raise CodecError(f"unknown event type {type_name!r}")
    try:
        event: Event = decoder.decode(payload)
    except msgspec.DecodeError as e:
        raise CodecError(f"cannot decode {type_name}: {e}") from e
    return event


FAST_DECODE: Mapping[str, Callable[[bytes], Event]] = {
    name: decoder.decode for name, decoder in _EVENT_DECODERS.items()
}
"""Each event type's bare decode function, for payloads of ``SCHEMA_VERSION`` only: the
fast path of replay, which calls it inline for each row instead of ``decode_event``. It
raises one of ``FAST_DECODE_ERRORS`` (``KeyError`` for an unknown type) where
``decode_event`` raises ``CodecError``: on those, call ``decode_event`` to get its error."""

FAST_DECODE_ERRORS: tuple[type[Exception], ...] = (KeyError, msgspec.DecodeError)


def input_type(inp: BaseInput) -> str:
    return type(inp).__name__


def decode_input(type_name: str, payload: bytes) -> Input:
    """Decode a stored domain input of ``type_name``."""
    decoder = _INPUT_DECODERS.get(type_name)
    if decoder is None:
        raise CodecError(f"unknown input type {type_name!r}")
    try:
        inp: Input = decoder.decode(payload)
    except msgspec.DecodeError as e:
        raise CodecError(f"cannot decode {type_name}: {e}") from e
    return inp


def decode_order(snapshot: bytes) -> Order:
    """Decode an order snapshot written by ``encode``."""
    try:
        return _ORDER_DECODER.decode(snapshot)
    except msgspec.DecodeError as e:
        raise CodecError(f"cannot decode an order snapshot: {e}") from e


_ANSWER_DECODER = msgspec.json.Decoder(dict[str, Any])


def decode_answer(payload: bytes) -> dict[str, Any]:
    """Decode an idempotency key's stored answer."""
    try:
        return _ANSWER_DECODER.decode(payload)
    except msgspec.DecodeError as e:
        raise CodecError(f"cannot decode a stored answer: {e}") from e


def to_json_text(value: Any) -> str:
    """Encode a value as JSON text (for evidence and answers shown to people)."""
    return _encoder.encode(value).decode()


def decode_stored(type_name: str, payload: bytes, schema_version: int) -> Event:
    """Decode a stored event the fastest way that is still exact: the bare decoder for
    the current schema version, ``decode_event`` (upcasting, clear errors) otherwise."""
    if schema_version == SCHEMA_VERSION:
        try:
            event: Event = FAST_DECODE[type_name](payload)
        except FAST_DECODE_ERRORS:
            pass  # decode_event raises the error, with its message
        else:
            return event
    return decode_event(type_name, payload, schema_version)
