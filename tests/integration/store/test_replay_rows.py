"""Replay's read path on every store: ``read_event_rows`` paged, decoded and folded.

``keel.app.replay`` reads the log as ``EventRow`` tuples a page at a time and decodes each
row inline; these check that the result does not depend on the page size (transitions and
orders cut across pages) and that a row it cannot decode is the ``CodecError`` that
``codec.decode_event`` gives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integration.store.rows import a_batch, an_event
from keel.app import codec, replay
from keel.app.errors import CodecError
from keel.app.ports import EventStore
from keel.app.records import EventRecord
from keel.domain.enums import OrdType, Side
from keel.domain.ids import AccountId, ClOrdId, ExecId, InstrumentId, OrderId, VenueId, VenueOrderId
from keel.domain.inputs import Fill, Input, NewOrderAccepted, SentToVenue, VenueAck
from keel.domain.order import Order, OrderSpec
from keel.domain.state_machine import apply

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def lifecycle(oid: str) -> list[Input]:
    base = {"order_id": OrderId(oid), "ingest_time": T0, "event_time": T0}
    spec = OrderSpec(
        AccountId("FUND-A"), InstrumentId("ACME"), Side.BUY, OrdType.LIMIT, Decimal(200),
        Decimal("10.00"), venue=VenueId("SIM"),
    )  # fmt: skip
    cl = ClOrdId(f"{oid}.1")
    return [
        NewOrderAccepted(**base, spec=spec, cl_ord_id=cl, actor="test"),  # type: ignore[arg-type]
        SentToVenue(**base, cl_ord_id=cl),  # type: ignore[arg-type]
        VenueAck(**base, exec_id=ExecId(f"{oid}-A"), venue_order_id=VenueOrderId(oid)),  # type: ignore[arg-type]
        *(
            Fill(
                **base,  # type: ignore[arg-type]
                exec_id=ExecId(f"{oid}-F{k}"),
                last_qty=Decimal(100),
                last_px=Decimal("10.00"),
                cum_qty=Decimal(100 * k),
                leaves_qty=Decimal(200 - 100 * k),
            )
            for k in (1, 2)
        ),
    ]


def write_log(store: EventStore, order_ids: list[str]) -> dict[str, Order]:
    """Commit the orders' lifecycles, interleaved, one input each; return the orders."""
    orders: dict[str, Order] = {}
    steps = {oid: lifecycle(oid) for oid in order_ids}
    events: list[EventRecord] = []
    input_seq = 0
    for k in range(max(len(s) for s in steps.values())):
        for oid in order_ids:
            if k >= len(steps[oid]):
                continue
            input_seq += 1
            transition = apply(orders.get(oid), steps[oid][k], T0)
            orders[oid] = transition.order
            for event in transition.events:
                record = an_event(len(events) + 1, order_id=oid, input_seq=input_seq)
                events.append(
                    EventRecord(
                        **{
                            **{f: getattr(record, f) for f in record.__slots__},
                            "order_version": event.version,
                            "type": codec.event_type(event),
                            "payload": codec.encode(event),
                        }
                    )
                )
    store.commit(a_batch(events=events))
    return orders


@pytest.mark.parametrize("page", [1, 2, 7, 1000])
def test_fold_orders_is_the_orders_at_any_page_size(store: EventStore, page: int) -> None:
    orders = write_log(store, ["ORD-1", "ORD-2", "ORD-3"])
    assert replay.fold_orders(store, page) == orders


def test_rebuild_rows_do_not_depend_on_the_page_size(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_log(store, ["ORD-1", "ORD-2", "ORD-3"])
    whole = replay.rebuild_rows(store)
    assert set(whole.orders) == {"ORD-1", "ORD-2", "ORD-3"}
    for page in (1, 2, 7):
        monkeypatch.setattr(replay, "PAGE_EVENTS", page)
        seen: list[int] = []
        assert replay.rebuild_rows(store, seen.append) == whole
        assert seen[-1] == len(store.read_event_rows(0, 1000))


@pytest.mark.parametrize(
    ("type_", "payload", "message"),
    [
        ("NoSuchEvent", b"[]", "unknown event type 'NoSuchEvent'"),
        ("OrderSent", b"[1, 2", "cannot decode OrderSent"),
    ],
)
def test_a_row_replay_cannot_decode_is_a_codec_error(
    store: EventStore, type_: str, payload: bytes, message: str
) -> None:
    write_log(store, ["ORD-1"])
    bad = an_event(6, order_id="ORD-1", version=6, input_seq=6, type_=type_)
    store.commit(a_batch(events=[EventRecord(**{
        **{f: getattr(bad, f) for f in bad.__slots__}, "payload": payload
    })]))  # fmt: skip
    with pytest.raises(CodecError, match=message):
        replay.fold_orders(store)
    with pytest.raises(CodecError, match=message):
        replay.rebuild_rows(store)
