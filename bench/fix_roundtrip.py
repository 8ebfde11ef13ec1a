"""Orders per second and round-trip latency over FIX: a client's NewOrderSingle in, its fill
ExecutionReport back.

1. Baseline, QuickFIX to QuickFIX: a QuickFIX initiator (the client) straight to a QuickFIX
   acceptor that acknowledges and fills every order at once. Two processes.
2. Keel, durable: the same QuickFIX client -> Keel's acceptor -> intake -> sequencer
   (SQLite, synchronous=FULL: every input committed before anything leaves) -> Keel's venue
   initiator -> the simulated venue (``keel venue-sim``, its own process) -> back the same
   way. The client's session is configured without PendingNew (``pending_new = false``),
   so the client hears what the QuickFIX acceptor sends: New, then the fill. Keel runs in
   a process of its own, as ``keel serve`` does: the harness (which reads the client's
   events and times them) never shares Keel's interpreter.

Each run sends ``--orders`` orders (buys and sells in turn, one share each, marketable) as
fast as the client can, after a warm-up. Figures: orders/s from the first send to the last
fill report, and p50/p99 of each order's time from send to fill report (both taken in the
client's process). Target: Keel's durable round trip at least as many orders/s as the bare
QuickFIX pair.

Rerun: ``make bench`` or ``.venv/bin/python bench/fix_roundtrip.py [--orders N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from keel.adapters.clock import SystemClock
from keel.adapters.fix.client_gateway import ClientSession
from keel.adapters.fix.config import SessionConfig
from keel.adapters.store.sqlite import SqliteStore
from keel.domain.ids import InstrumentId
from keel.domain.instruments import Instrument
from keel.node import CLIENT_MESSAGES, VENUE_MESSAGES, Node, NodeConfig, VenueLink
from support.quickfix_driver import QuickFixPeer

ACME = Instrument(InstrumentId("ACME"), "ACME", Decimal("0.01"), Decimal(1), Decimal(1), 2)
BUY_AT, SELL_AT = "150.00", "50.00"
"""Limits far through the simulated market (ACME near 100): every order fills at once."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _filled(event: dict[str, object], prefix: str) -> bool:
    return (
        event["event"] == "er"
        and event.get("exec_type") in ("F", "2")
        and str(event["cl"]).startswith(prefix)
    )


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU time a process (or one of its threads) has used so far, from
    Linux's /proc; 0 for a thread that has gone."""
    path = Path(f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat")
    try:
        fields = path.read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    client: QuickFixPeer,
    orders: int,
    prefix: str,
    timeout: float,
    processes: dict[str, int] | None = None,
) -> tuple[float, list[float]]:
    """Send ``orders`` orders through ``client``; return (orders/s, latencies in ms). With
    ``processes`` (name -> pid), print the CPU time each used per order meanwhile."""
    client.count(lambda _e: False)  # take in what has arrived so far
    cpu_before = {name: cpu_seconds(pid) for name, pid in (processes or {}).items()}
    keel_pid = (processes or {}).get("keel")
    main_before = cpu_seconds(keel_pid, keel_pid) if keel_pid else 0.0
    start = len(client.events)
    client.burst(orders, prefix=prefix, buy_price=BUY_AT, sell_price=SELL_AT)
    deadline = time.monotonic() + timeout
    filled, looked = 0, start
    while True:
        client.count(lambda _e: False)
        arrived = client.events[looked:]
        looked += len(arrived)
        filled += sum(1 for e in arrived if _filled(e, prefix))  # each event looked at once
        if filled >= orders:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"{prefix}: not every order filled within {timeout} s")
        time.sleep(0.05)
    events = client.events[start:]
    sent = {str(e["cl"]): float(e["t"]) for e in events
            if e["event"] == "sent" and str(e["cl"]).startswith(prefix)}  # fmt: skip
    done: dict[str, float] = {}
    for e in events:
        if _filled(e, prefix):
            done.setdefault(str(e["cl"]), float(e["t"]))
    latencies = [(done[cl] - t) * 1000 for cl, t in sent.items() if cl in done]
    elapsed = max(done.values()) - min(sent.values())
    if processes:
        used = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in processes.items()}
        print(f"{'':<34} CPU per order: " + ", ".join(
            f"{name} {seconds / orders * 1e6:,.0f} us" for name, seconds in used.items()
        ) + f"; {sum(used.values()) / elapsed:.2f} cores busy")  # fmt: skip
        if keel_pid:  # the event loop's thread is Keel's serial path; the rest is SQLite
            main = cpu_seconds(keel_pid, keel_pid) - main_before
            print(f"{'':<34} of Keel's: event loop {main / orders * 1e6:,.0f} us, "
                  f"store threads {(used['keel'] - main) / orders * 1e6:,.0f} us")  # fmt: skip
    return len(done) / elapsed, latencies


def report(name: str, rate: float, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"{name:<34} {rate:>9,.0f} orders/s   p50 {p50:8.2f} ms   p99 {p99:8.2f} ms")


def baseline(tmp: Path, orders: int, warmup: int) -> float:
    port = free_port()
    broker = QuickFixPeer(role="acceptor", port=port, sender="BROKER", target="CLIENT",
                          store=tmp / "qf-broker", extra=("--auto-fill", "--quiet"))  # fmt: skip
    client = QuickFixPeer(role="initiator", port=port, sender="CLIENT", target="BROKER",
                          store=tmp / "qf-client", extra=("--quiet",))  # fmt: skip
    try:
        client.wait_for(lambda e: e["event"] == "logon", 20)
        measure(client, warmup, "W", 60)
        rate, latencies = measure(client, orders, "Q", 120,
                                  {"client": client.pid, "acceptor": broker.pid})  # fmt: skip
        report("QuickFIX -> QuickFIX (bare)", rate, latencies)
        return rate
    finally:
        client.stop()
        broker.stop()


def keel(tmp: Path, orders: int, warmup: int, venue_kind: str = "sim") -> float:
    """Keel's durable round trip to the simulated venue (``venue_kind="sim"``, the path the
    issue names) or to a QuickFIX acceptor that fills at once (``"quickfix"``: what Keel
    itself costs, with a venue that costs next to nothing). Keel runs in its own process
    (``serve_keel``); this one only drives the client and times it."""
    venue_port = free_port()
    venue_log = tmp / f"venue-{venue_kind}.log"
    broker: QuickFixPeer | None = None
    venue: subprocess.Popen[str] | None = None
    if venue_kind == "quickfix":
        broker = QuickFixPeer(role="acceptor", port=venue_port, sender="SIM", target="KEEL",
                              store=tmp / "qf-venue", extra=("--auto-fill", "--quiet"))  # fmt: skip
    else:
        with venue_log.open("w") as log_file:
            venue = subprocess.Popen(
                [sys.executable, "-m", "keel.cli.venue_sim", "--port", str(venue_port),
                 "--sender", "SIM", "--target", "KEEL", "--tick-ms", "20"],
                stdout=log_file, stderr=subprocess.STDOUT, text=True,
            )  # fmt: skip
        while "listening" not in venue_log.read_text():
            if venue.poll() is not None:
                raise SystemExit(f"venue-sim did not start: {venue_log.read_text()[-2000:]}")
            time.sleep(0.05)
    client_port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-keel", str(tmp / f"keel-{venue_kind}.db"),
         str(venue_port), str(client_port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None
    assert server.stdin is not None
    if server.stdout.readline().strip() != "ready":
        raise SystemExit("Keel did not start")
    client = QuickFixPeer(role="initiator", port=client_port, sender="CLIENT", target="KEEL",
                          store=tmp / f"keel-client-{venue_kind}", extra=("--quiet",))  # fmt: skip
    try:
        client.wait_for(lambda e: e["event"] == "logon", 20)
        try:
            measure(client, warmup, "W", 120)
            venue_pid = venue.pid if venue is not None else broker.pid  # type: ignore[union-attr]
            rate, latencies = measure(client, orders, "K", 300, {
                "client": client.pid, "keel": server.pid, "venue": venue_pid,
            })  # fmt: skip
        except SystemExit:
            if venue is not None:
                print(f"venue-sim's last words: {venue_log.read_text()[-3000:]}")
            raise
        name = "keel venue-sim" if venue_kind == "sim" else "QuickFIX venue"
        report(f"Keel, durable, to {name}", rate, latencies)
        return rate
    finally:
        client.stop()
        server.stdin.close()  # Keel stops: what it says about its commits comes last
        print(f"{'':<34} {server.stdout.read().strip()}")
        server.wait(timeout=30)
        if venue is not None:
            venue.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                venue.wait(timeout=10)
        if broker is not None:
            broker.stop()


async def serve_keel(db: Path, venue_port: int, client_port: int) -> None:
    """Run Keel's node (client acceptor, sequencer on SQLite, venue initiator) until stdin
    closes; say ``ready`` once the venue session is up, and the commit counts at the end."""
    store = SqliteStore(db)
    store.migrate()
    config = NodeConfig(
        instruments={"ACME": ACME},
        clients=[ClientSession(SessionConfig("FIX.4.4", "KEEL", "CLIENT", initiator=False,
                                             app_msg_types=CLIENT_MESSAGES),
                               "bench", frozenset({"FUND-A"}), pending_new=False)],
        venues=[VenueLink(SessionConfig("FIX.4.4", "KEEL", "SIM", initiator=True,
                                        app_msg_types=VENUE_MESSAGES),
                          "127.0.0.1", venue_port)],
        default_venue="SIM", client_port=client_port,
    )  # fmt: skip
    node = Node(store, SystemClock(), config)
    await node.start()
    try:
        while node.venues["SIM"].connection is None:
            await asyncio.sleep(0.05)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)  # until the harness closes our stdin
    finally:
        await node.stop()
        store.close()
    print(f"{node.sequencer.batches:,} commits for {node.sequencer.committed_inputs:,} inputs; "
          f"{node.journal.groups:,} FIX journal commits", flush=True)  # fmt: skip


def main() -> int:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-keel":  # Keel's own process
        asyncio.run(serve_keel(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=6_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument(
        "--sim-only", action="store_true",
        help="skip the extra run against a QuickFIX venue (Keel's own cost)",
    )  # fmt: skip
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}, "
          f"{args.orders:,} orders after {args.warmup} warm-up, FIX 4.4 over loopback")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        base = baseline(Path(tmp), args.orders, args.warmup)
        ours = keel(Path(tmp), args.orders, args.warmup)
        if not args.sim_only:
            keel(Path(tmp), args.orders, args.warmup, "quickfix")
    print(f"ratio Keel / QuickFIX pair: {ours / base:.2f}  "
          f"target >= 1.00: {'PASS' if ours >= base else 'FAIL'}  "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip
    print("rerun: make bench, or .venv/bin/python bench/fix_roundtrip.py --orders N")
    return 0


if __name__ == "__main__":
    sys.exit(main())
