"""MemoryStore: the event store in plain Python, for unit tests and demos.

It keeps the SQL stores' semantics, checked by the same contract suite: values are checked
and made canonical as the SQL stores make them, a commit validates everything before it
changes anything (so a failing commit changes nothing and raises ``StoreError``), reads
return rows in the same order, and nothing works before ``migrate()``.
"""

from __future__ import annotations

import bisect
import threading
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from keel.adapters.store.schema import MIGRATIONS, Migration, latest_version, pending
from keel.adapters.store.tables import (
    ACTIVE_FILL,
    BARE_REF_KINDS,
    PROJECTIONS,
    REF_KINDS,
    TERMINAL,
    Table,
    bare_ref,
    projection_parts,
    selectable,
)
from keel.adapters.store.values import MEMORY_IN, Codecs
from keel.app.errors import StoreError
from keel.app.ports import EventRow, EventStore
from keel.app.records import (
    EMPTY_HEAD,
    ApiKeyRow,
    AuditRow,
    CommitBatch,
    EventRecord,
    ExceptionRow,
    FillRow,
    FixMessageRow,
    FixSessionRow,
    HaltRow,
    IdempotencyRecord,
    InputRecord,
    LinkRow,
    LogHead,
    OrderRow,
    PositionRow,
    ProjectionRows,
    ReconRunRow,
    UserRow,
    row_values,
)

Key = tuple[Any, ...]
Tables = dict[str, dict[Key, Any]]


def _append_sorted(seqs: list[int], seq: int) -> None:
    if not seqs or seq > seqs[-1]:
        seqs.append(seq)
    else:
        bisect.insort(seqs, seq)


class MemoryStore:
    """An ``EventStore`` in memory: nothing survives ``close()`` or the process.

    ``migrations`` only decide the schema version it reports, as they would for a database.
    """

    def __init__(self, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        self._migrations = tuple(migrations)
        self._lock = threading.RLock()
        self._version = 0
        self._closed = False
        self._c = Codecs(MEMORY_IN)
        self._inputs: dict[int, InputRecord] = {}
        self._input_seqs: list[int] = []
        self._events: dict[int, EventRecord] = {}
        self._event_seqs: list[int] = []
        self._order_events: dict[str, dict[int, EventRecord]] = {}
        self._keys: dict[str, IdempotencyRecord] = {}
        self._tables: Tables = {name: {} for name in PROJECTIONS}
        self._projection_version = 1
        self._users: dict[str, UserRow] = {}
        self._audit: list[AuditRow] = []
        self._halts: dict[str, HaltRow] = {}
        self._recon_runs: dict[str, ReconRunRow] = {}
        self._keys_by_hash: dict[str, ApiKeyRow] = {}
        self._fix_sessions: dict[str, FixSessionRow] = {}
        self._fix_messages: dict[tuple[str, int, int], FixMessageRow] = {}

    def __repr__(self) -> str:
        return f"MemoryStore(schema_version={self._version}, events={len(self._events)})"

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> int:
        """Bring the schema version to the latest migration's (nothing else to do)."""
        with self._lock:
            self._check_open()
            if pending(self._version, self._migrations):
                self._version = latest_version(self._migrations)
            return self._version

    def schema_version(self) -> int:
        """Return the schema version (0 before ``migrate()``)."""
        with self._lock:
            self._check_open()
            return self._version

    def close(self) -> None:
        """Forget everything; later calls raise ``StoreError``."""
        with self._lock:
            self._closed = True
            self._inputs.clear()
            self._events.clear()
            self._order_events.clear()
            self._keys.clear()
            self._tables = {name: {} for name in PROJECTIONS}

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the memory store is closed")

    def _ready(self) -> None:
        self._check_open()
        if self._version == 0:
            raise StoreError("the memory store has no schema yet: call migrate() first")

    # -- the writer -----------------------------------------------------------------------
    def head(self) -> LogHead:
        """Return the last input and event sequence numbers and the last event's hash."""
        with self._lock:
            self._ready()
            last_input = self._input_seqs[-1] if self._input_seqs else 0
            if not self._event_seqs:
                return LogHead(last_input, 0, 0, EMPTY_HEAD.last_hash)
            last = self._events[self._event_seqs[-1]]
            return LogHead(last_input, last.event_seq, last.partition_seq, last.hash)

    def commit(self, batch: CommitBatch) -> None:
        """Check the whole batch, then write it; a batch that fails changes nothing."""
        with self._lock:
            self._ready()
            inputs = [self._c.inputs.decode(self._c.inputs.encode(r)) for r in batch.inputs]
            events = [self._c.events.decode(self._c.events.encode(r)) for r in batch.events]
            keys = [self._c.keys.decode(self._c.keys.encode(r)) for r in batch.keys]
            self._check_new(inputs, events, keys)
            tables = self._merged(self._tables, projection_parts(batch.projections))
            for inp in inputs:
                self._inputs[inp.input_seq] = inp
                _append_sorted(self._input_seqs, inp.input_seq)
            for event in events:
                self._events[event.event_seq] = event
                _append_sorted(self._event_seqs, event.event_seq)
                self._order_events.setdefault(event.order_id, {})[event.order_version] = event
            for record in keys:
                self._keys[record.key] = record
            self._tables = tables
            for session_id, (epoch, next_target) in batch.fix_targets.items():
                row = self._fix_sessions.get(session_id)
                if row is not None and row.epoch == epoch and row.next_target < next_target:
                    self._fix_sessions[session_id] = replace(row, next_target=next_target)

    # -- reconciliation runs --------------------------------------------------------------
    def save_recon_run(self, run: ReconRunRow) -> None:
        with self._lock:
            self._ready()
            if run.run_id in self._recon_runs:
                raise StoreError(f"recon run {run.run_id} is already saved")
            self._recon_runs[run.run_id] = run

    def recon_run(self, run_id: str) -> ReconRunRow | None:
        with self._lock:
            self._ready()
            return self._recon_runs.get(run_id)

    def recon_runs(self, limit: int = 100) -> list[ReconRunRow]:
        with self._lock:
            self._ready()
            newest = sorted(self._recon_runs.values(), key=lambda r: (r.started_at, r.run_id))
            return newest[::-1][:limit]

    # -- the kill switch ------------------------------------------------------------------
    def save_halt(self, halt: HaltRow) -> None:
        with self._lock:
            self._ready()
            self._halts[halt.scope] = halt

    def lift_halt(self, scope: str) -> bool:
        with self._lock:
            self._ready()
            return self._halts.pop(scope, None) is not None

    def halts(self) -> list[HaltRow]:
        with self._lock:
            self._ready()
            return [self._halts[scope] for scope in sorted(self._halts)]

    # -- audit ----------------------------------------------------------------------------
    def record_audit(self, row: AuditRow) -> None:
        with self._lock:
            self._ready()
            self._audit.append(replace(row, audit_id=len(self._audit) + 1))

    def audit(self, after_id: int = 0, limit: int = 100) -> list[AuditRow]:
        with self._lock:
            self._ready()
            return [r for r in self._audit if r.audit_id > after_id][:limit]

    # -- users and API keys ---------------------------------------------------------------
    def save_user(self, user: UserRow, key: ApiKeyRow | None = None) -> None:
        with self._lock:
            self._ready()
            if key is not None and key.key_hash in self._keys_by_hash:
                raise StoreError("that API key exists already, nothing written")
            self._users[user.name] = user
            if key is not None:
                self._keys_by_hash[key.key_hash] = key

    def users(self) -> list[UserRow]:
        with self._lock:
            self._ready()
            return [self._users[name] for name in sorted(self._users)]

    def user_by_key(self, key_hash: str) -> tuple[UserRow, ApiKeyRow] | None:
        with self._lock:
            self._ready()
            key = self._keys_by_hash.get(key_hash)
            user = self._users.get(key.user_name) if key else None
            return (user, key) if user is not None and key is not None else None

    def revoke_user(self, name: str, at: datetime) -> bool:
        with self._lock:
            self._ready()
            user = self._users.get(name)
            if user is None:
                return False
            self._users[name] = replace(user, revoked_at=user.revoked_at or at)
            for key_hash, key in list(self._keys_by_hash.items()):
                if key.user_name == name and key.revoked_at is None:
                    self._keys_by_hash[key_hash] = replace(key, revoked_at=at)
            return True

    # -- FIX sessions ---------------------------------------------------------------------
    def fix_session(self, session_id: str) -> FixSessionRow | None:
        with self._lock:
            self._ready()
            return self._fix_sessions.get(session_id)

    def save_fix_session(self, row: FixSessionRow) -> None:
        with self._lock:
            self._ready()
            self._fix_sessions[row.session_id] = row

    def store_fix_messages(self, rows: Sequence[FixMessageRow]) -> None:
        with self._lock:
            self._ready()
            for row in rows:
                key = (row.session_id, row.epoch, row.seq)
                if key in self._fix_messages:
                    raise StoreError(
                        f"FIX message {row.seq} of {row.session_id} (epoch {row.epoch}) is "
                        "stored already, nothing written"
                    )
            for row in rows:
                self._fix_messages[(row.session_id, row.epoch, row.seq)] = row
                session = self._fix_sessions.get(row.session_id)
                if (
                    session is not None
                    and session.epoch == row.epoch
                    and session.next_sender <= row.seq
                ):
                    self._fix_sessions[row.session_id] = replace(session, next_sender=row.seq + 1)

    def fix_messages(
        self, session_id: str, epoch: int, begin: int, end: int
    ) -> list[FixMessageRow]:
        with self._lock:
            self._ready()
            found = [
                row
                for (sid, ep, seq), row in self._fix_messages.items()
                if sid == session_id and ep == epoch and begin <= seq <= end
            ]
            return sorted(found, key=lambda r: r.seq)

    def _check_new(
        self,
        inputs: list[InputRecord],
        events: list[EventRecord],
        keys: list[IdempotencyRecord],
    ) -> None:
        def refuse(what: str) -> StoreError:
            return StoreError(f"cannot commit, nothing written: {what}")

        seen_inputs: set[int] = set()
        for inp in inputs:
            if inp.input_seq in self._inputs or inp.input_seq in seen_inputs:
                raise refuse(f"input_seq {inp.input_seq} is already in the log")
            seen_inputs.add(inp.input_seq)
        seen_events: set[int] = set()
        seen_versions: set[tuple[str, int]] = set()
        for event in events:
            if event.event_seq in self._events or event.event_seq in seen_events:
                raise refuse(f"event_seq {event.event_seq} is already in the log")
            version = (event.order_id, event.order_version)
            if version in seen_versions or event.order_version in self._order_events.get(
                event.order_id, {}
            ):
                raise refuse(f"order {event.order_id} already has version {event.order_version}")
            seen_events.add(event.event_seq)
            seen_versions.add(version)
        seen_keys: set[str] = set()
        for record in keys:
            if record.key in self._keys or record.key in seen_keys:
                raise refuse(f"idempotency key {record.key!r} is already recorded")
            seen_keys.add(record.key)

    def _merged(self, base: Tables, parts: Sequence[tuple[Table[Any], Collection[Any]]]) -> Tables:
        """Return copies of the projection tables with ``parts`` written into them."""
        tables = dict(base)
        for table, rows in parts:
            if not rows:
                continue
            codec = self._c.by_table[table.name]
            content = dict(tables[table.name])
            for row in rows:
                stored = codec.decode(codec.encode(row))
                key = table.key_of(stored)
                if table.write == "ignore":
                    content.setdefault(key, stored)
                else:
                    content[key] = stored
            tables[table.name] = content
        return tables

    def replace_projections(self, rows: ProjectionRows, version: int) -> None:
        """Replace every projection table's content with ``rows`` at once; stamp ``version``."""
        with self._lock:
            self._ready()
            empty: Tables = {name: {} for name in PROJECTIONS}
            self._tables = self._merged(empty, projection_parts(rows))
            self._projection_version = version

    def projection_version(self) -> int:
        """Return the projection version the tables were last built with."""
        with self._lock:
            self._ready()
            return self._projection_version

    # -- what the sequencer loads ---------------------------------------------------------
    def _rows(self, table: str) -> list[Any]:
        """Return a projection table's rows by primary key."""
        with self._lock:
            self._ready()
            content = self._tables[table]
            return [content[k] for k in sorted(content)]

    def _orders(self) -> dict[Key, OrderRow]:
        with self._lock:
            self._ready()
            return self._tables["orders"]

    def open_order_ids(self) -> list[str]:
        """Return the ids of every order whose status is not terminal, sorted."""
        rows: list[OrderRow] = self._rows("orders")
        return [r.order_id for r in rows if r.status not in TERMINAL]

    def find_key(self, key: str) -> IdempotencyRecord | None:
        """Return what was processed under an idempotency key, if anything."""
        with self._lock:
            self._ready()
            return self._keys.get(key)

    def keys_of_open_orders(self) -> list[IdempotencyRecord]:
        """Return the idempotency keys of orders that are not closed, in input order."""
        with self._lock:
            orders = self._orders()
            found = [
                k
                for k in self._keys.values()
                if k.order_id is not None
                and (o := orders.get((k.order_id,))) is not None
                and o.status not in TERMINAL
            ]
        return sorted(found, key=lambda k: (k.input_seq, k.key))

    def load_positions(self) -> list[PositionRow]:
        """Return every position, by account and instrument."""
        return self._rows("positions")

    def active_fills(self, account: str, instrument: str) -> list[FillRow]:
        """Return the ACTIVE fills of one account and instrument in booking order."""
        fills: list[FillRow] = self._rows("fills")
        found = [
            f
            for f in fills
            if f.account == account and f.instrument == instrument and f.state == ACTIVE_FILL
        ]
        return sorted(found, key=lambda f: (f.booked_seq, f.fill_id))

    def fills_traded_on(self, day: date) -> list[FillRow]:
        """Return the fills of trade date ``day`` (see the port), by fill id."""
        fills: list[FillRow] = self._rows("fills")
        return [f for f in fills if (f.trade_date or f.event_time.astimezone(UTC).date()) == day]

    # -- reading the log ------------------------------------------------------------------
    def read_events(self, after_seq: int = 0, limit: int = 10_000) -> list[EventRecord]:
        """Return events with ``event_seq > after_seq`` in sequence order, at most ``limit``."""
        with self._lock:
            self._ready()
            start = bisect.bisect_right(self._event_seqs, after_seq)
            return [self._events[s] for s in self._event_seqs[start : start + max(limit, 0)]]

    def read_event_rows(self, after_seq: int = 0, limit: int = 10_000) -> list[EventRow]:
        """Return ``read_events``' events as ``(event_seq, input_seq, order_id, type,
        schema_version, payload)`` tuples."""
        return [
            (e.event_seq, e.input_seq, e.order_id, e.type, e.schema_version, e.payload)
            for e in self.read_events(after_seq, limit)
        ]

    def read_inputs(self, after_seq: int = 0, limit: int = 10_000) -> list[InputRecord]:
        """Return inputs with ``input_seq > after_seq`` in sequence order, at most ``limit``."""
        with self._lock:
            self._ready()
            start = bisect.bisect_right(self._input_seqs, after_seq)
            return [self._inputs[s] for s in self._input_seqs[start : start + max(limit, 0)]]

    def inputs_from(self, kind: str, source: str) -> list[InputRecord]:
        """Return every input of ``kind`` from ``source``, in sequence order."""
        with self._lock:
            self._ready()
            return [
                self._inputs[s]
                for s in self._input_seqs
                if self._inputs[s].kind == kind and self._inputs[s].source == source
            ]

    def inputs_by_seq(self, seqs: Sequence[int]) -> list[InputRecord]:
        """Return the inputs with these sequence numbers, in sequence order, each once;
        numbers with no input are skipped."""
        with self._lock:
            self._ready()
            return [self._inputs[s] for s in sorted(set(seqs)) if s in self._inputs]

    def events_for_order(self, order_id: str) -> list[EventRecord]:
        """Return one order's events by order version."""
        with self._lock:
            self._ready()
            by_version = self._order_events.get(order_id, {})
            return [by_version[v] for v in sorted(by_version)]

    def count_inputs_by_outcome(self) -> dict[str, int]:
        """Return how many inputs ended with each outcome, by outcome name."""
        with self._lock:
            self._ready()
            counts = Counter(i.outcome for i in self._inputs.values())
        return dict(sorted(counts.items()))

    # -- reading the projections ----------------------------------------------------------
    def resolve_order_ref(self, ref: str) -> str | None:
        """Return the order id that ``ref`` names (see the port)."""
        with self._lock:
            if (ref,) in self._orders():
                return ref
            links: dict[Key, LinkRow] = self._tables["order_links"]
            for kind in REF_KINDS:
                link = links.get((kind, ref))
                if link is not None:
                    return link.order_id
            for bare_kind in BARE_REF_KINDS:
                matches = {
                    link.order_id
                    for (kind, link_ref), link in links.items()
                    if kind == bare_kind and bare_ref(link_ref) == ref
                }
                if matches:
                    return matches.pop() if len(matches) == 1 else None
        return None

    def fills_for_order(self, order_id: str) -> list[FillRow]:
        """Return one order's fills in booking order."""
        fills: list[FillRow] = self._rows("fills")
        found = [f for f in fills if f.order_id == order_id]
        return sorted(found, key=lambda f: (f.booked_seq, f.fill_id))

    def links_for_order(self, order_id: str) -> list[LinkRow]:
        """Return the ids that lead to one order, oldest first."""
        links: list[LinkRow] = self._rows("order_links")
        found = [link for link in links if link.order_id == order_id]
        return sorted(found, key=lambda link: (link.created_seq, link.kind, link.ref))

    def exceptions_for_order(self, order_id: str) -> list[ExceptionRow]:
        """Return one order's exceptions, oldest first."""
        rows: list[ExceptionRow] = self._rows("exceptions")
        found = [x for x in rows if x.order_id == order_id]
        return sorted(found, key=lambda x: (x.input_seq, x.exception_id))

    def find_exception(self, exception_id: str) -> ExceptionRow | None:
        """Return one exception by its id, or None."""
        with self._lock:
            self._ready()
            found: ExceptionRow | None = self._tables["exceptions"].get((exception_id,))
            return found

    def select_rows(
        self,
        table: str,
        where: Mapping[str, str | Collection[str]],
        *,
        after: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Return up to ``limit`` rows of a one-key projection table matching ``where``, in
        key order after ``after`` (see the port)."""
        try:
            spec = selectable(table, where)
        except ValueError as e:
            raise StoreError(str(e)) from e
        key = spec.key[0]
        found: list[dict[str, Any]] = []
        for row in self.read_table(table):
            if after is not None and row[key] <= after:
                continue
            if all(
                row[name] == wanted if isinstance(wanted, str) else row[name] in wanted
                for name, wanted in where.items()
            ):
                found.append(row)
                if len(found) >= limit:
                    break
        return found

    def read_table(self, table: str) -> Iterator[dict[str, Any]]:
        """Yield every row of a projection table as column -> value, by primary key."""
        if table not in PROJECTIONS:
            raise StoreError(f"no projection table {table!r}; there are {', '.join(PROJECTIONS)}")
        return (row_values(row) for row in self._rows(table))


if TYPE_CHECKING:

    def _implements_the_port(store: MemoryStore) -> EventStore:
        return store
