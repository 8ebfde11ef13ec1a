"""PostgresStore: the production store, through psycopg 3.

Two connections: the writer (autocommit off; each commit is one transaction) and a reader
(autocommit on, so each query sees every commit that returned before it began). Each has a
lock, so any thread may call any method. Both run in UTC, so ``TIMESTAMPTZ`` values come
back as ``datetime``s in ``datetime.UTC``.

A commit COPYs the append-only tables (inputs, events, idempotency keys) in binary and
upserts the projection rows with ``executemany``, which psycopg pipelines: the whole batch
costs a few round trips and one fsync, however many rows it holds.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from keel.adapters.store.schema import MIGRATIONS, Migration
from keel.adapters.store.sql import POSTGRES, Queries, column_list
from keel.adapters.store.sqlbase import Parts, SqlStore
from keel.adapters.store.tables import ALL_TABLES, ColumnKind
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
        self._copy = {
            t.name: f"COPY {t.name} ({column_list(t)}) FROM STDIN (FORMAT BINARY)"
            for t in ALL_TABLES
        }
        self._copy_types = {t.name: [_PG_TYPES[c.kind] for c in t.columns] for t in ALL_TABLES}
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

    def _write(self, parts: Parts, *, replace: bool) -> None:
        with self._write_lock:
            conn = self._conn(writer=True)
            try:
                with conn.cursor() as cur:
                    if replace:
                        for statement in self._q.delete_all.values():
                            cur.execute(statement)
                    for table, rows in parts:
                        if not rows:
                            continue
                        encode = self._c.by_table[table.name].encode
                        if table.write == "insert":
                            with cur.copy(self._copy[table.name]) as copy:
                                copy.set_types(self._copy_types[table.name])
                                for row in rows:
                                    copy.write_row(encode(row))
                        else:
                            cur.executemany(self._q.write[table.name], [encode(r) for r in rows])
                conn.commit()
            except psycopg.Error as e:
                _rollback(conn)
                raise StoreError(f"cannot commit to {self.where}, nothing written: {e}") from e
            except BaseException:
                _rollback(conn)
                raise

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
