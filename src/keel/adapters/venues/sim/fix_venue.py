"""The simulated venue as a FIX acceptor: ``run_sim_venue`` serves a ``SimFixVenue``
(``gateway``) over TCP with its clock running, and returns a ``RunningSimVenue`` to stop it,
move it to its end of day and write its statement files.

A background task moves the market every ``tick_interval`` and flushes the wire every
``flush_interval``. Trading sessions come from ``venue_session``, read-only drop-copy
sessions from ``drop_copy_session`` (``drop_copy``); the statement's format is the
``statement`` module's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from keel.adapters.clock import SystemClock
from keel.adapters.fix.config import FIX44, SessionConfig
from keel.adapters.fix.session import Session
from keel.adapters.fix.store import MemorySessionStore
from keel.adapters.fix.transport import TIMER_INTERVAL, FixAcceptor
from keel.adapters.venues.sim.drop_copy import DROP_COPY_READS, drop_copy_session
from keel.adapters.venues.sim.faults import FaultPlan
from keel.adapters.venues.sim.fix_mapping import HANDLED_MSG_TYPES
from keel.adapters.venues.sim.gateway import SimFixVenue
from keel.adapters.venues.sim.market import DEFAULT_LISTINGS, Listing, QuotingRules
from keel.adapters.venues.sim.mass_status import venue_dictionary
from keel.adapters.venues.sim.reports import SimVenueError
from keel.adapters.venues.sim.statement import statement_file_name, write_statement
from keel.adapters.venues.sim.venue import SimVenue
from keel.app.ports import Clock

__all__ = [
    "RunningSimVenue",
    "SimFixVenue",
    "drop_copy_session",
    "run_sim_venue",
    "venue_session",
]

log = logging.getLogger(__name__)


def venue_session(
    begin_string: str = FIX44, sender: str = "SIM", target: str = "KEEL", **changes: object
) -> SessionConfig:
    """Return the venue's side of a session with a client: ``sender`` is the venue's CompID."""
    config = SessionConfig(
        begin_string, sender, target, initiator=False, app_msg_types=HANDLED_MSG_TYPES
    )
    return replace(config, **changes)  # type: ignore[arg-type]


class RunningSimVenue:
    """A simulated venue listening for FIX clients, its market moving; ``stop`` ends it."""

    def __init__(
        self,
        app: SimFixVenue,
        acceptor: FixAcceptor,
        host: str,
        tick_interval: float | None,
        flush_interval: float,
        statement_dir: Path | None = None,
    ) -> None:
        self.app = app
        self.acceptor = acceptor
        self.host = host
        self.statement_dir = statement_dir
        """Where ``stop`` and ``end_of_day`` write the statement files (None: nowhere)."""
        self._tick_interval = tick_interval
        self._flush_interval = flush_interval
        self._pump: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def port(self) -> int:
        return self.acceptor.port

    @property
    def venue(self) -> SimVenue:
        return self.app.venue

    def start(self) -> None:
        """Start the background clock: ticks and flushes."""
        self._pump = asyncio.create_task(self._run(), name="sim-venue clock")

    def write_statement(self, path: Path | str, trade_date: date | None = None) -> Path:
        """Write the venue's statement of ``trade_date`` (None: every execution so far) to
        ``path`` in the format the ``statement`` module documents; return the path."""
        return write_statement(path, self.venue.statement_rows(trade_date))

    def write_statements(self, directory: Path | str, today: date | None = None) -> list[Path]:
        """Write ``sim-statement-YYYYMMDD.csv`` in ``directory`` for each trade date with
        executions, and for ``today`` (default: the venue clock's date) even without any.

        A file written earlier is written again whole, so it gains what came after it.
        """
        folder = Path(directory)
        today = today or self.app.clock_now().date()
        dates = sorted({*self.venue.trade_dates(), today})
        return [self.write_statement(folder / statement_file_name(day), day) for day in dates]

    async def end_of_day(self) -> list[Path]:
        """Expire the working DAY orders, send what is due, and write the day's statement
        to ``statement_dir`` if there is one; return the files written."""
        await self.app.end_of_day()
        if self.statement_dir is None:
            return []
        today = self.app.clock_now().date()
        return [self.write_statement(self.statement_dir / statement_file_name(today), today)]

    async def stop(
        self, text: str = "the simulated venue is shutting down", timeout: float = 2.0
    ) -> None:
        """Send what is due, log every client out (waiting up to ``timeout`` s), stop listening."""
        if self._stopped:
            return
        self._stopped = True
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        try:
            await self.app.flush()
            await self.app.log_out_all(text, timeout)
        finally:
            await self.acceptor.stop()
            if self.statement_dir is not None:
                self.write_statements(self.statement_dir)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self._tick_interval
        next_tick = None if not interval else loop.time() + interval
        while True:
            await asyncio.sleep(self._flush_interval)
            try:
                if next_tick is not None and interval and loop.time() >= next_tick:
                    next_tick = max(next_tick + interval, loop.time())
                    await self.app.tick()
                else:
                    await self.app.flush()
            except Exception:  # keep the venue's clock running; the log says what broke
                log.exception("the simulated venue's clock failed a step")


async def run_sim_venue(
    host: str = "127.0.0.1",
    port: int = 0,
    sessions: Sequence[SessionConfig] | None = None,
    *,
    seed: int = 0,
    faults: FaultPlan | None = None,
    tick_interval: float | None = 0.5,
    flush_interval: float = 0.005,
    listings: Sequence[Listing] = DEFAULT_LISTINGS,
    quoting: QuotingRules | None = None,
    clock: Clock | None = None,
    timer_interval: float = TIMER_INTERVAL,
    run: str = "",
    drop_copy: Sequence[SessionConfig] = (),
    statement_dir: Path | str | None = None,
) -> RunningSimVenue:
    """Start a simulated venue accepting ``sessions`` (default: one FIX 4.4 SIM->KEEL) on
    ``host:port`` (0: any free port) and return it running.

    ``drop_copy``: read-only sessions that get a copy of every ExecutionReport
    (``drop_copy_session()`` makes one). ``statement_dir``: where ``stop`` and
    ``end_of_day`` write the statement files (``statement`` module); created if missing.

    ``run`` goes into every ExecID and OrderID: give each run its own (``keel venue-sim``
    and the demo do) so that a Keel that remembers earlier runs never takes a new
    execution for a duplicate.

    ``tick_interval`` seconds between market moves (None: the market moves only when
    ``app.tick()`` is called); ``flush_interval`` seconds between looks at the wire.
    """
    configs = list(sessions) if sessions is not None else [venue_session()]
    copy_configs = list(drop_copy)
    keys: set[tuple[str, str, str]] = set()
    for config in [*configs, *copy_configs]:
        if config.initiator:
            raise SimVenueError(f"{config.session_id}: the simulated venue only accepts sessions")
        key = (config.begin_string, config.sender_comp_id, config.target_comp_id)
        if key in keys:
            raise SimVenueError(f"{config.session_id} is configured twice")
        keys.add(key)
    if flush_interval <= 0 or (tick_interval is not None and tick_interval < 0):
        raise SimVenueError("flush_interval must be positive and tick_interval not negative")
    clock = clock or SystemClock()
    created = clock.now()
    fix_sessions = [
        Session(
            replace(c, app_msg_types=HANDLED_MSG_TYPES),
            MemorySessionStore(created),
            dictionary=venue_dictionary(c.begin_string),
        )
        for c in configs
    ]
    copy_sessions = [
        Session(
            replace(c, app_msg_types=DROP_COPY_READS),
            MemorySessionStore(created),
            dictionary=venue_dictionary(c.begin_string),
        )
        for c in copy_configs
    ]
    folder = None
    if statement_dir is not None:
        folder = Path(statement_dir)
        folder.mkdir(parents=True, exist_ok=True)
    venue = SimVenue(seed=seed, listings=listings, quoting=quoting, faults=faults, run=run)
    app = SimFixVenue(venue, fix_sessions, clock, copy_sessions)
    acceptor = FixAcceptor(
        [*fix_sessions, *copy_sessions], app, clock, host=host, port=port,
        timer_interval=timer_interval,
    )  # fmt: skip
    await acceptor.start()
    running = RunningSimVenue(app, acceptor, host, tick_interval, flush_interval, folder)
    running.start()
    return running
