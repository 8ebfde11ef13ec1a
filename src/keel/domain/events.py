"""Domain events and ``evolve``, the fold that rebuilds an order from them.

Events are facts, and they carry their outcomes: a ``FillBooked`` says what the cum qty,
leaves qty and status *became*. Folding them is therefore plain assignment, and replaying an
old log gives the same orders even after the decision logic has changed.

Every event has ``order_id``, ``version`` (the order's version once the event is folded: the
order's stream is keyed by ``(order_id, version)``) and ``times``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from typing import Any, NamedTuple

from keel.domain.amounts import ZERO
from keel.domain.enums import OrderStatus, RejectSource, RequestKind
from keel.domain.errors import DomainError
from keel.domain.ids import ClientOrderId, ClOrdId, ExceptionId, ExecId, OrderId, VenueOrderId
from keel.domain.order import (
    BookedFill,
    ExceptionRef,
    FillState,
    Order,
    OrderSpec,
    OrderVersion,
    PendingRequest,
    Times,
    VersionState,
)
from keel.domain.order_exceptions import OrderException


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
    avg_px: Decimal
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
    avg_px: Decimal
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
)


# --- the fold ----------------------------------------------------------------------------


def _mark(
    lineage: tuple[OrderVersion, ...],
    cl_ord_id: ClOrdId,
    state: VersionState,
    times: Times,
    reason: str | None = None,
) -> tuple[OrderVersion, ...]:
    """Return the lineage with ``cl_ord_id``'s entry moved to ``state``."""
    out = []
    for entry in lineage:
        if entry.cl_ord_id == cl_ord_id:
            answered = None if state is VersionState.PENDING else times.processed_time
            out.append(replace(entry, state=state, answered_at=answered, reason=reason))
        else:
            out.append(entry)
    return tuple(out)


def _version(
    request: PendingRequest,
    changes: tuple[tuple[str, str, str], ...],
    state: VersionState,
) -> OrderVersion:
    return OrderVersion(
        request.cl_ord_id,
        str(request.kind),
        request.orig_cl_ord_id,
        changes,
        request.requested_at,
        request.actor,
        state,
    )


def _created(order: Order | None, e: OrderCreated) -> Order:
    if order is not None:
        raise DomainError(f"order {e.order_id} already exists")
    first = OrderVersion(
        e.cl_ord_id, "NEW", None, (), e.times.processed_time, e.actor, VersionState.PENDING
    )
    return Order(
        order_id=e.order_id,
        spec=e.spec,
        client_order_id=e.client_order_id,
        parent_id=e.parent_id,
        status=OrderStatus.PENDING_NEW,
        cl_ord_id=e.cl_ord_id,
        cum_qty=ZERO,
        leaves_qty=e.spec.qty,
        avg_px=ZERO,
        cum_notional=ZERO,
        venue_order_id=None,
        acknowledged=False,
        done_for_day=False,
        pending=None,
        queued=None,
        lineage=(first,),
        fills=(),
        exec_ids=frozenset(),
        cl_ord_ids_seen=frozenset((e.cl_ord_id,)),
        venue_cum_qty=ZERO,
        open_exceptions=(),
        exception_count=0,
        status_requests=0,
        reject_reason=None,
        created_at=e.times.processed_time,
        times=e.times,
        version=e.version,
    )


def _seen(order: Order, exec_id: ExecId | None) -> frozenset[ExecId]:
    return order.exec_ids if exec_id is None else order.exec_ids | {exec_id}


def _rejected(o: Order, e: OrderRejected) -> Order:
    lineage = _mark(o.lineage, o.cl_ord_id, VersionState.REJECTED, e.times, e.reason_code)
    for request in (o.pending, o.queued):  # a cancel or replace sent before the reject
        if request is not None:
            lineage = _mark(lineage, request.cl_ord_id, VersionState.REFUSED, e.times, "REJECTED")
    return o._replace(
        status=OrderStatus.REJECTED,
        leaves_qty=ZERO,
        reject_reason=f"{e.reason_code}: {e.text}" if e.text else e.reason_code,
        lineage=lineage,
        exec_ids=_seen(o, e.exec_id),
        pending=None,
        queued=None,
    )


def _sent(o: Order, e: OrderSent) -> Order:
    return o._replace(status=OrderStatus.SENT, status_requests=0)


def _acknowledged(o: Order, e: OrderAcknowledged) -> Order:
    lineage = o.lineage
    if lineage[0].state is VersionState.PENDING:
        lineage = _mark(lineage, lineage[0].cl_ord_id, VersionState.ACKNOWLEDGED, e.times)
    return o._replace(
        status=e.status,
        acknowledged=True,
        done_for_day=False,
        venue_order_id=e.venue_order_id or o.venue_order_id,
        lineage=lineage,
        exec_ids=_seen(o, e.exec_id),
        status_requests=0 if o.status is OrderStatus.SENT else o.status_requests,
    )


def _fill_booked(o: Order, e: FillBooked) -> Order:
    return o._replace(
        status=e.status,
        cum_qty=e.cum_qty,
        leaves_qty=e.leaves_qty,
        avg_px=e.avg_px,
        cum_notional=e.cum_notional,
        venue_cum_qty=e.venue_cum_qty,
        fills=(*o.fills, e.fill),
        exec_ids=o.exec_ids | {e.fill.exec_id},
        venue_order_id=o.venue_order_id,
    )


def _fill_amended(o: Order, e: FillAmended) -> Order:
    fills = tuple(
        f._replace(state=e.superseded_state) if f.exec_id == e.ref_exec_id else f for f in o.fills
    )
    if e.replacement is not None:
        fills = (*fills, e.replacement)
    return o._replace(
        status=e.status,
        cum_qty=e.cum_qty,
        leaves_qty=e.leaves_qty,
        avg_px=e.avg_px,
        cum_notional=e.cum_notional,
        fills=fills,
        exec_ids=o.exec_ids | {e.exec_id},
    )


def _request_sent(o: Order, e: RequestSent) -> Order:
    request = e.request
    if o.version_of(request.cl_ord_id) is None:
        lineage = (*o.lineage, _version(request, e.changes, VersionState.PENDING))
    else:  # taken off the queue: sent now, against the terms and ClOrdID in force now
        sent = _version(request, e.changes, VersionState.PENDING)
        lineage = tuple(sent if v.cl_ord_id == request.cl_ord_id else v for v in o.lineage)
    return o._replace(
        status=e.status,
        pending=request,
        queued=None
        if o.queued is not None and o.queued.cl_ord_id == request.cl_ord_id
        else o.queued,
        lineage=lineage,
        cl_ord_ids_seen=o.cl_ord_ids_seen | {request.cl_ord_id},
        status_requests=0,
    )


def _request_queued(o: Order, e: RequestQueued) -> Order:
    lineage = o.lineage
    if e.superseded is not None:
        lineage = _mark(lineage, e.superseded, VersionState.REFUSED, e.times, "SUPERSEDED")
    lineage = (*lineage, _version(e.request, e.changes, VersionState.QUEUED))
    return o._replace(
        queued=e.request,
        lineage=lineage,
        cl_ord_ids_seen=o.cl_ord_ids_seen | {e.request.cl_ord_id},
    )


def _request_refused(o: Order, e: RequestRefused) -> Order:
    if o.version_of(e.cl_ord_id) is not None:  # a queued request refused when its turn came
        lineage = _mark(o.lineage, e.cl_ord_id, VersionState.REFUSED, e.times, e.reason_code)
    else:
        entry = OrderVersion(
            e.cl_ord_id,
            str(e.kind),
            o.cl_ord_id,
            (),
            e.times.processed_time,
            e.actor,
            VersionState.REFUSED,
            e.times.processed_time,
            e.reason_code,
        )
        lineage = (*o.lineage, entry)
    queued = None if o.queued is not None and o.queued.cl_ord_id == e.cl_ord_id else o.queued
    return o._replace(
        lineage=lineage, queued=queued, cl_ord_ids_seen=o.cl_ord_ids_seen | {e.cl_ord_id}
    )


def _canceled(o: Order, e: OrderCanceled) -> Order:
    lineage = o.lineage
    cl_ord_id = o.cl_ord_id
    if o.pending is not None:
        if o.pending.kind is RequestKind.CANCEL and not e.unsolicited:
            lineage = _mark(lineage, o.pending.cl_ord_id, VersionState.ACKNOWLEDGED, e.times)
            cl_ord_id = o.pending.cl_ord_id
        else:
            lineage = _mark(
                lineage, o.pending.cl_ord_id, VersionState.REJECTED, e.times, "CANCELED"
            )
    if o.queued is not None:
        lineage = _mark(lineage, o.queued.cl_ord_id, VersionState.REFUSED, e.times, "CANCELED")
    return o._replace(
        status=OrderStatus.CANCELED,
        leaves_qty=ZERO,
        cl_ord_id=cl_ord_id,
        pending=None,
        queued=None,
        lineage=lineage,
        exec_ids=_seen(o, e.exec_id),
        status_requests=0,
    )


def _request_rejected(o: Order, e: RequestRejected) -> Order:
    return o._replace(
        status=e.status,
        pending=None,
        lineage=_mark(o.lineage, e.cl_ord_id, VersionState.REJECTED, e.times, e.reason_code),
        status_requests=0,
    )


def _replace_acknowledged(o: Order, e: ReplaceAcknowledged) -> Order:
    return o._replace(
        status=e.status,
        spec=e.spec,
        cl_ord_id=e.cl_ord_id,
        leaves_qty=e.leaves_qty,
        pending=None,
        venue_order_id=e.venue_order_id or o.venue_order_id,
        lineage=_mark(o.lineage, e.cl_ord_id, VersionState.ACKNOWLEDGED, e.times),
        exec_ids=o.exec_ids | {e.exec_id},
        status_requests=0,
    )


def _expired(o: Order, e: OrderExpired) -> Order:
    lineage = o.lineage
    for request in (o.pending, o.queued):
        if request is not None:
            lineage = _mark(lineage, request.cl_ord_id, VersionState.REFUSED, e.times, "EXPIRED")
    return o._replace(
        status=OrderStatus.EXPIRED,
        leaves_qty=ZERO,
        pending=None,
        queued=None,
        lineage=lineage,
        exec_ids=_seen(o, e.exec_id),
        status_requests=0,
    )


def _done_for_day(o: Order, e: OrderDoneForDay) -> Order:
    return o._replace(
        status=e.status,
        done_for_day=True,
        acknowledged=True,
        exec_ids=o.exec_ids | {e.exec_id},
    )


def _status_requested(o: Order, e: StatusRequested) -> Order:
    if e.attempt == 0:  # asked for a reason other than a timer (e.g. a CumQty gap)
        return o
    return o._replace(status_requests=e.attempt)


def _status_adopted(o: Order, e: StatusAdopted) -> Order:
    lineage = o.lineage
    if e.status.is_terminal:  # requests in flight are closed with the order
        for request in (o.pending, o.queued):
            if request is not None:
                lineage = _mark(lineage, request.cl_ord_id, VersionState.REFUSED, e.times, e.status)
    return o._replace(
        status=e.status,
        leaves_qty=e.leaves_qty,
        acknowledged=True,
        lineage=lineage,
        queued=None if e.status.is_terminal else o.queued,
        pending=None if e.status.is_terminal else o.pending,
        exec_ids=o.exec_ids | {e.exec_id},
        status_requests=0,
    )


def _exception_raised(o: Order, e: ExceptionRaised) -> Order:
    seen = o.cl_ord_ids_seen if e.cl_ord_id is None else o.cl_ord_ids_seen | {e.cl_ord_id}
    ref = ExceptionRef(e.exception.exception_id, e.exception.kind, e.exec_id or e.cl_ord_id)
    return o._replace(
        open_exceptions=(*o.open_exceptions, ref),
        exception_count=o.exception_count + 1,
        exec_ids=_seen(o, e.exec_id),
        cl_ord_ids_seen=seen,
    )


def _exception_cleared(o: Order, e: ExceptionCleared) -> Order:
    return o._replace(
        open_exceptions=tuple(x for x in o.open_exceptions if x.exception_id != e.exception_id)
    )


_FOLD: dict[type[Any], Callable[[Order, Any], Order]] = {
    OrderRejected: _rejected,
    OrderSent: _sent,
    OrderAcknowledged: _acknowledged,
    FillBooked: _fill_booked,
    FillAmended: _fill_amended,
    RequestSent: _request_sent,
    RequestQueued: _request_queued,
    RequestRefused: _request_refused,
    OrderCanceled: _canceled,
    RequestRejected: _request_rejected,
    ReplaceAcknowledged: _replace_acknowledged,
    OrderExpired: _expired,
    OrderDoneForDay: _done_for_day,
    StatusRequested: _status_requested,
    StatusAdopted: _status_adopted,
    ExceptionRaised: _exception_raised,
    ExceptionCleared: _exception_cleared,
}

_VERSION_AT = Order._fields.index("version")
_TIMES_AT = Order._fields.index("times")


def evolve(order: Order | None, event: Event) -> Order:
    """Fold one event onto the order it belongs to and return the new order."""
    if type(event) is OrderCreated:
        return _created(order, event)
    if order is None:
        raise DomainError(f"{type(event).__name__} for unknown order {event.order_id}")
    if event.order_id != order.order_id or event.version != order.version + 1:
        raise DomainError(
            f"{type(event).__name__} {event.order_id} v{event.version} does not follow "
            f"{order.order_id} v{order.version}"
        )
    # Stamp version and times by position: a second ``_replace`` would look every one of
    # the order's fields up in its keywords again, on the hottest path there is.
    changed = list(_FOLD[type(event)](order, event))
    changed[_VERSION_AT] = event.version
    changed[_TIMES_AT] = event.times
    return Order._make(changed)


def fold(events: Iterable[Event], order: Order | None = None) -> Order | None:
    """Rebuild an order by folding ``events`` in order, starting from ``order``."""
    for event in events:
        order = evolve(order, event)
    return order
