"""Prometheus metrics of a running node, served by the API at ``/metrics``.

Counted as batches commit (the node subscribes ``NodeMetrics`` to the sequencer): inputs by
source and outcome, duplicates, the lag from ingest to release, commit batch sizes, orders
closed by status. Read at each scrape: working orders by status, open exceptions by kind,
each venue session's state and the instructions no venue could take.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client import Counter as PromCounter
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from keel.app.results import Committed
from keel.domain.enums import TERMINAL_STATUSES, OrderStatus, Outcome
from keel.domain.order import Order

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)


class _Live(Collector):
    """What is read at scrape time rather than counted."""

    def __init__(
        self,
        open_orders: Callable[[], Iterable[Order]],
        open_exceptions: Callable[[], Iterable[str]],
        venues: Callable[[], dict[str, bool]],
        unavailable: Callable[[], int],
    ) -> None:
        self._open_orders = open_orders
        self._open_exceptions = open_exceptions
        self._venues = venues
        self._unavailable = unavailable

    def collect(self) -> Iterable[Metric]:
        orders = GaugeMetricFamily("keel_working_orders", "Orders not closed, by status",
                                   labels=["status"])  # fmt: skip
        for status, count in sorted(Counter(str(o.status) for o in self._open_orders()).items()):
            orders.add_metric([status], count)
        yield orders
        exceptions = GaugeMetricFamily("keel_open_exceptions", "Open exceptions, by kind",
                                       labels=["kind"])  # fmt: skip
        for kind, count in sorted(Counter(self._open_exceptions()).items()):
            exceptions.add_metric([kind], count)
        yield exceptions
        sessions = GaugeMetricFamily("keel_venue_session_up",
                                     "1 when the venue's FIX session is logged on",
                                     labels=["venue"])  # fmt: skip
        for venue, up in sorted(self._venues().items()):
            sessions.add_metric([venue], 1 if up else 0)
        yield sessions
        refused = GaugeMetricFamily("keel_venue_unavailable_total",
                                    "Instructions no venue session could take")  # fmt: skip
        refused.add_metric([], self._unavailable())
        yield refused


class NodeMetrics:
    """A sequencer subscriber that keeps the node's metrics in its own registry."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        open_orders: Callable[[], Iterable[Order]] = tuple,
        open_exceptions: Callable[[], Iterable[str]] = tuple,
        venues: Callable[[], dict[str, bool]] = dict,
        unavailable: Callable[[], int] = lambda: 0,
    ) -> None:
        self._now = clock
        self.registry = CollectorRegistry()
        self.inputs = PromCounter("keel_inputs", "Inputs committed, by source and outcome",
                                  ["source", "outcome"], registry=self.registry)  # fmt: skip
        self.duplicates = PromCounter("keel_duplicate_inputs", "Inputs answered as duplicates",
                                      registry=self.registry)  # fmt: skip
        self.lag = Histogram("keel_processing_lag_seconds",
                             "From ingest to the release after commit", buckets=LAG_BUCKETS,
                             registry=self.registry)  # fmt: skip
        self.batches = Histogram("keel_commit_batch_inputs", "Inputs per group commit",
                                 buckets=BATCH_BUCKETS, registry=self.registry)  # fmt: skip
        self.closed = PromCounter("keel_orders_closed", "Orders closed, by final status",
                                  ["status"], registry=self.registry)  # fmt: skip
        self.recon_runs = PromCounter(
            "keel_recon_runs", "Reconciliation runs, by broker and result", ["broker", "result"],
            registry=self.registry,
        )  # fmt: skip
        self.recon_breaks = PromCounter(
            "keel_recon_breaks", "Breaks reconciliation found, by kind and what became of them",
            ["kind", "state"], registry=self.registry,
        )  # fmt: skip
        self.registry.register(_Live(open_orders, open_exceptions, venues, unavailable))

    def recon_run(self, run: Mapping[str, Any]) -> None:
        """Count a finished reconciliation run and its breaks."""
        self.recon_runs.labels(run["broker"], run["result"]).inc()
        for found in run["breaks"]:
            self.recon_breaks.labels(found["kind"], found["state"]).inc()

    def __call__(self, batch: Sequence[Committed]) -> None:
        # Counted per batch, then added once per label set: a label lookup per input cost
        # more than the rest of this subscriber.
        now = self._now()
        self.batches.observe(len(batch))
        inputs: Counter[tuple[str, Outcome]] = Counter()
        closed: Counter[OrderStatus] = Counter()
        observe_lag = self.lag.observe
        for committed in batch:
            result = committed.result
            inputs[committed.source, result.outcome] += 1
            if committed.ingest_time is not None:
                observe_lag(max(0.0, (now - committed.ingest_time).total_seconds()))
            order = result.order
            if result.events and order is not None and order.status in TERMINAL_STATUSES:
                closed[order.status] += 1
        for (source, outcome), count in inputs.items():
            self.inputs.labels(source, str(outcome)).inc(count)
            if outcome is Outcome.DUPLICATE:
                self.duplicates.inc(count)
        for status, count in closed.items():
            self.closed.labels(str(status)).inc(count)

    def text(self) -> bytes:
        """The exposition Prometheus scrapes."""
        return generate_latest(self.registry)
