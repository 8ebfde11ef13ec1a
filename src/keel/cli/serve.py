"""``keel serve`` (one process: sequencer, FIX gateways, HTTP API) and ``keel users``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator

import uvicorn
from rich.console import Console
from rich.table import Table

from keel.adapters.clock import SystemClock
from keel.api.app import create_app
from keel.app.desk import OrderDesk
from keel.app.ports import EventStore
from keel.app.users import Users
from keel.bootstrap import database_url, open_store
from keel.config import load_config, resolve_client_users
from keel.domain.errors import KeelError
from keel.node import Node, NodeConfig

DB_HELP = "database URL (default: the config's node.database, $KEEL_DB or sqlite:///var/keel.db)"

log = logging.getLogger(__name__)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve", help="run Keel: the sequencer, the FIX sessions and the HTTP API"
    )
    serve.add_argument("--config", required=True, help="the configuration file (keel.toml)")
    serve.add_argument("--db", help=DB_HELP)
    serve.add_argument("--http-host", default="127.0.0.1", help="address of the HTTP API")
    serve.add_argument("--http-port", type=int, default=8080, help="port of the HTTP API")

    audit = commands.add_parser("audit", help="the requests that changed something, oldest first")
    audit.add_argument("--after", type=int, default=0, help="show rows after this audit id")
    audit.add_argument("--limit", type=int, default=100, help="at most this many rows")
    audit.add_argument("--db", help=DB_HELP)

    users = commands.add_parser("users", help="add, list or revoke the API's users")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user (or a new key for one); prints the key once")
    add.add_argument("name")
    add.add_argument("--role", required=True,
                     choices=["viewer", "trader", "risk", "operations", "admin"])  # fmt: skip
    add.add_argument("--accounts", default="", help="comma-separated: FUND-A,FUND-B")
    add.add_argument("--db", help=DB_HELP)
    listing = actions.add_parser("list", help="list the users")
    listing.add_argument("--db", help=DB_HELP)
    revoke = actions.add_parser("revoke", help="revoke a user and all their keys")
    revoke.add_argument("name")
    revoke.add_argument("--db", help=DB_HELP)


def run_audit(args: argparse.Namespace, console: Console) -> int:
    store = open_store(database_url(args.db))
    try:
        table = Table("id", "at", "actor", "from", "request", "status", "events", "payload")
        for row in store.audit(args.after, args.limit):
            payload = row.payload.decode("utf-8", "replace") if row.payload else ""
            events = ",".join(str(s) for s in row.event_seqs)
            table.add_row(str(row.audit_id), row.at.isoformat(timespec="milliseconds"),
                          row.actor, row.source, f"{row.method} {row.path}",
                          str(row.status_code), events, payload)  # fmt: skip
        console.print(table)
        return 0
    finally:
        store.close()


def run_users(args: argparse.Namespace, console: Console) -> int:
    store = open_store(database_url(args.db))
    try:
        users = Users(store)
        now = SystemClock().now()
        if args.users_command == "add":
            user, key = users.add(args.name, args.role, args.accounts.split(","), now)
            accounts = ", ".join(sorted(user.accounts)) or "every account"
            console.print(f"user {user.name} ({user.role}) on {accounts}", markup=False)
            console.print(f"API key (shown only now): {key}", markup=False)
            return 0
        if args.users_command == "revoke":
            users.revoke(args.name, now)
            console.print(f"user {args.name} and their keys are revoked", markup=False)
            return 0
        table = Table("name", "role", "accounts", "created", "revoked")
        for row in users.list():
            revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else ""
            created = row.created_at.isoformat(timespec="seconds")
            table.add_row(row.name, row.role, ",".join(row.accounts), created, revoked)
        console.print(table)
        return 0
    finally:
        store.close()


class PortInUseError(KeelError):
    """The HTTP port asked for is taken."""


def check_port_free(host: str, port: int) -> None:
    """Refuse at once, with a clear line, a port something else listens on (uvicorn would
    only log it after Keel had started)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            raise PortInUseError(
                f"cannot listen on {host}:{port} ({e.strerror}); choose another --http-port"
            ) from e


class KeelServer(uvicorn.Server):
    """uvicorn's server, with Keel's own Ctrl-C: stop serving HTTP, then stop the node
    (committing what it took), then exit 0. (uvicorn's own handling raises the signal
    again once it has stopped, which would cut the node's shutdown short.)"""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop_serving(self) -> None:
        self.should_exit = True


def run_serve(args: argparse.Namespace, console: Console) -> int:
    config = load_config(args.config)
    check_port_free(args.http_host, args.http_port)
    store = open_store(database_url(args.db or config.database))
    try:
        node_config = resolve_client_users(config.node, store.users(), config.path)
        asyncio.run(_serve(store, node_config, args, console))
    finally:
        store.close()
    return 0


async def _serve(
    store: EventStore, node_config: NodeConfig, args: argparse.Namespace, console: Console
) -> None:
    clock = SystemClock()
    node = Node(store, clock, node_config)
    await node.start()
    app = create_app(
        OrderDesk(node.sequencer, store, node.intake, clock, node.halts), Users(store),
        feed=node.feed,
        ready=lambda: all(v.connection is not None for v in node.venues.values()),
        metrics=node.metrics.text, audit_log=store.record_audit, audit_clock=clock.now,
        venues=node.venue_status, recon=node.recon,
    )  # fmt: skip
    server = KeelServer(
        uvicorn.Config(
            app,
            host=args.http_host,
            port=args.http_port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
    )
    fix = f", FIX clients on {node.config.client_host}:{node.client_port}" if node.acceptor else ""
    console.print(f"keel serving HTTP on {args.http_host}:{args.http_port}{fix}", markup=False)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.stop_serving)
    try:
        await server.serve()  # until SIGINT or SIGTERM
    finally:
        await node.stop()
        console.print("keel stopped; every input taken is committed", markup=False)
