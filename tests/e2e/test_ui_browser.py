"""The operator UI in a real browser (Debian's Chromium, driven by Playwright) against the
demo stack: sign in, send an order from the ticket, watch it fill on the live blotter,
open its timeline, cancel a resting one, resolve an exception. Screenshots are saved in the
test's output folder (pytest's ``tmp_path``)."""

from __future__ import annotations

import asyncio
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import uvicorn

from keel.adapters.clock import SystemClock
from keel.cli.live_demo import DemoStack, start_demo, stop_demo
from keel.domain.ids import ClOrdId, ExecId, OrderId
from keel.domain.inputs import Fill
from support.aio import free_port

playwright = pytest.importorskip(
    "playwright.async_api", reason="playwright is not installed: make test installs it"
)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason="needs Debian's chromium: apt-get install chromium (.ci/run installs it)",
    ),
]


def test_an_operator_trades_and_reads_a_timeline_in_the_browser(tmp_path: Path) -> None:
    async_playwright, expect = playwright.async_playwright, playwright.expect

    async def scenario() -> None:
        stack = await start_demo(tmp_path / "demo.db", tick_interval=None)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(stack.app, port=port, log_level="warning",
                                               lifespan="off"))  # fmt: skip
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = await browser.new_page()
                # a wrong key is refused with a message
                await page.goto(f"http://127.0.0.1:{port}/")
                await page.fill("#key", "keel_wrong")
                await page.click("#login-form button")
                await expect(page.locator("#login-error")).to_contain_text("not valid")
                # the demo's address carries the key in its fragment
                await page.goto(f"http://127.0.0.1:{port}/#key={stack.key}")
                await expect(page.locator("#desk")).to_be_visible()
                await expect(page.locator("#live")).to_have_class("dot on")
                assert "#key" not in page.url
                # a marketable order from the ticket fills, and the blotter shows it live
                ticket = page.locator("#ticket-form")
                await ticket.locator("[name=account]").fill("FUND-A")
                await ticket.locator("[name=qty]").fill("10")
                await ticket.locator("[name=limit_price]").fill("150.00")
                await ticket.locator("button").click()
                filled = page.locator("#orders tr", has_text="FILLED")
                await expect(filled).to_have_count(1, timeout=15_000)
                # its timeline: created, sent, filled, with the input each came from
                await filled.click()
                await expect(page.locator("#order")).to_be_visible()
                timeline = page.locator("#timeline tr")
                await expect(timeline.first).to_contain_text("OrderCreated")
                await expect(page.locator("#timeline")).to_contain_text("FillBooked")
                await expect(page.locator("#fills tr")).not_to_have_count(0)
                # the venue session shows as up
                await expect(page.locator("#venues")).to_contain_text("SIM ● ACTIVE")
                # a resting order is replaced (quantity 10 -> 20) and then cancelled
                await ticket.locator("[name=limit_price]").fill("50.00")
                await ticket.locator("button").click()
                resting = page.locator("#orders tr", has_text="NEW")
                await expect(resting).to_have_count(1, timeout=15_000)
                answers = iter(["20", "50.00"])
                page.on("dialog", lambda dialog: asyncio.ensure_future(
                    dialog.accept(next(answers))))  # fmt: skip
                await resting.locator("button.replace").click()
                await expect(page.locator("#orders tr", has_text="50.00").locator("td").nth(4)
                             ).to_have_text("20", timeout=15_000)  # fmt: skip
                await resting.locator("button.cancel").click()
                await expect(page.locator("#orders tr", has_text="CANCELED")).to_have_count(
                    1, timeout=15_000
                )
                # the filled order shows in the positions
                positions = page.locator("#position-rows")
                await expect(positions).to_contain_text("ACME", timeout=10_000)
                # the kill switch halts the account, and the banner says so
                kill = page.locator("#kill-form")
                await kill.locator("[name=account]").fill("FUND-A")
                await kill.locator("[name=reason]").fill("end of day checks")
                await kill.locator("button.danger").click()
                await expect(page.locator("#kill-result")).to_contain_text("Halted FUND-A")
                await expect(page.locator("#halts")).to_contain_text(
                    "New orders halted for FUND-A: end of day checks", timeout=10_000
                )
                # the filter narrows the blotter
                await page.fill("#filter", "canceled")
                await expect(page.locator("#orders tr")).to_have_count(1)
                await page.screenshot(path=str(tmp_path / "blotter.png"), full_page=True)
                # a late fill on the cancelled order raises an exception; it is resolved
                await _late_fill_on_the_canceled_order(stack)
                queue = page.locator("#exception-rows tr", has_text="LATE_FILL")
                await expect(queue).to_have_count(1, timeout=10_000)
                await expect(queue).to_contain_text("OPEN")
                await queue.locator("button.take").click()
                await expect(queue).to_contain_text("ACKNOWLEDGED", timeout=10_000)
                await queue.locator("select.resolution-kind").select_option("EXPLAINED")
                await queue.locator("input.comment").fill("venue confirmed: sent before the cancel")
                await page.screenshot(path=str(tmp_path / "exceptions.png"), full_page=True)
                await queue.locator("button.resolve").click()
                await expect(page.locator("#exception-result")).to_contain_text("RESOLVED")
                await expect(queue).to_have_count(0, timeout=10_000)
                # the order page shows the exception, its resolution, and the steps in order
                await page.locator("#orders tr", has_text="CANCELED").click()
                await expect(page.locator("#order-exceptions")).to_contain_text(
                    "EXPLAINED by user:demo", timeout=10_000
                )
                await expect(page.locator("#timeline")).to_contain_text("ExceptionResolved")
                await page.screenshot(path=str(tmp_path / "order.png"), full_page=True)
                # the venue's statement, reconciled from the UI: the fill the venue never
                # made (the late fill above came from nowhere) is a break at the broker
                statement = stack.venue.write_statement(tmp_path / "sim-statement.csv")
                recon = page.locator("#recon-form")
                await recon.locator("[name=statement]").set_input_files(str(statement))
                await recon.locator("button").click()
                await expect(page.locator("#recon-result")).to_contain_text("BREAKS")
                await expect(page.locator("#recon-runs tr")).to_have_count(1)
                await expect(page.locator("#recon-breaks")).to_contain_text("MISSING_AT_BROKER")
                await expect(page.locator("#recon-breaks")).to_contain_text("LATE-1")
                await page.screenshot(path=str(tmp_path / "reconciliation.png"), full_page=True)
                await browser.close()
        finally:
            server.should_exit = True
            await serving
            await stop_demo(stack)

    asyncio.run(scenario())


async def _late_fill_on_the_canceled_order(stack: DemoStack) -> None:
    """The venue reports a fill on the order the operator cancelled (as a real venue may)."""
    canceled = next(o for o in stack.node.store.read_table("orders") if o["status"] == "CANCELED")
    now = SystemClock().now()
    await stack.node.sequencer.submit(
        Fill(
            order_id=OrderId(canceled["order_id"]), ingest_time=now, event_time=now,
            exec_id=ExecId("LATE-1"), cl_ord_id=ClOrdId(canceled["cl_ord_id"]),
            last_qty=Decimal(5), last_px=Decimal("50.00"), cum_qty=Decimal(5),
            leaves_qty=Decimal(0),
        ),
        source="venue:SIM",
    )  # fmt: skip
