"""The SQL both SQL stores run, built once per dialect from the table descriptions.

Only the placeholder style, the catalogue lookup and one string function differ between
SQLite and PostgreSQL; everything else is the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keel.adapters.store.tables import (
    ACTIVE_FILL,
    ALL_TABLES,
    EVENTS,
    EXCEPTIONS,
    FILLS,
    INPUTS,
    KEYS,
    LINKS,
    POSITIONS,
    PROJECTIONS,
    REF_KINDS,
    TERMINAL,
    Table,
)


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between the SQL stores' SQL."""

    name: str
    param: str
    """The placeholder for one parameter."""
    has_migrations_table: str
    """A query answering one row, one column: 1 when ``schema_migrations`` exists, else 0."""
    after_first_colon: str
    """An expression giving the part of ``ref`` after its first ``:`` (all of it if none)."""


SQLITE = Dialect(
    "sqlite",
    "?",
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
    "substr(ref, instr(ref, ':') + 1)",
)
POSTGRES = Dialect(
    "postgres",
    "%s",
    "SELECT count(to_regclass('schema_migrations'))",
    "substr(ref, strpos(ref, ':') + 1)",
)


def ident(name: str) -> str:
    """Quote an identifier (``key``, ``type``, ``partition`` and ``hash`` are keywords)."""
    return f'"{name}"'


def column_list(table: Table[Any], alias: str = "") -> str:
    """Return ``table``'s columns, quoted, comma-separated, optionally qualified."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + ident(n) for n in table.names)


def literals(values: tuple[str, ...]) -> str:
    """Return SQL string literals for constants of this code (never for input)."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def on_conflict(table: Table[Any]) -> str:
    """Return the clause that makes an INSERT into ``table`` keep its write mode: `` ON
    CONFLICT ... DO UPDATE`` for an upsert, ``DO NOTHING`` to ignore, nothing to insert."""
    key = ", ".join(ident(k) for k in table.key)
    if table.write == "upsert":
        sets = ", ".join(
            f"{ident(n)} = excluded.{ident(n)}" for n in table.names if n not in table.key
        )
        return f" ON CONFLICT ({key}) DO UPDATE SET {sets}"
    if table.write == "ignore":
        return f" ON CONFLICT ({key}) DO NOTHING"
    return ""


def write_sql(dialect: Dialect, table: Table[Any]) -> str:
    """Return the statement that writes one row of ``table`` as its write mode says."""
    params = ", ".join([dialect.param] * len(table.columns))
    sql = f"INSERT INTO {table.name} ({column_list(table)}) VALUES ({params})"
    return sql + on_conflict(table)


class Queries:
    """Every statement of one dialect, as attributes named for what they do."""

    def __init__(self, dialect: Dialect) -> None:
        p = dialect.param
        open_status = f"status NOT IN ({literals(TERMINAL)})"
        self.dialect = dialect
        self.write = {t.name: write_sql(dialect, t) for t in ALL_TABLES}
        self.delete_all = {name: f"DELETE FROM {name}" for name in PROJECTIONS}
        self.projection_version = "SELECT min(version) FROM projection_versions"
        self.set_projection_version = f"UPDATE projection_versions SET version = {p}"

        self.has_migrations_table = dialect.has_migrations_table
        self.schema_version = "SELECT max(version) FROM schema_migrations"
        self.record_migration = (
            f"INSERT INTO schema_migrations (version, description, applied_at) "
            f"VALUES ({p}, {p}, {p})"
        )

        self.head = (
            "SELECT (SELECT max(input_seq) FROM inputs),"
            " (SELECT max(event_seq) FROM events),"
            " (SELECT partition_seq FROM events ORDER BY event_seq DESC LIMIT 1),"
            ' (SELECT "hash" FROM events ORDER BY event_seq DESC LIMIT 1)'
        )
        self.open_order_ids = f"SELECT order_id FROM orders WHERE {open_status} ORDER BY order_id"
        self.find_key = f'SELECT {column_list(KEYS)} FROM idempotency_keys WHERE "key" = {p}'
        self.open_keys = (
            f"SELECT {column_list(KEYS, 'k')} FROM idempotency_keys AS k"
            f" JOIN orders AS o ON o.order_id = k.order_id WHERE o.{open_status}"
            ' ORDER BY k.input_seq, k."key"'
        )
        self.positions = (
            f"SELECT {column_list(POSITIONS)} FROM positions ORDER BY account, instrument"
        )
        self.active_fills = (
            f"SELECT {column_list(FILLS)} FROM fills WHERE account = {p} AND instrument = {p}"
            f" AND state = '{ACTIVE_FILL}' ORDER BY booked_seq, fill_id"
        )
        self.fills_traded_on = (
            f"SELECT {column_list(FILLS)} FROM fills WHERE trade_date = {p}"
            f" OR (trade_date IS NULL AND event_time >= {p} AND event_time < {p})"
            " ORDER BY fill_id"
        )
        self.read_events = (
            f"SELECT {column_list(EVENTS)} FROM events WHERE event_seq > {p}"
            f" ORDER BY event_seq LIMIT {p}"
        )
        self.read_event_rows = (
            'SELECT event_seq, input_seq, order_id, "type", schema_version, payload'
            f" FROM events WHERE event_seq > {p} ORDER BY event_seq LIMIT {p}"
        )
        self.read_inputs = (
            f"SELECT {column_list(INPUTS)} FROM inputs WHERE input_seq > {p}"
            f" ORDER BY input_seq LIMIT {p}"
        )
        self.events_for_order = (
            f"SELECT {column_list(EVENTS)} FROM events WHERE order_id = {p} ORDER BY order_version"
        )
        self.inputs_from = (
            f"SELECT {column_list(INPUTS)} FROM inputs WHERE kind = {p} AND source = {p}"
            " ORDER BY input_seq"
        )
        self.outcomes = "SELECT outcome, count(*) FROM inputs GROUP BY outcome ORDER BY outcome"
        self.order_exists = f"SELECT order_id FROM orders WHERE order_id = {p}"
        self.links_by_ref = (
            f"SELECT kind, order_id FROM order_links WHERE kind IN ({literals(REF_KINDS)})"
            f" AND ref = {p}"
        )
        self.orders_by_bare_ref = (
            f"SELECT DISTINCT order_id FROM order_links WHERE kind = {p}"
            f" AND {dialect.after_first_colon} = {p} ORDER BY order_id LIMIT 2"
        )
        self.fills_for_order = (
            f"SELECT {column_list(FILLS)} FROM fills WHERE order_id = {p}"
            " ORDER BY booked_seq, fill_id"
        )
        self.links_for_order = (
            f"SELECT {column_list(LINKS)} FROM order_links WHERE order_id = {p}"
            " ORDER BY created_seq, kind, ref"
        )
        self.exceptions_for_order = (
            f"SELECT {column_list(EXCEPTIONS)} FROM exceptions WHERE order_id = {p}"
            " ORDER BY input_seq, exception_id"
        )
        self.find_exception = (
            f"SELECT {column_list(EXCEPTIONS)} FROM exceptions WHERE exception_id = {p}"
        )
        self._service_statements(p)
        self.first_page = {name: self._page(t, first=True) for name, t in PROJECTIONS.items()}
        self.next_page = {name: self._page(t, first=False) for name, t in PROJECTIONS.items()}

    def _service_statements(self, p: str) -> None:
        """The statements of the tables beside the log: FIX sessions, halts, audit, users."""
        fix_session_columns = "session_id, epoch, next_sender, next_target, created_at"
        self.fix_session = f"SELECT {fix_session_columns} FROM fix_sessions WHERE session_id = {p}"
        self.save_fix_session = (
            f"INSERT INTO fix_sessions ({fix_session_columns}) VALUES ({p}, {p}, {p}, {p}, {p})"
            " ON CONFLICT (session_id) DO UPDATE SET epoch = excluded.epoch,"
            " next_sender = excluded.next_sender, next_target = excluded.next_target,"
            " created_at = excluded.created_at"
        )
        # parameters: (next_target, session_id, epoch, next_target): never backwards
        self.move_fix_target = (
            f"UPDATE fix_sessions SET next_target = {p}"
            f" WHERE session_id = {p} AND epoch = {p} AND next_target < {p}"
        )
        fix_message_columns = "session_id, epoch, seq, msg_type, raw, sent_at"
        six = ", ".join([p] * 6)
        self.store_fix_message = f"INSERT INTO fix_messages ({fix_message_columns}) VALUES ({six})"
        # parameters: (seq + 1, session_id, epoch, seq)
        self.move_fix_sender = (
            f"UPDATE fix_sessions SET next_sender = {p}"
            f" WHERE session_id = {p} AND epoch = {p} AND next_sender <= {p}"
        )
        self.fix_messages = (
            f"SELECT {fix_message_columns} FROM fix_messages WHERE session_id = {p}"
            f" AND epoch = {p} AND seq >= {p} AND seq <= {p} ORDER BY seq"
        )
        self.save_halt = (
            f"INSERT INTO halts (scope, reason, actor, at) VALUES ({p}, {p}, {p}, {p})"
            " ON CONFLICT (scope) DO UPDATE SET reason = excluded.reason,"
            " actor = excluded.actor, at = excluded.at"
        )
        self.lift_halt = f"DELETE FROM halts WHERE scope = {p}"
        run_columns = (
            "run_id, broker, trade_date, started_at, finished_at, actor, result, summary, breaks"
        )
        self.save_recon_run = (
            f"INSERT INTO recon_runs ({run_columns}) VALUES ({', '.join([p] * 9)})"
        )
        self.recon_run = f"SELECT {run_columns} FROM recon_runs WHERE run_id = {p}"
        self.recon_runs = (
            f"SELECT {run_columns} FROM recon_runs ORDER BY started_at DESC, run_id DESC LIMIT {p}"
        )
        self.halt_exists = f"SELECT count(*) FROM halts WHERE scope = {p}"
        self.halts = "SELECT scope, reason, actor, at FROM halts ORDER BY scope"
        audit_columns = "at, actor, source, method, path, payload, status_code, event_seqs"
        self.record_audit = f"INSERT INTO audit ({audit_columns}) VALUES ({', '.join([p] * 8)})"
        self.audit = (
            f"SELECT audit_id, {audit_columns} FROM audit WHERE audit_id > {p}"
            f" ORDER BY audit_id LIMIT {p}"
        )
        user_columns = "name, role, accounts, created_at, revoked_at"
        key_columns = "key_hash, user_name, prefix, created_at, revoked_at"
        self.save_user = (
            f"INSERT INTO users ({user_columns}) VALUES ({', '.join([p] * 5)})"
            " ON CONFLICT (name) DO UPDATE SET role = excluded.role,"
            " accounts = excluded.accounts, revoked_at = excluded.revoked_at"
        )
        self.save_api_key = f"INSERT INTO api_keys ({key_columns}) VALUES ({', '.join([p] * 5)})"
        self.users = f"SELECT {user_columns} FROM users ORDER BY name"
        self.user_by_key = (
            f"SELECT u.name, u.role, u.accounts, u.created_at, u.revoked_at,"
            f" k.key_hash, k.user_name, k.prefix, k.created_at, k.revoked_at"
            f" FROM api_keys AS k JOIN users AS u ON u.name = k.user_name WHERE k.key_hash = {p}"
        )
        self.revoke_user = (
            f"UPDATE users SET revoked_at = {p} WHERE name = {p} AND revoked_at IS NULL"
        )
        self.revoke_keys = (
            f"UPDATE api_keys SET revoked_at = {p} WHERE user_name = {p} AND revoked_at IS NULL"
        )
        self.user_exists = f"SELECT count(*) FROM users WHERE name = {p}"

    def inputs_in(self, count: int) -> str:
        """Return the query for the inputs whose sequence is one of ``count`` parameters."""
        params = ", ".join([self.dialect.param] * count)
        return (
            f"SELECT {column_list(INPUTS)} FROM inputs WHERE input_seq IN ({params})"
            " ORDER BY input_seq"
        )

    def _page(self, table: Table[Any], *, first: bool) -> str:
        p = self.dialect.param
        key = ", ".join(ident(k) for k in table.key)
        where = "" if first else f" WHERE ({key}) > ({', '.join([p] * len(table.key))})"
        return f"SELECT {column_list(table)} FROM {table.name}{where} ORDER BY {key} LIMIT {p}"
