"""The exceptions queue: the exceptions on a user's orders (and, for operations and admins,
the cases no order holds), and the workflow steps on them.

Each step is an input to the sequencer (``ExceptionWork``) on the order's stream, or the
case's, so it is an event with the operator's name; the state machine keeps the four-eyes
rule (a proposer cannot approve), this module the role rule (only operations approve).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from keel.app.desk_common import (
    ConflictError,
    NotFoundError,
    RequestRefusedError,
    jsonable,
    page_of,
    require,
)
from keel.app.ports import Clock, EventStore
from keel.app.records import ExceptionRow
from keel.app.sequencer import Sequencer
from keel.app.users import Permission, Role, User
from keel.domain.cases import case_stream
from keel.domain.enums import Outcome, ResolutionKind, WorkflowAction
from keel.domain.ids import ExceptionId, ExecId
from keel.domain.inputs import ExceptionWork
from keel.domain.instruments import Violation
from keel.domain.order import Order

VisibleOrder = Callable[[User, str], Order]
"""Return an order the user may see, or raise ``NotFoundError``."""


@dataclass(frozen=True, slots=True)
class WorkTerms:
    """What a workflow step says besides its action: who takes the exception, how it is
    resolved and why, and the fill a book-changing resolution books or busts."""

    assignee: str | None = None
    resolution: ResolutionKind | None = None
    comment: str = ""
    exec_id: str | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    trade_date: date | None = None


def exception_view(row: ExceptionRow) -> dict[str, Any]:
    """An exception as the API shows it: the evidence and a pending proposal as objects."""
    view = jsonable(asdict(row))
    view["evidence"] = json.loads(row.evidence)
    view["proposal"] = json.loads(row.proposal) if row.proposal else None
    return view


class ExceptionQueue:
    """Reads and works exceptions for authenticated users."""

    def __init__(
        self, sequencer: Sequencer, store: EventStore, clock: Clock, visible: VisibleOrder
    ) -> None:
        self._sequencer = sequencer
        self._store = store
        self._clock = clock
        self._visible_order = visible

    def one(self, user: User, exception_id: str) -> dict[str, Any]:
        """Return one exception on the user's orders."""
        require(user, Permission.READ)
        row, _ = self._visible_exception(user, exception_id)
        return exception_view(row)

    async def work(
        self, user: User, exception_id: str, action: WorkflowAction, terms: WorkTerms
    ) -> tuple[dict[str, Any], tuple[int, ...]]:
        """Take one workflow step on an exception; return it as it now stands and the
        events the step caused. Approving a resolution needs the operations role, and
        someone other than its proposer (the state machine holds that rule)."""
        needed = (
            Permission.APPROVE_RESOLUTIONS
            if action is WorkflowAction.APPROVE
            else Permission.WORK_EXCEPTIONS
        )
        require(user, needed)
        row, order = self._visible_exception(user, exception_id)
        account = order.spec.account if order is not None else None
        assignee = None if terms.assignee is None else self._assignee(terms.assignee, account)
        stream = order.order_id if order is not None else case_stream(row.exception_id)
        now = self._clock.now()
        work = ExceptionWork(
            order_id=stream, ingest_time=now, event_time=now,
            exception_id=ExceptionId(row.exception_id), action=action, actor=user.actor,
            assignee=assignee, resolution=terms.resolution, comment=terms.comment,
            exec_id=ExecId(terms.exec_id) if terms.exec_id else None, qty=terms.qty,
            price=terms.price, trade_date=terms.trade_date,
        )  # fmt: skip
        result = await self._sequencer.submit(work, source="rest")
        if result.outcome is Outcome.REFUSED:
            raise ConflictError(f"cannot {action.lower()} {exception_id}: {result.note}")
        after = self._store.find_exception(row.exception_id) or row
        return exception_view(after), result.event_seqs

    def _assignee(self, name: str, account: str | None) -> str:
        """Return the actor of the user ``name``, who must be able to work the exception
        (one on ``account``; for a case, one who sees cases)."""
        row = next((u for u in self._store.users() if u.name == name), None)
        if row is None or row.revoked_at is not None:
            problem = Violation("assignee", "UNKNOWN_USER", f"no active user {name!r}")
            raise RequestRefusedError((problem,))
        them = User(row.name, Role(row.role), frozenset(row.accounts))
        allowed = them.sees(account) if account is not None else sees_cases(them)
        if not them.may(Permission.WORK_EXCEPTIONS) or not allowed:
            problem = Violation(
                "assignee", "NOT_ENTITLED", f"{name} may not work exceptions on this account"
            )
            raise RequestRefusedError((problem,))
        return them.actor

    def _visible_exception(
        self, user: User, exception_id: str
    ) -> tuple[ExceptionRow, Order | None]:
        """The exception and its order (None for a case, which operations and admins see)."""
        row = self._store.find_exception(exception_id)
        if row is not None and row.order_id is None and sees_cases(user):
            return row, None
        if row is None or row.order_id is None:
            raise NotFoundError(f"no exception {exception_id!r}")
        try:
            order = self._visible_order(user, row.order_id)
        except NotFoundError:
            raise NotFoundError(f"no exception {exception_id!r}") from None
        return row, order

    def page(
        self,
        user: User,
        *,
        status: str | None = None,
        kind: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Return a page of the exceptions on the user's orders, by exception id.

        The store filters by status and kind and walks the exceptions in key order a chunk
        at a time; only the orders of the exceptions in hand are read for their accounts."""
        require(user, Permission.READ)
        return page_of(self._visible(user, status, kind, after), "exception_id", after, limit)

    def _visible(
        self, user: User, status: str | None, kind: str | None, after: str | None
    ) -> Iterator[dict[str, Any]]:
        where = {name: value for name, value in (("status", status), ("kind", kind)) if value}
        cases = sees_cases(user)
        while True:
            rows = self._store.select_rows("exceptions", where, after=after, limit=_CHUNK)
            order_ids = sorted({row["order_id"] for row in rows if row["order_id"]})
            orders = self._store.select_rows("orders", {"order_id": order_ids}, limit=_CHUNK)
            accounts = {order["order_id"]: order["account"] for order in orders}
            for row in rows:
                order_id = row["order_id"]
                if user.sees(accounts.get(order_id, "")) if order_id else cases:
                    yield row
            if len(rows) < _CHUNK:
                return
            after = rows[-1]["exception_id"]


_CHUNK = 500
"""Exceptions read per query while a page fills (and order ids per accounts query)."""


def sees_cases(user: User) -> bool:
    """Return whether the user sees cases: exceptions no order (so no account) holds."""
    return user.role in (Role.ADMIN, Role.OPERATIONS)
