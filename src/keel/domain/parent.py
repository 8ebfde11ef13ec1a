"""Parent orders: a client's intent, worked through child orders sent to venues.

A parent has no venue of its own; its quantities and status are derived, purely, from its
children. Nothing here is stored that cannot be recomputed from the children.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from keel.domain.amounts import ZERO, average_price
from keel.domain.enums import OrderStatus
from keel.domain.errors import DomainError
from keel.domain.ids import OrderId
from keel.domain.order import Order


@dataclass(frozen=True, slots=True)
class ParentState:
    """What a parent order amounts to, given its children."""

    order_id: OrderId
    qty: Decimal
    cum_qty: Decimal
    """Sum of the children's booked fills."""
    cum_notional: Decimal
    avg_px: Decimal
    working_qty: Decimal
    """Quantity still working at venues: the open children's leaves."""
    unplaced_qty: Decimal
    """Quantity neither filled nor working: what is left to route."""
    leaves_qty: Decimal
    status: OrderStatus
    children: int
    open_children: int
    overallocated: bool
    """Filled plus working exceeds the parent quantity: too much was routed."""


def derive_parent(
    parent_id: OrderId,
    qty: Decimal,
    children: Iterable[Order],
    *,
    cancel_requested: bool = False,
) -> ParentState:
    """Derive the parent's quantities and status from its children.

    Status: FILLED once the children's fills reach the parent quantity; after the client
    cancels the parent, PENDING_CANCEL while a child is open and CANCELED after; otherwise
    PARTIALLY_FILLED or NEW by the fills. A child's reject or cancel does not end the parent:
    the unplaced quantity can be routed again.
    """
    cum_qty = ZERO
    cum_notional = ZERO
    working = ZERO
    count = 0
    open_count = 0
    for child in children:
        if child.parent_id != parent_id:
            raise DomainError(f"order {child.order_id} is not a child of {parent_id}")
        count += 1
        cum_qty += child.cum_qty
        cum_notional += child.cum_notional
        if not child.status.is_terminal:
            open_count += 1
            working += child.leaves_qty
    if cum_qty >= qty:
        status = OrderStatus.FILLED
    elif cancel_requested:
        status = OrderStatus.PENDING_CANCEL if open_count else OrderStatus.CANCELED
    elif cum_qty > ZERO:
        status = OrderStatus.PARTIALLY_FILLED
    else:
        status = OrderStatus.NEW
    closed = status in (OrderStatus.FILLED, OrderStatus.CANCELED)
    return ParentState(
        order_id=parent_id,
        qty=qty,
        cum_qty=cum_qty,
        cum_notional=cum_notional,
        avg_px=average_price(cum_notional, cum_qty),
        working_qty=working,
        unplaced_qty=ZERO if closed else max(qty - cum_qty - working, ZERO),
        leaves_qty=ZERO if closed else max(qty - cum_qty, ZERO),
        status=status,
        children=count,
        open_children=open_count,
        overallocated=cum_qty + working > qty,
    )
