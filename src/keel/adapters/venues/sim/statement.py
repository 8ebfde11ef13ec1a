"""The simulated venue's broker statement: its executions of a trade date as a CSV file.

Format ``SIM-1``, the venue's own (Keel's configuration maps its columns like any broker's):

- UTF-8 without a byte order mark, lines ending in ``\\n``, comma-separated, a field quoted
  with ``"`` only when it holds a comma, a quote or a line break (quotes doubled inside).
- A header row, then one row per execution, in this column order::

      TradeID,OrderID,ClOrdID,Account,Symbol,Side,Quantity,Price,TradeDate,SettleDate

  ========== ==========================================================================
  TradeID    the execution's ExecID (17), as on its ExecutionReport and drop copy
  OrderID    the venue's order id (37)
  ClOrdID    the ClOrdID (11) in force on the execution's report (after a replace, the
             replace's; a late fill after a cancel carries the cancel's)
  Account    the Account (1) the client named on the order; empty when it named none
  Symbol     the listing's symbol (55)
  Side       ``B`` buy, ``S`` sell, ``SS`` sell short
  Quantity   the executed quantity (LastQty 32), an exact decimal: ``10``, ``2.5``
  Price      the execution price (LastPx 31), an exact decimal as the venue priced it
             (``95.50`` keeps its zero); never rounded, never in exponent form
  TradeDate  ``YYYYMMDD``: the UTC date of the execution's transact time
  SettleDate ``YYYYMMDD``: the trade date plus two business days (Saturdays and Sundays
             skipped; the simulated venue has no holidays)
  ========== ==========================================================================

- Rows are sorted by transact time, then TradeID. Each execution is listed exactly once,
  whatever the wire did to its report (dropped, duplicated, delayed); split prints are one
  row each; a late fill after a cancel is a row like any other.
- ``keel venue-sim --statement-dir DIR`` writes ``DIR/sim-statement-YYYYMMDD.csv``, one
  file per trade date, at its end of day and when it stops.

An example, a buy of 10 filled in two prints and a sale of 5, on Friday 6 March 2026::

    TradeID,OrderID,ClOrdID,Account,Symbol,Side,Quantity,Price,TradeDate,SettleDate
    SIM-E000000002,SIM-O000000001,C1,FUND-A,ACME,B,5,100.01,20260306,20260310
    SIM-E000000003,SIM-O000000001,C1,FUND-A,ACME,B,5,100.01,20260306,20260310
    SIM-E000000005,SIM-O000000002,C2,,ACME,S,5,99.99,20260306,20260310
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from keel.adapters.venues.sim.reports import SimVenueError, StatementRow
from keel.domain.enums import Side

STATEMENT_FORMAT = "SIM-1"
STATEMENT_COLUMNS = (
    "TradeID", "OrderID", "ClOrdID", "Account", "Symbol", "Side", "Quantity", "Price",
    "TradeDate", "SettleDate",
)  # fmt: skip
STATEMENT_SIDES: Mapping[Side, str] = {Side.BUY: "B", Side.SELL: "S", Side.SELL_SHORT: "SS"}
SETTLEMENT_DAYS = 2

SIM_STATEMENT_MAPPING: Mapping[str, object] = {
    "broker": "SIM", "version": 1, "valid_from": date(2020, 1, 1), "venue": "SIM",
    "date_format": "%Y%m%d", "sides": {"B": "BUY", "S": "SELL", "SS": "SELL_SHORT"},
    "columns": {
        "trade_id": "TradeID", "broker_order_id": "OrderID", "cl_ord_id": "ClOrdID",
        "account": "Account", "symbol": "Symbol", "side": "Side", "qty": "Quantity",
        "price": "Price", "trade_date": "TradeDate", "settle_date": "SettleDate",
    },
}  # fmt: skip
"""How Keel reads SIM-1: the ``[[recon.statements]]`` table a configuration gives for it."""
SATURDAY = 5


def settle_date(trade_date: date, business_days: int = SETTLEMENT_DAYS) -> date:
    """Return the date ``business_days`` weekdays after ``trade_date`` (no holidays)."""
    day = trade_date
    left = business_days
    while left:
        day += timedelta(days=1)
        if day.weekday() < SATURDAY:
            left -= 1
    return day


def statement_file_name(trade_date: date) -> str:
    """Return the name the venue gives its statement of ``trade_date``."""
    return f"sim-statement-{trade_date:%Y%m%d}.csv"


def statement_line(row: StatementRow) -> tuple[str, ...]:
    """Return one execution as the statement's fields, in column order."""
    return (
        row.exec_id,
        row.venue_order_id,
        row.cl_ord_id,
        row.account,
        row.symbol,
        STATEMENT_SIDES[row.side],
        _exact(row.qty),
        _exact(row.price),
        f"{row.trade_date:%Y%m%d}",
        f"{settle_date(row.trade_date):%Y%m%d}",
    )


def statement_csv(rows: Iterable[StatementRow]) -> str:
    """Return the statement text: the header, then ``rows`` in the order given
    (``SimVenue.statement_rows`` gives them in the statement's order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(STATEMENT_COLUMNS)
    writer.writerows(statement_line(row) for row in rows)
    return out.getvalue()


def write_statement(path: Path | str, rows: Iterable[StatementRow]) -> Path:
    """Write the statement of ``rows`` to ``path`` and return the path.

    The text goes to a temporary file beside it that then replaces ``path``, so a reader
    never sees half a statement.
    """
    target = Path(path)
    text = statement_csv(rows)
    partial = target.with_name(f".{target.name}.partial")
    with partial.open("w", encoding="utf-8", newline="") as file:
        file.write(text)
    os.replace(partial, target)
    return target


def _exact(value: Decimal) -> str:
    """The decimal's exact digits in plain notation (``format(..., "f")`` never rounds)."""
    if not value.is_finite():
        raise SimVenueError(f"a statement amount must be finite, not {value}")
    return format(value, "f")
