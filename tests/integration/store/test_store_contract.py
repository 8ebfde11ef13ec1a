"""The one contract every event store keeps: memory, SQLite and PostgreSQL.

``store`` is a migrated empty store of each kind (see conftest.py); a test that passes for
one kind and fails for another has found a difference the sequencer would trip over.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any

import pytest

from integration.store.rows import (
    T0,
    Desk,
    a_batch,
    a_fill,
    a_key,
    a_link,
    a_position,
    an_event,
    an_exception,
    an_input,
    an_order,
    at,
    exact,
    projections,
)
from keel.adapters.store import sqlbase
from keel.adapters.store.schema import MIGRATIONS, Migration, latest_version
from keel.adapters.store.tables import columns_of
from keel.app.errors import SchemaError, StoreError
from keel.app.ports import PROJECTION_TABLES, EventStore
from keel.app.records import (
    EMPTY_HEAD,
    ApiKeyRow,
    AuditRow,
    CommitBatch,
    ExceptionRow,
    FillRow,
    FixMessageRow,
    FixSessionRow,
    HaltRow,
    LinkRow,
    OrderRow,
    PositionRow,
    ReconRunRow,
    UserRow,
    column_names,
)
from keel.domain.enums import OrderStatus, OrdType, Outcome, Side, TimeInForce
from keel.domain.inputs import InputKind

ROW_TYPES: dict[str, type[Any]] = {
    "orders": OrderRow,
    "order_links": LinkRow,
    "fills": FillRow,
    "positions": PositionRow,
    "exceptions": ExceptionRow,
}

KIND_TYPES = {
    "int": int,
    "text": str,
    "decimal": Decimal,
    "datetime": datetime,
    "date": date,
    "bool": bool,
    "bytes": bytes,
}


def everything_in(store: EventStore) -> Any:
    """Return all a store holds, exactly, to show that a failed write changed nothing."""
    return exact(
        {
            "head": store.head(),
            "inputs": store.read_inputs(),
            "events": store.read_events(),
            "tables": {t: list(store.read_table(t)) for t in PROJECTION_TABLES},
        }
    )


def a_day(store: EventStore) -> Desk:
    """Commit a small day: two orders accepted, one partly filled, then filled."""
    desk = Desk()
    store.commit(desk.accept("ORD-1", client_order_id="C-100"))
    store.commit(desk.accept("ORD-2", client_order_id="C-200"))
    order = an_order("ORD-1", client_order_id="C-100")
    first = desk.fill(order, "400", "10.05")
    store.commit(first)
    store.commit(desk.fill(first.projections.orders["ORD-1"], "600", "10.06"))
    return desk


LATEST = latest_version()


class TestSchema:
    def test_migrate_is_idempotent_and_reports_the_schema_version(self, backend: Any) -> None:
        store = backend.open()
        assert store.schema_version() == 0
        assert store.migrate() == LATEST
        assert store.migrate() == LATEST
        assert store.schema_version() == LATEST

    def test_a_store_without_its_schema_refuses_to_work(self, backend: Any) -> None:
        store = backend.open()
        with pytest.raises(StoreError):
            store.head()
        with pytest.raises(StoreError):
            store.commit(Desk().accept("ORD-1"))

    def test_a_closed_store_refuses_to_work(self, store: EventStore) -> None:
        store.close()
        with pytest.raises(StoreError):
            store.head()

    def test_schema_8_scopes_the_venue_order_ids_already_linked_by_their_venue(
        self, durable_backend: Any
    ) -> None:
        before = durable_backend.open(MIGRATIONS[:7])
        before.migrate()
        xnas = replace(an_order("ORD-2"), venue="XNAS")
        before.commit(a_batch(
            orders=[an_order("ORD-1"), xnas],
            links=[a_link("VENUE_ORDER_ID", "V-1", "ORD-1"), a_link("CL_ORD_ID", "ORD-1-C1"),
                   a_link("VENUE_ORDER_ID", "V-2", "ORD-2")],
        ))  # fmt: skip
        before.close()

        after = durable_backend.open()
        assert after.migrate() == LATEST

        assert [(link.kind, link.ref) for link in after.links_for_order("ORD-1")] == [
            ("CL_ORD_ID", "ORD-1-C1"), ("VENUE_ORDER_ID", "SIM:V-1"),
        ]  # fmt: skip
        assert after.resolve_order_ref("XNAS:V-2") == "ORD-2"
        assert after.resolve_order_ref("V-2") == "ORD-2"  # the bare id, while unambiguous


class TestCommit:
    def test_an_empty_log_starts_at_the_empty_head(self, store: EventStore) -> None:
        assert store.head() == EMPTY_HEAD

    def test_the_head_follows_the_last_input_event_and_hash(self, store: EventStore) -> None:
        desk = a_day(store)
        head = store.head()
        assert (head.last_input_seq, head.last_event_seq, head.last_partition_seq) == (4, 4, 4)
        assert head.last_hash == desk.last_hash
        assert type(head.last_hash) is bytes

    def test_an_input_without_events_moves_only_the_input_seq(self, store: EventStore) -> None:
        a_day(store)
        store.commit(a_batch([an_input(5, kind="Fill", outcome="DUPLICATE")]))
        assert (store.head().last_input_seq, store.head().last_event_seq) == (5, 4)

    def test_a_commit_writes_inputs_events_keys_and_projections(self, store: EventStore) -> None:
        batch = a_batch(
            [an_input(1, key="client:rest:FUND-A:C-100", raw=b"8=FIX.4.4\x019=5\x01")],
            [an_event(1)],
            [a_key("client:rest:FUND-A:C-100", 1)],
            orders=[an_order()],
            links=[a_link("CL_ORD_ID", "ORD-1-C1")],
            fills=[a_fill("ORD-1-F1")],
            positions=[a_position()],
            exceptions=[an_exception()],
        )
        store.commit(batch)
        assert exact(store.read_inputs()) == exact(batch.inputs)
        assert exact(store.read_events()) == exact(batch.events)
        assert exact(store.find_key("client:rest:FUND-A:C-100")) == exact(batch.keys[0])
        assert exact(list(store.read_table("orders"))) == exact([_as_dict(an_order())])
        assert exact(store.links_for_order("ORD-1")) == exact(batch.projections.links)
        assert exact(store.fills_for_order("ORD-1")) == exact([a_fill("ORD-1-F1")])
        assert exact(store.load_positions()) == exact([a_position()])
        assert exact(store.exceptions_for_order("ORD-1")) == exact([an_exception()])
        assert exact(store.find_exception(an_exception().exception_id)) == exact(an_exception())
        assert store.find_exception("NO-SUCH-X1") is None

    @pytest.mark.parametrize(
        "clash",
        [
            pytest.param(a_batch([an_input(1)]), id="input_seq"),
            pytest.param(a_batch(events=[an_event(1, order_id="ORD-9")]), id="event_seq"),
            pytest.param(a_batch(events=[an_event(9, order_id="ORD-1")]), id="order_version"),
            pytest.param(a_batch(keys=[a_key("client:rest:FUND-A:ORD-1", 9)]), id="key"),
        ],
    )
    def test_a_duplicate_in_the_log_fails_the_commit_and_changes_nothing(
        self, store: EventStore, clash: Any
    ) -> None:
        store.commit(Desk().accept("ORD-1"))
        before = everything_in(store)
        fresh = a_batch(
            [an_input(2), *clash.inputs],
            [an_event(2, order_id="ORD-2"), *clash.events],
            list(clash.keys),
            orders=[an_order("ORD-2")],
            fills=[a_fill("ORD-2-F1", order_id="ORD-2")],
        )
        with pytest.raises(StoreError):
            store.commit(fresh)
        assert everything_in(store) == before

    def test_a_batch_after_a_failed_one_writes_only_its_own_rows(self, store: EventStore) -> None:
        desk = Desk()
        store.commit(desk.accept("ORD-1"))
        failing = desk.accept("ORD-2")
        failing.projections.positions[("FUND-A", "ACME")] = replace(a_position(), net_qty=1.5)
        with pytest.raises(StoreError):
            store.commit(failing)
        store.commit(a_batch(orders=[an_order("ORD-3")], links=[a_link("CL_ORD_ID", "C-3")]))
        assert [r["order_id"] for r in store.read_table("orders")] == ["ORD-1", "ORD-3"]
        assert [r["ref"] for r in store.read_table("order_links")] == ["C-3", "ORD-1-C1"]
        assert list(store.read_table("positions")) == []

    def test_a_duplicate_inside_one_batch_fails_it(self, store: EventStore) -> None:
        with pytest.raises(StoreError):
            store.commit(a_batch(events=[an_event(1), an_event(1, order_id="ORD-2")]))
        assert store.head() == EMPTY_HEAD

    @pytest.mark.parametrize(
        "bad",
        [
            pytest.param(replace(an_exception(), raised_at=datetime(2026, 3, 2)), id="naive"),
            pytest.param(replace(an_exception(), raised_at="2026-03-02"), id="text-time"),
            pytest.param(replace(a_position(), net_qty=100.5), id="float"),
            pytest.param(replace(a_position(), avg_cost=Decimal("NaN")), id="nan"),
            pytest.param(replace(a_position(), realized_pnl=None), id="none-required"),
            pytest.param(replace(a_position(), account=7), id="int-as-text"),
            pytest.param(replace(a_position(), instrument=b"ACME"), id="bytes-as-text"),
            pytest.param(replace(a_position(), updated_seq=True), id="bool-as-int"),
            pytest.param(replace(a_position(), updated_seq=Decimal(2)), id="decimal-as-int"),
            pytest.param(replace(an_exception(), input_seq="1"), id="text-as-int"),
        ],
    )
    def test_a_bad_value_late_in_the_batch_changes_nothing(
        self, store: EventStore, bad: Any
    ) -> None:
        rows = {"exceptions": [bad]} if isinstance(bad, ExceptionRow) else {"positions": [bad]}
        batch = a_batch([an_input(1)], [an_event(1)], orders=[an_order()], **rows)
        with pytest.raises(StoreError):
            store.commit(batch)
        assert store.head() == EMPTY_HEAD
        assert list(store.read_table("orders")) == []

    def test_upserts_replace_orders_fills_positions_and_exceptions(self, store: EventStore) -> None:
        store.commit(
            a_batch(
                orders=[an_order()],
                fills=[a_fill("ORD-1-F1")],
                positions=[a_position()],
                exceptions=[an_exception()],
            )
        )
        newer = a_batch(
            orders=[an_order(status="PARTIALLY_FILLED", cum_qty="100", avg_px="10.05", version=2)],
            fills=[a_fill("ORD-1-F1", state="BUSTED")],
            positions=[a_position(net_qty="0", realized_pnl="-1.50", seq=2)],
            exceptions=[
                replace(
                    an_exception(),
                    status="RESOLVED",
                    resolved_by="ops:jane",
                    resolution="booked, client informed",
                    resolved_at=at(60),
                )
            ],
        )
        store.commit(newer)
        for table, rows in (
            ("orders", newer.projections.orders),
            ("fills", newer.projections.fills),
            ("positions", newer.projections.positions),
            ("exceptions", newer.projections.exceptions),
        ):
            assert exact(list(store.read_table(table))) == exact(
                [_as_dict(r) for r in rows.values()]
            )

    def test_links_keep_the_first_row_for_a_ref(self, store: EventStore) -> None:
        first = a_link("VENUE_ORDER_ID", "SIM-77", "ORD-1", 1, "NEW")
        store.commit(a_batch(links=[first, replace(first, detail="again, same batch")]))
        store.commit(a_batch(links=[replace(first, order_id="ORD-2", created_seq=2)]))
        assert exact(list(store.read_table("order_links"))) == exact([_as_dict(first)])

    def test_a_commit_from_a_worker_thread_is_seen_by_readers_here(self, store: EventStore) -> None:
        desk, errors = Desk(), []

        def sequencer() -> None:
            try:
                for n in range(1, 101):
                    store.commit(desk.accept(f"ORD-{n:03d}"))
            except Exception as e:  # reported below
                errors.append(e)

        worker = threading.Thread(target=sequencer)
        worker.start()
        seen = 0
        while worker.is_alive():
            head = store.head()
            assert head.last_event_seq >= seen
            seen = head.last_event_seq
            store.open_order_ids()
        worker.join()
        assert errors == []
        assert store.head().last_event_seq == 100
        assert store.open_order_ids() == [f"ORD-{n:03d}" for n in range(1, 101)]


def _as_dict(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in column_names(type(row))}


class TestWhatTheSequencerLoads:
    def test_open_orders_are_those_not_in_a_terminal_status(self, store: EventStore) -> None:
        orders = [an_order(f"ORD-{s.value}", status=s.value) for s in OrderStatus]
        store.commit(a_batch(orders=orders))
        open_ids = sorted(f"ORD-{s.value}" for s in OrderStatus if not s.is_terminal)
        assert store.open_order_ids() == open_ids
        assert not {"FILLED", "CANCELED", "REJECTED", "EXPIRED"} & {i[4:] for i in open_ids}

    def test_open_order_ids_are_sorted_by_code_point_and_follow_status_changes(
        self, store: EventStore
    ) -> None:
        assert store.open_order_ids() == []
        ids = ["ord-b", "ORD-B", "Ord-\u00e9", "ORD-a", "ORD-\u00c9", "ORD-_", "ORD-10", "ORD-9"]
        store.commit(a_batch(orders=[an_order(i, status=OrderStatus.NEW) for i in ids]))
        assert store.open_order_ids() == sorted(ids)
        assert all(type(i) is str for i in store.open_order_ids())
        closing = [
            an_order("ORD-B", status=OrderStatus.FILLED, version=2),
            an_order("ORD-9", status=OrderStatus.CANCELED, version=2),
            an_order("ORD-a", status=OrderStatus.PARTIALLY_FILLED, version=2),
        ]
        store.commit(a_batch(orders=closing))
        assert store.open_order_ids() == sorted(set(ids) - {"ORD-B", "ORD-9"})

    def test_keys_answer_retries_and_open_orders_keep_theirs(self, store: EventStore) -> None:
        desk = Desk()
        store.commit(desk.accept("ORD-1", client_order_id="C-1"))
        store.commit(desk.accept("ORD-2", client_order_id="C-2", status="FILLED"))
        store.commit(a_batch([an_input(3, order_id=None)], keys=[a_key("fix:S1:3", 3, None)]))
        found = store.find_key("client:rest:FUND-A:C-2")
        assert found is not None
        assert found.order_id == "ORD-2"
        assert store.find_key("client:rest:FUND-A:C-404") is None
        assert [k.key for k in store.keys_of_open_orders()] == ["client:rest:FUND-A:C-1"]

    def test_positions_come_by_account_and_instrument(self, store: EventStore) -> None:
        rows = [a_position("FUND-B", "ACME"), a_position("FUND-A", "ZETA"), a_position()]
        store.commit(a_batch(positions=rows))
        assert [(p.account, p.instrument) for p in store.load_positions()] == [
            ("FUND-A", "ACME"),
            ("FUND-A", "ZETA"),
            ("FUND-B", "ACME"),
        ]

    def test_active_fills_come_in_booking_order_without_busted_ones(
        self, store: EventStore
    ) -> None:
        fills = [
            a_fill("ORD-2-F1", order_id="ORD-2", booked_seq=9),
            a_fill("ORD-1-F1", booked_seq=3),
            a_fill("ORD-1-F2", booked_seq=5, state="BUSTED"),
            a_fill("ORD-1-F3", booked_seq=7, late=True),
            a_fill("ORD-3-F1", order_id="ORD-3", booked_seq=4, account="FUND-B"),
            a_fill("ORD-4-F1", order_id="ORD-4", booked_seq=6, instrument="ZETA"),
        ]
        store.commit(a_batch(fills=fills))
        active = store.active_fills("FUND-A", "ACME")
        assert [f.fill_id for f in active] == ["ORD-1-F1", "ORD-1-F3", "ORD-2-F1"]
        assert store.active_fills("FUND-C", "ACME") == []


class TestReadingTheLog:
    def test_events_and_inputs_page_by_sequence(self, store: EventStore) -> None:
        desk = Desk()
        for n in range(1, 8):
            store.commit(desk.accept(f"ORD-{n}"))
        assert [e.event_seq for e in store.read_events()] == [1, 2, 3, 4, 5, 6, 7]
        assert [e.event_seq for e in store.read_events(after_seq=2, limit=3)] == [3, 4, 5]
        assert [e.event_seq for e in store.read_events(after_seq=7)] == []
        assert [i.input_seq for i in store.read_inputs(after_seq=5, limit=10)] == [6, 7]
        assert [i.input_seq for i in store.read_inputs(limit=2)] == [1, 2]

    def test_event_rows_are_the_events_replay_needs_exactly(self, store: EventStore) -> None:
        desk = Desk()
        for n in range(1, 8):
            store.commit(desk.accept(f"ORD-{n}"))
        fields = ("event_seq", "input_seq", "order_id", "type", "schema_version", "payload")
        expected = [tuple(getattr(e, f) for f in fields) for e in store.read_events()]
        rows = store.read_event_rows()
        assert rows == expected
        assert [tuple(type(v) for v in row) for row in rows] == [
            (int, int, str, str, int, bytes)
        ] * len(rows)
        assert store.read_event_rows(after_seq=2, limit=3) == expected[2:5]
        assert store.read_event_rows(after_seq=7) == []

    def test_inputs_by_seq_in_sequence_order_skipping_unknown_ones(self, store: EventStore) -> None:
        store.commit(a_batch([an_input(n) for n in range(1, 6)]))
        found = store.inputs_by_seq([5, 2, 99, 2, 4])
        assert [i.input_seq for i in found] == [2, 4, 5]
        assert store.inputs_by_seq([]) == []

    def test_inputs_from_one_source_of_one_kind_in_sequence_order(self, store: EventStore) -> None:
        copies = [an_input(n, kind="DROP_COPY", source="dropcopy:SIM", raw=b"35=8") for n in (2, 5)]
        other = an_input(3, kind="DROP_COPY", source="dropcopy:BRKR")
        store.commit(a_batch([an_input(1), copies[0], other, an_input(4), copies[1]]))
        assert store.inputs_from("DROP_COPY", "dropcopy:SIM") == copies
        assert store.inputs_from("DROP_COPY", "dropcopy:NONE") == []

    def test_inputs_by_seq_takes_more_than_one_query_worth(self, store: EventStore) -> None:
        store.commit(a_batch([an_input(n) for n in range(1, 1202)]))
        found = store.inputs_by_seq(list(range(1201, 0, -2)))
        assert [i.input_seq for i in found] == list(range(1, 1202, 2))

    def test_an_orders_events_come_in_version_order(self, store: EventStore) -> None:
        events = [
            an_event(3, order_id="ORD-1", version=2),
            an_event(4, order_id="ORD-2", version=1),
            an_event(1, order_id="ORD-1", version=1),
            an_event(6, order_id="ORD-1", version=3),
        ]
        store.commit(a_batch(events=events))
        assert [(e.event_seq, e.order_version) for e in store.events_for_order("ORD-1")] == [
            (1, 1),
            (3, 2),
            (6, 3),
        ]
        assert store.events_for_order("ORD-404") == []

    def test_inputs_are_counted_by_outcome(self, store: EventStore) -> None:
        outcomes = ["APPLIED", "DUPLICATE", "APPLIED", "REJECTED", "DUPLICATE", "APPLIED"]
        store.commit(a_batch([an_input(n, outcome=o) for n, o in enumerate(outcomes, 1)]))
        assert store.count_inputs_by_outcome() == {"APPLIED": 3, "DUPLICATE": 2, "REJECTED": 1}


MICROSECOND, DAY = timedelta(microseconds=1), timedelta(days=1)


class TestReadingTheProjections:
    @pytest.fixture
    def desk_day(self, store: EventStore) -> EventStore:
        store.commit(
            a_batch(
                orders=[an_order("ORD-1"), an_order("ORD-2"), an_order("ORD-3")],
                links=[
                    a_link("CL_ORD_ID", "ORD-1-C1", "ORD-1"),
                    a_link("CL_ORD_ID", "ORD-1-C2", "ORD-1", 5, "REPLACE of ORD-1-C1"),
                    a_link("VENUE_ORDER_ID", "SIM:SIM-0001", "ORD-1", 2),
                    a_link("VENUE_ORDER_ID", "SIM:V-7", "ORD-2", 2),
                    a_link("VENUE_ORDER_ID", "XNAS:V-7", "ORD-3", 2),
                    a_link("CLIENT_ORDER_ID", "FUND-A:C-100", "ORD-1"),
                    a_link("CLIENT_ORDER_ID", "FUND-A:C-200", "ORD-2"),
                    a_link("CLIENT_ORDER_ID", "FUND-B:C-200", "ORD-3"),
                    a_link("CLIENT_ORDER_ID", "FUND-B:X:7", "ORD-3", 2),
                ],
            )
        )
        return store

    @pytest.mark.parametrize(
        ("ref", "order_id"),
        [
            ("ORD-2", "ORD-2"),
            ("ORD-1-C2", "ORD-1"),
            ("SIM:SIM-0001", "ORD-1"),
            ("SIM-0001", "ORD-1"),  # a venue's bare id, while only one order has it
            ("SIM:V-7", "ORD-2"),
            ("XNAS:V-7", "ORD-3"),  # two venues, one id: each leads to its own order
            ("V-7", None),
            ("FUND-A:C-100", "ORD-1"),
            ("C-100", "ORD-1"),
            ("FUND-B:C-200", "ORD-3"),
            ("X:7", "ORD-3"),
            ("C-200", None),
            ("NOPE", None),
            ("", None),
        ],
    )
    def test_an_order_is_found_by_any_of_its_ids(
        self, desk_day: EventStore, ref: str, order_id: str | None
    ) -> None:
        assert desk_day.resolve_order_ref(ref) == order_id

    def test_an_orders_fills_links_and_exceptions(self, store: EventStore) -> None:
        store.commit(
            a_batch(
                links=[
                    a_link("VENUE_ORDER_ID", "SIM-1", "ORD-1", 2),
                    a_link("CL_ORD_ID", "ORD-1-C1", "ORD-1", 1),
                    a_link("CHILD", "ORD-1.1", "ORD-1", 3),
                    a_link("CL_ORD_ID", "ORD-2-C1", "ORD-2", 1),
                ],
                fills=[
                    a_fill("ORD-1-F2", booked_seq=8),
                    a_fill("ORD-1-F1", booked_seq=4),
                    a_fill("ORD-2-F1", order_id="ORD-2", booked_seq=5),
                ],
                exceptions=[
                    an_exception("ORD-1-X2", input_seq=9, kind="OVERFILL"),
                    an_exception("ORD-1-X1", input_seq=6),
                    an_exception("NONE-X1", order_id=None, input_seq=7, kind="UNKNOWN_ORDER"),
                ],
            )
        )
        assert [f.fill_id for f in store.fills_for_order("ORD-1")] == ["ORD-1-F1", "ORD-1-F2"]
        assert [(k.kind, k.ref) for k in store.links_for_order("ORD-1")] == [
            ("CL_ORD_ID", "ORD-1-C1"),
            ("VENUE_ORDER_ID", "SIM-1"),
            ("CHILD", "ORD-1.1"),
        ]
        assert [x.exception_id for x in store.exceptions_for_order("ORD-1")] == [
            "ORD-1-X1",
            "ORD-1-X2",
        ]
        assert store.fills_for_order("ORD-404") == []

    @pytest.mark.parametrize("table", PROJECTION_TABLES)
    def test_read_table_gives_every_column_by_primary_key(
        self, store: EventStore, table: str
    ) -> None:
        a_day(store)
        store.commit(
            a_batch(
                positions=[a_position("FUND-B"), a_position("FUND-A", "ZETA"), a_position()],
                exceptions=[an_exception("ORD-2-X1"), an_exception("ORD-1-X1")],
            )
        )
        rows = list(store.read_table(table))
        assert rows
        assert all(list(r) == list(column_names(ROW_TYPES[table])) for r in rows)
        key = {"order_links": ("kind", "ref"), "positions": ("account", "instrument")}.get(
            table, (column_names(ROW_TYPES[table])[0],)
        )
        keys = [tuple(r[k] for k in key) for r in rows]
        assert keys == sorted(keys)
        assert len(set(keys)) == len(keys)
        kinds = {c.name: KIND_TYPES[c.kind] for c in columns_of(ROW_TYPES[table])}
        for row in rows:
            wrong = {k: v for k, v in row.items() if v is not None and type(v) is not kinds[k]}
            assert wrong == {}

    def test_read_table_walks_a_table_larger_than_a_page(
        self, store: EventStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sqlbase, "PAGE_ROWS", 3)
        links = [a_link(k, f"R-{n}", f"ORD-{n}") for k in ("CL_ORD_ID", "CHILD") for n in range(5)]
        store.commit(a_batch(links=links))
        rows = list(store.read_table("order_links"))
        assert [(r["kind"], r["ref"]) for r in rows] == sorted((lk.kind, lk.ref) for lk in links)

    def test_text_keys_sort_by_code_point_in_every_store(self, store: EventStore) -> None:
        ids = ["ord-b", "ORD-B", "Ord-\u00e9", "ORD-a", "ORD-\u00c9", "ORD-_", "ORD-10", "ORD-9"]
        store.commit(a_batch(orders=[an_order(i) for i in ids]))
        assert [r["order_id"] for r in store.read_table("orders")] == sorted(ids)

    def test_select_rows_filters_in_the_store_by_key_after_a_cursor(
        self, store: EventStore
    ) -> None:
        orders = [
            an_order("ORD-1", status="NEW", account="FUND-A"),
            an_order("ORD-2", status="FILLED", account="FUND-A"),
            an_order("ORD-3", status="NEW", account="FUND-B"),
            an_order("ORD-4", status="NEW", account="FUND-C"),
            an_order("ORD-5", status="NEW", account="FUND-A", instrument="BOLT"),
        ]
        store.commit(a_batch(orders=orders))

        def ids(**kw: Any) -> list[str]:
            where = kw.pop("where")
            return [row["order_id"] for row in store.select_rows("orders", where, **kw)]

        assert ids(where={"status": "NEW"}) == ["ORD-1", "ORD-3", "ORD-4", "ORD-5"]
        assert ids(where={"status": "NEW", "account": {"FUND-A", "FUND-B"}}) == [
            "ORD-1", "ORD-3", "ORD-5",
        ]  # fmt: skip
        assert ids(where={"status": "NEW"}, after="ORD-1", limit=2) == ["ORD-3", "ORD-4"]
        assert ids(where={"account": "FUND-A", "instrument": "BOLT"}) == ["ORD-5"]
        assert ids(where={"account": set()}) == []
        assert ids(where={}) == ["ORD-1", "ORD-2", "ORD-3", "ORD-4", "ORD-5"]
        [row] = store.select_rows("orders", {"order_id": "ORD-2"})
        assert exact(row) == exact(_as_dict(orders[1]))

    def test_one_trade_days_fills_by_trade_date_or_else_by_event_time(
        self, store: EventStore
    ) -> None:
        day = date(2026, 3, 2)
        midnight = datetime(2026, 3, 3, tzinfo=UTC)
        undated = {"trade_date": None}
        fills = [
            a_fill("F-1"),  # trade date 2 March
            replace(a_fill("F-2", booked_seq=2), state="BUSTED"),  # busted, still that day's
            replace(a_fill("F-3", booked_seq=3), trade_date=date(2026, 3, 3)),  # next day's
            replace(a_fill("F-4", booked_seq=4), **undated, event_time=midnight - MICROSECOND),
            replace(a_fill("F-5", booked_seq=5), **undated, event_time=midnight),
            replace(a_fill("F-6", booked_seq=6), **undated, event_time=midnight - DAY),
        ]
        store.commit(a_batch(fills=fills))
        assert [f.fill_id for f in store.fills_traded_on(day)] == ["F-1", "F-2", "F-4", "F-6"]
        assert [f.fill_id for f in store.fills_traded_on(day + DAY)] == [
            "F-3", "F-5",
        ]  # fmt: skip
        assert store.fills_traded_on(date(2026, 3, 1)) == []
        assert exact(store.fills_traded_on(day)[0]) == exact(fills[0])

    def test_select_rows_refuses_what_it_cannot_filter(self, store: EventStore) -> None:
        with pytest.raises(StoreError):
            store.select_rows("positions", {})
        with pytest.raises(StoreError):
            store.select_rows("orders", {"qty": "10"})

    def test_read_table_refuses_a_table_that_is_not_a_projection(self, store: EventStore) -> None:
        with pytest.raises(StoreError):
            store.read_table("events")

    def test_replace_projections_swaps_every_table_at_once(self, store: EventStore) -> None:
        a_day(store)
        log_before = exact((store.read_inputs(), store.read_events(), store.head()))
        rebuilt = projections(
            orders=[an_order("ORD-7")],
            links=[a_link("CL_ORD_ID", "ORD-7-C1", "ORD-7")],
            positions=[a_position("FUND-Z")],
        )
        assert store.projection_version() == 1
        store.replace_projections(rebuilt, 2)
        assert store.projection_version() == 2
        assert [r["order_id"] for r in store.read_table("orders")] == ["ORD-7"]
        assert [r["ref"] for r in store.read_table("order_links")] == ["ORD-7-C1"]
        assert list(store.read_table("fills")) == []
        assert [p.account for p in store.load_positions()] == ["FUND-Z"]
        assert list(store.read_table("exceptions")) == []
        assert exact((store.read_inputs(), store.read_events(), store.head())) == log_before

    def test_a_replacement_that_fails_keeps_the_old_projections(self, store: EventStore) -> None:
        a_day(store)
        before = everything_in(store)
        bad = projections(orders=[an_order("ORD-7")], fills=[replace(a_fill("F-1"), price=10.05)])
        with pytest.raises(StoreError):
            store.replace_projections(bad, 3)
        assert everything_in(store) == before
        assert store.projection_version() == 1


EDGE_ORDER = replace(
    an_order("ORD-EDGE"),
    qty=Decimal("1000.00"),
    limit_price=Decimal("0.000001"),
    stop_price=Decimal("123456789012345678901234567890.123456789"),
    cum_qty=Decimal("-0.00"),
    leaves_qty=Decimal("1E+3"),
    avg_px=Decimal("10.050"),
    cum_notional=Decimal("0E-8"),
    expire_time=datetime(2026, 3, 2, 21, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5))),
    created_at=datetime(2026, 3, 2, 14, 30, 0, 999999, tzinfo=UTC),
)
"""An order whose values are hard to keep exactly."""

EDGE_ORDER_STORED = replace(
    EDGE_ORDER,
    cum_qty=Decimal("0.00"),
    leaves_qty=Decimal("1000"),
    expire_time=datetime(2026, 3, 3, 2, 0, 0, 1, tzinfo=UTC),
)
"""What every store gives back: negative zero and E+ exponents as NUMERIC keeps them."""


FIX_T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def _sent(seq: int, epoch: int = 1, session: str = "FIX.4.4:KEEL->SIM") -> FixMessageRow:
    return FixMessageRow(session, epoch, seq, "D", f"8=FIX.4.4|34={seq}|".encode(), FIX_T0)


class TestFixSessions:
    def test_a_session_row_is_saved_and_read_back(self, store: EventStore) -> None:
        assert store.fix_session("FIX.4.4:KEEL->SIM") is None
        row = FixSessionRow("FIX.4.4:KEEL->SIM", 1, 1, 1, FIX_T0)
        store.save_fix_session(row)
        assert store.fix_session("FIX.4.4:KEEL->SIM") == row

    def test_sent_messages_are_kept_and_move_the_next_sender_number(
        self, store: EventStore
    ) -> None:
        store.save_fix_session(FixSessionRow("FIX.4.4:KEEL->SIM", 1, 1, 1, FIX_T0))
        store.store_fix_messages([_sent(1), _sent(2)])
        store.store_fix_messages([_sent(3)])
        assert [m.seq for m in store.fix_messages("FIX.4.4:KEEL->SIM", 1, 2, 9)] == [2, 3]
        assert store.fix_messages("FIX.4.4:KEEL->SIM", 1, 1, 1) == [_sent(1)]
        session = store.fix_session("FIX.4.4:KEEL->SIM")
        assert session is not None
        assert session.next_sender == 4

    def test_a_message_number_stored_twice_is_refused_and_nothing_written(
        self, store: EventStore
    ) -> None:
        store.save_fix_session(FixSessionRow("FIX.4.4:KEEL->SIM", 1, 1, 1, FIX_T0))
        store.store_fix_messages([_sent(1)])
        with pytest.raises(StoreError):
            store.store_fix_messages([_sent(2), _sent(1)])
        assert [m.seq for m in store.fix_messages("FIX.4.4:KEEL->SIM", 1, 1, 9)] == [1]

    def test_the_sequencers_batch_moves_the_expected_number_forward_only(
        self, store: EventStore
    ) -> None:
        sid = "FIX.4.4:KEEL->SIM"
        store.save_fix_session(FixSessionRow(sid, 2, 1, 10, FIX_T0))
        desk = Desk()
        store.commit(replace(desk.accept("ORD-1"), fix_targets={sid: (2, 15)}))
        store.commit(replace(desk.accept("ORD-2"), fix_targets={sid: (2, 12)}))
        store.commit(replace(desk.accept("ORD-3"), fix_targets={sid: (1, 99)}))  # older epoch
        session = store.fix_session(sid)
        assert session is not None
        assert (session.epoch, session.next_target) == (2, 15)

    def test_a_reset_keeps_the_earlier_epochs_messages(self, store: EventStore) -> None:
        sid = "FIX.4.4:KEEL->SIM"
        store.save_fix_session(FixSessionRow(sid, 1, 1, 1, FIX_T0))
        store.store_fix_messages([_sent(1)])
        store.save_fix_session(FixSessionRow(sid, 2, 1, 1, FIX_T0 + timedelta(days=1)))
        store.store_fix_messages([_sent(1, epoch=2)])
        assert len(store.fix_messages(sid, 1, 1, 1)) == 1
        assert len(store.fix_messages(sid, 2, 1, 1)) == 1


class TestUsers:
    def test_a_user_is_found_by_the_digest_of_their_key(self, store: EventStore) -> None:
        alice = UserRow("alice", "trader", ("FUND-A", "FUND-B"), FIX_T0)
        key = ApiKeyRow("d1" * 32, "alice", "keel_abc", FIX_T0)
        store.save_user(alice, key)
        store.save_user(UserRow("bob", "viewer", ("FUND-A",), FIX_T0))
        assert store.user_by_key("d1" * 32) == (alice, key)
        assert store.user_by_key("ff" * 32) is None
        assert [u.name for u in store.users()] == ["alice", "bob"]

    def test_revoking_a_user_revokes_their_keys(self, store: EventStore) -> None:
        store.save_user(UserRow("alice", "trader", ("FUND-A",), FIX_T0),
                        ApiKeyRow("d1" * 32, "alice", "keel_abc", FIX_T0))  # fmt: skip
        later = FIX_T0 + timedelta(hours=1)
        assert store.revoke_user("alice", later) is True
        assert store.revoke_user("nobody", later) is False
        found = store.user_by_key("d1" * 32)
        assert found is not None
        user, key = found
        assert (user.revoked_at, key.revoked_at) == (later, later)

    def test_a_key_digest_saved_twice_is_refused(self, store: EventStore) -> None:
        key = ApiKeyRow("d1" * 32, "alice", "keel_abc", FIX_T0)
        store.save_user(UserRow("alice", "trader", ("FUND-A",), FIX_T0), key)
        with pytest.raises(StoreError):
            store.save_user(UserRow("mallory", "admin", ("FUND-A",), FIX_T0), key)
        assert [u.name for u in store.users()] == ["alice"]


class TestHalts:
    def test_halts_are_saved_listed_and_lifted(self, store: EventStore) -> None:
        fund_a = HaltRow("FUND-A", "runaway algo", "user:rita", FIX_T0)
        everything = HaltRow("*", "exchange outage", "user:rita", FIX_T0)
        store.save_halt(fund_a)
        store.save_halt(everything)
        assert store.halts() == [everything, fund_a]
        assert store.lift_halt("FUND-A") is True
        assert store.lift_halt("FUND-A") is False
        assert store.halts() == [everything]


class TestReconRuns:
    def test_runs_come_back_whole_newest_first(self, store: EventStore) -> None:
        done = FIX_T0 + timedelta(seconds=2)
        first = ReconRunRow("RUN-1", "SIM", "2026-03-02", FIX_T0, done, "user:olga", "BREAKS",
                            '{"matched": 10}', '[{"kind": "X"}]')  # fmt: skip
        second = replace(first, run_id="RUN-2", started_at=FIX_T0 + timedelta(minutes=5),
                         result="CLEAN", breaks="[]", trade_date=None)  # fmt: skip
        store.save_recon_run(first)
        store.save_recon_run(second)
        assert store.recon_run("RUN-1") == first
        assert store.recon_run("NOPE") is None
        assert store.recon_runs() == [second, first]
        assert store.recon_runs(limit=1) == [second]

    def test_a_run_id_is_saved_once(self, store: EventStore) -> None:
        run = ReconRunRow("RUN-1", "SIM", None, FIX_T0, FIX_T0, "system", "CLEAN", "{}", "[]")
        store.save_recon_run(run)
        with pytest.raises(StoreError):
            store.save_recon_run(run)


class TestAudit:
    def test_audited_requests_come_back_in_order_with_their_ids(self, store: EventStore) -> None:
        first = AuditRow(FIX_T0, "user:alice", "10.0.0.7:51234", "POST", "/v1/orders",
                         b'{"qty": "100"}', 201, (11, 12))  # fmt: skip
        second = AuditRow(FIX_T0 + timedelta(seconds=1), "user:alice", "10.0.0.7:51234",
                          "POST", "/v1/orders/K1/cancel", None, 404, ())  # fmt: skip
        store.record_audit(first)
        store.record_audit(second)
        rows = store.audit()
        assert [r.audit_id for r in rows] == [1, 2]
        assert rows[0] == replace(first, audit_id=1)
        assert rows[1] == replace(second, audit_id=2)
        assert store.audit(after_id=1) == [rows[1]]
        assert store.audit(limit=1) == [rows[0]]


class TestValues:
    def test_values_come_back_exactly(self, store: EventStore) -> None:
        fill = replace(
            a_fill("F-1"), trade_date=date(2026, 12, 31), late=True, price=Decimal("10.00")
        )
        quiet = replace(a_fill("F-2", booked_seq=2), trade_date=None, cl_ord_id=None)
        key = replace(a_key("k", 1), answer=b"")
        store.commit(
            a_batch(
                [an_input(1, raw=b"\x00\xff 8=FIX"), an_input(2, order_id=None)],
                keys=[key],
                orders=[EDGE_ORDER],
                fills=[fill, quiet],
            )
        )
        assert exact(store.read_inputs()) == exact(
            [an_input(1, raw=b"\x00\xff 8=FIX"), an_input(2, order_id=None)]
        )
        assert exact(store.find_key("k")) == exact(key)
        assert exact(list(store.read_table("orders"))) == exact([_as_dict(EDGE_ORDER_STORED)])
        assert exact(store.fills_for_order("ORD-1")) == exact([fill, quiet])

    def test_every_nullable_column_keeps_none(self, store: EventStore) -> None:
        order = replace(
            an_order(limit_price=None),
            stop_price=None,
            expire_time=None,
            venue=None,
            client_order_id=None,
            parent_id=None,
            venue_order_id=None,
        )
        exception = an_exception(order_id=None)
        store.commit(
            a_batch(
                [an_input(1, order_id=None, key=None, raw=None)],
                keys=[a_key("k", 1, None)],
                orders=[order],
                exceptions=[exception],
            )
        )
        assert exact(store.read_inputs()) == exact([an_input(1, order_id=None)])
        assert exact(store.find_key("k")) == exact(a_key("k", 1, None))
        assert exact(list(store.read_table("orders"))) == exact([_as_dict(order)])
        assert exact(list(store.read_table("exceptions"))) == exact([_as_dict(exception)])

    def test_times_in_other_zones_come_back_in_utc(self, store: EventStore) -> None:
        tokyo = timezone(timedelta(hours=9))
        inp = replace(an_input(1), ingest_time=datetime(2026, 3, 2, 23, 30, tzinfo=tokyo))
        store.commit(a_batch([inp]))
        (back,) = store.read_inputs()
        assert back.ingest_time == T0
        assert back.ingest_time.tzinfo is UTC

    def test_a_time_shared_by_many_rows_and_batches_comes_back_right_everywhere(
        self, store: EventStore
    ) -> None:
        now = at(1.5)  # one clock reading: the input's, its event's and its order's
        same_instant = now.astimezone(timezone(timedelta(hours=-5)))
        store.commit(
            a_batch(
                [replace(an_input(1), processed_time=now, ingest_time=same_instant)],
                [replace(an_event(1), recorded_at=now)],
                orders=[replace(an_order(), updated_at=now, created_at=T0)],
            )
        )
        later = at(2)
        store.commit(
            a_batch(
                [replace(an_input(2), processed_time=later, ingest_time=now)],
                orders=[replace(an_order(version=2), updated_at=later, created_at=T0)],
            )
        )
        first, second = store.read_inputs()
        assert (first.ingest_time, first.processed_time) == (now, now)
        assert (second.ingest_time, second.processed_time) == (now, later)
        assert {type(t.tzinfo) for t in (first.ingest_time, second.ingest_time)} == {type(UTC)}
        assert store.read_events()[0].recorded_at == now
        (order,) = store.read_table("orders")
        assert (order["created_at"], order["updated_at"]) == (T0, later)
        naive = now.replace(tzinfo=None)
        with pytest.raises(StoreError, match="naive"):
            store.commit(a_batch([replace(an_input(3), processed_time=naive)]))

    def test_str_subclasses_are_kept_as_their_plain_string(self, store: EventStore) -> None:
        class Venue(str, Enum):  # noqa: UP042 (its str() is "Venue.SIM", not its value)
            SIM = "SIM"

        order = replace(
            an_order(),
            side=Side.BUY,
            ord_type=OrdType.LIMIT,
            tif=TimeInForce.DAY,
            status=OrderStatus.PARTIALLY_FILLED,
            venue=Venue.SIM,
        )
        inp = replace(an_input(1), kind=InputKind.FILL, outcome=Outcome.APPLIED)
        store.commit(a_batch([inp], orders=[order], fills=[replace(a_fill("F-1"), side=Side.BUY)]))
        plain = replace(
            an_order(), status="PARTIALLY_FILLED", venue="SIM", side="BUY", ord_type="LIMIT"
        )
        assert exact(list(store.read_table("orders"))) == exact([_as_dict(plain)])
        assert exact(store.read_inputs()) == exact([replace(inp, kind="FILL", outcome="APPLIED")])
        assert exact(store.fills_for_order("ORD-1")) == exact([a_fill("F-1")])
        assert store.open_order_ids() == ["ORD-1"]

    def test_a_refused_value_is_named_by_its_table_and_column(self, store: EventStore) -> None:
        with pytest.raises(StoreError, match=r"positions\.net_qty: expected a Decimal"):
            store.commit(a_batch(positions=[replace(a_position(), net_qty=100.5)]))
        with pytest.raises(StoreError, match=r"exceptions\.summary may not be None"):
            store.commit(a_batch(exceptions=[replace(an_exception(), summary=None)]))
        assert store.head() == EMPTY_HEAD

    def test_two_rows_for_one_key_in_a_batch_keep_the_last(self, store: EventStore) -> None:
        first, last = an_order(), an_order(status="PARTIALLY_FILLED", cum_qty="100", version=2)
        rows = projections()
        rows.orders = {"a stale entry for ORD-1": first, "ORD-1": last}
        store.commit(CommitBatch([], [], [], rows))
        assert exact(list(store.read_table("orders"))) == exact([_as_dict(last)])


class TestDurableStores:
    def test_data_survives_close_and_reopen(self, durable_backend: Any) -> None:
        first = durable_backend.open()
        first.migrate()
        desk = a_day(first)
        before = everything_in(first)
        first.close()
        again = durable_backend.open()
        assert again.migrate() == LATEST
        assert everything_in(again) == before
        assert again.head().last_hash == desk.last_hash

    def test_a_newer_schema_in_the_database_raises_schema_error(self, durable_backend: Any) -> None:
        future = [*MIGRATIONS, Migration(LATEST + 1, "something a newer Keel adds", "", "")]
        newer = durable_backend.open(future)
        assert newer.migrate() == LATEST + 1
        newer.close()
        older = durable_backend.open()
        assert older.schema_version() == LATEST + 1
        with pytest.raises(SchemaError, match="newer"):
            older.migrate()

    def test_a_later_migration_applies_on_top_of_the_first(self, durable_backend: Any) -> None:
        first = durable_backend.open()
        first.migrate()
        a_day(first)
        first.close()
        later = durable_backend.open([*MIGRATIONS, Migration(LATEST + 1, "a no-op", "", "")])
        assert later.migrate() == LATEST + 1
        assert later.head().last_event_seq == 4


@pytest.mark.postgres
def test_the_three_stores_read_back_identical_values(every_store: dict[str, Any]) -> None:
    for store in every_store.values():
        a_day(store)
        store.commit(a_batch(orders=[EDGE_ORDER], exceptions=[an_exception()]))
    seen = {name: everything_in(store) for name, store in every_store.items()}
    assert seen["sqlite"] == seen["memory"]
    assert seen["postgres"] == seen["memory"]
