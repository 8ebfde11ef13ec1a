"""FIX over TCP with asyncio: a connection runs one ``Session``; acceptors and initiators
make connections.

The session engine decides; this module only moves bytes, keeps time and calls the
application. Each action is carried out in the order the session gave it: bytes are written
before a disconnect, and application messages are delivered one at a time, in sequence
(the next is read only when the application has taken the last).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from keel.adapters.fix import tags as t
from keel.adapters.fix.actions import (
    Action,
    Deliver,
    Disconnect,
    Ignored,
    Send,
    SessionState,
    StateChanged,
)
from keel.adapters.fix.codec import FieldValue, Framer, parse
from keel.adapters.fix.errors import FixError, GarbledMessageError
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.session import Session
from keel.app.ports import Clock
from keel.domain.errors import KeelError

log = logging.getLogger(__name__)

READ_CHUNK = 65_536
TIMER_INTERVAL = 1.0
"""Seconds between the session's timer ticks (heartbeats and timeouts)."""


class FixApplication(Protocol):
    """What a FIX connection tells the rest of Keel."""

    async def on_logon(self, connection: FixConnection) -> None: ...

    async def on_logout(self, connection: FixConnection, reason: str) -> None: ...

    async def on_message(
        self, connection: FixConnection, message: FixMessage, poss_dup: bool
    ) -> None:
        """An application message, in sequence; the next is read once this returns."""
        ...


class FixConnection:
    """One TCP connection carrying one session, from connect to close."""

    def __init__(
        self,
        session: Session,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        app: FixApplication,
        clock: Clock,
        *,
        timer_interval: float = TIMER_INTERVAL,
    ) -> None:
        self.session = session
        self._reader = reader
        self._writer = writer
        self._app = app
        self._clock = clock
        self._timer_interval = timer_interval
        self._framer = Framer()
        self._closed = asyncio.Event()
        self._lock = asyncio.Lock()
        self.close_reason = ""
        self._unsent: list[bytes] = []
        """Messages numbered and kept, waiting to be durable before they are written."""
        self._writing: asyncio.Task[None] | None = None
        self.was_logged_on = False
        """Whether the session reached ACTIVE on this connection (the initiator's backoff
        starts again from its shortest delay after such a connection)."""
        self.peer = writer.get_extra_info("peername")

    def __repr__(self) -> str:
        return f"FixConnection({self.session.config.session_id}, peer={self.peer})"

    @property
    def logged_on(self) -> bool:
        return self.session.state is SessionState.ACTIVE

    async def run(self, first: bytes = b"") -> str:
        """Run the session until the connection closes; return why it closed."""
        timer = asyncio.create_task(
            self._tick(), name=f"fix-timer {self.session.config.session_id}"
        )
        try:
            await self._step(self.session.connected)
            if first:
                await self._received(first)
            while not self._closed.is_set():
                data = await self._reader.read(READ_CHUNK)
                if not data:
                    await self._close("the peer closed the connection")
                    break
                await self._received(data)
        except (ConnectionError, OSError) as e:
            await self._close(f"connection lost: {e}")
        finally:
            timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await timer
            await self._close(self.close_reason or "closed")
        return self.close_reason

    async def send(self, msg_type: str, body: Sequence[tuple[int, FieldValue]]) -> int:
        """Send an application message and return its MsgSeqNum once it is written."""
        seq = self.send_nowait(msg_type, body)
        task = self._writing
        if task is not None:
            await asyncio.shield(task)
        return seq

    def send_nowait(self, msg_type: str, body: Sequence[tuple[int, FieldValue]]) -> int:
        """Number and keep an application message now, and write it as soon as it is
        durable; messages sent together share one commit. Raise ``FixSessionError`` when
        the session is not logged on."""
        actions = self.session.send(msg_type, body, self._clock.now())
        self._queue_sends(actions)
        if self._writing is None or self._writing.done():
            self._writing = asyncio.ensure_future(self._write_pending())
        sent = next(a for a in actions if isinstance(a, Send))
        return sent.seq

    async def _write_pending(self) -> None:
        async with self._lock:
            await self._write_out()

    def _queue_sends(self, actions: list[Action]) -> None:
        """Queue a step's messages for the wire, in the order the session numbered them."""
        self._unsent.extend(a.raw for a in actions if isinstance(a, Send))

    async def _write_out(self) -> None:
        """Write the queued messages once they are durable (under the lock)."""
        while self._unsent and not self._closed.is_set():
            count = len(self._unsent)
            try:
                await self.session.store.flush()  # nothing leaves before it is durable
            except KeelError as e:
                log.error("%s: sent messages could not be kept: %s", self, e)
                await self._close(f"cannot keep sent messages: {e}")
                return
            ready, self._unsent = self._unsent[:count], self._unsent[count:]
            self._writer.writelines(ready)
            await self._drain()

    async def logout(self, text: str = "") -> None:
        """Start the Logout handshake; the connection closes when it completes."""
        await self._step(lambda now: self.session.logout(text, now))

    async def close(self, reason: str) -> None:
        """Close at once, without a Logout."""
        await self._close(reason)

    async def _received(self, data: bytes) -> None:
        for raw in self._framer.feed(data):
            await self._step(lambda now, raw=raw: self.session.on_raw(raw, now))  # type: ignore[misc]
            if self._closed.is_set():
                return

    async def _tick(self) -> None:
        while not self._closed.is_set():
            await asyncio.sleep(self._timer_interval)
            await self._step(self.session.on_timer)

    async def _step(self, step: Callable[[datetime], list[Action]]) -> None:
        """Run one session step under the lock, write what it sends, then (the lock
        released, so the application may send) hand over what it delivers, and close if
        it said so."""
        async with self._lock:
            if self._closed.is_set():
                return
            actions = step(self._clock.now())
            self._queue_sends(actions)
            await self._write_out()
            callbacks, disconnect = self._carry_out(actions)
        for message, poss_dup in callbacks:
            try:
                if message is None:
                    await self._app.on_logon(self)
                else:
                    await self._app.on_message(self, message, poss_dup)
            except Exception as e:
                # The message was not taken: close, so that the peer sends it again after
                # the next logon (its number is only durable once its input is committed).
                what = "logon" if message is None else f"message {message.get_str(34)}"
                log.exception("%s: the application failed on %s", self, what)
                await self._close(f"the application failed on {what}: {e}")
                return
        if disconnect is not None:
            await self._close(disconnect)

    def _carry_out(
        self, actions: list[Action]
    ) -> tuple[list[tuple[FixMessage | None, bool]], str | None]:
        """Log the session's changes; return what is for the application (``None`` for a
        logon) and the reason to disconnect, if any. Its messages are written already."""
        callbacks: list[tuple[FixMessage | None, bool]] = []
        for action in actions:
            match action:
                case Deliver(message=message, poss_dup=poss_dup):
                    callbacks.append((message, poss_dup))
                case StateChanged(state=state, reason=reason):
                    log.info("%s: %s (%s)", self.session.config.session_id, state, reason)
                    if state is SessionState.ACTIVE and not self.was_logged_on:
                        self.was_logged_on = True
                        callbacks.append((None, False))
                case Ignored(reason=reason):
                    log.warning("%s: %s", self.session.config.session_id, reason)
                case Disconnect(reason=reason):
                    return callbacks, reason
                case _:
                    pass
        return callbacks, None

    async def _drain(self) -> None:
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as e:
            await self._close(f"connection lost while writing: {e}")

    async def _close(self, reason: str) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self.close_reason = reason
        log.info("%s: closing: %s", self.session.config.session_id, reason)
        self.session.disconnected(self._clock.now())
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
        try:
            await self._app.on_logout(self, reason)
        except Exception:  # the application's bug must not keep the connection half open
            log.exception("on_logout failed for %s", self)


@dataclass(slots=True)
class _Slot:
    session: Session
    connection: FixConnection | None = None


class FixAcceptor:
    """Listens for counterparties and hands each connection to its configured session,
    found by the CompIDs of its first message (which must be a Logon)."""

    def __init__(
        self,
        sessions: Sequence[Session],
        app: FixApplication,
        clock: Clock,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timer_interval: float = TIMER_INTERVAL,
        first_message_timeout: float = 10.0,
    ) -> None:
        self._slots = {
            (s.config.begin_string, s.config.target_comp_id, s.config.sender_comp_id): _Slot(s)
            for s in sessions
        }
        self._app = app
        self._clock = clock
        self._host = host
        self._port = port
        self._timer_interval = timer_interval
        self._first_timeout = first_message_timeout
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        """The port listened on (useful when asked for port 0)."""
        if self._server is None:
            raise FixError("the acceptor is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self._host, self._port)

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for slot in self._slots.values():
            if slot.connection is not None:
                await slot.connection.close("acceptor stopped")
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        framer = Framer()
        buffered = b""
        first: bytes | None = None
        try:
            async with asyncio.timeout(self._first_timeout):
                while first is None:
                    data = await reader.read(READ_CHUNK)
                    if not data:
                        writer.close()
                        return
                    buffered += data
                    for raw in framer.feed(data):
                        if not isinstance(raw, GarbledMessageError):
                            first = raw
                            break
        except TimeoutError:
            log.warning("FIX connection from %s sent no message in time; closed", peer)
            writer.close()
            return
        slot = self._slot_for(first)
        if slot is None or slot.connection is not None:
            why = "no such session" if slot is None else "session already connected"
            log.warning("FIX connection from %s refused: %s", peer, why)
            writer.close()
            return
        connection = FixConnection(
            slot.session, reader, writer, self._app, self._clock,
            timer_interval=self._timer_interval,
        )  # fmt: skip
        slot.connection = connection
        try:
            await connection.run(buffered)
        finally:
            slot.connection = None

    def _slot_for(self, raw: bytes) -> _Slot | None:
        try:
            msg = parse(raw)
        except FixError:
            return None
        key = (msg.begin_string, msg.get_str(t.SENDER_COMP_ID), msg.get_str(t.TARGET_COMP_ID))
        return self._slots.get(key)  # type: ignore[arg-type]


class FixInitiator:
    """Connects to a counterparty and keeps connecting, with backoff, until stopped."""

    def __init__(
        self,
        session: Session,
        app: FixApplication,
        clock: Clock,
        *,
        host: str,
        port: int,
        timer_interval: float = TIMER_INTERVAL,
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        self.session = session
        self._app = app
        self._clock = clock
        self._host = host
        self._port = port
        self._timer_interval = timer_interval
        self._backoff = backoff
        self._task: asyncio.Task[None] | None = None
        self.connection: FixConnection | None = None
        self.attempts = 0

    def start(self) -> None:
        self._task = asyncio.create_task(
            self._run(), name=f"fix-initiator {self.session.config.session_id}"
        )

    async def stop(self, logout_text: str = "shutting down") -> None:
        """Log out if logged on, then stop reconnecting."""
        task, self._task = self._task, None
        if self.connection is not None and self.connection.logged_on:
            await self.connection.logout(logout_text)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.session.config.logout_timeout.total_seconds()):
                    while self.connection is not None:
                        await asyncio.sleep(0.01)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.connection is not None:
            await self.connection.close("initiator stopped")

    async def _run(self) -> None:
        delay = self._backoff[0]
        while True:
            self.attempts += 1
            try:
                reader, writer = await asyncio.open_connection(self._host, self._port)
            except OSError as e:
                log.warning(
                    "%s: cannot connect to %s:%s: %s; retry in %.1f s",
                    self.session.config.session_id, self._host, self._port, e, delay,
                )  # fmt: skip
            else:
                connection = FixConnection(
                    self.session, reader, writer, self._app, self._clock,
                    timer_interval=self._timer_interval,
                )  # fmt: skip
                self.connection = connection
                try:
                    await connection.run()
                finally:
                    self.connection = None
                if connection.was_logged_on:
                    delay = self._backoff[0]
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])
