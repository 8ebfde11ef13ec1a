"""The sequencer: durable before released, duplicates harmless, restartable, replayable."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from keel.adapters.clock import ManualClock
from keel.adapters.store.memory import MemoryStore
from keel.app import replay
from keel.app.chain import verify_chain
from keel.app.errors import SequencerStoppedError, StoreError
from keel.app.projector import PROJECTION_VERSION
from keel.app.queries import order_history
from keel.app.records import CommitBatch
from keel.app.sequencer import Result, Sequencer
from keel.domain.enums import (
    ExceptionKind,
    OrderStatus,
    Outcome,
    ResolutionKind,
    WorkflowAction,
)
from keel.domain.ids import ClientOrderId, ClOrdId, ExecId, OrderId, VenueOrderId
from keel.domain.inputs import (
    CancelAck,
    CancelRequest,
    DropCopyReport,
    ExceptionWork,
    Fill,
    Input,
    NewOrderAccepted,
    SentToVenue,
    VenueAck,
)
from support.builders import T0, spec

VENUE = "venue:SIM"


def clock() -> ManualClock:
    return ManualClock(T0, timedelta(milliseconds=1))


def stamp(order_id: str) -> dict[str, object]:
    return {"order_id": OrderId(order_id), "ingest_time": T0, "event_time": T0}


def new(order_id: str, qty: int = 300, client_order_id: str | None = None) -> NewOrderAccepted:
    return NewOrderAccepted(
        **stamp(order_id),  # type: ignore[arg-type]
        spec=spec(qty),
        cl_ord_id=ClOrdId(f"{order_id}.1"),
        client_order_id=ClientOrderId(client_order_id) if client_order_id else None,
        actor="alice",
    )


def sent(order_id: str) -> SentToVenue:
    return SentToVenue(**stamp(order_id), cl_ord_id=ClOrdId(f"{order_id}.1"))  # type: ignore[arg-type]


def ack(order_id: str, exec_id: str = "A") -> VenueAck:
    return VenueAck(
        **stamp(order_id),  # type: ignore[arg-type]
        exec_id=ExecId(f"{order_id}-{exec_id}"),
        venue_order_id=VenueOrderId(f"V-{order_id}"),
    )


def fill(order_id: str, exec_id: str, qty: int, cum: int, px: str = "10.00") -> Fill:
    return Fill(
        **stamp(order_id),  # type: ignore[arg-type]
        exec_id=ExecId(f"{order_id}-{exec_id}"),
        last_qty=Decimal(qty),
        last_px=Decimal(px),
        cum_qty=Decimal(cum),
        leaves_qty=Decimal(max(300 - cum, 0)),
    )


def source_of(inp: Input) -> str:
    return VENUE if hasattr(inp, "exec_id") else "client:test"


async def run(store: MemoryStore, *inputs: Input) -> list[Result]:
    seq = Sequencer(store, clock(), tune_collector=False)
    await seq.start()
    try:
        return [await seq.submit(i, source=source_of(i)) for i in inputs]
    finally:
        await seq.stop()


def test_an_order_lifecycle_is_durable_and_its_chain_verifies() -> None:
    store = MemoryStore()
    store.migrate()
    results = asyncio.run(run(store, new("O1"), sent("O1"), ack("O1"), fill("O1", "F1", 100, 100)))
    assert [r.outcome for r in results] == [Outcome.APPLIED] * 4
    assert results[-1].order is not None
    assert results[-1].order.status is OrderStatus.PARTIALLY_FILLED
    head = store.head()
    assert head.last_input_seq == 4
    assert head.last_event_seq == len(store.read_events(0, 100))
    assert verify_chain(store.read_events(0, 100)).ok
    assert replay.verify(store) == []


def test_nothing_is_released_before_its_batch_is_committed() -> None:
    gate = threading.Event()

    class SlowStore(MemoryStore):
        def commit(self, batch: CommitBatch) -> None:
            gate.wait(5)
            super().commit(batch)

    store = SlowStore()
    store.migrate()

    async def scenario() -> None:
        seq = Sequencer(store, clock(), tune_collector=False)
        await seq.start()
        future = seq.enqueue(new("O1"), source="client:test")
        await asyncio.sleep(0.05)
        assert not future.done()
        assert store.head().last_input_seq == 0
        gate.set()
        result = await future
        assert result.outcome is Outcome.APPLIED
        assert store.head().last_input_seq == 1
        await seq.stop()

    asyncio.run(scenario())


def test_duplicate_execution_is_recorded_as_a_duplicate_input_and_changes_nothing() -> None:
    store = MemoryStore()
    store.migrate()
    first = fill("O1", "F1", 100, 100)
    results = asyncio.run(run(store, new("O1"), sent("O1"), ack("O1"), first, first))
    assert results[-1].outcome is Outcome.DUPLICATE
    assert results[-1].duplicate_of == results[-2].input_seq
    assert results[-1].events == ()
    assert store.count_inputs_by_outcome()["DUPLICATE"] == 1
    assert len(store.fills_for_order("O1")) == 1


def test_evidence_is_recorded_with_its_raw_bytes_and_changes_no_order() -> None:
    store = MemoryStore()
    store.migrate()
    copy = DropCopyReport(
        **stamp("O1"),  # type: ignore[arg-type]
        broker="SIM", exec_id=ExecId("O1-F1"), exec_type="F", last_qty=Decimal(100),
    )  # fmt: skip

    async def main() -> list[Result]:
        seq = Sequencer(store, clock(), tune_collector=False)
        await seq.start()
        try:
            first = await seq.submit(copy, source="dropcopy:SIM", raw=b"8=FIX.4.4|35=8|")
            again = await seq.submit(copy, source="dropcopy:SIM", raw=b"8=FIX.4.4|35=8|")
            resent = await seq.submit(copy, source="dropcopy:SIM", idempotency_key="DC:1:7")
            retried = await seq.submit(copy, source="dropcopy:SIM", idempotency_key="DC:1:7")
            return [first, again, resent, retried]
        finally:
            await seq.stop()

    first, again, resent, retried = asyncio.run(main())

    # a broker's own duplicate is evidence too; only a redelivery of one message is not
    assert [r.outcome for r in (first, again, resent)] == [Outcome.RECORDED] * 3
    assert retried.outcome is Outcome.DUPLICATE
    assert first.events == ()
    assert first.order is None
    recorded = store.read_inputs()
    assert [r.kind for r in recorded] == ["DROP_COPY"] * 4
    assert recorded[0].raw == b"8=FIX.4.4|35=8|"
    assert store.read_events() == []
    assert list(store.read_table("orders")) == []


def test_an_ignored_report_redelivered_later_is_still_a_duplicate() -> None:
    """The state machine does not remember an ExecID it ignored; the keys do."""
    store = MemoryStore()
    store.migrate()
    late_ack = ack("O1", "A")
    results = asyncio.run(
        run(
            store,
            new("O1"),
            sent("O1"),
            fill("O1", "F1", 100, 100),  # overtakes the ack and implies it
            late_ack,  # ignored: already acknowledged
            late_ack,  # delivered again later
        )
    )
    assert results[3].outcome is Outcome.IGNORED
    assert results[4].outcome is Outcome.DUPLICATE


def test_a_retried_new_order_gets_the_original_answer() -> None:
    store = MemoryStore()
    store.migrate()
    first = new("O1", client_order_id="abc-1")
    retry = replace(first, order_id=OrderId("O1-retry"))
    results = asyncio.run(run(store, first, retry))
    assert results[1].outcome is Outcome.DUPLICATE
    assert results[1].answer["order_id"] == "O1"
    assert results[1].answer["status"] == OrderStatus.PENDING_NEW.value
    assert store.events_for_order("O1-retry") == []


def test_a_restarted_sequencer_continues_the_log_and_the_open_orders() -> None:
    store = MemoryStore()
    store.migrate()
    asyncio.run(run(store, new("O1"), sent("O1"), ack("O1"), fill("O1", "F1", 100, 100)))
    before = store.head()

    async def second_life() -> list[Result]:
        seq = Sequencer(store, clock(), tune_collector=False)
        await seq.start()
        assert OrderId("O1") in seq.open_orders
        out = [
            await seq.submit(fill("O1", "F1", 100, 100), source=VENUE),
            await seq.submit(fill("O1", "F2", 200, 300), source=VENUE),
        ]
        await seq.stop()
        return out

    dup, done = asyncio.run(second_life())
    assert dup.outcome is Outcome.DUPLICATE
    assert done.order is not None
    assert done.order.status is OrderStatus.FILLED
    assert store.head().last_input_seq == before.last_input_seq + 2
    assert verify_chain(store.read_events(0, 1000)).ok
    assert replay.verify(store) == []


def test_a_late_fill_for_a_closed_order_is_booked_and_flagged() -> None:
    store = MemoryStore()
    store.migrate()
    cancel = CancelRequest(**stamp("O1"), cl_ord_id=ClOrdId("O1.2"), actor="alice")  # type: ignore[arg-type]
    canceled = CancelAck(**stamp("O1"), exec_id=ExecId("O1-X"), cl_ord_id=ClOrdId("O1.2"))  # type: ignore[arg-type]
    results = asyncio.run(
        run(store, new("O1"), sent("O1"), ack("O1"), cancel, canceled, fill("O1", "L", 50, 50))
    )
    late = results[-1]
    assert late.order is not None
    assert late.order.status is OrderStatus.CANCELED
    assert [x.kind for x in late.exceptions] == [ExceptionKind.LATE_FILL]
    assert [x.kind for x in store.exceptions_for_order("O1")] == ["LATE_FILL"]
    positions = {(p.account, p.instrument): p for p in store.load_positions()}
    assert positions["FUND-A", "ACME"].net_qty == Decimal(50)
    history = order_history(store, "V-O1")
    assert history is not None
    assert history.facts[0] == "the cancel was requested before the first fill"
    assert replay.verify(store) == []


def test_inputs_arriving_together_are_committed_in_one_batch() -> None:
    store = MemoryStore()
    store.migrate()

    async def burst() -> Sequencer:
        seq = Sequencer(store, clock(), tune_collector=False)
        await seq.start()
        futures = [seq.enqueue(new(f"O{n}"), source="client:test") for n in range(500)]
        await asyncio.gather(*futures)
        await seq.stop()
        return seq

    seq = asyncio.run(burst())
    assert seq.committed_inputs == 500
    assert seq.batches < 10


def test_a_failed_commit_stops_the_sequencer_and_releases_nothing() -> None:
    class BrokenStore(MemoryStore):
        def commit(self, batch: CommitBatch) -> None:
            raise StoreError("disk full")

    store = BrokenStore()
    store.migrate()

    async def scenario() -> None:
        seq = Sequencer(store, clock(), tune_collector=False)
        await seq.start()
        future = seq.enqueue(new("O1"), source="client:test")
        with pytest.raises(SequencerStoppedError, match="disk full"):
            await future
        with pytest.raises(SequencerStoppedError):
            seq.enqueue(new("O2"), source="client:test")
        await seq.stop()

    asyncio.run(scenario())


def test_replay_finds_a_projection_row_changed_behind_the_logs_back() -> None:
    store = MemoryStore()
    store.migrate()
    asyncio.run(run(store, new("O1"), sent("O1"), ack("O1"), fill("O1", "F1", 100, 100)))
    rows = replay.rebuild_rows(store)
    rows.fills["O1-F1"] = replace(rows.fills["O1-F1"], qty=Decimal(99))
    store.replace_projections(rows, 1)
    differences = replay.verify(store)
    assert [(d.table, d.column) for d in differences] == [("fills", "qty")]
    replay.rebuild(store)
    assert replay.verify(store) == []


def test_a_closed_orders_keys_leave_memory_and_the_log_still_catches_its_duplicates() -> None:
    store = MemoryStore()
    store.migrate()
    first = fill("O1", "F1", 300, 300)

    async def scenario() -> list[Result]:
        seq = Sequencer(store, clock(), tune_collector=False)
        await seq.start()
        out = [await seq.submit(i, source=source_of(i)) for i in (new("O1"), sent("O1"), first)]
        assert OrderId("O1") not in seq.open_orders  # filled: closed
        assert not any(k.startswith("exec:") for k in seq._keys)  # the hot set forgot it
        out.append(await seq.submit(first, source=VENUE))
        await seq.stop()
        return out

    results = asyncio.run(scenario())
    assert results[-1].outcome is Outcome.DUPLICATE
    assert results[-1].duplicate_of == results[2].input_seq
    assert len(store.fills_for_order("O1")) == 1


def test_a_failing_subscriber_does_not_stop_the_sequencer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    store.migrate()
    seen: list[int] = []

    def broken(_: object) -> None:
        raise RuntimeError("bug in a subscriber")

    async def scenario() -> list[Result]:
        seq = Sequencer(store, clock(), tune_collector=False)
        seq.subscribe(broken)
        seq.subscribe(lambda committed: seen.extend(c.result.input_seq for c in committed))
        await seq.start()
        out = [await seq.submit(i, source="client:test") for i in (new("O1"), new("O2"))]
        await seq.stop()
        return out

    results = asyncio.run(scenario())
    assert [r.outcome for r in results] == [Outcome.APPLIED, Outcome.APPLIED]
    assert seen == [1, 2]
    assert "bug in a subscriber" in caplog.text


def test_tables_built_by_another_projection_version_are_reported_and_rebuilt() -> None:
    store = MemoryStore()
    store.migrate()
    asyncio.run(run(store, new("O1"), sent("O1")))
    store.replace_projections(replay.rebuild_rows(store), 0)  # as an older Keel left them
    assert [(d.table, d.column) for d in replay.verify(store)] == [
        ("projection_versions", "version")
    ]
    replay.rebuild(store)
    assert store.projection_version() == PROJECTION_VERSION
    assert replay.verify(store) == []


def test_a_bug_while_preparing_a_batch_fails_its_inputs_instead_of_hanging() -> None:
    class Buggy(Sequencer):
        def _order_for(self, inp: Input) -> None:  # type: ignore[override]
            raise RuntimeError("a bug in the state machine")

    store = MemoryStore()
    store.migrate()

    async def scenario() -> None:
        seq = Buggy(store, clock(), tune_collector=False)
        await seq.start()
        futures = [seq.enqueue(new(f"O{n}"), source="client:test") for n in range(3)]
        for future in futures:
            with pytest.raises(SequencerStoppedError, match="a bug in the state machine"):
                await asyncio.wait_for(future, 5)
        await seq.stop()

    asyncio.run(scenario())
    assert store.head().last_input_seq == 0


def test_a_report_for_an_unknown_order_opens_a_case_in_the_queue_that_is_worked() -> None:
    store = MemoryStore()
    store.migrate()
    stray = fill("NOBODY", "F1", 100, 100)

    async def main() -> list[Result]:
        seq = Sequencer(store, clock(), tune_collector=False)
        await seq.start()
        try:
            opened = await seq.submit(stray, source=VENUE)
            [record] = opened.exceptions
            case = OrderId(f"CASE:{record.exception_id}")

            def work(action: WorkflowAction, **terms: Any) -> ExceptionWork:
                return ExceptionWork(**stamp(case), exception_id=record.exception_id,  # type: ignore[arg-type]
                                     action=action, actor="user:olga", **terms)  # fmt: skip

            taken = await seq.submit(work(WorkflowAction.ACKNOWLEDGE), source="rest")
            booking = await seq.submit(
                work(WorkflowAction.RESOLVE, resolution=ResolutionKind.BOOKED_MISSING_FILL,
                     comment="book it", exec_id=ExecId("X"), qty=Decimal(1),
                     price=Decimal(1)),
                source="rest",
            )  # fmt: skip
            resolved = await seq.submit(
                work(WorkflowAction.RESOLVE, resolution=ResolutionKind.EXPLAINED,
                     comment="another desk's order"),
                source="rest",
            )  # fmt: skip
            again = await seq.submit(work(WorkflowAction.ACKNOWLEDGE), source="rest")
            return [opened, taken, booking, resolved, again]
        finally:
            await seq.stop()

    opened, taken, booking, resolved, again = asyncio.run(main())

    assert opened.outcome is Outcome.CONFLICT
    [row] = list(store.read_table("exceptions"))
    assert (row["kind"], row["order_id"], row["status"]) == ("UNKNOWN_ORDER", None, "RESOLVED")
    assert (row["assignee"], row["resolved_by"]) == ("user:olga", "user:olga")
    assert taken.outcome is Outcome.APPLIED
    assert booking.outcome is Outcome.REFUSED
    assert "no order to book" in booking.note
    assert resolved.outcome is Outcome.APPLIED
    assert again.outcome is Outcome.REFUSED
    assert replay.verify(store) == []
    assert list(store.read_table("orders")) == []
