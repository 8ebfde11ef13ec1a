"""The exceptions queue's routes: read one, acknowledge, resolve, approve, decline.

A resolution that books or busts a fill is only proposed by ``resolve``; a second person with
the operations role ``approve``s it (or ``decline``s it). Each step answers with the
exception as it now stands; a step its state refuses is a 409 naming the reason.

(No ``from __future__ import annotations``: FastAPI reads these annotations.)
"""

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from keel.api.fields import DecimalText
from keel.app.desk import OrderDesk
from keel.app.desk_common import RequestRefusedError
from keel.app.exception_queue import WorkTerms
from keel.app.users import User
from keel.domain.enums import ResolutionKind, WorkflowAction
from keel.domain.instruments import Violation

Comment = Annotated[str, Field(max_length=2000)]


class Acknowledge(BaseModel):
    """Take the exception, or assign it to someone (``assignee``, a user name)."""

    model_config = ConfigDict(extra="forbid")

    assignee: str | None = Field(default=None, min_length=1, max_length=100)
    comment: Comment = ""


class Resolve(BaseModel):
    """Resolve with a kind and a comment saying why.

    ``BOOKED_MISSING_FILL`` needs the fill (``exec_id``, ``qty``, ``price``, optionally
    ``trade_date``); ``BUSTED_FILL`` needs the ``exec_id`` of the booked fill. Those two only
    propose: a second person approves."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["EXPLAINED", "BOOKED_MISSING_FILL", "BUSTED_FILL", "CORRECTED_MAPPING"]
    comment: Comment = Field(min_length=1)
    exec_id: str | None = Field(default=None, min_length=1, max_length=100)
    qty: DecimalText | None = None
    price: DecimalText | None = None
    trade_date: date | None = None


class Decide(BaseModel):
    """Approve or decline a proposed resolution, optionally saying why."""

    model_config = ConfigDict(extra="forbid")

    comment: Comment = ""


def _required_terms(body: Resolve) -> tuple[Violation, ...]:
    """The fields a book-changing resolution cannot do without (a 422, nothing recorded)."""
    needed: tuple[str, ...] = ()
    if body.kind == "BOOKED_MISSING_FILL":
        needed = ("exec_id", "qty", "price")
    elif body.kind == "BUSTED_FILL":
        needed = ("exec_id",)
    missing = [name for name in needed if getattr(body, name) is None]
    violations = [Violation(name, "REQUIRED", f"{body.kind} needs {name}") for name in missing]
    for name in ("qty", "price"):
        text = getattr(body, name)
        if text is not None and Decimal(text) <= 0:
            violations.append(Violation(name, "NOT_POSITIVE", f"{name} must be above zero"))
    return tuple(violations)


def exception_routes(
    app: FastAPI, desk: OrderDesk, current_user: Callable[..., Awaitable[User]]
) -> None:
    """Add the exception workflow's routes to ``app``."""

    async def step(
        request: Request, user: User, exception_id: str, action: WorkflowAction, terms: WorkTerms
    ) -> dict[str, Any]:
        view, event_seqs = await desk.queue.work(user, exception_id, action, terms)
        request.state.event_seqs = event_seqs
        return view

    @app.get("/v1/exceptions/{exception_id}", tags=["exceptions"])
    async def get_exception(
        exception_id: str, user: Annotated[User, Depends(current_user)]
    ) -> dict[str, Any]:
        return desk.queue.one(user, exception_id)

    @app.post("/v1/exceptions/{exception_id}/acknowledge", tags=["exceptions"])
    async def acknowledge(
        request: Request,
        exception_id: str,
        body: Acknowledge,
        user: Annotated[User, Depends(current_user)],
    ) -> dict[str, Any]:
        terms = WorkTerms(assignee=body.assignee, comment=body.comment)
        return await step(request, user, exception_id, WorkflowAction.ACKNOWLEDGE, terms)

    @app.post("/v1/exceptions/{exception_id}/resolve", tags=["exceptions"])
    async def resolve(
        request: Request,
        exception_id: str,
        body: Resolve,
        user: Annotated[User, Depends(current_user)],
    ) -> dict[str, Any]:
        problems = _required_terms(body)
        if problems:
            raise RequestRefusedError(problems)
        terms = WorkTerms(
            resolution=ResolutionKind(body.kind), comment=body.comment, exec_id=body.exec_id,
            qty=Decimal(body.qty) if body.qty else None,
            price=Decimal(body.price) if body.price else None, trade_date=body.trade_date,
        )  # fmt: skip
        return await step(request, user, exception_id, WorkflowAction.RESOLVE, terms)

    @app.post("/v1/exceptions/{exception_id}/approve", tags=["exceptions"])
    async def approve(
        request: Request,
        exception_id: str,
        body: Decide,
        user: Annotated[User, Depends(current_user)],
    ) -> dict[str, Any]:
        terms = WorkTerms(comment=body.comment)
        return await step(request, user, exception_id, WorkflowAction.APPROVE, terms)

    @app.post("/v1/exceptions/{exception_id}/decline", tags=["exceptions"])
    async def decline(
        request: Request,
        exception_id: str,
        body: Decide,
        user: Annotated[User, Depends(current_user)],
    ) -> dict[str, Any]:
        terms = WorkTerms(comment=body.comment)
        return await step(request, user, exception_id, WorkflowAction.DECLINE, terms)
