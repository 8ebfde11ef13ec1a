"""The venue's broker statement: its rows, and the CSV file in the venue's documented format."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from keel.adapters.venues.sim import (
    FaultPlan,
    Listing,
    QuotingRules,
    SimVenue,
    Trigger,
    listing,
)
from keel.adapters.venues.sim.statement import (
    STATEMENT_COLUMNS,
    settle_date,
    statement_csv,
    statement_file_name,
    write_statement,
)
from keel.cli.venue_sim import next_end_of_day
from keel.domain.enums import OrdType, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId, InstrumentId
from keel.domain.instruments import Instrument

FRIDAY = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
XBT = Listing(
    Instrument(InstrumentId("XBT"), "XBT", Decimal("0.5"), Decimal("0.001"), Decimal("0.001"), 1),
    Decimal("64000.0"),
)
LISTINGS = (listing("ACME", "100.00"), XBT)


def send(
    venue: SimVenue,
    cl: str,
    side: Side,
    qty: str,
    price: str,
    now: datetime,
    *,
    symbol: str = "ACME",
    account: str | None = "FUND-A",
) -> None:
    venue.new_order(
        ClOrdId(cl), AccountId(account or "DESK"), symbol, side, Decimal(qty), OrdType.LIMIT,
        Decimal(price), TimeInForce.DAY, now, session="FIX.4.4:SIM->KEEL",
        account_given=account is not None,
    )  # fmt: skip


def friday_of_trading() -> SimVenue:
    """A split fill, a crypto-sized fill without an account, and a short sale's late fill."""
    venue = SimVenue(
        seed=3,
        listings=LISTINGS,
        quoting=QuotingRules(levels=0),
        faults=FaultPlan(split_fill=Trigger.once("B1"), late_fill_after_cancel=Trigger.once("L1")),
    )
    send(venue, "S1", Side.SELL, "10", "100.00", FRIDAY, account="FUND-B")
    send(venue, "B1", Side.BUY, "10", "100.05", FRIDAY)
    later = FRIDAY + timedelta(seconds=1)
    send(venue, "X1", Side.SELL, "0.125", "64000.5", later, symbol="XBT", account=None)
    send(venue, "X,2", Side.BUY, "0.125", "64001.0", later, symbol="XBT")
    send(venue, "L1", Side.SELL_SHORT, "20", "101.00", FRIDAY + timedelta(seconds=2))
    venue.cancel(ClOrdId("L1-X"), ClOrdId("L1"), FRIDAY + timedelta(seconds=3))
    return venue


FRIDAY_STATEMENT = """\
TradeID,OrderID,ClOrdID,Account,Symbol,Side,Quantity,Price,TradeDate,SettleDate
SIM-E000000003,SIM-O000000002,B1,FUND-A,ACME,B,5,100.00,20260306,20260310
SIM-E000000004,SIM-O000000001,S1,FUND-B,ACME,S,5,100.00,20260306,20260310
SIM-E000000005,SIM-O000000002,B1,FUND-A,ACME,B,5,100.00,20260306,20260310
SIM-E000000006,SIM-O000000001,S1,FUND-B,ACME,S,5,100.00,20260306,20260310
SIM-E000000009,SIM-O000000004,"X,2",FUND-A,XBT,B,0.125,64000.5,20260306,20260310
SIM-E000000010,SIM-O000000003,X1,,XBT,S,0.125,64000.5,20260306,20260310
SIM-E000000013,SIM-O000000005,L1-X,FUND-A,ACME,SS,10,101.00,20260306,20260310
"""


def test_friday_s_statement_is_exactly_the_documented_csv_settling_on_tuesday() -> None:
    venue = friday_of_trading()

    text = statement_csv(venue.statement_rows(FRIDAY.date()))

    assert text == FRIDAY_STATEMENT


def test_the_statement_lists_each_execution_once_in_transact_time_order() -> None:
    venue = SimVenue(
        seed=3,
        quoting=QuotingRules(levels=0),
        faults=FaultPlan(late_fill_after_cancel=Trigger.once("L1")),
    )
    send(venue, "L1", Side.BUY, "20", "99.00", FRIDAY)
    send(venue, "S1", Side.SELL, "5", "98.00", FRIDAY + timedelta(seconds=3))
    venue.cancel(ClOrdId("L1-X"), ClOrdId("L1"), FRIDAY + timedelta(seconds=3))

    made = [e.exec_id for e in venue.executions()]
    listed = venue.statement_rows()

    late = listed[0]
    assert (late.cl_ord_id, late.transact_time) == (
        "L1-X",
        FRIDAY + timedelta(seconds=3) - timedelta(milliseconds=1),
    )
    assert [row.exec_id for row in listed] == [made[2], made[0], made[1]]
    assert sorted(made) == sorted(row.exec_id for row in listed)


def test_rows_of_another_trade_date_stay_off_the_day_s_statement() -> None:
    venue = SimVenue(seed=3, quoting=QuotingRules(levels=0))
    send(venue, "S1", Side.SELL, "5", "100.00", FRIDAY)
    send(venue, "B1", Side.BUY, "5", "100.00", FRIDAY)
    monday = FRIDAY + timedelta(days=3)
    send(venue, "S2", Side.SELL, "7", "100.00", monday)
    send(venue, "B2", Side.BUY, "7", "100.00", monday)

    assert [r.qty for r in venue.statement_rows(monday.date())] == [7, 7]
    assert [r.qty for r in venue.statement_rows(FRIDAY.date())] == [5, 5]
    assert len(venue.statement_rows()) == 4
    assert venue.trade_dates() == [FRIDAY.date(), monday.date()]
    assert statement_csv([]) == ",".join(STATEMENT_COLUMNS) + "\n"


@pytest.mark.parametrize(
    ("trade_date", "settles"),
    [
        (date(2026, 3, 2), date(2026, 3, 4)),  # Monday -> Wednesday
        (date(2026, 3, 5), date(2026, 3, 9)),  # Thursday -> Monday
        (date(2026, 3, 6), date(2026, 3, 10)),  # Friday -> Tuesday
        (date(2026, 3, 7), date(2026, 3, 10)),  # a Saturday trade settles Tuesday too
        (date(2026, 12, 31), date(2027, 1, 4)),  # across the year, over a weekend
    ],
)
def test_settlement_is_two_business_days_after_the_trade_skipping_the_weekend(
    trade_date: date, settles: date
) -> None:
    assert settle_date(trade_date) == settles


def test_the_statement_file_is_written_whole_and_reads_back_with_exact_decimals(
    tmp_path: Path,
) -> None:
    venue = friday_of_trading()
    path = tmp_path / statement_file_name(FRIDAY.date())

    written = write_statement(path, venue.statement_rows(FRIDAY.date()))

    assert written == path
    assert path.name == "sim-statement-20260306.csv"
    assert path.read_bytes() == FRIDAY_STATEMENT.encode()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no partial file left
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [
        (Decimal(r["Quantity"]), Decimal(r["Price"])) for r in rows if r["Symbol"] == "XBT"
    ] == [
        (Decimal("0.125"), Decimal("64000.5")),
    ] * 2
    assert sum(Decimal(r["Quantity"]) * Decimal(r["Price"]) for r in rows) == Decimal("19010.125")


def test_an_amount_in_exponent_form_is_written_in_plain_digits() -> None:
    venue = SimVenue(seed=3, quoting=QuotingRules(levels=0))
    send(venue, "S1", Side.SELL, "1E+2", "100.00", FRIDAY)
    send(venue, "B1", Side.BUY, "100", "1.0000E+2", FRIDAY)

    lines = statement_csv(venue.statement_rows()).splitlines()

    assert [line.split(",")[6:8] for line in lines[1:]] == [["100", "100.00"], ["100", "100.00"]]


# -- when keel venue-sim writes it -----------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "runs_at"),
    [
        (datetime(2026, 3, 6, 20, 59, tzinfo=UTC), datetime(2026, 3, 6, 21, 0, tzinfo=UTC)),
        (datetime(2026, 3, 6, 21, 0, tzinfo=UTC), datetime(2026, 3, 6, 21, 0, tzinfo=UTC)),
        (datetime(2026, 3, 6, 21, 0, 1, tzinfo=UTC), datetime(2026, 3, 7, 21, 0, tzinfo=UTC)),
    ],
)
def test_the_daily_end_of_day_runs_at_its_utc_time_today_or_else_tomorrow(
    now: datetime, runs_at: datetime
) -> None:
    assert next_end_of_day(now, time(21, 0)) == runs_at
