"""``keel order show``: one order's whole story, as a table or as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from keel.app.ports import EventStore
from keel.app.queries import order_history


def show(console: Console, store: EventStore, ref: str, *, as_json: bool) -> int:
    history = order_history(store, ref)
    if history is None:
        console.print(
            f"keel: no order matches {ref!r} (tried order id, ClOrdID, venue order id and "
            "client order id)",
            markup=False,
        )
        return 1
    if as_json:
        console.print_json(json.dumps(history.to_json()))
        return 0
    order = history.order
    console.print(
        f"[bold]{order.order_id}[/] {order.spec.side} {order.spec.qty} {order.spec.instrument} "
        f"[bold]{order.status}[/]  cum {order.cum_qty}  leaves {order.leaves_qty}  "
        f"avg px {order.avg_px if order.cum_qty else '-'}  account {order.spec.account}"
    )
    stamps = [t for e in history.timeline for t in (e.ingest_time, e.event_time, e.processed_time)]
    days = {t.astimezone(UTC).date() for t in stamps}
    one_day = len(days) == 1

    def when(t: datetime) -> str:
        t = t.astimezone(UTC)
        return t.strftime("%H:%M:%S.%f")[:-3] if one_day else t.isoformat(timespec="milliseconds")

    title = f"Timeline (UTC, {days.pop()})" if one_day else "Timeline (UTC)"
    timeline = Table(title=title, title_justify="left")
    for column in ("seq", "v", "what", "ingest", "event", "processed", "caused by", "actor"):
        timeline.add_column(column, overflow="fold")
    for entry in history.timeline:
        timeline.add_row(
            str(entry.event_seq),
            str(entry.order_version),
            entry.summary,
            when(entry.ingest_time),
            when(entry.event_time),
            when(entry.processed_time),
            f"{entry.raw} ({entry.input_source})",
            entry.actor,
        )
    console.print(timeline)
    ids = Table(title="Ids", title_justify="left")
    for column in ("kind", "id", "detail"):
        ids.add_column(column)
    for link in history.links:
        ids.add_row(link.kind, link.ref, link.detail)
    console.print(ids)
    if history.fills:
        fills = Table(title="Fills", title_justify="left")
        for column in ("fill", "exec id", "qty", "price", "state", "event time", "ingest time"):
            fills.add_column(column)
        for fill in history.fills:
            state = fill.state + (" late" if fill.late else "")
            state += f" (corrects {fill.corrects})" if fill.corrects else ""
            fills.add_row(
                fill.fill_id, fill.exec_id, str(fill.qty), str(fill.price), state,
                when(fill.event_time), when(fill.ingest_time),
            )  # fmt: skip
        console.print(fills)
    if history.exceptions:
        exceptions = Table(title="Exceptions", title_justify="left")
        for column in ("id", "kind", "status", "summary", "evidence"):
            exceptions.add_column(column, overflow="fold")
        for x in history.exceptions:
            exceptions.add_row(x.exception_id, x.kind, x.status, x.summary, x.evidence)
        console.print(exceptions)
    for fact in history.facts:
        console.print(f"- {fact}")
    return 0
