"""Keel's configuration file (TOML): instruments, FIX client sessions and venues.

Every error names the file and the key, e.g. ``keel.toml: fix.venues[0].port: must be a
whole number from 1 to 65535``. Secrets are never in this file: a password is given as
``{ env = "NAME" }`` (read from the environment) or ``{ secret = "name" }`` (read from the
secrets file named by ``fix.secrets_file``, a TOML table of names to values); a plain
string where a password goes is refused, so it cannot be committed by mistake. Secrets are
held only in the ``Secret`` type, whose ``repr`` hides them.

An example::

    [node]
    default_venue = "SIM"

    [[instruments]]
    symbol = "ACME"
    tick = "0.01"
    lot = "1"

    [fix]
    listen_port = 9878

    [[risk]]                     # pre-trade limits; account and symbol default to "*" (any)
    account = "FUND-A"
    max_order_qty = "10000"
    max_notional = "1000000"
    collar = "0.05"              # a limit price at most 5% from the last traded price

    [[fix.clients]]
    comp_id = "CLIENT1"          # the client's SenderCompID; Keel answers as "KEEL"
    version = "4.4"
    user = "alice"               # the session acts as this user (keel users add alice ...)
    accounts = ["FUND-A"]        # optional: without it, the user's own accounts
    pending_new = true           # optional: false sends no PendingNew, only New on the ack

    [[fix.venues]]
    venue = "SIM"
    host = "127.0.0.1"
    port = 9880
    target_comp_id = "SIM"
    password = { env = "KEEL_SIM_PASSWORD" }
    mapping = { mass_status = true }   # after each logon: which orders does the venue hold?

    [[recon.brokers]]            # reconciliation (see docs/reconciliation.md)
    name = "SIM"
    venue = "SIM"                # the venue whose fills this broker reports
    price_decimals = 4           # optional: compare prices to 4 decimals
    time_window = 5              # seconds: how far apart times may be for a fallback match
    drop_copy = { port = 9880, target_comp_id = "SIM", sender_comp_id = "KEEL-DC" }

    [[recon.statements]]         # a broker's statement format; a new version when it changes
    broker = "SIM"
    version = 1
    valid_from = 2026-01-01
    date_format = "%Y%m%d"
    sides = { B = "BUY", S = "SELL", SS = "SELL_SHORT" }
    [recon.statements.columns]   # field = the column's header in the file
    trade_id = "TradeID"
    broker_order_id = "OrderID"
    cl_ord_id = "ClOrdID"
    account = "Account"
    symbol = "Symbol"
    side = "Side"
    qty = "Quantity"
    price = "Price"
    trade_date = "TradeDate"
    settle_date = "SettleDate"

    [monitor]                    # the stuck-order monitor, in seconds (see docs/runbooks/)
    ack_timeout = 10             # an order SENT without an ack: status request, then STUCK_ORDER
    cancel_timeout = 10          # likewise a PENDING_CANCEL
    replace_timeout = 10         # likewise a PENDING_REPLACE
    status_requests = 1          # status requests before STUCK_ORDER
    silence_window = 3600        # a working order with no update for this long: SILENT_ORDER
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from keel.adapters.fix.client_gateway import ClientSession
from keel.adapters.fix.config import SessionConfig, SessionSchedule
from keel.adapters.fix.venue_mapping import VenueMapping
from keel.adapters.statements import StatementMappingError, mappings_from_config
from keel.adapters.statements.source import statement_reader
from keel.app.recon import BrokerSetup
from keel.app.records import UserRow
from keel.app.secret import Secret
from keel.domain.errors import KeelError
from keel.domain.ids import InstrumentId, VenueId
from keel.domain.instruments import Instrument
from keel.domain.recon import Tolerances
from keel.domain.risk import Limits
from keel.domain.state_machine import Policy
from keel.node import CLIENT_MESSAGES, VENUE_MESSAGES, DropCopyLink, NodeConfig, VenueLink

VERSIONS = {"4.2": "FIX.4.2", "4.4": "FIX.4.4", "FIX.4.2": "FIX.4.2", "FIX.4.4": "FIX.4.4"}


class ConfigError(KeelError):
    """The configuration file is wrong; the message names the file and the key."""


@dataclass(frozen=True, slots=True)
class KeelConfig:
    path: Path
    node: NodeConfig
    database: str | None


class _Reader:
    """Reads one file's values, naming each key in its errors."""

    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.path = path
        self.environ = environ
        self.secrets: dict[str, Any] | None = None

    def fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {why}")

    def table(self, data: Mapping[str, Any], key: str, name: str) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(_join(key, name), "must be a table")
        return value

    def tables(self, data: Mapping[str, Any], key: str, name: str) -> list[dict[str, Any]]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(_join(key, name), f"must be an array of tables ([[{name}]])")
        return value

    def text(self, data: Mapping[str, Any], key: str, name: str, default: str | None = None) -> str:
        value = data.get(name, default)
        if not isinstance(value, str) or not value:
            raise self.fail(_join(key, name), "must be a non-empty string")
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, name: str) -> str | None:
        return None if data.get(name) is None else self.text(data, key, name)

    def whole(self, data: Mapping[str, Any], key: str, name: str, default: int,
              low: int, high: int) -> int:  # fmt: skip
        value = data.get(name, default)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.fail(_join(key, name), f"must be a whole number from {low} to {high}")
        return value

    def flag(self, data: Mapping[str, Any], key: str, name: str, default: bool) -> bool:
        value = data.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(_join(key, name), "must be true or false")
        return value

    def decimal(
        self, data: Mapping[str, Any], key: str, name: str, default: str | None = None
    ) -> Decimal:
        value = data.get(name, default)
        if isinstance(value, float):
            raise self.fail(_join(key, name), f'write it as a string ("{value}"): money is exact')
        try:
            number = Decimal(str(value)) if isinstance(value, (str, int)) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number <= 0:
            raise self.fail(_join(key, name), "must be a positive decimal in a string")
        return number

    def optional_decimal(self, data: Mapping[str, Any], key: str, name: str) -> Decimal | None:
        return None if data.get(name) is None else self.decimal(data, key, name)

    def strings(self, data: Mapping[str, Any], key: str, name: str) -> frozenset[str]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(_join(key, name), "must be a list of non-empty strings")
        return frozenset(value)

    def clock_time(self, data: Mapping[str, Any], key: str, name: str, default: str) -> time:
        value = data.get(name, default)
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise self.fail(_join(key, name), 'must be a time of day such as "08:00"') from None

    def password(
        self, data: Mapping[str, Any], key: str, secrets_file: Path | None
    ) -> Secret | None:
        value = data.get("password")
        where = _join(key, "password")
        if value is None:
            return None
        if isinstance(value, str):
            raise self.fail(where, 'a password never goes in this file: use { env = "NAME" } or '
                                   '{ secret = "name" }')  # fmt: skip
        if not isinstance(value, dict) or len(value) != 1:
            raise self.fail(where, 'must be { env = "NAME" } or { secret = "name" }')
        if "env" in value:
            name = str(value["env"])
            if name not in self.environ:
                raise self.fail(where, f"the environment variable {name} is not set")
            return Secret(self.environ[name])
        if "secret" in value:
            if secrets_file is None:
                raise self.fail(where, "fix.secrets_file is not set")
            secrets = self._secrets(secrets_file)
            name = str(value["secret"])
            if not isinstance(secrets.get(name), str):
                raise self.fail(where, f"{secrets_file} has no secret {name!r}")
            return Secret(secrets[name])
        raise self.fail(where, 'must be { env = "NAME" } or { secret = "name" }')

    def _secrets(self, path: Path) -> dict[str, Any]:
        if self.secrets is None:
            try:
                self.secrets = tomllib.loads(path.read_text())
            except OSError as e:
                raise ConfigError(f"{path}: cannot read the secrets file: {e.strerror}") from e
            except tomllib.TOMLDecodeError as e:
                raise ConfigError(f"{path}: not valid TOML: {e}") from e
        return self.secrets


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def load_config(
    path: str | os.PathLike[str], environ: Mapping[str, str] | None = None
) -> KeelConfig:
    """Read and check a configuration file; raise ``ConfigError`` naming the key at fault."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text())
    except OSError as e:
        raise ConfigError(f"{file}: cannot read the configuration: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{file}: not valid TOML: {e}") from e
    r = _Reader(file, os.environ if environ is None else environ)
    node = r.table(data, "", "node")
    instruments = {}
    for n, raw in enumerate(r.tables(data, "", "instruments")):
        key = f"instruments[{n}]"
        symbol = r.text(raw, key, "symbol")
        if symbol in instruments:
            raise r.fail(_join(key, "symbol"), f"{symbol!r} is listed twice")
        tick = r.decimal(raw, key, "tick")
        instruments[symbol] = Instrument(
            InstrumentId(symbol), symbol, tick, r.decimal(raw, key, "lot", "1"),
            r.decimal(raw, key, "min_qty", "1"),
            r.whole(raw, key, "price_precision", max(0, -int(tick.as_tuple().exponent)), 0, 12),
            r.text(raw, key, "currency", "USD"),
        )  # fmt: skip
    fix = r.table(data, "", "fix")
    secrets_name = r.optional_text(fix, "fix", "secrets_file")
    secrets_file = (file.parent / secrets_name) if secrets_name else None
    our_id = r.text(fix, "fix", "comp_id", "KEEL")
    clients = [_client(r, raw, f"fix.clients[{n}]", our_id)
               for n, raw in enumerate(r.tables(fix, "fix", "clients"))]  # fmt: skip
    venues = [_venue(r, raw, f"fix.venues[{n}]", our_id, secrets_file)
              for n, raw in enumerate(r.tables(fix, "fix", "venues"))]  # fmt: skip
    names = [v.venue for v in venues]
    if len(set(names)) != len(names):
        raise r.fail("fix.venues", "two venues have the same name")
    default_venue = r.optional_text(node, "node", "default_venue")
    if default_venue is not None and default_venue not in names:
        raise r.fail("node.default_venue", f"{default_venue!r} is not one of fix.venues")
    limits: dict[tuple[str, str], Limits] = {}
    for n, raw in enumerate(r.tables(data, "", "risk")):
        key = f"risk[{n}]"
        scope = (r.text(raw, key, "account", "*"), r.text(raw, key, "symbol", "*"))
        if scope in limits:
            raise r.fail(key, f"limits for account {scope[0]!r} on {scope[1]!r} are given twice")
        limits[scope] = Limits(
            max_order_qty=r.optional_decimal(raw, key, "max_order_qty"),
            max_notional=r.optional_decimal(raw, key, "max_notional"),
            collar=r.optional_decimal(raw, key, "collar"),
        )
    config = NodeConfig(
        instruments=instruments, clients=clients, venues=venues, limits=limits,
        client_host=r.text(fix, "fix", "listen_host", "127.0.0.1"),
        client_port=r.whole(fix, "fix", "listen_port", 9878, 0, 65535),
        default_venue=default_venue, policy=_policy(r, r.table(data, "", "monitor")),
        **_recon(r, r.table(data, "", "recon"), set(names), our_id, secrets_file),
    )  # fmt: skip
    return KeelConfig(file, config, r.optional_text(node, "node", "database"))


def _policy(r: _Reader, monitor: dict[str, Any]) -> Policy:
    """The stuck-order monitor's settings: timeouts in whole seconds."""
    day = 86_400

    def seconds(name: str, default: int) -> timedelta:
        return timedelta(seconds=r.whole(monitor, "monitor", name, default, 1, 7 * day))

    silence = monitor.get("silence_window")
    return Policy(
        ack_timeout=seconds("ack_timeout", 10),
        cancel_timeout=seconds("cancel_timeout", 10),
        replace_timeout=seconds("replace_timeout", 10),
        status_requests_before_stuck=r.whole(monitor, "monitor", "status_requests", 1, 0, 10),
        silence_window=None if silence is None else seconds("silence_window", 0),
    )


def _recon(r: _Reader, recon: dict[str, Any], venues: set[str], ours: str,
           secrets_file: Path | None) -> dict[str, Any]:  # fmt: skip
    """The brokers Keel reconciles with, their drop-copy sessions and statement formats."""
    try:
        mappings = mappings_from_config(r.tables(recon, "recon", "statements"), "recon.statements")
    except StatementMappingError as e:
        raise ConfigError(f"{r.path}: {e}") from e
    brokers: dict[str, BrokerSetup] = {}
    copies: list[DropCopyLink] = []
    for n, raw in enumerate(r.tables(recon, "recon", "brokers")):
        key = f"recon.brokers[{n}]"
        name = r.text(raw, key, "name")
        if name in brokers:
            raise r.fail(_join(key, "name"), f"{name!r} is listed twice")
        venue = r.text(raw, key, "venue", name)
        if venue not in venues:
            raise r.fail(_join(key, "venue"), f"{venue!r} is not one of fix.venues")
        decimals = raw.get("price_decimals")
        try:
            tolerances = Tolerances(
                None if decimals is None else r.whole(raw, key, "price_decimals", 0, 0, 18),
                r.decimal(raw, key, "price_tolerance", "0") if "price_tolerance" in raw
                else Decimal(0),
                timedelta(seconds=r.whole(raw, key, "time_window", 5, 0, 86_400)),
            )  # fmt: skip
        except KeelError as e:
            raise r.fail(key, str(e)) from e
        brokers[name] = BrokerSetup(name, VenueId(venue), tolerances)
        if "drop_copy" in raw:
            dkey = _join(key, "drop_copy")
            link = r.table(raw, key, "drop_copy")
            session = _session(r, link, dkey, r.text(link, dkey, "sender_comp_id", f"{ours}-DC"),
                               r.text(link, dkey, "target_comp_id", venue), True,
                               frozenset({"8"}))  # fmt: skip
            copies.append(DropCopyLink(
                name, session, r.text(link, dkey, "host", "127.0.0.1"),
                r.whole(link, dkey, "port", 0, 1, 65535), r.password(link, dkey, secrets_file),
            ))  # fmt: skip
    unknown = sorted(set(mappings) - set(brokers))
    if unknown:
        raise r.fail("recon.statements", f"broker {unknown[0]!r} is not one of recon.brokers")
    return {
        "brokers": brokers, "drop_copies": copies,
        "read_statement": statement_reader(mappings) if mappings else None,
    }  # fmt: skip


def _session(r: _Reader, raw: dict[str, Any], key: str, ours: str, theirs: str,
             initiator: bool, messages: frozenset[str]) -> SessionConfig:  # fmt: skip
    version = str(raw.get("version", "4.4"))
    if version not in VERSIONS:
        raise r.fail(_join(key, "version"), 'must be "4.2" or "4.4"')
    schedule_raw = r.table(raw, key, "schedule")
    schedule = SessionSchedule(
        r.clock_time(schedule_raw, _join(key, "schedule"), "start", "00:00"),
        r.clock_time(schedule_raw, _join(key, "schedule"), "end", "00:00"),
        r.flag(schedule_raw, _join(key, "schedule"), "reset_each_period", True),
    )
    return SessionConfig(
        VERSIONS[version], ours, theirs, initiator=initiator,
        heartbeat_interval=r.whole(raw, key, "heartbeat", 30, 1, 3600),
        reset_on_logon=r.flag(raw, key, "reset_on_logon", False),
        reset_on_logout=r.flag(raw, key, "reset_on_logout", False),
        reset_on_disconnect=r.flag(raw, key, "reset_on_disconnect", False),
        validate=r.flag(raw, key, "validate", True),
        sending_time_tolerance=timedelta(
            seconds=r.whole(raw, key, "sending_time_tolerance", 120, 1, 86_400)
        ),
        schedule=schedule, app_msg_types=messages,
        username=r.optional_text(raw, key, "username"),
    )  # fmt: skip


def _client(r: _Reader, raw: dict[str, Any], key: str, ours: str) -> ClientSession:
    comp_id = r.text(raw, key, "comp_id")
    accounts = r.strings(raw, key, "accounts")
    if "accounts" in raw and not accounts:
        raise r.fail(_join(key, "accounts"), "a client session needs at least one account")
    # Without ``accounts``, the session trades the accounts of its ``user`` (keel users).
    session = _session(r, raw, key, r.text(raw, key, "sender_comp_id", ours), comp_id,
                       False, CLIENT_MESSAGES)  # fmt: skip
    return ClientSession(
        session, r.text(raw, key, "user", comp_id), accounts, r.flag(raw, key, "pending_new", True)
    )


def _venue(r: _Reader, raw: dict[str, Any], key: str, ours: str,
           secrets_file: Path | None) -> VenueLink:  # fmt: skip
    venue = r.text(raw, key, "venue")
    session = _session(r, raw, key, r.text(raw, key, "sender_comp_id", ours),
                       r.text(raw, key, "target_comp_id", venue), True, VENUE_MESSAGES)  # fmt: skip
    mapping_raw = r.table(raw, key, "mapping")
    mkey = _join(key, "mapping")
    mapping = VenueMapping(
        venue, r.whole(mapping_raw, mkey, "version", 1, 1, 10_000), session.begin_string,
        send_account=r.flag(mapping_raw, mkey, "send_account", True),
        handl_inst=mapping_raw.get("handl_inst", "1"),
        ex_destination=r.optional_text(mapping_raw, mkey, "ex_destination"),
        mass_status=r.flag(mapping_raw, mkey, "mass_status", False),
    )  # fmt: skip
    password = r.password(raw, key, secrets_file)
    return VenueLink(
        session, r.text(raw, key, "host", "127.0.0.1"), r.whole(raw, key, "port", 0, 1, 65535),
        mapping, password,
    )  # fmt: skip


def resolve_client_users(node: NodeConfig, users: Sequence[UserRow], path: Path) -> NodeConfig:
    """Give each FIX client session without ``accounts`` the accounts of its user, as
    ``keel users`` recorded them; a session whose user is unknown, revoked or may not
    trade is refused with the key at fault."""
    by_name = {u.name: u for u in users}
    sessions = []
    for n, client in enumerate(node.clients):
        key = f"fix.clients[{n}].user"
        user = by_name.get(client.user)
        if client.accounts:
            sessions.append(client)
            continue
        if user is None or user.revoked_at is not None:
            state = "is revoked" if user is not None else "does not exist"
            hint = f"keel users add {client.user} --role trader --accounts ..."
            raise ConfigError(f"{path}: {key}: the user {client.user!r} {state} ({hint})")
        if user.role not in ("trader", "admin"):
            raise ConfigError(f"{path}: {key}: the user {client.user!r} is a {user.role}, "
                              "who may not trade")  # fmt: skip
        sessions.append(replace(client, accounts=frozenset(user.accounts)))
    return replace(node, clients=sessions)
