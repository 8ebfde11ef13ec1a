"""``keel venue-sim``: the simulated venue as a FIX acceptor, until Ctrl-C.

    keel venue-sim --port N [--host H] [--sender SIM] [--target KEEL] [--fix 4.2|4.4]
                   [--seed S] [--tick-ms MS] [--fault NAME=VALUE ...]
                   [--drop-copy COMPID] [--statement-dir DIR] [--end-of-day HH:MM]

It prints one line when it listens, serves one client session (the venue is ``--sender``,
the client ``--target``), and on SIGINT or SIGTERM logs the client out and exits 0. A bad
argument is one ``keel venue-sim: error: ...`` line on stderr and exit status 2.

``--drop-copy COMPID`` also accepts a read-only drop-copy session from COMPID, in the same
FIX version, copying every ExecutionReport (``keel.adapters.venues.sim.drop_copy``).
``--statement-dir DIR`` writes the venue's statement, ``DIR/sim-statement-YYYYMMDD.csv``
(format in ``keel.adapters.venues.sim.statement``), when it stops and at its end of day;
``--end-of-day HH:MM`` (UTC) expires DAY orders and writes the day's statement every day.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any, TextIO

from keel.adapters.fix.config import FIX42, FIX44
from keel.adapters.venues.sim.faults import FaultPlan, Trigger
from keel.adapters.venues.sim.fix_venue import (
    RunningSimVenue,
    drop_copy_session,
    run_sim_venue,
    venue_session,
)
from keel.domain.errors import KeelError

PROG = "keel venue-sim"
FIX_VERSIONS = {"4.2": FIX42, "4.4": FIX44}
DEFAULT_TICK_MS = 500


@dataclass(frozen=True, slots=True)
class FaultOption:
    """One ``--fault NAME=VALUE``: how its value reads and what it means."""

    kind: str
    """``ratio`` (a probability in [0, 1]) or ``count`` (a whole number >= ``minimum``)."""
    help: str
    minimum: int = 0


FAULTS = {
    "reject": FaultOption("ratio", "share of new orders rejected"),
    "duplicate": FaultOption("ratio", "share of reports sent twice, with the same ExecID"),
    "reorder": FaultOption("ratio", "share of reports swapped with the next of their order"),
    "drop": FaultOption("ratio", "share of reports never sent"),
    "delay": FaultOption("ratio", "share of reports delayed (1 when only delay-ms is given)"),
    "delay-ms": FaultOption("count", "how long a delayed report waits, in milliseconds"),
    "partial-fills": FaultOption("count", "split every execution into N prints", minimum=2),
    "late-fill": FaultOption("ratio", "share of cancels followed by a fill from before them"),
    "disconnect-after": FaultOption(
        "count", "drop the connection once, after N reports", minimum=1
    ),
}


def fault_argument(text: str) -> tuple[str, int | float]:
    """Read one ``NAME=VALUE`` (an argparse type: a bad one is a usage error)."""
    name, sep, raw = text.partition("=")
    name = name.strip().lower()
    option = FAULTS.get(name)
    if not sep or option is None:
        known = ", ".join(FAULTS)
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE with NAME one of {known}")
    if option.kind == "ratio":
        try:
            ratio = float(raw)
        except ValueError:
            ratio = -1.0
        if not 0.0 <= ratio <= 1.0:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{name}={raw}: a ratio between 0 and 1 is needed")
        return name, ratio
    try:
        count = int(raw)
    except ValueError:
        count = -1
    if count < option.minimum:
        raise argparse.ArgumentTypeError(
            f"{name}={raw}: a whole number of at least {option.minimum} is needed"
        )
    return name, count


def fault_plan(faults: Sequence[tuple[str, int | float]]) -> FaultPlan:
    """Return the fault plan the ``--fault`` options ask for (a later option wins)."""
    given = dict(faults)

    def ratio(name: str) -> Trigger:
        return Trigger(ratio=float(given.get(name, 0.0)))

    settings: dict[str, Any] = {
        "reject_new": ratio("reject"),
        "duplicate": ratio("duplicate"),
        "reorder": ratio("reorder"),
        "drop": ratio("drop"),
        "delay": ratio("delay"),
        "late_fill_after_cancel": ratio("late-fill"),
    }
    if "delay-ms" in given:
        settings["delay_by"] = timedelta(milliseconds=int(given["delay-ms"]))
        if "delay" not in given:
            settings["delay"] = Trigger.always()
    if "partial-fills" in given:
        settings["split_fill"] = Trigger.always()
        settings["split_prints"] = int(given["partial-fills"])
    if "disconnect-after" in given:
        settings["disconnect_after_messages"] = int(given["disconnect-after"])
    return FaultPlan(**settings)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:  # noqa: PLR2004 - the highest TCP port
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def _comp_id(text: str) -> str:
    if not text or not text.isprintable() or "=" in text or " " in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a CompID")
    return text


def _tick_ms(text: str) -> int:
    try:
        ms = int(text)
    except ValueError:
        ms = -1
    if ms < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of milliseconds >= 0")
    return ms


def _statement_dir(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a directory")
    return path


def _end_of_day(text: str) -> day_time:
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a UTC time as HH:MM") from None


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``venue-sim`` options to ``parser``."""
    parser.add_argument("--port", type=_port, required=True, help="TCP port (0: any free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--sender", type=_comp_id, default="SIM", help="the venue's CompID")
    parser.add_argument("--target", type=_comp_id, default="KEEL", help="the client's CompID")
    parser.add_argument("--fix", choices=sorted(FIX_VERSIONS), default="4.4", help="FIX version")
    parser.add_argument("--seed", type=int, default=0, help="seed of the market and the faults")
    parser.add_argument(
        "--tick-ms", type=_tick_ms, default=DEFAULT_TICK_MS,
        help=f"milliseconds between market moves (0: the market stands still; "
        f"default {DEFAULT_TICK_MS})",
    )  # fmt: skip
    faults = "; ".join(f"{name}: {option.help}" for name, option in FAULTS.items())
    parser.add_argument(
        "--fault", type=fault_argument, action="append", default=[], metavar="NAME=VALUE",
        help=f"inject a fault (repeatable). {faults}",
    )  # fmt: skip
    parser.add_argument(
        "--drop-copy", type=_comp_id, metavar="COMPID",
        help="also accept a read-only drop-copy session from COMPID",
    )  # fmt: skip
    parser.add_argument(
        "--statement-dir", type=_statement_dir, metavar="DIR",
        help="write DIR/sim-statement-YYYYMMDD.csv when stopped and at the end of day",
    )  # fmt: skip
    parser.add_argument(
        "--end-of-day", type=_end_of_day, metavar="HH:MM",
        help="UTC time of the daily end of day: DAY orders expire, the statement is written",
    )  # fmt: skip
    parser.add_argument("--verbose", action="store_true", help="log sessions and connections")
    return parser


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``venue-sim`` on the ``keel`` command's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "venue-sim",
        help="run the simulated venue as a FIX acceptor until Ctrl-C",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        usage=argparse.SUPPRESS,  # a usage error is the one line that says what was wrong
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return configure(parser)


def run_venue_sim(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run the venue the parsed ``args`` describe until SIGINT or SIGTERM; return 0, or 1
    with one error line when it cannot start."""
    out = out or sys.stdout
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="venue-sim: %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        return asyncio.run(_serve(args, out))
    except KeyboardInterrupt:  # Ctrl-C before the signal handlers were in place
        return 0
    except (OSError, KeelError, ValueError) as e:
        sys.stderr.write(f"{PROG}: error: {e}\n")
        return 1


def run_id() -> str:
    """A short id of this run (base 36 of the time in milliseconds) for the venue's ids, so a
    restarted venue never repeats an ExecID a Keel has already booked."""
    n, digits, text = int(time.time() * 1000), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", ""
    while n:
        n, rest = divmod(n, 36)
        text = digits[rest] + text
    return text + "-"


def next_end_of_day(now: datetime, at: day_time) -> datetime:
    """Return the first moment at or after ``now`` whose UTC time of day is ``at``."""
    moment = datetime.combine(now.astimezone(UTC).date(), at, UTC)
    return moment if moment >= now else moment + timedelta(days=1)


async def _end_of_day_every_day(running: RunningSimVenue, at: day_time) -> None:
    """Run the venue's end of day at ``at`` (UTC) every day until cancelled."""
    while True:
        now = datetime.now(UTC)
        await asyncio.sleep((next_end_of_day(now, at) - now).total_seconds())
        for path in await running.end_of_day():
            logging.getLogger(__name__).info("end of day: statement written to %s", path)
        await asyncio.sleep(1)  # a wake-up a hair early must not run the same day twice


async def _serve(args: argparse.Namespace, out: TextIO) -> int:
    begin_string = FIX_VERSIONS[args.fix]
    session = venue_session(begin_string, args.sender, args.target)
    drop_copy = []
    if args.drop_copy:
        if args.drop_copy == args.target:
            raise ValueError("--drop-copy must name another CompID than --target")
        drop_copy.append(drop_copy_session(begin_string, args.sender, args.drop_copy))
    running = await run_sim_venue(
        args.host, args.port, [session], seed=args.seed, faults=fault_plan(args.fault),
        tick_interval=args.tick_ms / 1000 if args.tick_ms else None, run=run_id(),
        drop_copy=drop_copy, statement_dir=args.statement_dir,
    )  # fmt: skip
    end_of_day = None
    if args.end_of_day is not None:
        end_of_day = asyncio.create_task(_end_of_day_every_day(running, args.end_of_day))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    try:
        out.write(
            f"venue-sim listening on {args.host}:{running.port} as {args.sender} ({begin_string})\n"
        )
        out.flush()
        await stop.wait()
    finally:
        if end_of_day is not None:
            end_of_day.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await end_of_day
        await running.stop("the simulated venue is shutting down")
        for signum in signals:
            loop.remove_signal_handler(signum)
    out.write("venue-sim stopped\n")
    out.flush()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``keel venue-sim`` on its own (``python -m keel.cli.venue_sim``)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        usage=argparse.SUPPRESS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    args = configure(parser).parse_args(argv)
    return run_venue_sim(args)


if __name__ == "__main__":
    sys.exit(main())
