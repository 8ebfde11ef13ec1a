"""The node's metrics count what the sequencer committed, batch by batch."""

from __future__ import annotations

import asyncio

from prometheus_client.parser import text_string_to_metric_families

from keel.adapters.metrics import NodeMetrics
from keel.adapters.store.memory import MemoryStore
from keel.app.sequencer import Sequencer
from keel.domain.inputs import Input
from support.builders import T0
from unit.test_sequencer import clock, fill, new, sent, source_of


def samples(metrics: NodeMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.text().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_inputs_duplicates_and_closed_orders_are_counted_once_each() -> None:
    store = MemoryStore()
    store.migrate()
    metrics = NodeMetrics(lambda: T0)
    first = fill("O1", "F1", 300, 300)
    inputs: list[Input] = [new("O1"), sent("O1"), first, first, new("O2"), sent("O2")]

    async def scenario() -> None:
        seq = Sequencer(store, clock(), tune_collector=False)
        seq.subscribe(metrics)
        await seq.start()
        try:
            # all at once, so several inputs share a batch (and a label set)
            await asyncio.gather(*(seq.submit(i, source=source_of(i)) for i in inputs))
        finally:
            await seq.stop()

    asyncio.run(scenario())
    got = samples(metrics)
    assert got["keel_inputs_total", (("outcome", "APPLIED"), ("source", "client:test"))] == 4
    assert got["keel_inputs_total", (("outcome", "APPLIED"), ("source", "venue:SIM"))] == 1
    assert got["keel_inputs_total", (("outcome", "DUPLICATE"), ("source", "venue:SIM"))] == 1
    assert got["keel_duplicate_inputs_total", ()] == 1
    assert got["keel_orders_closed_total", (("status", "FILLED"),)] == 1
    assert got["keel_processing_lag_seconds_count", ()] == 6
    assert got["keel_commit_batch_inputs_sum", ()] == 6
