"""Where a FIX session keeps its sequence numbers and the messages it sent.

A session must survive a restart with both sequence numbers and every application message
it sent (a peer may ask for them again with a ResendRequest). ``SessionStore`` is the port;
``MemorySessionStore`` is the fake for tests and the demo. The durable store writes through
Keel's event store, in the sequencer's transactions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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


class MemorySessionStore:
    """A session store in memory: for tests, and for sessions nothing depends on."""

    def __init__(self, created_at: datetime, next_sender: int = 1, next_target: int = 1) -> None:
        self._seqs = SeqNums(next_sender, next_target, created_at)
        self._sent: dict[int, bytes] = {}

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
