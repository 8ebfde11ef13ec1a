"""A parent order is the client's intent; its state is derived from its child orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

from keel.domain.enums import OrderStatus
from keel.domain.errors import DomainError
from keel.domain.ids import OrderId
from keel.domain.order import Order
from keel.domain.parent import derive_parent
from support.builders import OrderScenario, spec

PARENT = OrderId("PARENT-1")


def child(name: str, qty: int, *, parent: OrderId | None = PARENT) -> OrderScenario:
    s = OrderScenario(order_id=OrderId(name))
    s.new(spec(qty))
    s.order = s.now._replace(parent_id=parent)  # children carry their parent's id
    s.sent()
    s.ack()
    return s


def orders(*scenarios: OrderScenario) -> list[Order]:
    return [s.now for s in scenarios]


def test_parent_quantities_and_status_derive_from_children() -> None:
    a, b = child("C-1", 600), child("C-2", 400)
    a.fill(600, "10.00")
    b.fill(100, "10.10")

    state = derive_parent(PARENT, Decimal(1000), orders(a, b))

    assert state.cum_qty == Decimal(700)
    assert state.cum_notional == Decimal("7010.00")
    assert state.avg_px == Decimal("10.01428571428571428571428571428571")  # 34 digits
    assert state.working_qty == Decimal(300)
    assert state.unplaced_qty == Decimal(0)
    assert state.leaves_qty == Decimal(300)
    assert state.status is OrderStatus.PARTIALLY_FILLED
    assert (state.children, state.open_children) == (2, 1)
    assert not state.overallocated


def test_parent_with_no_children_is_new_and_all_unplaced() -> None:
    state = derive_parent(PARENT, Decimal(500), [])
    assert state.status is OrderStatus.NEW
    assert state.unplaced_qty == Decimal(500)
    assert state.avg_px == Decimal(0)


def test_parent_is_filled_when_children_fill_its_quantity() -> None:
    a, b = child("C-1", 300), child("C-2", 200)
    a.fill(300, "10.00")
    b.fill(200, "10.00")
    state = derive_parent(PARENT, Decimal(500), orders(a, b))
    assert state.status is OrderStatus.FILLED
    assert state.leaves_qty == Decimal(0)


def test_rejected_child_leaves_its_quantity_unplaced_for_rerouting() -> None:
    a = OrderScenario(order_id=OrderId("C-1"))
    a.new(spec(400))
    a.order = a.now._replace(parent_id=PARENT)
    a.sent()
    a.venue_reject()
    state = derive_parent(PARENT, Decimal(400), orders(a))
    assert state.status is OrderStatus.NEW
    assert state.unplaced_qty == Decimal(400)
    assert state.open_children == 0


def test_canceled_parent_waits_for_its_children_to_close() -> None:
    a = child("C-1", 500)
    a.fill(100, "10.00")
    pending = derive_parent(PARENT, Decimal(500), orders(a), cancel_requested=True)
    assert pending.status is OrderStatus.PENDING_CANCEL
    a.cancel()
    a.cancel_ack()
    done = derive_parent(PARENT, Decimal(500), orders(a), cancel_requested=True)
    assert done.status is OrderStatus.CANCELED
    assert done.cum_qty == Decimal(100)
    assert done.leaves_qty == Decimal(0)


def test_children_routing_more_than_the_parent_are_flagged_overallocated() -> None:
    a, b = child("C-1", 600), child("C-2", 600)
    state = derive_parent(PARENT, Decimal(1000), orders(a, b))
    assert state.overallocated
    assert state.unplaced_qty == Decimal(0)


def test_an_order_of_another_parent_is_refused() -> None:
    stranger = child("C-9", 100, parent=OrderId("OTHER"))
    with pytest.raises(DomainError, match="not a child"):
        derive_parent(PARENT, Decimal(100), orders(stranger))
