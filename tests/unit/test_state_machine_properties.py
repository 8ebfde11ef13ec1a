"""Property-based tests of the order state machine.

Hypothesis writes a true venue story for one order (an ack or a reject, fills whose CumQty is
the venue's running cum, a cancel or a replace and the venue's answer, a done-for-day or an
expiry, a correction or a bust, a closing status report), then delivers it the way a real
session can: reordered, duplicated (the same input object again), with messages lost, fills
moved before the ack or after the close, and client commands and timers interleaved. Every
input goes through ``apply`` and the invariants are checked after every step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from itertools import count
from typing import Any

from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from keel.domain.enums import ExceptionKind, OrderStatus, Outcome, TimerKind
from keel.domain.events import Event, FillAmended, FillBooked
from keel.domain.fold import fold
from keel.domain.ids import ClOrdId, ExecId, OrderId, VenueOrderId
from keel.domain.inputs import (
    CancelAck,
    CancelReject,
    CancelRequest,
    Fill,
    Input,
    NewOrderAccepted,
    ReplaceAck,
    ReplaceReject,
    ReplaceRequest,
    SentToVenue,
    StatusReport,
    TimerFired,
    TradeBust,
    TradeCorrection,
    VenueAck,
    VenueDoneForDay,
    VenueExpired,
    VenueReject,
    VenueReport,
)
from keel.domain.order import Order
from keel.domain.state_machine import (
    DEFAULT_POLICY,
    TABLE,
    PendingRequestPolicy,
    Policy,
    Transition,
    apply,
)
from support.builders import OrderScenario, spec

ORDER_ID = OrderId("ORD-P")
FIRST_CL_ORD_ID = ClOrdId("CL-1")
VENUE_ORDER_ID = VenueOrderId("V-1")
T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
ZERO = Decimal(0)
AVG = Context(prec=34)

LOT_OF_QTY = {
    Decimal("1"): Decimal("1"),
    Decimal("10"): Decimal("1"),
    Decimal("7.5"): Decimal("0.5"),
    Decimal("300"): Decimal("25"),
}
"""The order quantities drawn, each with the lot its fills come in."""

POLICIES = (DEFAULT_POLICY, Policy(replace_while_pending=PendingRequestPolicy.QUEUE))

CLOSED = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)

prices = st.integers(min_value=950, max_value=1050).map(lambda cents: Decimal(cents).scaleb(-2))


def one_in(data: st.DataObject, n: int, label: str) -> bool:
    """Draw a rare yes: shrinks towards no."""
    return data.draw(st.integers(0, n - 1), label=label) == n - 1


# --- the true story --------------------------------------------------------------------


@dataclass
class Story:
    """What really happened at the venue, in the order the venue sent it."""

    qty: Decimal
    venue: list[Input] = field(default_factory=list)
    requests: list[tuple[CancelRequest | ReplaceRequest, Input | None]] = field(
        default_factory=list
    )
    """Client requests, each with the venue's answer to it (None: never answered)."""
    _exec_seq: count[int] = field(default_factory=lambda: count(1))
    _cl_seq: count[int] = field(default_factory=lambda: count(2))
    _clock: count[int] = field(default_factory=lambda: count(1))

    def exec_id(self) -> ExecId:
        return ExecId(f"E-{next(self._exec_seq)}")

    def cl_ord_id(self) -> ClOrdId:
        return ClOrdId(f"CL-{next(self._cl_seq)}")

    def base(self) -> dict[str, Any]:
        at = T0 + timedelta(milliseconds=next(self._clock))
        return {"order_id": ORDER_ID, "ingest_time": at, "event_time": at}


def draw_story(data: st.DataObject) -> Story:
    qty = data.draw(st.sampled_from(sorted(LOT_OF_QTY)), label="order qty")
    lot = LOT_OF_QTY[qty]
    story = Story(qty)
    if one_in(data, 8, "venue rejects the order"):
        if data.draw(st.booleans(), label="cancel in flight before the reject"):
            cancel = CancelRequest(**story.base(), cl_ord_id=story.cl_ord_id())
            answer = CancelReject(
                **story.base(), cl_ord_id=cancel.cl_ord_id, reason_code="UNKNOWN_ORDER"
            )
            story.requests.append((cancel, answer))
            story.venue.append(answer)
        story.venue.insert(
            0,
            VenueReject(
                **story.base(), exec_id=story.exec_id(), cl_ord_id=FIRST_CL_ORD_ID, text="no"
            ),
        )
        return story

    story.venue.append(
        VenueAck(
            **story.base(),
            exec_id=story.exec_id(),
            cl_ord_id=FIRST_CL_ORD_ID,
            venue_order_id=VENUE_ORDER_ID,
        )
    )
    units = int(qty / lot)
    remaining = units
    plan: list[int] = []
    for _ in range(data.draw(st.integers(0, 5), label="fills planned")):
        if remaining == 0:
            break
        taken = data.draw(st.integers(1, remaining), label="fill lots")
        plan.append(taken)
        remaining -= taken
    replace_at = data.draw(st.none() | st.integers(0, len(plan)), label="replace before fill")
    cancel_at = data.draw(st.none() | st.integers(0, len(plan)), label="cancel before fill")
    cancel_acked = data.draw(st.booleans(), label="cancel acked")
    if cancel_at is not None and cancel_acked:
        plan = plan[:cancel_at]  # the venue canceled: no fills after its cancel ack
    amend_of = (
        data.draw(st.none() | st.integers(0, len(plan) - 1), label="amend fill") if plan else None
    )
    amend_at_end = data.draw(st.booleans(), label="amendment at the end")

    active: dict[ExecId, Decimal] = {}
    cl_ord_id = FIRST_CL_ORD_ID
    order_qty = qty
    pending_amendment: Input | None = None
    canceled = False
    for i in range(len(plan) + 1):
        cum = sum(active.values(), ZERO)
        if replace_at == i and not canceled:
            cl_ord_id, order_qty = _replace(data, story, cl_ord_id, order_qty, lot, plan)
        if cancel_at == i and not canceled:
            cancel = CancelRequest(**story.base(), cl_ord_id=story.cl_ord_id())
            if cancel_acked and cum < order_qty:
                answer: Input = CancelAck(
                    **story.base(),
                    exec_id=story.exec_id(),
                    cl_ord_id=cancel.cl_ord_id,
                    orig_cl_ord_id=cl_ord_id,
                    venue_order_id=VENUE_ORDER_ID,
                )
                canceled = True
            else:
                answer = CancelReject(
                    **story.base(),
                    cl_ord_id=cancel.cl_ord_id,
                    orig_cl_ord_id=cl_ord_id,
                    reason_code="TOO_LATE_TO_CANCEL",
                )
            story.requests.append((cancel, answer))
            story.venue.append(answer)
            if canceled:
                break
        if i == len(plan):
            break
        last_qty = plan[i] * lot
        fill = Fill(
            **story.base(),
            exec_id=story.exec_id(),
            cl_ord_id=cl_ord_id,
            venue_order_id=VENUE_ORDER_ID,
            last_qty=last_qty,
            last_px=data.draw(prices, label="fill px"),
            cum_qty=cum + last_qty,
            leaves_qty=max(order_qty - cum - last_qty, ZERO),
        )
        active[fill.exec_id] = last_qty
        story.venue.append(fill)
        if amend_of == i:
            amendment = _amendment(data, story, fill, lot)
            if isinstance(amendment, TradeCorrection):
                active[fill.exec_id] = amendment.last_qty
            else:
                del active[fill.exec_id]
            if amend_at_end:
                pending_amendment = amendment
            else:
                story.venue.append(amendment)

    cum = sum(active.values(), ZERO)
    if not canceled and one_in(data, 8, "the venue overfills"):
        over = Fill(
            **story.base(),
            exec_id=story.exec_id(),
            cl_ord_id=cl_ord_id,
            venue_order_id=VENUE_ORDER_ID,
            last_qty=max(order_qty - cum, ZERO) + lot,
            last_px=data.draw(prices, label="overfill px"),
            cum_qty=max(order_qty, cum) + lot,
            leaves_qty=ZERO,
        )
        story.venue.append(over)
        cum = over.cum_qty
    if canceled:
        status = OrderStatus.CANCELED
    elif cum >= order_qty:
        status = OrderStatus.FILLED
    else:
        ending = data.draw(st.sampled_from(["working", "done for day", "expired"]), label="ending")
        if ending == "done for day":
            story.venue.append(VenueDoneForDay(**story.base(), exec_id=story.exec_id()))
            status = OrderStatus.DONE_FOR_DAY
        elif ending == "expired":
            story.venue.append(VenueExpired(**story.base(), exec_id=story.exec_id()))
            status = OrderStatus.EXPIRED
        else:
            status = OrderStatus.PARTIALLY_FILLED if cum > ZERO else OrderStatus.NEW
    if pending_amendment is not None:
        story.venue.append(pending_amendment)
    if data.draw(st.booleans(), label="closing status report"):
        story.venue.append(
            StatusReport(
                **story.base(),
                exec_id=story.exec_id(),
                cl_ord_id=cl_ord_id,
                ord_status=status,
                cum_qty=cum,
                leaves_qty=ZERO if status in CLOSED else max(order_qty - cum, ZERO),
            )
        )
    return story


def _replace(
    data: st.DataObject,
    story: Story,
    cl_ord_id: ClOrdId,
    order_qty: Decimal,
    lot: Decimal,
    plan: list[int],
) -> tuple[ClOrdId, Decimal]:
    """Add a replace request and the venue's answer; return the terms then in force."""
    planned = max(sum(plan), 1)
    new_units = data.draw(
        st.none() | st.integers(planned, int(order_qty / lot) + 2), label="replace lots"
    )
    request = ReplaceRequest(
        **story.base(),
        cl_ord_id=story.cl_ord_id(),
        qty=None if new_units is None else new_units * lot,
        limit_price=data.draw(st.none() | prices, label="replace px"),
    )
    if request.qty in (None, order_qty) and request.limit_price in (None, Decimal("10.00")):
        story.requests.append((request, None))  # changes nothing: refused, never sent
        return cl_ord_id, order_qty
    answer: Input
    if data.draw(st.booleans(), label="replace acked"):
        answer = ReplaceAck(
            **story.base(),
            exec_id=story.exec_id(),
            cl_ord_id=request.cl_ord_id,
            orig_cl_ord_id=cl_ord_id,
            venue_order_id=VENUE_ORDER_ID,
        )
        cl_ord_id, order_qty = request.cl_ord_id, request.qty or order_qty
    else:
        answer = ReplaceReject(
            **story.base(), cl_ord_id=request.cl_ord_id, orig_cl_ord_id=cl_ord_id
        )
    story.requests.append((request, answer))
    story.venue.append(answer)
    return cl_ord_id, order_qty


def _amendment(
    data: st.DataObject, story: Story, fill: Fill, lot: Decimal
) -> TradeCorrection | TradeBust:
    if data.draw(st.booleans(), label="bust"):
        return TradeBust(**story.base(), exec_id=story.exec_id(), ref_exec_id=fill.exec_id)
    lots = data.draw(st.integers(1, int(fill.last_qty / lot) + 1), label="corrected lots")
    return TradeCorrection(
        **story.base(),
        exec_id=story.exec_id(),
        ref_exec_id=fill.exec_id,
        last_qty=lots * lot,
        last_px=data.draw(prices, label="corrected px"),
    )


# --- delivery ----------------------------------------------------------------------------


def deliver(data: st.DataObject, story: Story) -> list[Input]:
    """Turn the story into what Keel receives: reordered, duplicated, lossy, interleaved."""
    venue = [m for m in story.venue if not one_in(data, 10, "lost")]
    if data.draw(st.booleans(), label="shuffle everything"):
        venue = list(data.draw(st.permutations(venue), label="delivery order"))
    elif len(venue) > 1:
        for _ in range(data.draw(st.integers(0, 3), label="adjacent swaps")):
            i = data.draw(st.integers(0, len(venue) - 2), label="swap at")
            venue[i], venue[i + 1] = venue[i + 1], venue[i]
    fills = [m for m in venue if isinstance(m, Fill)]
    if fills and one_in(data, 3, "a fill overtakes the ack"):
        early = data.draw(st.sampled_from(fills), label="early fill")
        venue.remove(early)
        venue.insert(0, early)
    if fills and one_in(data, 3, "a fill arrives after the close"):
        late = data.draw(st.sampled_from(fills), label="late fill")
        venue.remove(late)
        venue.append(late)

    stream: list[Input] = list(venue)
    for request, answer in story.requests:
        limit = stream.index(answer) if answer in stream else len(stream)
        stream.insert(data.draw(st.integers(0, limit), label="request at"), request)
    extra = Story(story.qty, _cl_seq=count(50))
    for _ in range(data.draw(st.integers(0, 2), label="extra client requests")):
        extra_request: Input
        if data.draw(st.booleans(), label="extra is a cancel"):
            extra_request = CancelRequest(**extra.base(), cl_ord_id=extra.cl_ord_id())
        else:
            extra_request = ReplaceRequest(
                **extra.base(),
                cl_ord_id=extra.cl_ord_id(),
                qty=data.draw(st.sampled_from([None, story.qty, story.qty * 2]), label="qty"),
                limit_price=data.draw(st.none() | prices, label="px"),
            )
        stream.insert(data.draw(st.integers(0, len(stream)), label="extra at"), extra_request)
    if one_in(data, 8, "a stray answer to a request Keel never sent"):
        stray_type = data.draw(st.sampled_from([CancelReject, ReplaceReject]), label="stray")
        stray = stray_type(**extra.base(), cl_ord_id=ClOrdId("CL-90"))
        stream.insert(data.draw(st.integers(0, len(stream)), label="stray at"), stray)
    cl_ord_ids = [FIRST_CL_ORD_ID, *(r.cl_ord_id for r, _ in story.requests), ClOrdId("CL-50")]
    for _ in range(data.draw(st.integers(0, 3), label="timers")):
        timer = TimerFired(
            **extra.base(),
            timer=data.draw(st.sampled_from(TimerKind), label="timer"),
            cl_ord_id=data.draw(st.sampled_from(cl_ord_ids), label="timer for"),
            attempt=data.draw(st.integers(1, 3), label="attempt"),
        )
        stream.insert(data.draw(st.integers(0, len(stream)), label="timer at"), timer)
    for _ in range(data.draw(st.integers(0, 4), label="duplicates")):
        if not stream:
            break
        i = data.draw(st.integers(0, len(stream) - 1), label="duplicate of")
        again = data.draw(st.integers(i + 1, len(stream)), label="duplicate at")
        stream.insert(again, stream[i])
    if not one_in(data, 6, "sent report lost"):
        sent = SentToVenue(**extra.base(), cl_ord_id=FIRST_CL_ORD_ID)
        at = 0 if not one_in(data, 4, "sent report late") else len(stream)
        stream.insert(data.draw(st.integers(0, at), label="sent at"), sent)
    new = NewOrderAccepted(
        order_id=ORDER_ID,
        ingest_time=T0,
        event_time=T0,
        spec=spec(story.qty, "10.00"),
        cl_ord_id=FIRST_CL_ORD_ID,
        actor="trader-1",
    )
    return [new, *stream]


# --- the invariants ----------------------------------------------------------------------


def describe(inp: Input) -> str:
    fields_ = [type(inp).__name__]
    for name in ("exec_id", "cl_ord_id", "ref_exec_id", "last_qty", "last_px", "cum_qty"):
        value = getattr(inp, name, None)
        if value is not None:
            fields_.append(f"{name}={value}")
    for name in ("qty", "limit_price", "timer", "attempt", "ord_status"):
        value = getattr(inp, name, None)
        if value is not None:
            fields_.append(f"{name}={value}")
    return " ".join(fields_)


def check_books(order: Order) -> None:
    """Invariants 1 and 2: leaves, cum, notional and average price agree with the fills."""
    if order.status in CLOSED:
        assert order.leaves_qty == ZERO, order
    else:
        assert order.leaves_qty == max(order.spec.qty - order.cum_qty, ZERO), order
    active = order.active_fills
    assert order.cum_qty == sum((f.qty for f in active), ZERO)
    assert order.cum_notional == sum((f.qty * f.price for f in active), ZERO)
    expected_avg = AVG.divide(order.cum_notional, order.cum_qty) if order.cum_qty else ZERO
    assert order.avg_px == expected_avg
    assert order.cum_qty <= sum((f.qty for f in order.fills), ZERO)
    exec_ids = [f.exec_id for f in order.fills]
    assert len(exec_ids) == len(set(exec_ids)), f"an ExecID booked twice: {exec_ids}"
    assert set(exec_ids) <= order.exec_ids


@dataclass
class Run:
    """The order and everything its inputs produced so far."""

    order: Order | None = None
    events: list[Event] = field(default_factory=list)
    changes: dict[int, int] = field(default_factory=dict)
    """id(input) -> how many deliveries of that input object changed the order."""
    transitions: list[Transition] = field(default_factory=list)
    policy: Policy = DEFAULT_POLICY


def step(run: Run, inp: Input, now: datetime) -> Transition:
    """Apply one input and check every invariant on what it did."""
    before = run.order
    tr = apply(before, inp, now, run.policy)
    note(f"{now.time()} {describe(inp)} -> {tr.outcome} {tr.order and tr.order.status} {tr.note}")
    order = tr.order
    assert order is not None

    # 3. terminal statuses absorb; and any move is along an edge the table declares
    if before is not None and before.status in CLOSED:
        assert order.status is before.status, f"{before.status} left for {order.status}"
    if before is not None and order.status is not before.status:
        edges = TABLE[before.status, inp.KIND].to
        assert order.status in edges, f"{before.status} + {inp.KIND} -> {order.status}: {edges}"

    # 7. versions continue one by one; cum falls only through a FillAmended
    version = before.version if before is not None else 0
    cum = before.cum_qty if before is not None else ZERO
    for emitted in tr.events:
        assert emitted.version == version + 1, (emitted, version)
        version = emitted.version
        if isinstance(emitted, FillBooked):
            assert emitted.cum_qty == cum + emitted.fill.qty, (emitted, cum)
            cum = emitted.cum_qty
        elif isinstance(emitted, FillAmended):
            cum = emitted.cum_qty
    assert order.version == version
    assert order.cum_qty == cum
    if before is not None and order.cum_qty < before.cum_qty:
        assert any(isinstance(e, FillAmended) for e in tr.events), tr.events

    # 8. a fill never raises leaves qty
    if before is not None and any(isinstance(e, FillBooked) for e in tr.events):
        assert order.leaves_qty <= before.leaves_qty, (before.leaves_qty, order.leaves_qty)

    # 1, 2 and 6 (an ExecID booked once)
    check_books(order)

    # 5. the events so far rebuild the order
    run.events.extend(tr.events)
    assert fold(run.events) == order

    # 6. the same input object changes the order at most once (timers are keyed by attempt,
    #    not identity, and a stale one is ignored: left out)
    if before is not None and order != before and not isinstance(inp, TimerFired):
        run.changes[id(inp)] = run.changes.get(id(inp), 0) + 1
        assert run.changes[id(inp)] == 1, f"{describe(inp)} changed the order again"

    # 4. the same input applied again at once changes nothing
    again = apply(order, inp, now + timedelta(microseconds=500), run.policy)
    assert again.order == order, f"re-applying {describe(inp)} changed the order"
    assert again.events == (), f"re-applying {describe(inp)} emitted {again.events}"
    assert again.exceptions == ()
    assert again.outcome in (Outcome.DUPLICATE, Outcome.IGNORED), again

    run.order = order
    run.transitions.append(tr)
    return tr


def play(stream: list[Input], policy: Policy = DEFAULT_POLICY) -> Run:
    run = Run(policy=policy)
    for i, inp in enumerate(stream):
        step(run, inp, T0 + timedelta(seconds=1, milliseconds=i))
    return run


# --- the properties ----------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_invariants_hold_after_every_step_of_a_disordered_venue_story(
    data: st.DataObject,
) -> None:
    story = draw_story(data)
    stream = deliver(data, story)
    policy = data.draw(st.sampled_from(POLICIES), label="policy")
    run = play(stream, policy)

    assert run.order is not None
    event(f"final {run.order.status}")
    for tr in run.transitions:
        for raised in tr.exceptions:
            event(f"raised {raised.kind}")
    delivered_fills = {m.exec_id: m for m in stream if isinstance(m, Fill)}
    booked = {f.exec_id for f in run.order.fills if f.corrects is None}
    assert booked == set(delivered_fills), "every delivered fill is booked, whatever the status"
    delivered_reports = {m.exec_id for m in stream if isinstance(m, VenueReport)}
    assert run.order.exec_ids <= delivered_reports


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_booked_cum_and_notional_do_not_depend_on_delivery_order(data: st.DataObject) -> None:
    qty = data.draw(st.sampled_from(sorted(LOT_OF_QTY)), label="order qty")
    lot = LOT_OF_QTY[qty]
    story = Story(qty)
    ack = VenueAck(
        **story.base(),
        exec_id=story.exec_id(),
        cl_ord_id=FIRST_CL_ORD_ID,
        venue_order_id=VENUE_ORDER_ID,
    )
    fills: list[Fill] = []
    cum = ZERO
    remaining = int(qty / lot)
    for _ in range(data.draw(st.integers(1, 6), label="fills")):
        if remaining == 0:
            break
        lots = data.draw(st.integers(1, remaining), label="fill lots")
        remaining -= lots
        last_qty = lots * lot
        cum += last_qty
        fills.append(
            Fill(
                **story.base(),
                exec_id=story.exec_id(),
                cl_ord_id=FIRST_CL_ORD_ID,
                venue_order_id=VENUE_ORDER_ID,
                last_qty=last_qty,
                last_px=data.draw(prices, label="px"),
                cum_qty=cum,
                leaves_qty=qty - cum,
            )
        )
    messages: list[Input] = list(data.draw(st.permutations([ack, *fills]), label="order"))
    for _ in range(data.draw(st.integers(0, 5), label="duplicates")):
        again = data.draw(st.sampled_from([ack, *fills]), label="duplicate of")
        messages.insert(data.draw(st.integers(0, len(messages)), label="at"), again)
    new = NewOrderAccepted(
        order_id=ORDER_ID,
        ingest_time=T0,
        event_time=T0,
        spec=spec(qty, "10.00"),
        cl_ord_id=FIRST_CL_ORD_ID,
    )
    sent = SentToVenue(order_id=ORDER_ID, ingest_time=T0, event_time=T0, cl_ord_id=FIRST_CL_ORD_ID)

    order = play([new, sent, *messages]).order

    assert order is not None
    true_qty = sum((f.last_qty for f in fills), ZERO)
    true_notional = sum((f.last_qty * f.last_px for f in fills), ZERO)
    assert order.cum_qty == true_qty
    assert order.cum_notional == true_notional
    assert order.avg_px == AVG.divide(true_notional, true_qty)
    assert order.leaves_qty == qty - true_qty
    assert len(order.fills) == len(fills)
    assert order.status is (OrderStatus.FILLED if true_qty == qty else OrderStatus.PARTIALLY_FILLED)
    open_kinds = {ref.kind for ref in order.open_exceptions}
    assert not open_kinds & {
        ExceptionKind.MISSING_EXECUTION,
        ExceptionKind.OVERFILL,
        ExceptionKind.LATE_FILL,
    }, order.open_exceptions


# --- redeliveries the properties led to -------------------------------------------------
# A venue report the state machine IGNORED leaves no event, so the order does not remember its
# ExecID; a redelivery much later is stopped by the sequencer's idempotency keys (venue +
# ExecID for every execution report), not here. A message without an ExecID (a 35=9) that
# raised an exception is recognised by the exception it raised.


def test_redelivered_cancel_reject_naming_the_pending_replace_is_a_duplicate() -> None:
    s = OrderScenario().working(spec(300))
    s.replace(qty=200)
    reject = CancelReject(
        order_id=s.order_id,
        ingest_time=s.clock,
        event_time=s.clock,
        cl_ord_id=s.pending_cl_ord_id(),  # the venue names the replace, not a cancel
    )
    s.feed(reject)  # LINEAGE_MISMATCH

    again = s.feed(reject)

    assert again.outcome is Outcome.DUPLICATE
    assert again.exceptions == ()
    assert again.order == s.transitions[-2].order
