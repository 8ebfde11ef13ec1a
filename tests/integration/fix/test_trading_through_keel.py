"""A QuickFIX client trades through Keel to a QuickFIX broker: client acceptor ->
intake -> sequencer -> venue initiator -> broker, and the reports back the same way."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from keel.adapters.clock import SystemClock
from keel.adapters.fix import tags as t
from keel.adapters.fix.client_gateway import ClientSession
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.venue_mapping import default_mapping
from keel.adapters.store.memory import MemoryStore
from keel.domain.enums import OrderStatus
from keel.domain.ids import InstrumentId
from keel.domain.instruments import Instrument
from keel.domain.risk import Limits
from keel.node import CLIENT_MESSAGES, VENUE_MESSAGES, Node, NodeConfig, VenueLink
from support.aio import free_port
from support.quickfix_driver import Event, QuickFixPeer, fields_of, needs_quickfix

pytestmark = [pytest.mark.integration, needs_quickfix, pytest.mark.timeout(120)]

ACME = Instrument(InstrumentId("ACME"), "ACME", Decimal("0.01"), Decimal(1), Decimal(1), 2)


@dataclass
class World:
    node: Node
    client: QuickFixPeer
    broker: QuickFixPeer

    async def client_gets(self, match: Callable[[dict[str, str]], bool]) -> dict[int, str]:
        event = await asyncio.to_thread(
            self.client.wait_for,
            lambda e: e["event"] == "app" and match(_named(e)),
            15,
        )
        return fields_of(event["raw"])

    async def broker_gets(self, msg_type: str, nth: int = 1) -> dict[int, str]:
        await asyncio.to_thread(
            self.broker.wait_for, lambda e: len(self.broker.app_messages(msg_type)) >= nth, 15
        )
        return fields_of(self.broker.app_messages(msg_type)[nth - 1]["raw"])


def _named(event: Event) -> dict[str, str]:
    fields = fields_of(event["raw"])
    return {
        "type": event["msg_type"], "cl": fields.get(t.CL_ORD_ID, ""),
        "exec_type": fields.get(t.EXEC_TYPE, ""), "status": fields.get(t.ORD_STATUS, ""),
    }  # fmt: skip


@asynccontextmanager
async def world(
    tmp_path: Path,
    limits: dict[tuple[str, str], Limits] | None = None,
    pending_new: bool = True,
) -> AsyncIterator[World]:
    broker_port = free_port()
    broker = await asyncio.to_thread(
        QuickFixPeer, role="acceptor", port=broker_port, sender="SIMBROKER", target="KEEL",
        store=tmp_path / "broker",
    )  # fmt: skip
    store = MemoryStore()
    store.migrate()
    config = NodeConfig(
        instruments={"ACME": ACME},
        clients=[
            ClientSession(
                SessionConfig("FIX.4.4", "KEEL", "CLIENT", initiator=False,
                              app_msg_types=CLIENT_MESSAGES),
                user="alice", accounts=frozenset({"FUND-A"}), pending_new=pending_new,
            )
        ],
        venues=[
            VenueLink(
                SessionConfig("FIX.4.4", "KEEL", "SIMBROKER", initiator=True,
                              app_msg_types=VENUE_MESSAGES),
                "127.0.0.1", broker_port, default_mapping("SIM", "FIX.4.4"),
            )
        ],
        default_venue="SIM", timer_interval=0.2, reconnect_backoff=(0.2, 1.0),
        limits=limits or {},
    )  # fmt: skip
    node = Node(store, SystemClock(), config)
    await node.start()
    client = await asyncio.to_thread(
        QuickFixPeer, role="initiator", port=node.client_port, sender="CLIENT", target="KEEL",
        store=tmp_path / "client",
    )  # fmt: skip
    try:
        await asyncio.to_thread(client.wait_for, lambda e: e["event"] == "logon", 15)
        await asyncio.to_thread(broker.wait_for, lambda e: e["event"] == "logon", 15)
        yield World(node, client, broker)
    finally:
        await asyncio.to_thread(client.stop)
        await node.stop()
        await asyncio.to_thread(broker.stop)


def nos(
    cl: str, account: str = "FUND-A", qty: int = 300, price: str = "10.00"
) -> list[tuple[int, object]]:
    return [
        (t.CL_ORD_ID, cl), (t.ACCOUNT, account), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
        (t.TRANSACT_TIME, "20260302-14:30:00.000"), (t.ORDER_QTY, qty), (t.ORD_TYPE, "2"),
        (t.PRICE, price), (t.TIME_IN_FORCE, "0"),
    ]  # fmt: skip


def broker_report(nos_fields: dict[int, str], exec_id: str, exec_type: str, status: str,
                  **extra: object) -> list[tuple[int, object]]:  # fmt: skip
    fields: list[tuple[int, object]] = [
        (t.ORDER_ID, f"V-{nos_fields[t.CL_ORD_ID]}"), (t.CL_ORD_ID, nos_fields[t.CL_ORD_ID]),
        (t.EXEC_ID, exec_id), (t.EXEC_TYPE, exec_type), (t.ORD_STATUS, status),
        (t.SYMBOL, "ACME"), (t.SIDE, "1"), (t.ORDER_QTY, nos_fields[t.ORDER_QTY]),
        (t.TRANSACT_TIME, "20260302-14:30:01.000"),
    ]  # fmt: skip
    return fields + [(int(tag), value) for tag, value in extra.items()]


def test_a_client_order_is_routed_acknowledged_and_filled_end_to_end(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            w.client.send("D", nos("C1"))
            pending = await w.client_gets(lambda m: m["cl"] == "C1" and m["exec_type"] == "A")
            order_id = pending[t.ORDER_ID]
            routed = await w.broker_gets("D")
            assert routed[t.CL_ORD_ID] == f"{order_id}.1"
            assert (routed[t.ACCOUNT], routed[t.ORDER_QTY], routed[t.PRICE]) == (
                "FUND-A", "300", "10.00",
            )  # fmt: skip
            w.broker.send("8", broker_report(routed, "B-A1", "0", "0",
                                             **{"151": 300, "14": 0, "6": 0}))  # fmt: skip
            await w.client_gets(lambda m: m["cl"] == "C1" and m["exec_type"] == "0")
            w.broker.send("8", broker_report(routed, "B-F1", "F", "2",
                                             **{"32": 300, "31": "10.00", "151": 0, "14": 300,
                                                "6": "10.00"}))  # fmt: skip
            trade = await w.client_gets(lambda m: m["cl"] == "C1" and m["exec_type"] == "F")
            assert (trade[t.ORD_STATUS], trade[t.CUM_QTY], trade[t.LEAVES_QTY]) == ("2", "300", "0")
            assert (trade[t.LAST_QTY], trade[t.LAST_PX]) == ("300", "10.00")
            orders = {row["order_id"]: row for row in w.node.store.read_table("orders")}
            assert orders[order_id]["status"] == OrderStatus.FILLED

    asyncio.run(scenario())


def test_a_session_without_pending_new_hears_new_on_the_ack_and_no_pending_new(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with world(tmp_path, pending_new=False) as w:
            w.client.send("D", nos("C1"))
            routed = await w.broker_gets("D")
            w.broker.send("8", broker_report(routed, "B-A1", "0", "0",
                                             **{"151": 300, "14": 0, "6": 0}))  # fmt: skip
            new = await w.client_gets(lambda m: m["cl"] == "C1" and m["exec_type"] == "0")
            assert new[t.ORD_STATUS] == "0"
            heard = [_named(e)["exec_type"] for e in w.client.app_messages("8")]
            assert heard == ["0"], heard

    asyncio.run(scenario())


def test_an_order_for_an_account_the_client_may_not_trade_is_rejected_and_creates_nothing(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            w.client.send("D", nos("C9", account="FUND-Z"))
            reject = await w.client_gets(lambda m: m["cl"] == "C9" and m["exec_type"] == "8")
            assert "may not trade account 'FUND-Z'" in reject[t.TEXT]
            assert list(w.node.store.read_table("orders")) == []

    asyncio.run(scenario())


def test_a_client_cancel_travels_to_the_broker_and_back_with_the_clients_ids(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            w.client.send("D", nos("C2"))
            routed = await w.broker_gets("D")
            w.broker.send("8", broker_report(routed, "B-A2", "0", "0",
                                             **{"151": 300, "14": 0, "6": 0}))  # fmt: skip
            await w.client_gets(lambda m: m["cl"] == "C2" and m["exec_type"] == "0")
            w.client.send("F", [
                (t.ORIG_CL_ORD_ID, "C2"), (t.CL_ORD_ID, "C3"), (t.SYMBOL, "ACME"),
                (t.SIDE, "1"), (t.TRANSACT_TIME, "20260302-14:31:00.000"), (t.ORDER_QTY, 300),
            ])  # fmt: skip
            cancel = await w.broker_gets("F")
            assert cancel[t.ORIG_CL_ORD_ID] == routed[t.CL_ORD_ID]
            await w.client_gets(lambda m: m["cl"] == "C3" and m["exec_type"] == "6")
            w.broker.send("8", broker_report(cancel, "B-X2", "4", "4",
                                             **{"41": routed[t.CL_ORD_ID], "151": 0, "14": 0,
                                                "6": 0}))  # fmt: skip
            done = await w.client_gets(lambda m: m["cl"] == "C3" and m["exec_type"] == "4")
            assert (done[t.ORIG_CL_ORD_ID], done[t.ORD_STATUS]) == ("C2", "4")

    asyncio.run(scenario())


def test_a_fill_while_the_client_is_away_reaches_it_by_resend_after_logon(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with world(tmp_path) as w:
            w.client.send("D", nos("C5"))
            routed = await w.broker_gets("D")
            w.broker.send("8", broker_report(routed, "B-A5", "0", "0",
                                             **{"151": 300, "14": 0, "6": 0}))  # fmt: skip
            await w.client_gets(lambda m: m["cl"] == "C5" and m["exec_type"] == "0")
            await asyncio.to_thread(w.client.stop)  # logs out and goes away
            while w.node.clients.connected:
                await asyncio.sleep(0.02)
            w.broker.send("8", broker_report(routed, "B-F5", "F", "2",
                                             **{"32": 300, "31": "10.00", "151": 0, "14": 300,
                                                "6": "10.00"}))  # fmt: skip
            while w.node.sequencer.open_orders:
                await asyncio.sleep(0.02)  # filled: the report is kept for the client
            w.client = await asyncio.to_thread(
                QuickFixPeer, role="initiator", port=w.node.client_port, sender="CLIENT",
                target="KEEL", store=tmp_path / "client",
            )  # fmt: skip
            trade = await w.client_gets(lambda m: m["cl"] == "C5" and m["exec_type"] == "F")
            assert trade[t.POSS_DUP_FLAG] == "Y"
            assert (trade[t.ORD_STATUS], trade[t.CUM_QTY]) == ("2", "300")

    asyncio.run(scenario())


def test_an_order_over_a_limit_sent_over_fix_is_rejected_naming_the_limit(tmp_path: Path) -> None:
    async def scenario() -> None:
        limits = {("*", "*"): Limits(max_order_qty=Decimal(200))}
        async with world(tmp_path, limits) as w:
            w.client.send("D", nos("C7", qty=300))
            reject = await w.client_gets(lambda m: m["cl"] == "C7" and m["exec_type"] == "8")
            assert reject[t.ORD_STATUS] == "8"
            assert "RISK_MAX_ORDER_QTY: quantity 300 is above the limit of 200" in reject[t.TEXT]
            (row,) = list(w.node.store.read_table("orders"))
            assert (row["status"], row["client_order_id"]) == ("REJECTED", "C7")
            assert w.broker.app_messages("D") == []  # nothing went to the venue

    asyncio.run(scenario())
