"""Schemathesis against ``/openapi.json``: for every operation, generated requests (valid
and not) never get a 5xx, and every documented response matches its schema.

The API runs for real (the demo stack: a node, the simulated venue, uvicorn) in a thread
of its own, and Schemathesis calls it over HTTP with a demo key.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from hypothesis import HealthCheck, settings

from keel.api.app import create_app
from keel.cli.live_demo import start_demo, stop_demo
from support.aio import free_port

schemathesis = pytest.importorskip("schemathesis", reason="make test installs schemathesis")
checks = pytest.importorskip("schemathesis.checks")
openapi_checks = pytest.importorskip("schemathesis.specs.openapi.checks")

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# The schema is what the app declares; building the app needs no running parts.
schema = schemathesis.openapi.from_dict(create_app(None, None).openapi())  # type: ignore[arg-type]
LIVE: dict[str, Any] = {}


def _serve(db: Path, ready: threading.Event) -> None:
    async def main() -> None:
        stack = await start_demo(db, tick_interval=None)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(stack.app, port=port, log_level="warning",
                                               lifespan="off"))  # fmt: skip
        LIVE.update(port=port, key=stack.key, server=server)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        ready.set()
        await serving
        await stop_demo(stack)

    asyncio.run(main())


@pytest.fixture(scope="module", autouse=True)
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    ready = threading.Event()
    db = tmp_path_factory.mktemp("schemathesis") / "keel.db"
    thread = threading.Thread(target=_serve, args=(db, ready), daemon=True)
    thread.start()
    assert ready.wait(30), "the API did not start"
    yield
    LIVE["server"].should_exit = True
    thread.join(30)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_every_response_matches_the_schema(case: Any) -> None:
    case.call_and_validate(
        base_url=f"http://127.0.0.1:{LIVE['port']}",
        headers={"Authorization": f"Bearer {LIVE['key']}"},
        checks=[checks.not_a_server_error, openapi_checks.response_schema_conformance],
    )
