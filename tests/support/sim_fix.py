"""The simulated venue over real TCP, and Keel's own FIX initiator as its client: what the
venue's integration tests share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from keel.adapters.clock import SystemClock
from keel.adapters.fix.config import FIX44, SessionConfig
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.session import Session
from keel.adapters.fix.store import MemorySessionStore
from keel.adapters.fix.transport import FixConnection, FixInitiator
from keel.adapters.venues.sim import FaultPlan
from keel.adapters.venues.sim.fix_venue import RunningSimVenue, run_sim_venue
from support.aio import until

Fields = list[tuple[int, Any]]


def fields(message: FixMessage) -> dict[int, str]:
    """The message's fields by tag (the first of each), as text."""
    out: dict[int, str] = {}
    for tag, value in message:
        out.setdefault(tag, value.decode("latin-1"))
    return out


@asynccontextmanager
async def sim_venue(
    *sessions: SessionConfig,
    faults: FaultPlan | None = None,
    tick_interval: float | None = None,
    drop_copy: Sequence[SessionConfig] = (),
    **options: Any,
) -> AsyncIterator[RunningSimVenue]:
    """Run the simulated venue on a free port (seed 7) for the block."""
    running = await run_sim_venue(
        "127.0.0.1", 0, list(sessions) or None, seed=7, faults=faults,
        tick_interval=tick_interval, timer_interval=0.2, drop_copy=drop_copy, **options,
    )  # fmt: skip
    try:
        yield running
    finally:
        await running.stop(timeout=1.0)


@dataclass
class FixClient:
    """Keel's FIX initiator (it validates what arrives), remembering what was delivered."""

    session: Session
    initiator: FixInitiator | None = None
    messages: list[FixMessage] = field(default_factory=list)
    poss_dups: list[bool] = field(default_factory=list)
    logons: int = 0

    async def on_logon(self, connection: FixConnection) -> None:
        self.logons += 1

    async def on_logout(self, connection: FixConnection, reason: str) -> None:
        pass

    async def on_message(
        self, connection: FixConnection, message: FixMessage, poss_dup: bool
    ) -> None:
        self.messages.append(message)
        self.poss_dups.append(poss_dup)

    async def send(self, msg_type: str, body: Fields) -> None:
        assert self.initiator is not None
        assert self.initiator.connection is not None
        await self.initiator.connection.send(msg_type, body)

    async def receive(self, count: int, timeout: float = 5.0) -> list[dict[int, str]]:
        """Wait until ``count`` messages have arrived in all; return them all, as fields."""
        await until(lambda: len(self.messages) >= count, timeout)
        return [fields(m) for m in self.messages]

    async def answer(self, msg_type: str, body: Fields) -> dict[int, str]:
        """Send a request and return the one message that answers it."""
        seen = len(self.messages)
        await self.send(msg_type, body)
        return (await self.receive(seen + 1))[seen]

    async def ask(self, msg_type: str, body: Fields, answers: int) -> list[dict[int, str]]:
        """Send a request, wait for ``answers`` messages after it, and make sure no more
        come; return those."""
        seen = len(self.messages)
        await self.send(msg_type, body)
        await self.receive(seen + answers)
        await asyncio.sleep(0.1)
        return [fields(m) for m in self.messages[seen:]]


@asynccontextmanager
async def fix_client(
    port: int,
    *,
    sender: str = "KEEL",
    begin_string: str = FIX44,
    app_msg_types: Collection[str] = ("8", "9", "j"),
    logon: bool = True,
) -> AsyncIterator[FixClient]:
    """Connect Keel's initiator to the venue on ``port`` (as ``sender``) for the block."""
    config = SessionConfig(
        begin_string, sender, "SIM", initiator=True, app_msg_types=frozenset(app_msg_types)
    )
    client = FixClient(Session(config, MemorySessionStore(datetime.now(UTC))))
    client.initiator = FixInitiator(
        client.session, client, SystemClock(), host="127.0.0.1", port=port,
        timer_interval=0.2, backoff=(0.1, 0.5),
    )  # fmt: skip
    client.initiator.start()
    try:
        if logon:
            await until(lambda: client.logons >= 1)
        yield client
    finally:
        await client.initiator.stop()
