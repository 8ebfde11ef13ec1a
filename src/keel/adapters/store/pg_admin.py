"""Provisioning PostgreSQL for Keel: check a server answers, create and drop a database or a
schema. Used by the test fixtures and by whoever sets up a deployment; never by the hot path.
"""

from __future__ import annotations

import re

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from keel.adapters.store.postgres import describe
from keel.app.errors import StoreError

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a plain lower-case PostgreSQL name")
    return name


def check_server(dsn: str, timeout: int = 2) -> None:
    """Raise ``StoreError`` unless the server behind ``dsn`` accepts a connection within
    ``timeout`` seconds."""
    try:
        with psycopg.connect(dsn, connect_timeout=timeout, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as e:
        raise StoreError(f"{describe(dsn)} is not reachable: {e}") from e


def create_database(admin_dsn: str, name: str, icu_locale: str | None = None) -> str:
    """Create the database ``name`` and return a DSN for it (the admin DSN, other dbname).

    ``icu_locale`` (PostgreSQL 15+) sets the database's default collation, e.g. ``"en-US"``:
    tests use one whose order is not code point order, as many production databases have.
    """
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_checked(name)))
    if icu_locale is not None:
        statement += sql.SQL(" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE {}").format(
            sql.Literal(icu_locale)
        )
    _run(admin_dsn, statement)
    return make_conninfo(admin_dsn, dbname=name)


def drop_database(admin_dsn: str, name: str) -> None:
    """Drop the database ``name`` if it exists, disconnecting whoever is still connected."""
    _run(
        admin_dsn,
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(_checked(name))),
    )


def create_schema(dsn: str, schema: str) -> str:
    """Create ``schema`` in the database of ``dsn``; return a DSN whose ``search_path`` is it."""
    _run(dsn, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(_checked(schema))))
    return make_conninfo(dsn, options=f"-c search_path={schema}")


def _run(dsn: str, statement: sql.Composed) -> None:
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(statement)
    except psycopg.Error as e:
        raise StoreError(f"{describe(dsn)}: {statement.as_string(None)} failed: {e}") from e
