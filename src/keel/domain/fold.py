"""``evolve`` and ``fold``: rebuild an order from its events.

Events carry their outcomes, so folding one is plain assignment. This is also the hottest
path of the state machine (``apply`` folds every event it emits), so each fold function
edits a list of the order's fields by position and ``evolve`` builds the new tuple once,
stamping the event's version and times: about a third of the cost of ``_replace``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from keel.domain.amounts import ZERO
from keel.domain.build import build
from keel.domain.enums import TERMINAL_STATUSES, ExceptionStatus, OrderStatus, RequestKind
from keel.domain.errors import DomainError
from keel.domain.events import (
    Event,
    ExceptionAcknowledged,
    ExceptionCleared,
    ExceptionRaised,
    ExceptionResolved,
    FillAmended,
    FillBooked,
    OrderAcknowledged,
    OrderCanceled,
    OrderCreated,
    OrderDoneForDay,
    OrderExpired,
    OrderRejected,
    OrderSent,
    ReplaceAcknowledged,
    RequestQueued,
    RequestRefused,
    RequestRejected,
    RequestSent,
    ResolutionDeclined,
    ResolutionProposed,
    StatusAdopted,
    StatusRequested,
)
from keel.domain.ids import ClOrdId, ExecId
from keel.domain.order import (
    ExceptionRef,
    Order,
    OrderVersion,
    PendingRequest,
    Times,
    VersionState,
)

Fields = list[Any]
"""An order's fields by position, being edited."""

_AT = {name: i for i, name in enumerate(Order._fields)}
_STATUS = _AT["status"]
_CUM_QTY = _AT["cum_qty"]
_LEAVES_QTY = _AT["leaves_qty"]
_CUM_NOTIONAL = _AT["cum_notional"]
_VENUE_CUM_QTY = _AT["venue_cum_qty"]
_FILLS = _AT["fills"]
_EXEC_IDS = _AT["exec_ids"]
_VENUE_ORDER_ID = _AT["venue_order_id"]
_ACKNOWLEDGED = _AT["acknowledged"]
_DONE_FOR_DAY = _AT["done_for_day"]
_LINEAGE = _AT["lineage"]
_PENDING = _AT["pending"]
_QUEUED = _AT["queued"]
_CL_ORD_ID = _AT["cl_ord_id"]
_CL_ORD_IDS_SEEN = _AT["cl_ord_ids_seen"]
_STATUS_REQUESTS = _AT["status_requests"]
_VERSION = _AT["version"]
_TIMES = _AT["times"]


# Enum members as module globals for the hot path: ``OrderStatus.FILLED`` costs 80 ns a
# look-up in CPython 3.11, a global 7 ns.
_V_PENDING = VersionState.PENDING
_V_ACKNOWLEDGED = VersionState.ACKNOWLEDGED
_SENT = OrderStatus.SENT
_CANCEL = RequestKind.CANCEL
_CANCELED = OrderStatus.CANCELED


def _edit(o: Order, **changes: Any) -> Fields:
    """Return the order's fields with ``changes`` applied (for the less frequent events)."""
    fields = list(o)
    for name, value in changes.items():
        fields[_AT[name]] = value
    return fields


def _mark(
    lineage: tuple[OrderVersion, ...],
    cl_ord_id: ClOrdId,
    state: VersionState,
    times: Times,
    reason: str | None = None,
) -> tuple[OrderVersion, ...]:
    """Return the lineage with ``cl_ord_id``'s entry moved to ``state``."""
    answered = None if state is _V_PENDING else times.processed_time
    i = len(lineage)
    while i:  # from the newest: the entry answered is nearly always the last one sent
        i -= 1
        entry = lineage[i]
        if entry.cl_ord_id == cl_ord_id:  # ClOrdIDs are unique within an order
            # the first six fields stay; the answer is new
            answer = build(OrderVersion, (*entry[:6], state, answered, reason))
            return (*lineage[:i], answer, *lineage[i + 1 :])
    return lineage


def _close_requests(
    o: Order, lineage: tuple[OrderVersion, ...], times: Times, reason: str
) -> tuple[OrderVersion, ...]:
    """Mark the pending and queued requests REFUSED: the order closed under them."""
    for request in (o.pending, o.queued):
        if request is not None:
            lineage = _mark(lineage, request.cl_ord_id, VersionState.REFUSED, times, reason)
    return lineage


def _version(
    request: PendingRequest,
    changes: tuple[tuple[str, str, str], ...],
    state: VersionState,
) -> OrderVersion:
    return build(
        OrderVersion,
        (
            request.cl_ord_id,
            str(request.kind),
            request.orig_cl_ord_id,
            changes,
            request.requested_at,
            request.actor,
            state,
            None,
            None,
        ),
    )


def _seen(order: Order, exec_id: ExecId | None) -> frozenset[ExecId]:
    return order.exec_ids if exec_id is None else order.exec_ids | {exec_id}


def _created(e: OrderCreated) -> Order:
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


# --- the frequent events: edited by position ---------------------------------------------


def _acknowledged(o: Order, e: OrderAcknowledged) -> Fields:
    f = list(o)
    lineage = o.lineage
    first = lineage[0]
    if first.state is _V_PENDING:  # the NEW instruction's answer
        answered = build(OrderVersion, (*first[:6], _V_ACKNOWLEDGED, e.times.processed_time, None))
        f[_LINEAGE] = (answered, *lineage[1:])
    f[_STATUS] = e.status
    f[_ACKNOWLEDGED] = True
    f[_DONE_FOR_DAY] = False
    if e.venue_order_id:
        f[_VENUE_ORDER_ID] = e.venue_order_id
    if e.exec_id is not None:
        f[_EXEC_IDS] = o.exec_ids | {e.exec_id}
    if o.status is _SENT:
        f[_STATUS_REQUESTS] = 0
    return f


def _fill_booked(o: Order, e: FillBooked) -> Fields:
    f = list(o)
    f[_STATUS] = e.status
    f[_CUM_QTY] = e.cum_qty
    f[_LEAVES_QTY] = e.leaves_qty
    f[_CUM_NOTIONAL] = e.cum_notional
    f[_VENUE_CUM_QTY] = e.venue_cum_qty
    # one copy of the fills: ``(*o.fills, e.fill)`` builds a list, then copies it again
    f[_FILLS] = o.fills + (e.fill,)  # noqa: RUF005
    f[_EXEC_IDS] = o.exec_ids | {e.fill.exec_id}
    return f


def _request_sent(o: Order, e: RequestSent) -> Fields:
    request = e.request
    f = list(o)
    sent = _version(request, e.changes, _V_PENDING)
    queued = o.queued
    if queued is None or queued.cl_ord_id != request.cl_ord_id:
        f[_LINEAGE] = (*o.lineage, sent)
    else:  # taken off the queue: sent now, against the terms and ClOrdID in force now
        f[_LINEAGE] = tuple(sent if v.cl_ord_id == request.cl_ord_id else v for v in o.lineage)
        f[_QUEUED] = None
    f[_STATUS] = e.status
    f[_PENDING] = request
    f[_CL_ORD_IDS_SEEN] = o.cl_ord_ids_seen | {request.cl_ord_id}
    f[_STATUS_REQUESTS] = 0
    return f


def _canceled(o: Order, e: OrderCanceled) -> Fields:
    f = list(o)
    lineage = o.lineage
    pending = o.pending
    if pending is not None:
        if pending.kind is _CANCEL and not e.unsolicited:
            lineage = _mark(lineage, pending.cl_ord_id, _V_ACKNOWLEDGED, e.times)
            f[_CL_ORD_ID] = pending.cl_ord_id
        else:
            lineage = _mark(lineage, pending.cl_ord_id, VersionState.REJECTED, e.times, "CANCELED")
    if o.queued is not None:
        lineage = _mark(lineage, o.queued.cl_ord_id, VersionState.REFUSED, e.times, "CANCELED")
    f[_LINEAGE] = lineage
    f[_STATUS] = _CANCELED
    f[_LEAVES_QTY] = ZERO
    f[_PENDING] = None
    f[_QUEUED] = None
    if e.exec_id is not None:
        f[_EXEC_IDS] = o.exec_ids | {e.exec_id}
    f[_STATUS_REQUESTS] = 0
    return f


# --- the rest ----------------------------------------------------------------------------


def _rejected(o: Order, e: OrderRejected) -> Fields:
    lineage = _mark(o.lineage, o.cl_ord_id, VersionState.REJECTED, e.times, e.reason_code)
    return _edit(
        o,
        status=OrderStatus.REJECTED,
        leaves_qty=ZERO,
        reject_reason=f"{e.reason_code}: {e.text}" if e.text else e.reason_code,
        lineage=_close_requests(o, lineage, e.times, "REJECTED"),
        exec_ids=_seen(o, e.exec_id),
        pending=None,
        queued=None,
    )


def _sent(o: Order, e: OrderSent) -> Fields:
    return _edit(o, status=OrderStatus.SENT, status_requests=0)


def _fill_amended(o: Order, e: FillAmended) -> Fields:
    fills = tuple(
        f._replace(state=e.superseded_state) if f.exec_id == e.ref_exec_id else f for f in o.fills
    )
    if e.replacement is not None:
        fills = (*fills, e.replacement)
    return _edit(
        o,
        status=e.status,
        cum_qty=e.cum_qty,
        leaves_qty=e.leaves_qty,
        cum_notional=e.cum_notional,
        fills=fills,
        exec_ids=o.exec_ids | {e.exec_id},
    )


def _request_queued(o: Order, e: RequestQueued) -> Fields:
    lineage = o.lineage
    if e.superseded is not None:
        lineage = _mark(lineage, e.superseded, VersionState.REFUSED, e.times, "SUPERSEDED")
    lineage = (*lineage, _version(e.request, e.changes, VersionState.QUEUED))
    return _edit(
        o,
        queued=e.request,
        lineage=lineage,
        cl_ord_ids_seen=o.cl_ord_ids_seen | {e.request.cl_ord_id},
    )


def _request_refused(o: Order, e: RequestRefused) -> Fields:
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
    return _edit(
        o, lineage=lineage, queued=queued, cl_ord_ids_seen=o.cl_ord_ids_seen | {e.cl_ord_id}
    )


def _request_rejected(o: Order, e: RequestRejected) -> Fields:
    return _edit(
        o,
        status=e.status,
        pending=None,
        lineage=_mark(o.lineage, e.cl_ord_id, VersionState.REJECTED, e.times, e.reason_code),
        status_requests=0,
    )


def _replace_acknowledged(o: Order, e: ReplaceAcknowledged) -> Fields:
    return _edit(
        o,
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


def _expired(o: Order, e: OrderExpired) -> Fields:
    return _edit(
        o,
        status=OrderStatus.EXPIRED,
        leaves_qty=ZERO,
        pending=None,
        queued=None,
        lineage=_close_requests(o, o.lineage, e.times, "EXPIRED"),
        exec_ids=_seen(o, e.exec_id),
        status_requests=0,
    )


def _done_for_day(o: Order, e: OrderDoneForDay) -> Fields:
    return _edit(
        o,
        status=e.status,
        done_for_day=True,
        acknowledged=True,
        exec_ids=o.exec_ids | {e.exec_id},
    )


def _status_requested(o: Order, e: StatusRequested) -> Fields:
    if e.attempt == 0:  # asked for a reason other than a timer (e.g. a CumQty gap)
        return list(o)
    return _edit(o, status_requests=e.attempt)


def _status_adopted(o: Order, e: StatusAdopted) -> Fields:
    closed = e.status in TERMINAL_STATUSES  # requests in flight are closed with the order
    return _edit(
        o,
        status=e.status,
        leaves_qty=e.leaves_qty,
        acknowledged=True,
        lineage=_close_requests(o, o.lineage, e.times, e.status) if closed else o.lineage,
        queued=None if closed else o.queued,
        pending=None if closed else o.pending,
        exec_ids=o.exec_ids | {e.exec_id},
        status_requests=0,
    )


def _exception_raised(o: Order, e: ExceptionRaised) -> Fields:
    seen = o.cl_ord_ids_seen if e.cl_ord_id is None else o.cl_ord_ids_seen | {e.cl_ord_id}
    record = e.exception
    ref = ExceptionRef(
        record.exception_id, record.kind, e.exec_id or e.cl_ord_id or record.break_key
    )
    return _edit(
        o,
        open_exceptions=(*o.open_exceptions, ref),
        exception_count=o.exception_count + 1,
        exec_ids=_seen(o, e.exec_id),
        cl_ord_ids_seen=seen,
    )


def _exception_cleared(o: Order, e: ExceptionCleared) -> Fields:
    return _edit(
        o,
        open_exceptions=tuple(x for x in o.open_exceptions if x.exception_id != e.exception_id),
    )


def _with_exception(o: Order, exception_id: str, **changes: Any) -> Fields:
    """The order's fields with one open exception's workflow state changed."""
    return _edit(
        o,
        open_exceptions=tuple(
            x._replace(**changes) if x.exception_id == exception_id else x
            for x in o.open_exceptions
        ),
    )


def _exception_acknowledged(o: Order, e: ExceptionAcknowledged) -> Fields:
    return _with_exception(
        o, e.exception_id, status=ExceptionStatus.ACKNOWLEDGED, assignee=e.assignee
    )


def _resolution_proposed(o: Order, e: ResolutionProposed) -> Fields:
    return _with_exception(
        o, e.exception_id, status=ExceptionStatus.AWAITING_APPROVAL, proposal=e.resolution
    )


def _resolution_declined(o: Order, e: ResolutionDeclined) -> Fields:
    return _with_exception(o, e.exception_id, status=ExceptionStatus.ACKNOWLEDGED, proposal=None)


def _exception_resolved(o: Order, e: ExceptionResolved) -> Fields:
    return _edit(
        o,
        open_exceptions=tuple(x for x in o.open_exceptions if x.exception_id != e.exception_id),
    )


_FOLD: dict[type[Any], Callable[[Order, Any], Fields]] = {
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
    ExceptionAcknowledged: _exception_acknowledged,
    ResolutionProposed: _resolution_proposed,
    ResolutionDeclined: _resolution_declined,
    ExceptionResolved: _exception_resolved,
}


def evolve(order: Order | None, event: Event) -> Order:
    """Fold one event onto the order it belongs to and return the new order."""
    kind = type(event)
    if kind is OrderCreated:
        if order is not None:
            raise DomainError(f"order {event.order_id} already exists")
        return _created(event)  # type: ignore[arg-type]
    if order is None:
        raise DomainError(f"{kind.__name__} for unknown order {event.order_id}")
    if event.version != order.version + 1 or event.order_id != order.order_id:
        raise DomainError(
            f"{kind.__name__} {event.order_id} v{event.version} does not follow "
            f"{order.order_id} v{order.version}"
        )
    fields = _FOLD[kind](order, event)
    fields[_VERSION] = event.version
    fields[_TIMES] = event.times
    return build(Order, fields)


def fold_next(order: Order, event: Event) -> Order:
    """Fold an event that the state machine has just numbered itself (version + 1, same
    order), skipping the checks ``evolve`` makes on events read back from a log."""
    fields = _FOLD[type(event)](order, event)
    fields[_VERSION] = event.version
    fields[_TIMES] = event.times
    return build(Order, fields)


def fold(events: Iterable[Event], order: Order | None = None) -> Order | None:
    """Rebuild an order by folding ``events`` in order, starting from ``order``."""
    for event in events:
        order = evolve(order, event)
    return order
