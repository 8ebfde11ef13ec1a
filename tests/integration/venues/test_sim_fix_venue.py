"""The simulated venue as a FIX acceptor, over real TCP: clients are Keel's own initiator and
QuickFIX, a FIX engine nobody here wrote; the fault plan's faults arrive as a client sees them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.fix import tags as t
from keel.adapters.fix.config import FIX42, FIX44
from keel.adapters.venues.sim import FaultPlan, Trigger
from keel.adapters.venues.sim.fix_venue import venue_session
from keel.domain.enums import Side
from support.aio import until
from support.quickfix_driver import QuickFixPeer, fields_of, needs_quickfix
from support.sim_fix import Fields, FixClient, fields, fix_client, sim_venue

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


# -- messages a client sends ---------------------------------------------------------------
def transact_time() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


def new_order(
    cl_ord_id: str,
    *,
    side: str = "1",
    qty: object = 10,
    ord_type: str = "2",
    price: str | None = "100.05",
    tif: str = "0",
    symbol: str = "ACME",
) -> Fields:
    fields: Fields = [
        (t.CL_ORD_ID, cl_ord_id), (t.ACCOUNT, "FUND-A"), (t.HANDL_INST, "1"),
        (t.SYMBOL, symbol), (t.SIDE, side), (t.TRANSACT_TIME, transact_time()),
        (t.ORDER_QTY, qty), (t.ORD_TYPE, ord_type),
    ]  # fmt: skip
    if price is not None:
        fields.append((t.PRICE, price))
    fields.append((t.TIME_IN_FORCE, tif))
    return fields


def market_order(cl_ord_id: str, *, side: str = "1", qty: int = 10) -> Fields:
    return new_order(cl_ord_id, side=side, qty=qty, ord_type="1", price=None)


def cancel(cl_ord_id: str, orig: str, *, side: str = "1") -> Fields:
    return [
        (t.ORIG_CL_ORD_ID, orig), (t.CL_ORD_ID, cl_ord_id), (t.SYMBOL, "ACME"),
        (t.SIDE, side), (t.TRANSACT_TIME, transact_time()),
    ]  # fmt: skip


def replace(cl_ord_id: str, orig: str, *, qty: int | None, price: str) -> Fields:
    fields: Fields = [
        (t.ORIG_CL_ORD_ID, orig), (t.CL_ORD_ID, cl_ord_id), (t.HANDL_INST, "1"),
        (t.SYMBOL, "ACME"), (t.SIDE, "1"), (t.TRANSACT_TIME, transact_time()),
    ]  # fmt: skip
    if qty is not None:
        fields.append((t.ORDER_QTY, qty))
    fields += [(t.ORD_TYPE, "2"), (t.PRICE, price)]
    return fields


def status(cl_ord_id: str) -> Fields:
    return [(t.CL_ORD_ID, cl_ord_id), (t.SYMBOL, "ACME"), (t.SIDE, "1")]


# -- the venue and its clients -------------------------------------------------------------
KeelClient = FixClient


def keel_client(
    port: int, *, begin_string: str = FIX44, sender: str = "KEEL"
) -> contextlib.AbstractAsyncContextManager[FixClient]:
    return fix_client(port, begin_string=begin_string, sender=sender, app_msg_types=("8", "9"))


def exec_ids(reports: Sequence[dict[int, str]]) -> list[str]:
    return [r[t.EXEC_ID] for r in reports if t.EXEC_ID in r]


def run(scenario: Callable[[], Any]) -> None:
    asyncio.run(scenario())


# -- trading through Keel's own initiator --------------------------------------------------
def test_limit_order_that_crosses_is_acked_then_filled_at_the_resting_price() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, keel_client(venue.port) as client:
            await client.send("D", new_order("C1", qty=10, price="100.05"))
            ack, fill = await client.receive(2)
            assert (ack[t.EXEC_TYPE], ack[t.ORD_STATUS]) == ("0", "0")
            assert ack[t.ORDER_ID].startswith("SIM-O")
            assert (ack[t.CL_ORD_ID], ack[t.SYMBOL], ack[t.SIDE]) == ("C1", "ACME", "1")
            assert (ack[t.ORDER_QTY], ack[t.PRICE], ack[t.ACCOUNT]) == ("10", "100.05", "FUND-A")
            assert (ack[t.LEAVES_QTY], ack[t.CUM_QTY], ack[t.AVG_PX]) == ("10", "0", "0")
            assert t.LAST_QTY not in ack
            assert (fill[t.EXEC_TYPE], fill[t.ORD_STATUS]) == ("F", "2")
            assert (fill[t.LAST_QTY], fill[t.LAST_PX]) == ("10", "100.01")  # the best ask
            assert (fill[t.LEAVES_QTY], fill[t.CUM_QTY], fill[t.AVG_PX]) == ("0", "10", "100.01")
            assert fill[t.ORDER_ID] == ack[t.ORDER_ID]
            assert datetime.strptime(fill[t.TRANSACT_TIME], "%Y%m%d-%H:%M:%S.%f")

            await client.send("D", market_order("C2", side="2", qty=5))
            reports = await client.receive(4)
            sell_ack, sell_fill = reports[2:]
            assert (sell_ack[t.EXEC_TYPE], sell_fill[t.EXEC_TYPE]) == ("0", "F")
            assert t.PRICE not in sell_ack
            assert (sell_fill[t.LAST_QTY], sell_fill[t.LAST_PX]) == ("5", "99.99")  # best bid
            assert len(set(exec_ids(reports))) == 4
            assert Decimal(venue.venue.statement(datetime.now(UTC).date())[0].price) == Decimal(
                "100.01"
            )

    run(scenario)


def test_resting_order_is_replaced_then_canceled_and_status_says_where_it_stands() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, keel_client(venue.port) as client:
            ack = await client.answer("D", new_order("C1", qty=100, price="95.00"))
            assert (ack[t.EXEC_TYPE], ack[t.ORD_STATUS], ack[t.LEAVES_QTY]) == ("0", "0", "100")

            replaced = await client.answer("G", replace("C2", "C1", qty=60, price="95.50"))
            assert (replaced[t.EXEC_TYPE], replaced[t.ORD_STATUS]) == ("5", "0")
            assert (replaced[t.CL_ORD_ID], replaced[t.ORIG_CL_ORD_ID]) == ("C2", "C1")
            assert (replaced[t.ORDER_QTY], replaced[t.PRICE]) == ("60", "95.50")
            assert replaced[t.LEAVES_QTY] == "60"
            assert replaced[t.ORDER_ID] == ack[t.ORDER_ID]

            working = await client.answer("H", status("C2"))
            assert (working[t.EXEC_TYPE], working[t.ORD_STATUS]) == ("I", "0")
            assert (working[t.LEAVES_QTY], working[t.CUM_QTY]) == ("60", "0")

            canceled = await client.answer("F", cancel("C3", "C2"))
            assert (canceled[t.EXEC_TYPE], canceled[t.ORD_STATUS]) == ("4", "4")
            assert (canceled[t.CL_ORD_ID], canceled[t.ORIG_CL_ORD_ID]) == ("C3", "C2")
            assert (canceled[t.LEAVES_QTY], canceled[t.CUM_QTY]) == ("0", "0")

            closed = await client.answer("H", status("C3"))
            assert (closed[t.EXEC_TYPE], closed[t.ORD_STATUS]) == ("I", "4")
            assert len(set(exec_ids(await client.receive(5)))) == 5

    run(scenario)


def test_requests_about_orders_the_venue_does_not_know_are_refused_as_a_venue_would() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, keel_client(venue.port) as client:
            no_cancel = await client.answer("F", cancel("X1", "NOPE"))
            assert no_cancel[t.MSG_TYPE] == "9"
            assert (no_cancel[t.ORDER_ID], no_cancel[t.ORD_STATUS]) == ("NONE", "8")
            assert (no_cancel[t.CL_ORD_ID], no_cancel[t.ORIG_CL_ORD_ID]) == ("X1", "NOPE")
            assert (no_cancel[t.CXL_REJ_RESPONSE_TO], no_cancel[t.CXL_REJ_REASON]) == ("1", "1")

            no_replace = await client.answer("G", replace("X2", "NOPE", qty=5, price="99.00"))
            assert (no_replace[t.MSG_TYPE], no_replace[t.CXL_REJ_RESPONSE_TO]) == ("9", "2")

            unknown = await client.answer("H", status("NOPE"))
            assert (unknown[t.MSG_TYPE], unknown[t.EXEC_TYPE], unknown[t.ORD_STATUS]) == (
                "8", "I", "8",
            )  # fmt: skip
            assert (unknown[t.ORDER_ID], unknown[t.SIDE], unknown[t.SYMBOL]) == (
                "NONE", "1", "ACME",
            )  # fmt: skip

            await client.send("D", market_order("C1"))
            filled_id = (await client.receive(5))[4][t.ORDER_ID]
            too_late = await client.answer("F", cancel("C2", "C1"))
            assert (too_late[t.MSG_TYPE], too_late[t.ORDER_ID]) == ("9", filled_id)
            assert (too_late[t.ORD_STATUS], too_late[t.CXL_REJ_REASON]) == ("2", "0")
            assert "FILLED" in too_late[t.TEXT]

    run(scenario)


def test_new_orders_it_cannot_read_or_trade_get_an_execution_report_reject() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, keel_client(venue.port) as client:
            no_qty = new_order("C1")
            no_qty.remove(next(f for f in no_qty if f[0] == t.ORDER_QTY))
            missing = await client.answer("D", no_qty)
            assert (missing[t.EXEC_TYPE], missing[t.ORD_STATUS]) == ("8", "8")
            assert (missing[t.ORDER_ID], missing[t.CL_ORD_ID]) == ("NONE", "C1")
            assert "OrderQty(38)" in missing[t.TEXT]

            stop = await client.answer("D", new_order("C2", ord_type="3"))
            assert (stop[t.EXEC_TYPE], stop[t.ORD_REJ_REASON]) == ("8", "11")
            assert "OrdType(40)=3" in stop[t.TEXT]

            unlisted = await client.answer("D", new_order("C3", symbol="ZZZZ"))
            assert (unlisted[t.EXEC_TYPE], unlisted[t.ORD_REJ_REASON]) == ("8", "1")
            assert unlisted[t.ORDER_ID].startswith("SIM-O")  # the venue itself said no

            no_new_qty = await client.answer("G", replace("C4", "C3", qty=None, price="1.00"))
            assert (no_new_qty[t.MSG_TYPE], no_new_qty[t.CXL_REJ_RESPONSE_TO]) == ("9", "2")
            assert (no_new_qty[t.CXL_REJ_REASON], no_new_qty[t.ORD_STATUS]) == ("99", "8")

            fine = await client.answer("D", new_order("C5", price="90.00"))
            assert (fine[t.EXEC_TYPE], fine[t.CL_ORD_ID]) == ("0", "C5")
            assert len(set(exec_ids(await client.receive(5)))) == 4

    run(scenario)


def test_a_malformed_value_reaching_the_venue_is_rejected_not_raised() -> None:
    async def scenario() -> None:
        lenient = venue_session(validate=False)  # the session passes the message on as it is
        async with sim_venue(lenient) as venue, keel_client(venue.port) as client:
            bad = await client.answer("D", new_order("C1", qty="ten"))
            assert (bad[t.EXEC_TYPE], bad[t.ORD_STATUS], bad[t.ORDER_ID]) == ("8", "8", "NONE")
            assert "OrderQty(38)" in bad[t.TEXT]
            assert "'ten' is not a decimal number" in bad[t.TEXT]
            assert bad[t.SIDE] == "1"
            ok = await client.answer("D", new_order("C2", price="90.00"))
            assert ok[t.EXEC_TYPE] == "0"

    run(scenario)


def test_fix42_clients_get_exec_trans_type_and_the_42_fill_exec_types() -> None:
    async def scenario() -> None:
        faults = FaultPlan(split_fill=Trigger.always(), split_prints=2)
        async with (
            sim_venue(venue_session(FIX42), faults=faults) as venue,
            keel_client(venue.port, begin_string=FIX42) as client,
        ):
            await client.send("D", market_order("C1", qty=10))
            ack, partial, full = await client.receive(3)
            assert [r[t.EXEC_TRANS_TYPE] for r in (ack, partial, full)] == ["0", "0", "0"]
            assert [r[t.EXEC_TYPE] for r in (ack, partial, full)] == ["0", "1", "2"]
            assert [r[t.ORD_STATUS] for r in (ack, partial, full)] == ["0", "1", "2"]
            assert [r[t.LAST_QTY] for r in (partial, full)] == ["5", "5"]
            state = await client.answer("H", status("C1"))
            assert (state[t.EXEC_TRANS_TYPE], state[t.EXEC_TYPE], state[t.ORD_STATUS]) == (
                "3", "2", "2",
            )  # fmt: skip

    run(scenario)


def test_each_session_gets_its_own_reports_and_cannot_touch_another_sessions_orders() -> None:
    async def scenario() -> None:
        sessions = (venue_session(target="DESK-A"), venue_session(target="DESK-B"))
        async with (
            sim_venue(*sessions) as venue,
            keel_client(venue.port, sender="DESK-A") as desk_a,
            keel_client(venue.port, sender="DESK-B") as desk_b,
        ):
            a_ack = await desk_a.answer("D", new_order("C1", qty=10, price="95.00"))
            assert a_ack[t.ACCOUNT] == "FUND-A"
            taken = await desk_b.answer("D", new_order("C1", qty=10, price="95.00"))
            assert (taken[t.EXEC_TYPE], taken[t.ORD_REJ_REASON]) == ("8", "6")
            foreign_cancel = await desk_b.answer("F", cancel("B2", "C1"))
            assert (foreign_cancel[t.MSG_TYPE], foreign_cancel[t.ORDER_ID]) == ("9", "NONE")
            foreign_status = await desk_b.answer("H", status("C1"))
            assert (foreign_status[t.EXEC_TYPE], foreign_status[t.ORD_STATUS]) == ("I", "8")
            b_order = new_order("B3", side="2", price="105.00")
            b_order.remove((t.ACCOUNT, "FUND-A"))
            b_ack = await desk_b.answer("D", b_order)
            assert (b_ack[t.EXEC_TYPE], b_ack[t.ACCOUNT]) == ("0", "DESK-B")  # default account
            await asyncio.sleep(0.05)
            assert [m.get_str(t.CL_ORD_ID) for m in desk_a.messages] == ["C1"]
            assert venue.venue.queue("ACME", Side.BUY, Decimal("95.00")) == ["C1"]

    run(scenario)


def test_a_resting_order_fills_when_the_market_moves_through_it() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, keel_client(venue.port) as client:
            price = venue.venue.reference_price("ACME")  # between the house's bid and ask
            ack = await client.answer("D", new_order("C1", qty=10, price=str(price)))
            assert ack[t.EXEC_TYPE] == "0"
            for _ in range(500):  # seeded: the walk comes down to the order in a few ticks
                await venue.app.tick()
                if len(client.messages) > 1:
                    break
            fill = (await client.receive(2))[1]
            assert (fill[t.EXEC_TYPE], fill[t.ORD_STATUS]) == ("F", "2")
            assert Decimal(fill[t.LAST_PX]) == price  # the resting order's own price

    run(scenario)


def test_the_background_clock_moves_the_market() -> None:
    async def scenario() -> None:
        async with sim_venue(tick_interval=0.01) as venue:
            opening = venue.venue.reference_price("ACME")
            await until(lambda: venue.venue.reference_price("ACME") != opening, timeout=3.0)

    run(scenario)


def test_day_orders_expire_at_the_end_of_the_day() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, keel_client(venue.port) as client:
            await client.answer("D", new_order("C1", qty=10, price="90.00", tif="0"))
            await client.answer("D", new_order("C2", qty=10, price="90.00", tif="1"))
            await venue.app.end_of_day()
            expired = (await client.receive(3))[2]
            assert (expired[t.CL_ORD_ID], expired[t.EXEC_TYPE], expired[t.ORD_STATUS]) == (
                "C1", "C", "C",
            )  # fmt: skip
            await asyncio.sleep(0.05)
            assert len(client.messages) == 3  # the GTC order still works

    run(scenario)


# -- faults, as a client sees them ---------------------------------------------------------
def test_duplicate_fault_sends_each_report_twice_with_the_same_exec_id() -> None:
    async def scenario() -> None:
        async with (
            sim_venue(faults=FaultPlan(duplicate=Trigger.always())) as venue,
            keel_client(venue.port) as client,
        ):
            await client.send("D", market_order("C1"))
            reports = await client.receive(4)
            await asyncio.sleep(0.05)
            assert len(client.messages) == 4
            assert [r[t.EXEC_TYPE] for r in reports] == ["0", "0", "F", "F"]
            ids = exec_ids(reports)
            assert ids == [ids[0], ids[0], ids[2], ids[2]]
            assert ids[0] != ids[2]
            assert len({r[t.MSG_SEQ_NUM] for r in reports}) == 4  # new messages, not resends
            assert client.poss_dups == [False] * 4

    run(scenario)


def test_reject_ratio_one_rejects_every_new_order() -> None:
    async def scenario() -> None:
        faults = FaultPlan(reject_new=Trigger(ratio=1.0), reject_text="no thanks")
        async with sim_venue(faults=faults) as venue, keel_client(venue.port) as client:
            for n in range(3):
                await client.send("D", new_order(f"C{n}"))
            reports = await client.receive(3)
            assert [(r[t.EXEC_TYPE], r[t.ORD_STATUS]) for r in reports] == [("8", "8")] * 3
            assert {r[t.TEXT] for r in reports} == {"no thanks"}
            assert {r[t.ORD_REJ_REASON] for r in reports} == {"0"}

    run(scenario)


def test_partial_fills_fault_reports_one_execution_as_n_trades() -> None:
    async def scenario() -> None:
        faults = FaultPlan(split_fill=Trigger.always(), split_prints=4)
        async with sim_venue(faults=faults) as venue, keel_client(venue.port) as client:
            await client.send("D", market_order("C1", qty=40))
            reports = await client.receive(5)
            trades = reports[1:]
            assert [r[t.EXEC_TYPE] for r in trades] == ["F"] * 4
            assert [r[t.LAST_QTY] for r in trades] == ["10"] * 4
            assert [r[t.CUM_QTY] for r in trades] == ["10", "20", "30", "40"]
            assert [r[t.LEAVES_QTY] for r in trades] == ["30", "20", "10", "0"]
            assert [r[t.ORD_STATUS] for r in trades] == ["1", "1", "1", "2"]
            assert {r[t.AVG_PX] for r in trades} == {"100.01"}
            assert len(set(exec_ids(reports))) == 5

    run(scenario)


def test_late_fill_fault_reports_a_fill_after_the_cancel_was_acked() -> None:
    async def scenario() -> None:
        faults = FaultPlan(late_fill_after_cancel=Trigger.always())
        async with sim_venue(faults=faults) as venue, keel_client(venue.port) as client:
            await client.answer("D", new_order("C1", qty=10, price="90.00"))
            await client.send("F", cancel("C2", "C1"))
            canceled, late = (await client.receive(3))[1:]
            assert (canceled[t.EXEC_TYPE], canceled[t.ORD_STATUS]) == ("4", "4")
            assert (late[t.EXEC_TYPE], late[t.ORD_STATUS], late[t.CL_ORD_ID]) == ("F", "4", "C2")
            assert (late[t.LAST_QTY], late[t.LAST_PX], late[t.LEAVES_QTY]) == ("5", "90.00", "0")
            assert "late fill" in late[t.TEXT]

    run(scenario)


def test_delay_fault_holds_reports_back() -> None:
    async def scenario() -> None:
        faults = FaultPlan(delay=Trigger.always(), delay_by=timedelta(milliseconds=300))
        async with sim_venue(faults=faults) as venue, keel_client(venue.port) as client:
            loop = asyncio.get_running_loop()
            sent_at = loop.time()
            await client.send("D", new_order("C1", price="90.00"))
            await client.receive(1)
            assert loop.time() - sent_at >= 0.29

    run(scenario)


def test_a_disconnect_after_n_reports_cuts_the_line_and_the_client_recovers_by_resend() -> None:
    async def scenario() -> None:
        faults = FaultPlan(disconnect_after_messages=1, split_fill=Trigger.always(), split_prints=3)
        async with sim_venue(faults=faults) as venue, keel_client(venue.port) as client:
            await client.send("D", market_order("C1", qty=30))
            await until(lambda: client.logons == 2 and len(client.messages) >= 4)
            await asyncio.sleep(0.1)
            reports = [fields(m) for m in client.messages]
            assert venue.app.cuts == 1
            assert [r[t.EXEC_TYPE] for r in reports] == ["0", "F", "F", "F"]
            ids = exec_ids(reports)
            assert len(ids) == len(set(ids)) == 4  # each ExecID once at the application
            assert client.poss_dups == [False, True, True, True]  # the fills came by resend
            venue_side = venue.app.sessions[0]
            assert client.session.next_target_seq == venue_side.next_sender_seq

    run(scenario)


# -- QuickFIX as the client ----------------------------------------------------------------
async def peer_reports(peer: QuickFixPeer, count: int) -> list[dict[int, str]]:
    def arrived(_: object) -> bool:
        return len(peer.app_messages()) >= count

    await asyncio.to_thread(peer.wait_for, arrived, 10.0)
    return [fields_of(e["raw"]) for e in peer.app_messages()]


@asynccontextmanager
async def quickfix_client(
    port: int, tmp_path: Path, begin_string: str = FIX44
) -> AsyncIterator[QuickFixPeer]:
    peer = await asyncio.to_thread(
        QuickFixPeer, role="initiator", port=port, sender="CLIENT", target="SIM",
        store=tmp_path / "qf", begin_string=begin_string,
    )  # fmt: skip
    try:
        await asyncio.to_thread(peer.wait_for, lambda e: e["event"] == "logon", 10.0)
        yield peer
    finally:
        await asyncio.to_thread(peer.stop)


@needs_quickfix
def test_a_quickfix_client_trades_replaces_cancels_and_asks_status(tmp_path: Path) -> None:
    async def scenario() -> None:
        config = venue_session(FIX44, "SIM", "CLIENT")
        async with sim_venue(config) as venue, quickfix_client(venue.port, tmp_path) as peer:
            peer.send("D", new_order("Q1", qty=10, price="100.05"))
            peer.send("D", market_order("Q2", side="2", qty=5))
            peer.send("D", new_order("Q3", qty=100, price="95.00"))
            peer.send("G", replace("Q4", "Q3", qty=50, price="95.10"))
            peer.send("H", status("Q4"))
            peer.send("F", cancel("Q5", "Q4"))
            reports = await peer_reports(peer, 8)
            seen = [(r[t.CL_ORD_ID], r[t.EXEC_TYPE], r[t.ORD_STATUS]) for r in reports]
            assert seen == [
                ("Q1", "0", "0"), ("Q1", "F", "2"), ("Q2", "0", "0"), ("Q2", "F", "2"),
                ("Q3", "0", "0"), ("Q4", "5", "0"), ("Q4", "I", "0"), ("Q5", "4", "4"),
            ]  # fmt: skip
            assert (reports[1][t.LAST_PX], reports[1][t.AVG_PX]) == ("100.01", "100.01")
            assert (reports[3][t.LAST_QTY], reports[3][t.LAST_PX]) == ("5", "99.99")
            assert (reports[5][t.ORIG_CL_ORD_ID], reports[5][t.LEAVES_QTY]) == ("Q3", "50")
            assert reports[7][t.ORIG_CL_ORD_ID] == "Q4"
            assert len({r[t.EXEC_ID] for r in reports}) == 8
            seqs = [int(r[t.MSG_SEQ_NUM]) for r in reports]
            assert seqs == list(range(seqs[0], seqs[0] + 8))

    run(scenario)


@needs_quickfix
def test_a_quickfix_fix42_client_gets_fix42_execution_reports(tmp_path: Path) -> None:
    async def scenario() -> None:
        config = venue_session(FIX42, "SIM", "CLIENT")
        async with (
            sim_venue(config) as venue,
            quickfix_client(venue.port, tmp_path, FIX42) as peer,
        ):
            peer.send("D", market_order("Q1", qty=10))
            peer.send("F", cancel("Q2", "Q1"))
            peer.send("H", status("Q1"))
            ack, fill, too_late, state = await peer_reports(peer, 4)
            assert [(r[t.EXEC_TRANS_TYPE], r[t.EXEC_TYPE]) for r in (ack, fill, state)] == [
                ("0", "0"), ("0", "2"), ("3", "2"),
            ]  # fmt: skip
            assert (too_late[t.MSG_TYPE], too_late[t.CXL_REJ_REASON]) == ("9", "0")

    run(scenario)
