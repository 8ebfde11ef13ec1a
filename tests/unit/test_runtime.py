"""The sequencer's process tunes the garbage collector for its allocation pattern."""

from __future__ import annotations

import gc

from keel.app.runtime import GcSettings, restore_default_gc, tune_gc


def test_tune_gc_freezes_what_is_loaded_and_raises_the_young_threshold() -> None:
    loaded = [object() for _ in range(10)]
    try:
        tune_gc(GcSettings(young_threshold=12_345, middle_threshold=7, old_threshold=3))
        assert gc.get_threshold() == (12_345, 7, 3)
        assert gc.get_freeze_count() > 0
    finally:
        restore_default_gc()
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    assert len(loaded) == 10
