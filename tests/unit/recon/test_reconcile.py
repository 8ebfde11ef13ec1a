"""One reconciliation run over every level, tolerances, and breaks' keys."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from keel.domain.enums import OrderStatus
from keel.domain.errors import ValidationError
from keel.domain.recon import (
    Break,
    BreakKind,
    BreakLevel,
    Evidence,
    EvidenceKind,
    Tolerances,
    break_key,
    match_fills,
    merge_breaks,
    reconcile,
)
from unit.recon.builders import T0, keel_fill, keel_order, kinds, reported, venue_says


def test_a_run_with_a_dropped_fill_a_duplicate_and_an_order_left_open_finds_each_once() -> None:
    ours = [keel_fill(n) for n in range(1, 6)]
    theirs = [reported(f) for f in ours if f.exec_id != "E2"]
    theirs.append(reported(ours[3], ref="stmt.csv:77"))
    done = keel_order(1, status=OrderStatus.FILLED, cum_qty="300")
    stuck = keel_order(2, status=OrderStatus.PENDING_CANCEL)
    result = reconcile(
        ours,
        theirs,
        keel_orders=[done, stuck],
        venue_orders=[venue_says(stuck, status=OrderStatus.CANCELED)],
        as_of=T0 + timedelta(minutes=1),
    )
    assert [(b.level.value, b.kind.value) for b in result.breaks] == [
        ("FILL", "DUPLICATE_AT_BROKER"),
        ("FILL", "MISSING_AT_BROKER"),
        ("ORDER", "STATUS_MISMATCH"),
        ("POSITION", "QUANTITY_MISMATCH"),
    ]
    assert result.counts() == {
        BreakKind.DUPLICATE_AT_BROKER: 1,
        BreakKind.MISSING_AT_BROKER: 1,
        BreakKind.STATUS_MISMATCH: 1,
        BreakKind.QUANTITY_MISMATCH: 1,
    }
    assert result.orders is not None
    assert result.fills.matched_by_exec_id == 4


def test_orders_are_only_compared_when_the_venues_snapshot_time_is_given() -> None:
    result = reconcile([], [], keel_orders=[keel_order(1)])
    assert result.orders is None
    assert result.breaks == ()


def test_the_fallback_prefers_the_candidate_on_the_reports_account() -> None:
    theirs_a = keel_fill(1, order=5, account="FUND-A")
    theirs_b = keel_fill(2, order=5, account="FUND-B")
    report = reported(theirs_b, exec_id="TRD-1")
    [pair] = match_fills([theirs_a, theirs_b], [report]).pairs
    assert pair.keel.account == "FUND-B"


def test_tolerances_refuse_what_cannot_be_a_tolerance() -> None:
    with pytest.raises(ValidationError, match="price_tolerance: must not be negative"):
        Tolerances(price_tolerance=Decimal("-0.01"))
    with pytest.raises(ValidationError, match="price_decimals"):
        Tolerances(price_decimals=-1)
    with pytest.raises(ValidationError, match="time_window"):
        Tolerances(time_window=timedelta(seconds=-1))
    with pytest.raises(ValidationError, match="finite"):
        Tolerances(price_tolerance=Decimal("NaN"))


def test_break_keys_name_the_level_kind_and_ids_only() -> None:
    key = break_key(BreakLevel.FILL, BreakKind.PRICE_MISMATCH, "SIM", "E7")
    assert key == "FILL/PRICE_MISMATCH/SIM/E7"


def test_breaks_found_twice_merge_into_one_with_both_evidences() -> None:
    def found(ref: str) -> Break:
        return Break(
            BreakKind.MISSING_INTERNALLY, BreakLevel.FILL, "FILL/MISSING_INTERNALLY/SIM/E1",
            "first words win", (), (), (Evidence(EvidenceKind.STATEMENT, ref),),
        )  # fmt: skip

    [merged] = merge_breaks([found("a.csv:1"), found("a.csv:1"), found("b.csv:2")])
    assert [e.ref for e in merged.evidence] == ["a.csv:1", "b.csv:2"]
    assert kinds([merged]) == ["MISSING_INTERNALLY"]


def test_a_break_lists_both_sides_and_its_evidence_as_labelled_pairs() -> None:
    ours = keel_fill(4, qty="100")
    [found] = match_fills([ours], [reported(ours, qty="90")]).breaks
    pairs = found.labelled()
    assert ("keel qty", "100") in pairs
    assert ("broker qty", "90") in pairs
    assert pairs[-3:] == (
        ("STATEMENT", "stmt.csv:4"), ("KEEL_FILL", "ORD-4-F4"), ("KEEL_ORDER", "ORD-4"),
    )  # fmt: skip
