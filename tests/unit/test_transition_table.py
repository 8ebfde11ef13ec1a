"""The transition table: every (status, input) pair has a rule, and the rule tells the truth.

For each pair, orders are driven into the status along the usual paths (and a few unusual
ones), then fed several representative inputs of the kind. Whatever the input, ``apply``
must answer with a ``Transition`` and the order may only move to a status the rule declares.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from keel.domain.amounts import ZERO
from keel.domain.enums import OrderStatus, Outcome, ResolutionKind, TimerKind, WorkflowAction
from keel.domain.events import ExceptionRaised
from keel.domain.inputs import InputKind
from keel.domain.state_machine import (
    DEFAULT_POLICY,
    TABLE,
    PendingRequestPolicy,
    Policy,
    Rule,
    Transition,
)
from support.builders import OrderScenario

S = OrderStatus
K = InputKind

Path = Callable[[], OrderScenario]
Variant = Callable[[OrderScenario], Transition]


def _canonical(status: OrderStatus) -> Path:
    return lambda: OrderScenario().reach(status)


def _steps(*steps: Callable[[OrderScenario], object], policy: Policy = DEFAULT_POLICY) -> Path:
    def drive() -> OrderScenario:
        s = OrderScenario(policy=policy)
        for step in steps:
            step(s)
        return s

    return drive


_NEW: tuple[Callable[[OrderScenario], object], ...] = (
    lambda s: s.new(),
    lambda s: s.sent(),
    lambda s: s.ack(),
)

# Other ways into a status than ``OrderScenario.reach``: fills booked before a request, a
# request sent before the ack, closes the venue initiated.
_MORE_PATHS: dict[OrderStatus, tuple[Path, ...]] = {
    S.DONE_FOR_DAY: (_steps(*_NEW, lambda s: s.fill(100), lambda s: s.done_for_day()),),
    S.PENDING_CANCEL: (
        _steps(lambda s: s.new(), lambda s: s.sent(), lambda s: s.cancel()),
        _steps(*_NEW, lambda s: s.fill(100), lambda s: s.cancel()),
        _steps(*_NEW, lambda s: s.fill(100), lambda s: s.done_for_day(), lambda s: s.cancel()),
    ),
    S.PENDING_REPLACE: (
        _steps(*_NEW, lambda s: s.fill(100), lambda s: s.replace(qty=150)),
        _steps(*_NEW, lambda s: s.fill(200), lambda s: s.replace(qty=200)),
        _steps(*_NEW, lambda s: s.replace(qty=200), lambda s: s.done_for_day()),
        _steps(*_NEW, lambda s: s.replace(qty=200), lambda s: s.cancel()),
        _steps(
            *_NEW,
            lambda s: s.replace(qty=200),
            lambda s: s.replace(qty=250),
            policy=Policy(replace_while_pending=PendingRequestPolicy.QUEUE),
        ),
    ),
    S.FILLED: (_steps(*_NEW, lambda s: s.cancel(), lambda s: s.fill(300)),),
    S.CANCELED: (
        _steps(*_NEW, lambda s: s.fill(100), lambda s: s.cancel(), lambda s: s.cancel_ack()),
        _steps(*_NEW, lambda s: s.cancel_ack()),
    ),
    S.REJECTED: (_steps(lambda s: s.deny()),),
    S.EXPIRED: (
        _steps(*_NEW, lambda s: s.fill(100), lambda s: s.expired()),
        _steps(lambda s: s.new(), lambda s: s.timer(TimerKind.EXPIRY)),
    ),
}


def _paths(status: OrderStatus) -> tuple[Path, ...]:
    return (_canonical(status), *_MORE_PATHS.get(status, ()))


# --- representative inputs of each kind ---------------------------------------------------


def _pending_or(s: OrderScenario, fallback: str) -> str:
    pending = s.now.pending
    return pending.cl_ord_id if pending is not None else fallback


def _first_active_exec_id(s: OrderScenario) -> str:
    active = s.now.active_fills
    return active[0].exec_id if active else "EX-NEVER-BOOKED"


def _rest_of_order(s: OrderScenario) -> Decimal:
    rest = s.now.spec.qty - s.now.cum_qty
    return rest if rest > ZERO else Decimal(10)


def _fills_the_order(s: OrderScenario) -> Decimal:
    """Return the quantity the first active fill must be corrected to for a complete order."""
    active = s.now.active_fills
    return (active[0].qty if active else ZERO) + _rest_of_order(s)


def _timer(kind: TimerKind, attempt: int) -> Variant:
    return lambda s: s.timer(kind, _pending_or(s, s.now.cl_ord_id), attempt)


def _report(status: OrderStatus, cum_delta: int = 0) -> Variant:
    def report(s: OrderScenario) -> Transition:
        cum = s.now.cum_qty + cum_delta
        leaves = ZERO if status.is_terminal else max(s.now.spec.qty - cum, ZERO)
        return s.status_report(status, str(cum), str(leaves))

    return report


VARIANTS: dict[InputKind, tuple[Variant, ...]] = {
    K.NEW_ORDER_ACCEPTED: (lambda s: s.new(),),
    K.NEW_ORDER_DENIED: (lambda s: s.deny(),),
    K.SENT_TO_VENUE: (lambda s: s.sent(),),
    K.VENUE_ACK: (lambda s: s.ack(), lambda s: s.ack(venue_order_id="V-OTHER")),
    K.VENUE_REJECT: (lambda s: s.venue_reject(),),
    K.FILL: (
        lambda s: s.fill(50),
        lambda s: s.fill(str(_rest_of_order(s))),
        lambda s: s.fill(50, cum=str(s.now.cum_qty + 150)),
    ),
    K.CANCEL_REQUEST: (lambda s: s.cancel(), lambda s: s.cancel(cl_ord_id="CL-1")),
    K.CANCEL_ACK: (lambda s: s.cancel_ack(),),
    K.CANCEL_REJECT: (
        lambda s: s.cancel_reject(_pending_or(s, "CL-1")),
        lambda s: s.cancel_reject("CL-NEVER-SENT"),
    ),
    K.REPLACE_REQUEST: (
        lambda s: s.replace(qty=250),
        lambda s: s.replace(qty=100),
        lambda s: s.replace(limit="10.00"),
    ),
    K.REPLACE_ACK: (
        lambda s: s.replace_ack(_pending_or(s, "CL-1")),
        lambda s: s.replace_ack("CL-NEVER-SENT"),
    ),
    K.REPLACE_REJECT: (
        lambda s: s.replace_reject(_pending_or(s, "CL-1")),
        lambda s: s.replace_reject("CL-NEVER-SENT"),
    ),
    K.EXPIRED: (lambda s: s.expired(),),
    K.DONE_FOR_DAY: (lambda s: s.done_for_day(),),
    K.TRADE_CORRECTION: (
        lambda s: s.correct(_first_active_exec_id(s), 40, "10.01"),
        lambda s: s.correct(_first_active_exec_id(s), str(_fills_the_order(s)), "10.01"),
        lambda s: s.correct("EX-NEVER-BOOKED", 40, "10.01"),
    ),
    K.TRADE_BUST: (
        lambda s: s.bust(_first_active_exec_id(s)),
        lambda s: s.bust("EX-NEVER-BOOKED"),
    ),
    K.STATUS_REPORT: (
        *(_report(status) for status in (S.NEW, S.PARTIALLY_FILLED, S.FILLED)),
        *(_report(status) for status in (S.CANCELED, S.REJECTED, S.EXPIRED)),
        _report(S.PARTIALLY_FILLED, cum_delta=50),
    ),
    K.TIMER: tuple(_timer(kind, attempt) for kind in TimerKind for attempt in (1, 2)),
    K.EXCEPTION_WORK: (
        lambda s: s.work("X-NOT-ON-THIS-ORDER", WorkflowAction.ACKNOWLEDGE, "ops-anna"),
        lambda s: s.work(
            _first_open_exception(s),
            WorkflowAction.RESOLVE,
            "ops-anna",
            resolution=ResolutionKind.EXPLAINED,
            comment="explained",
        ),
    ),
    K.BREAK_FOUND: (lambda s: s.break_found(), lambda s: s.break_found(exec_id=None)),
    K.DROP_COPY: (lambda s: s.drop_copy(),),
    K.STATEMENT: (lambda s: s.statement(),),
}


def _first_open_exception(s: OrderScenario) -> str:
    found = s.now.open_exceptions
    return found[0].exception_id if found else "X-NONE-OPEN"


def test_every_input_kind_has_representative_inputs() -> None:
    assert set(VARIANTS) == set(InputKind)


# --- the table ----------------------------------------------------------------------------


def _assert_honours(
    rule: Rule, before_status: OrderStatus, s: OrderScenario, tr: Transition
) -> None:
    after = s.now
    assert isinstance(tr, Transition)
    assert isinstance(tr.outcome, Outcome)
    assert after.status is before_status or after.status in rule.to, (
        f"{before_status} -> {after.status} is not declared; rule says {rule.to}: {rule.why}"
    )
    if tr.outcome in (Outcome.IGNORED, Outcome.DUPLICATE):
        assert tr.events == ()
    if tr.outcome is Outcome.CONFLICT:
        assert tr.exceptions
    raised = [e.exception for e in tr.events if isinstance(e, ExceptionRaised)]
    assert raised == list(tr.exceptions)
    assert after.cum_qty == sum((f.qty for f in after.active_fills), ZERO)
    assert s.rebuilt() == after


@pytest.mark.parametrize(
    ("status", "kind"),
    [(status, kind) for status in OrderStatus for kind in InputKind],
    ids=str,
)
def test_every_status_and_input_pair_has_a_defined_outcome(
    status: OrderStatus, kind: InputKind
) -> None:
    rule = TABLE[status, kind]
    assert isinstance(rule, Rule)
    for path in _paths(status):
        for variant in VARIANTS[kind]:
            s = path()
            before = s.now
            assert before.status is status

            tr = variant(s)

            _assert_honours(rule, status, s, tr)
            if tr.outcome in (Outcome.IGNORED, Outcome.DUPLICATE):
                assert s.now == before


def test_table_has_nothing_but_status_and_input_pairs() -> None:
    assert set(TABLE) == {(status, kind) for status in OrderStatus for kind in InputKind}


def test_every_rule_says_why() -> None:
    for (status, kind), rule in TABLE.items():
        assert rule.why.strip(), f"{status} x {kind} has no why"
