"""Reading broker statement files: good lines become fills, every bad line is named."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from keel.adapters.statements import (
    BrokerMappings,
    StatementError,
    StatementFile,
    StatementFileError,
    StatementRejectedError,
    mappings_from_config,
    read_statement,
)
from keel.domain.enums import Side
from keel.domain.recon import BrokerSource

FIXTURES = Path(__file__).parents[2] / "fixtures" / "statements"
V1_FILE = FIXTURES / "brokerx_v1_2026-02-27.csv"
V2_FILE = FIXTURES / "brokerx_v2_2026-03-02.csv"
BAD_FILE = FIXTURES / "brokerx_bad_lines.csv"
SIDE_REASON = (
    "'X' is not a side this mapping knows (1, 2, 5, B, BOT, BOUGHT, BUY, S, SELL, SELL SHORT, "
    "SELL_SHORT, SHORT, SLD, SOLD, SS)"
)


@pytest.fixture(scope="module")
def brokerx() -> BrokerMappings:
    """BROKERX's two statement formats, as the configuration file gives them."""
    config = tomllib.loads((FIXTURES / "brokerx.toml").read_text())
    return mappings_from_config(config["recon"]["statements"], "recon.statements")["BROKERX"]


def test_a_good_statement_reads_into_fills_with_their_lines_as_evidence(
    brokerx: BrokerMappings,
) -> None:
    parsed = read_statement(V1_FILE, brokerx, name="brokerx.csv")
    assert parsed.errors == ()
    assert parsed.mapping.name == "BROKERX/v1"
    first = parsed.fills[0]
    assert first.source is BrokerSource.STATEMENT
    assert first.ref == "brokerx.csv:2"
    assert (first.exec_id, first.venue, first.venue_order_id, first.cl_ord_id) == (
        "T1001", "BRKX", "V-1", "C-1",
    )  # fmt: skip
    assert (first.account, first.symbol, first.side) == ("FUND-A", "ACME", Side.BUY)
    assert (first.qty, first.price) == (Decimal(100), Decimal("10.25"))
    assert (first.trade_date, first.settle_date) == (date(2026, 2, 27), date(2026, 3, 3))
    assert first.transact_time == datetime(2026, 2, 27, 14, 30, 1, 250000, tzinfo=UTC)


def test_quoted_commas_blank_lines_and_empty_optional_columns_are_read_as_meant(
    brokerx: BrokerMappings,
) -> None:
    parsed = read_statement(V1_FILE, brokerx, name="brokerx.csv")
    assert [f.exec_id for f in parsed.fills] == ["T1001", "T1002", "T1003", "T1004"]
    assert parsed.fills[2].symbol == "WIDGET, INC"
    assert parsed.fills[2].transact_time == datetime(2026, 2, 27, 15, tzinfo=UTC)  # no zone: UTC
    last = parsed.fills[3]
    assert last.ref == "brokerx.csv:6"  # the blank line 5 is skipped, not renumbered
    assert (last.cl_ord_id, last.settle_date, last.transact_time) == (None, None, None)
    assert last.side is Side.SELL_SHORT
    assert parsed.lines == 4


def test_the_version_in_force_on_the_trade_date_reads_the_file(brokerx: BrokerMappings) -> None:
    parsed = read_statement(V2_FILE, brokerx, trade_date=date(2026, 3, 2))
    assert parsed.mapping.name == "BROKERX/v2"
    assert [(f.exec_id, f.side, f.trade_date) for f in parsed.fills] == [
        ("R-77", Side.BUY, date(2026, 3, 2)),
        ("R-78", Side.SELL, date(2026, 3, 2)),
        ("R-79", Side.SELL_SHORT, date(2026, 3, 2)),
    ]
    assert parsed.fills[0].ref.endswith(":3")  # a title line, then the header
    assert parsed.fills[1].transact_time == datetime(2026, 3, 2, 14, 45, 10, tzinfo=UTC)


def test_without_a_trade_date_the_newest_version_the_header_fits_reads_the_file(
    brokerx: BrokerMappings,
) -> None:
    assert read_statement(V1_FILE, brokerx).mapping.name == "BROKERX/v1"
    assert read_statement(V2_FILE, brokerx).mapping.name == "BROKERX/v2"


def test_a_file_read_with_the_wrong_version_for_its_date_names_the_missing_column(
    brokerx: BrokerMappings,
) -> None:
    with pytest.raises(StatementFileError) as caught:
        read_statement(V1_FILE, brokerx, trade_date=date(2026, 3, 2), name="brokerx.csv")
    error = caught.value
    # v2 has a title line before its header, so v2 reads line 2 as the header
    assert (error.path, error.line, error.column) == ("brokerx.csv", 2, "Trade Ref")
    assert str(error).startswith(
        "brokerx.csv:2: column 'Trade Ref': missing from the header (the trade_id column of "
        "BROKERX/v2)"
    )


def test_a_date_before_every_version_is_refused_naming_the_first(
    brokerx: BrokerMappings,
) -> None:
    with pytest.raises(StatementFileError, match="no statement mapping is valid on 2025-12-31"):
        read_statement(V1_FILE, brokerx, trade_date=date(2025, 12, 31))


def test_a_header_without_a_mapped_column_is_refused_naming_file_line_and_column(
    brokerx: BrokerMappings,
) -> None:
    with pytest.raises(StatementFileError) as caught:
        read_statement(FIXTURES / "brokerx_missing_price.csv", brokerx, name="m.csv")
    assert (caught.value.line, caught.value.column) == (1, "Price")
    assert "the price column of BROKERX/v1" in str(caught.value)
    assert "BROKERX/v2 lacks 11" in str(caught.value)


def test_every_bad_line_is_reported_with_file_line_column_and_why(
    brokerx: BrokerMappings,
) -> None:
    parsed = read_statement(BAD_FILE, brokerx, name="bad.csv")
    assert [(e.line, e.column, e.reason) for e in parsed.errors] == [
        (3, "Quantity", "'1O0' is not a decimal quantity"),
        (4, "Trade Date", "'2026-02-30' is not a date in the format %Y-%m-%d"),
        (5, "Side", SIDE_REASON),
        (6, None, "has 10 fields where the header has 11"),
        (7, "Trade ID", "is empty"),
        (7, "Quantity", "'-5' is not a positive quantity"),
        (7, "Price", "'NaN' is not a finite price"),
        (8, "Exec Time", "'yesterday' is not a time in the format ISO 8601"),
    ]
    assert str(parsed.errors[0]) == "bad.csv:3: column 'Quantity': '1O0' is not a decimal quantity"
    assert parsed.errors[0].row[0] == "T2002"  # the line itself is kept as evidence


def test_good_lines_around_bad_ones_are_kept_apart_for_the_caller_to_decide(
    brokerx: BrokerMappings,
) -> None:
    parsed = read_statement(BAD_FILE, brokerx, name="bad.csv")
    assert [f.exec_id for f in parsed.fills] == ["T2001", "T2008"]
    assert parsed.lines == 8
    with pytest.raises(StatementRejectedError) as caught:
        parsed.raise_for_errors()
    assert len(caught.value.errors) == 8
    assert str(caught.value).startswith(
        "bad.csv: 6 bad lines: line 3 column 'Quantity': '1O0' is not a decimal quantity; "
    )
    assert str(caught.value).endswith("; and 3 more")


def test_a_large_statement_streams_in_chunks(tmp_path: Path, brokerx: BrokerMappings) -> None:
    header = V1_FILE.read_text(encoding="utf-8-sig").splitlines()[0]
    lines = [
        f"T{n},V-{n % 7},C-{n % 7},FUND-A,ACME,{'BS'[n % 2]},{n % 9 + 1}00,10.{n % 100:02d},"
        "2026-02-27,2026-03-03,2026-02-27T14:30:00Z"
        for n in range(2500)
    ]
    path = tmp_path / "big.csv"
    path.write_text("\n".join([header, *lines]) + "\n")
    with StatementFile(path, brokerx) as statement:
        sizes = [len(chunk) for chunk in statement.chunks(1000)]
        assert statement.errors == []
    assert sizes == [1000, 1000, 500]


def test_a_file_that_cannot_be_opened_is_a_file_error(
    tmp_path: Path, brokerx: BrokerMappings
) -> None:
    with pytest.raises(StatementFileError, match=r"nowhere\.csv: cannot be read"):
        read_statement(tmp_path / "nowhere.csv", brokerx, name="nowhere.csv")


def test_an_empty_file_has_no_header(tmp_path: Path, brokerx: BrokerMappings) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(StatementFileError, match=r"empty\.csv:1: has no header line"):
        read_statement(path, brokerx, name="empty.csv")


def test_bytes_that_are_not_text_stop_the_file_at_their_line(
    tmp_path: Path, brokerx: BrokerMappings
) -> None:
    good = V1_FILE.read_bytes().split(b"\r\n")
    path = tmp_path / "latin.csv"
    latin = b"T9,V-9,C-9,FUND-\xe9,ACME,B,1,1,2026-02-27,,"
    path.write_bytes(b"\r\n".join([*good[:3], latin, *good[3:]]))
    with pytest.raises(StatementFileError, match=r"latin\.csv:4: is not valid utf-8-sig text"):
        read_statement(path, brokerx, name="latin.csv")


def test_reading_before_opening_is_refused(brokerx: BrokerMappings) -> None:
    with pytest.raises(StatementError, match="open the statement"):
        list(StatementFile(V1_FILE, brokerx).fills())


def test_the_simulated_venues_statement_reads_with_its_mapping() -> None:
    config = tomllib.loads((FIXTURES / "sim.toml").read_text())
    sim = mappings_from_config(config["recon"]["statements"])["SIM"]
    parsed = read_statement(FIXTURES / "sim-statement-20260306.csv", sim, name="sim.csv")
    assert [(f.exec_id, f.venue, f.qty, f.price) for f in parsed.fills] == [
        ("SIM-E000000002", "SIM", Decimal(5), Decimal("100.01")),
        ("SIM-E000000003", "SIM", Decimal(5), Decimal("100.01")),
    ]
    assert parsed.fills[0].trade_date == date(2026, 3, 6)
    assert parsed.fills[0].settle_date == date(2026, 3, 10)
    # SIM-1 leaves the account empty when the client named none: Keel needs one to book
    # the fill to a position, so the line is reported rather than guessed.
    assert [(e.line, e.column, e.reason) for e in parsed.errors] == [(4, "Account", "is empty")]
