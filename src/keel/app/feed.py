"""The live feed of committed events, for streams such as the API's WebSocket.

``EventFeed`` subscribes to the sequencer and hands every committed event, with its
global sequence number and its order's account, to the streams that are open. A stream
that (re)connects with ``since=<seq>`` is first given what it missed from the log itself,
then the live events, with none missing and none twice: it subscribes before it reads the
log, and skips whatever it has already passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from keel.app import codec
from keel.app.ports import EventStore
from keel.app.results import Committed

PAGE = 1_000
QUEUE_LIMIT = 10_000
"""Events a slow stream may fall behind before it is closed (it can reconnect with since)."""


@dataclass(frozen=True, slots=True)
class FeedEvent:
    seq: int
    order_id: str
    account: str
    type: str
    payload: bytes
    """The event as the log keeps it (JSON)."""

    def message(self) -> dict[str, Any]:
        """The event as a stream sends it: its fields by name, numbers exact as strings."""
        event = codec.decode_event(self.type, self.payload)
        return {
            "seq": self.seq, "order_id": self.order_id, "account": self.account,
            "type": self.type, "event": plain(event),
        }  # fmt: skip


class StreamTooSlowError(Exception):
    """A stream fell more than ``QUEUE_LIMIT`` events behind."""


class EventFeed:
    """Fans committed events out to open streams (see the module docstring)."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._streams: set[asyncio.Queue[FeedEvent | None]] = set()
        self.last_seq = store.head().last_event_seq

    def __call__(self, batch: Sequence[Committed]) -> None:
        """The sequencer's subscriber."""
        for committed in batch:
            order = committed.result.order
            account = order.spec.account if order is not None else ""
            for record in committed.events:
                event = FeedEvent(record.event_seq, record.order_id, account, record.type,
                                  record.payload)  # fmt: skip
                self.last_seq = record.event_seq
                for queue in list(self._streams):
                    if queue.qsize() >= QUEUE_LIMIT:
                        self._streams.discard(queue)
                        queue.put_nowait(None)  # tells the stream it fell behind
                    else:
                        queue.put_nowait(event)

    async def stream(
        self, since: int | None, visible: Callable[[str], bool]
    ) -> AsyncIterator[FeedEvent]:
        """Yield the events after ``since`` (None: from now on) that ``visible`` accepts
        by account, then every new one as it commits."""
        queue: asyncio.Queue[FeedEvent | None] = asyncio.Queue()
        self._streams.add(queue)
        try:
            passed = self.last_seq if since is None else since
            if since is not None:
                async for event in self._backlog(since):
                    passed = event.seq
                    if visible(event.account):
                        yield event
            while True:
                live = await queue.get()
                if live is None:
                    raise StreamTooSlowError(f"the stream fell {QUEUE_LIMIT} events behind")
                if live.seq <= passed:
                    continue
                passed = live.seq
                if visible(live.account):
                    yield live
        finally:
            self._streams.discard(queue)

    async def _backlog(self, since: int) -> AsyncIterator[FeedEvent]:
        accounts: dict[str, str] = {}
        after = since
        while True:
            records = await asyncio.to_thread(self._store.read_events, after, PAGE)
            if not records:
                return
            for record in records:
                account = accounts.get(record.order_id)
                if account is None:
                    account = accounts[record.order_id] = await asyncio.to_thread(
                        self._account_of, record.order_id
                    )
                yield FeedEvent(record.event_seq, record.order_id, account, record.type,
                                record.payload)  # fmt: skip
            after = records[-1].event_seq

    def _account_of(self, order_id: str) -> str:
        records = self._store.events_for_order(order_id)
        if not records:
            return ""
        first = codec.decode_event(records[0].type, records[0].payload)
        spec = getattr(first, "spec", None)
        return str(spec.account) if spec is not None else ""


def plain(value: Any) -> Any:
    """A value as JSON can carry it: tuples of named fields as objects, decimals as exact
    strings, times in ISO 8601, enumerations by value."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return {name: plain(v) for name, v in zip(value._fields, value, strict=True)}
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value
