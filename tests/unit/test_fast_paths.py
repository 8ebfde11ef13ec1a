"""The fast paths decide exactly what the handlers decide.

A rule's ``fast`` function skips the ``Step`` machinery for the plain case of the most
frequent inputs. Whenever it answers, its transition must equal the handler's for the same
order and input; otherwise it must decline (None) and leave the work to the handler.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.domain.enums import OrderStatus
from keel.domain.ids import ClOrdId, ExecId, VenueOrderId
from keel.domain.inputs import CancelAck, CancelRequest, Fill, Input, VenueAck
from keel.domain.order import Order, Times
from keel.domain.state_machine import DEFAULT_POLICY
from keel.domain.state_machine.table import TABLE
from keel.domain.state_machine.transition import Step, Transition
from support.builders import OrderScenario, spec

FAST_STATUSES = sorted({s for (s, _), rule in TABLE.items() if rule.fast is not None})


def both_ways(order: Order, inp: Input) -> tuple[Transition | None, Transition]:
    rule = TABLE[order.status, inp.KIND]
    assert rule.fast is not None
    times = Times(inp.ingest_time, inp.event_time, inp.ingest_time)
    fast = rule.fast(order, inp, times, DEFAULT_POLICY)
    step = Step(order, times, DEFAULT_POLICY)
    rule.handler(step, inp)
    return fast, step.done()


def inputs_for(s: OrderScenario, qty: int, cum_skip: int) -> list[Input]:
    order = s.now
    t = s.clock
    base = {"order_id": s.order_id, "ingest_time": t, "event_time": t}
    cum = order.cum_qty + Decimal(qty)
    return [
        VenueAck(**base, exec_id=ExecId("A-9"), venue_order_id=VenueOrderId("V-9")),  # type: ignore[arg-type]
        Fill(
            **base,  # type: ignore[arg-type]
            exec_id=ExecId("F-9"),
            last_qty=Decimal(qty),
            last_px=Decimal("10.05"),
            cum_qty=cum + Decimal(cum_skip),
            leaves_qty=max(order.spec.qty - cum, Decimal(0)),
        ),
        CancelRequest(**base, cl_ord_id=ClOrdId("CL-99"), actor="trader-2"),  # type: ignore[arg-type]
        CancelAck(**base, exec_id=ExecId("X-9"), cl_ord_id=ClOrdId("CL-2")),  # type: ignore[arg-type]
    ]


@settings(max_examples=200, deadline=None)
@given(
    status=st.sampled_from(FAST_STATUSES),
    filled=st.sampled_from([0, 50, 100]),
    qty=st.sampled_from([1, 50, 100, 200, 250, 300]),
    cum_skip=st.sampled_from([-50, 0, 0, 0, 25]),
)
def test_fast_paths_equal_their_handlers_or_decline(
    status: OrderStatus, filled: int, qty: int, cum_skip: int
) -> None:
    s = OrderScenario().reach(status)
    if filled and s.now.acknowledged and s.status is not OrderStatus.FILLED:
        s.fill(filled)
    for inp in inputs_for(s, qty, cum_skip):
        rule = TABLE[s.status, inp.KIND]
        if rule.fast is None:
            continue
        fast, handled = both_ways(s.now, inp)
        if fast is not None:
            assert fast == handled, f"{s.status} {type(inp).__name__}"


def test_plain_fill_takes_the_fast_path_and_a_gap_declines_it() -> None:
    s = OrderScenario().working(spec(300))
    plain = inputs_for(s, 100, 0)[1]
    gap = inputs_for(s, 100, 50)[1]
    assert both_ways(s.now, plain)[0] is not None
    fast, handled = both_ways(s.now, gap)
    assert fast is None
    assert handled.exceptions  # MISSING_EXECUTION, raised by the handler


def test_each_fast_path_answers_its_plain_case_like_its_handler() -> None:
    cases = [
        (OrderStatus.SENT, 0),  # VenueAck
        (OrderStatus.NEW, 1),  # Fill
        (OrderStatus.PARTIALLY_FILLED, 2),  # CancelRequest
        (OrderStatus.PENDING_CANCEL, 3),  # CancelAck
    ]
    for status, which in cases:
        s = OrderScenario().reach(status)
        inp = inputs_for(s, 50, 0)[which]
        fast, handled = both_ways(s.now, inp)
        assert fast is not None, (status, type(inp).__name__)
        assert fast == handled
