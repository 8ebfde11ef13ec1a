"""An API harness for end-to-end tests: a node trading with the simulated venue over FIX,
its HTTP API in process (httpx over ASGI), and a trader and a viewer with keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
from fastapi import FastAPI

from keel.adapters.clock import SystemClock
from keel.adapters.fix.config import SessionConfig
from keel.adapters.store.sqlite import SqliteStore
from keel.adapters.venues.sim.drop_copy import drop_copy_session
from keel.adapters.venues.sim.faults import FaultPlan
from keel.adapters.venues.sim.fix_venue import RunningSimVenue, run_sim_venue, venue_session
from keel.api.app import create_app
from keel.app.desk import OrderDesk
from keel.app.users import Users
from keel.cli.live_demo import sim_reconciliation
from keel.domain.ids import InstrumentId
from keel.domain.instruments import Instrument
from keel.domain.risk import Limits
from keel.domain.state_machine import DEFAULT_POLICY, Policy
from keel.node import VENUE_MESSAGES, Node, NodeConfig, VenueLink

ACME = Instrument(InstrumentId("ACME"), "ACME", Decimal("0.01"), Decimal(1), Decimal(1), 2)


@dataclass
class Api:
    http: httpx.AsyncClient
    app: FastAPI
    node: Node
    trader: dict[str, str]
    viewer: dict[str, str]
    venue: RunningSimVenue

    async def until_status(self, order_id: str, wanted: set[str]) -> dict[str, object]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while True:
            body = (await self.http.get(f"/v1/orders/{order_id}", headers=self.trader)).json()
            if body["status"] in wanted:
                return body
            if loop.time() > deadline:
                raise AssertionError(f"{order_id} stayed {body['status']}")
            await asyncio.sleep(0.02)


@asynccontextmanager
async def api(
    tmp_path: Path,
    limits: dict[tuple[str, str], Limits] | None = None,
    *,
    policy: Policy = DEFAULT_POLICY,
    faults: FaultPlan | None = None,
) -> AsyncIterator[Api]:
    venue = await run_sim_venue(
        sessions=[venue_session()], tick_interval=None, faults=faults,
        drop_copy=[drop_copy_session()],
    )  # fmt: skip
    store = SqliteStore(tmp_path / "keel.db")
    store.migrate()
    link = VenueLink(
        SessionConfig("FIX.4.4", "KEEL", "SIM", initiator=True, app_msg_types=VENUE_MESSAGES),
        "127.0.0.1", venue.port,
    )  # fmt: skip
    clock = SystemClock()
    node = Node(store, clock, NodeConfig(instruments={"ACME": ACME}, venues=[link],
                                         default_venue="SIM", timer_interval=0.2,
                                         limits=limits or {}, policy=policy,
                                         monitor_interval=0.1,
                                         **sim_reconciliation(venue.port,
                                                              reset_on_logon=False)))  # fmt: skip
    await node.start()
    users = Users(store)
    _, trader_key = users.add("alice", "trader", ["FUND-A"], clock.now())
    _, viewer_key = users.add("victor", "viewer", ["FUND-A"], clock.now())
    desk = OrderDesk(node.sequencer, store, node.intake, clock, node.halts)
    app = create_app(desk, users,
                     feed=node.feed, metrics=node.metrics.text,
                     audit_log=store.record_audit, venues=node.venue_status,
                     recon=node.recon)  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    try:
        while node.venues["SIM"].connection is None:
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(transport=transport, base_url="http://keel") as http:
            yield Api(http, app, node,
                      {"Authorization": f"Bearer {trader_key}"},
                      {"Authorization": f"Bearer {viewer_key}"}, venue)  # fmt: skip
    finally:
        await node.stop()
        await venue.stop("test over")
        store.close()


ORDER = {"account": "FUND-A", "symbol": "ACME", "side": "BUY", "qty": "100",
         "type": "LIMIT", "limit_price": "150.00"}  # fmt: skip


def run(
    scenario: Callable[[Api], object],
    tmp_path: Path,
    limits: dict[tuple[str, str], Limits] | None = None,
    *,
    policy: Policy = DEFAULT_POLICY,
    faults: FaultPlan | None = None,
) -> None:
    async def main() -> None:
        async with api(tmp_path, limits, policy=policy, faults=faults) as a:
            await scenario(a)  # type: ignore[misc]

    asyncio.run(main())
