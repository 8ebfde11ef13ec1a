"""What a FIX session asks of its transport and its application.

The session engine (``keel.adapters.fix.session``) does no I/O: each thing that happens to
it (bytes received, a timer, a connection made or lost, a message the application wants
sent) returns a list of these actions, which the transport carries out in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from keel.adapters.fix.message import FixMessage


class SessionState(StrEnum):
    DISCONNECTED = "DISCONNECTED"
    AWAITING_LOGON = "AWAITING_LOGON"
    """Connected as acceptor; the peer's Logon has not arrived."""
    LOGON_SENT = "LOGON_SENT"
    """Connected as initiator; our Logon has no answer yet."""
    ACTIVE = "ACTIVE"
    LOGOUT_SENT = "LOGOUT_SENT"
    """We asked to log out and wait for the peer's Logout."""


@dataclass(frozen=True, slots=True)
class Send:
    """Write these bytes to the peer."""

    raw: bytes
    seq: int
    msg_type: str


@dataclass(frozen=True, slots=True)
class Deliver:
    """Hand an application message, in sequence, to the application."""

    message: FixMessage
    seq: int
    poss_dup: bool


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the connection (after writing what was sent before)."""

    reason: str


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The session moved to ``state``; ``reason`` says why, for the log and the operator."""

    state: SessionState
    reason: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message that was dropped without consuming a sequence number, and why."""

    reason: str
    raw: bytes


Action = Send | Deliver | Disconnect | StateChanged | Ignored
