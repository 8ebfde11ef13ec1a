"""Cases: exceptions that belong to no Keel order, worked like any other.

A message for an order Keel never had, or a broker's execution that no Keel order explains,
is a conflict with no order to hold it. Each becomes a case: an event stream of its own
(``CASE:`` and the exception id), opened by the ``ExceptionRaised`` that records it and
worked with the same steps as an order's exceptions (take, resolve with a kind and a
comment). A resolution that books or busts a fill needs an order, so a case cannot take
one: the way to close such a case is to explain it, or to correct what made the message
unrecognisable.

The functions here are pure, like the order state machine: ``open_case`` and ``work_case``
return the events; ``fold_case`` rebuilds a case from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from keel.domain.build import build
from keel.domain.enums import ExceptionStatus, Outcome, WorkflowAction
from keel.domain.errors import DomainError
from keel.domain.events import (
    Event,
    ExceptionAcknowledged,
    ExceptionRaised,
    ExceptionResolved,
)
from keel.domain.ids import ExceptionId, OrderId
from keel.domain.inputs import BaseInput, BreakFound, ExceptionWork
from keel.domain.order import Times
from keel.domain.order_exceptions import OrderException, Resolution

CASE_PREFIX = "CASE:"


def case_stream(exception_id: str) -> OrderId:
    """Return the stream id of the case of ``exception_id``."""
    return OrderId(f"{CASE_PREFIX}{exception_id}")


def is_case(stream: str) -> bool:
    """Return whether a stream id names a case (not an order)."""
    return stream.startswith(CASE_PREFIX)


class Case(NamedTuple):
    """One exception with no order, as its events leave it."""

    stream: OrderId
    exception: OrderException
    status: ExceptionStatus
    assignee: str | None
    version: int


class CaseStep(NamedTuple):
    """What a case input did: the case after it, its events, and what became of it."""

    case: Case | None
    events: tuple[Event, ...]
    exceptions: tuple[OrderException, ...]
    outcome: Outcome
    note: str


def open_case(record: OrderException, times: Times) -> CaseStep:
    """Open the case of an exception that no order holds (its first event)."""
    stream = case_stream(record.exception_id)
    raised = ExceptionRaised(stream, 1, times, record, None, None)
    return CaseStep(fold_case(None, raised), (raised,), (record,), Outcome.CONFLICT,
                    record.summary)  # fmt: skip


def work_case(case: Case | None, inp: BaseInput, now: datetime) -> CaseStep:
    """Apply an input addressed to a case stream."""
    times = build(Times, (inp.ingest_time, inp.event_time, now))
    if isinstance(inp, BreakFound):
        if case is not None:
            return _unchanged(case, f"break {inp.break_key} is already a case ({case.status})")
        return open_case(_break_record(inp, times), times)
    if case is None:
        return CaseStep(None, (), (), Outcome.REFUSED, f"no case {inp.order_id}")
    if not isinstance(inp, ExceptionWork):
        return _unchanged(case, f"{type(inp).__name__} does not apply to a case")
    return _work(case, inp, times)


def _work(case: Case, inp: ExceptionWork, times: Times) -> CaseStep:
    if case.status is ExceptionStatus.RESOLVED:
        return _refused(case, f"exception {case.exception.exception_id} is not open")
    xid = case.exception.exception_id
    match inp.action:
        case WorkflowAction.ACKNOWLEDGE:
            assignee = inp.assignee or inp.actor
            if case.status is ExceptionStatus.ACKNOWLEDGED and case.assignee == assignee:
                return _unchanged(case, f"{xid} is already assigned to {assignee}")
            event: Event = ExceptionAcknowledged(
                case.stream, case.version + 1, times, xid, inp.actor, assignee, inp.comment
            )
        case WorkflowAction.RESOLVE:
            if inp.resolution is None:
                return _refused(case, "a resolution needs a kind")
            if not inp.comment.strip():
                return _refused(case, "a resolution needs a comment saying why")
            if inp.resolution.changes_books:
                return _refused(case, f"{xid} belongs to no Keel order: there is no order to "
                                      f"book or bust a fill on; explain it instead")  # fmt: skip
            resolution = Resolution(inp.resolution, inp.comment, inp.actor)
            event = ExceptionResolved(case.stream, case.version + 1, times, xid, resolution, None)
        case _:
            return _refused(case, f"{xid} has no resolution awaiting approval")
    return CaseStep(fold_case(case, event), (event,), (), Outcome.APPLIED, "")


def fold_case(case: Case | None, event: Event) -> Case:
    """Fold one event onto the case it belongs to."""
    if isinstance(event, ExceptionRaised):
        if case is not None:
            raise DomainError(f"case {event.order_id} is already open")
        return Case(event.order_id, event.exception, ExceptionStatus.OPEN, None, event.version)
    if case is None or event.version != case.version + 1:
        raise DomainError(f"{type(event).__name__} does not follow case {event.order_id}")
    if isinstance(event, ExceptionAcknowledged):
        return case._replace(
            status=ExceptionStatus.ACKNOWLEDGED, assignee=event.assignee, version=event.version
        )
    if isinstance(event, ExceptionResolved):
        return case._replace(status=ExceptionStatus.RESOLVED, version=event.version)
    raise DomainError(f"{type(event).__name__} does not apply to a case")


def fold_cases(events: list[Event], case: Case | None = None) -> Case | None:
    """Rebuild a case from its events."""
    for event in events:
        case = fold_case(case, event)
    return case


def _break_record(inp: BreakFound, times: Times) -> OrderException:
    return OrderException(
        exception_id=ExceptionId(inp.order_id.removeprefix(CASE_PREFIX)),
        kind=inp.kind,
        order_id=None,
        summary=inp.summary,
        evidence=(*inp.evidence, ("recon run", inp.run_id), ("break key", inp.break_key)),
        raised_at=times.processed_time,
        exec_id=inp.exec_id,
        break_key=inp.break_key,
    )


def _unchanged(case: Case, note: str) -> CaseStep:
    return CaseStep(case, (), (), Outcome.IGNORED, note)


def _refused(case: Case, note: str) -> CaseStep:
    return CaseStep(case, (), (), Outcome.REFUSED, note)
