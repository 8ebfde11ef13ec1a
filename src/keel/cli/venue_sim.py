"""``keel venue-sim``: the simulated venue as a FIX acceptor, until Ctrl-C.

    keel venue-sim --port N [--host H] [--sender SIM] [--target KEEL] [--fix 4.2|4.4]
                   [--seed S] [--tick-ms MS] [--fault NAME=VALUE ...]

It prints one line when it listens, serves one client session (the venue is ``--sender``,
the client ``--target``), and on SIGINT or SIGTERM logs the client out and exits 0. A bad
argument is one ``keel venue-sim: error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO

from keel.adapters.fix.config import FIX42, FIX44
from keel.adapters.venues.sim.faults import FaultPlan, Trigger
from keel.adapters.venues.sim.fix_venue import run_sim_venue, venue_session
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


async def _serve(args: argparse.Namespace, out: TextIO) -> int:
    begin_string = FIX_VERSIONS[args.fix]
    session = venue_session(begin_string, args.sender, args.target)
    running = await run_sim_venue(
        args.host, args.port, [session], seed=args.seed, faults=fault_plan(args.fault),
        tick_interval=args.tick_ms / 1000 if args.tick_ms else None, run=run_id(),
    )  # fmt: skip
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
