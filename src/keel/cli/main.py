"""The ``keel`` command line.

Every error Keel raises on purpose is printed as one ``keel: error: ...`` line with exit
status 1 (argparse's own usage errors exit 2); a traceback means a bug.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

import keel
from keel.bootstrap import database_url, open_store
from keel.cli import live_demo, log_commands, order_show, recon, serve, venue_sim
from keel.cli.demo import run_demo
from keel.domain.errors import KeelError
from keel.domain.state_machine.docs import lifecycle_markdown, mermaid

DB_HELP = "database URL (default: $KEEL_DB or sqlite:///var/keel.db)"


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keel", description="Keel: an order management system for trading desks."
    )
    parser.add_argument("--version", action="version", version=f"keel {keel.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="scripted order lifecycles; with --serve, Keel live with a blotter"
    )
    demo.add_argument(
        "--serve", action="store_true",
        help="run Keel with a simulated venue, the API and the operator UI (Ctrl-C to stop)",
    )  # fmt: skip
    demo.add_argument("--http-port", type=int, default=8080, help="port of the UI and API")
    demo.add_argument(
        "--flow", action=argparse.BooleanOptionalAction, default=True,
        help="with --serve: a demo trader sends orders, cancels and replaces (default on)",
    )  # fmt: skip
    docs = commands.add_parser("docs", help="print generated documentation")
    docs.add_argument("topic", choices=["lifecycle", "diagram"], help="what to print")

    db = commands.add_parser("db", help="the database's schema version, or migrate it")
    db.add_argument("action", choices=["version", "migrate"])
    db.add_argument("--db", help=DB_HELP)
    verify = commands.add_parser("verify", help="check the event log's hash chain")
    verify.add_argument("--db", help=DB_HELP)
    replay = commands.add_parser("replay", help="rebuild the projections from the event log")
    mode = replay.add_mutually_exclusive_group(required=True)
    mode.add_argument("--verify", action="store_true", help="compare with the live tables")
    mode.add_argument("--rebuild", action="store_true", help="replace the live tables")
    replay.add_argument("--db", help=DB_HELP)
    order = commands.add_parser("order", help="look at one order")
    order_commands = order.add_subparsers(dest="order_command", required=True, metavar="ACTION")
    show = order_commands.add_parser(
        "show", help="what happened to an order: events, inputs, ids, fills, exceptions"
    )
    show.add_argument(
        "ref", help="order id, ClOrdID, venue order id (VENUE:ID, or bare) or client order id"
    )
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--db", help=DB_HELP)
    venue_sim.add_parser(commands)
    serve.add_parsers(commands)
    recon.add_parser(commands)
    return parser


def _run(args: argparse.Namespace, console: Console) -> int:
    if args.command == "venue-sim":
        return venue_sim.run_venue_sim(args)
    if args.command == "serve":
        return serve.run_serve(args, console)
    if args.command == "users":
        return serve.run_users(args, console)
    if args.command == "audit":
        return serve.run_audit(args, console)
    if args.command == "recon":
        return recon.run_recon(args, console)
    if args.command == "demo":
        if args.serve:
            return live_demo.run_live_demo(console, port=args.http_port, flow=args.flow)
        run_demo(console)
        return 0
    if args.command == "docs":
        sys.stdout.write(lifecycle_markdown() if args.topic == "lifecycle" else mermaid() + "\n")
        return 0
    # Everything but ``db version`` brings the schema up to date first, as the service does.
    reading_version = args.command == "db" and args.action == "version"
    store = open_store(database_url(args.db), migrate=not reading_version)
    try:
        if args.command == "db":
            return log_commands.db_version(console, store)
        if args.command == "verify":
            return log_commands.verify(console, store)
        if args.command == "replay":
            return log_commands.run_replay(console, store, rebuild=args.rebuild)
        return order_show.show(console, store, args.ref, as_json=args.json)
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = _build_parser().parse_args(argv)
    try:
        return _run(args, Console())
    except KeelError as e:
        Console(stderr=True).print(f"keel: error: {e}", markup=False)
        return 1


if __name__ == "__main__":
    sys.exit(main())
