"""The FIX 4.2 and 4.4 tables: where the versions differ, and QuickFIX reading them too."""

from __future__ import annotations

from pathlib import Path

import pytest

from keel.adapters.fix.codec import encode, parse
from keel.adapters.fix.definitions import FieldType, define, message, section
from keel.adapters.fix.dictionary import FIX42, FIX44, DataDictionary, dictionary_for
from keel.adapters.fix.errors import FixError, FixFieldError

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "fix"
HEAD = [(34, "3"), (49, "BROKER"), (52, "20260302-14:30:00.000"), (56, "KEEL")]
ORDER = [(37, "B-1"), (11, "O-1"), (55, "ACME"), (54, "1"), (151, "600"), (14, "400"),
         (6, "101.25"), (39, "1")]  # fmt: skip


def report(version: str, *fields: tuple[int, str]) -> bytes:
    return encode(version, [(35, "8"), *HEAD, *ORDER, *fields])


def reason(version: str, raw: bytes) -> tuple[int, int | None]:
    with pytest.raises(FixFieldError) as caught:
        dictionary_for(version).validate(parse(raw))
    return caught.value.session_reject_reason, caught.value.tag


def test_dictionary_for_knows_fix42_and_fix44_only() -> None:
    assert dictionary_for("FIX.4.2") is FIX42
    assert dictionary_for("FIX.4.4") is FIX44
    with pytest.raises(FixError, match=r"FIX\.4\.3"):
        dictionary_for("FIX.4.3")


def test_fix42_requires_exec_trans_type_and_fix44_does_not_know_it() -> None:
    FIX42.validate(parse(report("FIX.4.2", (17, "E-1"), (20, "0"), (150, "1"))))

    assert reason("FIX.4.2", report("FIX.4.2", (17, "E-1"), (150, "1"))) == (1, 20)
    assert reason("FIX.4.4", report("FIX.4.4", (17, "E-1"), (20, "0"), (150, "F"))) == (3, 20)


def test_a_fill_is_exec_type_1_or_2_in_fix42_and_f_in_fix44() -> None:
    FIX44.validate(parse(report("FIX.4.4", (17, "E-1"), (150, "F"))))

    assert reason("FIX.4.4", report("FIX.4.4", (17, "E-1"), (150, "1"))) == (5, 150)
    assert reason("FIX.4.4", report("FIX.4.4", (17, "E-1"), (150, "2"))) == (5, 150)
    assert reason("FIX.4.2", report("FIX.4.2", (17, "E-1"), (20, "0"), (150, "F"))) == (5, 150)


def test_trade_corrections_are_exec_type_g_and_h_in_fix44_only() -> None:
    for code in ("G", "H"):
        FIX44.validate(parse(report("FIX.4.4", (17, "E-2"), (19, "E-1"), (150, code))))
        raw = report("FIX.4.2", (17, "E-2"), (19, "E-1"), (20, "2"), (150, code))
        assert reason("FIX.4.2", raw) == (5, 150)


def test_parties_exist_in_fix44_only() -> None:
    parties = [(453, "1"), (448, "MM-7"), (447, "D"), (452, "1")]
    FIX44.validate(parse(report("FIX.4.4", (17, "E-1"), (150, "F"), *parties)))

    assert reason("FIX.4.2", report("FIX.4.2", (17, "E-1"), (20, "0"), (150, "1"), *parties)) == (
        3,
        453,
    )


def test_order_mass_status_request_is_fix44_only() -> None:
    raw = [(35, "AF"), *HEAD, (584, "M-1"), (585, "7")]
    FIX44.validate(parse(encode("FIX.4.4", raw)))

    assert reason("FIX.4.2", encode("FIX.4.2", raw)) == (11, 35)


def test_session_reject_reason_stops_at_11_in_fix42() -> None:
    reject = [(35, "3"), *HEAD, (45, "7"), (373, "13")]
    FIX44.validate(parse(encode("FIX.4.4", reject)))

    assert reason("FIX.4.2", encode("FIX.4.2", reject)) == (5, 373)


def test_the_tables_carry_names_types_groups_and_every_msg_type() -> None:
    assert FIX44.field(32) == FIX44.fields[32]
    assert (FIX44.field(32).name, FIX42.field(32).name) == ("LastQty", "LastShares")  # type: ignore[union-attr]
    assert FIX44.field(34).type is FieldType.SEQNUM  # type: ignore[union-attr]
    assert FIX42.field(34).type is FieldType.INT  # type: ignore[union-attr]
    execution_report = FIX44.message("8")
    assert execution_report is not None
    assert not execution_report.admin
    assert execution_report.required >= {37, 17, 150, 39, 54, 151, 14, 6}
    parties = execution_report.groups[453]
    assert (parties.count_tag, parties.first_tag, parties.fields[:3]) == (453, 448, (448, 447, 452))
    assert parties.groups[802].first_tag == 523
    assert FIX44.message("A").admin  # type: ignore[union-attr]
    assert FIX44.message("E") is None
    assert "E" in FIX44.field(35).values  # type: ignore[operator, union-attr]
    assert FIX42.field(999) is None


def test_a_table_naming_an_undefined_field_is_refused() -> None:
    with pytest.raises(FixError, match=r"undefined tags \[58\]"):
        DataDictionary(
            "FIX.4.4",
            [define(t, f"F{t}", FieldType.STRING) for t in (8, 9, 10, 35)],
            section(8, 9, 35),
            section(10),
            [message("0", "Heartbeat", 58)],
        )


def test_a_table_enumerating_a_value_its_type_forbids_is_refused() -> None:
    with pytest.raises(FixError, match="not its type"):
        DataDictionary(
            "FIX.4.4",
            [*(define(t, f"F{t}", FieldType.STRING) for t in (8, 9, 10, 35)),
             define(54, "Side", FieldType.CHAR, "1 22")],
            section(8, 9, 35),
            section(10),
            [message("0", "Heartbeat", 54)],
        )  # fmt: skip


@pytest.mark.parametrize("dictionary", [FIX42, FIX44], ids=["FIX.4.2", "FIX.4.4"])
def test_quickfix_loads_the_dictionary_and_validates_the_golden_files_by_it(
    dictionary: DataDictionary, tmp_path: Path
) -> None:
    quickfix = pytest.importorskip("quickfix")
    path = tmp_path / "dictionary.xml"
    path.write_text(dictionary.to_quickfix_xml())
    peer = quickfix.DataDictionary(str(path))
    folder = "fix42" if dictionary is FIX42 else "fix44"

    files = sorted((GOLDEN / folder).glob("*.fix"))
    assert files
    for file in files:
        text = file.read_bytes().decode("latin-1")
        peer.validate(quickfix.Message(text, peer, True))


def test_quickfix_rejects_by_the_dictionary_what_keel_rejects(tmp_path: Path) -> None:
    quickfix = pytest.importorskip("quickfix")
    path = tmp_path / "FIX44.xml"
    path.write_text(FIX44.to_quickfix_xml())
    peer = quickfix.DataDictionary(str(path))
    raw = report("FIX.4.4", (17, "E-1"), (150, "1"))

    assert reason("FIX.4.4", raw) == (5, 150)
    with pytest.raises(quickfix.IncorrectTagValue):
        peer.validate(quickfix.Message(raw.decode(), peer, True))
