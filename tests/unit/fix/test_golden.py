"""Golden FIX messages captured from QuickFIX (``tests/fixtures/fix/capture.py``).

Each file parses into the values the table below expects, validates against Keel's
dictionary for its version, and encodes back to the very same bytes (which also proves
BodyLength and CheckSum). Messages QuickFIX builds now, with another SendingTime, differ
from the files only in SendingTime and CheckSum.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from keel.adapters.fix.codec import encode, parse
from keel.adapters.fix.dictionary import dictionary_for

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "fix"
FOLDERS = {"fix42": "FIX.4.2", "fix44": "FIX.4.4"}

COMMON: dict[str, dict[int, str]] = {
    "logon": {35: "A", 49: "KEEL", 98: "0", 108: "30", 141: "Y"},
    "heartbeat": {35: "0", 49: "BROKER", 112: "TEST-7"},
    "test_request": {35: "1", 112: "TEST-7"},
    "resend_request": {35: "2", 7: "5", 16: "0"},
    "sequence_reset_gap_fill": {35: "4", 34: "5", 43: "Y", 123: "Y", 36: "9"},
    "reject": {35: "3", 45: "7", 371: "44", 372: "D", 373: "5", 58: "Price out of range"},
    "logout": {35: "5", 58: "End of day"},
    "new_order_single_limit": {35: "D", 57: "DESK-7", 11: "ORD-42.1", 40: "2", 44: "101.25",
                               38: "1000", 54: "1", 59: "0"},
    "new_order_single_market": {35: "D", 40: "1", 59: "3", 38: "1000"},
    "order_cancel_request": {35: "F", 41: "ORD-42.1", 11: "ORD-42.2", 37: "BRK-000042"},
    "order_cancel_replace_request": {35: "G", 41: "ORD-42.1", 11: "ORD-42.3", 38: "1500",
                                     44: "101.50"},
    "order_status_request": {35: "H", 11: "ORD-42.1", 37: "BRK-000042"},
    "execution_report_new": {35: "8", 150: "0", 39: "0", 151: "1000", 14: "0"},
    "execution_report_canceled": {35: "8", 150: "4", 39: "4", 41: "ORD-42.1", 14: "400"},
    "execution_report_rejected": {35: "8", 150: "8", 39: "8", 103: "3",
                                  58: "Order exceeds credit limit"},
    "order_cancel_reject": {35: "9", 434: "1", 102: "0", 39: "2", 41: "ORD-42.1"},
    "business_message_reject": {35: "j", 45: "8", 372: "D", 379: "ORD-43.1", 380: "2"},
}  # fmt: skip
BY_VERSION: dict[str, dict[str, dict[int, str]]] = {
    "fix42": {
        "execution_report_partial_fill": {20: "0", 150: "1", 39: "1", 32: "400", 31: "101.25"},
        "execution_report_fill": {20: "0", 150: "2", 39: "2", 32: "600", 14: "1000"},
        "execution_report_replaced": {20: "0", 150: "5", 39: "5", 38: "1500", 44: "101.50"},
        "execution_report_trade_correction": {20: "2", 19: "EX-3", 150: "2", 31: "101.21"},
        "execution_report_trade_bust": {20: "1", 19: "EX-2", 150: "1", 14: "600"},
    },
    "fix44": {
        "logon": {553: "keel-desk", 554: "s3cret"},
        "new_order_single_limit": {453: "1", 448: "TRADER-9", 452: "11"},
        "execution_report_partial_fill": {150: "F", 39: "1", 32: "400", 31: "101.25",
                                          453: "2", 448: "VENUE-MM-7"},
        "execution_report_fill": {150: "F", 39: "2", 32: "600", 14: "1000"},
        "execution_report_replaced": {150: "5", 39: "0", 38: "1500", 44: "101.50"},
        "execution_report_trade_correction": {150: "G", 19: "EX-3", 31: "101.21"},
        "execution_report_trade_bust": {150: "H", 19: "EX-2", 14: "600"},
        "order_mass_status_request": {35: "AF", 584: "MASS-1", 585: "7"},
    },
}  # fmt: skip
NAMES = {
    folder: sorted({*COMMON, *BY_VERSION[folder]} - ({"order_mass_status_request"}
                                                      if folder == "fix42" else set()))
    for folder in FOLDERS
}  # fmt: skip
CASES = [(folder, name) for folder, names in NAMES.items() for name in names]


def expected(folder: str, name: str) -> dict[int, str]:
    return {**COMMON.get(name, {}), **BY_VERSION[folder].get(name, {})}


@pytest.mark.parametrize(("folder", "name"), CASES)
def test_golden_file_parses_into_the_expected_values(folder: str, name: str) -> None:
    message = parse((GOLDEN / folder / f"{name}.fix").read_bytes())

    assert message.begin_string == FOLDERS[folder]
    assert message.get_utc(52) is not None
    assert {tag: message.get_str(tag) for tag in expected(folder, name)} == expected(folder, name)


@pytest.mark.parametrize(("folder", "name"), CASES)
def test_golden_file_validates_against_its_versions_dictionary(folder: str, name: str) -> None:
    message = parse((GOLDEN / folder / f"{name}.fix").read_bytes())
    dictionary = dictionary_for(message.begin_string)

    dictionary.validate(message)
    dictionary.validate(parse(message.raw or b""))  # and again, through the layout's plan


@pytest.mark.parametrize(("folder", "name"), CASES)
def test_golden_file_encodes_back_to_the_same_bytes(folder: str, name: str) -> None:
    raw = (GOLDEN / folder / f"{name}.fix").read_bytes()
    message = parse(raw)

    assert encode(message.begin_string, message.fields) == raw


def test_every_golden_file_is_in_the_table() -> None:
    on_disk = {(path.parent.name, path.stem) for path in GOLDEN.glob("fix4*/*.fix")}

    assert on_disk == set(CASES)


def _capture() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fix_capture", GOLDEN / "capture.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fix_capture", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("folder", list(FOLDERS))
def test_fresh_quickfix_messages_differ_from_the_golden_files_only_in_sending_time(
    folder: str,
) -> None:
    pytest.importorskip("quickfix")
    fresh = _capture().build(FOLDERS[folder], "20260303-09:15:42.517")

    assert sorted(fresh) == NAMES[folder]
    for name, text in fresh.items():
        now = parse(text.encode("latin-1"))
        golden = parse((GOLDEN / folder / f"{name}.fix").read_bytes())
        assert now.get(52) == b"20260303-09:15:42.517"
        assert [f for f in now.fields if f[0] != 52] == [f for f in golden.fields if f[0] != 52]
        assert encode(now.begin_string, now.fields) == text.encode("latin-1")
