"""``keel venue-sim`` as a user runs it: a real process, a FIX client on a real socket, and
Ctrl-C to end it."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keel.adapters.clock import SystemClock
from keel.adapters.fix import tags as t
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.session import Session
from keel.adapters.fix.store import MemorySessionStore
from keel.adapters.fix.transport import FixConnection, FixInitiator
from support.aio import until
from support.cli import running

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

LISTENING = re.compile(r"^venue-sim listening on 127\.0\.0\.1:(\d+) as (\S+) \((FIX\.4\.[24])\)$")
ENV = {"PATH": "/usr/bin:/bin", "TERM": "dumb"}


def venue_sim_command(*args: str) -> list[str]:
    """``keel venue-sim ARGS``, through the module until the subcommand is wired into keel."""
    return [sys.executable, "-m", "keel.cli.venue_sim", *args]


@contextmanager
def venue_sim(*args: str) -> Iterator[subprocess.Popen[str]]:
    with running(venue_sim_command(*args), ENV) as process:
        yield process


@dataclass
class Desk:
    """A Keel FIX initiator as the venue's client."""

    messages: list[FixMessage] = field(default_factory=list)
    logons: int = 0
    logouts: list[str] = field(default_factory=list)

    async def on_logon(self, connection: FixConnection) -> None:
        self.logons += 1

    async def on_logout(self, connection: FixConnection, reason: str) -> None:
        self.logouts.append(reason)

    async def on_message(
        self, connection: FixConnection, message: FixMessage, poss_dup: bool
    ) -> None:
        self.messages.append(message)


@asynccontextmanager
async def desk_connected(
    port: int, begin_string: str, sender: str = "KEEL"
) -> AsyncIterator[tuple[Desk, FixInitiator]]:
    desk = Desk()
    config = SessionConfig(
        begin_string, sender, "SIM", initiator=True, app_msg_types=frozenset({"8", "9"})
    )
    initiator = FixInitiator(
        Session(config, MemorySessionStore(datetime.now(UTC))), desk, SystemClock(),
        host="127.0.0.1", port=port, timer_interval=0.2, backoff=(5.0, 5.0),
    )  # fmt: skip
    initiator.start()
    try:
        await until(lambda: desk.logons == 1)
        yield desk, initiator
    finally:
        await initiator.stop()


def market_buy(cl_ord_id: str, qty: int) -> list[tuple[int, object]]:
    return [
        (t.CL_ORD_ID, cl_ord_id), (t.HANDL_INST, "1"), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
        (t.TRANSACT_TIME, datetime.now(UTC)), (t.ORDER_QTY, qty), (t.ORD_TYPE, "1"),
    ]  # fmt: skip


async def trade_one_order_then_interrupt(
    process: subprocess.Popen[str], begin_string: str, reports: int
) -> list[FixMessage]:
    """Read the listening line, buy 10 ACME at market, then Ctrl-C the venue."""
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 15)
    listening = LISTENING.match(line.rstrip("\n"))
    assert listening, line
    assert listening.group(2, 3) == ("SIM", begin_string)
    async with desk_connected(int(listening.group(1)), begin_string) as (desk, initiator):
        assert initiator.connection is not None
        await initiator.connection.send("D", market_buy("C1", 10))
        await until(lambda: len(desk.messages) >= reports)
        process.send_signal(signal.SIGINT)
        await until(lambda: bool(desk.logouts))
        assert desk.logouts[0].startswith("logged out by the peer"), desk.logouts
    return desk.messages


def test_venue_sim_listens_fills_an_order_and_logs_out_on_ctrl_c() -> None:
    with venue_sim("--port", "0", "--tick-ms", "50") as process:
        messages = asyncio.run(trade_one_order_then_interrupt(process, "FIX.4.4", 2))
        assert process.wait(timeout=15) == 0
        assert process.stdout is not None
        assert process.stderr is not None
        rest, errors = process.stdout.read(), process.stderr.read()
    assert [(m.get_str(t.EXEC_TYPE), m.get_str(t.ORD_STATUS)) for m in messages] == [
        ("0", "0"), ("F", "2"),
    ]  # fmt: skip
    assert messages[1].get_str(t.LAST_QTY) == "10"
    assert rest == "venue-sim stopped\n"
    assert "Traceback" not in errors


async def trade_with_a_drop_copy_then_interrupt(
    process: subprocess.Popen[str],
) -> tuple[list[FixMessage], list[FixMessage]]:
    """Log a drop copy and a desk on, buy 10 ACME at market, then Ctrl-C the venue."""
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 15)
    listening = LISTENING.match(line.rstrip("\n"))
    assert listening, line
    port = int(listening.group(1))
    async with (
        desk_connected(port, "FIX.4.4", "KEEL-DC") as (copies, _),
        desk_connected(port, "FIX.4.4") as (desk, initiator),
    ):
        assert initiator.connection is not None
        await initiator.connection.send("D", market_buy("C1", 10))
        await until(lambda: len(desk.messages) >= 2 and len(copies.messages) >= 2)
        process.send_signal(signal.SIGINT)
        await until(lambda: bool(desk.logouts) and bool(copies.logouts))
    return desk.messages, copies.messages


def test_venue_sim_copies_to_its_drop_copy_and_writes_its_statement_when_stopped(
    tmp_path: Path,
) -> None:
    statements = tmp_path / "statements"
    args = ("--port", "0", "--tick-ms", "0", "--drop-copy", "KEEL-DC")
    with venue_sim(*args, "--statement-dir", str(statements)) as process:
        messages, copies = asyncio.run(trade_with_a_drop_copy_then_interrupt(process))
        assert process.wait(timeout=15) == 0
    fill_id = messages[1].get_str(t.EXEC_ID)
    assert [m.get_str(t.EXEC_ID) for m in copies] == [m.get_str(t.EXEC_ID) for m in messages]
    assert {(m.get_str(115), m.get_str(128)) for m in copies} == {("SIM", "KEEL")}
    (statement,) = statements.iterdir()
    header, row = statement.read_text(encoding="utf-8").splitlines()
    assert (
        header == "TradeID,OrderID,ClOrdID,Account,Symbol,Side,Quantity,Price,TradeDate,SettleDate"
    )
    trade_id, order_id, cl_ord_id, account, symbol, side, qty, price, trade_date, _ = row.split(",")
    assert (trade_id, order_id) == (fill_id, messages[1].get_str(t.ORDER_ID))
    assert (cl_ord_id, account, symbol, side, qty) == ("C1", "", "ACME", "B", "10")
    assert price == messages[1].get_str(t.LAST_PX)
    assert statement.name == f"sim-statement-{trade_date}.csv"


def test_venue_sim_takes_its_version_and_faults_from_the_command_line() -> None:
    args = ("--port", "0", "--fix", "4.2", "--tick-ms", "0", "--fault", "partial-fills=2")
    with venue_sim(*args) as process:
        messages = asyncio.run(trade_one_order_then_interrupt(process, "FIX.4.2", 3))
        assert process.wait(timeout=15) == 0
    assert [m.get_str(t.EXEC_TYPE) for m in messages] == ["0", "1", "2"]
    assert [m.get_str(t.EXEC_TRANS_TYPE) for m in messages] == ["0", "0", "0"]
    assert [m.get_str(t.LAST_QTY) for m in messages[1:]] == ["5", "5"]


def test_venue_sim_stops_cleanly_on_sigterm_with_no_client() -> None:
    with venue_sim("--port", "0") as process:
        assert process.stdout is not None
        assert LISTENING.match(process.stdout.readline().rstrip("\n"))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        ((), "the following arguments are required: --port"),
        (("--port", "http"), "argument --port: 'http' is not a port number"),
        (("--port", "0", "--fix", "4.3"), "argument --fix: invalid choice: '4.3'"),
        (("--port", "0", "--fault", "meteor=1"), "'meteor=1' is not NAME=VALUE"),
        (("--port", "0", "--fault", "reject=1.5"), "reject=1.5: a ratio between 0 and 1"),
        (("--port", "0", "--fault", "partial-fills=1"), "a whole number of at least 2"),
        (("--port", "0", "--tick-ms", "-5"), "argument --tick-ms: '-5' is not a whole number"),
        (("--port", "0", "--statement-dir", __file__), "py' is not a directory"),
        (("--port", "0", "--end-of-day", "25:00"), "'25:00' is not a UTC time as HH:MM"),
        (("--port", "0", "--drop-copy", "A B"), "argument --drop-copy: 'A B' is not a CompID"),
    ],
)
def test_bad_arguments_get_one_error_line_and_exit_status_2(
    args: tuple[str, ...], complaint: str
) -> None:
    result = subprocess.run(
        venue_sim_command(*args), capture_output=True, text=True, timeout=30, env=ENV,
        check=False,
    )  # fmt: skip
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("keel venue-sim: error: ")
    assert complaint in lines[0]
    assert result.stdout == ""


def test_a_port_already_taken_is_one_error_line_and_exit_status_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = subprocess.run(
            venue_sim_command("--port", port), capture_output=True, text=True, timeout=30,
            env=ENV, check=False,
        )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("keel venue-sim: error: ")
    assert "address already in use" in lines[0]
