"""PostgresStore: the production store, through psycopg 3.

Two connections: the writer (autocommit off; each commit is one transaction) and a reader
(autocommit on, so each query sees every commit that returned before it began). Each has a
lock, so any thread may call any method. Both run in UTC, so ``TIMESTAMPTZ`` values come
back as ``datetime``s in ``datetime.UTC``.

A commit COPYs the append-only tables (inputs, events, idempotency keys) in binary, and
the projection rows in binary into staging tables (temporary, emptied at every commit,
made once per writer connection) from which one ``INSERT ... SELECT ... ON CONFLICT`` per
table upserts them: the whole batch costs a few round trips and one fsync, however many
rows it holds, and no statement per row. Decimals travel as their text (the staging
column is text, cast to NUMERIC by the INSERT): psycopg's binary NUMERIC dumper costs
several times ``str()``, and NUMERIC reads the text to the same value and scale.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.string import BytesBinaryDumper

from keel.adapters.store.schema import MIGRATIONS, Migration
from keel.adapters.store.sql import POSTGRES, Queries, column_list, ident, on_conflict
from keel.adapters.store.sqlbase import Parts, SqlStore, Statements
from keel.adapters.store.tables import ALL_TABLES, ColumnKind, Table
from keel.adapters.store.values import POSTGRES_IN, Codecs
from keel.app.errors import StoreError
from keel.app.ports import EventStore

MIGRATION_LOCK = 0x4B45454C
"""The advisory lock key that serialises migrations ("KEEL")."""

_PG_TYPES: dict[ColumnKind, str] = {
    "int": "int8",
    "text": "text",
    "decimal": "numeric",
    "datetime": "timestamptz",
    "date": "date",
    "bool": "bool",
    "bytes": "bytea",
}


_STAGED_TYPES: dict[ColumnKind, str] = {**_PG_TYPES, "decimal": "text"}
"""The column types of a staging table (and so of the COPY into it)."""


@dataclass(frozen=True, slots=True)
class WritePlan:
    """How a commit writes one table's rows: one binary COPY, straight into the table or
    into its staging table and from there by ``merge``."""

    copy: str
    types: tuple[str, ...]
    """The column types the COPY sends, in column order."""
    make_staging: str | None = None
    """The statement that creates the staging table (once per connection), if any."""
    merge: str | None = None
    """The statement that writes the staged rows into the table, if staged."""


def write_plan(table: Table[Any]) -> WritePlan:
    """Return how a commit writes ``table``: COPY straight in when it only takes new rows
    and has no Decimal column (those travel as text), else through a staging table."""
    columns = column_list(table)
    if table.write == "insert" and all(c.kind != "decimal" for c in table.columns):
        return WritePlan(
            f"COPY {table.name} ({columns}) FROM STDIN (FORMAT BINARY)",
            tuple(_PG_TYPES[c.kind] for c in table.columns),
        )
    staging = f"keel_stage_{table.name}"
    definitions = ", ".join(f"{ident(c.name)} {_STAGED_TYPES[c.kind]}" for c in table.columns)
    values = ", ".join(
        f"{ident(c.name)}::numeric" if c.kind == "decimal" else ident(c.name) for c in table.columns
    )
    return WritePlan(
        f"COPY {staging} ({columns}) FROM STDIN (FORMAT BINARY)",
        tuple(_STAGED_TYPES[c.kind] for c in table.columns),
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ({definitions}) ON COMMIT DELETE ROWS",
        f"INSERT INTO {table.name} ({columns}) SELECT {values} FROM {staging}" + on_conflict(table),
    )


def unique_rows(table: Table[Any], rows: Collection[Any]) -> Collection[Any]:
    """Return ``rows`` with one row per primary key, the one the write mode keeps: the last
    for an upsert, the first when a table ignores later rows (as one row at a time would)."""
    key = attrgetter(*table.key)
    if table.write == "ignore":
        ordered = list(rows)
        ordered.reverse()
        return dict(zip(map(key, ordered), ordered, strict=True)).values()
    return dict(zip(map(key, rows), rows, strict=True)).values()


def describe(dsn: str) -> str:
    """Return where a DSN points, without its password, for messages."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error:
        return "PostgreSQL (an unreadable DSN)"
    host = params.get("host", "localhost")
    port = params.get("port", "5432")
    return f"PostgreSQL {params.get('dbname', '?')} on {host}:{port}"


class PostgresStore(SqlStore):
    """The event log and projections in a PostgreSQL database.

    ``dsn`` is a libpq connection string or URL; a ``search_path`` in its ``options`` puts
    the tables in that schema. A connection lost to the server raises ``StoreError`` once;
    the next call connects again.
    """

    def __init__(
        self,
        dsn: str,
        *,
        connect_timeout: int = 10,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        super().__init__(Queries(POSTGRES), Codecs(POSTGRES_IN), migrations)
        self._dsn = dsn
        self._timeout = connect_timeout
        self.where = describe(dsn)
        self._closed = False
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._plans = {t.name: write_plan(t) for t in ALL_TABLES}
        self._writer: psycopg.Connection[tuple[Any, ...]] | None = None
        self._reader: psycopg.Connection[tuple[Any, ...]] | None = None
        try:
            self._writer = self._connect(autocommit=False)
            self._reader = self._connect(autocommit=True)
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore(<{self.where}>)"

    def close(self) -> None:
        """Close both connections; later calls raise ``StoreError``."""
        with self._write_lock, self._read_lock:
            self._closed = True
            for conn in (self._writer, self._reader):
                if conn is not None:
                    conn.close()
            self._writer = self._reader = None

    def _connect(self, *, autocommit: bool) -> psycopg.Connection[tuple[Any, ...]]:
        try:
            conn = psycopg.connect(self._dsn, autocommit=autocommit, connect_timeout=self._timeout)
        except psycopg.Error as e:
            raise StoreError(f"cannot connect to {self.where}: {e}") from e
        try:
            conn.execute("SET TIME ZONE 'UTC'")
            if not autocommit:
                # COPY picks dumpers by column type; psycopg's bytea one by type handles
                # DB-API Binary wrappers in Python: take the plain (compiled) bytes dumper.
                conn.adapters.register_dumper(bytes, BytesBinaryDumper)
                for plan in self._plans.values():
                    if plan.make_staging is not None:
                        conn.execute(plan.make_staging)
                conn.commit()
        except psycopg.Error as e:
            conn.close()
            raise StoreError(f"cannot set up a session on {self.where}: {e}") from e
        return conn

    def _conn(self, *, writer: bool) -> psycopg.Connection[tuple[Any, ...]]:
        """Return a live connection, connecting again if the last one was lost."""
        if self._closed:
            raise StoreError(f"the store on {self.where} is closed")
        conn = self._writer if writer else self._reader
        if conn is None or conn.closed:
            conn = self._connect(autocommit=not writer)
            if writer:
                self._writer = conn
            else:
                self._reader = conn
        return conn

    # -- SqlStore -------------------------------------------------------------------------
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock:
            conn = self._conn(writer=False)
            try:
                with conn.cursor() as cur:
                    cur.execute(sql, params)
                    return cur.fetchall()
            except psycopg.Error as e:
                raise StoreError(f"cannot read {self.where}: {e}") from e

    def _write(
        self,
        parts: Parts,
        *,
        replace: bool,
        version: int | None = None,
        then: Statements = (),
    ) -> None:
        with self._write_lock:
            conn = self._conn(writer=True)
            try:
                with conn.cursor() as cur:
                    if replace:
                        for statement in self._q.delete_all.values():
                            cur.execute(statement)
                    merges = []
                    for table, rows in parts:
                        if not rows:
                            continue
                        plan = self._plans[table.name]
                        if plan.merge is None:
                            self._copy_rows(cur, plan, table, rows)
                        else:
                            self._copy_rows(cur, plan, table, unique_rows(table, rows))
                            merges.append(plan.merge)
                    if merges:
                        cur.execute("; ".join(merges), prepare=False)
                    for statement, params in then:
                        cur.executemany(statement, params)
                    if version is not None:
                        cur.execute(self._q.set_projection_version, (version,))
                conn.commit()
            except psycopg.Error as e:
                _rollback(conn)
                raise StoreError(f"cannot commit to {self.where}, nothing written: {e}") from e
            except BaseException:
                _rollback(conn)
                raise

    def _copy_rows(
        self,
        cur: psycopg.Cursor[tuple[Any, ...]],
        plan: WritePlan,
        table: Table[Any],
        rows: Collection[Any],
    ) -> None:
        encode = self._c.by_table[table.name].encode
        with cur.copy(plan.copy) as copy:
            copy.set_types(list(plan.types))
            write_row = copy.write_row
            for row in rows:
                write_row(encode(row))

    def _apply_migration(self, migration: Migration) -> None:
        with self._write_lock:
            conn = self._conn(writer=True)
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    if self._version_on(cur) >= migration.version:
                        conn.rollback()
                        return
                    cur.execute(migration.postgres_sql)
                    cur.execute(
                        self._q.record_migration,
                        (migration.version, migration.description, datetime.now(UTC)),
                    )
                conn.commit()
            except psycopg.Error as e:
                _rollback(conn)
                raise StoreError(
                    f"cannot apply migration {migration.version} to {self.where}: {e}"
                ) from e
            except BaseException:
                _rollback(conn)
                raise

    def _version_on(self, cur: psycopg.Cursor[tuple[Any, ...]]) -> int:
        row = cur.execute(self._q.has_migrations_table).fetchone()
        if row is None or not row[0]:
            return 0
        row = cur.execute(self._q.schema_version).fetchone()
        return int(row[0] or 0) if row else 0


def _rollback(conn: psycopg.Connection[tuple[Any, ...]]) -> None:
    """Roll back what is open; a lost connection has nothing left to roll back."""
    with contextlib.suppress(psycopg.Error):
        conn.rollback()


if TYPE_CHECKING:

    def _implements_the_port(store: PostgresStore) -> EventStore:
        return store
