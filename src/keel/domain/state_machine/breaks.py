"""Reconciliation breaks raised on the order they involve.

A run compares Keel's books with the broker's and finds differences; each one that involves
a Keel order becomes an exception on that order, with both sides' values as evidence, in
the same queue as the state machine's own. A rerun that finds the same difference again
(same ``break_key``) while it is open changes nothing, so reconciling twice raises nothing
twice.
"""

from __future__ import annotations

from keel.domain.events import ExceptionRaised
from keel.domain.ids import exception_id_for
from keel.domain.inputs import BreakFound
from keel.domain.order_exceptions import OrderException
from keel.domain.state_machine.outcomes import ignore
from keel.domain.state_machine.transition import Step


def raise_break(step: Step, inp: BreakFound) -> None:
    """Raise the break as an exception on the order, unless it is open already."""
    order = step.order
    for ref in order.open_exceptions:
        if ref.ref == inp.break_key:
            ignore(f"break {inp.break_key} is already open as {ref.exception_id}")(step, inp)
            return
    record = OrderException(
        exception_id=exception_id_for(order.order_id, order.exception_count + 1),
        kind=inp.kind,
        order_id=order.order_id,
        summary=inp.summary,
        evidence=(*inp.evidence, ("recon run", inp.run_id), ("break key", inp.break_key)),
        raised_at=step.times.processed_time,
        exec_id=inp.exec_id,
        break_key=inp.break_key,
    )
    # The event names no ExecID: the execution a break is about was not processed by this
    # order (a missing fill must stay bookable), it is only talked about.
    step.emit(ExceptionRaised(order.order_id, step.next_version, step.times, record, None, None))
    step.exceptions.append(record)
    step.note = f"{inp.kind} raised as {record.exception_id}"
