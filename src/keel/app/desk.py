"""The order desk: what the HTTP API (and any other door) asks of Keel about orders.

Each call takes the authenticated ``User``: they see and touch only their accounts, and
their name goes into the events as the actor. A request intake refuses creates nothing
(``RequestRefusedError`` with the fields at fault); an accepted one is durable when the call
returns. A retry with the same Idempotency-Key, or the same client order id, gets the
first answer and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from keel.app.desk_common import (
    ConflictError,
    DeskError,
    ForbiddenError,
    NotFoundError,
    RequestRefusedError,
    jsonable,
    page_of,
    require,
)
from keel.app.exception_queue import ExceptionQueue
from keel.app.halts import EVERYTHING, Halts
from keel.app.intake import Intake, OrderRequest, Refused
from keel.app.ports import Clock, EventStore
from keel.app.queries import order_history
from keel.app.replay import load_order
from keel.app.results import Result
from keel.app.sequencer import Sequencer
from keel.app.users import Permission, Role, User
from keel.domain.enums import OrderStatus, Outcome, TimeInForce
from keel.domain.ids import OrderId
from keel.domain.order import Order

SELECT_PAGE = 500
"""Rows asked of the store at a time by the list queries."""
PRIMARY_KEY = {"orders": "order_id", "fills": "fill_id", "exceptions": "exception_id"}

WORKING = frozenset({
    OrderStatus.PENDING_NEW, OrderStatus.SENT, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED,
})  # fmt: skip
"""Statuses the kill switch cancels from (a pending cancel or replace is left to finish)."""


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
        self.queue = ExceptionQueue(sequencer, store, clock, self._visible)
        """The exceptions queue: read and work exceptions (its own module)."""

    async def place(
        self, user: User, request: OrderRequest, *, idempotency_key: str | None = None
    ) -> Placed:
        require(user, Permission.TRADE)
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
        require(user, Permission.TRADE)
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
        require(user, Permission.TRADE)
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
        require(user, Permission.HALT)
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
        require(user, Permission.HALT)
        if self._halts is None:
            raise DeskError("this desk has no kill switch")
        return self._halts.lift(account or EVERYTHING)

    def halts(self, user: User) -> list[dict[str, Any]]:
        require(user, Permission.READ)
        rows = self._halts.all() if self._halts else []
        return [
            {"scope": h.scope, "reason": h.reason, "actor": h.actor, "at": h.at.isoformat()}
            for h in rows
        ]

    def audit(self, user: User, *, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Return audited requests after ``after`` (admins only)."""
        require(user, Permission.AUDIT)
        return [
            {
                "audit_id": row.audit_id, "at": row.at.isoformat(), "actor": row.actor,
                "source": row.source, "method": row.method, "path": row.path,
                "payload": row.payload.decode("utf-8", "replace") if row.payload else None,
                "status_code": row.status_code, "event_seqs": list(row.event_seqs),
            }
            for row in self._store.audit(after, limit)
        ]  # fmt: skip

    def order(self, user: User, order_id: str) -> dict[str, Any]:
        require(user, Permission.READ)
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
        require(user, Permission.READ)
        where = self._entitled(user, account)
        for value, column in ((status, "status"), (symbol, "instrument")):
            if value is not None:
                where[column] = value
        rows = (
            row for row in self._selected("orders", where, after)
            if (created_from is None or row["created_at"] >= created_from)
            and (created_to is None or row["created_at"] < created_to)
        )  # fmt: skip
        page, cursor = page_of(rows, "order_id", after, limit)
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
        require(user, Permission.READ)
        where = self._entitled(user, account)
        if order_id is not None:
            where["order_id"] = order_id
        return page_of(self._selected("fills", where, after), "fill_id", after, limit)

    def positions(self, user: User, *, account: str | None = None) -> list[dict[str, Any]]:
        """Return the user's positions by account and instrument."""
        require(user, Permission.READ)
        return [
            jsonable(row) for row in self._rows("positions")
            if user.sees(row["account"]) and (account is None or row["account"] == account)
        ]  # fmt: skip

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


def _accounts(user: User, account: str) -> frozenset[str]:
    """The accounts intake lets this user trade (an admin: any)."""
    return frozenset({account}) if user.sees(account) else user.accounts


def order_view(order: Order) -> dict[str, Any]:
    """An order as the API shows it: exact numbers as strings, times in ISO 8601 UTC."""
    spec = order.spec
    return jsonable({
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
