"""What the SQLite and PostgreSQL stores share: every read, and the shape of every write.

A subclass supplies the connections: ``_fetch`` runs one query on the read side, ``_write``
writes table parts in one transaction, ``_apply_migration`` applies one migration in its own
transaction (checking again inside it, so two processes migrating at once are safe).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from keel.adapters.store.schema import Migration, pending
from keel.adapters.store.sql import Queries, column_list, ident
from keel.adapters.store.tables import (
    BARE_REF_KINDS,
    PROJECTIONS,
    REF_KINDS,
    Table,
    batch_parts,
    projection_parts,
    selectable,
)
from keel.adapters.store.values import Codecs, datetime_text
from keel.app.errors import StoreError
from keel.app.ports import EventRow
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
    PositionRow,
    ProjectionRows,
    ReconRunRow,
    UserRow,
)

Parts = Sequence[tuple[Table[Any], Collection[Any]]]
Statements = Sequence[tuple[str, Sequence[Sequence[Any]]]]
"""Statements run after the parts in the same transaction, each with its parameter rows."""

PAGE_ROWS = 1000
"""Rows per query when ``read_table`` walks a table by primary key."""

IN_LIST_MAX = 500
"""Sequence numbers per ``IN (...)`` list in ``inputs_by_seq``."""


def _time(text: Any) -> datetime:
    """A time stored as ISO text (FIX tables keep times as text in both dialects)."""
    return text if isinstance(text, datetime) else datetime.fromisoformat(str(text))


def _text(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _user(row: Sequence[Any]) -> UserRow:
    name, role, accounts, created, revoked = row
    return UserRow(str(name), str(role), tuple(a for a in str(accounts).split(",") if a),
                   _time(created), _time(revoked) if revoked else None)  # fmt: skip


class SqlStore(ABC):
    """The ``EventStore`` reads and writes common to the SQL stores."""

    def __init__(self, queries: Queries, codecs: Codecs, migrations: Sequence[Migration]) -> None:
        self._q = queries
        self._c = codecs
        self._migrations = tuple(migrations)

    # -- what a subclass supplies ---------------------------------------------------------
    @abstractmethod
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query on the read side and return all its rows."""

    @abstractmethod
    def _write(
        self,
        parts: Parts,
        *,
        replace: bool,
        version: int | None = None,
        then: Statements = (),
    ) -> None:
        """Write every part in one transaction, first emptying the projection tables when
        ``replace``, then running the statements ``then`` and stamping the projection
        ``version`` when given; raise ``StoreError`` having changed nothing when anything
        fails."""

    @abstractmethod
    def _apply_migration(self, migration: Migration) -> None:
        """Apply one migration in its own transaction, unless it is applied already."""

    @abstractmethod
    def close(self) -> None:
        """Close the connections; the store cannot be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply the migrations not yet applied; return the schema version now in force."""
        for migration in pending(self.schema_version(), self._migrations):
            self._apply_migration(migration)
        return self.schema_version()

    def schema_version(self) -> int:
        """Return the schema version of the database (0 when nothing is applied)."""
        ((exists,),) = self._fetch(self._q.has_migrations_table)
        if not exists:
            return 0
        ((version,),) = self._fetch(self._q.schema_version)
        return int(version or 0)

    # -- the writer -----------------------------------------------------------------------
    def head(self) -> LogHead:
        """Return the last input and event sequence numbers and the last event's hash."""
        ((input_seq, event_seq, partition_seq, last_hash),) = self._fetch(self._q.head)
        if event_seq is None:
            return LogHead(input_seq or 0, 0, 0, EMPTY_HEAD.last_hash)
        return LogHead(input_seq or 0, event_seq, partition_seq, bytes(last_hash))

    def commit(self, batch: CommitBatch) -> None:
        """Write a whole batch in one transaction; durable when this returns."""
        then: Statements = ()
        if batch.fix_targets:
            moves = [
                (target, session_id, epoch, target)
                for session_id, (epoch, target) in batch.fix_targets.items()
            ]
            then = [(self._q.move_fix_target, moves)]
        self._write(batch_parts(batch), replace=False, then=then)

    # -- reconciliation runs --------------------------------------------------------------
    def save_recon_run(self, run: ReconRunRow) -> None:
        """Keep a reconciliation run's report."""
        values = (
            run.run_id, run.broker, run.trade_date, run.started_at.isoformat(),
            run.finished_at.isoformat(), run.actor, run.result, run.summary, run.breaks,
        )  # fmt: skip
        self._write((), replace=False, then=[(self._q.save_recon_run, [values])])

    def recon_run(self, run_id: str) -> ReconRunRow | None:
        """Return one run's report, or None."""
        rows = self._fetch(self._q.recon_run, (run_id,))
        return _recon_run(rows[0]) if rows else None

    def recon_runs(self, limit: int = 100) -> list[ReconRunRow]:
        """Return the latest runs, newest first."""
        return [_recon_run(row) for row in self._fetch(self._q.recon_runs, (limit,))]

    # -- the kill switch ------------------------------------------------------------------
    def save_halt(self, halt: HaltRow) -> None:
        """Halt new orders for ``halt.scope`` (an account, or ``*`` for all)."""
        values = (halt.scope, halt.reason, halt.actor, halt.at.isoformat())
        self._write((), replace=False, then=[(self._q.save_halt, [values])])

    def lift_halt(self, scope: str) -> bool:
        """Lift a halt; False when there was none."""
        ((count,),) = self._fetch(self._q.halt_exists, (scope,))
        if not count:
            return False
        self._write((), replace=False, then=[(self._q.lift_halt, [(scope,)])])
        return True

    def halts(self) -> list[HaltRow]:
        """Return the halts in force, by scope."""
        return [
            HaltRow(str(scope), str(reason), str(actor), _time(at))
            for scope, reason, actor, at in self._fetch(self._q.halts)
        ]

    # -- audit ----------------------------------------------------------------------------
    def record_audit(self, row: AuditRow) -> None:
        """Keep one audited request (its ``audit_id`` is given by the database)."""
        at = row.at if self._q.dialect.name == "postgres" else datetime_text(row.at)
        values = (at, row.actor, row.source, row.method, row.path, row.payload,
                  row.status_code, ",".join(str(s) for s in row.event_seqs))  # fmt: skip
        self._write((), replace=False, then=[(self._q.record_audit, [values])])

    def audit(self, after_id: int = 0, limit: int = 100) -> list[AuditRow]:
        """Return audited requests with ``audit_id > after_id``, oldest first."""
        rows = self._fetch(self._q.audit, (after_id, limit))
        return [
            AuditRow(
                _time(at), str(actor), str(source), str(method), str(path),
                bytes(payload) if payload is not None else None, int(status),
                tuple(int(s) for s in str(seqs).split(",") if s), int(audit_id),
            )
            for audit_id, at, actor, source, method, path, payload, status, seqs in rows
        ]  # fmt: skip

    # -- users and API keys ---------------------------------------------------------------
    def save_user(self, user: UserRow, key: ApiKeyRow | None = None) -> None:
        """Create or overwrite a user, and add ``key`` to them, in one transaction."""
        then: list[tuple[str, Sequence[Sequence[Any]]]] = [
            (self._q.save_user, [(user.name, user.role, ",".join(user.accounts),
                                  user.created_at.isoformat(), _text(user.revoked_at))]),
        ]  # fmt: skip
        if key is not None:
            then.append((self._q.save_api_key, [(key.key_hash, key.user_name, key.prefix,
                                                 key.created_at.isoformat(),
                                                 _text(key.revoked_at))]))  # fmt: skip
        self._write((), replace=False, then=then)

    def users(self) -> list[UserRow]:
        """Return every user, by name."""
        return [_user(row) for row in self._fetch(self._q.users)]

    def user_by_key(self, key_hash: str) -> tuple[UserRow, ApiKeyRow] | None:
        """Return the user an API key digest belongs to, with the key's row."""
        rows = self._fetch(self._q.user_by_key, (key_hash,))
        if not rows:
            return None
        row = rows[0]
        key_hash_, user_name, prefix, created, revoked = row[5:]
        key = ApiKeyRow(str(key_hash_), str(user_name), str(prefix), _time(created),
                        _time(revoked) if revoked else None)  # fmt: skip
        return _user(row[:5]), key

    def revoke_user(self, name: str, at: datetime) -> bool:
        """Revoke a user and all their keys; False when there is no such user."""
        ((count,),) = self._fetch(self._q.user_exists, (name,))
        if not count:
            return False
        when = at.isoformat()
        self._write((), replace=False, then=[(self._q.revoke_user, [(when, name)]),
                                             (self._q.revoke_keys, [(when, name)])])  # fmt: skip
        return True

    # -- FIX sessions ---------------------------------------------------------------------
    def fix_session(self, session_id: str) -> FixSessionRow | None:
        """Return where a FIX session's numbers stand, if it was ever saved."""
        rows = self._fetch(self._q.fix_session, (session_id,))
        if not rows:
            return None
        sid, epoch, sender, target, created = rows[0]
        return FixSessionRow(sid, int(epoch), int(sender), int(target), _time(created))

    def save_fix_session(self, row: FixSessionRow) -> None:
        """Create or overwrite a FIX session's row."""
        values = (row.session_id, row.epoch, row.next_sender, row.next_target,
                  row.created_at.isoformat())  # fmt: skip
        self._write((), replace=False, then=[(self._q.save_fix_session, [values])])

    def store_fix_messages(self, rows: Sequence[FixMessageRow]) -> None:
        """Keep sent messages and move each session's next sender number past them."""
        if not rows:
            return
        messages = [
            (r.session_id, r.epoch, r.seq, r.msg_type, r.raw, r.sent_at.isoformat()) for r in rows
        ]
        moves = [(r.seq + 1, r.session_id, r.epoch, r.seq) for r in rows]
        self._write(
            (), replace=False,
            then=[(self._q.store_fix_message, messages), (self._q.move_fix_sender, moves)],
        )  # fmt: skip

    def fix_messages(
        self, session_id: str, epoch: int, begin: int, end: int
    ) -> list[FixMessageRow]:
        """Return a session's sent messages of one epoch with ``begin <= seq <= end``."""
        rows = self._fetch(self._q.fix_messages, (session_id, epoch, begin, end))
        return [
            FixMessageRow(sid, int(ep), int(seq), msg_type, bytes(raw), _time(sent))
            for sid, ep, seq, msg_type, raw, sent in rows
        ]

    def replace_projections(self, rows: ProjectionRows, version: int) -> None:
        """Replace every projection table's content with ``rows`` and stamp ``version``,
        in one transaction."""
        self._write(projection_parts(rows), replace=True, version=version)

    def projection_version(self) -> int:
        """Return the projection version the tables were last built with."""
        return int(self._fetch(self._q.projection_version)[0][0])

    # -- what the sequencer loads ---------------------------------------------------------
    def open_order_ids(self) -> list[str]:
        """Return the ids of every order whose status is not terminal, sorted."""
        return [str(r[0]) for r in self._fetch(self._q.open_order_ids)]

    def find_key(self, key: str) -> IdempotencyRecord | None:
        """Return what was processed under an idempotency key, if anything."""
        rows = self._fetch(self._q.find_key, (key,))
        return self._c.keys.decode(rows[0]) if rows else None

    def keys_of_open_orders(self) -> list[IdempotencyRecord]:
        """Return the idempotency keys of orders that are not closed, in input order."""
        return [self._c.keys.decode(r) for r in self._fetch(self._q.open_keys)]

    def load_positions(self) -> list[PositionRow]:
        """Return every position, by account and instrument."""
        return [self._c.positions.decode(r) for r in self._fetch(self._q.positions)]

    def active_fills(self, account: str, instrument: str) -> list[FillRow]:
        """Return the ACTIVE fills of one account and instrument in booking order."""
        rows = self._fetch(self._q.active_fills, (account, instrument))
        return [self._c.fills.decode(r) for r in rows]

    def fills_traded_on(self, day: date) -> list[FillRow]:
        """Return the fills of trade date ``day`` (see the port), by fill id."""
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        into = self._c.into
        params = (
            into["date"].convert(day),
            into["datetime"].convert(start),
            into["datetime"].convert(start + timedelta(days=1)),
        )
        return [self._c.fills.decode(r) for r in self._fetch(self._q.fills_traded_on, params)]

    # -- reading the log ------------------------------------------------------------------
    def read_events(self, after_seq: int = 0, limit: int = 10_000) -> list[EventRecord]:
        """Return events with ``event_seq > after_seq`` in sequence order, at most ``limit``."""
        rows = self._fetch(self._q.read_events, (after_seq, limit))
        return list(map(self._c.events.decode, rows))

    def read_event_rows(self, after_seq: int = 0, limit: int = 10_000) -> list[EventRow]:
        """Return ``read_events``' events as ``(event_seq, input_seq, order_id, type,
        schema_version, payload)`` tuples: the driver's rows as they come, nothing converted
        (SQLite and psycopg give ``int``, ``str`` and ``bytes`` for these columns)."""
        return self._fetch(self._q.read_event_rows, (after_seq, limit))

    def read_inputs(self, after_seq: int = 0, limit: int = 10_000) -> list[InputRecord]:
        """Return inputs with ``input_seq > after_seq`` in sequence order, at most ``limit``."""
        rows = self._fetch(self._q.read_inputs, (after_seq, limit))
        return [self._c.inputs.decode(r) for r in rows]

    def inputs_from(self, kind: str, source: str) -> list[InputRecord]:
        """Return every input of ``kind`` from ``source``, in sequence order."""
        return [self._c.inputs.decode(r) for r in self._fetch(self._q.inputs_from, (kind, source))]

    def inputs_by_seq(self, seqs: Sequence[int]) -> list[InputRecord]:
        """Return the inputs with these sequence numbers, in sequence order, each once;
        numbers with no input are skipped."""
        wanted = sorted(set(seqs))
        found: list[InputRecord] = []
        for start in range(0, len(wanted), IN_LIST_MAX):
            chunk = wanted[start : start + IN_LIST_MAX]
            rows = self._fetch(self._q.inputs_in(len(chunk)), chunk)
            found.extend(self._c.inputs.decode(r) for r in rows)
        found.sort(key=lambda r: r.input_seq)
        return found

    def events_for_order(self, order_id: str) -> list[EventRecord]:
        """Return one order's events by order version."""
        rows = self._fetch(self._q.events_for_order, (order_id,))
        return list(map(self._c.events.decode, rows))

    def count_inputs_by_outcome(self) -> dict[str, int]:
        """Return how many inputs ended with each outcome, by outcome name."""
        return {outcome: int(n) for outcome, n in self._fetch(self._q.outcomes)}

    # -- reading the projections ----------------------------------------------------------
    def resolve_order_ref(self, ref: str) -> str | None:
        """Return the order id that ``ref`` names (see the port)."""
        if self._fetch(self._q.order_exists, (ref,)):
            return ref
        by_kind: dict[str, str] = dict(self._fetch(self._q.links_by_ref, (ref,)))
        for kind in REF_KINDS:
            if kind in by_kind:
                return by_kind[kind]
        for kind in BARE_REF_KINDS:
            rows = self._fetch(self._q.orders_by_bare_ref, (kind, ref))
            if rows:
                return str(rows[0][0]) if len(rows) == 1 else None
        return None

    def fills_for_order(self, order_id: str) -> list[FillRow]:
        """Return one order's fills in booking order."""
        rows = self._fetch(self._q.fills_for_order, (order_id,))
        return [self._c.fills.decode(r) for r in rows]

    def links_for_order(self, order_id: str) -> list[LinkRow]:
        """Return the ids that lead to one order, oldest first."""
        rows = self._fetch(self._q.links_for_order, (order_id,))
        return [self._c.links.decode(r) for r in rows]

    def exceptions_for_order(self, order_id: str) -> list[ExceptionRow]:
        """Return one order's exceptions, oldest first."""
        rows = self._fetch(self._q.exceptions_for_order, (order_id,))
        return [self._c.exceptions.decode(r) for r in rows]

    def find_exception(self, exception_id: str) -> ExceptionRow | None:
        """Return one exception by its id, or None."""
        rows = self._fetch(self._q.find_exception, (exception_id,))
        return self._c.exceptions.decode(rows[0]) if rows else None

    def read_table(self, table: str) -> Iterator[dict[str, Any]]:
        """Yield every row of a projection table as column -> value, by primary key.

        The table is read a page at a time, each page in its own read: a batch committed
        meanwhile may show in later pages. Compare tables while nothing writes.
        """
        spec = PROJECTIONS.get(table)
        if spec is None:
            raise StoreError(f"no projection table {table!r}; there are {', '.join(PROJECTIONS)}")
        return self._pages(spec)

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
        p = self._q.dialect.param
        key = spec.key[0]
        clauses: list[str] = []
        params: list[Any] = []
        for name, wanted in where.items():
            if isinstance(wanted, str):
                clauses.append(f"{ident(name)} = {p}")
                params.append(wanted)
                continue
            values = sorted(wanted)
            if not values:
                return []
            clauses.append(f"{ident(name)} IN ({', '.join([p] * len(values))})")
            params.extend(values)
        if after is not None:
            clauses.append(f"{ident(key)} > {p}")
            params.append(after)
        sql = f"SELECT {column_list(spec)} FROM {spec.name}"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += f" ORDER BY {ident(key)} LIMIT {p}"
        codec = self._c.by_table[spec.name]
        return [codec.decode_dict(row) for row in self._fetch(sql, [*params, limit])]

    def _pages(self, table: Table[Any]) -> Iterator[dict[str, Any]]:
        codec = self._c.by_table[table.name]
        key_at = [table.names.index(k) for k in table.key]
        rows = self._fetch(self._q.first_page[table.name], (PAGE_ROWS,))
        while rows:
            for row in rows:
                yield codec.decode_dict(row)
            if len(rows) < PAGE_ROWS:
                return
            last = rows[-1]
            params = [*(last[i] for i in key_at), PAGE_ROWS]
            rows = self._fetch(self._q.next_page[table.name], params)


def _recon_run(row: Sequence[Any]) -> ReconRunRow:
    run_id, broker, trade_date, started, finished, actor, result, summary, breaks = row
    return ReconRunRow(
        str(run_id), str(broker), None if trade_date is None else str(trade_date),
        _time(started), _time(finished), str(actor), str(result), str(summary), str(breaks),
    )  # fmt: skip
