"""Replay speed, and sequencer start-up time with a long history, on SQLite.

1. Replay: a log of filled orders (five events each: created, sent, acknowledged, two fills)
   is written through the real sequencer, then read back in sequence order, decoded and
   folded into orders (``keel.app.replay.fold_orders``, replay's own path): events per
   second, next to the bare scan of the same rows in the same run; each the median of
   five runs.
2. Start-up: ``--history`` closed orders (default 1,000,000) and a few hundred working ones
   in the tables; the time from opening the store to a started sequencer holding every
   working order. The history's rows are written straight into the tables (cloned from one
   real order's events, renumbered) because writing a million orders through the sequencer
   would take minutes; start-up reads only the working orders' events, which are real.

Rerun: ``make bench`` or ``.venv/bin/python bench/replay.py [--orders N] [--history N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from keel.adapters.clock import SystemClock
from keel.adapters.store.sqlite import SqliteStore
from keel.app import codec, replay
from keel.app.chain import event_hash
from keel.app.projector import order_row
from keel.app.records import CommitBatch, EventRecord, ProjectionRows
from keel.app.sequencer import Sequencer
from keel.domain.enums import OrdType, Side
from keel.domain.ids import AccountId, ClOrdId, ExecId, InstrumentId, OrderId, VenueId, VenueOrderId
from keel.domain.inputs import Fill, Input, NewOrderAccepted, SentToVenue, VenueAck
from keel.domain.order import Order, OrderSpec
from keel.domain.state_machine import apply

TARGET_REPLAY = 400_000
TARGET_STARTUP_S = 2.0
REPEATS = 5
"""Runs of each replay measurement; the median is reported."""
WORKING = 300
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def lifecycle(oid: str, fill: bool) -> list[tuple[Input, str]]:
    base = {"order_id": OrderId(oid), "ingest_time": T0, "event_time": T0}
    spec = OrderSpec(
        AccountId("FUND-A"), InstrumentId("ACME"), Side.BUY, OrdType.LIMIT, Decimal(200),
        Decimal("10.00"), venue=VenueId("SIM"),
    )  # fmt: skip
    cl = ClOrdId(f"{oid}.1")
    steps: list[tuple[Input, str]] = [
        (NewOrderAccepted(**base, spec=spec, cl_ord_id=cl, actor="bench"), "client"),  # type: ignore[arg-type]
        (SentToVenue(**base, cl_ord_id=cl), "gateway"),  # type: ignore[arg-type]
        (VenueAck(**base, exec_id=ExecId(f"{oid}-A"), venue_order_id=VenueOrderId(oid)), "v"),  # type: ignore[arg-type]
    ]
    if fill:
        for k in (1, 2):
            steps.append(
                (
                    Fill(
                        **base,  # type: ignore[arg-type]
                        exec_id=ExecId(f"{oid}-F{k}"),
                        last_qty=Decimal(100),
                        last_px=Decimal("10.00"),
                        cum_qty=Decimal(100 * k),
                        leaves_qty=Decimal(200 - 100 * k),
                    ),
                    "venue:SIM",
                )
            )
    return steps


async def write_log(store: SqliteStore, orders: int, working: int) -> None:
    seq = Sequencer(store, SystemClock())
    await seq.start()
    futures = []
    for n in range(orders):
        for inp, source in lifecycle(f"H{n}", fill=n >= working):
            futures.append(seq.enqueue(inp, source=source))
        if len(futures) > 20_000:
            await asyncio.gather(*futures)
            futures = []
    await asyncio.gather(*futures)
    await seq.stop()


def _median_seconds(run: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_replay(store: SqliteStore) -> tuple[float, float, float, int]:
    """Return (events/s folded, events/s bare scan, events/s ``read_events``, events), each
    the median of ``REPEATS`` runs.

    Folded is ``keel.app.replay.fold_orders``: replay's own scan (``read_event_rows``),
    decode and fold. The bare scan is ``read_event_rows`` alone; ``read_events`` (whole
    ``EventRecord``s, as ``keel verify`` reads them) is shown beside it.
    """
    page = replay.PAGE_EVENTS

    def scan() -> int:
        scanned = after = 0
        while rows := store.read_event_rows(after, page):
            scanned += len(rows)
            after = rows[-1][0]
        return scanned

    def read_records() -> None:
        after = 0
        while records := store.read_events(after, page):
            after = records[-1].event_seq

    events = scan()
    orders = replay.fold_orders(store)
    assert sum(o.version for o in orders.values()) == events  # every event folded
    del orders
    scan_s = _median_seconds(scan)
    records_s = _median_seconds(read_records)
    fold_s = _median_seconds(lambda: replay.fold_orders(store))
    return events / fold_s, events / scan_s, events / records_s, events


def clone_history(store: SqliteStore, history: int, batch: int = 20_000) -> None:
    """Write ``history`` closed orders' events and rows, cloned from one real order."""
    template_id = "H999999999"
    template: list[EventRecord] = []
    head = store.head()
    order: Order | None = None
    for inp, _ in lifecycle(template_id, fill=True):
        tr = apply(order, inp, T0)
        order = tr.order
        template.extend(
            EventRecord(
                0,
                0,
                0,
                template_id,
                e.version,
                codec.event_type(e),
                codec.SCHEMA_VERSION,
                codec.encode(e),
                0,
                "bench",
                T0,
                b"",
                b"",
            )
            for e in tr.events
        )
    assert order is not None
    seq, prev = head.last_event_seq, head.last_hash
    for start in range(0, history, batch):
        events: list[EventRecord] = []
        rows = ProjectionRows()
        for n in range(start, min(start + batch, history)):
            oid = f"C{n:09d}"
            for t in template:
                seq += 1
                payload = t.payload.replace(template_id.encode(), oid.encode())
                digest = event_hash(
                    prev,
                    event_seq=seq,
                    partition=0,
                    partition_seq=seq,
                    order_id=oid,
                    order_version=t.order_version,
                    type=t.type,
                    schema_version=t.schema_version,
                    payload=payload,
                    input_seq=head.last_input_seq,
                    actor="bench",
                    recorded_at=T0,
                )
                events.append(
                    replace(
                        t,
                        event_seq=seq,
                        partition_seq=seq,
                        order_id=oid,
                        payload=payload,
                        input_seq=head.last_input_seq,
                        prev_hash=prev,
                        hash=digest,
                    )
                )
                prev = digest
            rows.orders[oid] = replace(order_row(order), order_id=oid)
        store.commit(CommitBatch([], events, [], rows))


async def measure_startup(path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    store = SqliteStore(path)
    store.migrate()
    seq = Sequencer(store, SystemClock())
    await seq.start()
    elapsed = time.perf_counter() - start
    working = len(seq.open_orders)
    await seq.stop()
    store.close()
    return elapsed, working


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000, help="orders in the replayed log")
    parser.add_argument("--history", type=int, default=1_000_000, help="closed orders at start")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, SQLite (WAL, FULL)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "replay.db"
        store = SqliteStore(path)
        store.migrate()
        asyncio.run(write_log(store, args.orders, WORKING))
        folded, scanned, records, events = measure_replay(store)
        print(f"replay: {events:,} events  scan+decode+fold {folded:>10,.0f} events/s   "
              f"bare scan {scanned:>10,.0f} events/s   "
              f"read_events {records:>10,.0f} events/s")  # fmt: skip
        print(
            f"target >= {TARGET_REPLAY:,} events/s: {'PASS' if folded >= TARGET_REPLAY else 'FAIL'}"
        )
        start = time.perf_counter()
        clone_history(store, args.history)
        store.close()
        print(f"history: {args.history:,} closed orders written in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        elapsed, working = asyncio.run(measure_startup(path))
        closed = args.history + args.orders - WORKING
        print(f"start-up: {elapsed:.2f} s to a running sequencer holding {working} working "
              f"orders, with {closed:,} closed ones in the tables")  # fmt: skip
        verdict = "PASS" if elapsed <= TARGET_STARTUP_S else "FAIL"
        print(f"target <= {TARGET_STARTUP_S} s: {verdict}")
    print("rerun: make bench, or .venv/bin/python bench/replay.py --orders N --history N")
    return 0


if __name__ == "__main__":
    sys.exit(main())
