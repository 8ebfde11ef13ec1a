"""``keel recon run``: reconcile a broker's statement with the running Keel.

The command sends the statement to Keel's API (``POST /v1/recon/runs``): the system of
record has one writer, the running process, so the CLI never opens the database itself. It
shows the upload's progress, waits for the run, prints a summary table and the breaks, and
can write the run's report as CSV and HTML. Exit status: 0 when the run is clean, 3 when it
found breaks, 1 when it could not run (each reason printed, with the statement's bad lines).
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from keel.domain.errors import KeelError

CHUNK = 256 * 1024
BREAKS_FOUND = 3
"""Exit status of a run that found breaks (0: clean)."""


class ReconCommandError(KeelError):
    """The run could not be started or read; the message says why."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    recon = commands.add_parser("recon", help="reconcile Keel's books with a broker's")
    actions = recon.add_subparsers(dest="recon_command", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="reconcile a broker statement (and the drop copy)")
    run.add_argument("--broker", required=True, help="the broker's name in recon.brokers")
    run.add_argument("--statement", type=Path, help="the broker's statement file (CSV)")
    run.add_argument("--trade-date", type=date.fromisoformat, help="compare this day only")
    run.add_argument(
        "--url", default=os.environ.get("KEEL_URL", "http://127.0.0.1:8080"),
        help="Keel's HTTP API (default $KEEL_URL or http://127.0.0.1:8080)",
    )  # fmt: skip
    run.add_argument("--key", default=os.environ.get("KEEL_API_KEY"),
                     help="an API key of an operations user (default $KEEL_API_KEY)")  # fmt: skip
    run.add_argument("--out", type=Path, help="write the report here as RUN.csv and RUN.html")


def run_recon(args: argparse.Namespace, console: Console) -> int:
    """Run ``keel recon run``; return the exit status."""
    if not args.key:
        raise ReconCommandError("give an API key: --key keel_... or $KEEL_API_KEY")
    query = {"broker": args.broker}
    if args.trade_date is not None:
        query["trade_date"] = args.trade_date.isoformat()
    body: Iterator[bytes] | None = None
    size = 0
    if args.statement is not None:
        path: Path = args.statement
        if not path.is_file():
            raise ReconCommandError(f"{path}: no such statement file")
        size = path.stat().st_size
        query["file_name"] = path.name
    api = _Api(args.url, args.key)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  DownloadColumn(), console=console, transient=True) as progress:  # fmt: skip
        if args.statement is not None:
            task = progress.add_task(f"sending {args.statement.name}", total=size)
            body = _chunks(args.statement, lambda n: progress.advance(task, n))
        progress.add_task("reconciling", total=None)
        run = api.post(f"/v1/recon/runs?{urllib.parse.urlencode(query)}", body, size)
    _print_run(console, run)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        for kind in ("csv", "html"):
            target = args.out / f"{run['run_id']}.{kind}"
            target.write_text(api.get_text(f"/v1/recon/runs/{run['run_id']}/report.{kind}"))
            console.print(f"report: {target}")
    return 0 if run["result"] == "CLEAN" else BREAKS_FOUND


def _chunks(path: Path, sent: Any) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            sent(len(chunk))
            yield chunk


class _Api:
    def __init__(self, url: str, key: str) -> None:
        self._url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}"}

    def post(self, path: str, body: Iterator[bytes] | None, size: int) -> dict[str, Any]:
        headers = {**self._headers, "Content-Type": "text/csv", "Content-Length": str(size)}
        request = urllib.request.Request(
            self._url + path, data=body, headers=headers, method="POST"
        )
        found: dict[str, Any] = json.loads(self._send(request))
        return found

    def get_text(self, path: str) -> str:
        request = urllib.request.Request(self._url + path, headers=self._headers)
        return self._send(request).decode("utf-8")

    def _send(self, request: urllib.request.Request) -> bytes:
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as e:
            raise ReconCommandError(_problem(e)) from None
        except urllib.error.URLError as e:
            raise ReconCommandError(f"cannot reach Keel at {self._url}: {e.reason}") from None


def _problem(error: urllib.error.HTTPError) -> str:
    """The API's problem body as lines: the detail, then each field's reason."""
    try:
        problem = json.loads(error.read())
    except ValueError:
        return f"Keel answered {error.code} {error.reason}"
    lines = [f"{problem.get('title', error.reason)}: {problem.get('detail', '')}"]
    lines += [f"  {e.get('reason')}" for e in problem.get("errors") or []]
    return "\n".join(lines)


def _print_run(console: Console, run: dict[str, Any]) -> None:
    summary = run["summary"]
    head = Table(
        title=f"Reconciliation {run['run_id']} with {run['broker']}: {run['result']}",
        show_header=False,
    )
    head.add_column("")
    head.add_column("", justify="right")
    statement = summary["inputs"].get("statement")
    if statement:
        head.add_row("statement", f"{statement['file']}: {statement['lines']} line(s), "
                                  f"kept as input {statement['input_seq']}")  # fmt: skip
    head.add_row("drop-copy fills", str(summary["inputs"]["drop_copy_fills"]))
    head.add_row("Keel fills", str(summary["keel_fills"]))
    head.add_row("matched by ExecID", str(summary["matched_by_exec_id"]))
    head.add_row("matched by fallback", str(summary["matched_by_fallback"]))
    for kind, count in sorted(summary["breaks_by_kind"].items()):
        head.add_row(f"breaks: {kind}", str(count))
    console.print(head)
    if not run["breaks"]:
        return
    table = Table(title="Breaks")
    for column in ("kind", "state", "order", "exception", "what"):
        table.add_column(column)
    for found in run["breaks"]:
        table.add_row(found["kind"], found["state"], found.get("order_id") or "",
                      found.get("exception_id") or "", found["explanation"])  # fmt: skip
    console.print(table)
