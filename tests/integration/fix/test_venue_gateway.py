"""Keel's venue gateway against a QuickFIX broker: orders out through the sequencer's
effects, execution reports in as durable inputs, duplicates harmless, in-doubt orders
asked for after a reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from integration.store.rows import a_batch, a_link, an_order
from keel.adapters.clock import SystemClock
from keel.adapters.fix import tags as t
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.session import Session
from keel.adapters.fix.store import MemorySessionStore
from keel.adapters.fix.transport import FixInitiator
from keel.adapters.fix.venue_gateway import FixVenueGateway
from keel.adapters.fix.venue_mapping import default_mapping
from keel.adapters.store.memory import MemoryStore
from keel.app.dispatch import EffectDispatcher
from keel.app.replay import load_order
from keel.app.sequencer import Sequencer
from keel.domain.enums import OrderStatus
from keel.domain.ids import ClOrdId, OrderId, venue_order_ref
from keel.domain.inputs import NewOrderAccepted
from keel.domain.order import Order
from support.aio import free_port, until
from support.builders import spec
from support.quickfix_driver import QuickFixPeer, fields_of, needs_quickfix

pytestmark = [pytest.mark.integration, needs_quickfix, pytest.mark.timeout(90)]


@dataclass
class Desk:
    store: MemoryStore
    sequencer: Sequencer
    gateway: FixVenueGateway
    initiator: FixInitiator
    peer: QuickFixPeer

    def order(self, order_id: str) -> Order | None:
        return self.sequencer.open_orders.get(OrderId(order_id)) or load_order(self.store, order_id)

    async def new_order(self, order_id: str, qty: int = 300) -> None:
        now = datetime.now(UTC)
        await self.sequencer.submit(
            NewOrderAccepted(
                order_id=OrderId(order_id), ingest_time=now, event_time=now,
                spec=spec(qty), cl_ord_id=ClOrdId(f"{order_id}.1"),
            ),
            source="test",
        )  # fmt: skip


@asynccontextmanager
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    port = free_port()
    peer = await asyncio.to_thread(
        QuickFixPeer, role="acceptor", port=port, sender="SIMBROKER", target="KEEL",
        store=tmp_path / "qf",
    )  # fmt: skip
    clock = SystemClock()
    store = MemoryStore()
    store.migrate()
    sequencer = Sequencer(store, clock, tune_collector=False)
    await sequencer.start()
    dispatcher = EffectDispatcher(sequencer, clock)
    sequencer.subscribe(dispatcher)
    dispatcher.start()
    gateway = FixVenueGateway(
        default_mapping("SIM", "FIX.4.4"), sequencer, clock,
        resolve=store.resolve_order_ref, open_orders=sequencer.open_orders.values,
    )  # fmt: skip
    dispatcher.add_gateway(gateway)
    config = SessionConfig(
        "FIX.4.4", "KEEL", "SIMBROKER", initiator=True, app_msg_types=frozenset({"8", "9", "j"})
    )
    session = Session(config, MemorySessionStore(clock.now()))
    initiator = FixInitiator(
        session, gateway, clock, host="127.0.0.1", port=port, timer_interval=0.2,
        backoff=(0.2, 1.0),
    )  # fmt: skip
    initiator.start()
    try:
        await until(lambda: gateway.connection is not None)
        yield Desk(store, sequencer, gateway, initiator, peer)
    finally:
        await initiator.stop()
        await dispatcher.stop()
        await sequencer.stop()
        await asyncio.to_thread(peer.stop)


def report(
    cl: str, exec_id: str, exec_type: str, status: str, **f: object
) -> list[tuple[int, object]]:
    fields: list[tuple[int, object]] = [
        (t.ORDER_ID, f"V-{cl}"), (t.CL_ORD_ID, cl), (t.EXEC_ID, exec_id),
        (t.EXEC_TYPE, exec_type), (t.ORD_STATUS, status), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
        (t.ORDER_QTY, 300), (t.TRANSACT_TIME, "20260302-14:30:00.000"),
    ]  # fmt: skip
    fields += [(int(tag), value) for tag, value in f.items()]
    return fields


def test_an_order_goes_out_through_the_gateway_and_fills_come_back_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with desk(tmp_path) as d:
            await d.new_order("O1")
            sent = await asyncio.to_thread(
                d.peer.wait_for, lambda e: e["event"] == "app" and e["msg_type"] == "D"
            )
            nos = fields_of(sent["raw"])
            assert (nos[t.CL_ORD_ID], nos[t.SYMBOL], nos[t.SIDE], nos[t.ORDER_QTY]) == (
                "O1.1", "ACME", "1", "300",
            )  # fmt: skip
            assert (nos[t.ORD_TYPE], nos[t.PRICE], nos[t.ACCOUNT]) == ("2", "10.00", "FUND-A")
            await until(lambda: (o := d.order("O1")) is not None and o.status is OrderStatus.SENT)
            d.peer.send("8", report("O1.1", "A1", "0", "0", **{"151": 300, "14": 0, "6": 0}))
            fill = report("O1.1", "F1", "F", "1", **{"32": 100, "31": "10.00", "151": 200,
                                                     "14": 100, "6": "10.00"})  # fmt: skip
            d.peer.send("8", fill)
            d.peer.send("8", fill)  # the broker sends the same execution twice
            d.peer.send("8", report("O1.1", "F2", "F", "2", **{"32": 200, "31": "10.01",
                                                               "151": 0, "14": 300,
                                                               "6": "10.006666"}))  # fmt: skip
            await until(lambda: (o := d.order("O1")) is not None
                        and o.status is OrderStatus.FILLED)  # fmt: skip
            order = d.order("O1")
            assert order is not None
            assert order.cum_qty == 300
            assert [f.exec_id for f in order.fills] == ["F1", "F2"]
            assert d.sequencer.duplicates == 1
            assert order.venue_order_id == "V-O1.1"

    asyncio.run(scenario())


def test_an_order_in_doubt_is_asked_for_after_a_reconnect(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with desk(tmp_path) as d:
            await d.new_order("O2")
            await asyncio.to_thread(
                d.peer.wait_for, lambda e: e["event"] == "app" and e["msg_type"] == "D"
            )
            await until(lambda: (o := d.order("O2")) is not None and o.status is OrderStatus.SENT)
            connection = d.gateway.connection
            assert connection is not None
            await connection.close("test: line cut before the ack")
            status = await asyncio.to_thread(
                d.peer.wait_for, lambda e: e["event"] == "app" and e["msg_type"] == "H", 15
            )
            assert fields_of(status["raw"])[t.CL_ORD_ID] == "O2.1"
            d.peer.send("8", report("O2.1", "S1", "I", "0", **{"151": 300, "14": 0, "6": 0}))
            await until(lambda: (o := d.order("O2")) is not None and o.status is OrderStatus.NEW)

    asyncio.run(scenario())


def test_a_new_order_for_a_venue_that_is_down_is_rejected_not_left_hanging(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with desk(tmp_path) as d:
            await d.initiator.stop()
            await d.new_order("O3")
            await until(lambda: (o := d.order("O3")) is not None
                        and o.status is OrderStatus.REJECTED)  # fmt: skip

    asyncio.run(scenario())


def test_a_report_known_only_by_the_venues_order_id_finds_this_venues_order(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with desk(tmp_path) as d:
            # another venue gave one of its (closed) orders the same order id, V-1
            d.store.commit(a_batch(
                orders=[replace(an_order("X9", status="FILLED"), venue="XNAS")],
                links=[a_link("VENUE_ORDER_ID", venue_order_ref("XNAS", "V-1"), "X9")],
            ))  # fmt: skip
            await d.new_order("O4")
            await asyncio.to_thread(
                d.peer.wait_for, lambda e: e["event"] == "app" and e["msg_type"] == "D"
            )
            d.peer.send("8", report("O4.1", "A4", "0", "0", **{"37": "V-1", "151": 300,
                                                               "14": 0, "6": 0}))  # fmt: skip
            await until(lambda: (o := d.order("O4")) is not None and o.status is OrderStatus.NEW)
            # the broker's own ClOrdID, which Keel never sent: only its order id says which
            fill = {"37": "V-1", "32": 100, "31": "10.00", "151": 200, "14": 100, "6": "10.00"}
            d.peer.send("8", report("BRK-7", "F4", "F", "1", **fill))
            await until(lambda: (o := d.order("O4")) is not None and o.cum_qty == 100)
            assert [f.exec_id for f in d.order("O4").fills] == ["F4"]  # type: ignore[union-attr]

    asyncio.run(scenario())
