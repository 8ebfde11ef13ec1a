"""``keel db``, ``keel verify`` and ``keel replay``: the log's schema, integrity and rebuild."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from keel.app import replay
from keel.app.chain import verify_chain
from keel.app.ports import EventStore
from keel.app.records import EventRecord


def db_version(console: Console, store: EventStore) -> int:
    console.print(f"schema version {store.schema_version()}")
    return 0


def _all_events(store: EventStore) -> Iterator[EventRecord]:
    after = 0
    while records := store.read_events(after, 10_000):
        yield from records
        after = records[-1].event_seq


def verify(console: Console, store: EventStore) -> int:
    """Check the hash chain over every event; exit 1 at the first break."""
    report = verify_chain(_all_events(store))
    if report.ok:
        console.print(f"[green]hash chain verified[/]: {report.events} events")
        return 0
    console.print(
        f"[bold red]hash chain broken[/] at event {report.broken_at}: {report.reason} "
        f"({report.events} events read)"
    )
    return 1


PROGRESS_FROM = 10_000
"""Replays shorter than this many events show no progress bar."""


def _progress(console: Console, total: int) -> Progress:
    return Progress(
        TextColumn("replaying"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=total < PROGRESS_FROM,
    )


def run_replay(console: Console, store: EventStore, *, rebuild: bool) -> int:
    """Rebuild every projection from the log; compare with the live tables, or replace them."""
    total = store.head().last_event_seq
    with _progress(console, total) as bar:
        task = bar.add_task("replay", total=total)

        def advance(done: int) -> None:
            bar.update(task, completed=done)

        if rebuild:
            written = replay.rebuild(store, advance)
        else:
            differences = replay.verify(store, advance)
    if rebuild:
        console.print(f"[green]projections rebuilt[/] from {total} events: {written} rows")
        return 0
    if not differences:
        console.print(f"[green]replay verified[/]: {total} events, projections identical")
        return 0
    for difference in differences[:200]:
        console.print(str(difference), markup=False)
    more = len(differences) - 200
    if more > 0:
        console.print(f"... and {more} more")
    console.print(f"[bold red]{len(differences)} differences[/] between the log and the tables")
    return 1
