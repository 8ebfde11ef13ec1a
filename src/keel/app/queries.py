"""The question every operator asks: what happened to this order, in what order, and why.

``order_history`` gathers one order's events with the inputs that caused them (and their
three times), every ClOrdID and venue order id it used, its fills and its exceptions, and
states the facts people ask about (did the cancel come before or after a fill?).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keel.app import codec
from keel.app.ports import EventStore
from keel.app.records import ExceptionRow, FillRow, InputRecord, LinkRow
from keel.domain.enums import RequestKind, ResolutionKind
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
from keel.domain.fold import fold
from keel.domain.order import Order
from keel.domain.order_exceptions import Resolution


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    event_seq: int
    order_version: int
    type: str
    summary: str
    actor: str
    ingest_time: datetime
    event_time: datetime
    processed_time: datetime
    input_seq: int
    input_kind: str
    input_source: str
    raw: str
    """Where the raw form is: ``input 12: 153 bytes as received`` or the canonical payload."""


@dataclass(frozen=True, slots=True)
class OrderHistory:
    order_id: str
    order: Order
    timeline: list[TimelineEntry]
    links: list[LinkRow]
    fills: list[FillRow]
    exceptions: list[ExceptionRow]
    facts: list[str]

    def to_json(self) -> dict[str, Any]:
        """Return the whole history as plain JSON-able values."""
        decoded: dict[str, Any] = json.loads(
            codec.encode(
                {
                    "order_id": self.order_id,
                    "order": self.order._asdict(),
                    "timeline": self.timeline,
                    "links": self.links,
                    "fills": self.fills,
                    "exceptions": self.exceptions,
                    "facts": self.facts,
                }
            )
        )
        return decoded


def describe(event: Event) -> str:
    """Return one line saying what an event means, in the desk's words."""
    match event:
        case OrderCreated():
            s = event.spec
            price = f" @ {s.limit_price}" if s.limit_price is not None else ""
            return f"created {s.side} {s.qty} {s.instrument}{price} {s.tif} as {event.cl_ord_id}"
        case OrderRejected():
            return f"rejected by {event.source}: {event.reason_code} {event.text}".rstrip()
        case OrderSent():
            return f"sent to the venue as {event.cl_ord_id}"
        case OrderAcknowledged():
            how = "implied by a fill or report" if event.implied else "acknowledged"
            return f"{how}; venue order id {event.venue_order_id}"
        case FillBooked():
            f = event.fill
            late = " (late)" if f.late else ""
            return (
                f"fill {f.qty} @ {f.price}{late} exec {f.exec_id}: cum {event.cum_qty}, "
                f"leaves {event.leaves_qty}"
            )
        case FillAmended():
            what = "corrected" if event.replacement is not None else "busted"
            return f"fill {event.ref_exec_id} {what} by {event.exec_id}: cum {event.cum_qty}"
        case RequestSent():
            r = event.request
            changes = ", ".join(f"{k} {a} -> {b}" for k, a, b in event.changes)
            extra = f" ({changes})" if changes else ""
            return f"{r.kind.lower()} requested by {r.actor} as {r.cl_ord_id}{extra}"
        case RequestQueued():
            return f"{event.request.kind.lower()} {event.request.cl_ord_id} queued"
        case RequestRefused():
            return f"{event.kind.lower()} {event.cl_ord_id} refused: {event.reason_code}"
        case RequestRejected():
            return f"{event.kind.lower()} {event.cl_ord_id} rejected by venue: {event.reason_code}"
        case OrderCanceled():
            return "canceled (unsolicited)" if event.unsolicited else "cancel acknowledged"
        case ReplaceAcknowledged():
            return f"replace acknowledged: now {event.spec.qty} as {event.cl_ord_id}"
        case OrderExpired():
            return "expired"
        case OrderDoneForDay():
            return "done for day"
        case StatusRequested():
            return f"status requested ({event.reason})"
        case StatusAdopted():
            return f"venue status {event.status} adopted (was {event.previous})"
        case ExceptionRaised():
            x = event.exception
            return f"exception {x.exception_id} {x.kind}: {x.summary}"
        case ExceptionCleared():
            return f"exception {event.exception_id} cleared: {event.reason}"
        case ExceptionAcknowledged():
            note = f": {event.comment}" if event.comment else ""
            return f"exception {event.exception_id} taken by {event.assignee}{note}"
        case ResolutionProposed():
            proposed = event.resolution
            return (
                f"exception {event.exception_id}: {proposed.actor} proposes {proposed.kind}"
                f"{_fill_terms(proposed)}, awaiting approval: {proposed.comment}"
            )
        case ResolutionDeclined():
            note = f": {event.comment}" if event.comment else ""
            return f"exception {event.exception_id}: proposal declined by {event.actor}{note}"
        case ExceptionResolved():
            done = event.resolution
            approved = f", approved by {event.approved_by}" if event.approved_by else ""
            return (
                f"exception {event.exception_id} resolved by {done.actor} as {done.kind}"
                f"{_fill_terms(done)}{approved}: {done.comment}"
            )


def _fill_terms(r: Resolution) -> str:
    if r.kind is ResolutionKind.BOOKED_MISSING_FILL:
        return f" ({r.qty} @ {r.price} exec {r.exec_id})"
    if r.kind is ResolutionKind.BUSTED_FILL:
        return f" (exec {r.exec_id})"
    return ""


def _raw_pointer(record: InputRecord) -> str:
    if record.raw is not None:
        return f"input {record.input_seq} {record.kind}: {len(record.raw)} bytes as received"
    return f"input {record.input_seq} {record.kind}"


def _facts(events: list[Event]) -> list[str]:
    facts: list[str] = []
    first_fill = next((e.version for e in events if isinstance(e, FillBooked)), None)
    cancel = next(
        (
            e.version
            for e in events
            if isinstance(e, RequestSent) and e.request.kind is RequestKind.CANCEL
        ),
        None,
    )
    if cancel is not None:
        if first_fill is None:
            facts.append("the cancel was requested before any fill")
        elif cancel < first_fill:
            facts.append("the cancel was requested before the first fill")
        else:
            facts.append("the cancel was requested after a partial fill")
    late = [e for e in events if isinstance(e, FillBooked) and e.fill.late]
    if late:
        facts.append(f"{len(late)} fill(s) arrived after the order closed")
    return facts


def order_history(store: EventStore, ref: str) -> OrderHistory | None:
    """Return the whole story of the order ``ref`` names, or None if none matches."""
    order_id = store.resolve_order_ref(ref)
    if order_id is None:
        return None
    records = store.events_for_order(order_id)
    if not records:
        return None
    events = [codec.decode_event(r.type, r.payload, r.schema_version) for r in records]
    order = fold(events)
    assert order is not None
    inputs = {i.input_seq: i for i in store.inputs_by_seq(sorted({r.input_seq for r in records}))}
    timeline = []
    for record, event in zip(records, events, strict=True):
        source = inputs[record.input_seq]
        timeline.append(
            TimelineEntry(
                event_seq=record.event_seq,
                order_version=record.order_version,
                type=record.type,
                summary=describe(event),
                actor=record.actor,
                ingest_time=event.times.ingest_time,
                event_time=event.times.event_time,
                processed_time=event.times.processed_time,
                input_seq=record.input_seq,
                input_kind=source.kind,
                input_source=source.source,
                raw=_raw_pointer(source),
            )
        )
    return OrderHistory(
        order_id=order_id,
        order=order,
        timeline=timeline,
        links=store.links_for_order(order_id),
        fills=store.fills_for_order(order_id),
        exceptions=store.exceptions_for_order(order_id),
        facts=_facts(events),
    )
