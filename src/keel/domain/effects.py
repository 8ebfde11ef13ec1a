"""Effects: what must happen in the world once a transition's events are durable.

The state machine only describes them; the sequencer releases them after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from keel.domain.enums import OrderStatus, TimerKind
from keel.domain.ids import ClOrdId, OrderId
from keel.domain.order import OrderSpec


@dataclass(frozen=True, slots=True)
class SendNewOrder:
    order_id: OrderId
    cl_ord_id: ClOrdId
    spec: OrderSpec


@dataclass(frozen=True, slots=True)
class SendCancel:
    order_id: OrderId
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId


@dataclass(frozen=True, slots=True)
class SendReplace:
    order_id: OrderId
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId
    spec: OrderSpec


@dataclass(frozen=True, slots=True)
class RequestStatus:
    """Ask the venue for the order's status (FIX OrderStatusRequest)."""

    order_id: OrderId
    cl_ord_id: ClOrdId
    reason: str


@dataclass(frozen=True, slots=True)
class NotifyClient:
    """Tell the order's owner what happened: an ack, a reject with its reason, a fill."""

    order_id: OrderId
    what: str
    status: OrderStatus
    reason: str | None = None
    cl_ord_id: ClOrdId | None = None


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    order_id: OrderId
    timer: TimerKind
    cl_ord_id: ClOrdId
    due: datetime
    attempt: int = 1


Effect = SendNewOrder | SendCancel | SendReplace | RequestStatus | NotifyClient | ScheduleTimer
