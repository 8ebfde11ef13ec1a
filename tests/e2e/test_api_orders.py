"""The REST API for orders, through HTTP, on a running node trading with the simulated
venue: authentication, roles and entitlements, refusals as problem bodies that create
nothing, idempotent retries, and the order's life as the venue answers it."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn
import websockets

from keel.adapters.clock import SystemClock
from keel.app.users import Users
from keel.domain.risk import Limits
from support.aio import free_port
from support.api import ORDER, Api, run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_an_order_placed_over_http_is_routed_and_filled(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        response = await a.http.post("/v1/orders", json=ORDER, headers=a.trader)
        assert response.status_code == 201
        order = response.json()
        assert (order["account"], order["qty"], order["limit_price"]) == ("FUND-A", "100", "150.00")
        filled = await a.until_status(order["order_id"], {"FILLED"})
        assert filled["cum_qty"] == "100"
        listed = (await a.http.get("/v1/orders", headers=a.viewer)).json()
        assert [o["order_id"] for o in listed["orders"]] == [order["order_id"]]
        assert listed["orders"][0] == filled  # a listed order reads as GET shows it

    run(scenario, tmp_path)


def test_without_a_key_every_route_but_health_answers_401_with_a_problem(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        for response in (
            await a.http.post("/v1/orders", json=ORDER),
            await a.http.get("/v1/orders", headers={"Authorization": "Bearer keel_wrong"}),
        ):
            assert response.status_code == 401
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["www-authenticate"] == "Bearer"
        assert (await a.http.get("/healthz")).json() == {"status": "ok"}

    run(scenario, tmp_path)


def test_a_malformed_order_is_422_naming_the_field_and_creates_nothing(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        for body, field in (
            ({**ORDER, "qty": 100.5}, "qty"),  # a JSON number: money must be a string
            ({**ORDER, "side": "HOLD"}, "side"),
            ({**ORDER, "surprise": 1}, "surprise"),
        ):
            response = await a.http.post("/v1/orders", json=body, headers=a.trader)
            assert response.status_code == 422, body
            problem = response.json()
            assert response.headers["content-type"] == "application/problem+json"
            assert field in [e["field"] for e in problem["errors"]]
        refused = await a.http.post("/v1/orders", json={**ORDER, "symbol": "NOPE"},
                                    headers=a.trader)  # fmt: skip
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["code"] == "UNKNOWN_INSTRUMENT"
        off_tick = await a.http.post("/v1/orders", json={**ORDER, "limit_price": "150.005"},
                                     headers=a.trader)  # fmt: skip
        assert off_tick.status_code == 422
        assert (await a.http.get("/v1/orders", headers=a.trader)).json()["orders"] == []

    run(scenario, tmp_path)


def test_users_touch_only_their_accounts_and_their_role(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        elsewhere = await a.http.post("/v1/orders", json={**ORDER, "account": "FUND-Z"},
                                      headers=a.trader)  # fmt: skip
        assert elsewhere.status_code == 403
        assert "may not trade account 'FUND-Z'" in elsewhere.json()["detail"]
        viewer_trades = await a.http.post("/v1/orders", json=ORDER, headers=a.viewer)
        assert viewer_trades.status_code == 403
        missing = await a.http.get("/v1/orders/NOPE", headers=a.viewer)
        assert missing.status_code == 404

    run(scenario, tmp_path)


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        headers = {**a.trader, "Idempotency-Key": "ticket-7"}
        first = await a.http.post("/v1/orders", json=ORDER, headers=headers)
        again = await a.http.post("/v1/orders", json=ORDER, headers=headers)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["order_id"] == first.json()["order_id"]
        listed = (await a.http.get("/v1/orders", headers=a.trader)).json()["orders"]
        assert len(listed) == 1

    run(scenario, tmp_path)


def test_a_resting_order_is_cancelled_over_http(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        resting = {**ORDER, "limit_price": "50.00"}
        order = (await a.http.post("/v1/orders", json=resting, headers=a.trader)).json()
        await a.until_status(order["order_id"], {"NEW"})
        response = await a.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=a.trader)
        assert response.status_code == 200
        await a.until_status(order["order_id"], {"CANCELED"})

    run(scenario, tmp_path)


def test_fills_and_positions_show_what_was_booked_to_whoever_sees_the_account(
    tmp_path: Path,
) -> None:
    async def scenario(a: Api) -> None:
        order = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
        await a.until_status(order["order_id"], {"FILLED"})
        fills = (await a.http.get("/v1/fills", headers=a.viewer)).json()["fills"]
        assert sum(Decimal(f["qty"]) for f in fills) == 100
        assert {f["order_id"] for f in fills} == {order["order_id"]}
        (position,) = (await a.http.get("/v1/positions", headers=a.viewer)).json()["positions"]
        assert (position["account"], position["instrument"], position["net_qty"]) == (
            "FUND-A", "ACME", "100",
        )  # fmt: skip
        exceptions = await a.http.get("/v1/exceptions", headers=a.viewer)
        assert exceptions.json() == {"exceptions": [], "next": None}
        _, other_key = Users(a.node.store).add("zed", "viewer", ["FUND-Z"], SystemClock().now())
        other = {"Authorization": f"Bearer {other_key}"}
        assert (await a.http.get("/v1/fills", headers=other)).json()["fills"] == []
        assert (await a.http.get("/v1/positions", headers=other)).json()["positions"] == []
        hidden = await a.http.get(f"/v1/orders/{order['order_id']}", headers=other)
        assert hidden.status_code == 404

    run(scenario, tmp_path)


def test_the_stream_sends_events_as_they_commit_and_a_reconnect_since_misses_nothing(
    tmp_path: Path,
) -> None:
    async def scenario(a: Api) -> None:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(a.app, port=port, log_level="warning",
                                               lifespan="off"))  # fmt: skip
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        token = a.viewer["Authorization"].removeprefix("Bearer ")
        url = f"ws://127.0.0.1:{port}/v1/stream?token={token}"
        try:
            async with websockets.connect(url) as ws:
                order = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
                seen: list[dict[str, object]] = []
                while not any(m["type"] == "FillBooked" for m in seen):
                    seen.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            seqs = [int(m["seq"]) for m in seen]  # type: ignore[call-overload]
            assert seqs == sorted(seqs)
            assert {m["order_id"] for m in seen} == {order["order_id"]}
            assert seen[0]["type"] == "OrderCreated"
            assert seen[0]["event"]["spec"]["qty"] == "100"  # type: ignore[index]
            # a client that saw only the first event comes back and asks for the rest
            async with websockets.connect(f"{url}&since={seqs[0]}") as ws:
                again = [json.loads(await asyncio.wait_for(ws.recv(), 10))
                         for _ in range(len(seqs) - 1)]  # fmt: skip
            assert [int(m["seq"]) for m in again] == seqs[1:]  # type: ignore[call-overload]
            refused = websockets.connect(f"ws://127.0.0.1:{port}/v1/stream?token=keel_nope")
            with pytest.raises(websockets.exceptions.WebSocketException):
                async with refused as ws:
                    await asyncio.wait_for(ws.recv(), 5)
        finally:
            server.should_exit = True
            await serving

    run(scenario, tmp_path)


def test_an_order_over_a_limit_is_recorded_as_rejected_with_the_reason(tmp_path: Path) -> None:
    limits = {("FUND-A", "*"): Limits(max_order_qty=Decimal(500), max_notional=Decimal(40_000),
                                      collar=Decimal("0.05"))}  # fmt: skip

    async def scenario(a: Api) -> None:
        big = await a.http.post("/v1/orders", json={**ORDER, "qty": "1000"}, headers=a.trader)
        assert big.status_code == 201  # created and recorded, not an HTTP error
        assert big.json()["status"] == "REJECTED"
        assert "RISK_MAX_ORDER_QTY" in big.json()["reject_reason"]
        story = (await a.http.get(f"/v1/orders/{big.json()['order_id']}/timeline",
                                  headers=a.trader)).json()  # fmt: skip
        assert [t["type"] for t in story["timeline"]] == ["OrderCreated", "OrderRejected"]
        assert "quantity 1000 is above the limit of 500" in story["timeline"][1]["summary"]
        rich = await a.http.post("/v1/orders", json={**ORDER, "qty": "300"}, headers=a.trader)
        assert rich.json()["status"] == "REJECTED"
        assert (
            "RISK_MAX_NOTIONAL: notional 45000.00 is above the limit of 40000"
            in (rich.json()["reject_reason"])
        )
        # once a fill gives a last price, a limit far from it is outside the collar
        filled = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
        await a.until_status(filled["order_id"], {"FILLED"})
        while a.node.prices.get("ACME") is None:  # the fill's price reaches the checks
            await asyncio.sleep(0.01)
        wild = await a.http.post("/v1/orders", json={**ORDER, "limit_price": "150.00"},
                                 headers=a.trader)  # fmt: skip
        assert (wild.json()["status"], wild.json()["reject_reason"].split(":")[0]) == (
            "REJECTED", "RISK_PRICE_COLLAR",
        )  # fmt: skip
        listed = (await a.http.get("/v1/orders?status=REJECTED", headers=a.viewer)).json()
        assert len(listed["orders"]) == 3

    run(scenario, tmp_path, limits)


def test_metrics_count_inputs_lag_batches_closed_orders_and_venue_sessions(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        order = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
        await a.until_status(order["order_id"], {"FILLED"})
        await asyncio.sleep(0.05)  # the release after the last commit
        response = await a.http.get("/metrics")
        assert response.status_code == 200
        text = response.text
        assert 'keel_inputs_total{outcome="APPLIED",source="rest"} 1.0' in text
        assert 'keel_inputs_total{outcome="APPLIED",source="fix:SIM"}' in text
        assert 'keel_orders_closed_total{status="FILLED"} 1.0' in text
        assert 'keel_venue_session_up{venue="SIM"} 1.0' in text
        assert "keel_processing_lag_seconds_count" in text
        assert "keel_commit_batch_inputs_bucket" in text
        assert "keel_open_exceptions" in text

    run(scenario, tmp_path)


def test_every_changing_request_is_audited_with_who_what_and_the_events_it_caused(
    tmp_path: Path,
) -> None:
    async def scenario(a: Api) -> None:
        body = json.dumps(ORDER).encode()
        headers = {**a.trader, "Content-Type": "application/json"}
        placed = await a.http.post("/v1/orders", content=body, headers=headers)
        assert placed.status_code == 201
        await a.http.post("/v1/orders", json={**ORDER, "symbol": "NOPE"}, headers=a.trader)
        await a.http.post("/v1/orders", json=ORDER)  # no key
        await a.http.get("/v1/orders", headers=a.trader)  # a read: not audited
        _, admin_key = Users(a.node.store).add("root", "admin", [], SystemClock().now())
        admin = {"Authorization": f"Bearer {admin_key}"}
        rows = (await a.http.get("/v1/audit", headers=admin)).json()["audit"]
        assert [(r["actor"], r["method"], r["path"], r["status_code"]) for r in rows] == [
            ("user:alice", "POST", "/v1/orders", 201),
            ("user:alice", "POST", "/v1/orders", 422),
            ("anonymous", "POST", "/v1/orders", 401),
        ]
        assert rows[0]["payload"] == body.decode()  # the exact bytes sent
        assert rows[0]["event_seqs"]  # the events the order caused
        assert rows[1]["event_seqs"] == []  # refused: nothing happened
        assert rows[0]["source"].startswith("127.0.0.1:")
        forbidden = await a.http.get("/v1/audit", headers=a.trader)
        assert forbidden.status_code == 403

    run(scenario, tmp_path)


def test_venues_show_their_session_state_and_numbers(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        (venue,) = (await a.http.get("/v1/venues", headers=a.viewer)).json()["venues"]
        assert (venue["venue"], venue["state"], venue["logged_on"]) == ("SIM", "ACTIVE", True)
        assert venue["next_sender_seq"] >= 2
        assert venue["next_target_seq"] >= 2

    run(scenario, tmp_path)


def test_the_kill_switch_halts_an_account_cancels_its_working_orders_and_lifts(
    tmp_path: Path,
) -> None:
    async def scenario(a: Api) -> None:
        resting = (await a.http.post("/v1/orders", json={**ORDER, "limit_price": "50.00"},
                                     headers=a.trader)).json()  # fmt: skip
        await a.until_status(resting["order_id"], {"NEW"})
        refused = await a.http.post("/v1/kill-switch", json={"reason": "x"}, headers=a.trader)
        assert refused.status_code == 403  # traders may not halt
        _, risk_key = Users(a.node.store).add("rita", "risk", ["FUND-A"], SystemClock().now())
        risk = {"Authorization": f"Bearer {risk_key}"}
        halt = {"account": "FUND-A", "reason": "runaway algo"}
        halted = await a.http.post("/v1/kill-switch", headers=risk, json=halt)
        assert halted.status_code == 200
        assert halted.json()["cancel_requested"] == [resting["order_id"]]
        await a.until_status(resting["order_id"], {"CANCELED"})
        blocked = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
        assert blocked["status"] == "REJECTED"
        assert "HALTED" in blocked["reject_reason"]
        assert "runaway algo" in blocked["reject_reason"]
        halts = (await a.http.get("/v1/kill-switch", headers=a.viewer)).json()["halts"]
        assert [(h["scope"], h["actor"]) for h in halts] == [("FUND-A", "user:rita")]
        lifted = await a.http.delete("/v1/kill-switch?account=FUND-A", headers=risk)
        assert lifted.status_code == 200
        again = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
        assert again["status"] != "REJECTED"

    run(scenario, tmp_path)


def test_orders_are_listed_by_creation_time_range(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        first = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
        await asyncio.sleep(0.05)
        second = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
        cut = second["created_at"]
        before = (await a.http.get("/v1/orders", params={"created_to": cut},
                                   headers=a.trader)).json()["orders"]  # fmt: skip
        since = (await a.http.get("/v1/orders", params={"created_from": cut},
                                  headers=a.trader)).json()["orders"]  # fmt: skip
        assert [o["order_id"] for o in before] == [first["order_id"]]
        assert [o["order_id"] for o in since] == [second["order_id"]]
        naive = await a.http.get("/v1/orders", params={"created_from": "2026-03-02T10:00:00"},
                                 headers=a.trader)  # fmt: skip
        assert naive.status_code == 422
        assert naive.json()["errors"][0]["field"] == "created_from"

    run(scenario, tmp_path)


def test_a_cancel_of_a_filled_order_is_409_with_the_reason(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        order = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()
        await a.until_status(order["order_id"], {"FILLED"})
        late = await a.http.post(f"/v1/orders/{order['order_id']}/cancel", headers=a.trader)
        assert late.status_code == 409
        assert late.headers["content-type"] == "application/problem+json"
        assert "TOO_LATE_TO_CANCEL: the order is already closed" in late.json()["detail"]

    run(scenario, tmp_path)


def test_malformed_json_and_a_revoked_key_are_answered_as_problems(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        as_json = {**a.trader, "Content-Type": "application/json"}
        broken = await a.http.post("/v1/orders", content=b'{"account": "FUND-A",', headers=as_json)
        assert broken.status_code == 422
        assert broken.headers["content-type"] == "application/problem+json"
        negative = await a.http.post("/v1/orders", json={**ORDER, "limit_price": "-1.00"},
                                     headers=a.trader)  # fmt: skip
        assert negative.status_code == 422
        assert "limit_price" in [e["field"] for e in negative.json()["errors"]]
        Users(a.node.store).revoke("victor", SystemClock().now())
        revoked = await a.http.get("/v1/orders", headers=a.viewer)
        assert revoked.status_code == 401

    run(scenario, tmp_path)


def test_orders_and_fills_are_listed_a_page_at_a_time_within_the_users_accounts(
    tmp_path: Path,
) -> None:
    async def scenario(a: Api) -> None:
        _, key = Users(a.node.store).add("bob", "trader", ["FUND-B"], SystemClock().now())
        bob = {"Authorization": f"Bearer {key}"}
        mine = [(await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()["order_id"]
                for _ in range(5)]  # fmt: skip
        theirs = {**ORDER, "account": "FUND-B"}
        (await a.http.post("/v1/orders", json=theirs, headers=bob)).raise_for_status()
        for order_id in mine:
            await a.until_status(order_id, {"FILLED"})

        seen: list[str] = []
        cursor = None
        while True:
            query = "/v1/orders?limit=2" + (f"&after={cursor}" if cursor else "")
            page = (await a.http.get(query, headers=a.trader)).json()
            assert len(page["orders"]) <= 2
            seen += [o["order_id"] for o in page["orders"]]
            cursor = page["next"]
            if cursor is None:
                break
        fills = (await a.http.get("/v1/fills?limit=3", headers=a.trader)).json()
        filtered = (await a.http.get("/v1/orders?status=FILLED&symbol=ACME&account=FUND-B",
                                     headers=a.trader)).json()  # fmt: skip

        assert seen == mine  # ids sort by creation time; FUND-B's order is not alice's
        assert len(fills["fills"]) == 3
        assert fills["next"] == fills["fills"][-1]["fill_id"]
        assert {f["account"] for f in fills["fills"]} == {"FUND-A"}
        assert filtered["orders"] == []  # not alice's account: nothing, not an error

    run(scenario, tmp_path)
