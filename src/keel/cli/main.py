"""The ``keel`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console

import keel
from keel.cli.demo import run_demo
from keel.domain.state_machine.docs import lifecycle_markdown, mermaid


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keel", description="Keel: an order management system for trading desks."
    )
    parser.add_argument("--version", action="version", version=f"keel {keel.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("demo", help="play scripted order lifecycles through the state machine")
    docs = commands.add_parser("docs", help="print generated documentation")
    docs.add_argument("topic", choices=["lifecycle", "diagram"], help="what to print")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    args = _build_parser().parse_args(argv)
    if args.command == "demo":
        run_demo(Console())
        return 0
    if args.command == "docs":
        sys.stdout.write(lifecycle_markdown() if args.topic == "lifecycle" else mermaid() + "\n")
        return 0
    raise AssertionError(f"unhandled command {args.command}")  # argparse refuses unknown ones


if __name__ == "__main__":
    sys.exit(main())
