"""Keel's HTTP API (FastAPI): versioned under ``/v1``, OpenAPI at ``/openapi.json``.

Every error is ``application/problem+json`` (RFC 9457) naming the field and the reason;
nothing a request sends is ever a traceback. Requests authenticate with an API key as
``Authorization: Bearer keel_...``. Prices and quantities are exact decimals written as
JSON strings ("10.25"): a JSON number would pass through a binary float first.

(No ``from __future__ import annotations`` here: FastAPI reads the route functions'
annotations, which name dependencies local to ``create_app``.)
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from keel.api.audit import AuditMiddleware
from keel.api.exceptions import exception_routes
from keel.api.fields import DecimalText
from keel.api.recon import recon_routes
from keel.app.desk import OrderDesk
from keel.app.desk_common import (
    ConflictError,
    DeskError,
    ForbiddenError,
    NotFoundError,
    RequestRefusedError,
)
from keel.app.feed import EventFeed, StreamTooSlowError
from keel.app.intake import OrderRequest
from keel.app.recon import Reconciler
from keel.app.records import AuditRow
from keel.app.users import User, Users
from keel.domain.enums import OrdType, Side, TimeInForce
from keel.domain.instruments import Violation

PROBLEM = "application/problem+json"
WEB = Path(__file__).resolve().parent.parent / "web"
"""The operator UI's static files, served at ``/`` with no build step."""


class _UnauthorizedError(Exception):
    """No valid API key (answered 401 with a problem body)."""


class NewOrder(BaseModel):
    """A new order. Quantities and prices are decimal strings."""

    model_config = ConfigDict(extra="forbid")

    account: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    side: Literal["BUY", "SELL", "SELL_SHORT"]
    qty: DecimalText
    type: Literal["MARKET", "LIMIT", "STOP", "STOP_LIMIT"] = "LIMIT"
    limit_price: DecimalText | None = None
    stop_price: DecimalText | None = None
    tif: Literal["DAY", "GTC", "IOC", "FOK", "GTD"] = "DAY"
    client_order_id: str | None = Field(default=None, min_length=1, max_length=64)
    venue: str | None = None
    parent_id: str | None = None


class KillSwitch(BaseModel):
    """Halt new orders for an account (or, without one, for every account)."""

    model_config = ConfigDict(extra="forbid")

    account: str | None = None
    reason: str = Field(min_length=1, max_length=500)
    cancel_working: bool = True


class Replace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qty: DecimalText | None = None
    limit_price: DecimalText | None = None
    stop_price: DecimalText | None = None
    tif: Literal["DAY", "GTC", "IOC", "FOK", "GTD"] | None = None


class FieldProblem(BaseModel):
    field: str
    reason: str
    code: str | None = None


class Problem(BaseModel):
    """An error, as RFC 9457 ``application/problem+json``; a 422 names each field at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


_PROBLEM_SCHEMA = {"schema": {"$ref": "#/components/schemas/Problem"}}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": what, "content": {PROBLEM: _PROBLEM_SCHEMA}}
    for status, what in (
        (401, "No valid API key"),
        (403, "The user's role or accounts do not allow this"),
        (404, "Not found, or not the user's to see"),
        (409, "The current state refuses this; the reason is in detail"),
        (422, "The request is not valid; nothing was created"),
    )
}
"""The problems any route may answer with, declared in the OpenAPI document."""


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # the pattern has already refused anything else
        return None


def _answer_errors_as_problems(app: FastAPI) -> None:
    """Every error a request can meet becomes an ``application/problem+json`` answer."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "reason": e["msg"]}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem(422, "The request is not valid", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), str(error.detail))

    @app.exception_handler(DeskError)
    async def desk_error(request: Request, error: DeskError) -> JSONResponse:
        if isinstance(error, RequestRefusedError):
            errors = [{"field": v.field, "reason": v.message, "code": v.code}
                      for v in error.violations]  # fmt: skip
            return problem(422, "The order was refused; nothing was created", str(error),
                           errors=errors)  # fmt: skip
        if isinstance(error, NotFoundError):
            return problem(404, "Not found", str(error))
        if isinstance(error, ForbiddenError):
            return problem(403, "Forbidden", str(error))
        if isinstance(error, ConflictError):
            return problem(409, "The current state refuses this", str(error))
        return problem(400, "The request cannot be carried out", str(error))

    @app.exception_handler(_UnauthorizedError)
    async def unauthorized(request: Request, error: _UnauthorizedError) -> JSONResponse:
        response = problem(401, "Unauthorized", "send an API key: Authorization: Bearer keel_...")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response


def create_app(
    desk: OrderDesk,
    users: Users,
    *,
    feed: EventFeed | None = None,
    ready: Callable[[], bool] = lambda: True,
    metrics: Callable[[], bytes] | None = None,
    audit_log: Callable[[AuditRow], None] | None = None,
    venues: Callable[[], list[dict[str, object]]] = list,
    audit_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    recon: Reconciler | None = None,
) -> FastAPI:
    """Build the API over an order desk and a user directory."""
    app = FastAPI(
        title="Keel", version="1", openapi_url="/openapi.json", docs_url="/docs",
        responses=PROBLEM_RESPONSES,
    )  # fmt: skip

    _answer_errors_as_problems(app)

    async def current_user(
        request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> User:
        scheme, _, key = (authorization or "").partition(" ")
        user = users.authenticate(key.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise _UnauthorizedError
        request.state.actor = user.actor  # for the audit
        return user

    @app.websocket("/v1/stream")
    async def stream(websocket: WebSocket, since: int | None = None, token: str = "") -> None:
        """Order, fill and exception events as they commit, each with its ``seq``; connect
        with ``since=<the last seq you saw>`` to get everything after it first. The key
        comes as ``Authorization: Bearer`` or, from a browser, as ``?token=``."""
        header = websocket.headers.get("authorization", "")
        scheme, _, key = header.partition(" ")
        user = users.authenticate(token or (key.strip() if scheme.lower() == "bearer" else ""))
        if user is None or feed is None:
            await websocket.close(code=1008, reason="send an API key (?token=keel_...)")
            return
        if since is not None and not 0 <= since < 2**63:
            await websocket.close(code=1008, reason="since: a sequence number, 0 or more")
            return
        await _stream_to(websocket, feed, user, since)

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def prometheus() -> Response:
        """Prometheus metrics (unauthenticated, like the health checks: expose the API on
        a private interface, or put a proxy in front of this route)."""
        body = metrics() if metrics is not None else b""
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz() -> JSONResponse:
        if ready():
            return JSONResponse({"status": "ready"})
        return problem(503, "Not ready", "the sequencer or a venue session is not up")

    @app.post("/v1/orders", status_code=201, tags=["orders"])
    async def place(
        request: Request,
        body: NewOrder,
        user: Annotated[User, Depends(current_user)],
        idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
    ) -> JSONResponse:
        order = OrderRequest(
            account=body.account, symbol=body.symbol, side=Side(body.side),
            qty=Decimal(body.qty), ord_type=OrdType(body.type),
            limit_price=_decimal(body.limit_price), stop_price=_decimal(body.stop_price),
            tif=TimeInForce(body.tif), client_order_id=body.client_order_id,
            venue=body.venue, parent_id=body.parent_id,
        )  # fmt: skip
        placed = await desk.place(user, order, idempotency_key=idempotency_key)
        request.state.event_seqs = placed.event_seqs
        return JSONResponse(placed.order, status_code=201 if placed.created else 200)

    @app.get("/v1/orders/{order_id}", tags=["orders"])
    async def get_order(
        order_id: str, user: Annotated[User, Depends(current_user)]
    ) -> dict[str, Any]:
        return desk.order(user, order_id)

    @app.get("/v1/orders/{order_id}/timeline", tags=["orders"])
    async def timeline(
        order_id: str, user: Annotated[User, Depends(current_user)]
    ) -> dict[str, Any]:
        return desk.timeline(user, order_id)

    @app.get("/v1/orders", tags=["orders"])
    async def list_orders(
        user: Annotated[User, Depends(current_user)],
        status: str | None = None,
        account: str | None = None,
        symbol: str | None = None,
        created_from: Annotated[
            datetime | None, Query(description="ISO 8601 with a zone; inclusive")
        ] = None,
        created_to: Annotated[
            datetime | None, Query(description="ISO 8601 with a zone; exclusive")
        ] = None,
        after: Annotated[str | None, Query(description="the cursor of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        for name, moment in (("created_from", created_from), ("created_to", created_to)):
            if moment is not None and moment.tzinfo is None:
                raise RequestRefusedError(
                    (Violation(name, "NO_TIME_ZONE", "give a time zone (Z or +00:00)"),)
                )
        orders, cursor = desk.orders(
            user, status=status, account=account, symbol=symbol, created_from=created_from,
            created_to=created_to, after=after, limit=limit,
        )  # fmt: skip
        return {"orders": orders, "next": cursor}

    @app.get("/v1/fills", tags=["books"])
    async def list_fills(
        user: Annotated[User, Depends(current_user)],
        order_id: str | None = None,
        account: str | None = None,
        after: Annotated[str | None, Query(description="the cursor of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        fills, cursor = desk.fills(user, order_id=order_id, account=account, after=after,
                                   limit=limit)  # fmt: skip
        return {"fills": fills, "next": cursor}

    @app.get("/v1/positions", tags=["books"])
    async def list_positions(
        user: Annotated[User, Depends(current_user)], account: str | None = None
    ) -> dict[str, Any]:
        return {"positions": desk.positions(user, account=account)}

    @app.get("/v1/exceptions", tags=["exceptions"])
    async def list_exceptions(
        user: Annotated[User, Depends(current_user)],
        status: str | None = None,
        kind: str | None = None,
        after: Annotated[str | None, Query(description="the cursor of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        found, cursor = desk.queue.page(user, status=status, kind=kind, after=after,
                                        limit=limit)  # fmt: skip
        return {"exceptions": found, "next": cursor}

    @app.post("/v1/orders/{order_id}/cancel", tags=["orders"])
    async def cancel(
        request: Request, order_id: str, user: Annotated[User, Depends(current_user)]
    ) -> dict[str, Any]:
        changed = await desk.cancel(user, order_id)
        request.state.event_seqs = changed.event_seqs
        return changed.order

    @app.post("/v1/orders/{order_id}/replace", tags=["orders"])
    async def replace(
        request: Request,
        order_id: str,
        body: Replace,
        user: Annotated[User, Depends(current_user)],
    ) -> dict[str, Any]:
        changed = await desk.replace(
            user, order_id, qty=_decimal(body.qty), limit_price=_decimal(body.limit_price),
            stop_price=_decimal(body.stop_price),
            tif=TimeInForce(body.tif) if body.tif else None,
        )  # fmt: skip
        request.state.event_seqs = changed.event_seqs
        return changed.order

    _operations_routes(app, desk, current_user, venues, recon)

    app.mount("/", StaticFiles(directory=WEB, html=True), name="ui")  # after the API routes
    if audit_log is not None:
        app.add_middleware(AuditMiddleware, record=audit_log, now=audit_clock)
    return app


def _operations_routes(
    app: FastAPI,
    desk: OrderDesk,
    current_user: Callable[..., Awaitable[User]],
    venues: Callable[[], list[dict[str, object]]],
    recon: Reconciler | None,
) -> None:
    """The exceptions queue, reconciliation, the kill switch, the venues and the audit."""
    exception_routes(app, desk, current_user)
    if recon is not None:
        recon_routes(app, recon, current_user)

    @app.post("/v1/kill-switch", tags=["risk"])
    async def kill_switch(
        body: KillSwitch, user: Annotated[User, Depends(current_user)]
    ) -> dict[str, Any]:
        return await desk.kill_switch(
            user, account=body.account, reason=body.reason, cancel_working=body.cancel_working
        )

    @app.delete("/v1/kill-switch", tags=["risk"])
    async def lift_kill_switch(
        user: Annotated[User, Depends(current_user)], account: str | None = None
    ) -> dict[str, Any]:
        if not desk.lift(user, account=account):
            raise NotFoundError(f"no halt on {account or 'every account'}")
        return {"lifted": account or "*"}

    @app.get("/v1/kill-switch", tags=["risk"])
    async def list_halts(user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
        return {"halts": desk.halts(user)}

    @app.get("/v1/venues", tags=["venues"])
    async def list_venues(user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
        """The venue sessions: state, sequence numbers, reconnect attempts."""
        return {"venues": venues()}

    @app.get("/v1/audit", tags=["audit"])
    async def audit(
        user: Annotated[User, Depends(current_user)],
        after: Annotated[int, Query(ge=0, le=2**63 - 1, description="the last audit_id seen")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        rows = desk.audit(user, after=after, limit=limit)
        return {"audit": rows, "next": rows[-1]["audit_id"] if len(rows) == limit else None}


async def _stream_to(websocket: WebSocket, feed: EventFeed, user: User, since: int | None) -> None:
    """Send the feed to an accepted WebSocket until either side ends it."""
    await websocket.accept()

    async def pump() -> None:
        async for event in feed.stream(since, user.sees):
            await websocket.send_json(event.message())

    async def until_closed() -> None:  # the client's own messages are not read
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass

    sending = asyncio.create_task(pump())
    watching = asyncio.create_task(until_closed())
    done, pending = await asyncio.wait({sending, watching}, return_when="FIRST_COMPLETED")
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if sending in done and not sending.cancelled():
        error = sending.exception()
        if isinstance(error, StreamTooSlowError):
            await websocket.close(code=1013, reason=str(error))
        elif error is not None and not isinstance(error, WebSocketDisconnect):
            raise error
