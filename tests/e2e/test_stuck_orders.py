"""The stuck-order monitor against the simulated venue over FIX: a venue that stops
answering gets a status request and then a STUCK_ORDER exception; a working order that
hears nothing for longer than the window is flagged SILENT_ORDER. The order's timeline shows
each step, and the exception is in the queue operations work."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from keel.adapters.venues.sim.faults import FaultPlan, Trigger
from keel.domain.state_machine import Policy
from support.api import ORDER, Api, run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


async def _until_exception(a: Api, kind: str) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15
    while loop.time() < deadline:
        found = (await a.http.get(f"/v1/exceptions?kind={kind}", headers=a.trader)).json()
        if found["exceptions"]:
            exception: dict[str, object] = found["exceptions"][0]
            return exception
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {kind} exception was raised")


def test_a_venue_that_stops_answering_gets_a_status_request_then_a_stuck_order(
    tmp_path: Path,
) -> None:
    async def scenario(a: Api) -> None:
        placed = (await a.http.post("/v1/orders", json=ORDER, headers=a.trader)).json()

        stuck = await _until_exception(a, "STUCK_ORDER")

        assert stuck["order_id"] == placed["order_id"]
        assert stuck["status"] == "OPEN"
        order = (await a.http.get(f"/v1/orders/{placed['order_id']}", headers=a.trader)).json()
        assert order["status"] == "SENT"  # never acknowledged: Keel does not guess
        story = await a.http.get(f"/v1/orders/{placed['order_id']}/timeline", headers=a.trader)
        steps = [(t["type"], t["summary"]) for t in story.json()["timeline"]]
        kinds = [kind for kind, _ in steps]
        first_ask = kinds.index("StatusRequested")
        assert kinds[:2] == ["OrderCreated", "OrderSent"]
        assert "ACK_TIMEOUT" in steps[first_ask][1]
        assert kinds.index("ExceptionRaised") > first_ask
        assert any("STUCK_ORDER" in what for _, what in steps)
        requests = a.node.venues["SIM"]
        assert requests.status_requests >= 1

    quick = Policy(ack_timeout=timedelta(seconds=0.3))
    run(scenario, tmp_path, policy=quick, faults=FaultPlan(drop=Trigger.always()))


def test_a_working_order_quiet_beyond_the_window_is_flagged_silent(tmp_path: Path) -> None:
    async def scenario(a: Api) -> None:
        resting = {**ORDER, "limit_price": "50.00"}
        placed = (await a.http.post("/v1/orders", json=resting, headers=a.trader)).json()
        await a.until_status(placed["order_id"], {"NEW"})

        silent = await _until_exception(a, "SILENT_ORDER")

        assert silent["order_id"] == placed["order_id"]
        assert silent["evidence"]  # last update, quiet for, window
        await asyncio.sleep(0.5)  # further sweeps flag it once only
        again = (await a.http.get("/v1/exceptions?kind=SILENT_ORDER", headers=a.trader)).json()
        assert len(again["exceptions"]) == 1

    run(scenario, tmp_path, policy=Policy(silence_window=timedelta(seconds=0.5)))
