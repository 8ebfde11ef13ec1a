"""Configurable policy the state machine applies; plain values, passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class PendingRequestPolicy(StrEnum):
    """What to do with a cancel or replace that arrives while a replace is pending."""

    REFUSE = "REFUSE"
    """Answer it with a reject: one request in flight at a time (the default)."""
    QUEUE = "QUEUE"
    """Hold the newest one and send it when the pending replace is answered."""


@dataclass(frozen=True, slots=True)
class Policy:
    replace_while_pending: PendingRequestPolicy = PendingRequestPolicy.REFUSE
    ack_timeout: timedelta = timedelta(seconds=10)
    cancel_timeout: timedelta = timedelta(seconds=10)
    replace_timeout: timedelta = timedelta(seconds=10)
    expiry_grace: timedelta = timedelta(seconds=30)
    status_requests_before_stuck: int = 1
    """Status requests to send for an unanswered instruction before raising STUCK_ORDER."""
    silence_window: timedelta | None = None
    """A working order with no update for this long is flagged SILENT_ORDER (None: never)."""


DEFAULT_POLICY = Policy()
