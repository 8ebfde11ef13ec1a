"""Keel trading over FIX against the simulated venue with its faults on: every order ends
where the rules say, every exception raised is the one the rules predict, and no fill is
booked twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from keel.adapters.clock import SystemClock
from keel.adapters.fix.config import SessionConfig
from keel.adapters.store.sqlite import SqliteStore
from keel.adapters.venues.sim.faults import FaultPlan, Trigger
from keel.adapters.venues.sim.fix_venue import RunningSimVenue, run_sim_venue, venue_session
from keel.app.replay import load_order, verify
from keel.domain.enums import OrderStatus, OrdType, Side
from keel.domain.ids import AccountId, ClOrdId, InstrumentId, OrderId, VenueId
from keel.domain.inputs import CancelRequest, NewOrderAccepted
from keel.domain.instruments import Instrument
from keel.domain.order import Order, OrderSpec
from keel.node import VENUE_MESSAGES, Node, NodeConfig, VenueLink
from support.aio import until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

ACME = Instrument(InstrumentId("ACME"), "ACME", Decimal("0.01"), Decimal(1), Decimal(1), 2)


@dataclass
class Desk:
    node: Node
    venue: RunningSimVenue

    def order(self, order_id: str) -> Order | None:
        return self.node.sequencer.open_orders.get(OrderId(order_id)) or load_order(
            self.node.store, order_id
        )

    def status(self, order_id: str) -> OrderStatus | None:
        order = self.order(order_id)
        return order.status if order else None

    def exceptions(self, order_id: str) -> list[str]:
        return sorted(x.kind for x in self.node.store.exceptions_for_order(order_id))

    async def buy(self, order_id: str, qty: int, price: str) -> None:
        now = datetime.now(UTC)
        spec = OrderSpec(
            AccountId("FUND-A"), InstrumentId("ACME"), Side.BUY, OrdType.LIMIT, Decimal(qty),
            Decimal(price), venue=VenueId("SIM"),
        )  # fmt: skip
        await self.node.sequencer.submit(
            NewOrderAccepted(order_id=OrderId(order_id), ingest_time=now, event_time=now,
                             spec=spec, cl_ord_id=ClOrdId(f"{order_id}.1")),
            source="test",
        )  # fmt: skip

    async def cancel(self, order_id: str) -> None:
        now = datetime.now(UTC)
        await self.node.sequencer.submit(
            CancelRequest(order_id=OrderId(order_id), ingest_time=now, event_time=now,
                          cl_ord_id=ClOrdId(f"{order_id}.2")),
            source="test",
        )  # fmt: skip


@asynccontextmanager
async def desk(tmp_path: Path, faults: FaultPlan) -> AsyncIterator[Desk]:
    venue = await run_sim_venue(
        sessions=[venue_session(sender="SIM", target="KEEL")], faults=faults,
        tick_interval=None, timer_interval=0.2,
    )  # fmt: skip
    store = SqliteStore(tmp_path / "keel.db")
    store.migrate()
    link = VenueLink(
        SessionConfig("FIX.4.4", "KEEL", "SIM", initiator=True, app_msg_types=VENUE_MESSAGES),
        "127.0.0.1", venue.port,
    )  # fmt: skip
    node = Node(store, SystemClock(), NodeConfig(
        instruments={"ACME": ACME}, venues=[link], timer_interval=0.2,
        reconnect_backoff=(0.1, 0.5),
    ))  # fmt: skip
    await node.start()
    try:
        await until(lambda: node.venues["SIM"].connection is not None)
        yield Desk(node, venue)
    finally:
        await node.stop()
        await venue.stop("test over")
        assert verify(store) == []  # the projections agree with the log
        store.close()


def test_a_duplicated_execution_is_booked_once(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with desk(tmp_path, FaultPlan(duplicate=Trigger.once_on_fill("D1.1"))) as d:
            await d.buy("D1", 100, "150.00")
            await until(lambda: d.status("D1") is OrderStatus.FILLED)
            await until(lambda: d.node.sequencer.duplicates >= 1)
            order = d.order("D1")
            assert order is not None
            assert order.cum_qty == 100
            assert sum(f.qty for f in order.fills) == 100
            assert d.exceptions("D1") == []

    asyncio.run(scenario())


def test_reports_out_of_order_still_end_filled_without_exceptions(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with desk(tmp_path, FaultPlan(reorder=Trigger.once("R1.1"))) as d:
            await d.buy("R1", 100, "150.00")
            await until(lambda: d.status("R1") is OrderStatus.FILLED)
            order = d.order("R1")
            assert order is not None
            assert order.cum_qty == 100
            assert d.exceptions("R1") == []

    asyncio.run(scenario())


def test_a_late_fill_after_cancel_is_booked_and_flagged(tmp_path: Path) -> None:
    async def scenario() -> None:
        faults = FaultPlan(late_fill_after_cancel=Trigger.once("L1.1"))
        async with desk(tmp_path, faults) as d:
            await d.buy("L1", 100, "50.00")  # rests far below the market
            await until(lambda: d.status("L1") is OrderStatus.NEW)
            await d.cancel("L1")
            await until(lambda: d.exceptions("L1") == ["LATE_FILL"])
            order = d.order("L1")
            assert order is not None
            assert order.status is OrderStatus.CANCELED
            assert order.cum_qty > 0

    asyncio.run(scenario())


def test_a_disconnect_mid_burst_loses_nothing_and_books_nothing_twice(tmp_path: Path) -> None:
    # The venue holds its reports back a little, so that every order is on the wire before
    # the line is cut after the third report: the rest come back by resend after logon.
    faults = FaultPlan(
        delay=Trigger.always(), delay_by=timedelta(milliseconds=300), disconnect_after_messages=3
    )

    async def scenario() -> None:
        async with desk(tmp_path, faults) as d:
            ids = [f"B{n}" for n in range(6)]
            await asyncio.gather(*(d.buy(order_id, 50, "150.00") for order_id in ids))
            await until(lambda: all(d.status(o) is OrderStatus.FILLED for o in ids), 30)
            for order_id in ids:
                order = d.order(order_id)
                assert order is not None
                assert order.cum_qty == 50
                assert len({f.exec_id for f in order.fills}) == len(order.fills)
                assert d.exceptions(order_id) == []
            assert d.venue.app.cuts >= 1

    asyncio.run(scenario())
