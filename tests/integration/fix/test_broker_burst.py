"""Keel's venue side against a QuickFIX acceptor acting as a broker (it acknowledges and
fills every order at once), with the line cut in the middle of a burst: after the
reconnect and the resends both ways, every order is filled on Keel's side, the broker saw
each order once, and no execution is booked twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from keel.adapters.clock import SystemClock
from keel.adapters.fix import tags as t
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.venue_mapping import default_mapping
from keel.adapters.store.sqlite import SqliteStore
from keel.app.replay import load_order, verify
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


@pytest.mark.parametrize(
    ("orders", "cut_after_fills"),
    [(40, 0), (200, 20)],
    ids=["cut-before-the-orders-are-written", "cut-while-fills-flow"],
)
def test_a_cut_in_the_middle_of_a_burst_loses_nothing_and_books_nothing_twice(
    tmp_path: Path, orders: int, cut_after_fills: int
) -> None:
    async def scenario() -> None:
        port = free_port()
        broker = await asyncio.to_thread(
            QuickFixPeer, role="acceptor", port=port, sender="SIMBROKER", target="KEEL",
            store=tmp_path / "broker", extra=("--auto-fill",),
        )  # fmt: skip
        store = SqliteStore(tmp_path / "keel.db")
        store.migrate()
        session = SessionConfig(
            "FIX.4.4", "KEEL", "SIMBROKER", initiator=True, app_msg_types=VENUE_MESSAGES
        )
        node = Node(store, SystemClock(), NodeConfig(
            instruments={"ACME": ACME},
            venues=[VenueLink(session, "127.0.0.1", port, default_mapping("SIM", "FIX.4.4"))],
            timer_interval=0.2, reconnect_backoff=(0.1, 0.5),
        ))  # fmt: skip
        await node.start()
        ids = [f"B{n:03d}" for n in range(orders)]
        try:
            await until(lambda: node.venues["SIM"].connection is not None)
            now = datetime.now(UTC)
            await asyncio.gather(*(
                node.sequencer.submit(
                    NewOrderAccepted(order_id=OrderId(o), ingest_time=now, event_time=now,
                                     spec=spec(100), cl_ord_id=ClOrdId(f"{o}.1")),
                    source="test",
                )
                for o in ids
            ))  # fmt: skip
            await node.dispatcher.drained()  # every order numbered for the wire
            filled = node.sequencer.open_orders

            def fills_seen() -> int:
                return sum(1 for o in ids if OrderId(o) not in filled)  # closed: filled

            while fills_seen() < cut_after_fills:
                await asyncio.sleep(0.002)
            connection = node.venues["SIM"].connection
            assert connection is not None
            await connection.close("test: the line is cut mid-burst")

            def all_filled() -> bool:
                return all(
                    (o := load_order(store, order_id)) is not None
                    and o.status is OrderStatus.FILLED
                    for order_id in ids
                )

            await until(all_filled, 60)
            for order_id in ids:
                order = load_order(store, order_id)
                assert order is not None
                assert order.cum_qty == 100
                assert len(order.fills) == 1
            assert node.dispatcher.failed == 0  # nothing was refused for the venue being away
        finally:
            await node.stop()
            await asyncio.to_thread(broker.stop)
        seen_by_broker = Counter(fields_of(e["raw"])[t.CL_ORD_ID] for e in broker.app_messages("D"))
        assert seen_by_broker == Counter({f"{o}.1": 1 for o in ids})
        resent = [e for e in broker.app_messages("D") if "|43=Y|" in e["raw"]]
        asked_by_keel = [
            e for e in broker.events if e["event"] == "admin_in" and e["msg_type"] == "2"
        ]
        if cut_after_fills == 0:  # nothing had reached the broker: Keel sends it all again
            assert len(resent) == orders
        else:  # fills were on their way: Keel asks for the ones it missed
            assert asked_by_keel
        assert verify(store) == []
        store.close()

    asyncio.run(scenario())
