"""A venue that restarts and loses its book: after the reconnect Keel asks the venue which
orders it holds (OrderMassStatusRequest), and each order Keel still has working that the
venue no longer lists is raised as MISSING_AT_BROKER, with the request as evidence. Orders
the venue still lists are left as they are."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.clock import SystemClock
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.venue_mapping import VenueMapping
from keel.adapters.store.sqlite import SqliteStore
from keel.adapters.venues.sim.fix_venue import run_sim_venue, venue_session
from keel.app.intake import OrderRequest
from keel.domain.enums import OrdType, Side, TimeInForce
from keel.domain.inputs import NewOrderAccepted
from keel.node import VENUE_MESSAGES, Node, NodeConfig, VenueLink
from support.api import ACME

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


async def _until(what: str, done: Any) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while loop.time() < deadline:
        found = done()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _rest(node: Node, clock: SystemClock) -> str:
    """Place a GTC buy far below the market: it rests at the venue."""
    request = OrderRequest(account="FUND-A", symbol="ACME", side=Side.BUY, qty=Decimal(10),
                           ord_type=OrdType.LIMIT, limit_price=Decimal("50.00"),
                           tif=TimeInForce.GTC)  # fmt: skip
    accepted = node.intake.new_order(
        request, actor="user:alice", accounts=frozenset({"FUND-A"}), now=clock.now()
    )
    assert isinstance(accepted, NewOrderAccepted)
    result = await node.sequencer.submit(accepted, source="rest")
    assert result.order is not None
    return result.order.order_id


def _missing(store: SqliteStore) -> list[dict[str, Any]]:
    return [row for row in store.read_table("exceptions") if row["kind"] == "MISSING_AT_BROKER"]


def test_orders_a_restarted_venue_lost_are_raised_after_the_reconnect(tmp_path: Path) -> None:
    async def scenario() -> None:
        venue = await run_sim_venue(sessions=[venue_session()], tick_interval=None, run="A")
        port = venue.port
        store = SqliteStore(tmp_path / "keel.db")
        store.migrate()
        clock = SystemClock()
        link = VenueLink(
            SessionConfig("FIX.4.4", "KEEL", "SIM", initiator=True,
                          app_msg_types=VENUE_MESSAGES, reset_on_logon=True),
            "127.0.0.1", port, VenueMapping("SIM", 1, "FIX.4.4", mass_status=True),
        )  # fmt: skip
        node = Node(store, clock, NodeConfig(instruments={"ACME": ACME}, venues=[link],
                                             default_venue="SIM", timer_interval=0.2,
                                             reconnect_backoff=(0.1, 0.5)))  # fmt: skip
        await node.start()
        gateway = node.venues["SIM"]
        try:
            await _until("the first logon's answer", lambda: gateway.mass_status_requests == 1
                         and gateway.mass_status is None)  # fmt: skip
            resting = [await _rest(node, clock) for _ in range(2)]
            await _until("both orders acknowledged", lambda: all(
                str(node.sequencer.open_orders[o].status) == "NEW" for o in resting))  # fmt: skip
            assert list(store.read_table("exceptions")) == []  # the first answer listed none

            await venue.stop("restarting")  # the venue's book goes with it
            venue = await run_sim_venue(port=port, sessions=[venue_session()],
                                        tick_interval=None, run="B")  # fmt: skip
            await _until("the answer after the reconnect", lambda: gateway.mass_status_requests
                         == 2 and gateway.mass_status is None)  # fmt: skip
            raised = await _until("both raised", lambda: len(_missing(store)) == 2)
            raised = _missing(store)

            assert sorted(row["order_id"] for row in raised) == sorted(resting)
            assert all("does not list it as open" in row["summary"] for row in raised)
            assert all(str(node.sequencer.open_orders[o].status) == "NEW" for o in resting)
        finally:
            await node.stop()
            await venue.stop("test over")
            store.close()

    asyncio.run(scenario())
