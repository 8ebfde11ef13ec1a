"""OrderMassStatusRequest (35=AF) at the simulated venue over real TCP, the client Keel's own
validating FIX initiator: a desk back from a reconnect asks which orders the venue holds open
for it; requests the venue will not answer get a BusinessMessageReject."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from keel.adapters.fix import tags as t
from keel.adapters.fix.config import FIX42
from keel.adapters.venues.sim.fix_venue import (
    drop_copy_session,
    venue_session,
)
from support.sim_fix import Fields, FixClient, fix_client, sim_venue

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

TOT_NUM_REPORTS, LAST_RPT_REQUESTED = 911, 912
ON_BEHALF_OF, DELIVER_TO = 115, 128


# -- messages a client sends -----------------------------------------------------------------
def limit_buy(cl_ord_id: str, price: str, qty: int = 10) -> Fields:
    return [
        (t.CL_ORD_ID, cl_ord_id), (t.ACCOUNT, "FUND-A"), (t.HANDL_INST, "1"),
        (t.SYMBOL, "ACME"), (t.SIDE, "1"), (t.TRANSACT_TIME, datetime.now(UTC)),
        (t.ORDER_QTY, qty), (t.ORD_TYPE, "2"), (t.PRICE, price), (t.TIME_IN_FORCE, "0"),
    ]  # fmt: skip


def mass_status(req_id: str, req_type: int = 7) -> Fields:
    return [(t.MASS_STATUS_REQ_ID, req_id), (t.MASS_STATUS_REQ_TYPE, req_type)]


# -- the venue and its clients ---------------------------------------------------------------
KeelClient = FixClient
keel_client = fix_client


async def two_resting_one_filled(client: KeelClient) -> list[dict[int, str]]:
    """C1 and C2 rest below the market; C3 crosses the house's ask and fills."""
    await client.ask("D", limit_buy("C1", "95.00"), 1)
    await client.ask("D", limit_buy("C2", "94.00", qty=20), 1)
    await client.ask("D", limit_buy("C3", "100.05"), 2)
    return await client.receive(4)


def run(scenario: Callable[[], Any]) -> None:
    asyncio.run(scenario())


# -- the answer ------------------------------------------------------------------------------
def test_mass_status_answers_one_report_per_open_order_numbered_within_the_answer() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, keel_client(venue.port) as client:
            acks = await two_resting_one_filled(client)

            first, last = await client.ask("AF", mass_status("MS-1"), 2)

            assert [r[t.MSG_TYPE] for r in (first, last)] == ["8", "8"]
            assert [r[t.CL_ORD_ID] for r in (first, last)] == ["C1", "C2"]
            assert [r[t.ORDER_ID] for r in (first, last)] == [a[t.ORDER_ID] for a in acks[:2]]
            assert {r[t.MASS_STATUS_REQ_ID] for r in (first, last)} == {"MS-1"}
            assert {r[TOT_NUM_REPORTS] for r in (first, last)} == {"2"}
            assert [r[LAST_RPT_REQUESTED] for r in (first, last)] == ["N", "Y"]
            assert {(r[t.EXEC_TYPE], r[t.ORD_STATUS]) for r in (first, last)} == {("I", "0")}
            assert (last[t.ORDER_QTY], last[t.PRICE], last[t.LEAVES_QTY]) == ("20", "94.00", "20")
            assert (last[t.CUM_QTY], last[t.AVG_PX], last[t.ACCOUNT]) == ("0", "0", "FUND-A")
            assert (last[t.SYMBOL], last[t.SIDE]) == ("ACME", "1")
            assert t.TRANSACT_TIME in last
            earlier = {r[t.EXEC_ID] for r in acks}
            assert len({first[t.EXEC_ID], last[t.EXEC_ID]} - earlier) == 2

    run(scenario)


def test_a_desk_with_nothing_open_hears_so_and_nothing_of_another_desk_s_orders() -> None:
    async def scenario() -> None:
        sessions = (venue_session(target="DESK-A"), venue_session(target="DESK-B"))
        async with (
            sim_venue(*sessions) as venue,
            keel_client(venue.port, sender="DESK-A") as desk_a,
            keel_client(venue.port, sender="DESK-B") as desk_b,
        ):
            await two_resting_one_filled(desk_a)

            (nothing,) = await desk_b.ask("AF", mass_status("MS-B"), 1)

            assert (nothing[t.MSG_TYPE], nothing[t.EXEC_TYPE], nothing[t.ORD_STATUS]) == (
                "8", "I", "8",
            )  # fmt: skip
            assert (nothing[t.ORDER_ID], nothing[t.MASS_STATUS_REQ_ID]) == ("NONE", "MS-B")
            assert (nothing[TOT_NUM_REPORTS], nothing[LAST_RPT_REQUESTED]) == ("0", "Y")
            assert (nothing[t.SYMBOL], nothing[t.SIDE], nothing[t.TEXT]) == (
                "NA", "7", "no open orders",
            )  # fmt: skip
            assert t.CL_ORD_ID not in nothing
            assert len(desk_a.messages) == 4  # desk A heard nothing of it

    run(scenario)


def test_the_drop_copy_copies_the_answer_behind_the_asking_session() -> None:
    async def scenario() -> None:
        async with (
            sim_venue(drop_copy=[drop_copy_session()]) as venue,
            keel_client(venue.port, sender="KEEL-DC") as drop_copy,
            keel_client(venue.port) as client,
        ):
            await two_resting_one_filled(client)
            await client.ask("AF", mass_status("MS-1"), 2)

            copies = (await drop_copy.receive(6))[4:]

            assert [r[t.CL_ORD_ID] for r in copies] == ["C1", "C2"]
            assert [r[LAST_RPT_REQUESTED] for r in copies] == ["N", "Y"]
            assert {(r[ON_BEHALF_OF], r[DELIVER_TO]) for r in copies} == {("SIM", "KEEL")}

    run(scenario)


# -- refusals --------------------------------------------------------------------------------
def test_a_mass_status_type_other_than_all_orders_gets_a_business_message_reject() -> None:
    async def scenario() -> None:
        async with sim_venue() as venue, keel_client(venue.port) as client:
            await two_resting_one_filled(client)

            (refused,) = await client.ask("AF", mass_status("MS-2", req_type=1), 1)

            assert (refused[t.MSG_TYPE], refused[t.REF_MSG_TYPE]) == ("j", "AF")
            assert (refused[t.BUSINESS_REJECT_REF_ID], refused[t.BUSINESS_REJECT_REASON]) == (
                "MS-2", "0",
            )  # fmt: skip
            assert "MassStatusReqType(585)=1 is not supported" in refused[t.TEXT]
            assert int(refused[t.REF_SEQ_NUM]) == client.session.next_sender_seq - 1

    run(scenario)


def test_a_fix42_session_s_mass_status_request_is_an_unsupported_message_type() -> None:
    async def scenario() -> None:
        async with (
            sim_venue(venue_session(FIX42)) as venue,
            keel_client(venue.port, begin_string=FIX42) as client,
        ):
            await client.ask("D", limit_buy("C1", "95.00"), 1)

            (refused,) = await client.ask("AF", mass_status("MS-42"), 1)

            assert (refused[t.MSG_TYPE], refused[t.REF_MSG_TYPE]) == ("j", "AF")
            assert (refused[t.BUSINESS_REJECT_REF_ID], refused[t.BUSINESS_REJECT_REASON]) == (
                "MS-42", "3",
            )  # fmt: skip
            assert "FIX 4.3 and later" in refused[t.TEXT]

    run(scenario)
