"""The composition root: the one place that knows which adapter implements which port.

A database is named by a URL: ``sqlite:///var/keel.db`` (a path relative to the working
directory; ``sqlite:////abs/path.db`` for an absolute one), ``sqlite:///path?synchronous=NORMAL``
to trade power-loss durability for speed, or ``postgresql://user@host:port/dbname``. The
default is ``KEEL_DB`` from the environment, else ``sqlite:///var/keel.db``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from keel.adapters.store.memory import MemoryStore
from keel.adapters.store.postgres import PostgresStore
from keel.adapters.store.sqlite import SqliteStore
from keel.app.ports import EventStore
from keel.domain.errors import ValidationError

DEFAULT_DB = "sqlite:///var/keel.db"


def database_url(explicit: str | None = None) -> str:
    """Return the database URL to use: the one given, ``KEEL_DB``, or the default."""
    return explicit or os.environ.get("KEEL_DB") or DEFAULT_DB


def open_store(url: str, *, migrate: bool = True) -> EventStore:
    """Open the store a URL names and bring its schema up to date."""
    parts = urlsplit(url)
    store: EventStore
    if parts.scheme == "sqlite":
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if not path:
            raise ValidationError("db", f"{url!r} names no file (sqlite:///var/keel.db)")
        options = parse_qs(parts.query)
        synchronous = options.get("synchronous", ["FULL"])[0].upper()
        if synchronous not in ("FULL", "NORMAL"):
            raise ValidationError("db", f"synchronous must be FULL or NORMAL, not {synchronous}")
        store = SqliteStore(Path(path), synchronous=synchronous)
    elif parts.scheme in ("postgresql", "postgres"):
        store = PostgresStore(url)
    elif parts.scheme == "memory":
        store = MemoryStore()
    else:
        raise ValidationError(
            "db", f"{url!r}: use sqlite:///path/to/keel.db or postgresql://user@host/db"
        )
    if migrate:
        store.migrate()
    return store
