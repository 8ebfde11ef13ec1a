"""Keel's configuration file: what it reads, and errors that name the file and the key."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import keel.config
from keel.app.records import UserRow
from keel.config import ConfigError, load_config, resolve_client_users

EXAMPLE = """
[node]
default_venue = "SIM"

[[instruments]]
symbol = "ACME"
tick = "0.01"
lot = "1"

[[instruments]]
symbol = "BOLT"
tick = "0.05"
lot = "100"
currency = "EUR"

[[risk]]
account = "FUND-A"
max_order_qty = "10000"
collar = "0.05"

[[risk]]
max_notional = "5000000"

[fix]
listen_port = 9878
secrets_file = "secrets.toml"

[[fix.clients]]
comp_id = "CLIENT1"
version = "4.2"
user = "alice"
accounts = ["FUND-A", "FUND-B"]
heartbeat = 10
reset_on_logon = true
pending_new = false

[[fix.venues]]
venue = "SIM"
host = "127.0.0.1"
port = 9880
target_comp_id = "SIMX"
username = "keel"
password = { env = "KEEL_SIM_PASSWORD" }
schedule = { start = "07:00", end = "21:00" }
mapping = { version = 3, send_account = false, mass_status = true }

[[fix.venues]]
venue = "BRKR"
port = 9881
password = { secret = "brkr" }

[[recon.brokers]]
name = "SIMB"
venue = "SIM"
price_decimals = 4
time_window = 10
drop_copy = { port = 9882, target_comp_id = "SIMX", version = "4.2" }

[[recon.statements]]
broker = "SIMB"
version = 1
valid_from = 2026-01-01
date_format = "%Y%m%d"
[recon.statements.columns]
trade_id = "TradeID"
account = "Account"
symbol = "Symbol"
side = "Side"
qty = "Quantity"
price = "Price"
trade_date = "TradeDate"

[monitor]
ack_timeout = 5
status_requests = 2
silence_window = 1800
"""


def write(tmp_path: Path, text: str, name: str = "keel.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_example_file_gives_instruments_clients_and_venues(tmp_path: Path) -> None:
    write(tmp_path, 'brkr = "s3cret"\n', "secrets.toml")
    config = load_config(write(tmp_path, EXAMPLE), {"KEEL_SIM_PASSWORD": "hunter2"})
    node = config.node
    assert node.instruments["BOLT"].lot_size == Decimal(100)
    assert node.instruments["BOLT"].currency == "EUR"
    assert node.instruments["ACME"].price_precision == 2
    (client,) = node.clients
    assert client.config.begin_string == "FIX.4.2"
    assert (client.config.sender_comp_id, client.config.target_comp_id) == ("KEEL", "CLIENT1")
    assert client.accounts == frozenset({"FUND-A", "FUND-B"})
    assert client.config.heartbeat_interval == 10
    assert client.config.reset_on_logon is True
    assert client.pending_new is False
    sim, brkr = node.venues
    assert (sim.venue, sim.port, sim.session.target_comp_id) == ("SIM", 9880, "SIMX")
    assert sim.mapping is not None
    assert (sim.mapping.version, sim.mapping.send_account) == (3, False)
    assert sim.mapping.mass_status is True
    assert sim.password is not None
    assert sim.password.reveal() == "hunter2"
    assert brkr.password is not None
    assert brkr.password.reveal() == "s3cret"
    assert node.default_venue == "SIM"
    assert node.limits[("FUND-A", "*")].max_order_qty == Decimal(10000)
    assert node.limits[("FUND-A", "*")].collar == Decimal("0.05")
    assert node.limits[("*", "*")].max_notional == Decimal(5_000_000)
    assert node.policy.ack_timeout == timedelta(seconds=5)
    assert node.policy.cancel_timeout == timedelta(seconds=10)
    assert node.policy.status_requests_before_stuck == 2
    assert node.policy.silence_window == timedelta(minutes=30)
    broker = node.brokers["SIMB"]
    assert (broker.venue, broker.tolerances.price_decimals) == ("SIM", 4)
    assert broker.tolerances.time_window == timedelta(seconds=10)
    (copy,) = node.drop_copies
    assert (copy.broker, copy.port, copy.session.begin_string) == ("SIMB", 9882, "FIX.4.2")
    assert (copy.session.sender_comp_id, copy.session.target_comp_id) == ("KEEL-DC", "SIMX")
    assert node.read_statement is not None


def test_a_password_never_shows_in_a_repr(tmp_path: Path) -> None:
    write(tmp_path, 'brkr = "s3cret"\n', "secrets.toml")
    config = load_config(write(tmp_path, EXAMPLE), {"KEEL_SIM_PASSWORD": "hunter2"})
    shown = repr(config)
    assert "hunter2" not in shown
    assert "s3cret" not in shown


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('port = 9880', 'port = 70000'), "fix.venues[0].port: must be a whole number from 1"),
        (('tick = "0.01"', "tick = 0.01"), "instruments[0].tick: write it as a string"),
        (('comp_id = "CLIENT1"', 'comp_id = ""'), "fix.clients[0].comp_id: must be"),
        (('version = "4.2"', 'version = "5.0"'), 'fix.clients[0].version: must be "4.2" or "4.4"'),
        (('accounts = ["FUND-A", "FUND-B"]', "accounts = []"),
         "fix.clients[0].accounts: a client session needs at least one account"),
        (('password = { env = "KEEL_SIM_PASSWORD" }', 'password = "hunter2"'),
         "fix.venues[0].password: a password never goes in this file"),
        (('password = { env = "KEEL_SIM_PASSWORD" }', 'password = { env = "NOPE" }'),
         "fix.venues[0].password: the environment variable NOPE is not set"),
        (('password = { secret = "brkr" }', 'password = { secret = "other" }'),
         "fix.venues[1].password: "),
        (('default_venue = "SIM"', 'default_venue = "XYZ"'),
         "node.default_venue: 'XYZ' is not one of fix.venues"),
        (('start = "07:00"', 'start = "7 am"'), "fix.venues[0].schedule.start: must be a time"),
        (('heartbeat = 10', 'heartbeat = "ten"'), "fix.clients[0].heartbeat: must be a whole"),
        (('collar = "0.05"', "collar = 0.05"), "risk[0].collar: write it as a string"),
        (("silence_window = 1800", "silence_window = 0"),
         "monitor.silence_window: must be a whole number from 1"),
        (('name = "SIMB"\nvenue = "SIM"', 'name = "SIMB"\nvenue = "NOPE"'),
         "recon.brokers[0].venue: 'NOPE' is not one of fix.venues"),
        (('broker = "SIMB"', 'broker = "OTHER"'),
         "recon.statements: broker 'OTHER' is not one of recon.brokers"),
        (('qty = "Quantity"\n', ""), "recon.statements[0].columns: needs a column for qty"),
        (("time_window = 10", "time_window = -1"), "recon.brokers[0].time_window: must be"),
    ],
)  # fmt: skip
def test_each_mistake_is_named_by_file_and_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    write(tmp_path, 'brkr = "s3cret"\n', "secrets.toml")
    text = EXAMPLE.replace(*change)
    assert text != EXAMPLE
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, {"KEEL_SIM_PASSWORD": "hunter2"})
    assert str(raised.value).startswith(f"{path}: ")
    assert message in str(raised.value)


def test_a_file_that_is_not_toml_is_named_with_the_reason(tmp_path: Path) -> None:
    path = write(tmp_path, "[node\n")
    with pytest.raises(ConfigError, match=r"keel\.toml: not valid TOML"):
        load_config(path, {})


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "absent.toml", {})


def test_a_client_session_without_accounts_trades_its_users_accounts(tmp_path: Path) -> None:
    text = EXAMPLE.replace('accounts = ["FUND-A", "FUND-B"]\n', "")
    write(tmp_path, 'brkr = "s3cret"\n', "secrets.toml")
    path = write(tmp_path, text)
    config = load_config(path, {"KEEL_SIM_PASSWORD": "x"})
    now = datetime(2026, 3, 2, tzinfo=UTC)
    alice = UserRow("alice", "trader", ("FUND-C",), now)
    resolved = resolve_client_users(config.node, [alice], path)
    assert resolved.clients[0].accounts == frozenset({"FUND-C"})
    assert resolved.clients[0].actor == "user:alice"
    with pytest.raises(ConfigError, match=r"fix.clients\[0\].user: the user 'alice' does not"):
        resolve_client_users(config.node, [], path)
    viewer = UserRow("alice", "viewer", ("FUND-C",), now)
    with pytest.raises(ConfigError, match="is a viewer, who may not trade"):
        resolve_client_users(config.node, [viewer], path)


def test_the_documented_example_is_a_valid_configuration(tmp_path: Path) -> None:
    doc = keel.config.__doc__ or ""
    example = textwrap.dedent(doc.split("An example::", 1)[1])
    config = load_config(write(tmp_path, example), {"KEEL_SIM_PASSWORD": "hunter2"})
    assert config.node.brokers["SIM"].tolerances.price_decimals == 4
    assert config.node.drop_copies[0].session.sender_comp_id == "KEEL-DC"
    assert config.node.policy.silence_window == timedelta(hours=1)
