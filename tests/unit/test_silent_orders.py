"""The stuck-order monitor's silence rule: a working order with no update for longer than the
configured window is flagged SILENT_ORDER, once, with when it last changed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keel.domain.enums import ExceptionKind, OrderStatus, Outcome, TimerKind
from keel.domain.state_machine import Policy
from support.builders import OrderScenario, spec

WATCHED = Policy(silence_window=timedelta(hours=1))


def _quiet_for(s: OrderScenario, how_long: timedelta) -> None:
    s.clock += how_long


def test_working_order_silent_beyond_the_window_is_flagged_once() -> None:
    s = OrderScenario(policy=WATCHED).working(spec(300))
    last_update = s.now.times.processed_time
    _quiet_for(s, timedelta(hours=2))

    flagged = s.timer(TimerKind.SILENCE)
    again = s.timer(TimerKind.SILENCE)

    assert flagged.outcome is Outcome.CONFLICT
    assert [x.kind for x in flagged.exceptions] == [ExceptionKind.SILENT_ORDER]
    evidence = dict(flagged.exceptions[0].evidence)
    assert evidence["last update"] == last_update.isoformat()
    assert evidence["window"] == "1:00:00"
    assert again.outcome is Outcome.IGNORED
    assert s.status is OrderStatus.NEW
    assert s.rebuilt() == s.now


def test_order_updated_within_the_window_is_not_flagged() -> None:
    s = OrderScenario(policy=WATCHED).working(spec(300))
    _quiet_for(s, timedelta(minutes=50))
    s.fill(100)
    _quiet_for(s, timedelta(minutes=50))

    tr = s.timer(TimerKind.SILENCE)

    assert tr.outcome is Outcome.IGNORED
    assert tr.events == ()


@pytest.mark.parametrize("status", [OrderStatus.SENT, OrderStatus.PENDING_CANCEL])
def test_silence_is_only_watched_on_working_orders(status: OrderStatus) -> None:
    s = OrderScenario(policy=WATCHED).reach(status)
    _quiet_for(s, timedelta(hours=3))

    tr = s.timer(TimerKind.SILENCE)

    assert tr.outcome is Outcome.IGNORED


def test_without_a_window_nothing_is_flagged() -> None:
    s = OrderScenario().working(spec(300))
    _quiet_for(s, timedelta(days=3))

    assert s.timer(TimerKind.SILENCE).outcome is Outcome.IGNORED
