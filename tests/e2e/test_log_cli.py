"""The log's commands as an operator runs them, on a real SQLite database."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from keel.adapters.clock import ManualClock
from keel.adapters.store.schema import latest_version
from keel.adapters.store.sqlite import SqliteStore
from keel.app.sequencer import Sequencer
from keel.domain.ids import ClientOrderId, ClOrdId, ExecId, OrderId, VenueOrderId
from keel.domain.inputs import (
    CancelAck,
    CancelRequest,
    Fill,
    Input,
    NewOrderAccepted,
    SentToVenue,
    VenueAck,
)
from support.builders import T0, spec
from support.cli import keel


def base() -> dict[str, object]:
    return {"order_id": OrderId("ORD-9"), "ingest_time": T0, "event_time": T0}


def story() -> list[tuple[Input, str]]:
    b = base()
    return [
        (
            NewOrderAccepted(
                **b,  # type: ignore[arg-type]
                spec=spec(300),
                cl_ord_id=ClOrdId("ORD-9.1"),
                client_order_id=ClientOrderId("my-order-7"),
                actor="alice",
            ),
            "client:rest",
        ),
        (SentToVenue(**b, cl_ord_id=ClOrdId("ORD-9.1")), "gateway"),  # type: ignore[arg-type]
        (VenueAck(**b, exec_id=ExecId("E1"), venue_order_id=VenueOrderId("VX-1")), "venue:SIM"),  # type: ignore[arg-type]
        (
            Fill(
                **b,  # type: ignore[arg-type]
                exec_id=ExecId("E2"),
                last_qty=Decimal(100),
                last_px=Decimal("10.01"),
                cum_qty=Decimal(100),
                leaves_qty=Decimal(200),
            ),
            "venue:SIM",
        ),
        (CancelRequest(**b, cl_ord_id=ClOrdId("ORD-9.2"), actor="alice"), "client:rest"),  # type: ignore[arg-type]
        (CancelAck(**b, exec_id=ExecId("E3"), cl_ord_id=ClOrdId("ORD-9.2")), "venue:SIM"),  # type: ignore[arg-type]
    ]


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "keel.db"

    async def write() -> None:
        store = SqliteStore(path)
        store.migrate()
        seq = Sequencer(store, ManualClock(T0, timedelta(milliseconds=5)), tune_collector=False)
        await seq.start()
        for inp, source in story():
            await seq.submit(inp, source=source)
        await seq.stop()
        store.close()

    asyncio.run(write())
    return f"sqlite:///{path}"


@pytest.mark.e2e
@pytest.mark.parametrize("ref", ["ORD-9", "ORD-9.2", "VX-1", "FUND-A:my-order-7", "my-order-7"])
def test_order_show_finds_the_order_by_any_of_its_ids(db: str, ref: str) -> None:
    result = keel("order", "show", ref, "--db", db)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "ORD-9" in out
    assert "CANCELED" in out
    assert "fill 100 @ 10.01" in out
    assert "the cancel was requested after a partial fill" in out
    assert "VX-1" in out


@pytest.mark.e2e
def test_order_show_json_has_every_event_with_its_three_times(db: str) -> None:
    result = keel("order", "show", "ORD-9", "--json", "--db", db)
    assert result.returncode == 0, result.stderr
    history = json.loads(result.stdout)
    assert [e["type"] for e in history["timeline"]] == [
        "OrderCreated",
        "OrderSent",
        "OrderAcknowledged",
        "FillBooked",
        "RequestSent",
        "OrderCanceled",
    ]
    first = history["timeline"][0]
    assert {"ingest_time", "event_time", "processed_time", "raw", "input_source"} <= set(first)
    assert history["fills"][0]["exec_id"] == "E2"
    assert history["fills"][0]["price"] == "10.01"


@pytest.mark.e2e
def test_an_unknown_order_is_named_in_a_clear_message(db: str) -> None:
    result = keel("order", "show", "NOPE-1", "--db", db)
    assert result.returncode == 1
    assert "no order matches 'NOPE-1'" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.e2e
def test_verify_and_replay_pass_then_catch_tampering(db: str) -> None:
    assert keel("verify", "--db", db).returncode == 0
    replayed = keel("replay", "--verify", "--db", db)
    assert replayed.returncode == 0, replayed.stdout
    assert "projections identical" in replayed.stdout

    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE fills SET qty = '99' WHERE exec_id = 'E2'")
        conn.execute("UPDATE events SET actor = 'mallory' WHERE event_seq = 2")
    tampered = keel("replay", "--verify", "--db", db)
    assert tampered.returncode == 1
    assert "fills" in tampered.stdout
    assert "qty" in tampered.stdout
    chain = keel("verify", "--db", db)
    assert chain.returncode == 1
    assert "broken at event 2" in chain.stdout

    assert keel("replay", "--rebuild", "--db", db).returncode == 0
    assert keel("replay", "--verify", "--db", db).returncode == 0


@pytest.mark.e2e
def test_db_version_reports_the_schema_and_a_bad_url_gets_a_clear_error(db: str) -> None:
    version = keel("db", "version", "--db", db)
    assert version.returncode == 0
    assert f"schema version {latest_version()}" in version.stdout
    bad = keel("verify", "--db", "mysql://nowhere/keel")
    assert bad.returncode == 1
    assert "keel: error: db:" in bad.stderr
    assert "Traceback" not in bad.stderr
