"""Fixtures for the store tests: a store of each kind, and PostgreSQL when it is there.

PostgreSQL: one fresh database per test session (``keel_test_<pid>_<random>``, dropped at
the end) and one fresh schema per test, so runs and tests never collide. When the server
does not answer within 2 s the postgres tests are skipped, unless ``CI=true``: then they
fail, because CI must run them all. ``KEEL_TEST_PG_DSN`` points them at another server.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.store.memory import MemoryStore
from keel.adapters.store.pg_admin import check_server, create_database, create_schema, drop_database
from keel.adapters.store.postgres import PostgresStore
from keel.adapters.store.schema import MIGRATIONS, Migration
from keel.adapters.store.sqlite import SqliteStore
from keel.app.errors import StoreError
from keel.app.ports import EventStore

PG_ADMIN_DSN = os.environ.get("KEEL_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_UNREACHABLE = (
    "PostgreSQL not reachable on 127.0.0.1:5432: start it (pg_ctlcluster 15 main start) "
    "to run the postgres store tests"
)

ALL_BACKENDS = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DURABLE_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

_schemas = itertools.count(1)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """Return the DSN of a database made for this test session, dropped after it."""
    try:
        check_server(PG_ADMIN_DSN, timeout=2)
    except StoreError as e:
        if in_ci():
            pytest.fail(f"{PG_UNREACHABLE} (CI=true, so they may not be skipped): {e}")
        pytest.skip(PG_UNREACHABLE)
    name = f"keel_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:  # a locale whose order is not code point order, as production databases often have
        dsn = create_database(PG_ADMIN_DSN, name, icu_locale="en-US")
    except StoreError:  # a server without ICU or older than 15
        dsn = create_database(PG_ADMIN_DSN, name)
    try:
        yield dsn
    finally:
        drop_database(PG_ADMIN_DSN, name)


@pytest.fixture
def pg_dsn(pg_database: str) -> str:
    """Return a DSN whose search_path is a schema of its own, new for this test."""
    return create_schema(pg_database, f"t{os.getpid()}_{next(_schemas)}")


@dataclass
class Backend:
    """Opens stores of one kind on one database (for the memory store, a new one each time)."""

    name: str
    factory: Callable[[Sequence[Migration]], EventStore]
    opened: list[EventStore] = field(default_factory=list)

    def open(self, migrations: Sequence[Migration] = MIGRATIONS) -> EventStore:
        store = self.factory(migrations)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


def make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Return a ``Backend`` of kind ``name`` with a database of its own."""
    if name == "memory":
        return Backend(name, MemoryStore)
    if name == "sqlite":
        path = tmp_path / "var" / "keel.db"
        return Backend(name, lambda migrations: SqliteStore(path, migrations=migrations))
    dsn = request.getfixturevalue("pg_dsn")
    return Backend(name, lambda migrations: PostgresStore(dsn, migrations=migrations))


@pytest.fixture(params=ALL_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A backend of each kind: memory, SQLite, PostgreSQL."""
    made = make_backend(request.param, request, tmp_path)
    yield made
    made.close_all()


@pytest.fixture(params=DURABLE_BACKENDS)
def durable_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A backend of each kind that keeps its data when its store is closed."""
    made = make_backend(request.param, request, tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def store(backend: Backend) -> EventStore:
    """A migrated, empty store of each kind."""
    opened = backend.open()
    opened.migrate()
    return opened


@pytest.fixture
def every_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """One migrated store of each kind at once, by name."""
    backends = [make_backend(n, request, tmp_path) for n in ("memory", "sqlite", "postgres")]
    stores = {b.name: b.open() for b in backends}
    for s in stores.values():
        s.migrate()
    yield stores
    for b in backends:
        b.close_all()
