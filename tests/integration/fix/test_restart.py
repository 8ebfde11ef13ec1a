"""After a restart on the same database, Keel's FIX sessions go on with their sequence
numbers: the broker (QuickFIX, with its own file store) sees no reset and no gap."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from keel.adapters.clock import SystemClock
from keel.adapters.fix import tags as t
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.venue_mapping import default_mapping
from keel.adapters.store.sqlite import SqliteStore
from keel.app.replay import load_order
from keel.app.sequencer import Sequencer
from keel.domain.enums import OrderStatus
from keel.domain.ids import ClOrdId, InstrumentId, OrderId
from keel.domain.inputs import NewOrderAccepted
from keel.domain.instruments import Instrument
from keel.node import VENUE_MESSAGES, Node, NodeConfig, VenueLink
from support.aio import free_port, until
from support.builders import spec
from support.quickfix_driver import QuickFixPeer, fields_of, needs_quickfix

pytestmark = [pytest.mark.integration, needs_quickfix, pytest.mark.timeout(120)]

ACME = Instrument(InstrumentId("ACME"), "ACME", Decimal("0.01"), Decimal(1), Decimal(1), 2)
SESSION = SessionConfig(
    "FIX.4.4", "KEEL", "SIMBROKER", initiator=True, app_msg_types=VENUE_MESSAGES
)


def node_on(db: Path, port: int) -> Node:
    config = NodeConfig(
        instruments={"ACME": ACME},
        venues=[VenueLink(SESSION, "127.0.0.1", port, default_mapping("SIM", "FIX.4.4"))],
        timer_interval=0.2, reconnect_backoff=(0.2, 1.0),
    )  # fmt: skip
    store = SqliteStore(db)
    store.migrate()
    return Node(store, SystemClock(), config)


async def trade_one(node: Node, broker: QuickFixPeer, order_id: str, nth: int) -> None:
    now = datetime.now(UTC)
    await node.sequencer.submit(
        NewOrderAccepted(order_id=OrderId(order_id), ingest_time=now, event_time=now,
                         spec=spec(100), cl_ord_id=ClOrdId(f"{order_id}.1")),
        source="test",
    )  # fmt: skip
    await asyncio.to_thread(broker.wait_for, lambda e: len(broker.app_messages("D")) >= nth, 15)
    routed = fields_of(broker.app_messages("D")[nth - 1]["raw"])
    assert routed[t.CL_ORD_ID] == f"{order_id}.1"
    broker.send("8", [
        (t.ORDER_ID, f"V-{order_id}"), (t.CL_ORD_ID, routed[t.CL_ORD_ID]),
        (t.EXEC_ID, f"F-{order_id}"), (t.EXEC_TYPE, "F"), (t.ORD_STATUS, "2"),
        (t.SYMBOL, "ACME"), (t.SIDE, "1"), (t.ORDER_QTY, 100), (t.LAST_QTY, 100),
        (t.LAST_PX, "10.00"), (t.LEAVES_QTY, 0), (t.CUM_QTY, 100), (t.AVG_PX, "10.00"),
    ])  # fmt: skip

    def filled() -> bool:
        order = load_order(node.store, order_id)
        return order is not None and order.status is OrderStatus.FILLED

    await until(filled)


def test_sequence_numbers_go_on_after_a_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        broker = await asyncio.to_thread(
            QuickFixPeer, role="acceptor", port=port, sender="SIMBROKER", target="KEEL",
            store=tmp_path / "broker",
        )  # fmt: skip
        db = tmp_path / "keel.db"
        try:
            first = node_on(db, port)
            await first.start()
            await until(lambda: first.venues["SIM"].connection is not None)
            await trade_one(first, broker, "R1", 1)
            await first.stop()  # logs out: the Logout takes a number too
            before = first.store.fix_session(SESSION.session_id)
            first.store.close()
            assert before is not None
            assert before.next_sender > 2

            second = node_on(db, port)
            await second.start()
            await until(lambda: second.venues["SIM"].connection is not None)
            session = second.venues["SIM"].connection
            assert session is not None
            assert session.session.next_sender_seq > before.next_sender  # went on, no reset
            assert session.session.next_target_seq > 1
            await trade_one(second, broker, "R2", 2)
            await second.stop()
            second.store.close()
        finally:
            await asyncio.to_thread(broker.stop)
        logons = [fields_of(e["raw"]) for e in broker.events
                  if e["event"] == "admin_in" and e["msg_type"] == "A"]  # fmt: skip
        assert int(logons[0][t.MSG_SEQ_NUM]) == 1
        assert int(logons[1][t.MSG_SEQ_NUM]) == before.next_sender
        assert all(m.get(t.RESET_SEQ_NUM_FLAG) != "Y" for m in logons)
        admin = [e for e in broker.events if e["event"] in ("admin_in", "admin_out")]
        too_low = [e for e in admin if "too low" in e.get("raw", "")]
        assert too_low == []

    asyncio.run(scenario())


def test_an_order_left_pending_by_a_stop_is_asked_for_after_the_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        port = free_port()
        db = tmp_path / "keel.db"
        store = SqliteStore(db)
        store.migrate()
        sequencer = Sequencer(store, SystemClock(), tune_collector=False)
        await sequencer.start()
        now = datetime.now(UTC)
        await sequencer.submit(
            NewOrderAccepted(order_id=OrderId("P1"), ingest_time=now, event_time=now,
                             spec=spec(100), cl_ord_id=ClOrdId("P1.1")),
            source="test",
        )  # committed, but the process stops before its order goes to the venue  # fmt: skip
        await sequencer.stop()
        store.close()
        broker = await asyncio.to_thread(
            QuickFixPeer, role="acceptor", port=port, sender="SIMBROKER", target="KEEL",
            store=tmp_path / "broker",
        )  # fmt: skip
        node = node_on(db, port)
        await node.start()
        try:
            status = await asyncio.to_thread(
                broker.wait_for, lambda e: e["event"] == "app" and e["msg_type"] == "H", 15
            )
            assert fields_of(status["raw"])[t.CL_ORD_ID] == "P1.1"
            broker.send("8", [
                (t.ORDER_ID, "NONE"), (t.CL_ORD_ID, "P1.1"), (t.EXEC_ID, "S-P1"),
                (t.EXEC_TYPE, "I"), (t.ORD_STATUS, "8"), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
                (t.LEAVES_QTY, 0), (t.CUM_QTY, 0), (t.AVG_PX, 0), (t.TEXT, "unknown order"),
            ])  # fmt: skip

            def rejected() -> bool:
                order = load_order(node.store, "P1")
                return order is not None and order.status is OrderStatus.REJECTED

            await until(rejected)
        finally:
            await node.stop()
            node.store.close()
            await asyncio.to_thread(broker.stop)

    asyncio.run(scenario())
