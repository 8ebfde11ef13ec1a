"""FIX ExecutionReports parsed and validated per second: Keel next to QuickFIX, same bytes.

The messages are FIX 4.4 partial fills as a venue sends them (30 fields: the standard
header, Parties with one executing firm, instrument, order, last fill and running totals),
``--messages`` of them (default 50,000), all distinct (ExecID, MsgSeqNum, quantities, prices
and times differ), built before any timing starts.

Engines, each over every message, interleaved in chunks of 1,000 so that all see the same
machine (this VM's speed swings by 2x within seconds):

- Keel ``parse`` + ``FIX44.validate``: framing and CheckSum, then every field's format,
  enumerations, required fields and the Parties group. The messages share one tag layout,
  as one venue's fills do, so after the first one ``parse`` cuts each message with that
  layout's compiled pattern and validation runs from that layout's plan. The same with
  validation field by field (``max_layouts=0``, as for a layout seen for the first time) is
  the worst case; ``parse`` alone is shown too.
- QuickFIX 1.16 (C++ behind its Python binding) on the same bytes, as ``str``:
  ``Message(text)`` (no dictionary; still checks BodyLength and CheckSum);
  ``Message(text, dd, True)`` with a ``DataDictionary`` loaded from ``FIX44.to_quickfix_xml()``;
  and that followed by ``dd.validate(msg)``, which is what a QuickFIX session does with
  ``UseDataDictionary=Y``.

``Message(text, dd, True)`` does not validate fields: its ``True`` checks BodyLength and
CheckSum, and the dictionary only tells it where groups are. The script shows it accepting
a bad OrdStatus that ``dd.validate`` rejects. The like-for-like comparison with Keel's
parse + validate is therefore QuickFIX's parse + ``dd.validate``, and the verdict against
the target (Keel at least 1.3x QuickFIX parsing with validation) uses it: the median over
rounds of each round's ratio. The ratio to ``Message(text, dd, True)`` alone is printed too.

Rerun: ``.venv/bin/python bench/fix_codec.py [--messages N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from time import perf_counter

import quickfix

from keel.adapters.fix.codec import encode, parse
from keel.adapters.fix.dictionary import FIX44

TARGET = 1.3
"""Keel's parse + validate must do at least 1.3x QuickFIX's parse + validate."""
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
CHUNK = 1_000
"""Messages each engine runs before the next takes over, within a round."""


def partial_fill(n: int) -> bytes:
    """One distinct FIX 4.4 partial-fill ExecutionReport, as a venue would send it."""
    order_qty = Decimal(1000 + 100 * (n % 50))
    cum_qty = Decimal(100 + n % 400)
    last_qty = Decimal(1 + n % 100)
    last_px = Decimal("101.25") + Decimal(n % 200) / 100
    sent = T0 + timedelta(milliseconds=n)
    return encode(
        "FIX.4.4",
        [
            (35, "8"), (34, 1000 + n), (49, "VENUE"), (52, sent), (56, "KEEL"),
            (1, "FUND-A"), (6, (last_px + Decimal("0.0125")).quantize(Decimal("0.0001"))),
            (11, f"ORD-{n // 4}.1"), (14, cum_qty), (17, f"V-EX-{n:09d}"),
            (22, "8"), (30, "XNAS"), (31, last_px), (32, last_qty), (37, f"V-{n // 4:08d}"),
            (38, order_qty), (39, "1"), (40, "2"), (44, Decimal("102.00")), (48, "ACME"),
            (54, "1"), (55, "ACME"), (59, "0"), (60, sent - timedelta(milliseconds=2)),
            (150, "F"), (151, order_qty - cum_qty),
            (453, 1), (448, "VENUE-MM-7"), (447, "D"), (452, 1),
        ],
    )  # fmt: skip


def keel_parse_and_validate(validate: Callable[[object], None]) -> Callable[[bytes], None]:
    def run(raw: bytes) -> None:
        validate(parse(raw))

    return run  # type: ignore[return-value]


def time_once(step: Callable[[object], object], items: Sequence[object]) -> float:
    """Seconds for one pass of ``step`` over ``items``; the loop is the same for every engine."""
    start = perf_counter()
    for item in items:
        step(item)
    return perf_counter() - start


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000, help="distinct messages")
    parser.add_argument("--rounds", type=int, default=7, help="timed passes of each engine")
    args = parser.parse_args(argv)
    if args.messages < 1 or args.rounds < 1:
        parser.error("--messages and --rounds must be at least 1")

    raws = [partial_fill(n) for n in range(args.messages)]
    texts = [raw.decode("latin-1") for raw in raws]
    sizes = sorted({len(raw) for raw in raws})
    fields = len(parse(raws[0]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "FIX44.xml"
        path.write_text(FIX44.to_quickfix_xml())
        dd = quickfix.DataDictionary(str(path))
    unplanned = FIX44.with_options(max_layouts=0)

    # Both engines must accept every message, or the race means nothing.
    for raw, text in zip(raws, texts, strict=True):
        FIX44.validate(parse(raw))
        unplanned.validate(parse(raw))
        dd.validate(quickfix.Message(text, dd, True))

    def qf_validate(text: str) -> None:
        dd.validate(quickfix.Message(text, dd, True))

    engines: list[tuple[str, Callable[[object], object], Sequence[object]]] = [
        ("Keel parse + FIX44.validate", keel_parse_and_validate(FIX44.validate), raws),  # type: ignore[arg-type]
        ("Keel parse + validate, no plans", keel_parse_and_validate(unplanned.validate), raws),  # type: ignore[arg-type]
        ("Keel parse only", parse, raws),  # type: ignore[list-item]
        ("QuickFIX Message(text)", quickfix.Message, texts),
        ("QuickFIX Message(text, dd, True)", lambda text: quickfix.Message(text, dd, True), texts),
        ("QuickFIX Message(dd) + dd.validate", qf_validate, texts),  # type: ignore[list-item]
    ]
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in engines}
    for _ in range(args.rounds):
        totals = dict.fromkeys(seconds, 0.0)
        for start in range(0, args.messages, CHUNK):
            for name, step, items in engines:
                totals[name] += time_once(step, items[start : start + CHUNK])
        for name, total in totals.items():
            seconds[name].append(total)
        gc.collect()

    fill = parse(raws[0]).fields
    bad = encode("FIX.4.4", [(t, b"Z" if t == 39 else v) for t, v in fill]).decode("latin-1")
    lenient = quickfix.Message(bad, dd, True) is not None
    try:
        dd.validate(quickfix.Message(bad, dd, True))
        strict = False
    except quickfix.IncorrectTagValue:
        strict = True

    print(f"python {platform.python_version()} ({sys.executable}), cpu: {cpu_model()}")
    print(
        f"{args.messages:,} distinct FIX 4.4 partial-fill ExecutionReports, {fields} fields, "
        f"{sizes[0]}-{sizes[-1]} bytes; {args.rounds} rounds, engines interleaved every "
        f"{CHUNK:,} messages"
    )
    print(f"{'messages/s':<42}{'best':>12}{'median':>12}")
    for name, _, _ in engines:
        rates = [args.messages / s for s in seconds[name]]
        print(f"{name:<42}{max(rates):>12,.0f}{statistics.median(rates):>12,.0f}")
    print(
        f"QuickFIX Message(text, dd, True) accepts OrdStatus 39=Z: {lenient}; "
        f"dd.validate rejects it: {strict}"
    )
    keel = seconds["Keel parse + FIX44.validate"]
    like = statistics.median(
        q / k for k, q in zip(keel, seconds["QuickFIX Message(dd) + dd.validate"], strict=True)
    )
    framing = statistics.median(
        q / k for k, q in zip(keel, seconds["QuickFIX Message(text, dd, True)"], strict=True)
    )
    print(f"Keel / QuickFIX Message(text, dd, True) + dd.validate: {like:.2f}x (median of rounds)")
    print(f"Keel / QuickFIX Message(text, dd, True), no field validation: {framing:.2f}x")
    verdict = "PASS" if like >= TARGET else "FAIL"
    print(f"target: Keel parse + validate at least {TARGET}x QuickFIX parse + validate: {verdict}")
    print("rerun: .venv/bin/python bench/fix_codec.py [--messages N] [--rounds R]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
