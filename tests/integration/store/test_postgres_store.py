"""What only the PostgreSQL store promises: connections, lost and found again."""

from __future__ import annotations

import time

import psycopg
import pytest

from integration.store.rows import Desk
from keel.adapters.store.postgres import PostgresStore, describe
from keel.adapters.store.tables import ALL_TABLES
from keel.app.errors import StoreError


def test_a_server_that_does_not_answer_raises_store_error_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(StoreError, match="cannot connect"):
        PostgresStore("postgresql://postgres@127.0.0.1:1/postgres", connect_timeout=2)
    assert time.monotonic() - started < 5


def test_messages_name_the_database_without_its_password() -> None:
    where = describe("postgresql://keel:s3cret@db.internal:6432/oms")
    assert where == "PostgreSQL oms on db.internal:6432"


@pytest.mark.postgres
def test_a_closed_connection_is_opened_again_by_the_next_call(pg_dsn: str) -> None:
    with PostgresStore(pg_dsn) as store:
        store.migrate()
        desk = Desk()
        store.commit(desk.accept("ORD-1"))
        store._writer.close()  # type: ignore[union-attr]  # as if the server went away
        store._reader.close()  # type: ignore[union-attr]
        store.commit(desk.accept("ORD-2"))
        assert store.head().last_event_seq == 2


@pytest.mark.postgres
def test_the_tables_have_exactly_the_described_columns(pg_dsn: str) -> None:
    with PostgresStore(pg_dsn) as store:
        store.migrate()
    with psycopg.connect(pg_dsn) as conn:
        for table in ALL_TABLES:
            rows = conn.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s"
                " ORDER BY ordinal_position",
                (table.name,),
            ).fetchall()
            assert tuple(name for name, _ in rows) == table.names
            nullable = dict(rows)
            for column in table.columns:
                assert (nullable[column.name] == "YES") is column.nullable, column
