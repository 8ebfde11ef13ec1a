"""Builders for the rows a sequencer commits, so store tests read like a desk's day.

``Desk`` hands out sequence numbers, order versions and the event hash chain as the
sequencer would; ``a_fill``, ``an_order``... build single rows with realistic defaults.
Import as ``from integration.store.rows import ...`` (``tests`` is on the path).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from keel.app.records import (
    GENESIS_HASH,
    CommitBatch,
    EventRecord,
    ExceptionRow,
    FillRow,
    IdempotencyRecord,
    InputRecord,
    LinkRow,
    OrderRow,
    PositionRow,
    ProjectionRows,
)

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
"""The desk's morning: 2 March 2026, 14:30 UTC."""

TRADE_DATE = date(2026, 3, 2)


def at(seconds: float) -> datetime:
    """Return the time ``seconds`` after ``T0``."""
    return T0 + timedelta(seconds=seconds)


def an_input(
    seq: int,
    *,
    order_id: str | None = "ORD-1",
    kind: str = "NewOrderAccepted",
    key: str | None = None,
    outcome: str = "APPLIED",
    source: str = "client:rest",
    raw: bytes | None = None,
    note: str = "",
) -> InputRecord:
    return InputRecord(
        input_seq=seq,
        source=source,
        kind=kind,
        order_id=order_id,
        idempotency_key=key,
        ingest_time=at(seq),
        processed_time=at(seq) + timedelta(microseconds=250),
        payload=b'{"order_id":"%s","seq":%d}' % ((order_id or "").encode(), seq),
        raw=raw,
        outcome=outcome,
        note=note,
        actor="system",
    )


def an_event(
    seq: int,
    *,
    order_id: str = "ORD-1",
    version: int = 1,
    input_seq: int | None = None,
    type_: str = "OrderAccepted",
    prev_hash: bytes = GENESIS_HASH,
) -> EventRecord:
    payload = b'{"order_id":"%s","version":%d}' % (order_id.encode(), version)
    return EventRecord(
        event_seq=seq,
        partition=0,
        partition_seq=seq,
        order_id=order_id,
        order_version=version,
        type=type_,
        schema_version=1,
        payload=payload,
        input_seq=seq if input_seq is None else input_seq,
        actor="system",
        recorded_at=at(seq) + timedelta(microseconds=500),
        prev_hash=prev_hash,
        hash=hashlib.sha256(prev_hash + payload).digest(),
    )


def a_key(key: str, input_seq: int, order_id: str | None = "ORD-1") -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key,
        input_seq=input_seq,
        order_id=order_id,
        answer=b'{"order_id":"%s","status":"ACCEPTED"}' % (order_id or "").encode(),
    )


def an_order(
    order_id: str = "ORD-1",
    *,
    status: str = "NEW",
    account: str = "FUND-A",
    instrument: str = "ACME",
    qty: str = "1000",
    limit_price: str | None = "10.05",
    cum_qty: str = "0",
    avg_px: str = "0",
    client_order_id: str | None = None,
    version: int = 1,
) -> OrderRow:
    qty_d, cum = Decimal(qty), Decimal(cum_qty)
    return OrderRow(
        order_id=order_id,
        account=account,
        instrument=instrument,
        side="BUY",
        ord_type="LIMIT" if limit_price else "MARKET",
        qty=qty_d,
        limit_price=Decimal(limit_price) if limit_price else None,
        stop_price=None,
        tif="DAY",
        expire_time=None,
        venue="SIM",
        client_order_id=client_order_id,
        parent_id=None,
        status=status,
        cl_ord_id=f"{order_id}-C1",
        venue_order_id=None,
        cum_qty=cum,
        leaves_qty=qty_d - cum,
        avg_px=Decimal(avg_px),
        cum_notional=cum * Decimal(avg_px),
        open_exceptions=0,
        created_at=T0,
        updated_at=at(version),
        version=version,
    )


def a_link(
    kind: str, ref: str, order_id: str = "ORD-1", seq: int = 1, detail: str = "NEW"
) -> LinkRow:
    return LinkRow(kind=kind, ref=ref, order_id=order_id, detail=detail, created_seq=seq)


def a_fill(
    fill_id: str,
    *,
    order_id: str = "ORD-1",
    qty: str = "100",
    price: str = "10.05",
    booked_seq: int = 1,
    state: str = "ACTIVE",
    account: str = "FUND-A",
    instrument: str = "ACME",
    late: bool = False,
    corrects: str | None = None,
) -> FillRow:
    return FillRow(
        fill_id=fill_id,
        order_id=order_id,
        exec_id=f"SIM-E{booked_seq:06d}",
        account=account,
        instrument=instrument,
        side="BUY",
        qty=Decimal(qty),
        price=Decimal(price),
        cl_ord_id=f"{order_id}-C1",
        event_time=at(booked_seq) - timedelta(milliseconds=3),
        ingest_time=at(booked_seq),
        trade_date=TRADE_DATE,
        state=state,
        corrects=corrects,
        late=late,
        booked_seq=booked_seq,
    )


def a_position(
    account: str = "FUND-A",
    instrument: str = "ACME",
    *,
    net_qty: str = "100",
    avg_cost: str = "10.05",
    realized_pnl: str = "0.00",
    seq: int = 1,
) -> PositionRow:
    return PositionRow(
        account=account,
        instrument=instrument,
        net_qty=Decimal(net_qty),
        open_cost=Decimal(net_qty) * Decimal(avg_cost),
        avg_cost=Decimal(avg_cost),
        realized_pnl=Decimal(realized_pnl),
        updated_seq=seq,
    )


def an_exception(
    exception_id: str = "ORD-1-X1",
    *,
    order_id: str | None = "ORD-1",
    input_seq: int = 1,
    kind: str = "LATE_FILL",
    status: str = "OPEN",
) -> ExceptionRow:
    return ExceptionRow(
        exception_id=exception_id,
        kind=kind,
        order_id=order_id,
        summary="fill of 100 @ 10.05 after the cancel was acknowledged",
        evidence='{"exec_id":"SIM-E000001","status":"CANCELED"}',
        status=status,
        raised_at=at(input_seq),
        input_seq=input_seq,
        exec_id="SIM-E000001",
        cl_ord_id=f"{order_id}-C1" if order_id else None,
    )


def projections(
    *,
    orders: list[OrderRow] | tuple[()] = (),
    links: list[LinkRow] | tuple[()] = (),
    fills: list[FillRow] | tuple[()] = (),
    positions: list[PositionRow] | tuple[()] = (),
    exceptions: list[ExceptionRow] | tuple[()] = (),
) -> ProjectionRows:
    """Return projection rows keyed as the sequencer keys them."""
    return ProjectionRows(
        orders={o.order_id: o for o in orders},
        links=list(links),
        fills={f.fill_id: f for f in fills},
        positions={(p.account, p.instrument): p for p in positions},
        exceptions={x.exception_id: x for x in exceptions},
    )


def a_batch(
    inputs: list[InputRecord] | tuple[()] = (),
    events: list[EventRecord] | tuple[()] = (),
    keys: list[IdempotencyRecord] | tuple[()] = (),
    **rows: Any,
) -> CommitBatch:
    return CommitBatch(list(inputs), list(events), list(keys), projections(**rows))


class Desk:
    """Hands out input and event sequence numbers, order versions and the hash chain."""

    def __init__(self) -> None:
        self.input_seq = 0
        self.event_seq = 0
        self.last_hash = GENESIS_HASH
        self.versions: Counter[str] = Counter()

    def next_input(self, order_id: str | None = "ORD-1", **kw: Any) -> InputRecord:
        self.input_seq += 1
        return an_input(self.input_seq, order_id=order_id, **kw)

    def next_event(self, order_id: str, input_seq: int, type_: str) -> EventRecord:
        self.event_seq += 1
        self.versions[order_id] += 1
        event = an_event(
            self.event_seq,
            order_id=order_id,
            version=self.versions[order_id],
            input_seq=input_seq,
            type_=type_,
            prev_hash=self.last_hash,
        )
        self.last_hash = event.hash
        return event

    def accept(
        self,
        order_id: str,
        *,
        account: str = "FUND-A",
        client_order_id: str | None = None,
        status: str = "NEW",
    ) -> CommitBatch:
        """Return the batch that accepts a new order: its input, event, key and rows."""
        key = f"client:rest:{account}:{client_order_id or order_id}"
        inp = self.next_input(order_id, key=key)
        event = self.next_event(order_id, inp.input_seq, "OrderAccepted")
        links = [a_link("CL_ORD_ID", f"{order_id}-C1", order_id, inp.input_seq)]
        if client_order_id:
            ref = f"{account}:{client_order_id}"
            links.append(a_link("CLIENT_ORDER_ID", ref, order_id, inp.input_seq))
        order = an_order(order_id, account=account, client_order_id=client_order_id, status=status)
        return a_batch(
            [inp], [event], [a_key(key, inp.input_seq, order_id)], orders=[order], links=links
        )

    def fill(self, order: OrderRow, qty: str, price: str) -> CommitBatch:
        """Return the batch that books a fill on ``order``: input, event, fill, order."""
        inp = self.next_input(order.order_id, kind="Fill", source="venue:SIM")
        event = self.next_event(order.order_id, inp.input_seq, "FillBooked")
        fill = a_fill(
            f"{order.order_id}-F{event.order_version}",
            order_id=order.order_id,
            qty=qty,
            price=price,
            booked_seq=event.event_seq,
            account=order.account,
            instrument=order.instrument,
        )
        cum = order.cum_qty + fill.qty
        status = "FILLED" if cum == order.qty else "PARTIALLY_FILLED"
        updated = replace(
            order, cum_qty=cum, leaves_qty=order.qty - cum, status=status, version=order.version + 1
        )
        return a_batch([inp], [event], orders=[updated], fills=[fill])


def exact(value: Any) -> Any:
    """Return ``value`` in a form where equal means identical: each leaf as its type and
    repr, so ``Decimal('10.00')`` differs from ``Decimal('10.0')`` and a datetime's tzinfo
    and a bytes/memoryview difference show."""
    if is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            {f.name: exact(getattr(value, f.name)) for f in fields(value)},
        )
    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [exact(v) for v in value]
    return (type(value).__name__, repr(value))
