"""A sequencer process for the crash test: it runs a burst and says what it released.

Run as ``python crash_child.py DB_PATH ORDERS``: it creates ORDERS orders and books three
fills on each through a real ``Sequencer`` on SQLite (synchronous=FULL). After each commit,
and only then, it prints ``RELEASED <input_seq> <key>`` for every input the commit made
durable, and flushes: the parent reads those lines and kills the process with SIGKILL at
a moment of its choosing. Inputs the log already holds are answered as duplicates, so the
same burst can be run again after a crash.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from keel.adapters.clock import SystemClock
from keel.adapters.store.sqlite import SqliteStore
from keel.app.sequencer import Committed, Sequencer
from keel.domain.enums import OrdType, Side
from keel.domain.ids import AccountId, ClOrdId, ExecId, InstrumentId, OrderId, VenueId
from keel.domain.inputs import Fill, Input, NewOrderAccepted, SentToVenue
from keel.domain.order import OrderSpec

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
VENUE = "venue:SIM"


def burst(orders: int) -> list[tuple[Input, str]]:
    """Each order: new, sent, then three fills of 100 (the venue's ExecIDs are stable)."""
    out: list[tuple[Input, str]] = []
    for n in range(orders):
        oid = OrderId(f"O{n}")
        base = {"order_id": oid, "ingest_time": T0, "event_time": T0}
        spec = OrderSpec(
            AccountId("FUND-A"), InstrumentId("ACME"), Side.BUY, OrdType.LIMIT, Decimal(300),
            Decimal("10.00"), venue=VenueId("SIM"),
        )  # fmt: skip
        cl = ClOrdId(f"O{n}.1")
        out.append((NewOrderAccepted(**base, spec=spec, cl_ord_id=cl, actor="crash"), "client"))  # type: ignore[arg-type]
        out.append((SentToVenue(**base, cl_ord_id=cl), "gateway"))  # type: ignore[arg-type]
    for k in range(1, 4):
        for n in range(orders):
            base = {"order_id": OrderId(f"O{n}"), "ingest_time": T0, "event_time": T0}
            out.append(
                (
                    Fill(
                        **base,  # type: ignore[arg-type]
                        exec_id=ExecId(f"O{n}-F{k}"),
                        last_qty=Decimal(100),
                        last_px=Decimal("10.00") + Decimal(k) / 100,
                        cum_qty=Decimal(100 * k),
                        leaves_qty=Decimal(300 - 100 * k),
                    ),
                    VENUE,
                )
            )
    return out


def report(committed: Sequence[Committed]) -> None:
    lines = "".join(f"RELEASED {c.result.input_seq} {c.result.outcome}\n" for c in committed)
    sys.stdout.write(lines)
    sys.stdout.flush()


async def main(path: Path, orders: int) -> None:
    store = SqliteStore(path)
    store.migrate()
    seq = Sequencer(store, SystemClock(), max_batch=64)
    seq.subscribe(report)
    await seq.start()
    futures = []
    for inp, source in burst(orders):
        futures.append(seq.enqueue(inp, source=source))
        if len(futures) % 50 == 0:
            await asyncio.sleep(0)  # let batches commit while the burst goes on
    await asyncio.gather(*futures)
    await seq.stop()
    store.close()
    sys.stdout.write("DONE\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
