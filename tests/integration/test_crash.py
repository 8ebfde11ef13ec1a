"""Crash: SIGKILL the sequencer mid-burst; what was released is durable, nothing doubles.

A child process runs a real sequencer on SQLite (synchronous=FULL) through a burst of new
orders and fills, printing each input only after its commit. The test kills it with SIGKILL
after a chosen number of releases, then checks the database as it was left, then runs the
same burst again to the end (the venue resends; Keel must book each fill once).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from keel.adapters.store.sqlite import SqliteStore
from keel.app import replay
from keel.app.chain import verify_chain
from keel.domain.enums import OrderStatus

CHILD = Path(__file__).with_name("crash_child.py")
ORDERS = 200


def run_child(db: Path, kill_after: int | None) -> list[int]:
    """Run the burst; kill it after ``kill_after`` releases; return the released input seqs."""
    released: list[int] = []
    with subprocess.Popen(
        [sys.executable, str(CHILD), str(db), str(ORDERS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("RELEASED"):
                released.append(int(line.split()[1]))
                if kill_after is not None and len(released) >= kill_after:
                    proc.kill()  # SIGKILL: no cleanup, no flush, mid-burst
                    break
            elif line.startswith("DONE"):
                break
        _, errors = proc.communicate(timeout=60)
    if kill_after is None:
        assert proc.returncode == 0, errors
    return released


def check_log(db: Path, released: list[int]) -> SqliteStore:
    store = SqliteStore(db)
    store.migrate()
    logged = {i.input_seq for i in store.read_inputs(0, 1_000_000)}
    assert set(released) <= logged, "an input released before the kill is not in the log"
    fills = list(store.read_table("fills"))
    booked = Counter((f["order_id"], f["exec_id"]) for f in fills)
    assert all(n == 1 for n in booked.values()), "a fill was booked twice"
    assert verify_chain(store.read_events(0, 1_000_000)).ok
    assert replay.verify(store) == []
    return store


@pytest.mark.integration
@pytest.mark.parametrize("kill_after", [1, 37, 250, 700])
def test_sigkill_mid_burst_loses_nothing_released_and_books_nothing_twice(
    tmp_path: Path, kill_after: int
) -> None:
    db = tmp_path / "keel.db"
    released = run_child(db, kill_after)
    assert len(released) >= kill_after
    check_log(db, released).close()

    run_child(db, None)  # restart: the whole burst again, to the end

    store = check_log(db, [])
    orders = list(store.read_table("orders"))
    assert len(orders) == ORDERS
    assert {o["status"] for o in orders} == {OrderStatus.FILLED.value}
    assert len(list(store.read_table("fills"))) == 3 * ORDERS
    assert store.count_inputs_by_outcome().get("DUPLICATE", 0) > 0
    store.close()
