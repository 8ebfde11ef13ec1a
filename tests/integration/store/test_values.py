"""The value conversions behind every store's writes: the fast paths agree with the rules.

The encoders skip a kind's conversion for a value its ``ready`` test accepts, and SQLite's
times go through a cache; both must give exactly what the plain conversion gives.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integration.store.rows import a_fill, an_input
from keel.adapters.store.tables import FILLS, INPUTS, ColumnKind
from keel.adapters.store.values import (
    MEMORY_IN,
    POSTGRES_IN,
    Converters,
    cached_datetime_text,
    datetime_text,
    make_encoder,
    sqlite_in,
)
from keel.app.errors import StoreError
from keel.domain.enums import Side

STORES: dict[str, Converters] = {
    "memory": MEMORY_IN,
    "sqlite": sqlite_in(),
    "postgres": POSTGRES_IN,
}

zones = st.builds(
    timezone, st.integers(-23 * 60, 23 * 60).map(lambda m: timedelta(minutes=m))
) | st.just(UTC)
aware = st.datetimes(timezones=zones)


class Code(IntEnum):
    ONE = 1


class Legacy(str, Enum):  # noqa: UP042 (its str() is "Legacy.A", not its value)
    A = "A"


VALUES: dict[ColumnKind, st.SearchStrategy[Any]] = {
    "int": st.integers() | st.just(Code.ONE),
    "text": st.text() | st.sampled_from([Side.BUY, Legacy.A]),
    "decimal": st.decimals(allow_nan=False, allow_infinity=False),
    "datetime": aware,
    "date": st.dates(),
    "bool": st.booleans(),
    "bytes": st.binary() | st.binary().map(bytearray),
}


@pytest.mark.parametrize("store", list(STORES))
@pytest.mark.parametrize("kind", list(VALUES))
@given(data=st.data())
def test_a_value_that_passes_the_ready_test_is_what_converting_gives(
    store: str, kind: ColumnKind, data: st.DataObject
) -> None:
    conversion = STORES[store][kind]
    value = data.draw(VALUES[kind])
    if conversion.ready is not None and eval(  # the expression the encoder inlines
        conversion.ready.format(v="value"),
        {"UTC": UTC, "Decimal": Decimal, "date": date, "datetime": datetime},
        {"value": value},
    ):
        converted = conversion.convert(value)
        assert converted == value
        assert type(converted) is type(value)


@given(st.lists(aware, max_size=40), st.integers(1, 8))
def test_cached_times_are_the_plain_conversion_whatever_the_cache_holds(
    times: list[datetime], size: int
) -> None:
    convert = cached_datetime_text(size)
    for value in [*times, *times, *reversed(times)]:
        assert convert(value) == datetime_text(value)


def test_cached_times_refuse_what_the_plain_conversion_refuses() -> None:
    convert = cached_datetime_text()
    now = datetime(2026, 3, 2, 14, 30, 0, 1, tzinfo=UTC)
    assert convert(now) == "2026-03-02T14:30:00.000001+00:00"
    assert convert(now.replace(microsecond=0)) == "2026-03-02T14:30:00.000000+00:00"

    class Stamp(datetime):
        pass

    for bad in (now.replace(tzinfo=None), "2026-03-02T14:30:00+00:00", now.date()):
        with pytest.raises(StoreError):
            convert(bad)
    with pytest.raises(StoreError):
        convert(Stamp(2026, 3, 2, 14, 30, tzinfo=UTC))


@pytest.mark.parametrize("store", list(STORES))
def test_an_encoder_gives_what_each_columns_conversion_gives(store: str) -> None:
    into = STORES[store]
    for table, row in ((INPUTS, an_input(7, raw=b"8=FIX")), (FILLS, a_fill("F-1", late=True))):
        encoded = make_encoder(table, into)(row)
        expected = []
        for column in table.columns:
            value = getattr(row, column.name)
            conversion = into.get(column.kind)
            expected.append(
                value if value is None or conversion is None else conversion.convert(value)
            )
        assert encoded == tuple(expected)


@pytest.mark.parametrize("store", list(STORES))
def test_an_encoder_names_the_column_it_refuses(store: str) -> None:
    encode = make_encoder(INPUTS, STORES[store])
    with pytest.raises(StoreError, match=r"inputs\.ingest_time: .*naive"):
        encode(replace(an_input(1), ingest_time=datetime(2026, 3, 2)))
    with pytest.raises(StoreError, match=r"inputs\.source may not be None"):
        encode(replace(an_input(1), source=None))
