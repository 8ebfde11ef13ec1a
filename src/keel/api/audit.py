"""The audit of the HTTP API: every request that may change something, recorded.

An ASGI middleware around the API: for each request other than GET, HEAD and OPTIONS it
keeps who (the authenticated user, or ``anonymous``), when, from where (the client's
address), the method and path, the exact payload bytes, the status code, and the events
the request caused (the routes put their sequence numbers in the request's state).
Refused and unauthenticated attempts are recorded too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime
from typing import Any

from keel.app.records import AuditRow

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuditMiddleware:
    """Wraps an ASGI app; ``record`` keeps one ``AuditRow`` (it runs off the event loop)."""

    def __init__(
        self, app: ASGIApp, record: Callable[[AuditRow], None], now: Callable[[], datetime]
    ) -> None:
        self.app = app
        self._record = record
        self._now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS:
            await self.app(scope, receive, send)
            return
        at = self._now()
        body = bytearray()
        status = [500]

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receiving, sending)
        finally:
            state = scope.get("state") or {}
            client = scope.get("client") or ("?", 0)
            query = scope.get("query_string", b"").decode("latin-1")
            row = AuditRow(
                at, str(state.get("actor", "anonymous")), f"{client[0]}:{client[1]}",
                scope["method"], scope["path"] + (f"?{query}" if query else ""),
                bytes(body) or None, status[0], tuple(state.get("event_seqs", ())),
            )  # fmt: skip
            try:
                await asyncio.to_thread(self._record, row)
            except Exception:  # the answer is given; a lost audit row must be loud
                log.exception("could not record the audit of %s %s", row.method, row.path)
