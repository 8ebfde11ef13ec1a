"""What one FIX session is: its identity, its timers, its options and its schedule.

These are plain values, read from Keel's configuration; passwords are not among them (they
come from the environment or a secrets file and reach the session as an argument).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

FIX42 = "FIX.4.2"
FIX44 = "FIX.4.4"
BEGIN_STRINGS = (FIX42, FIX44)


@dataclass(frozen=True, slots=True)
class SessionSchedule:
    """When a session may be logged on, in UTC: from ``start`` to ``end`` every day (an
    ``end`` at or before ``start`` runs overnight). Sequence numbers start again at 1 in
    each new period, unless ``reset_each_period`` is off."""

    start: time = time(0, 0)
    end: time = time(0, 0)
    reset_each_period: bool = True

    @property
    def always(self) -> bool:
        return self.start == self.end

    def period_start(self, now: datetime) -> datetime | None:
        """Return when the period holding ``now`` began, or None when ``now`` is outside
        every period. A schedule that is always on starts a period at ``start`` each day."""
        today = now.astimezone(UTC).date()
        start_today = datetime.combine(today, self.start, UTC)
        if self.always:
            return start_today if now >= start_today else start_today - timedelta(days=1)
        end_today = datetime.combine(today, self.end, UTC)
        if self.start < self.end:  # within one day
            return start_today if start_today <= now < end_today else None
        # overnight: from start today to end tomorrow, or from start yesterday to end today
        if now >= start_today:
            return start_today
        if now < end_today:
            return start_today - timedelta(days=1)
        return None

    def in_session(self, now: datetime) -> bool:
        return self.period_start(now) is not None


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """One FIX session between Keel (``sender_comp_id``) and a counterparty
    (``target_comp_id``)."""

    begin_string: str
    sender_comp_id: str
    target_comp_id: str
    initiator: bool
    heartbeat_interval: int = 30
    """Seconds; the initiator proposes it in its Logon, the acceptor takes the peer's."""
    reset_on_logon: bool = False
    """Start both sequence numbers at 1 on every logon (ResetSeqNumFlag=Y)."""
    reset_on_logout: bool = False
    reset_on_disconnect: bool = False
    validate: bool = True
    """Check every message against the data dictionary; off, only the header is checked."""
    sending_time_tolerance: timedelta = timedelta(seconds=120)
    logon_timeout: timedelta = timedelta(seconds=10)
    logout_timeout: timedelta = timedelta(seconds=5)
    schedule: SessionSchedule = field(default_factory=SessionSchedule)
    app_msg_types: frozenset[str] = frozenset()
    """The application messages this side handles; any other gets a BusinessMessageReject."""
    username: str | None = None
    """Sent in the Logon (4.4, tag 553) when set; the password is passed separately."""

    def __post_init__(self) -> None:
        if self.begin_string not in BEGIN_STRINGS:
            raise ValueError(
                f"begin_string must be one of {', '.join(BEGIN_STRINGS)}, not {self.begin_string!r}"
            )
        if not self.sender_comp_id or not self.target_comp_id:
            raise ValueError("sender_comp_id and target_comp_id must not be empty")
        if self.heartbeat_interval <= 0:
            raise ValueError(f"heartbeat_interval must be positive, not {self.heartbeat_interval}")

    @property
    def session_id(self) -> str:
        """``FIX.4.4:KEEL->BROKER``: names the session in logs, stores and metrics."""
        return f"{self.begin_string}:{self.sender_comp_id}->{self.target_comp_id}"
