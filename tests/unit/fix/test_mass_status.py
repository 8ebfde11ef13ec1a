"""A venue's mass status answer against Keel's working orders: an order Keel works that the
venue does not list is raised as MISSING_AT_BROKER; what the venue lists is left to the
state machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from keel.adapters.fix.mass_status import MassStatusAnswer
from keel.adapters.fix.message import FixMessage
from keel.domain.enums import ExceptionKind, OrderStatus
from keel.domain.ids import VenueId
from keel.domain.order import Order
from support.builders import T0, OrderScenario, spec


def _report(**fields: str) -> FixMessage:
    return FixMessage("FIX.4.4", [(tag, value.encode()) for tag, value in
                                  ((int(k[1:]), v) for k, v in fields.items())])  # fmt: skip


def _working(order_id: str, n: int = 1) -> Order:
    """A working order of 300 sent as ClOrdID CL-n, acknowledged as venue order V-n."""
    s = OrderScenario(order_id=order_id)  # type: ignore[arg-type]
    s.new(spec(300), cl_ord_id=f"CL-{n}")
    s.sent()
    s.ack(venue_order_id=f"V-{n}")
    return s.now


def test_an_order_keel_works_that_the_venue_does_not_list_is_missing_at_the_broker() -> None:
    asked = MassStatusAnswer("SIM", "MS-1", T0 + timedelta(hours=1))
    by_cl_ord_id, by_venue_id, lost = (
        _working("ORD-1", 1),
        _working("ORD-2", 2),
        _working("ORD-3", 3),
    )
    asked.note(_report(t11="CL-1", t584="MS-1", t911="2", t912="N"))
    asked.note(_report(t37="V-2", t584="MS-1", t911="2", t912="Y"))

    found = asked.unlisted([by_cl_ord_id, by_venue_id, lost], T0 + timedelta(hours=2))

    assert [b.order_id for b in found] == ["ORD-3"]


def test_the_whole_answer_decides_and_new_or_closed_orders_are_not_expected() -> None:
    asked = MassStatusAnswer("SIM", "MS-2", T0 + timedelta(hours=1))
    lost = _working("ORD-9")
    closed = OrderScenario(order_id="ORD-8").reach(OrderStatus.FILLED).now  # type: ignore[arg-type]
    later = _working("ORD-7")._replace(created_at=T0 + timedelta(hours=3))
    elsewhere = _working("ORD-6")._replace(spec=replace(spec(300), venue=VenueId("OTHER")))

    found = asked.unlisted([lost, closed, later, elsewhere], T0 + timedelta(hours=2))

    [missing] = found
    assert missing.order_id == "ORD-9"
    assert missing.kind is ExceptionKind.MISSING_AT_BROKER
    assert missing.break_key == "ORDER/MISSING_AT_BROKER/ORD-9"
    assert dict(missing.evidence)["mass status request"] == "MS-2"
    assert "does not list it as open" in missing.summary


def test_an_empty_answer_and_the_last_report_end_the_answer() -> None:
    empty = _report(t37="NONE", t584="MS-3", t911="0", t912="Y")
    middle = _report(t11="CL-1", t584="MS-3", t911="2", t912="N")
    asked = MassStatusAnswer("SIM", "MS-3", T0)

    assert asked.is_answer(empty)
    assert not asked.is_answer(_report(t584="MS-OTHER"))
    assert MassStatusAnswer.is_empty(empty)
    assert MassStatusAnswer.is_last(empty)
    assert not MassStatusAnswer.is_last(middle)
