"""Reconciliation runs in the application: what a run records, raises and reports, with a
memory store, the real sequencer and a statement reader that returns prepared lines."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.clock import ManualClock
from keel.adapters.store.memory import MemoryStore
from keel.app.recon import BrokerSetup, Reconciler, ReconInputError, Statement
from keel.app.sequencer import Sequencer
from keel.domain.enums import OrderStatus, Side
from keel.domain.ids import (
    AccountId,
    ClOrdId,
    ExecId,
    InstrumentId,
    OrderId,
    VenueId,
    VenueOrderId,
)
from keel.domain.inputs import (
    DropCopyReport,
    Fill,
    Input,
    NewOrderAccepted,
    SentToVenue,
    TradeBust,
    TradeCorrection,
    VenueAck,
)
from keel.domain.recon import BrokerFill, BrokerSource
from support.builders import T0, spec

DAY = T0.date()
SIM = VenueId("SIM")


def _stamp(order_id: str) -> dict[str, Any]:
    return {"order_id": OrderId(order_id), "ingest_time": T0, "event_time": T0}


def _filled_order(order_id: str, exec_id: str) -> list[Input]:
    """An order of 300 ACME, sent, acknowledged, and filled 100 @ 10.00 by ``exec_id``."""
    cl = ClOrdId(f"{order_id}.1")
    return [
        NewOrderAccepted(**_stamp(order_id), spec=spec(300), cl_ord_id=cl, actor="alice"),
        SentToVenue(**_stamp(order_id), cl_ord_id=cl),
        VenueAck(**_stamp(order_id), exec_id=ExecId(f"{order_id}-A"), cl_ord_id=cl,
                 venue_order_id=VenueOrderId(f"V-{order_id}")),
        Fill(**_stamp(order_id), exec_id=ExecId(exec_id), cl_ord_id=cl, last_qty=Decimal(100),
             last_px=Decimal("10.00"), cum_qty=Decimal(100), leaves_qty=Decimal(200),
             trade_date=DAY),
    ]  # fmt: skip


def _line(n: int, exec_id: str, cl_ord_id: str, qty: str = "100") -> BrokerFill:
    return BrokerFill(
        BrokerSource.STATEMENT, f"stmt.csv:{n}", ExecId(exec_id), SIM, None,
        ClOrdId(cl_ord_id), AccountId("FUND-A"), InstrumentId("ACME"), Side.BUY,
        Decimal(qty), Decimal("10.00"), DAY,
    )  # fmt: skip


def _reading(*lines: BrokerFill) -> Any:
    def read(broker: str, path: Path, trade_date: date | None) -> Statement:
        return Statement(path.name, b"the file's bytes", 1, lines, len(lines))

    return read


def _copy(exec_id: str, exec_type: str, status: OrderStatus, qty: int = 0) -> DropCopyReport:
    """The broker's drop copy of a report on order O1 (300 ACME, 100 filled by E1)."""
    return DropCopyReport(
        **_stamp(""), broker="SIM", exec_id=ExecId(exec_id), exec_type=exec_type,
        cl_ord_id=ClOrdId("O1.1"), venue_order_id=VenueOrderId("V-O1"), account="FUND-A",
        symbol="ACME", side="BUY", last_qty=Decimal(qty) if qty else None,
        last_px=Decimal("10.00") if qty else None, trade_date=DAY, ord_status=status,
        order_qty=Decimal(300), cum_qty=Decimal(100), leaves_qty=Decimal(200),
    )  # fmt: skip


def _runs(
    *lines: BrokerFill,
    runs: int = 1,
    copies: tuple[DropCopyReport, ...] = (),
    more: tuple[Input, ...] = (),
    trade_date: date | None = None,
) -> tuple[list[dict[str, Any]], MemoryStore]:
    store = MemoryStore()
    store.migrate()

    async def main() -> list[dict[str, Any]]:
        clock = ManualClock(T0, timedelta(milliseconds=1))
        sequencer = Sequencer(store, clock, tune_collector=False)
        await sequencer.start()
        try:
            for inp in (*_filled_order("O1", "E1"), *more):
                await sequencer.submit(inp, source="test")
            for copy in copies:
                await sequencer.submit(copy, source="dropcopy:SIM")
            recon = Reconciler(sequencer, store, clock, {"SIM": BrokerSetup("SIM", SIM)},
                               _reading(*lines))  # fmt: skip
            return [
                await recon.run("SIM", statement=Path("stmt.csv"), trade_date=trade_date)
                for _ in range(runs)
            ]
        finally:
            await sequencer.stop()

    return asyncio.run(main()), store


def test_a_statement_that_agrees_is_a_clean_run_and_is_kept_as_an_input() -> None:
    [run], store = _runs(_line(2, "E1", "O1.1"))

    assert run["result"] == "CLEAN"
    assert run["breaks"] == []
    assert run["summary"]["matched_by_exec_id"] == 1
    [kept] = store.inputs_from("STATEMENT", "statement:SIM")
    assert kept.raw == b"the file's bytes"
    assert run["summary"]["inputs"]["statement"]["input_seq"] == kept.input_seq


def test_a_fill_the_broker_has_on_a_keel_order_is_raised_on_that_order_once() -> None:
    (first, second), store = _runs(_line(2, "E1", "O1.1"), _line(3, "E2", "O1.1", "50"), runs=2)

    [found] = first["breaks"]  # the position difference is what this fill adds up to
    assert (found["kind"], found["state"], found["order_id"]) == (
        "MISSING_INTERNALLY", "RAISED", "O1",
    )  # fmt: skip
    assert [(b["kind"], b["state"]) for b in second["breaks"]] == [
        ("MISSING_INTERNALLY", "STILL_OPEN")
    ]
    assert [x.kind for x in store.exceptions_for_order("O1")] == ["MISSING_INTERNALLY"]
    assert len(store.inputs_from("STATEMENT", "statement:SIM")) == 2  # the same file twice
    assert (
        second["summary"]["inputs"]["statement"]["input_seq"]
        == (first["summary"]["inputs"]["statement"]["input_seq"])
    )


def test_a_run_for_one_trade_day_compares_only_that_days_fills() -> None:
    next_day = [replace(i, trade_date=DAY + timedelta(days=1)) if isinstance(i, Fill) else i
                for i in _filled_order("O2", "E2")]  # fmt: skip

    [one_day], _ = _runs(_line(2, "E1", "O1.1"), more=tuple(next_day), trade_date=DAY)
    [every_day], _ = _runs(_line(2, "E1", "O1.1"), more=tuple(next_day))

    assert one_day["result"] == "CLEAN"
    assert one_day["summary"]["matched_by_exec_id"] == 1
    assert [(b["kind"], b["order_id"]) for b in every_day["breaks"] if b["level"] == "FILL"] == [
        ("MISSING_AT_BROKER", "O2")
    ]  # without a date, every fill Keel holds is compared with the statement


def test_a_fill_for_an_order_keel_never_had_becomes_a_case_of_its_own_once() -> None:
    (run, again), store = _runs(_line(2, "E1", "O1.1"), _line(3, "E9", "NOBODY.1"), runs=2)

    assert run["result"] == "BREAKS"
    [found] = run["breaks"]
    assert (found["kind"], found["state"], found["order_id"]) == (
        "MISSING_INTERNALLY", "RAISED", None,
    )  # fmt: skip
    case = store.find_exception(found["exception_id"])
    assert case is not None
    assert (case.kind, case.order_id, case.status) == ("MISSING_INTERNALLY", None, "OPEN")
    assert [b["state"] for b in again["breaks"]] == ["STILL_OPEN"]
    assert [x.kind for x in store.exceptions_for_order("O1")] == []


def test_the_drop_copys_view_of_an_order_is_compared_with_keels() -> None:
    agreeing = _copy("E1", "F", OrderStatus.PARTIALLY_FILLED, 100)
    canceled = _copy("E1-X", "4", OrderStatus.CANCELED)

    [quiet], _ = _runs(_line(2, "E1", "O1.1"), copies=(agreeing,))
    [run], store = _runs(_line(2, "E1", "O1.1"), copies=(agreeing, canceled))

    assert quiet["result"] == "CLEAN"
    assert quiet["summary"]["orders_compared"] == 1
    [found] = run["breaks"]
    assert (found["kind"], found["level"], found["order_id"]) == ("STATUS_MISMATCH", "ORDER", "O1")
    assert "Keel has it PARTIALLY_FILLED, the venue reports it CANCELED" in found["explanation"]
    assert [x.kind for x in store.exceptions_for_order("O1")] == ["STATUS_MISMATCH"]


def test_a_working_order_the_drop_copy_does_not_list_is_missing_at_the_broker() -> None:
    listed = _copy("E1", "F", OrderStatus.PARTIALLY_FILLED, 100)
    filled_o3 = [*_filled_order("O3", "E3")[:3],
                 Fill(**_stamp("O3"), exec_id=ExecId("E3"), cl_ord_id=ClOrdId("O3.1"),
                      last_qty=Decimal(300), last_px=Decimal("10.00"), cum_qty=Decimal(300),
                      leaves_qty=Decimal(0), trade_date=DAY)]  # fmt: skip

    [run], _ = _runs(
        _line(2, "E1", "O1.1"),
        _line(3, "E2", "O2.1"),
        _line(4, "E3", "O3.1", "300"),
        copies=(listed,),
        more=(*_filled_order("O2", "E2"), *filled_o3),
    )

    assert [(b["kind"], b["level"], b["order_id"]) for b in run["breaks"]] == [
        ("MISSING_AT_BROKER", "ORDER", "O2")
    ]  # O3 is filled: a closed order the venue need not list
    assert run["summary"]["orders_compared"] == 1


def test_a_bust_and_a_correction_on_the_drop_copy_are_applied_before_comparing() -> None:
    traded = _copy("E1", "F", OrderStatus.PARTIALLY_FILLED, 100)
    busted = replace(_copy("E1-B", "H", OrderStatus.NEW), ref_exec_id=ExecId("E1"))
    corrected = replace(
        _copy("E1-C", "G", OrderStatus.PARTIALLY_FILLED, 80), ref_exec_id=ExecId("E1")
    )
    bust = TradeBust(**_stamp("O1"), exec_id=ExecId("E1-B"), ref_exec_id=ExecId("E1"))
    correction = TradeCorrection(**_stamp("O1"), exec_id=ExecId("E1-C"),
                                 ref_exec_id=ExecId("E1"), last_qty=Decimal(80),
                                 last_px=Decimal("10.00"))  # fmt: skip

    [after_bust], _ = _runs(copies=(traded, busted), more=(bust,))
    [after_correction], _ = _runs(copies=(traded, corrected), more=(correction,))
    [unmatched], _ = _runs(copies=(traded, corrected), more=(bust,))

    fill_breaks = [b for b in after_bust["breaks"] if b["level"] == "FILL"]
    assert fill_breaks == []
    assert [b for b in after_correction["breaks"] if b["level"] == "FILL"] == []
    assert [b["kind"] for b in unmatched["breaks"] if b["level"] == "FILL"] == [
        "MISSING_INTERNALLY"
    ]  # the broker corrected a trade Keel busted


def test_an_unknown_broker_is_refused_before_anything_is_recorded() -> None:
    store = MemoryStore()
    store.migrate()

    async def main() -> None:
        clock = ManualClock(T0, timedelta(milliseconds=1))
        sequencer = Sequencer(store, clock, tune_collector=False)
        await sequencer.start()
        try:
            recon = Reconciler(sequencer, store, clock, {}, _reading())
            with pytest.raises(ReconInputError, match="unknown broker 'SIM'"):
                await recon.run("SIM", statement=Path("stmt.csv"))
        finally:
            await sequencer.stop()

    asyncio.run(main())
    assert store.read_inputs() == []
