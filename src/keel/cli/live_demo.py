"""``keel demo --serve``: Keel running for real on its embedded defaults, for a newcomer.

One process: the simulated venue (FIX, a moving market), Keel's node on SQLite
(``var/demo.db``) routing to it over FIX, the HTTP API and the operator UI, a demo user
with a fresh key, and a demo trader that sends a few orders a second so the blotter moves.
It prints the address to open (the key rides in the URL's fragment, which browsers do not
send to servers) and runs until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from rich.console import Console

from keel.adapters.clock import SystemClock
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.venue_mapping import VenueMapping
from keel.adapters.statements import mappings_from_config
from keel.adapters.statements.source import statement_reader
from keel.adapters.store.sqlite import SqliteStore
from keel.adapters.venues.sim.drop_copy import drop_copy_session
from keel.adapters.venues.sim.fix_venue import RunningSimVenue, run_sim_venue, venue_session
from keel.adapters.venues.sim.market import DEFAULT_LISTINGS
from keel.adapters.venues.sim.statement import SIM_STATEMENT_MAPPING
from keel.api.app import create_app
from keel.app.desk import OrderDesk
from keel.app.desk_common import DeskError
from keel.app.intake import OrderRequest
from keel.app.recon import BrokerSetup
from keel.app.users import User, Users
from keel.cli.serve import KeelServer, check_port_free
from keel.cli.venue_sim import run_id
from keel.domain.enums import OrdType, Side, TimeInForce
from keel.domain.ids import VenueId
from keel.node import VENUE_MESSAGES, DropCopyLink, Node, NodeConfig, VenueLink

DEMO_DB = Path("var") / "demo.db"
ACCOUNTS = ["FUND-A", "FUND-B"]
CANCEL_SHARE = 0.2
"""Share of the demo trader's resting orders it cancels again."""
REPLACE_SHARE = 0.25
"""Share of the others it replaces (twice the quantity)."""


@dataclass
class DemoStack:
    """Everything the demo runs, started and ready."""

    venue: RunningSimVenue
    node: Node
    app: FastAPI
    user: User
    key: str


def sim_reconciliation(port: int, *, reset_on_logon: bool = True) -> dict[str, Any]:
    """The node's settings to reconcile with the simulated venue on ``port``: its drop-copy
    session and its SIM-1 statements (``NodeConfig(**sim_reconciliation(port))``)."""
    session = SessionConfig(
        "FIX.4.4", "KEEL-DC", "SIM", initiator=True, app_msg_types=frozenset({"8"}),
        reset_on_logon=reset_on_logon,
    )  # fmt: skip
    return {
        "drop_copies": [DropCopyLink("SIM", session, "127.0.0.1", port)],
        "brokers": {"SIM": BrokerSetup("SIM", VenueId("SIM"))},
        "read_statement": statement_reader(mappings_from_config([SIM_STATEMENT_MAPPING])),
    }


async def start_demo(db: Path, *, tick_interval: float | None = 0.5) -> DemoStack:
    """Start the simulated venue and a node routing to it; make a demo user and key."""
    venue = await run_sim_venue(
        sessions=[venue_session()], seed=7, tick_interval=tick_interval, run=run_id(),
        drop_copy=[drop_copy_session()],
    )  # fmt: skip
    store = SqliteStore(db)
    store.migrate()
    clock = SystemClock()
    # The simulated venue keeps no numbers between runs: both sides start again at 1.
    link = VenueLink(
        SessionConfig("FIX.4.4", "KEEL", "SIM", initiator=True, app_msg_types=VENUE_MESSAGES,
                      reset_on_logon=True),
        "127.0.0.1", venue.port, VenueMapping("SIM", 1, "FIX.4.4", mass_status=True),
    )  # fmt: skip
    instruments = {listing.instrument.symbol: listing.instrument for listing in DEFAULT_LISTINGS}
    node = Node(store, clock, NodeConfig(instruments=instruments, venues=[link],
                                         default_venue="SIM", timer_interval=0.5,
                                         **sim_reconciliation(venue.port)))  # fmt: skip
    await node.start()
    users = Users(store)
    user, key = users.add("demo", "admin", ACCOUNTS, clock.now())
    app = create_app(
        OrderDesk(node.sequencer, store, node.intake, clock, node.halts), users, feed=node.feed,
        ready=lambda: all(v.connection is not None for v in node.venues.values()),
        metrics=node.metrics.text, audit_log=store.record_audit, audit_clock=clock.now,
        venues=node.venue_status, recon=node.recon,
    )  # fmt: skip
    while any(v.connection is None for v in node.venues.values()):
        await asyncio.sleep(0.02)
    return DemoStack(venue, node, app, user, key)


async def stop_demo(stack: DemoStack) -> None:
    await stack.node.stop()
    await stack.venue.stop("demo over")
    stack.node.store.close()


async def demo_trader(stack: DemoStack, rng: random.Random, every: float = 0.7) -> None:
    """Send orders as the demo user: marketable ones that fill, passive ones that rest,
    and now and then a cancel."""
    desk = OrderDesk(stack.node.sequencer, stack.node.store, stack.node.intake, SystemClock())
    while True:
        await asyncio.sleep(every)
        listing = rng.choice(DEFAULT_LISTINGS)
        symbol = listing.instrument.symbol
        reference = stack.venue.venue.reference_price(symbol)
        side = rng.choice([Side.BUY, Side.SELL])
        away = Decimal(rng.choice([-3, -2, -1, 1, 2, 3])) * listing.instrument.tick_size * 5
        price = (reference + (away if side is Side.BUY else -away)).quantize(Decimal("0.01"))
        request = OrderRequest(
            account=rng.choice(ACCOUNTS), symbol=symbol, side=side,
            qty=Decimal(rng.choice([10, 25, 50, 100, 200])), ord_type=OrdType.LIMIT,
            limit_price=price, tif=TimeInForce.DAY,
        )  # fmt: skip
        with contextlib.suppress(DeskError):
            placed = await desk.place(stack.user, request)
            working = placed.order["status"] in ("NEW", "SENT", "PENDING_NEW")
            if working and rng.random() < CANCEL_SHARE:
                await asyncio.sleep(every)
                await desk.cancel(stack.user, placed.order["order_id"])
            elif working and rng.random() < REPLACE_SHARE:
                await asyncio.sleep(every)
                await desk.replace(stack.user, placed.order["order_id"],
                                   qty=request.qty * 2, limit_price=price)  # fmt: skip


def run_live_demo(console: Console, *, port: int, flow: bool = True, db: Path = DEMO_DB) -> int:
    check_port_free("127.0.0.1", port)
    asyncio.run(_serve(console, port, db, flow))
    return 0


async def _serve(console: Console, port: int, db: Path, flow: bool) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    stack = await start_demo(db)
    server = KeelServer(uvicorn.Config(stack.app, host="127.0.0.1", port=port,
                                       log_level="warning", lifespan="off",
                                       timeout_graceful_shutdown=3))  # fmt: skip
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.stop_serving)
    trader = asyncio.create_task(
        demo_trader(stack, random.Random(11)) if flow else asyncio.Event().wait()
    )
    venue_port = stack.venue.port
    trading = " and a demo trader sending orders" if flow else ""
    lines = [
        f"Keel is running on {db} with a simulated venue (FIX on port {venue_port}){trading}.",
        f"Open the blotter:  http://127.0.0.1:{port}/#key={stack.key}",
        f"API key of user 'demo' (admin; the demo trades {', '.join(ACCOUNTS)}): {stack.key}",
    ]
    for line in lines:
        console.print(line, markup=False, soft_wrap=True)
    console.print("Ctrl-C to stop.", markup=False)
    try:
        await server.serve()
    finally:
        trader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await trader
        await stop_demo(stack)
        console.print("demo stopped; everything it did is in the log", markup=False)
