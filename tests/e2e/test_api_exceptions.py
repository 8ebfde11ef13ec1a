"""The exceptions queue over HTTP: operations take an exception, resolve it with a comment,
and a resolution that books a fill needs a second person with the operations role.

The exception itself is real: the venue reports a CumQty 20 ahead of the fills Keel has
booked (a fill never reached Keel), which raises MISSING_EXECUTION on the order.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from keel.adapters.clock import SystemClock
from keel.app.users import Users
from keel.domain.ids import ExecId, OrderId
from keel.domain.inputs import Fill
from support.api import ORDER, Api, run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def _order_with_a_missing_fill(a: Api) -> tuple[str, str]:
    """A resting order of 100; the venue reports a fill of 10 with CumQty 30."""
    resting = {**ORDER, "limit_price": "50.00"}
    order = (await a.http.post("/v1/orders", json=resting, headers=a.trader)).json()
    working = await a.until_status(order["order_id"], {"NEW"})
    now = SystemClock().now()
    await a.node.sequencer.submit(
        Fill(
            order_id=OrderId(order["order_id"]), ingest_time=now, event_time=now,
            exec_id=ExecId("SIM-GAP-2"), cl_ord_id=str(working["cl_ord_id"]),  # type: ignore[arg-type]
            last_qty=Decimal(10), last_px=Decimal("50.00"), cum_qty=Decimal(30),
            leaves_qty=Decimal(70),
        ),
        source="venue:SIM",
    )  # fmt: skip
    found = (await a.http.get("/v1/exceptions?status=OPEN", headers=a.trader)).json()
    [exception] = found["exceptions"]
    assert exception["kind"] == "MISSING_EXECUTION"
    return order["order_id"], exception["exception_id"]


def _ops(a: Api, name: str, accounts: list[str] | None = None) -> dict[str, str]:
    _, key = Users(a.node.store).add(
        name, "operations", accounts or ["FUND-A"], SystemClock().now()
    )
    return {"Authorization": f"Bearer {key}"}


def test_operations_take_an_exception_and_resolve_it_with_a_comment(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        order_id, xid = await _order_with_a_missing_fill(a)
        anna, ben = _ops(a, "anna"), _ops(a, "ben")

        taken = await a.http.post(f"/v1/exceptions/{xid}/acknowledge", json={}, headers=anna)
        assert taken.status_code == 200
        assert (taken.json()["status"], taken.json()["assignee"]) == ("ACKNOWLEDGED", "user:anna")
        handed = await a.http.post(
            f"/v1/exceptions/{xid}/acknowledge", json={"assignee": "ben"}, headers=anna
        )
        assert handed.json()["assignee"] == "user:ben"

        no_comment = await a.http.post(
            f"/v1/exceptions/{xid}/resolve", json={"kind": "EXPLAINED", "comment": ""}, headers=ben
        )
        assert no_comment.status_code == 422
        assert no_comment.headers["content-type"] == "application/problem+json"
        resolved = await a.http.post(
            f"/v1/exceptions/{xid}/resolve",
            json={"kind": "EXPLAINED", "comment": "venue counted a fill twice"},
            headers=ben,
        )
        assert resolved.status_code == 200
        body = resolved.json()
        assert body["status"] == "RESOLVED"
        assert (body["resolution_kind"], body["resolved_by"]) == ("EXPLAINED", "user:ben")
        assert body["resolution"] == "venue counted a fill twice"
        again = await a.http.post(
            f"/v1/exceptions/{xid}/resolve",
            json={"kind": "EXPLAINED", "comment": "twice"},
            headers=ben,
        )
        assert again.status_code == 409
        assert "not open" in again.json()["detail"]

        timeline = (await a.http.get(f"/v1/orders/{order_id}/timeline", headers=a.trader)).json()
        said = [entry["summary"] for entry in timeline["timeline"]]
        assert any("taken by user:anna" in line for line in said)
        assert any(f"{xid} resolved by user:ben as EXPLAINED" in line for line in said)

    run(scenario, tmp_path)


def test_booking_a_missing_fill_needs_a_second_person_with_the_operations_role(
    tmp_path: Path,
) -> None:
    async def scenario(a: Api) -> None:
        order_id, xid = await _order_with_a_missing_fill(a)
        anna, ben = _ops(a, "anna"), _ops(a, "ben")
        _, admin_key = Users(a.node.store).add("root", "admin", [], SystemClock().now())
        admin = {"Authorization": f"Bearer {admin_key}"}
        terms = {"kind": "BOOKED_MISSING_FILL", "comment": "on the broker's drop copy",
                 "exec_id": "SIM-GAP-1", "qty": "20", "price": "50.00"}  # fmt: skip

        incomplete = await a.http.post(
            f"/v1/exceptions/{xid}/resolve", json={**terms, "price": None}, headers=anna
        )
        assert incomplete.status_code == 422
        assert incomplete.json()["errors"][0]["field"] == "price"
        proposed = await a.http.post(f"/v1/exceptions/{xid}/resolve", json=terms, headers=anna)
        assert proposed.status_code == 200
        assert proposed.json()["status"] == "AWAITING_APPROVAL"
        assert proposed.json()["proposal"]["actor"] == "user:anna"
        before = (await a.http.get(f"/v1/orders/{order_id}", headers=a.trader)).json()
        assert before["cum_qty"] == "10"  # nothing booked on a proposal

        own = await a.http.post(f"/v1/exceptions/{xid}/approve", json={}, headers=anna)
        assert own.status_code == 409
        assert "four eyes" in own.json()["detail"]
        by_admin = await a.http.post(f"/v1/exceptions/{xid}/approve", json={}, headers=admin)
        assert by_admin.status_code == 403
        by_trader = await a.http.post(f"/v1/exceptions/{xid}/approve", json={}, headers=a.trader)
        assert by_trader.status_code == 403

        approved = await a.http.post(f"/v1/exceptions/{xid}/approve", json={}, headers=ben)

        assert approved.status_code == 200
        body = approved.json()
        assert (body["status"], body["approved_by"]) == ("RESOLVED", "user:ben")
        assert body["resolved_by"] == "user:anna"
        after = (await a.http.get(f"/v1/orders/{order_id}", headers=a.trader)).json()
        assert after["cum_qty"] == "30"
        fills = (await a.http.get(f"/v1/fills?order_id={order_id}", headers=a.trader)).json()
        assert "SIM-GAP-1" in [f["exec_id"] for f in fills["fills"]]
        audit = (await a.http.get("/v1/audit", headers=admin)).json()["audit"]
        steps = [
            (r["actor"], r["path"], r["status_code"]) for r in audit if "exceptions" in r["path"]
        ]
        assert ("user:ben", f"/v1/exceptions/{xid}/approve", 200) in steps
        assert ("user:anna", f"/v1/exceptions/{xid}/approve", 409) in steps

    run(scenario, tmp_path)


def test_a_declined_proposal_goes_back_to_being_worked(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        _, xid = await _order_with_a_missing_fill(a)
        anna, ben = _ops(a, "anna"), _ops(a, "ben")
        terms = {"kind": "BOOKED_MISSING_FILL", "comment": "book it",
                 "exec_id": "SIM-GAP-1", "qty": "20", "price": "49.00"}  # fmt: skip
        await a.http.post(f"/v1/exceptions/{xid}/resolve", json=terms, headers=anna)

        declined = await a.http.post(
            f"/v1/exceptions/{xid}/decline", json={"comment": "price is wrong"}, headers=ben
        )

        assert declined.status_code == 200
        assert (declined.json()["status"], declined.json()["proposal"]) == ("ACKNOWLEDGED", None)

    run(scenario, tmp_path)


def test_exceptions_outside_the_users_accounts_or_unknown_are_404(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        _, xid = await _order_with_a_missing_fill(a)
        elsewhere = _ops(a, "olga", ["FUND-Z"])
        anna = _ops(a, "anna")

        hidden = await a.http.get(f"/v1/exceptions/{xid}", headers=elsewhere)
        unknown = await a.http.post("/v1/exceptions/NOPE-X1/acknowledge", json={}, headers=anna)
        to_nobody = await a.http.post(
            f"/v1/exceptions/{xid}/acknowledge", json={"assignee": "nobody"}, headers=anna
        )
        to_olga = await a.http.post(
            f"/v1/exceptions/{xid}/acknowledge", json={"assignee": "olga"}, headers=anna
        )
        seen = await a.http.get(f"/v1/exceptions/{xid}", headers=a.viewer)

        assert hidden.status_code == unknown.status_code == 404
        assert to_nobody.status_code == to_olga.status_code == 422
        assert seen.status_code == 200
        assert seen.json()["evidence"]["missing qty"] == "20"

    run(scenario, tmp_path)


def test_a_report_for_an_order_keel_never_had_is_a_case_operations_work(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        now = SystemClock().now()
        await a.node.sequencer.submit(
            Fill(
                order_id=OrderId("UNKNOWN:SIM:THEIRS.1"), ingest_time=now, event_time=now,
                exec_id=ExecId("SIM-STRAY-1"), last_qty=Decimal(10), last_px=Decimal("50.00"),
                cum_qty=Decimal(10), leaves_qty=Decimal(0),
            ),
            source="fix:SIM",
        )  # fmt: skip
        olga = _ops(a, "olga")

        seen = (await a.http.get("/v1/exceptions?status=OPEN", headers=olga)).json()
        hidden = (await a.http.get("/v1/exceptions", headers=a.trader)).json()

        [case] = seen["exceptions"]
        assert (case["kind"], case["order_id"]) == ("UNKNOWN_ORDER", None)
        assert hidden["exceptions"] == []
        xid = case["exception_id"]
        booking = await a.http.post(
            f"/v1/exceptions/{xid}/resolve",
            json={"kind": "BOOKED_MISSING_FILL", "comment": "ours?", "exec_id": "SIM-STRAY-1",
                  "qty": "10", "price": "50.00"},
            headers=olga,
        )  # fmt: skip
        assert booking.status_code == 409
        assert "no Keel order" in booking.json()["detail"]
        resolved = await a.http.post(
            f"/v1/exceptions/{xid}/resolve",
            json={"kind": "EXPLAINED", "comment": "another desk's order on a shared session"},
            headers=olga,
        )
        assert resolved.status_code == 200
        assert (resolved.json()["status"], resolved.json()["resolved_by"]) == (
            "RESOLVED", "user:olga",
        )  # fmt: skip
        assert (await a.http.get(f"/v1/exceptions/{xid}", headers=a.trader)).status_code == 404

    run(scenario, tmp_path)
