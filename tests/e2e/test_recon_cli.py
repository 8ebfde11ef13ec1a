"""``keel recon run`` as an operator runs it: ``keel serve`` trading with ``keel venue-sim``
(its drop copy on, its statement written when it stops), then the venue's statement sent to
the running Keel from the command line: a clean run, a tampered one, and bad input."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
import pytest

from support.aio import free_port
from support.cli import KEEL, keel
from support.cli import running as run_command

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ENV = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "COLUMNS": "200"}

CONFIG = """
[node]
default_venue = "SIM"

[[instruments]]
symbol = "ACME"
tick = "0.01"

[fix]
listen_port = 0

[[fix.venues]]
venue = "SIM"
port = {venue_port}
target_comp_id = "SIM"

[[recon.brokers]]
name = "SIM"
venue = "SIM"
drop_copy = {{ port = {venue_port}, target_comp_id = "SIM", sender_comp_id = "KEEL-DC" }}

[[recon.statements]]
broker = "SIM"
version = 1
valid_from = 2020-01-01
date_format = "%Y%m%d"
sides = {{ B = "BUY", S = "SELL", SS = "SELL_SHORT" }}
[recon.statements.columns]
trade_id = "TradeID"
broker_order_id = "OrderID"
cl_ord_id = "ClOrdID"
account = "Account"
symbol = "Symbol"
side = "Side"
qty = "Quantity"
price = "Price"
trade_date = "TradeDate"
settle_date = "SettleDate"
"""


def _key(db: str, name: str, role: str) -> str:
    added = keel("users", "add", name, "--role", role, "--accounts", "FUND-A", "--db", db)
    found = re.search(r"keel_\S+", added.stdout)
    assert found, added.stderr
    return found.group(0)


def test_an_operator_reconciles_the_venues_statement_from_the_command_line(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 'keel.db'}"
    trader, ops = _key(db, "alice", "trader"), _key(db, "olga", "operations")
    venue_port, http_port = free_port(), free_port()
    config = tmp_path / "keel.toml"
    config.write_text(CONFIG.format(venue_port=venue_port))
    statements = tmp_path / "statements"
    assert KEEL
    venue_args = [KEEL, "venue-sim", "--port", str(venue_port), "--tick-ms", "0",
                  "--drop-copy", "KEEL-DC", "--statement-dir", str(statements)]  # fmt: skip
    serve_args = [KEEL, "serve", "--config", str(config), "--db", db,
                  "--http-port", str(http_port)]  # fmt: skip
    base = f"http://127.0.0.1:{http_port}"
    with run_command(venue_args, ENV) as venue, run_command(serve_args, ENV) as server:
        assert venue.stdout is not None
        assert server.stdout is not None
        assert server.stdout.readline().startswith("keel serving HTTP")
        deadline = time.monotonic() + 20
        while httpx.get(f"{base}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the venue session never came up"
            time.sleep(0.05)
        order = {"account": "FUND-A", "symbol": "ACME", "side": "BUY", "qty": "10",
                 "limit_price": "150.00"}  # fmt: skip
        headers = {"Authorization": f"Bearer {trader}"}
        order_id = httpx.post(f"{base}/v1/orders", json=order, headers=headers).json()["order_id"]
        while not httpx.get(f"{base}/v1/fills?order_id={order_id}", headers=headers).json()[
            "fills"
        ]:
            assert time.monotonic() < deadline, "the order was never filled"
            time.sleep(0.05)
        time.sleep(0.5)  # the drop copy's report of the fill
        venue.send_signal(signal.SIGINT)
        assert venue.wait(timeout=20) == 0
        [statement] = sorted(statements.glob("sim-statement-*.csv"))

        def recon(path: Path, *more: str) -> tuple[int, str, str]:
            done = keel("recon", "run", "--broker", "SIM", "--statement", str(path),
                        "--url", base, "--key", ops, *more)  # fmt: skip
            return done.returncode, done.stdout, done.stderr

        status, shown, _ = recon(statement, "--out", str(tmp_path / "reports"))
        assert status == 0, shown
        assert "CLEAN" in shown
        assert "matched by ExecID" in shown
        reports = sorted(p.suffix for p in (tmp_path / "reports").iterdir())
        assert reports == [".csv", ".html"]

        lines = statement.read_text().splitlines()
        fields = lines[1].split(",")
        fields[6] = str(int(fields[6]) + 1)  # the broker says 11 where Keel booked 10
        tampered = tmp_path / "tampered.csv"
        tampered.write_text("\n".join([lines[0], ",".join(fields)]) + "\n")
        status, shown, _ = recon(tampered)
        assert status == 3
        assert "QUANTITY_MISMATCH" in shown

        bad = tmp_path / "bad.csv"
        bad.write_text(lines[0] + "\n" + ",".join([*fields[:6], "ten", *fields[7:]]) + "\n")
        status, _, errors = recon(bad)
        assert status == 1
        assert "bad.csv:2" in errors
        assert "Traceback" not in errors

        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0


def test_recon_without_a_key_or_keel_is_one_error_line(tmp_path: Path) -> None:
    statement = tmp_path / "s.csv"
    statement.write_text("TradeID\n")
    no_key = keel("recon", "run", "--broker", "SIM", "--statement", str(statement))
    unreachable = keel("recon", "run", "--broker", "SIM", "--statement", str(statement),
                       "--key", "keel_x", "--url", f"http://127.0.0.1:{free_port()}")  # fmt: skip
    assert (no_key.returncode, unreachable.returncode) == (1, 1)
    assert no_key.stderr.startswith("keel: error: give an API key")
    assert "cannot reach Keel" in unreachable.stderr
