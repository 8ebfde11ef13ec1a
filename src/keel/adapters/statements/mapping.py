"""How one broker's statement files map onto executions: versioned, because formats change.

A ``StatementMapping`` names the header of the column holding each field, the date format,
the delimiter and the broker's side codes. Each version is valid from a trade date;
``BrokerMappings`` holds a broker's versions and picks the one in force on a date. The
configuration gives them as tables; ``mapping_from_dict`` reads one, naming the key at
fault in every error::

    [[recon.statements]]
    broker = "BROKERX"
    version = 2
    valid_from = 2026-03-01          # a TOML date, or "2026-03-01"
    date_format = "%d/%m/%Y"         # strptime; default ISO (%Y-%m-%d)
    time_format = "%d/%m/%Y %H:%M:%S"  # optional; default ISO 8601. Without a zone: UTC
    delimiter = ";"                  # default ","
    venue = "BRKX"                   # the venue the fills are at, when no column says
    sides = { B = "BUY", S = "SELL", SS = "SELL_SHORT" }   # added to the usual codes
    columns = { trade_id = "Trade Ref", broker_order_id = "Order No", account = "Acct",
                symbol = "Ticker", side = "B/S", qty = "Quantity", price = "Price",
                trade_date = "Trade Date", settle_date = "Settle Date" }
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import pairwise
from types import MappingProxyType

from keel.adapters.statements.errors import StatementMappingError
from keel.domain.enums import Side
from keel.domain.ids import VenueId

REQUIRED_FIELDS = (
    "trade_id", "account", "symbol", "side", "qty", "price", "trade_date",
)  # fmt: skip
"""Fields every statement must have a column for."""
OPTIONAL_FIELDS = (
    "broker_order_id", "cl_ord_id", "settle_date", "transact_time", "venue",
)  # fmt: skip
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS

ISO_DATE = "%Y-%m-%d"

DEFAULT_SIDES: Mapping[str, Side] = MappingProxyType({
    "B": Side.BUY, "BUY": Side.BUY, "BOT": Side.BUY, "BOUGHT": Side.BUY, "1": Side.BUY,
    "S": Side.SELL, "SELL": Side.SELL, "SLD": Side.SELL, "SOLD": Side.SELL, "2": Side.SELL,
    "SS": Side.SELL_SHORT, "SHORT": Side.SELL_SHORT, "SELL_SHORT": Side.SELL_SHORT,
    "SELL SHORT": Side.SELL_SHORT, "5": Side.SELL_SHORT,
})  # fmt: skip
"""Side codes read case-insensitively: names, FIX Side (54) codes and common abbreviations."""

_KEYS = frozenset({
    "broker", "version", "valid_from", "columns", "date_format", "time_format", "delimiter",
    "sides", "venue", "encoding", "skip_lines",
})  # fmt: skip
_PROBE = date(2001, 2, 3)


@dataclass(frozen=True, slots=True)
class StatementMapping:
    """One version of one broker's statement format."""

    broker: str
    version: int
    valid_from: date
    """The first trade date this version reads."""
    columns: Mapping[str, str]
    """Field name (``trade_id``, ``qty``, ...: see ``FIELDS``) to the header of its column."""
    date_format: str = ISO_DATE
    time_format: str | None = None
    """``strptime`` format of the transact time; ``None`` reads ISO 8601."""
    delimiter: str = ","
    sides: Mapping[str, Side] = field(default_factory=lambda: DEFAULT_SIDES)
    """Side codes, upper case; looked up after upper-casing the file's value."""
    venue: VenueId | None = None
    """The venue of every fill when no ``venue`` column says; ``None`` means the broker."""
    encoding: str = "utf-8-sig"
    skip_lines: int = 0
    """Lines before the header (a title, a run date)."""

    def __post_init__(self) -> None:
        where = self.name
        missing = [name for name in REQUIRED_FIELDS if not self.columns.get(name)]
        if missing:
            raise StatementMappingError(
                f"{where}.columns", f"needs a column for {', '.join(missing)}"
            )
        unknown = sorted(set(self.columns) - set(FIELDS))
        if unknown:
            raise StatementMappingError(
                f"{where}.columns.{unknown[0]}",
                f"is not a statement field (fields: {', '.join(FIELDS)})",
            )
        if len(self.delimiter) != 1:
            raise StatementMappingError(f"{where}.delimiter", "must be one character")

    @property
    def name(self) -> str:
        """``BROKER/vN``: the mapping's name in errors and in the inputs it reads."""
        return f"{self.broker}/v{self.version}"

    @property
    def fill_venue(self) -> VenueId:
        return self.venue or VenueId(self.broker)


@dataclass(frozen=True, slots=True)
class BrokerMappings:
    """A broker's mapping versions, in order of the date each becomes valid."""

    broker: str
    versions: tuple[StatementMapping, ...]

    def __post_init__(self) -> None:
        if not self.versions:
            raise StatementMappingError(self.broker, "has no statement mapping")
        ordered = tuple(sorted(self.versions, key=lambda m: m.valid_from))
        for earlier, later in pairwise(ordered):
            if earlier.valid_from == later.valid_from:
                raise StatementMappingError(
                    later.name, f"is valid from {later.valid_from}, as {earlier.name} is"
                )
            if later.version <= earlier.version:
                raise StatementMappingError(
                    later.name,
                    f"is valid from {later.valid_from}, after {earlier.name}: its version "
                    "number must be higher",
                )
        strangers = [m.name for m in ordered if m.broker != self.broker]
        if strangers:
            raise StatementMappingError(strangers[0], f"is not a mapping of {self.broker}")
        object.__setattr__(self, "versions", ordered)

    def for_date(self, trade_date: date) -> StatementMapping:
        """Return the version in force on ``trade_date``."""
        chosen = None
        for mapping in self.versions:
            if mapping.valid_from <= trade_date:
                chosen = mapping
        if chosen is None:
            first = self.versions[0]
            raise StatementMappingError(
                self.broker,
                f"no statement mapping is valid on {trade_date} ({first.name} is the first, "
                f"valid from {first.valid_from})",
            )
        return chosen

    def newest_first(self) -> tuple[StatementMapping, ...]:
        return self.versions[::-1]


def mapping_from_dict(data: Mapping[str, object], where: str = "statement") -> StatementMapping:
    """Return the mapping a configuration table describes; errors name ``where.key``."""
    reader = _Reader(data, where)
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise StatementMappingError(
            f"{where}.{unknown[0]}", f"is not a mapping key (keys: {', '.join(sorted(_KEYS))})"
        )
    broker = reader.text("broker")
    columns = reader.table("columns")
    for name, header in columns.items():
        if name not in FIELDS:
            raise StatementMappingError(
                f"{where}.columns.{name}",
                f"is not a statement field (fields: {', '.join(FIELDS)})",
            )
        if not isinstance(header, str) or not header.strip():
            raise StatementMappingError(f"{where}.columns.{name}", "must be a column header")
    missing = [name for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        raise StatementMappingError(f"{where}.columns", f"needs a column for {', '.join(missing)}")
    sides = dict(DEFAULT_SIDES)
    for code, side in reader.table("sides", required=False).items():
        if not isinstance(side, str) or side.upper() not in Side.__members__:
            raise StatementMappingError(
                f"{where}.sides.{code}", f"must be one of {', '.join(Side.__members__)}"
            )
        sides[code.strip().upper()] = Side[side.upper()]
    venue = reader.text("venue", required=False)
    return StatementMapping(
        broker=broker,
        version=reader.whole("version", minimum=1),
        valid_from=reader.day("valid_from"),
        columns=MappingProxyType({name: str(header).strip() for name, header in columns.items()}),
        date_format=reader.date_format("date_format"),
        time_format=reader.text("time_format", required=False) or None,
        delimiter=reader.delimiter("delimiter"),
        sides=MappingProxyType(sides),
        venue=VenueId(venue) if venue else None,
        encoding=reader.encoding("encoding"),
        skip_lines=reader.whole("skip_lines", minimum=0, default=0),
    )


def mappings_from_config(
    tables: Sequence[Mapping[str, object]], where: str = "statements"
) -> dict[str, BrokerMappings]:
    """Return each broker's mappings from a list of tables (``[[recon.statements]]``)."""
    by_broker: dict[str, list[StatementMapping]] = {}
    for n, table in enumerate(tables):
        if not isinstance(table, Mapping):
            raise StatementMappingError(f"{where}[{n}]", "must be a table")
        mapping = mapping_from_dict(table, f"{where}[{n}]")
        by_broker.setdefault(mapping.broker, []).append(mapping)
    return {broker: BrokerMappings(broker, tuple(found)) for broker, found in by_broker.items()}


def broker_mappings(mappings: Iterable[StatementMapping]) -> BrokerMappings:
    """Return one broker's versions as a ``BrokerMappings``."""
    versions = tuple(mappings)
    return BrokerMappings(versions[0].broker if versions else "", versions)


class _Reader:
    """Reads one table's values, naming each key in its errors."""

    def __init__(self, data: Mapping[str, object], where: str) -> None:
        self.data = data
        self.where = where

    def fail(self, key: str, reason: str) -> StatementMappingError:
        return StatementMappingError(f"{self.where}.{key}", reason)

    def text(self, key: str, *, required: bool = True) -> str:
        value = self.data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value.strip()

    def table(self, key: str, *, required: bool = True) -> dict[str, object]:
        value = self.data.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return {str(k): v for k, v in value.items()}

    def whole(self, key: str, *, minimum: int, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be a whole number of at least {minimum}")
        return value

    def day(self, key: str) -> date:
        value = self.data.get(key)
        if isinstance(value, datetime):
            raise self.fail(key, "must be a date, not a date and time")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(key, "must be a date (2026-03-01)")

    def date_format(self, key: str) -> str:
        value = self.data.get(key, ISO_DATE)
        if not isinstance(value, str) or "%" not in value:
            raise self.fail(key, "must be a strptime format such as %Y-%m-%d")
        try:
            read_back = datetime.strptime(_PROBE.strftime(value), value).date()
        except ValueError:
            read_back = None
        if read_back != _PROBE:
            raise self.fail(key, f"{value!r} does not read back a whole date (day, month, year)")
        return value

    def delimiter(self, key: str) -> str:
        value = self.data.get(key, ",")
        if not isinstance(value, str) or len(value) != 1 or value in '\r\n"':
            raise self.fail(key, "must be one character, not a quote or a line break")
        return value

    def encoding(self, key: str) -> str:
        value = self.data.get(key, "utf-8-sig")
        if not isinstance(value, str):
            raise self.fail(key, "must be the name of a text encoding")
        try:
            codecs.lookup(value)
        except LookupError:
            raise self.fail(key, f"{value!r} is not a text encoding Python knows") from None
        return value
