"""The simulated venue's broker truth over real TCP: a desk trades on its session while a
second client reads the drop copy, and the venue writes its statement file. Faults on the
trading line (a duplicate, a drop) show on the drop copy as a broker's would."""

from __future__ import annotations

import asyncio
import contextlib
import csv
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.fix import tags as t
from keel.adapters.fix.config import FIX42, FIX44, SessionConfig
from keel.adapters.venues.sim import FaultPlan, Trigger
from keel.adapters.venues.sim.fix_venue import (
    RunningSimVenue,
    drop_copy_session,
    venue_session,
)
from keel.adapters.venues.sim.statement import STATEMENT_COLUMNS
from support.aio import until
from support.quickfix_driver import QuickFixPeer, fields_of, needs_quickfix
from support.sim_fix import Fields, FixClient, fields, fix_client
from support.sim_fix import sim_venue as shared_sim_venue

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

ON_BEHALF_OF, DELIVER_TO = 115, 128
COPIED_TAGS = (
    t.ORDER_ID, t.CL_ORD_ID, t.ORIG_CL_ORD_ID, t.EXEC_ID, t.EXEC_TYPE, t.ORD_STATUS,
    t.ACCOUNT, t.SYMBOL, t.SIDE, t.ORDER_QTY, t.PRICE, t.LAST_QTY, t.LAST_PX, t.LEAVES_QTY,
    t.CUM_QTY, t.AVG_PX, t.TRANSACT_TIME, t.TEXT,
)  # fmt: skip
FAULTS = FaultPlan(
    duplicate=Trigger.once_on_fill("C1"),
    drop=Trigger.once_on_fill("C2"),
    late_fill_after_cancel=Trigger.once("C3"),
)


# -- what the clients send -------------------------------------------------------------------
def market_buy(cl_ord_id: str, qty: int) -> Fields:
    return [
        (t.CL_ORD_ID, cl_ord_id), (t.ACCOUNT, "FUND-A"), (t.HANDL_INST, "1"),
        (t.SYMBOL, "ACME"), (t.SIDE, "1"), (t.TRANSACT_TIME, datetime.now(UTC)),
        (t.ORDER_QTY, qty), (t.ORD_TYPE, "1"),
    ]  # fmt: skip


def limit_buy(cl_ord_id: str, qty: int, price: str) -> Fields:
    return [*market_buy(cl_ord_id, qty)[:-1], (t.ORD_TYPE, "2"), (t.PRICE, price)]


def cancel(cl_ord_id: str, orig: str) -> Fields:
    return [
        (t.ORIG_CL_ORD_ID, orig), (t.CL_ORD_ID, cl_ord_id), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
        (t.TRANSACT_TIME, datetime.now(UTC)),
    ]  # fmt: skip


# -- the venue and its clients ---------------------------------------------------------------
Client = FixClient


def client(
    port: int, sender: str, begin_string: str = FIX44, *, logon: bool = True
) -> contextlib.AbstractAsyncContextManager[FixClient]:
    return fix_client(port, sender=sender, begin_string=begin_string, logon=logon)


def sim_venue(
    *, faults: FaultPlan | None = None, drop_copy: Sequence[SessionConfig] = (), **kw: Any
) -> contextlib.AbstractAsyncContextManager[RunningSimVenue]:
    return shared_sim_venue(venue_session(), faults=faults,
                            drop_copy=drop_copy or [drop_copy_session()], **kw)  # fmt: skip


async def trade_through_the_faults(desk: Client) -> list[dict[int, str]]:
    """C1 fills (its fill sent twice), C2 fills (its fill dropped), C3 rests and is canceled
    by C4, then fills late. Return what the desk received: seven reports."""
    await desk.send("D", market_buy("C1", 10))
    await desk.receive(3)
    await desk.send("D", market_buy("C2", 5))
    await desk.receive(4)
    await desk.send("D", limit_buy("C3", 10, "90.00"))
    await desk.receive(5)
    await desk.send("F", cancel("C4", "C3"))
    return await desk.receive(7)


def exec_ids(reports: Sequence[dict[int, str]]) -> list[str]:
    return [r[t.EXEC_ID] for r in reports]


def is_fill(report: dict[int, str]) -> bool:
    return t.LAST_QTY in report


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        assert tuple(reader.fieldnames or ()) == STATEMENT_COLUMNS
        return list(reader)


# -- the drop copy ---------------------------------------------------------------------------
def test_the_drop_copy_shows_every_execution_the_duplicate_twice_and_the_dropped_fill(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with (
            sim_venue(faults=FAULTS) as venue,
            client(venue.port, "KEEL-DC") as drop_copy,
            client(venue.port, "KEEL") as desk,
        ):
            sent = await trade_through_the_faults(desk)
            copies = await drop_copy.receive(8)
            await asyncio.sleep(0.1)

            assert [(r[t.CL_ORD_ID], r[t.EXEC_TYPE]) for r in sent] == [
                ("C1", "0"), ("C1", "F"), ("C1", "F"), ("C2", "0"), ("C3", "0"), ("C4", "4"),
                ("C4", "F"),
            ]  # fmt: skip
            assert len(drop_copy.messages) == 8
            assert [(r[t.CL_ORD_ID], r[t.EXEC_TYPE]) for r in copies] == [
                ("C1", "0"), ("C1", "F"), ("C1", "F"), ("C2", "0"), ("C2", "F"), ("C3", "0"),
                ("C4", "4"), ("C4", "F"),
            ]  # fmt: skip
            assert {r[t.MSG_TYPE] for r in copies} == {"8"}
            assert {(r[ON_BEHALF_OF], r[DELIVER_TO]) for r in copies} == {("SIM", "KEEL")}
            assert copies[1][t.EXEC_ID] == copies[2][t.EXEC_ID]  # the broker's own duplicate
            dropped = copies[4]
            assert dropped[t.EXEC_ID] not in exec_ids(sent)
            assert (dropped[t.LAST_QTY], dropped[t.CUM_QTY], dropped[t.ORD_STATUS]) == (
                "5", "5", "2",
            )  # fmt: skip
            assert exec_ids(copies) == [
                *exec_ids(sent[:4]),
                dropped[t.EXEC_ID],
                *exec_ids(sent[4:]),
            ]
            by_exec_id = {r[t.EXEC_ID]: r for r in sent}
            for copy in copies:
                original = by_exec_id.get(copy[t.EXEC_ID])
                if original is not None:
                    assert {tag: copy.get(tag) for tag in COPIED_TAGS} == {
                        tag: original.get(tag) for tag in COPIED_TAGS
                    }
            assert copies[6][t.ORIG_CL_ORD_ID] == "C3"  # the cancel's
            assert copies[0][t.ACCOUNT] == "FUND-A"
            assert drop_copy.poss_dups == [False] * 8

            path = venue.write_statement(tmp_path / "statement.csv")
            rows = read_csv(path)
            fills = [r for r in copies if is_fill(r)]
            assert [row["TradeID"] for row in rows] == list(dict.fromkeys(exec_ids(fills)))
            assert [(row["ClOrdID"], row["Side"], row["Quantity"]) for row in rows] == [
                ("C1", "B", "10"), ("C2", "B", "5"), ("C4", "B", "5"),
            ]  # fmt: skip
            assert [row["Price"] for row in rows] == [r[t.LAST_PX] for r in fills[1:]]
            assert {row["Account"] for row in rows} == {"FUND-A"}
            assert rows[0]["OrderID"] == copies[0][t.ORDER_ID]
            ledger = venue.venue.executions()
            assert [e.exec_id for e in ledger] == [row["TradeID"] for row in rows]
            assert {e.session for e in ledger} == {"FIX.4.4:SIM->KEEL"}

    asyncio.run(scenario())


def test_a_message_sent_on_the_drop_copy_gets_a_business_message_reject() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, client(venue.port, "KEEL-DC") as drop_copy:
            await drop_copy.send("D", market_buy("DC1", 10))
            (reject,) = await drop_copy.receive(1)
            await asyncio.sleep(0.1)

            assert reject[t.MSG_TYPE] == "j"
            assert (reject[t.REF_MSG_TYPE], reject[t.BUSINESS_REJECT_REF_ID]) == ("D", "DC1")
            assert reject[t.BUSINESS_REJECT_REASON] == "6"  # not authorized
            assert reject[t.REF_SEQ_NUM] == "2"  # after the Logon
            assert "read-only" in reject[t.TEXT]
            assert venue.venue.order_states() == []
            assert len(drop_copy.messages) == 1
            assert venue.app.connection(drop_copy_session().session_id) is not None

    asyncio.run(scenario())


def test_copies_made_while_the_drop_copy_client_was_away_come_back_by_resend_at_logon() -> None:
    async def scenario() -> None:
        copy_line = drop_copy_session(FIX42, target="KEEL-DC42")
        async with (
            sim_venue(faults=FAULTS, drop_copy=[copy_line]) as venue,
            client(venue.port, "KEEL") as desk,
        ):
            sent = await trade_through_the_faults(desk)
            async with client(venue.port, "KEEL-DC42", FIX42) as drop_copy:
                copies = await drop_copy.receive(8)

                assert drop_copy.poss_dups == [True] * 8
                assert {m.begin_string for m in drop_copy.messages} == {FIX42}
                assert [r[t.EXEC_TYPE] for r in copies if is_fill(r)] == ["2", "2", "2", "1"]
                assert {r[t.EXEC_TRANS_TYPE] for r in copies} == {"0"}
                assert len(set(exec_ids(copies))) == 7
                assert set(exec_ids(sent)) < set(exec_ids(copies))

                await desk.send("D", market_buy("C5", 1))  # now live: copied as it goes
                await drop_copy.receive(10)
                assert drop_copy.poss_dups[8:] == [False, False]

    asyncio.run(scenario())


def test_a_disconnect_fault_cuts_the_trading_line_but_not_the_drop_copy() -> None:
    async def scenario() -> None:
        async with (
            sim_venue(faults=FaultPlan(disconnect_after_messages=1)) as venue,
            client(venue.port, "KEEL-DC") as drop_copy,
            client(venue.port, "KEEL") as desk,
        ):
            assert drop_copy.initiator is not None
            line = drop_copy.initiator.connection
            await desk.send("D", market_buy("C1", 10))
            await until(lambda: desk.logons == 2 and len(desk.messages) >= 2)
            await drop_copy.receive(2)

            assert venue.app.cuts == 1
            assert drop_copy.initiator.connection is line
            assert line is not None
            assert line.logged_on
            assert drop_copy.logons == 1

    asyncio.run(scenario())


# -- the statement files ---------------------------------------------------------------------
def test_end_of_day_and_stop_write_the_day_s_statement_file(tmp_path: Path) -> None:
    async def scenario() -> None:
        statements = tmp_path / "statements"
        today = datetime.now(UTC).date()
        name = f"sim-statement-{today:%Y%m%d}.csv"
        async with (
            sim_venue(faults=FAULTS, statement_dir=statements) as venue,
            client(venue.port, "KEEL") as desk,
        ):
            await desk.send("D", market_buy("C1", 10))
            await desk.receive(3)
            assert [p.name for p in await venue.end_of_day()] == [name]
            assert len(read_csv(statements / name)) == 1
            no_account = [f for f in market_buy("C2", 5) if f[0] != t.ACCOUNT]
            await desk.send("D", no_account)
            reports = await desk.receive(4)
            assert reports[3][t.ACCOUNT] == "KEEL"  # the session's default, on the reports
            await asyncio.sleep(0.1)
        rows = read_csv(statements / name)
        assert [(r["ClOrdID"], r["Account"], r["Quantity"]) for r in rows] == [
            ("C1", "FUND-A", "10"), ("C2", "", "5"),
        ]  # fmt: skip
        assert {r["TradeDate"] for r in rows} == {f"{today:%Y%m%d}"}

    asyncio.run(scenario())


# -- QuickFIX on the drop copy ---------------------------------------------------------------
@needs_quickfix
def test_a_quickfix_client_reads_the_drop_copy_with_its_routing_header(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, client(venue.port, "KEEL") as desk:
            peer = await asyncio.to_thread(
                QuickFixPeer, role="initiator", port=venue.port, sender="KEEL-DC",
                target="SIM", store=tmp_path / "qf",
            )  # fmt: skip
            try:
                await asyncio.to_thread(peer.wait_for, lambda e: e["event"] == "logon", 10.0)
                await desk.send("D", market_buy("C1", 10))
                await asyncio.to_thread(
                    peer.wait_for, lambda _: len(peer.app_messages()) >= 2, 10.0
                )
                copies = [fields_of(e["raw"]) for e in peer.app_messages()]
            finally:
                await asyncio.to_thread(peer.stop)
        assert [(c[t.EXEC_TYPE], c[ON_BEHALF_OF], c[DELIVER_TO]) for c in copies] == [
            ("0", "SIM", "KEEL"), ("F", "SIM", "KEEL"),
        ]  # fmt: skip
        assert copies[1][t.EXEC_ID] == fields(desk.messages[1])[t.EXEC_ID]

    asyncio.run(scenario())
