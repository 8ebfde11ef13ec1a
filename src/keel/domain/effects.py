"""Effects: what must happen in the world once a transition's events are durable.

The state machine only describes them; the sequencer releases them after the commit.
``NotifyClient`` answers a client's own command (accepted, refused, queued, pending);
everything a venue says reaches clients as the committed events themselves, which the
client gateways translate (FIX ExecutionReports, WebSocket messages).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from keel.domain.enums import OrderStatus, TimerKind
from keel.domain.ids import ClOrdId, OrderId
from keel.domain.order import OrderSpec


class SendNewOrder(NamedTuple):
    order_id: OrderId
    cl_ord_id: ClOrdId
    spec: OrderSpec


class SendCancel(NamedTuple):
    order_id: OrderId
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId


class SendReplace(NamedTuple):
    order_id: OrderId
    cl_ord_id: ClOrdId
    orig_cl_ord_id: ClOrdId
    spec: OrderSpec


class RequestStatus(NamedTuple):
    """Ask the venue for the order's status (FIX OrderStatusRequest)."""

    order_id: OrderId
    cl_ord_id: ClOrdId
    reason: str


class NotifyClient(NamedTuple):
    """Tell the order's owner what happened: an ack, a reject with its reason, a fill."""

    order_id: OrderId
    what: str
    status: OrderStatus
    reason: str | None = None
    cl_ord_id: ClOrdId | None = None


class ScheduleTimer(NamedTuple):
    order_id: OrderId
    timer: TimerKind
    cl_ord_id: ClOrdId
    due: datetime
    attempt: int = 1


Effect = SendNewOrder | SendCancel | SendReplace | RequestStatus | NotifyClient | ScheduleTimer
