"""Where a FIX session keeps its sequence numbers and the messages it sent.

A session must survive a restart with both sequence numbers and every message it sent (a
peer may ask for them again with a ResendRequest). ``SessionStore`` is the port;
``MemorySessionStore`` is the fake for tests and sessions nothing depends on;
``DurableSessionStore`` keeps them in Keel's event store:

- every message sent is kept, and durable before it is written to the wire (the transport
  awaits ``flush``): a number once used is never used again after a crash;
- the number expected from the peer is made durable by the sequencer, in the transaction
  that commits the inputs the peer's messages became, never before: after a crash the
  session asks again for what was received but not committed (administrative messages are
  answered with a gap fill, application messages are sent again and deduplicated).

Sent messages of every session are written in groups by one ``FixJournal`` (a commit per
group, not per message), off the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from keel.app.ports import EventStore
from keel.app.records import FixMessageRow, FixSessionRow


@dataclass(frozen=True, slots=True)
class SeqNums:
    next_sender: int
    """The MsgSeqNum of the next message this side sends."""
    next_target: int
    """The MsgSeqNum expected of the next message the peer sends."""
    created_at: datetime
    """When the sequence numbers last started at 1: schedules reset by it."""


class SessionStore(Protocol):
    """A session's sequence numbers and sent messages."""

    @property
    def epoch(self) -> int:
        """How many times the numbers have started at 1 (the first run is epoch 1)."""
        ...

    def load(self) -> SeqNums:
        """Return the sequence numbers as last stored."""
        ...

    def store_sent(self, seq: int, raw: bytes) -> None:
        """Keep a sent message under its MsgSeqNum; the next sender number is ``seq + 1``."""
        ...

    def set_next_sender(self, seq: int) -> None:
        """Move the next outgoing number without a message (after a SequenceReset)."""
        ...

    def set_next_target(self, seq: int) -> None:
        """Record that every peer message before ``seq`` has been processed."""
        ...

    def sent_between(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Return the stored messages with ``begin <= seq <= end``, in order."""
        ...

    def reset(self, now: datetime) -> None:
        """Start both numbers again at 1 and forget the sent messages."""
        ...

    async def flush(self) -> None:
        """Return once every message handed to ``store_sent`` is durable."""
        ...


class MemorySessionStore:
    """A session store in memory: for tests, and for sessions nothing depends on."""

    def __init__(self, created_at: datetime, next_sender: int = 1, next_target: int = 1) -> None:
        self._seqs = SeqNums(next_sender, next_target, created_at)
        self._sent: dict[int, bytes] = {}
        self.epoch = 1

    def load(self) -> SeqNums:
        return self._seqs

    def store_sent(self, seq: int, raw: bytes) -> None:
        self._sent[seq] = raw
        self.set_next_sender(seq + 1)

    def set_next_sender(self, seq: int) -> None:
        s = self._seqs
        self._seqs = SeqNums(seq, s.next_target, s.created_at)

    def set_next_target(self, seq: int) -> None:
        s = self._seqs
        self._seqs = SeqNums(s.next_sender, seq, s.created_at)

    def sent_between(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        return [(seq, self._sent[seq]) for seq in sorted(self._sent) if begin <= seq <= end]

    def reset(self, now: datetime) -> None:
        self._seqs = SeqNums(1, 1, now)
        self._sent.clear()
        self.epoch += 1

    async def flush(self) -> None:
        return None


class FixJournal:
    """Writes the messages sessions send, in groups: one transaction for whatever has
    accumulated while the previous group was being written."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._pending: list[FixMessageRow] = []
        self._added = 0
        self._written = 0
        self._writing: asyncio.Task[None] | None = None
        self.groups = 0

    def add(self, row: FixMessageRow) -> None:
        self._pending.append(row)
        self._added += 1

    async def durable(self) -> None:
        """Return once every row added so far is committed (raise ``StoreError`` if the
        store fails: then nothing of the failed group may be sent)."""
        wanted = self._added
        while self._written < wanted:
            if self._writing is None or self._writing.done():
                self._writing = asyncio.ensure_future(self._write())
            await asyncio.shield(self._writing)

    async def _write(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        try:
            await asyncio.to_thread(self._store.store_fix_messages, rows)
        except BaseException:
            self._pending = rows + self._pending  # nothing was written; the caller fails
            raise
        self._written += len(rows)
        self.groups += 1


class DurableSessionStore:
    """A session's numbers and sent messages in Keel's event store (see the module doc)."""

    def __init__(
        self, store: EventStore, journal: FixJournal, session_id: str, now: datetime
    ) -> None:
        self._store = store
        self._journal = journal
        self.session_id = session_id
        row = store.fix_session(session_id)
        if row is None:
            row = FixSessionRow(session_id, 1, 1, 1, now)
            store.save_fix_session(row)
        self._row = row
        self._next_sender = row.next_sender
        self._next_target = row.next_target

    @property
    def epoch(self) -> int:
        return self._row.epoch

    def load(self) -> SeqNums:
        return SeqNums(self._next_sender, self._next_target, self._row.created_at)

    def store_sent(self, seq: int, raw: bytes) -> None:
        msg_type = msg_type_of(raw)
        now = datetime.now(self._row.created_at.tzinfo)
        self._journal.add(FixMessageRow(self.session_id, self._row.epoch, seq, msg_type, raw, now))
        self._next_sender = max(self._next_sender, seq + 1)

    def set_next_sender(self, seq: int) -> None:
        """Move the next number without a message: only a SequenceReset does (rare), so it
        is written at once."""
        self._next_sender = seq
        self._row = FixSessionRow(
            self.session_id, self._row.epoch, seq, self._next_target, self._row.created_at
        )
        self._store.save_fix_session(self._row)

    def set_next_target(self, seq: int) -> None:
        self._next_target = seq  # durable with the inputs, by the sequencer

    def sent_between(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        rows = self._store.fix_messages(self.session_id, self._row.epoch, begin, end)
        return [(r.seq, r.raw) for r in rows]

    def reset(self, now: datetime) -> None:
        self._row = FixSessionRow(self.session_id, self._row.epoch + 1, 1, 1, now)
        self._store.save_fix_session(self._row)
        self._next_sender = self._next_target = 1

    async def flush(self) -> None:
        await self._journal.durable()


def msg_type_of(raw: bytes) -> str:
    """The MsgType of a whole message's bytes, without parsing the rest."""
    start = raw.find(b"\x0135=")
    if start < 0:
        return "?"
    end = raw.find(b"\x01", start + 4)
    return raw[start + 4 : end].decode("ascii", "replace")
