"""Durable inputs per second through the sequencer, and latency from enqueue to commit.

Fills on working orders go through the real ``Sequencer`` into a real store: SQLite in WAL
mode with synchronous=FULL (survives power loss; Keel's default) and NORMAL (survives a
process crash), and PostgreSQL when one answers on 127.0.0.1:5432. Next to each, in the
same run, the raw rate of committing the same rows with ``executemany`` in one transaction.
Then, at fixed offered loads, the latency from ``enqueue`` to the answer being released
(which is after the commit): p50, p99, p99.9.

Rerun: ``make bench`` or ``.venv/bin/python bench/ingest.py [--fills N] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from keel.adapters.clock import SystemClock
from keel.adapters.store.pg_admin import check_server, create_database, drop_database
from keel.adapters.store.postgres import PostgresStore
from keel.adapters.store.sqlite import SqliteStore
from keel.app.errors import StoreError
from keel.app.ports import EventStore
from keel.app.records import CommitBatch, LogHead, ProjectionRows
from keel.app.sequencer import Sequencer
from keel.domain.enums import OrdType, Side
from keel.domain.ids import AccountId, ClOrdId, ExecId, InstrumentId, OrderId, VenueId, VenueOrderId
from keel.domain.inputs import Fill, Input, NewOrderAccepted, SentToVenue, VenueAck
from keel.domain.order import OrderSpec

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
WORKING_ORDERS = 500
TARGET_SATURATED = 40_000
TARGET_P99_MS = 5.0
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _base(order_id: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"order_id": OrderId(order_id), "ingest_time": now, "event_time": now}


def setup_inputs() -> list[tuple[Input, str]]:
    out: list[tuple[Input, str]] = []
    spec = OrderSpec(
        AccountId("FUND-A"), InstrumentId("ACME"), Side.BUY, OrdType.LIMIT,
        Decimal(10_000_000), Decimal("10.00"), venue=VenueId("SIM"),
    )  # fmt: skip
    for n in range(WORKING_ORDERS):
        oid = f"W{n}"
        cl = ClOrdId(f"{oid}.1")
        out.append((NewOrderAccepted(**_base(oid), spec=spec, cl_ord_id=cl), "client"))  # type: ignore[arg-type]
        out.append((SentToVenue(**_base(oid), cl_ord_id=cl), "gateway"))  # type: ignore[arg-type]
        ack = VenueAck(**_base(oid), exec_id=ExecId(f"{oid}-A"), venue_order_id=VenueOrderId(oid))  # type: ignore[arg-type]
        out.append((ack, "venue:SIM"))
    return out


class FillMaker:
    """Fills of 1 @ 10.00 round-robin over the working orders, with fresh ExecIDs."""

    def __init__(self) -> None:
        self.count = 0
        self.cum = [0] * WORKING_ORDERS

    def next(self) -> Fill:
        n = self.count % WORKING_ORDERS
        self.count += 1
        self.cum[n] += 1
        return Fill(
            **_base(f"W{n}"),  # type: ignore[arg-type]
            exec_id=ExecId(f"W{n}-E{self.count}"),
            last_qty=Decimal(1),
            last_px=Decimal("10.00"),
            cum_qty=Decimal(self.cum[n]),
            leaves_qty=Decimal(10_000_000 - self.cum[n]),
        )


async def _started(store: EventStore) -> Sequencer:
    seq = Sequencer(store, SystemClock())
    await seq.start()
    await asyncio.gather(*(seq.enqueue(i, source=s) for i, s in setup_inputs()))
    return seq


async def saturated(store: EventStore, fills: int) -> tuple[float, Sequencer, FillMaker, LogHead]:
    """Offer ``fills`` fills at once; return inputs/s and where the log stood before them."""
    seq = await _started(store)
    before = store.head()
    maker = FillMaker()
    inputs = [maker.next() for _ in range(fills)]
    start = time.perf_counter()
    await asyncio.gather(*(seq.enqueue(i, source="venue:SIM") for i in inputs))
    elapsed = time.perf_counter() - start
    return fills / elapsed, seq, maker, before


async def offered(seq: Sequencer, maker: FillMaker, rate: int, seconds: float) -> list[float]:
    """Offer ``rate`` fills per second for ``seconds``; return each one's latency in ms."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    futures = []
    total = int(rate * seconds)
    start = loop.time()
    for k in range(total):
        due = start + k / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.perf_counter()
        future = seq.enqueue(maker.next(), source="venue:SIM")
        future.add_done_callback(
            lambda _f, sent=sent: latencies.append((time.perf_counter() - sent) * 1000)
        )
        futures.append(future)
    await asyncio.gather(*futures)
    return latencies


def raw_rate(fresh: EventStore, batch: CommitBatch) -> float:
    """Commit rows already made into an empty store in one transaction; inputs per second."""
    start = time.perf_counter()
    fresh.commit(batch)
    return len(batch.inputs) / (time.perf_counter() - start)


def logged_rows(store: EventStore, after_input: int, after_event: int) -> CommitBatch:
    """The inputs and events the sequencer wrote after the given positions."""
    inputs = store.read_inputs(after_input, 10_000_000)
    events = store.read_events(after_event, 10_000_000)
    return CommitBatch(inputs, events, [], ProjectionRows())


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run_store(name: str, make: Callable[[], EventStore], fills: int, seconds: float) -> None:
    """Measure one kind of store; ``make`` returns a new, empty store each call."""
    store = make()
    store.migrate()

    async def scenario() -> None:
        rate, seq, maker, before = await saturated(store, fills)
        print(f"{name:<14} saturated        {rate:>9,.0f} inputs/s ({fills:,} fills, "
              f"{seq.batches:,} commits)")  # fmt: skip
        batch = logged_rows(store, before.last_input_seq, before.last_event_seq)
        fresh = make()
        fresh.migrate()
        raw = await asyncio.to_thread(raw_rate, fresh, batch)
        fresh.close()
        print(f"{'':<14} raw executemany  {raw:>9,.0f} inputs/s "
              f"(the same {len(batch.inputs):,} inputs and {len(batch.events):,} events, "
              "one transaction)")  # fmt: skip
        for load in (1_000, 5_000, 10_000):
            lat = await offered(seq, maker, load, seconds)
            p50, p99, p999 = (percentile(lat, p) for p in (50, 99, 99.9))
            print(f"{'':<14} {load:>6,}/s offered  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                  f"p99.9 {p999:6.2f} ms  ({len(lat):,} fills)")  # fmt: skip
            if name == "sqlite FULL" and load == 10_000:
                verdict = "PASS" if p99 <= TARGET_P99_MS else "FAIL"
                print(f"{'':<14} target p99 <= {TARGET_P99_MS} ms at 10,000/s: {verdict}")
        if name == "sqlite FULL":
            verdict = "PASS" if rate >= TARGET_SATURATED else "FAIL"
            print(f"{'':<14} target >= {TARGET_SATURATED:,} inputs/s saturated: {verdict}")
        await seq.stop()

    asyncio.run(scenario())
    store.close()


def sqlite_factory(folder: Path, synchronous: str) -> Callable[[], EventStore]:
    """Return a maker of stores, each in a new SQLite file in ``folder``."""
    made = [0]

    def make() -> EventStore:
        made[0] += 1
        return SqliteStore(folder / f"{synchronous}-{made[0]}.db", synchronous=synchronous)

    return make


def postgres_factory() -> Callable[[], EventStore] | None:
    """Return a maker of stores, each in a new database, or None when no server answers."""
    try:
        check_server(PG_ADMIN)
    except StoreError as e:
        print(f"postgresql     skipped: {e}")
        return None
    made: list[str] = []

    def make() -> EventStore:
        name = f"keel_bench_{os.getpid()}_{len(made)}"
        dsn = create_database(PG_ADMIN, name)
        made.append(name)
        return PostgresStore(dsn)

    make.made = made  # type: ignore[attr-defined]
    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=50_000, help="fills in the saturated run")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per offered load")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{WORKING_ORDERS} working orders, fills of 1 @ 10.00")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for sync in ("FULL", "NORMAL"):
            run_store(f"sqlite {sync}", sqlite_factory(Path(tmp), sync), args.fills, args.seconds)
    factory = postgres_factory()
    if factory is not None:
        try:
            run_store("postgresql", factory, args.fills, args.seconds)
        finally:
            for name in factory.made:  # type: ignore[attr-defined]
                drop_database(PG_ADMIN, name)
    print("rerun: make bench, or .venv/bin/python bench/ingest.py --fills N --seconds S")
    return 0


if __name__ == "__main__":
    sys.exit(main())
