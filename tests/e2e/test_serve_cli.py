"""``keel users`` and ``keel serve`` as an operator runs them: real processes, a config
file, the simulated venue, an order over HTTP with a key made on the command line, Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from support.aio import free_port
from support.cli import KEEL, keel
from support.cli import running as run_command

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

ENV = {"PATH": "/usr/bin:/bin", "TERM": "dumb", "COLUMNS": "200"}


@contextmanager
def running(*args: str) -> Iterator[subprocess.Popen[str]]:
    assert KEEL
    with run_command([KEEL, *args], ENV) as process:
        yield process


def test_users_are_added_listed_and_revoked_and_a_key_is_shown_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keel.db'}"
    added = keel("users", "add", "alice", "--role", "trader", "--accounts", "FUND-A,FUND-B",
                 "--db", db)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "user alice (trader) on FUND-A, FUND-B" in added.stdout
    assert re.search(r"API key \(shown only now\): keel_\S{40,}", added.stdout)
    listed = keel("users", "list", "--db", db)
    assert "alice" in listed.stdout
    assert "keel_" not in listed.stdout  # keys are never shown again
    assert keel("users", "revoke", "alice", "--db", db).returncode == 0
    missing = keel("users", "revoke", "nobody", "--db", db)
    assert (missing.returncode, missing.stderr.strip()) == (1, "keel: error: no user 'nobody'")
    bad = keel("users", "add", "bob", "--role", "pilot", "--db", db)
    assert bad.returncode == 2
    assert "invalid choice: 'pilot'" in bad.stderr


def test_keel_serve_trades_over_http_with_a_key_from_the_command_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'keel.db'}"
    key = re.search(r"keel_\S+", keel("users", "add", "alice", "--role", "trader",
                                      "--accounts", "FUND-A", "--db", db).stdout)  # fmt: skip
    assert key
    venue_port, http_port = free_port(), free_port()
    config = tmp_path / "keel.toml"
    config.write_text(f"""
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
heartbeat = 30
""")
    with running("venue-sim", "--port", str(venue_port), "--tick-ms", "0") as venue:
        assert venue.stdout is not None
        assert "listening" in venue.stdout.readline()
        with running("serve", "--config", str(config), "--db", db,
                     "--http-port", str(http_port)) as server:  # fmt: skip
            assert server.stdout is not None
            assert server.stdout.readline().startswith(
                f"keel serving HTTP on 127.0.0.1:{http_port}"
            )
            base = f"http://127.0.0.1:{http_port}"
            headers = {"Authorization": f"Bearer {key.group(0)}"}
            deadline = time.monotonic() + 15
            while httpx.get(f"{base}/readyz").status_code != 200:
                assert time.monotonic() < deadline, "the venue session never came up"
                time.sleep(0.05)
            order = {"account": "FUND-A", "symbol": "ACME", "side": "BUY", "qty": "10",
                     "limit_price": "150.00"}  # fmt: skip
            placed = httpx.post(f"{base}/v1/orders", json=order, headers=headers)
            assert placed.status_code == 201, placed.text
            order_id = placed.json()["order_id"]
            while httpx.get(f"{base}/v1/orders/{order_id}",
                            headers=headers).json()["status"] != "FILLED":  # fmt: skip
                assert time.monotonic() < deadline + 15, "the order was never filled"
                time.sleep(0.05)
            assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Keel"
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=20) == 0
            assert "every input taken is committed" in server.stdout.read()
        venue.send_signal(signal.SIGINT)
        venue.wait(timeout=20)
    shown = keel("order", "show", order_id, "--db", db)
    assert shown.returncode == 0
    assert "FILLED" in shown.stdout
    audited = keel("audit", "--db", db, columns=400)
    assert audited.returncode == 0
    assert "user:alice" in audited.stdout
    assert "POST /v1/orders" in audited.stdout
    assert '"qty":"10"' in audited.stdout.replace(" ", "")


def test_keel_serve_with_a_bad_config_names_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "keel.toml"
    config.write_text('[[instruments]]\nsymbol = "ACME"\ntick = 0.01\n')
    result = keel("serve", "--config", str(config), "--db", f"sqlite:///{tmp_path / 'k.db'}")
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"keel: error: {config}: instruments[0].tick:")
    assert "Traceback" not in result.stderr


def test_a_taken_http_port_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = keel("demo", "--serve", "--http-port", str(port))
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"keel: error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr
    assert "Open the blotter" not in result.stdout
