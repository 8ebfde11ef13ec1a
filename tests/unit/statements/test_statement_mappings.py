"""Statement column mappings from configuration tables: versions, dates, and clear errors."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from keel.adapters.statements import (
    BrokerMappings,
    StatementMappingError,
    broker_mappings,
    mapping_from_dict,
    mappings_from_config,
)
from keel.domain.enums import Side

COLUMNS = {
    "trade_id": "Trade ID", "account": "Account", "symbol": "Symbol", "side": "Side",
    "qty": "Quantity", "price": "Price", "trade_date": "Trade Date",
}  # fmt: skip


def table(**changes: Any) -> dict[str, Any]:
    """A minimal valid mapping table, with ``changes`` applied (``None`` removes a key)."""
    base: dict[str, Any] = {
        "broker": "BROKERX", "version": 1, "valid_from": date(2026, 1, 1),
        "columns": dict(COLUMNS),
    }  # fmt: skip
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def test_a_minimal_table_reads_with_the_usual_defaults() -> None:
    mapping = mapping_from_dict(table(), "recon.statements[0]")
    assert mapping.name == "BROKERX/v1"
    assert (mapping.date_format, mapping.time_format, mapping.delimiter) == (
        "%Y-%m-%d", None, ",",
    )  # fmt: skip
    assert mapping.fill_venue == "BROKERX"
    assert mapping.sides["SS"] is Side.SELL_SHORT


def test_a_broker_s_own_side_codes_are_added_to_the_usual_ones() -> None:
    mapping = mapping_from_dict(table(sides={"x": "sell_short"}))
    assert mapping.sides["X"] is Side.SELL_SHORT
    assert mapping.sides["B"] is Side.BUY


def test_valid_from_may_be_a_toml_date_or_an_iso_string() -> None:
    assert mapping_from_dict(table(valid_from="2026-03-01")).valid_from == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"broker": None}, "recon.statements[3].broker: must be a non-empty string"),
        ({"version": 0}, "recon.statements[3].version: must be a whole number of at least 1"),
        ({"version": "2"}, "recon.statements[3].version: must be a whole number of at least 1"),
        ({"valid_from": "March"}, "recon.statements[3].valid_from: must be a date (2026-03-01)"),
        ({"columns": "Trade ID"}, "recon.statements[3].columns: must be a table"),
        (
            {"columns": {**COLUMNS, "qty": None}},
            "recon.statements[3].columns.qty: must be a column header",
        ),
        (
            {"columns": {k: v for k, v in COLUMNS.items() if k not in ("qty", "price")}},
            "recon.statements[3].columns: needs a column for qty, price",
        ),
        (
            {"columns": {**COLUMNS, "quantity": "Qty"}},
            "recon.statements[3].columns.quantity: is not a statement field",
        ),
        ({"date_format": "%d/%m"}, "recon.statements[3].date_format: '%d/%m' does not read back"),
        ({"date_format": "dd/mm/yyyy"}, "recon.statements[3].date_format: must be a strptime"),
        ({"delimiter": ";;"}, "recon.statements[3].delimiter: must be one character"),
        ({"sides": {"B": "LONG"}}, "recon.statements[3].sides.B: must be one of BUY, SELL"),
        ({"encoding": "klingon"}, "recon.statements[3].encoding: 'klingon' is not a text"),
        ({"skip_lines": -1}, "recon.statements[3].skip_lines: must be a whole number"),
        ({"delimeter": ";"}, "recon.statements[3].delimeter: is not a mapping key"),
    ],
)
def test_a_bad_table_is_refused_naming_the_key(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(StatementMappingError) as caught:
        mapping_from_dict(table(**changes), "recon.statements[3]")
    assert str(caught.value).startswith(message)
    assert caught.value.key.startswith("recon.statements[3]")


def test_each_broker_s_versions_are_gathered_and_picked_by_trade_date() -> None:
    brokers = mappings_from_config(
        [
            table(version=2, valid_from=date(2026, 3, 1)),
            table(),
            table(broker="OTHER"),
        ]
    )
    assert sorted(brokers) == ["BROKERX", "OTHER"]
    brokerx = brokers["BROKERX"]
    assert [m.version for m in brokerx.versions] == [1, 2]
    assert brokerx.for_date(date(2026, 2, 28)).version == 1
    assert brokerx.for_date(date(2026, 3, 1)).version == 2
    assert brokerx.for_date(date(2027, 1, 1)).version == 2
    with pytest.raises(StatementMappingError, match="no statement mapping is valid on 2025"):
        brokerx.for_date(date(2025, 6, 30))


def test_versions_must_be_numbered_in_the_order_they_take_over() -> None:
    with pytest.raises(StatementMappingError, match=r"BROKERX/v1: is valid from 2026-03-01"):
        broker_mappings(
            [
                mapping_from_dict(table(version=2)),
                mapping_from_dict(table(version=1, valid_from=date(2026, 3, 1))),
            ]
        )


def test_two_versions_may_not_start_on_the_same_day() -> None:
    with pytest.raises(StatementMappingError, match="as BROKERX/v1 is"):
        broker_mappings([mapping_from_dict(table()), mapping_from_dict(table(version=2))])


def test_a_broker_needs_at_least_one_version() -> None:
    with pytest.raises(StatementMappingError, match="has no statement mapping"):
        BrokerMappings("BROKERX", ())


def test_a_list_entry_that_is_not_a_table_is_named() -> None:
    with pytest.raises(StatementMappingError, match=r"statements\[1\]: must be a table"):
        mappings_from_config([table(), "BROKERX"])  # type: ignore[list-item]
