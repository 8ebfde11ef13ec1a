"""Reconciliation end to end: Keel trades with the simulated venue over FIX while the venue
drops one fill, sends another twice and reports a late fill after a cancel; Keel records the
venue's drop copy as it goes. Reconciling against the venue's own statement and drop copy
finds exactly those faults, each explained; booking the missing fill with four eyes makes
the next run clean.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.clock import SystemClock
from keel.adapters.venues.sim.faults import FaultPlan, Trigger
from keel.adapters.venues.sim.reports import FILL_KINDS
from keel.app import codec
from keel.app.users import Users
from support.api import ORDER, Api, run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SMALL = {**ORDER, "qty": "10"}


async def _until(what: str, done: Callable[[], Any]) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while loop.time() < deadline:
        found = done()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _executed(a: Api, cl_ord_id: str) -> bool:
    return any(row.cl_ord_id == cl_ord_id for row in a.venue.venue.executions())


def _copied(a: Api) -> set[str]:
    """The ExecIDs Keel has recorded from the venue's drop copy."""
    records = a.node.store.inputs_from("DROP_COPY", "dropcopy:SIM")
    return {codec.decode_input("DropCopyReport", r.payload).exec_id for r in records}  # type: ignore[union-attr]


def _user(a: Api, name: str, role: str) -> dict[str, str]:
    _, key = Users(a.node.store).add(name, role, ["FUND-A"], SystemClock().now())
    return {"Authorization": f"Bearer {key}"}


async def _trade_with_three_faults(a: Api) -> dict[str, str]:
    """Trade three orders, one fault each; return their order ids by fault."""
    venue = a.venue.venue
    # 1. the venue fills the order but its fill report is lost on the way
    venue.set_faults(FaultPlan(drop=Trigger.always(kinds=FILL_KINDS)))
    dropped = (await a.http.post("/v1/orders", json=SMALL, headers=a.trader)).json()
    await a.until_status(dropped["order_id"], {"NEW"})
    await _until("the dropped execution", lambda: _executed(a, dropped["cl_ord_id"]))
    # 2. the venue sends the fill report twice
    venue.set_faults(FaultPlan(duplicate=Trigger.always(kinds=FILL_KINDS)))
    doubled = (await a.http.post("/v1/orders", json=SMALL, headers=a.trader)).json()
    await a.until_status(doubled["order_id"], {"FILLED"})
    # 3. a resting order is cancelled, and the venue then reports a fill made before
    venue.set_faults(FaultPlan(late_fill_after_cancel=Trigger.always()))
    resting = {**SMALL, "limit_price": "50.00"}
    late = (await a.http.post("/v1/orders", json=resting, headers=a.trader)).json()
    await a.until_status(late["order_id"], {"NEW"})
    await a.http.post(f"/v1/orders/{late['order_id']}/cancel", headers=a.trader)
    await a.until_status(late["order_id"], {"CANCELED"})
    await _until("the late fill", lambda: a.node.store.fills_for_order(late["order_id"]))
    venue.set_faults(FaultPlan())
    every = {row.exec_id for row in venue.executions()}
    await _until("the drop copy of every execution", lambda: every <= _copied(a))
    return {"dropped": dropped["order_id"], "doubled": doubled["order_id"],
            "late": late["order_id"]}  # fmt: skip


async def _reconcile(a: Api, who: dict[str, str], statement: Path) -> dict[str, Any]:
    response = await a.http.post(
        "/v1/recon/runs?broker=SIM&file_name=sim-statement.csv",
        content=statement.read_bytes(),
        headers={**who, "Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    run_report: dict[str, Any] = response.json()
    return run_report


def test_reconciliation_finds_exactly_the_injected_faults_and_a_booked_fill_clears_them(
    tmp_path: Path,
) -> None:
    async def scenario(a: Api) -> None:
        orders = await _trade_with_three_faults(a)
        olga, anna, ben = (_user(a, n, "operations") for n in ("olga", "anna", "ben"))
        statement = a.venue.write_statement(tmp_path / "sim-statement.csv")

        first = await _reconcile(a, olga, statement)

        assert first["result"] == "BREAKS"
        assert first["summary"]["orders_compared"] >= 2  # the drop copy's view of the orders
        found = {(b["kind"], b["order_id"], b["state"]) for b in first["breaks"]}
        assert found == {
            ("MISSING_INTERNALLY", orders["dropped"], "RAISED"),
            ("DUPLICATE_AT_BROKER", orders["doubled"], "RAISED"),
        }
        missing = next(b for b in first["breaks"] if b["kind"] == "MISSING_INTERNALLY")
        assert "never booked" in missing["explanation"]
        assert {e["kind"] for e in missing["evidence"]} == {"STATEMENT", "DROP_COPY"}
        duplicate = next(b for b in first["breaks"] if b["kind"] == "DUPLICATE_AT_BROKER")
        assert duplicate["exec_id"] in duplicate["explanation"]
        # the queue: the two breaks, and the late fill the state machine flagged itself
        queue = (await a.http.get("/v1/exceptions?status=OPEN", headers=olga)).json()
        assert {(x["kind"], x["order_id"]) for x in queue["exceptions"]} == {
            ("MISSING_INTERNALLY", orders["dropped"]),
            ("DUPLICATE_AT_BROKER", orders["doubled"]),
            ("LATE_FILL", orders["late"]),
        }
        # the missing fill is booked: proposed by one person, approved by another
        broker = missing["broker"]
        terms = {"kind": "BOOKED_MISSING_FILL", "comment": "on the statement and the drop copy",
                 "exec_id": missing["exec_id"], "qty": broker["qty"], "price": broker["price"],
                 "trade_date": broker["trade date"]}  # fmt: skip
        xid = missing["exception_id"]
        proposed = await a.http.post(f"/v1/exceptions/{xid}/resolve", json=terms, headers=anna)
        assert proposed.json()["status"] == "AWAITING_APPROVAL"
        approved = await a.http.post(f"/v1/exceptions/{xid}/approve", json={}, headers=ben)
        assert approved.json()["status"] == "RESOLVED"
        await a.until_status(orders["dropped"], {"FILLED"})
        for x in queue["exceptions"]:
            if x["kind"] != "MISSING_INTERNALLY":
                explained = {"kind": "EXPLAINED", "comment": "venue error; books are right"}
                done = await a.http.post(f"/v1/exceptions/{x['exception_id']}/resolve",
                                         json=explained, headers=anna)  # fmt: skip
                assert done.status_code == 200

        second = await _reconcile(a, olga, statement)

        assert second["result"] == "CLEAN"
        assert [(b["kind"], b["state"]) for b in second["breaks"]] == [
            ("DUPLICATE_AT_BROKER", "RESOLVED_BEFORE")
        ]
        assert second["summary"]["matched_by_exec_id"] == first["summary"]["matched_by_exec_id"] + 1
        html = await a.http.get(f"/v1/recon/runs/{first['run_id']}/report.html", headers=olga)
        assert "MISSING_INTERNALLY" in html.text
        csv = await a.http.get(f"/v1/recon/runs/{first['run_id']}/report.csv", headers=olga)
        assert csv.text.count("\n") == 3  # the header and two breaks
        runs = (await a.http.get("/v1/recon/runs", headers=a.viewer)).json()["runs"]
        assert [r["result"] for r in runs] == ["CLEAN", "BREAKS"]
        metrics = a.node.metrics.text().decode()
        assert 'keel_recon_runs_total{broker="SIM",result="BREAKS"} 1.0' in metrics
        assert 'keel_recon_breaks_total{kind="MISSING_INTERNALLY",state="RAISED"} 1.0' in metrics

    run(scenario, tmp_path)


def test_a_statement_with_bad_lines_is_refused_whole_naming_each_line(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        olga = _user(a, "olga", "operations")
        bad = tmp_path / "bad.csv"
        bad.write_text(
            "TradeID,OrderID,ClOrdID,Account,Symbol,Side,Quantity,Price,TradeDate,SettleDate\n"
            "E1,O1,C1,FUND-A,ACME,B,10,150.00,20261129,20261201\n"
            "E2,O2,C2,FUND-A,ACME,X,10,150.00,20261129,20261201\n"
            "E3,O3,C3,FUND-A,ACME,B,ten,150.00,20261129,20261201\n"
        )

        refused = await a.http.post("/v1/recon/runs?broker=SIM&file_name=bad.csv",
                                    content=bad.read_bytes(), headers=olga)  # fmt: skip
        forbidden = await a.http.post("/v1/recon/runs?broker=SIM", headers=a.trader)
        unknown = await a.http.post("/v1/recon/runs?broker=NOPE", headers=olga)

        assert refused.status_code == 422
        problems = [e["reason"] for e in refused.json()["errors"]]
        assert len(problems) == 2
        assert "bad.csv:3" in problems[0]
        assert ":4" in problems[1]
        assert forbidden.status_code == 403
        assert unknown.status_code == 422
        assert (await a.http.get("/v1/recon/runs", headers=olga)).json()["runs"] == []
        assert a.node.store.inputs_from("STATEMENT", "statement:SIM") == []

    run(scenario, tmp_path)
