"""What only the SQLite store promises: its file, WAL, and the durability setting."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from integration.store.rows import Desk
from keel.adapters.store.schema import latest_version
from keel.adapters.store.sqlite import SqliteStore, sqlite_statements
from keel.adapters.store.tables import ALL_TABLES
from keel.app.errors import StoreError


def test_the_database_file_and_its_directory_are_created(tmp_path: Path) -> None:
    path = tmp_path / "var" / "desk" / "keel.db"
    with SqliteStore(path) as store:
        store.migrate()
        store.commit(Desk().accept("ORD-1"))
        assert path.exists()
        assert path.with_name("keel.db-wal").exists()


def test_synchronous_is_full_unless_told_normal(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "a.db") as full, SqliteStore(tmp_path / "b.db", "normal") as normal:
        assert (full.synchronous, normal.synchronous) == ("FULL", "NORMAL")
    with pytest.raises(ValueError, match="synchronous"):
        SqliteStore(tmp_path / "c.db", synchronous="OFF")


def test_the_writer_checkpoints_every_10000_pages_with_a_64_mib_cache(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "keel.db") as store:
        writer = store._writer  # the setting lives on the connection
        assert writer is not None
        assert writer.execute("PRAGMA wal_autocheckpoint").fetchone() == (10_000,)
        assert writer.execute("PRAGMA cache_size").fetchone() == (-64 * 1024,)


def test_a_private_in_memory_database_works_on_one_connection() -> None:
    with SqliteStore(":memory:") as store:
        assert store.migrate() == latest_version()
        store.commit(Desk().accept("ORD-1"))
        assert store.head().last_event_seq == 1


def test_a_path_that_cannot_be_a_database_raises_store_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StoreError, match="cannot open"):
        SqliteStore(tmp_path / "file" / "keel.db")


def test_two_stores_on_one_file_see_each_others_commits(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "keel.db") as writer, SqliteStore(tmp_path / "keel.db") as other:
        writer.migrate()
        writer.commit(Desk().accept("ORD-1"))
        assert other.open_order_ids() == ["ORD-1"]


def test_the_tables_have_exactly_the_described_columns(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "keel.db") as store:
        store.migrate()
    conn = sqlite3.connect(tmp_path / "keel.db")
    try:
        for table in ALL_TABLES:
            info = conn.execute(f"PRAGMA table_info({table.name})").fetchall()
            assert tuple(name for _, name, *_ in info) == table.names
            not_null = {name: bool(flag) for _, name, _, flag, *_ in info}
            for column in table.columns:
                if column.name not in table.key:
                    assert not_null[column.name] is not column.nullable, column
    finally:
        conn.close()


def test_migration_sql_splits_into_whole_statements() -> None:
    script = """
        CREATE TABLE a (x TEXT DEFAULT ';');
        CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 'b;c'; END;
        INSERT INTO a (x) VALUES ('d')
    """
    statements = sqlite_statements(script)
    assert len(statements) == 3
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")
    assert sqlite_statements("  \n") == []
    with pytest.raises(StoreError, match="incomplete"):
        sqlite_statements("CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1;")
