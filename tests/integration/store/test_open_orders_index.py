"""The partial index of open orders says 'open' exactly as the start-up query does."""

from __future__ import annotations

from keel.adapters.store.schema import MIGRATIONS
from keel.adapters.store.sql import literals
from keel.adapters.store.tables import TERMINAL


def test_the_open_orders_index_has_the_start_up_querys_predicate() -> None:
    predicate = f"WHERE status NOT IN ({literals(TERMINAL)})"
    first = MIGRATIONS[0]
    assert predicate in first.sqlite_sql
    assert predicate in first.postgres_sql
