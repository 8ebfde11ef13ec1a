"""The order desk: what the HTTP API (and any other door) asks of Keel about orders.

Each call takes the authenticated ``User``: they see and touch only their accounts, and
their name goes into the events as the actor. A request intake refuses creates nothing
(``RequestRefusedError`` with the fields at fault); an accepted one is durable when the call
returns. A retry with the same Idempotency-Key, or the same client order id, gets the
first answer and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from keel.app.errors import AppError
from keel.app.halts import EVERYTHING, Halts
from keel.app.intake import Intake, OrderRequest, Refused
from keel.app.ports import Clock, EventStore
from keel.app.queries import order_history
from keel.app.records import ExceptionRow
from keel.app.replay import load_order
from keel.app.results import Result
from keel.app.sequencer import Sequencer
from keel.app.users import Permission, Role, User
from keel.domain.cases import case_stream
from keel.domain.enums import OrderStatus, Outcome, ResolutionKind, TimeInForce, WorkflowAction
from keel.domain.ids import ExceptionId, ExecId, OrderId
from keel.domain.inputs import ExceptionWork
from keel.domain.instruments import Violation
from keel.domain.order import Order

SELECT_PAGE = 500
"""Rows asked of the store at a time by the list queries."""
PRIMARY_KEY = {"orders": "order_id", "fills": "fill_id", "exceptions": "exception_id"}

WORKING = frozenset({
    OrderStatus.PENDING_NEW, OrderStatus.SENT, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED,
})  # fmt: skip
"""Statuses the kill switch cancels from (a pending cancel or replace is left to finish)."""


class DeskError(AppError):
    """A request the desk will not carry out; the API turns each kind into its status."""


class RequestRefusedError(DeskError):
    """The request cannot become an order (or a change to one); nothing was created."""

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.message}" for v in violations))
        self.violations = violations


class NotFoundError(DeskError):
    """No such order, or none the user may see (the two are not told apart)."""


class ForbiddenError(DeskError):
    """The user's role does not allow this."""


class ConflictError(DeskError):
    """The order's state refuses the request (a cancel of a filled order); it is recorded,
    with the reason, in the order's timeline."""


@dataclass(frozen=True, slots=True)
class Placed:
    """What placing an order answered: the order, and whether this call created it."""

    order: dict[str, Any]
    created: bool
    note: str
    event_seqs: tuple[int, ...] = ()
    """The events this call caused (none for a retry): the audit records them."""


@dataclass(frozen=True, slots=True)
class Changed:
    """An order after a cancel or replace request, and the events the request caused."""

    order: dict[str, Any]
    event_seqs: tuple[int, ...]


class OrderDesk:
    """Places, changes and reads orders for authenticated users."""

    def __init__(
        self,
        sequencer: Sequencer,
        store: EventStore,
        intake: Intake,
        clock: Clock,
        halts: Halts | None = None,
    ) -> None:
        self._sequencer = sequencer
        self._store = store
        self._intake = intake
        self._clock = clock
        self._halts = halts

    async def place(
        self, user: User, request: OrderRequest, *, idempotency_key: str | None = None
    ) -> Placed:
        _require(user, Permission.TRADE)
        if not user.sees(request.account):
            raise ForbiddenError(f"{user.name} may not trade account {request.account!r}")
        now = self._clock.now()
        accepted = self._intake.new_order(
            request, actor=user.actor, accounts=_accounts(user, request.account), now=now
        )
        if isinstance(accepted, Refused):
            raise RequestRefusedError(accepted.violations)
        result = await self._sequencer.submit(
            accepted, source="rest", idempotency_key=idempotency_key
        )
        if result.outcome is Outcome.DUPLICATE:  # a retry: the first order, as it is now
            first = result.answer.get("order_id")
            if not isinstance(first, str):
                raise NotFoundError(f"the first request made no order: {result.note}")
            return Placed(order_view(self._visible(user, first)), False, result.note)
        order = self._order_of(result, accepted.order_id)
        return Placed(order_view(order), True, result.note, result.event_seqs)

    async def cancel(self, user: User, order_id: str) -> Changed:
        _require(user, Permission.TRADE)
        order = self._visible(user, order_id)
        result = await self._sequencer.submit(
            self._intake.cancel(order, actor=user.actor, now=self._clock.now()), source="rest"
        )
        if result.outcome is Outcome.REFUSED:
            raise ConflictError(f"cannot cancel {order.order_id}: {result.note}")
        return Changed(order_view(self._order_of(result, order.order_id)), result.event_seqs)

    async def replace(
        self,
        user: User,
        order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        tif: TimeInForce | None = None,
    ) -> Changed:
        _require(user, Permission.TRADE)
        order = self._visible(user, order_id)
        request = self._intake.replace(
            order, actor=user.actor, now=self._clock.now(), qty=qty,
            limit_price=limit_price, stop_price=stop_price, tif=tif,
        )  # fmt: skip
        if isinstance(request, Refused):
            raise RequestRefusedError(request.violations)
        result = await self._sequencer.submit(request, source="rest")
        if result.outcome is Outcome.REFUSED:
            raise ConflictError(f"cannot replace {order.order_id}: {result.note}")
        return Changed(order_view(self._order_of(result, order.order_id)), result.event_seqs)

    async def kill_switch(
        self, user: User, *, account: str | None, reason: str, cancel_working: bool
    ) -> dict[str, Any]:
        """Halt new orders for ``account`` (None: every account) and, if asked, cancel
        every working order it covers. Return the halt and the orders asked to cancel."""
        _require(user, Permission.HALT)
        if self._halts is None:
            raise DeskError("this desk has no kill switch")
        if account is not None and not user.sees(account):
            raise ForbiddenError(f"{user.name} may not halt account {account!r}")
        if account is None and user.role is not Role.ADMIN and user.role is not Role.RISK:
            raise ForbiddenError(f"{user.name} may not halt every account")
        now = self._clock.now()
        halt = self._halts.halt(account or EVERYTHING, reason, user.actor, now)
        cancels: list[str] = []
        if cancel_working:
            for order in list(self._sequencer.open_orders.values()):
                if account is not None and order.spec.account != account:
                    continue
                if order.pending is not None or order.status not in WORKING:
                    continue
                request = self._intake.cancel(order, actor=user.actor, now=now)
                self._sequencer.enqueue(request, source="rest:kill-switch")
                cancels.append(order.order_id)
        return {"scope": halt.scope, "reason": halt.reason, "actor": halt.actor,
                "at": halt.at.isoformat(), "cancel_requested": cancels}  # fmt: skip

    def lift(self, user: User, *, account: str | None) -> bool:
        """Lift the halt on ``account`` (None: the halt on everything)."""
        _require(user, Permission.HALT)
        if self._halts is None:
            raise DeskError("this desk has no kill switch")
        return self._halts.lift(account or EVERYTHING)

    def halts(self, user: User) -> list[dict[str, Any]]:
        _require(user, Permission.READ)
        rows = self._halts.all() if self._halts else []
        return [
            {"scope": h.scope, "reason": h.reason, "actor": h.actor, "at": h.at.isoformat()}
            for h in rows
        ]

    def audit(self, user: User, *, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Return audited requests after ``after`` (admins only)."""
        _require(user, Permission.AUDIT)
        return [
            {
                "audit_id": row.audit_id, "at": row.at.isoformat(), "actor": row.actor,
                "source": row.source, "method": row.method, "path": row.path,
                "payload": row.payload.decode("utf-8", "replace") if row.payload else None,
                "status_code": row.status_code, "event_seqs": list(row.event_seqs),
            }
            for row in self._store.audit(after, limit)
        ]  # fmt: skip

    def exception(self, user: User, exception_id: str) -> dict[str, Any]:
        """Return one exception on the user's orders."""
        _require(user, Permission.READ)
        row, _ = self._visible_exception(user, exception_id)
        return exception_view(row)

    async def work_exception(
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
        _require(user, needed)
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
        allowed = them.sees(account) if account is not None else _sees_cases(them)
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
        if row is not None and row.order_id is None and _sees_cases(user):
            return row, None
        if row is None or row.order_id is None:
            raise NotFoundError(f"no exception {exception_id!r}")
        try:
            order = self._visible(user, row.order_id)
        except NotFoundError:
            raise NotFoundError(f"no exception {exception_id!r}") from None
        return row, order

    def order(self, user: User, order_id: str) -> dict[str, Any]:
        _require(user, Permission.READ)
        return order_view(self._visible(user, order_id))

    def timeline(self, user: User, order_id: str) -> dict[str, Any]:
        """What ``keel order show`` prints, as JSON: every event with its times and the
        input that caused it, the ids, the fills and the exceptions."""
        order = self._visible(user, order_id)
        history = order_history(self._store, order.order_id)
        if history is None:
            raise NotFoundError(f"no order {order_id!r}")
        return history.to_json()

    def orders(
        self,
        user: User,
        *,
        status: str | None = None,
        account: str | None = None,
        symbol: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Return a page of the user's orders in id order (ids sort by creation time), and
        the cursor of the next page (None at the end). ``created_from`` is inclusive,
        ``created_to`` exclusive."""
        _require(user, Permission.READ)
        where = self._entitled(user, account)
        for value, column in ((status, "status"), (symbol, "instrument")):
            if value is not None:
                where[column] = value
        rows = (
            row for row in self._selected("orders", where, after)
            if (created_from is None or row["created_at"] >= created_from)
            and (created_to is None or row["created_at"] < created_to)
        )  # fmt: skip
        page, cursor = _page(rows, "order_id", after, limit)
        # each order as GET /v1/orders/{id} shows it (the same fields, the reject reason)
        views = []
        for row in page:
            order = self._sequencer.open_orders.get(OrderId(row["order_id"])) or load_order(
                self._store, row["order_id"]
            )
            views.append(order_view(order) if order is not None else row)
        return views, cursor

    def fills(
        self,
        user: User,
        *,
        order_id: str | None = None,
        account: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Return a page of the user's fills by fill id, and the next page's cursor."""
        _require(user, Permission.READ)
        where = self._entitled(user, account)
        if order_id is not None:
            where["order_id"] = order_id
        return _page(self._selected("fills", where, after), "fill_id", after, limit)

    def positions(self, user: User, *, account: str | None = None) -> list[dict[str, Any]]:
        """Return the user's positions by account and instrument."""
        _require(user, Permission.READ)
        return [
            _jsonable(row) for row in self._rows("positions")
            if user.sees(row["account"]) and (account is None or row["account"] == account)
        ]  # fmt: skip

    def exceptions(
        self,
        user: User,
        *,
        status: str | None = None,
        kind: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Return a page of the exceptions on the user's orders, by exception id."""
        _require(user, Permission.READ)
        accounts = {row["order_id"]: row["account"] for row in self._rows("orders")}
        cases = _sees_cases(user)
        rows = (
            row for row in self._rows("exceptions")
            if (user.sees(accounts.get(row["order_id"], "")) if row["order_id"] else cases)
            and (status is None or row["status"] == status)
            and (kind is None or row["kind"] == kind)
        )  # fmt: skip
        return _page(rows, "exception_id", after, limit)

    def _rows(self, table: str) -> Iterator[dict[str, Any]]:
        return self._store.read_table(table)

    @staticmethod
    def _entitled(user: User, account: str | None) -> dict[str, str | Collection[str]]:
        """The filter that keeps a query to the user's accounts (and ``account``, if given)."""
        if account is not None:
            return {"account": account if user.sees(account) else frozenset()}
        return {} if user.role is Role.ADMIN else {"account": user.accounts}

    def _selected(
        self, table: str, where: dict[str, str | Collection[str]], after: str | None
    ) -> Iterator[dict[str, Any]]:
        """The rows the store finds for ``where``, after ``after``, a page at a time."""
        while True:
            rows = self._store.select_rows(table, where, after=after, limit=SELECT_PAGE)
            yield from rows
            if len(rows) < SELECT_PAGE:
                return
            after = rows[-1][PRIMARY_KEY[table]]

    def _visible(self, user: User, order_id: str) -> Order:
        order = self._sequencer.open_orders.get(OrderId(order_id)) or load_order(
            self._store, order_id
        )
        if order is None or not user.sees(order.spec.account):
            raise NotFoundError(f"no order {order_id!r}")
        return order

    def _order_of(self, result: Result, order_id: str) -> Order:
        order = result.order or self._sequencer.open_orders.get(OrderId(order_id))
        if order is None:
            order = load_order(self._store, order_id)
        if order is None:  # the sequencer answered without an order: nothing to show
            raise NotFoundError(f"no order {order_id!r}: {result.note}")
        return order


def _page(
    rows: Iterator[dict[str, Any]], key: str, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` rows after the cursor ``after`` (rows come in ``key`` order), and the
    cursor of the next page, or None at the end."""
    page: list[dict[str, Any]] = []
    for row in rows:
        if after is not None and row[key] <= after:
            continue
        page.append(_jsonable(row))
        if len(page) > limit:
            break
    more = len(page) > limit
    return page[:limit], (page[limit - 1][key] if more else None)


def _sees_cases(user: User) -> bool:
    """Whether the user sees cases: exceptions no order (so no account) holds."""
    return user.role in (Role.ADMIN, Role.OPERATIONS)


def _require(user: User, permission: Permission) -> None:
    if not user.may(permission):
        raise ForbiddenError(f"{user.name} ({user.role}) may not {permission.value}")


def _accounts(user: User, account: str) -> frozenset[str]:
    """The accounts intake lets this user trade (an admin: any)."""
    return frozenset({account}) if user.sees(account) else user.accounts


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
    view = _jsonable(asdict(row))
    view["evidence"] = json.loads(row.evidence)
    view["proposal"] = json.loads(row.proposal) if row.proposal else None
    return view


def order_view(order: Order) -> dict[str, Any]:
    """An order as the API shows it: exact numbers as strings, times in ISO 8601 UTC."""
    spec = order.spec
    return _jsonable({
        "order_id": order.order_id, "account": spec.account, "symbol": spec.instrument,
        "side": spec.side, "ord_type": spec.ord_type, "qty": spec.qty,
        "limit_price": spec.limit_price, "stop_price": spec.stop_price, "tif": spec.tif,
        "expire_time": spec.expire_time, "venue": spec.venue,
        "client_order_id": order.client_order_id, "parent_id": order.parent_id,
        "status": order.status, "reject_reason": order.reject_reason,
        "cl_ord_id": order.cl_ord_id,
        "venue_order_id": order.venue_order_id, "cum_qty": order.cum_qty,
        "leaves_qty": order.leaves_qty, "avg_px": order.avg_px,
        "open_exceptions": len(order.open_exceptions), "created_at": order.created_at,
        "updated_at": order.times.processed_time, "version": order.version,
    })  # fmt: skip


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            out[key] = format(value, "f")
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        elif isinstance(value, str):
            out[key] = str.__str__(value)
        else:
            out[key] = value
    return out
