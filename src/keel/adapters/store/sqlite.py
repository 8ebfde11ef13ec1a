"""SqliteStore: the embedded default, one SQLite file in WAL mode.

Two connections: the writer (the sequencer's worker thread commits through it) and a reader
(queries from any thread, typically the event loop). In WAL mode a reader never waits for
the writer and sees every commit that returned before its query began. Each connection is
guarded by its own lock, so any thread may call any method.

Durability is ``synchronous``'s business:

- ``FULL`` (the default) fsyncs the WAL at every commit: a commit that returned survives a
  power loss or an operating system crash.
- ``NORMAL`` fsyncs only at checkpoints: a commit survives a crash of the process, but a power
  loss may take the last commits with it. Faster; choose it knowingly.

Automatic WAL checkpoints stay on, on the committing thread, every ``CHECKPOINT_PAGES``
(10,000 pages, 40 MB of WAL) rather than SQLite's 1,000: a batch of fills on a few hundred
working orders dirties over 1,000 pages (each order's entries in each index sit on their own
page), so at 1,000 every such commit also copied its pages into the database file and
synced it. Less often, the pages that every batch dirties again are copied once for many
batches; the price is a rarer, longer checkpoint (p99.9 of small batches ~13 ms instead of
~8 ms on the machine measured, p99 ~1.6 ms instead of ~7 ms). The writer's page cache is
``WRITER_CACHE_MIB`` so that those index pages stay in memory as the file grows.

Values reach the driver as types it binds without its adapter lookup (``str``, ``int``,
``bytearray``): see ``values``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.adapters.store.schema import MIGRATIONS, Migration
from keel.adapters.store.sql import SQLITE, Queries
from keel.adapters.store.sqlbase import Parts, SqlStore, Statements
from keel.adapters.store.values import SQLITE_OUT, Codecs, datetime_text, sqlite_in
from keel.app.errors import StoreError
from keel.app.ports import EventStore

DEFAULT_PATH = Path("var") / "keel.db"
"""Where Keel keeps its database unless told otherwise (relative to the working directory)."""

SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")
CHECKPOINT_PAGES = 10_000
"""WAL pages after which a commit checkpoints (``PRAGMA wal_autocheckpoint``)."""
WRITER_CACHE_MIB = 64
"""The writer connection's page cache (``PRAGMA cache_size``), in MiB."""
MEMORY = ":memory:"


def sqlite_statements(script: str) -> list[str]:
    """Split a migration's SQL into complete statements, in order."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            if statement.strip(";").strip():
                statements.append(statement)
            pending = ""
    if pending.strip(" \t\r\n;"):
        raise StoreError(f"an incomplete SQL statement at the end of a migration: {pending!r}")
    return statements


class SqliteStore(SqlStore):
    """The event log and projections in one SQLite file (WAL, ``synchronous=FULL``).

    ``path`` is the database file, created with its parent directory when missing
    (``DEFAULT_PATH`` is Keel's usual place); ``":memory:"`` gives a private in-memory
    database on one connection. ``timeout`` is how long to wait for another process's lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        synchronous: str = "FULL",
        *,
        timeout: float = 5.0,
        migrations: Sequence[Migration] = MIGRATIONS,
    ) -> None:
        mode = synchronous.upper()
        if mode not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}, not {mode!r}")
        super().__init__(Queries(SQLITE), Codecs(sqlite_in(), SQLITE_OUT), migrations)
        self.path = str(path)
        self.synchronous = mode
        in_memory = self.path == MEMORY
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        try:
            if not in_memory:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._writer = _connect(self.path, timeout)
            (journal,) = self._writer.execute("PRAGMA journal_mode=WAL").fetchone()
            if not in_memory and str(journal).lower() != "wal":
                raise StoreError(f"{self.path} cannot use WAL mode (journal_mode is {journal})")
            self._writer.execute(f"PRAGMA synchronous={mode}")
            self._writer.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
            self._writer.execute(f"PRAGMA cache_size={-WRITER_CACHE_MIB * 1024}")
            if in_memory:
                self._reader = self._writer
            else:
                self._reader = _connect(self.path, timeout)
                self._reader.execute("PRAGMA query_only=ON")
        except (sqlite3.Error, OSError) as e:
            self._close_connections()
            raise StoreError(f"cannot open the SQLite database {self.path}: {e}") from e
        except BaseException:
            self._close_connections()
            raise
        self._write_lock = threading.Lock()
        self._read_lock = self._write_lock if in_memory else threading.Lock()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r}, synchronous={self.synchronous!r})"

    def close(self) -> None:
        """Close both connections; later calls raise ``StoreError``."""
        with self._write_lock:
            if self._read_lock is self._write_lock:
                self._close_connections()
            else:
                with self._read_lock:
                    self._close_connections()

    def _close_connections(self) -> None:
        for conn in {id(c): c for c in (self._reader, self._writer) if c is not None}.values():
            conn.close()
        self._reader = self._writer = None

    # -- SqlStore -------------------------------------------------------------------------
    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._read_lock:
            try:
                return self._read_conn().execute(sql, params).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"cannot read {self.path}: {e}") from e

    def _write(
        self,
        parts: Parts,
        *,
        replace: bool,
        version: int | None = None,
        then: Statements = (),
    ) -> None:
        with self._write_lock:
            conn = self._write_conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
                if replace:
                    for statement in self._q.delete_all.values():
                        conn.execute(statement)
                for table, rows in parts:
                    if rows:
                        values = self._c.by_table[table.name].encode_all(rows)
                        conn.executemany(self._q.write[table.name], values)
                for statement, params in then:
                    conn.executemany(statement, params)
                if version is not None:
                    conn.execute(self._q.set_projection_version, (version,))
                conn.execute("COMMIT")
            except (sqlite3.Error, OverflowError) as e:
                _rollback(conn)
                raise StoreError(f"cannot commit to {self.path}, nothing written: {e}") from e
            except BaseException:
                _rollback(conn)
                raise

    def _apply_migration(self, migration: Migration) -> None:
        with self._write_lock:
            conn = self._write_conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
                if self._version_on(conn) >= migration.version:
                    conn.execute("ROLLBACK")
                    return
                for statement in sqlite_statements(migration.sqlite_sql):
                    conn.execute(statement)
                applied_at = datetime_text(datetime.now(UTC))
                conn.execute(
                    self._q.record_migration,
                    (migration.version, migration.description, applied_at),
                )
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                _rollback(conn)
                raise StoreError(
                    f"cannot apply migration {migration.version} to {self.path}: {e}"
                ) from e
            except BaseException:
                _rollback(conn)
                raise

    def _version_on(self, conn: sqlite3.Connection) -> int:
        (exists,) = conn.execute(self._q.has_migrations_table).fetchone()
        if not exists:
            return 0
        (version,) = conn.execute(self._q.schema_version).fetchone()
        return int(version or 0)

    def _write_conn(self) -> sqlite3.Connection:
        if self._writer is None:
            raise StoreError(f"the store on {self.path} is not open")
        return self._writer

    def _read_conn(self) -> sqlite3.Connection:
        if self._reader is None:
            raise StoreError(f"the store on {self.path} is not open")
        return self._reader


def _connect(path: str, timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys=OFF")
    return conn


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back what is open; SQLite may have rolled back already (disk full, I/O error)."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


if TYPE_CHECKING:

    def _implements_the_port(store: SqliteStore) -> EventStore:
        return store
