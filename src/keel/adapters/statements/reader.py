"""Reading a broker statement file into ``BrokerFill`` values, streaming.

``StatementFile`` opens the file, reads its header, picks the mapping version (the one in
force on the given trade date; without a date, the newest whose columns the header has)
and checks that every mapped column is there. Iterating it then yields one ``BrokerFill``
per good line, a line at a time, so a million-line file is never held whole. A bad line
yields nothing: a ``StatementLineError`` per bad value (file, line, column, why, and the
line's fields) is added to ``errors``, and reading goes on, so one pass reports every bad
line and the caller decides what to do with the good ones (``raise_for_errors`` makes it
all or nothing). A file that cannot be read as a statement at all raises
``StatementFileError``.

Values: ids and names are trimmed; quantities must be positive finite decimals, prices
finite decimals (never floats); dates use the mapping's format; transact times are ISO 8601
unless the mapping gives a format, and a time without a zone is taken as UTC. The same
texts recur on most lines (dates, accounts, symbols, quantities), so each is converted once
per file and reused.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Self

from keel.adapters.statements.errors import (
    StatementError,
    StatementFileError,
    StatementLineError,
    StatementMappingError,
    StatementRejectedError,
)
from keel.adapters.statements.mapping import (
    BrokerMappings,
    StatementMapping,
)
from keel.domain.enums import Side
from keel.domain.ids import AccountId, ClOrdId, ExecId, InstrumentId, VenueId, VenueOrderId
from keel.domain.recon import BrokerFill, BrokerSource

if TYPE_CHECKING:
    from _csv import Reader as CsvReader  # the type csv.reader returns; no runtime name

CACHE_LIMIT = 100_000
"""Distinct texts of one kind remembered per file: enough for every date, account, symbol
and price step of a day, bounded for a file of unique values."""

_STATEMENT = BrokerSource.STATEMENT


class _BadValueError(ValueError):
    """A value that does not convert; the reason is the message."""


@dataclass(frozen=True, slots=True)
class ParsedStatement:
    """A whole statement read at once: the good fills and the bad lines, kept apart."""

    path: str
    mapping: StatementMapping
    fills: tuple[BrokerFill, ...]
    errors: tuple[StatementLineError, ...]
    lines: int
    """Data lines read (blank lines not counted)."""

    def raise_for_errors(self) -> None:
        """Raise ``StatementRejectedError`` naming every bad line, if there were any."""
        if self.errors:
            raise StatementRejectedError(self.path, self.errors)


class StatementFile:
    """One broker statement file, read line by line. Use it as a context manager.

    ``name`` is how the file is referred to in each fill's ``ref`` (``name:line``) and in
    errors; it defaults to the path as given.
    """

    def __init__(
        self,
        path: str | Path,
        mappings: BrokerMappings | StatementMapping,
        *,
        trade_date: date | None = None,
        name: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = name if name is not None else str(path)
        self._mappings = mappings
        self._trade_date = trade_date
        self._file: IO[str] | None = None
        self._reader: CsvReader | None = None
        self._columns: dict[str, int] = {}
        self._headers: list[str] = []
        self._mapping: StatementMapping | None = None
        self.errors: list[StatementLineError] = []
        """Every bad value found so far, in line order."""
        self.lines = 0
        """Data lines read so far (blank lines not counted)."""

    # -- opening ---------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def mapping(self) -> StatementMapping:
        """The mapping version reading this file (known once it is open)."""
        if self._mapping is None:
            raise StatementError(f"{self.name}: not open yet")
        return self._mapping

    def open(self) -> None:
        """Open the file, read its header and pick the mapping; raise ``StatementFileError``."""
        misses: list[tuple[StatementMapping, list[tuple[str, str]]]] = []
        line = 1
        for mapping in self._candidates():
            line = self._open_with(mapping)
            found = {cell.casefold(): n for n, cell in reversed(list(enumerate(self._headers)))}
            missing = [
                (name, header)
                for name, header in mapping.columns.items()
                if header.casefold() not in found
            ]
            if not missing:
                self._mapping = mapping
                self._columns = {
                    name: found[header.casefold()] for name, header in mapping.columns.items()
                }
                return
            self.close()
            misses.append((mapping, missing))
        mapping, missing = min(misses, key=lambda miss: len(miss[1]))  # the closest version
        name, column = missing[0]
        reason = f"missing from the header (the {name} column of {mapping.name})"
        others = [f"{m.name} lacks {len(lacking)}" for m, lacking in misses if m is not mapping]
        if others:
            reason += f"; no other version fits either ({', '.join(others)})"
        raise StatementFileError(
            self.name, f"{reason}; the header is {', '.join(self._headers)}", line, column
        )

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _candidates(self) -> list[StatementMapping]:
        """The versions that may read this file, the likeliest first."""
        mappings = self._mappings
        if isinstance(mappings, StatementMapping):
            return [mappings]
        if self._trade_date is not None:
            try:
                return [mappings.for_date(self._trade_date)]
            except StatementMappingError as e:
                raise StatementFileError(self.name, e.reason) from e
        return list(mappings.newest_first())

    def _open_with(self, mapping: StatementMapping) -> int:
        """Open the file as ``mapping`` reads it and read the header; return its line."""
        try:
            self._file = self.path.open(encoding=mapping.encoding, newline="")
        except OSError as e:
            raise StatementFileError(self.name, f"cannot be read: {e.strerror}") from e
        self._reader = csv.reader(self._file, delimiter=mapping.delimiter, strict=False)
        try:
            for _ in range(mapping.skip_lines):
                next(self._reader, None)
            header = next(self._reader, None)
        except csv.Error as e:
            self.close()
            raise StatementFileError(self.name, f"cannot read the header: {e}") from e
        except UnicodeDecodeError as e:
            self.close()
            raise self._not_text(mapping.encoding, e) from e
        line: int = self._reader.line_num or 1
        if not header or not any(cell.strip() for cell in header):
            self.close()
            raise StatementFileError(self.name, "has no header line", line)
        self._headers = [cell.strip() for cell in header]
        return line

    # -- reading ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[BrokerFill]:
        return self.fills()

    def fills(self) -> Iterator[BrokerFill]:
        """Yield each good line's fill; record each bad line's errors in ``errors``."""
        if self._reader is None:
            raise StatementError(f"{self.name}: open the statement before reading it")
        mapping = self.mapping
        reader = self._reader
        convert = _Converters(mapping)
        ref = f"{self.name}:"
        width = len(self._headers)
        col = self._columns
        i_trade, i_account, i_symbol = col["trade_id"], col["account"], col["symbol"]
        i_side, i_qty, i_price, i_date = (
            col["side"], col["qty"], col["price"], col["trade_date"],
        )  # fmt: skip
        i_order, i_cl_ord = col.get("broker_order_id", -1), col.get("cl_ord_id", -1)
        i_settle, i_time = col.get("settle_date", -1), col.get("transact_time", -1)
        i_venue = col.get("venue", -1)  # -1: the mapping has no such column
        fixed_venue = mapping.fill_venue
        iso = mapping.time_format is None
        iso_time = convert.iso_time
        sides, names, qtys, prices, days = (
            convert.sides, convert.names, convert.qtys, convert.prices, convert.days,
        )  # fmt: skip
        rows = self._rows(reader)
        for row in rows:
            line = reader.line_num
            self.lines += 1
            if len(row) != width:
                self.errors.append(
                    StatementLineError(
                        self.name,
                        line,
                        None,
                        f"has {len(row)} fields where the header has {width}",
                        row,
                    )
                )
                continue
            try:
                trade_id = row[i_trade].strip()
                account = row[i_account].strip()
                symbol = row[i_symbol].strip()
                if not trade_id or not account or not symbol:
                    raise _BadValueError
                side = sides.get(row[i_side].strip().upper())
                if side is None:
                    raise _BadValueError
                text = row[i_qty]
                qty = qtys.get(text) or convert.qty(text)
                text = row[i_price]
                price = prices.get(text)
                if price is None:
                    price = convert.price(text)
                text = row[i_date]
                trade_date = days.get(text) or convert.day(text)
                fill = BrokerFill(
                    _STATEMENT,
                    ref + str(line),
                    ExecId(trade_id),
                    VenueId(convert.name(row[i_venue])) if i_venue >= 0 else fixed_venue,
                    VenueOrderId(row[i_order].strip()) or None if i_order >= 0 else None,
                    ClOrdId(row[i_cl_ord].strip()) or None if i_cl_ord >= 0 else None,
                    AccountId(names.get(account) or convert.name(account)),
                    InstrumentId(names.get(symbol) or convert.name(symbol)),
                    side,
                    qty,
                    price,
                    trade_date,
                    (days.get(row[i_settle]) or convert.optional_day(row[i_settle]))
                    if i_settle >= 0
                    else None,
                    (iso_time(row[i_time]) if iso else convert.time(row[i_time]))
                    if i_time >= 0
                    else None,
                )
            except _BadValueError:
                self.errors += self._diagnose(row, line, convert)
                continue
            yield fill

    def chunks(self, size: int = 10_000) -> Iterator[list[BrokerFill]]:
        """Yield the good fills in lists of at most ``size``."""
        chunk: list[BrokerFill] = []
        for fill in self.fills():
            chunk.append(fill)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def raise_for_errors(self) -> None:
        """Raise ``StatementRejectedError`` naming every bad line read so far, if any."""
        if self.errors:
            raise StatementRejectedError(self.name, self.errors)

    def _rows(self, reader: CsvReader) -> Iterator[list[str]]:
        """Yield the data rows, skipping blank lines; a row the CSV reader refuses is a bad
        line; undecodable bytes end the file (there is no resynchronising text)."""
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                self.lines += 1
                self.errors.append(
                    StatementLineError(self.name, reader.line_num, None, f"not CSV: {e}")
                )
                continue
            except UnicodeDecodeError as e:
                raise self._not_text(self.mapping.encoding, e) from e
            if row and (len(row) > 1 or row[0].strip()):
                yield row

    def _not_text(self, encoding: str, error: UnicodeDecodeError) -> StatementFileError:
        """Return the error for bytes that do not decode, naming the first such line.

        Text is decoded a buffer at a time, ahead of the CSV reader, so the line is found
        again by decoding the file line by line.
        """
        line = None
        try:
            with self.path.open("rb") as raw:
                for number, data in enumerate(raw, start=1):
                    try:
                        data.decode(encoding)
                    except UnicodeDecodeError:
                        line = number
                        break
        except OSError:
            pass
        reason = f"is not valid {encoding} text ({error.reason})"
        return StatementFileError(self.name, reason, line)

    def _diagnose(
        self, row: list[str], line: int, convert: _Converters
    ) -> list[StatementLineError]:
        """Return one error per bad value of a line that did not convert."""
        errors: list[StatementLineError] = []
        checks: dict[str, Callable[[str], object]] = {
            "trade_id": convert.required_text, "account": convert.required_text,
            "symbol": convert.required_text, "side": convert.side, "qty": convert.qty,
            "price": convert.price, "trade_date": convert.day,
            "settle_date": convert.optional_day, "transact_time": convert.time,
            "venue": convert.required_text,
        }  # fmt: skip
        for name, index in self._columns.items():
            check = checks.get(name)
            if check is None:
                continue
            try:
                check(row[index])
            except _BadValueError as e:
                errors.append(
                    StatementLineError(self.name, line, self._headers[index], str(e), row)
                )
        if not errors:  # not reached: every check above is one the fast path makes
            errors.append(StatementLineError(self.name, line, None, "cannot be read", row))
        return errors


class _Converters:
    """One file's converters, with the caches that make repeated texts cheap."""

    def __init__(self, mapping: StatementMapping) -> None:
        self.mapping = mapping
        self.sides = dict(mapping.sides)
        self.names: dict[str, str] = {}
        self.qtys: dict[str, Decimal] = {}
        self.prices: dict[str, Decimal] = {}
        self.days: dict[str, date] = {}
        iso = mapping.date_format == "%Y-%m-%d"
        self._parse_day: Callable[[str], date] = date.fromisoformat if iso else self._strptime_day

    def name(self, text: str) -> str:
        """Return a trimmed name, one string object per distinct name in the file."""
        value = text.strip()
        if not value:
            raise _BadValueError("is empty")
        if len(self.names) < CACHE_LIMIT:
            return self.names.setdefault(value, value)
        return value

    def required_text(self, text: str) -> str:
        value = text.strip()
        if not value:
            raise _BadValueError("is empty")
        return value

    def side(self, text: str) -> Side:
        side = self.sides.get(text.strip().upper())
        if side is None:
            known = ", ".join(sorted(self.sides))
            raise _BadValueError(f"{text!r} is not a side this mapping knows ({known})")
        return side

    def qty(self, text: str) -> Decimal:
        value = self._decimal(text, "quantity")
        if value <= 0:
            raise _BadValueError(f"{text!r} is not a positive quantity")
        if len(self.qtys) < CACHE_LIMIT:
            self.qtys[text] = value
        return value

    def price(self, text: str) -> Decimal:
        value = self._decimal(text, "price")
        if len(self.prices) < CACHE_LIMIT:
            self.prices[text] = value
        return value

    def day(self, text: str) -> date:
        try:
            value = self._parse_day(text.strip())
        except ValueError:
            fmt = self.mapping.date_format
            raise _BadValueError(f"{text!r} is not a date in the format {fmt}") from None
        if len(self.days) < CACHE_LIMIT:
            self.days[text] = value
        return value

    def optional_day(self, text: str) -> date | None:
        if not text.strip():
            return None
        return self.days.get(text) or self.day(text)

    def iso_time(self, text: str) -> datetime | None:
        """Return an ISO 8601 time (UTC when it has no zone), or ``None`` for an empty text."""
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return self.time(text)  # surrounding blanks, or the reason it is wrong
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def time(self, text: str) -> datetime | None:
        value = text.strip()
        if not value:
            return None
        fmt = self.mapping.time_format
        try:
            moment = datetime.fromisoformat(value) if fmt is None else datetime.strptime(value, fmt)
        except ValueError:
            wanted = "ISO 8601" if fmt is None else fmt
            raise _BadValueError(f"{text!r} is not a time in the format {wanted}") from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def _decimal(self, text: str, what: str) -> Decimal:
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise _BadValueError(f"{text!r} is not a decimal {what}") from None
        if not value.is_finite():
            raise _BadValueError(f"{text!r} is not a finite {what}")
        return value

    def _strptime_day(self, text: str) -> date:
        return datetime.strptime(text, self.mapping.date_format).date()


def read_statement(
    path: str | Path,
    mappings: BrokerMappings | StatementMapping,
    *,
    trade_date: date | None = None,
    name: str | None = None,
) -> ParsedStatement:
    """Read a whole statement: the good fills and every bad line, kept apart."""
    with StatementFile(path, mappings, trade_date=trade_date, name=name) as statement:
        fills = tuple(statement)
        return ParsedStatement(
            statement.name, statement.mapping, fills, tuple(statement.errors), statement.lines
        )
