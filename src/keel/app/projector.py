"""From events to the current-state rows: orders, links, fills, positions, exceptions.

The sequencer runs this on every transition and writes the rows in the same transaction as
the events; replay runs the same code over the whole log. So the live tables and a rebuild
can only differ if the tables were changed behind the log's back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from keel.app.codec import to_json_text
from keel.app.records import ExceptionRow, FillRow, LinkRow, OrderRow, PositionRow, ProjectionRows
from keel.domain.enums import ExceptionStatus, Side
from keel.domain.events import (
    Event,
    ExceptionAcknowledged,
    ExceptionCleared,
    ExceptionRaised,
    ExceptionResolved,
    FillAmended,
    FillBooked,
    OrderAcknowledged,
    OrderCreated,
    ReplaceAcknowledged,
    RequestQueued,
    RequestRefused,
    RequestSent,
    ResolutionDeclined,
    ResolutionProposed,
)
from keel.domain.ids import venue_order_ref
from keel.domain.order import BookedFill, FillState, Order
from keel.domain.order_exceptions import OrderException
from keel.domain.positions import FLAT, Position, apply_trade, position_of

PROJECTION_VERSION = 1
"""Bump when the rows derived from the same events change; replay --rebuild applies it."""

_RESOLVED = ExceptionStatus.RESOLVED.value

PositionKey = tuple[str, str]
FillsOf = Callable[[str, str], list[FillRow]]
"""Return the stored active fills of an account and instrument (to recompute a position)."""
ExceptionById = Callable[[str], ExceptionRow | None]
"""Return a stored exception row by its id (for a case: an exception with no order)."""
ExceptionsOf = Callable[[str], list[ExceptionRow]]
"""Return the stored exception rows of an order (to resolve one raised in an earlier batch)."""
_ACTIVE = FillState.ACTIVE.value


# Enum fields go into rows as the members themselves: they are ``str``s (StrEnum), and
# ``.value`` costs a descriptor call per field on the hot path.


# Rows are built with positional arguments, in the rows' column order: a dataclass's
# ``__init__`` takes a dozen keyword arguments at twice the cost.


def order_row(order: Order) -> OrderRow:
    spec = order.spec
    return OrderRow(
        order.order_id, spec.account, spec.instrument, spec.side, spec.ord_type, spec.qty,
        spec.limit_price, spec.stop_price, spec.tif, spec.expire_time, spec.venue,
        order.client_order_id, order.parent_id, order.status, order.cl_ord_id,
        order.venue_order_id, order.cum_qty, order.leaves_qty, order.avg_px,
        order.cum_notional, len(order.open_exceptions), order.created_at,
        order.times.processed_time, order.version,
    )  # fmt: skip


def fill_row(order: Order, fill: BookedFill, booked_seq: int) -> FillRow:
    spec = order.spec
    return FillRow(
        fill.fill_id, order.order_id, fill.exec_id, spec.account, spec.instrument, spec.side,
        fill.qty, fill.price, fill.cl_ord_id, fill.event_time, fill.ingest_time,
        fill.trade_date, fill.state, fill.corrects, fill.late, booked_seq,
    )  # fmt: skip


class Projector:
    """Keeps the positions book and turns each transition's events into rows."""

    def __init__(
        self,
        positions: dict[PositionKey, Position],
        fills_of: FillsOf,
        exceptions_of: ExceptionsOf,
        exception_by_id: ExceptionById = lambda _: None,
    ) -> None:
        self.positions = positions
        self._fills_of = fills_of
        self._exceptions_of = exceptions_of
        self._exception_by_id = exception_by_id
        self._touched: dict[str, Order] = {}
        self._moved: dict[PositionKey, int] = {}
        """The positions the batch moved, with the event sequence that last moved each."""

    def project(
        self,
        rows: ProjectionRows,
        order: Order | None,
        events: Sequence[Event],
        first_event_seq: int,
        input_seq: int,
    ) -> None:
        """Add to ``rows`` what one transition changed; ``order`` is the order after it
        (None: the transition was a case's, an exception no order holds).

        The rows of the orders and positions it changed are added by ``finish``.
        """
        if not events:
            return
        if order is None:
            self.project_case(rows, events, input_seq)
            return
        self._touched[order.order_id] = order  # its row is built once, by ``finish``
        for offset, event in enumerate(events):
            if type(event) is FillBooked:  # the most frequent event by far: no ``match``
                self._book(rows, order, event, first_event_seq + offset)
            else:
                self._project_event(rows, order, event, first_event_seq + offset, input_seq)

    def project_case(self, rows: ProjectionRows, events: Sequence[Event], input_seq: int) -> None:
        """Add to ``rows`` what one input did to a case (an exception no order holds)."""
        for event in events:
            match event:
                case ExceptionRaised():
                    rows.exceptions[event.exception.exception_id] = _raised_row(
                        event.exception, input_seq
                    )
                case ExceptionAcknowledged():
                    self._update_exception(
                        rows, None, event.exception_id,
                        status=ExceptionStatus.ACKNOWLEDGED.value, assignee=event.assignee,
                    )  # fmt: skip
                case ExceptionResolved():
                    self._resolved(rows, None, event)
                case _:
                    pass

    def finish(self, rows: ProjectionRows) -> None:
        """Add the rows of the orders and positions the batch touched, each as it ended the
        batch: a batch of fills on one instrument moves its position once per fill, and
        only the last row of each would be written."""
        for order_id, order in self._touched.items():
            rows.orders[order_id] = order_row(order)
        self._touched.clear()
        positions = self.positions
        for key, seq in self._moved.items():
            position = positions[key]
            net_qty, open_cost, realized_pnl = position
            rows.positions[key] = PositionRow(
                key[0], key[1], net_qty, open_cost, position.avg_cost, realized_pnl, seq
            )
        self._moved.clear()

    def _link(
        self, rows: ProjectionRows, kind: str, ref: str, order: Order, detail: str, seq: int
    ) -> None:
        rows.links.append(LinkRow(kind, ref, order.order_id, detail, seq))

    def _project_event(
        self, rows: ProjectionRows, order: Order, event: Event, seq: int, input_seq: int
    ) -> None:
        oid = order.order_id
        match event:
            case OrderCreated():
                self._link(rows, "CL_ORD_ID", event.cl_ord_id, order, "NEW", seq)
                if event.client_order_id:
                    ref = f"{event.spec.account}:{event.client_order_id}"
                    self._link(rows, "CLIENT_ORDER_ID", ref, order, "", seq)
                if event.parent_id:
                    rows.links.append(LinkRow("CHILD", oid, event.parent_id, "", seq))
            case RequestSent() | RequestQueued():
                request = event.request
                detail = f"{request.kind.value} of {request.orig_cl_ord_id}"
                self._link(rows, "CL_ORD_ID", request.cl_ord_id, order, detail, seq)
            case RequestRefused():
                detail = f"{event.kind.value} refused: {event.reason_code}"
                self._link(rows, "CL_ORD_ID", event.cl_ord_id, order, detail, seq)
            case OrderAcknowledged() | ReplaceAcknowledged() if event.venue_order_id:
                ref = venue_order_ref(order.spec.venue, event.venue_order_id)
                self._link(rows, "VENUE_ORDER_ID", ref, order, "", seq)
            case FillBooked():
                self._book(rows, order, event, seq)
            case FillAmended():
                self._amend(rows, order, event, seq)
            case ExceptionRaised():
                record = event.exception
                rows.exceptions[record.exception_id] = _raised_row(record, input_seq)
            case ExceptionCleared():
                self._update_exception(
                    rows, oid, event.exception_id,
                    status=_RESOLVED, resolved_by="system", resolution=event.reason,
                    resolved_at=event.times.processed_time,
                )  # fmt: skip
            case ExceptionAcknowledged():
                self._update_exception(
                    rows, oid, event.exception_id,
                    status=ExceptionStatus.ACKNOWLEDGED.value, assignee=event.assignee,
                )  # fmt: skip
            case ResolutionProposed():
                self._update_exception(
                    rows, oid, event.exception_id,
                    status=ExceptionStatus.AWAITING_APPROVAL.value,
                    proposal=to_json_text(event.resolution._asdict()),
                )  # fmt: skip
            case ResolutionDeclined():
                self._update_exception(
                    rows, oid, event.exception_id,
                    status=ExceptionStatus.ACKNOWLEDGED.value, proposal=None,
                )  # fmt: skip
            case ExceptionResolved():
                self._resolved(rows, oid, event)
            case _:
                pass

    def _resolved(
        self, rows: ProjectionRows, order_id: str | None, event: ExceptionResolved
    ) -> None:
        resolution = event.resolution
        self._update_exception(
            rows, order_id, event.exception_id,
            status=_RESOLVED, resolved_by=resolution.actor,
            resolution=resolution.comment, resolution_kind=resolution.kind.value,
            approved_by=event.approved_by, proposal=None,
            resolved_at=event.times.processed_time,
        )  # fmt: skip

    def _update_exception(
        self, rows: ProjectionRows, order_id: str | None, exception_id: str, **changes: object
    ) -> None:
        """Change an exception's row, raised in this batch or an earlier one (``order_id``
        None: a case's)."""
        existing = rows.exceptions.get(exception_id)
        if existing is None and order_id is None:
            existing = self._exception_by_id(exception_id)
        elif existing is None:
            stored = self._exceptions_of(order_id or "")
            existing = next((x for x in stored if x.exception_id == exception_id), None)
        if existing is not None:
            rows.exceptions[exception_id] = replace(existing, **changes)  # type: ignore[arg-type]

    def _book(self, rows: ProjectionRows, order: Order, event: FillBooked, seq: int) -> None:
        """A fill booked: its row, and the position it moves."""
        fill = event.fill
        spec = order.spec
        rows.fills[fill.fill_id] = fill_row(order, fill, seq)
        key = (spec.account, spec.instrument)
        before = self.positions.get(key, FLAT)
        self._set_position(key, apply_trade(before, spec.side, fill.qty, fill.price), seq)

    def _amend(self, rows: ProjectionRows, order: Order, event: FillAmended, seq: int) -> None:
        """A correction or bust: mark the original, add the replacement, recompute the
        position from the remaining active fills in booking order."""
        for fill in order.fills:
            if fill.exec_id == event.ref_exec_id:
                previous = rows.fills.get(fill.fill_id)
                booked = previous.booked_seq if previous else self._booked_seq(order, fill)
                rows.fills[fill.fill_id] = fill_row(order, fill, booked)
        if event.replacement is not None:
            rows.fills[event.replacement.fill_id] = fill_row(order, event.replacement, seq)
        account, instrument = order.spec.account, order.spec.instrument
        merged = {f.fill_id: f for f in self._fills_of(account, instrument)}
        merged.update(
            (f.fill_id, f)
            for f in rows.fills.values()
            if (f.account, f.instrument) == (account, instrument)
        )
        active = sorted(
            (f for f in merged.values() if f.state == _ACTIVE),
            key=lambda f: f.booked_seq,
        )
        trades = [(Side(f.side), f.qty, f.price) for f in active]
        self._set_position((account, instrument), position_of(trades), seq)

    def _booked_seq(self, order: Order, fill: BookedFill) -> int:
        for stored in self._fills_of(order.spec.account, order.spec.instrument):
            if stored.fill_id == fill.fill_id:
                return stored.booked_seq
        return 0

    def _set_position(self, key: PositionKey, position: Position, seq: int) -> None:
        """Move a position; its row is built by ``finish``."""
        self.positions[key] = position
        self._moved[key] = seq


def _raised_row(record: OrderException, input_seq: int) -> ExceptionRow:
    return ExceptionRow(
        exception_id=record.exception_id,
        kind=record.kind.value,
        order_id=record.order_id,
        summary=record.summary,
        evidence=to_json_text(dict(record.evidence)),
        status=record.status.value,
        raised_at=record.raised_at,
        input_seq=input_seq,
        exec_id=record.exec_id,
        cl_ord_id=record.cl_ord_id,
        break_key=record.break_key,
    )
