"""Process-wide settings for the processes that run Keel's hot path.

CPython's cyclic garbage collector walks young objects every 700 container allocations and
every tracked object on each full collection. The sequencer allocates a dozen small tuples
per transition (the new order, its event, the fill, the transition), all acyclic and freed by
reference counting, and it holds every working order in memory: with the default settings
the collector cost a third of the state machine's throughput here
(``bench/state_machine.py`` prints both figures).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GcSettings:
    young_threshold: int = 50_000
    """Container allocations between young-generation collections (CPython default 700)."""
    middle_threshold: int = 20
    old_threshold: int = 100


SEQUENCER_GC = GcSettings()


def tune_gc(settings: GcSettings = SEQUENCER_GC) -> None:
    """Collect once, freeze what is alive (the loaded working orders, the code), and collect
    young objects less often. Call after start-up has loaded state, before taking inputs."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(settings.young_threshold, settings.middle_threshold, settings.old_threshold)


def restore_default_gc() -> None:
    """Undo ``tune_gc``: CPython's default thresholds, nothing frozen."""
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
