"""The sequencer: the single writer of order state.

Inputs arrive on an asyncio queue in arrival order. The sequencer takes whatever has queued
(up to ``max_batch``), applies the state machine to each input in turn, and commits the
batch's inputs, events, idempotency keys and projection rows in one transaction (group
commit). Only after that commit does it release anything: the answers to the callers, the
effects (venue messages, timers) and the committed events to subscribers. While batch k is
being committed on a worker thread, batch k+1 is computed; its effects still wait for its
own commit.

A failed commit stops the sequencer (fail-stop): in-memory state may be ahead of the log, so
the process must restart and reload from the store. Nothing that was not committed was
released.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime

from keel.app import codec
from keel.app.chain import link_hash
from keel.app.errors import SequencerStoppedError
from keel.app.overlay import StoreOverlay
from keel.app.ports import Clock, EventStore
from keel.app.projector import Projector
from keel.app.records import (
    CommitBatch,
    EventRecord,
    IdempotencyRecord,
    InputRecord,
    LogHead,
    ProjectionRows,
)
from keel.app.replay import load_case, load_order
from keel.app.results import (
    Committed,
    IsoText,
    Result,
    Subscriber,
    actor_of,
    answer_bytes,
    answer_of,
    key_for,
    result_of,
)
from keel.app.runtime import tune_gc
from keel.domain.cases import Case, fold_case, is_case, work_case
from keel.domain.enums import TERMINAL_STATUSES, ExceptionStatus, Outcome
from keel.domain.events import Event
from keel.domain.ids import OrderId
from keel.domain.inputs import (
    EVIDENCE_KINDS,
    Input,
    NewOrderAccepted,
    NewOrderDenied,
    VenueReport,
)
from keel.domain.order import Order
from keel.domain.positions import Position
from keel.domain.state_machine import DEFAULT_POLICY, Policy, Transition, apply


@dataclass(slots=True)
class _Submission:
    inp: Input
    source: str
    raw: bytes | None
    key: str | None
    future: asyncio.Future[Result]
    fix: FixPosition | None = None


@dataclass(slots=True)
class _Prepared:
    batch: CommitBatch
    released: list[tuple[_Submission, Result, tuple[EventRecord, ...]]]
    closed: list[tuple[OrderId, int]]
    """Orders that closed in this batch, with the version they closed at."""
    orphan_keys: list[str]
    """Keys of inputs that created no order (unknown order): forgotten once committed."""


log = logging.getLogger(__name__)

FixPosition = tuple[str, int, int]
"""Where an input's FIX message stood in its session: ``(session_id, epoch, MsgSeqNum)``."""

__all__ = ["Committed", "Result", "Sequencer", "Subscriber", "key_for"]

_DUPLICATE = Outcome.DUPLICATE
_RECORDED = Transition(None, (), (), (), Outcome.RECORDED, "recorded as evidence")
_SCHEMA_VERSION = codec.SCHEMA_VERSION


class Sequencer:
    """The one writer: applies inputs in arrival order, commits in groups, then releases."""

    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        policy: Policy = DEFAULT_POLICY,
        partition: int = 0,
        max_batch: int = 1_000,
        tune_collector: bool = True,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._partition = partition
        self._max_batch = max_batch
        self._tune_collector = tune_collector
        self._queue: asyncio.Queue[_Submission | None] = asyncio.Queue()
        self._orders: dict[OrderId, Order] = {}
        self._keys: dict[str, IdempotencyRecord] = {}
        """Keys of the open orders (and of the batches not yet released): the hot set.
        A key of a closed order is forgotten once its order is; the log answers for it."""
        self._keys_by_order: dict[str, list[str]] = {}
        self._head = LogHead(0, 0, 0, b"")
        self._overlay = StoreOverlay(store)
        overlay = self._overlay
        self._projector = Projector(
            {}, overlay.fills_of, overlay.exceptions_of, overlay.exception_by_id
        )
        self._cases: dict[str, Case] = {}
        """Open cases (exceptions no order holds) seen since start; others are read back."""
        self._subscribers: list[Subscriber] = []
        self._iso = IsoText()
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None
        self.duplicates = 0
        """Inputs answered as duplicates since start (the store counts them all)."""
        self.batches = 0
        self.committed_inputs = 0

    # -- life cycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Load the working orders, keys, positions and log head; start taking inputs."""
        await asyncio.to_thread(self._load)
        if self._tune_collector:
            tune_gc()
        self._task = asyncio.create_task(self._run(), name="keel-sequencer")

    def _load(self) -> None:
        store = self._store
        self._head = store.head()
        self._orders = {}
        for order_id in store.open_order_ids():
            order = load_order(store, order_id)
            if order is not None:
                self._orders[order.order_id] = order
        self._keys = {}
        self._keys_by_order = {}
        for record in store.keys_of_open_orders():
            self._remember_key(record)
        self._projector.positions.update(
            ((row.account, row.instrument), Position(row.net_qty, row.open_cost, row.realized_pnl))
            for row in store.load_positions()
        )

    async def stop(self) -> None:
        """Finish what is queued, commit it, release it, and stop."""
        if self._task is None:
            return
        await self._queue.put(None)
        with contextlib.suppress(Exception):
            await self._task
        self._task = None

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    @property
    def open_orders(self) -> dict[OrderId, Order]:
        """The orders held in memory (every order that is not closed)."""
        return self._orders

    @property
    def head(self) -> LogHead:
        return self._head

    # -- taking inputs ------------------------------------------------------------------
    async def submit(
        self,
        inp: Input,
        *,
        source: str,
        raw: bytes | None = None,
        idempotency_key: str | None = None,
        fix: FixPosition | None = None,
    ) -> Result:
        """Queue ``inp`` and return its result once it is durable."""
        return await self.enqueue(
            inp, source=source, raw=raw, idempotency_key=idempotency_key, fix=fix
        )

    def enqueue(
        self,
        inp: Input,
        *,
        source: str,
        raw: bytes | None = None,
        idempotency_key: str | None = None,
        fix: FixPosition | None = None,
    ) -> asyncio.Future[Result]:
        """Queue ``inp`` without waiting; the future resolves once it is durable.

        ``fix`` is where the FIX message ``raw`` stood in its session: the batch that
        commits the input also records that the session expects the next number, so after
        a crash the session asks again for exactly what was not committed.
        """
        if self._failure is not None or self._task is None:
            raise SequencerStoppedError("the sequencer is not running") from self._failure
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        key = key_for(inp, source, idempotency_key)
        self._queue.put_nowait(_Submission(inp, source, raw, key, future, fix))
        return future

    # -- the loop -----------------------------------------------------------------------
    async def _run(self) -> None:
        inflight: asyncio.Future[None] | None = None
        inflight_prepared: _Prepared | None = None
        stopping = False
        subs: list[_Submission] = []
        try:
            while not stopping:
                subs, stopping = await self._take_batch()
                prepared = self._prepare(subs) if subs else None
                if inflight is not None and inflight_prepared is not None:
                    await inflight
                    self._release(inflight_prepared)
                    inflight = inflight_prepared = None
                if prepared is None:
                    continue
                inflight = asyncio.ensure_future(asyncio.to_thread(self._commit, prepared))
                inflight_prepared = prepared
                self._overlay.inflight = prepared.batch.projections
                if self._queue.empty() or stopping:
                    await inflight
                    self._release(prepared)
                    inflight = inflight_prepared = None
        except BaseException as e:  # a failed commit, or a bug: stop, release nothing more
            self._fail(e, inflight_prepared, subs)
            raise

    async def _take_batch(self) -> tuple[list[_Submission], bool]:
        first = await self._queue.get()
        if first is None:
            return [], True
        subs = [first]
        while len(subs) < self._max_batch:
            try:
                nxt = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if nxt is None:
                return subs, True
            subs.append(nxt)
        return subs, False

    def _commit(self, prepared: _Prepared) -> None:
        self._store.commit(prepared.batch)

    def _fail(
        self, error: BaseException, prepared: _Prepared | None, taken: list[_Submission]
    ) -> None:
        """Fail every input not yet released: in the batch committing, the batch in hand,
        and the queue."""
        self._failure = error
        stopped = SequencerStoppedError(f"the sequencer stopped: {error}")
        pending = [] if prepared is None else [s for s, _, _ in prepared.released]
        pending.extend(taken)
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                pending.append(item)
        for sub in pending:
            if not sub.future.done():
                sub.future.set_exception(stopped)

    def _release(self, prepared: _Prepared) -> None:
        if self._overlay.inflight is prepared.batch.projections:
            self._overlay.inflight = None
        self.batches += 1
        self.committed_inputs += len(prepared.released)
        for order_id, version in prepared.closed:
            current = self._orders.get(order_id)
            if current is not None and current.version == version:
                del self._orders[order_id]
                for key in self._keys_by_order.pop(order_id, ()):
                    self._keys.pop(key, None)
        for key in prepared.orphan_keys:
            self._keys.pop(key, None)
        for sub, result, _ in prepared.released:
            if not sub.future.done():
                sub.future.set_result(result)
        if self._subscribers:
            committed = [
                Committed(result, events, sub.source, sub.inp.ingest_time)
                for sub, result, events in prepared.released
            ]
            for subscriber in self._subscribers:
                try:
                    subscriber(committed)
                except Exception:  # a subscriber's bug must not stop the system of record
                    log.exception("subscriber %r failed on a committed batch", subscriber)

    # -- one batch ----------------------------------------------------------------------
    def _prepare(self, subs: list[_Submission]) -> _Prepared:
        # The hot path: records are built positionally, and the look-ups made per input are
        # bound once per batch.
        head = self._head
        input_seq, event_seq = head.last_input_seq, head.last_event_seq
        partition_seq, last_hash = head.last_partition_seq, head.last_hash
        inputs: list[InputRecord] = []
        events: list[EventRecord] = []
        keys: list[IdempotencyRecord] = []
        rows = ProjectionRows()
        released: list[tuple[_Submission, Result, tuple[EventRecord, ...]]] = []
        closed: list[tuple[OrderId, int]] = []
        orphan_keys: list[str] = []
        clock_now = self._clock.now
        orders = self._orders
        project = self._projector.project
        for sub in subs:
            inp = sub.inp
            input_seq += 1
            now = clock_now()
            actor = actor_of(inp, sub.source)
            seen = self._seen(sub)
            if seen is not None:
                self.duplicates += 1
                result = self._duplicate(sub, input_seq, seen)
                inputs.append(self._input_record(sub, input_seq, now, result, actor))
                released.append((sub, result, ()))
                continue
            transition = self._transition(inp, now)
            stored: tuple[EventRecord, ...] = ()
            order = transition.order
            if transition.events:
                stored = self._event_records(
                    transition.events, event_seq, partition_seq, last_hash, input_seq, actor, now
                )
                event_seq += len(stored)
                partition_seq += len(stored)
                last_hash = stored[-1].hash
                events.extend(stored)
                project(rows, order, transition.events, stored[0].event_seq, input_seq)
                if order is not None:
                    orders[order.order_id] = order
                    if order.status in TERMINAL_STATUSES:
                        closed.append((order.order_id, order.version))
            result = result_of(input_seq, transition, tuple(r.event_seq for r in stored))
            outcome = result.outcome
            key = sub.key
            if key is not None and outcome is not _DUPLICATE:
                keys.append(self._new_key(key, input_seq, order, result, orphan_keys))
            elif outcome is _DUPLICATE:
                self.duplicates += 1
            inputs.append(self._input_record(sub, input_seq, now, result, actor))
            released.append((sub, result, stored))
        self._projector.finish(rows)
        self._head = LogHead(input_seq, event_seq, partition_seq, last_hash)
        batch = CommitBatch(inputs, events, keys, rows, _fix_targets(subs))
        return _Prepared(batch, released, closed, orphan_keys)

    def _new_key(
        self, key: str, input_seq: int, order: Order | None, result: Result, orphans: list[str]
    ) -> IdempotencyRecord:
        """Record what was processed under ``key`` and the answer a retry gets."""
        record = IdempotencyRecord(
            key, input_seq, order.order_id if order else None, answer_bytes(result)
        )
        if not self._remember_key(record):
            orphans.append(key)
        return record

    def _remember_key(self, record: IdempotencyRecord) -> bool:
        """Hold a key in the hot set under its order; False if it has no order."""
        self._keys[record.key] = record
        if record.order_id is None:
            return False
        self._keys_by_order.setdefault(record.order_id, []).append(record.key)
        return True

    def _seen(self, sub: _Submission) -> IdempotencyRecord | None:
        """Return the first processing of this input's key, if it was processed before."""
        key = sub.key
        if key is None:
            return None
        record = self._keys.get(key)
        if record is None and (
            sub.inp.order_id not in self._orders or not isinstance(sub.inp, VenueReport)
        ):  # not held in memory: the log knows
            record = self._store.find_key(key)
        return record

    def _transition(self, inp: Input, now: datetime) -> Transition:
        if inp.KIND in EVIDENCE_KINDS:  # kept for reconciliation, never applied to an order
            return _RECORDED
        if is_case(inp.order_id):
            stream = inp.order_id
            step = work_case(self._case(stream), inp, now)
            self._remember_case(stream, step.case)
            return Transition(None, step.events, (), step.exceptions, step.outcome, step.note)
        transition = apply(self._order_for(inp), inp, now, self._policy)
        if transition.order is None and transition.events:  # it opened a case
            opened = transition.events[0]
            self._remember_case(opened.order_id, fold_case(None, opened))
        return transition

    def _case(self, stream: str) -> Case | None:
        case = self._cases.get(stream)
        if case is None:
            case = load_case(self._store, stream)
        return case

    def _remember_case(self, stream: str, case: Case | None) -> None:
        if case is None or case.status is ExceptionStatus.RESOLVED:
            self._cases.pop(stream, None)
        else:
            self._cases[stream] = case

    def _order_for(self, inp: Input) -> Order | None:
        order = self._orders.get(inp.order_id)
        if order is None and not isinstance(inp, (NewOrderAccepted, NewOrderDenied)):
            order = load_order(self._store, inp.order_id)  # a closed order: a late message
        return order

    def _duplicate(self, sub: _Submission, input_seq: int, seen: IdempotencyRecord) -> Result:
        return Result(
            input_seq, _DUPLICATE, self._orders.get(sub.inp.order_id), (), (), (),
            f"duplicate of input {seen.input_seq} ({sub.key})", seen.input_seq,
            answer_of(seen),
        )  # fmt: skip

    def _event_records(
        self,
        events: tuple[Event, ...],
        event_seq: int,
        partition_seq: int,
        prev_hash: bytes,
        input_seq: int,
        actor: str,
        now: datetime,
    ) -> tuple[EventRecord, ...]:
        """Return the stored rows of one input's events, numbered after ``event_seq`` and
        ``partition_seq`` and chained after ``prev_hash``."""
        recorded_at = self._iso(now)  # now.isoformat(), once for every event of the input
        partition = self._partition
        encode = codec.encode
        records: list[EventRecord] = []
        for event in events:
            event_seq += 1
            partition_seq += 1
            payload = encode(event)
            type_name = codec.event_type(event)
            order_id, version = event.order_id, event.version
            digest = link_hash(
                prev_hash, event_seq, partition, partition_seq, order_id, version,
                type_name, _SCHEMA_VERSION, payload, input_seq, actor, recorded_at,
            )  # fmt: skip
            record = EventRecord(
                event_seq, partition, partition_seq, order_id, version, type_name,
                _SCHEMA_VERSION, payload, input_seq, actor, now, prev_hash, digest,
            )  # fmt: skip
            records.append(record)
            prev_hash = digest
        return tuple(records)

    def _input_record(
        self, sub: _Submission, input_seq: int, now: datetime, result: Result, actor: str
    ) -> InputRecord:
        inp = sub.inp
        return InputRecord(
            input_seq, sub.source, inp.KIND, inp.order_id, sub.key, inp.ingest_time, now,
            codec.encode(inp), sub.raw, result.outcome, result.note, actor,
        )  # fmt: skip


def _fix_targets(subs: list[_Submission]) -> dict[str, tuple[int, int]]:
    """The number each FIX session expects after this batch's messages (the highest wins
    within an epoch; a later epoch replaces an earlier one)."""
    targets: dict[str, tuple[int, int]] = {}
    for sub in subs:
        if sub.fix is None:
            continue
        session_id, epoch, seq = sub.fix
        current = targets.get(session_id)
        if current is None or (epoch, seq + 1) > current:
            targets[session_id] = (epoch, seq + 1)
    return targets
