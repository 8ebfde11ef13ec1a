"""Domain events and ``evolve``, the fold that rebuilds an order from them.

Events are facts, and they carry their outcomes: a ``FillBooked`` says what the cum qty,
leaves qty and status *became*. Folding them is therefore plain assignment, and replaying an
old log gives the same orders even after the decision logic has changed.

Every event has ``order_id``, ``version`` (the order's version once the event is folded: the
order's stream is keyed by ``(order_id, version)``) and ``times``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from keel.domain.enums import OrderStatus, RejectSource, RequestKind
from keel.domain.ids import ClientOrderId, ClOrdId, ExceptionId, ExecId, OrderId, VenueOrderId
from keel.domain.order import (
    BookedFill,
    FillState,
    OrderSpec,
    PendingRequest,
    Times,
)
from keel.domain.order_exceptions import OrderException, Resolution


class OrderCreated(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    spec: OrderSpec
    cl_ord_id: ClOrdId
    client_order_id: ClientOrderId | None
    parent_id: OrderId | None
    actor: str


class OrderRejected(NamedTuple):
    """The order was refused: by validation or risk at intake, or by the venue."""

    order_id: OrderId
    version: int
    times: Times
    source: RejectSource
    reason_code: str
    text: str
    exec_id: ExecId | None


class OrderSent(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    cl_ord_id: ClOrdId


class OrderAcknowledged(NamedTuple):
    """The venue accepted the order; ``implied`` when a fill or status report said so first."""

    order_id: OrderId
    version: int
    times: Times
    exec_id: ExecId | None
    venue_order_id: VenueOrderId | None
    implied: bool
    status: OrderStatus


class FillBooked(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    fill: BookedFill
    cum_qty: Decimal
    leaves_qty: Decimal
    cum_notional: Decimal
    venue_cum_qty: Decimal
    status: OrderStatus


class FillAmended(NamedTuple):
    """A trade correction (``replacement`` set) or bust (``replacement`` None)."""

    order_id: OrderId
    version: int
    times: Times
    exec_id: ExecId
    ref_exec_id: ExecId
    superseded_state: FillState
    replacement: BookedFill | None
    cum_qty: Decimal
    leaves_qty: Decimal
    cum_notional: Decimal
    status: OrderStatus


class RequestSent(NamedTuple):
    """A cancel or replace instruction is being sent (including one taken off the queue)."""

    order_id: OrderId
    version: int
    times: Times
    request: PendingRequest
    changes: tuple[tuple[str, str, str], ...]
    status: OrderStatus


class RequestQueued(NamedTuple):
    """A request held back until the pending one is answered (queue policy)."""

    order_id: OrderId
    version: int
    times: Times
    request: PendingRequest
    changes: tuple[tuple[str, str, str], ...]
    superseded: ClOrdId | None
    """A previously queued request this one replaces."""


class RequestRefused(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    kind: RequestKind
    cl_ord_id: ClOrdId
    reason_code: str
    text: str
    actor: str


class OrderCanceled(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    exec_id: ExecId | None
    cl_ord_id: ClOrdId | None
    unsolicited: bool


class RequestRejected(NamedTuple):
    """The venue refused a cancel or replace; the order returns to ``status``."""

    order_id: OrderId
    version: int
    times: Times
    kind: RequestKind
    cl_ord_id: ClOrdId
    reason_code: str
    text: str
    status: OrderStatus


class ReplaceAcknowledged(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    exec_id: ExecId
    cl_ord_id: ClOrdId
    venue_order_id: VenueOrderId | None
    spec: OrderSpec
    leaves_qty: Decimal
    status: OrderStatus


class OrderExpired(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    exec_id: ExecId | None


class OrderDoneForDay(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    exec_id: ExecId
    status: OrderStatus


class StatusRequested(NamedTuple):
    """Keel asks the venue for the order's status (OrderStatusRequest).

    ``attempt`` counts the requests made for one unanswered instruction (timer driven); 0
    means a request for another reason, such as a gap in CumQty.
    """

    order_id: OrderId
    version: int
    times: Times
    cl_ord_id: ClOrdId
    reason: str
    attempt: int


class StatusAdopted(NamedTuple):
    """A venue status report moved the order to a status Keel had missed a message for."""

    order_id: OrderId
    version: int
    times: Times
    exec_id: ExecId
    previous: OrderStatus
    status: OrderStatus
    leaves_qty: Decimal


class ExceptionRaised(NamedTuple):
    order_id: OrderId
    version: int
    times: Times
    exception: OrderException
    exec_id: ExecId | None
    cl_ord_id: ClOrdId | None


class ExceptionCleared(NamedTuple):
    """An open exception the order itself has since answered (e.g. the missing fill came)."""

    order_id: OrderId
    version: int
    times: Times
    exception_id: ExceptionId
    reason: str


class ExceptionAcknowledged(NamedTuple):
    """Someone took the exception: it is assigned to ``assignee`` (reassigned if it was)."""

    order_id: OrderId
    version: int
    times: Times
    exception_id: ExceptionId
    actor: str
    assignee: str
    comment: str


class ResolutionProposed(NamedTuple):
    """A resolution that changes the books was proposed; it waits for a second person."""

    order_id: OrderId
    version: int
    times: Times
    exception_id: ExceptionId
    resolution: Resolution


class ResolutionDeclined(NamedTuple):
    """The proposed resolution was declined (or withdrawn); the exception is worked again."""

    order_id: OrderId
    version: int
    times: Times
    exception_id: ExceptionId
    actor: str
    comment: str


class ExceptionResolved(NamedTuple):
    """The exception is resolved; ``approved_by`` is the second person, when one was needed.

    A resolution that books or busts a fill is followed, in the same transition, by the
    ``FillBooked`` or ``FillAmended`` it caused."""

    order_id: OrderId
    version: int
    times: Times
    exception_id: ExceptionId
    resolution: Resolution
    approved_by: str | None


Event = (
    OrderCreated
    | OrderRejected
    | OrderSent
    | OrderAcknowledged
    | FillBooked
    | FillAmended
    | RequestSent
    | RequestQueued
    | RequestRefused
    | OrderCanceled
    | RequestRejected
    | ReplaceAcknowledged
    | OrderExpired
    | OrderDoneForDay
    | StatusRequested
    | StatusAdopted
    | ExceptionRaised
    | ExceptionCleared
    | ExceptionAcknowledged
    | ResolutionProposed
    | ResolutionDeclined
    | ExceptionResolved
)

EVENT_TYPES: tuple[type[Event], ...] = (
    OrderCreated,
    OrderRejected,
    OrderSent,
    OrderAcknowledged,
    FillBooked,
    FillAmended,
    RequestSent,
    RequestQueued,
    RequestRefused,
    OrderCanceled,
    RequestRejected,
    ReplaceAcknowledged,
    OrderExpired,
    OrderDoneForDay,
    StatusRequested,
    StatusAdopted,
    ExceptionRaised,
    ExceptionCleared,
    ExceptionAcknowledged,
    ResolutionProposed,
    ResolutionDeclined,
    ExceptionResolved,
)
