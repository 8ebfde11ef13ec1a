"""Builders for orders and venue messages, so tests read like the desk's scenarios.

``OrderScenario`` drives one order through ``apply`` and keeps every transition, so a test
can say ``s.ack(); s.fill(100, "10.00")`` and then look at ``s.order`` and ``s.last``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

from keel.domain.enums import (
    ExceptionKind,
    OrderStatus,
    OrdType,
    RejectSource,
    ResolutionKind,
    Side,
    TimeInForce,
    TimerKind,
    WorkflowAction,
)
from keel.domain.events import Event
from keel.domain.fold import fold
from keel.domain.ids import (
    AccountId,
    ClOrdId,
    ExceptionId,
    ExecId,
    InstrumentId,
    OrderId,
    VenueId,
    VenueOrderId,
)
from keel.domain.inputs import (
    BreakFound,
    CancelAck,
    CancelReject,
    CancelRequest,
    DropCopyReport,
    ExceptionWork,
    Fill,
    Input,
    NewOrderAccepted,
    NewOrderDenied,
    ReplaceAck,
    ReplaceReject,
    ReplaceRequest,
    SentToVenue,
    StatementReceived,
    StatusReport,
    TimerFired,
    TradeBust,
    TradeCorrection,
    VenueAck,
    VenueDoneForDay,
    VenueExpired,
    VenueReject,
)
from keel.domain.order import Order, OrderSpec
from keel.domain.state_machine import DEFAULT_POLICY, Policy, Transition, apply

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def spec(
    qty: str | int = 300,
    limit: str | None = "10.00",
    *,
    side: Side = Side.BUY,
    ord_type: OrdType | None = None,
    tif: TimeInForce = TimeInForce.DAY,
    expire_time: datetime | None = None,
) -> OrderSpec:
    return OrderSpec(
        account=AccountId("FUND-A"),
        instrument=InstrumentId("ACME"),
        side=side,
        ord_type=ord_type or (OrdType.LIMIT if limit is not None else OrdType.MARKET),
        qty=Decimal(qty),
        limit_price=Decimal(limit) if limit is not None else None,
        tif=tif,
        expire_time=expire_time,
        venue=VenueId("SIM"),
    )


@dataclass
class OrderScenario:
    """One order's story, told input by input through the real state machine."""

    order_id: OrderId = field(default=OrderId("ORD-1"))
    policy: Policy = DEFAULT_POLICY
    order: Order | None = None
    transitions: list[Transition] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    clock: datetime = T0
    _exec_seq: count[int] = field(default_factory=lambda: count(1))
    _cl_seq: count[int] = field(default_factory=lambda: count(2))

    # -- plumbing ---------------------------------------------------------------------
    def tick(self) -> datetime:
        self.clock += timedelta(milliseconds=1)
        return self.clock

    def feed(self, inp: Input) -> Transition:
        tr = apply(self.order, inp, self.tick(), self.policy)
        self.transitions.append(tr)
        self.events.extend(tr.events)
        self.order = tr.order
        return tr

    @property
    def last(self) -> Transition:
        return self.transitions[-1]

    @property
    def now(self) -> Order:
        assert self.order is not None
        return self.order

    @property
    def status(self) -> OrderStatus:
        return self.now.status

    def rebuilt(self) -> Order | None:
        return fold(self.events)

    def next_exec_id(self) -> ExecId:
        return ExecId(f"EX-{next(self._exec_seq)}")

    def next_cl_ord_id(self) -> ClOrdId:
        return ClOrdId(f"CL-{next(self._cl_seq)}")

    def _base(self) -> dict[str, object]:
        return {"order_id": self.order_id, "ingest_time": self.clock, "event_time": self.clock}

    # -- client and gateway -----------------------------------------------------------
    def new(self, order_spec: OrderSpec | None = None, cl_ord_id: str = "CL-1") -> Transition:
        return self.feed(
            NewOrderAccepted(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                spec=order_spec or spec(),
                cl_ord_id=ClOrdId(cl_ord_id),
                actor="trader-1",
            )
        )

    def deny(self, code: str = "MAX_QTY", source: RejectSource = RejectSource.RISK) -> Transition:
        return self.feed(
            NewOrderDenied(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                spec=spec(),
                cl_ord_id=ClOrdId("CL-1"),
                source=source,
                reason_code=code,
                text="over the limit",
            )
        )

    def sent(self) -> Transition:
        return self.feed(
            SentToVenue(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                cl_ord_id=self.now.cl_ord_id,
            )
        )

    def working(self, order_spec: OrderSpec | None = None) -> OrderScenario:
        """New, sent and acknowledged."""
        self.new(order_spec)
        self.sent()
        self.ack()
        return self

    def reach(self, status: OrderStatus) -> OrderScenario:
        """Drive a fresh scenario's order (300 @ 10.00) into ``status`` the usual way.

        PARTIALLY_FILLED has 100 filled, FILLED all 300; the others have no fills. A pending
        replace asks for 200.
        """
        if status is OrderStatus.REJECTED:
            self.new()
            self.sent()
            self.venue_reject()
            return self
        self.new()
        if status is OrderStatus.PENDING_NEW:
            return self
        self.sent()
        if status is OrderStatus.SENT:
            return self
        self.ack()
        if status is OrderStatus.PARTIALLY_FILLED:
            self.fill(100)
        elif status is OrderStatus.FILLED:
            self.fill(300)
        elif status is OrderStatus.DONE_FOR_DAY:
            self.done_for_day()
        elif status is OrderStatus.PENDING_CANCEL:
            self.cancel()
        elif status is OrderStatus.CANCELED:
            self.cancel()
            self.cancel_ack()
        elif status is OrderStatus.PENDING_REPLACE:
            self.replace(qty=200)
        elif status is OrderStatus.EXPIRED:
            self.expired()
        assert self.status is status, f"reached {self.status}, wanted {status}"
        return self

    def cancel(self, cl_ord_id: str | None = None) -> Transition:
        return self.feed(
            CancelRequest(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                cl_ord_id=ClOrdId(cl_ord_id) if cl_ord_id else self.next_cl_ord_id(),
                actor="trader-1",
            )
        )

    def replace(
        self,
        qty: str | int | None = None,
        limit: str | None = None,
        cl_ord_id: str | None = None,
    ) -> Transition:
        return self.feed(
            ReplaceRequest(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                cl_ord_id=ClOrdId(cl_ord_id) if cl_ord_id else self.next_cl_ord_id(),
                qty=Decimal(qty) if qty is not None else None,
                limit_price=Decimal(limit) if limit is not None else None,
                actor="trader-1",
            )
        )

    def timer(self, kind: TimerKind, cl_ord_id: str | None = None, attempt: int = 1) -> Transition:
        return self.feed(
            TimerFired(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                timer=kind,
                cl_ord_id=ClOrdId(cl_ord_id) if cl_ord_id else self.now.cl_ord_id,
                attempt=attempt,
            )
        )

    # -- venue ------------------------------------------------------------------------
    def pending_cl_ord_id(self) -> ClOrdId:
        pending = self.now.pending
        assert pending is not None, "no request pending"
        return pending.cl_ord_id

    def ack(self, exec_id: str | None = None, venue_order_id: str = "V-1") -> Transition:
        return self.feed(
            VenueAck(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=ExecId(exec_id) if exec_id else self.next_exec_id(),
                cl_ord_id=self.now.lineage[0].cl_ord_id,
                venue_order_id=VenueOrderId(venue_order_id),
            )
        )

    def venue_reject(self, exec_id: str | None = None) -> Transition:
        return self.feed(
            VenueReject(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=ExecId(exec_id) if exec_id else self.next_exec_id(),
                reason_code="UNKNOWN_SYMBOL",
                text="symbol not traded",
            )
        )

    def work(
        self,
        exception_id: str,
        action: WorkflowAction,
        actor: str,
        *,
        resolution: ResolutionKind | None = None,
        comment: str = "",
        assignee: str | None = None,
        exec_id: str | None = None,
        qty: str | int | None = None,
        price: str | None = None,
    ) -> Transition:
        """An operator's step on one of the order's exceptions."""
        return self.feed(
            ExceptionWork(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exception_id=ExceptionId(exception_id),
                action=action,
                actor=actor,
                assignee=assignee,
                resolution=resolution,
                comment=comment,
                exec_id=ExecId(exec_id) if exec_id else None,
                qty=Decimal(qty) if qty is not None else None,
                price=Decimal(price) if price is not None else None,
            )
        )

    def break_found(
        self,
        kind: ExceptionKind = ExceptionKind.MISSING_INTERNALLY,
        key: str = "MISSING_INTERNALLY:SIM:EX-B",
        *,
        exec_id: str | None = "EX-B",
        run_id: str = "R1",
    ) -> Transition:
        """A reconciliation run found a difference involving this order."""
        return self.feed(
            BreakFound(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                kind=kind,
                break_key=key,
                summary=f"{kind} found by run {run_id}",
                evidence=(("broker qty", "100"), ("keel qty", "none")),
                run_id=run_id,
                exec_id=ExecId(exec_id) if exec_id else None,
            )
        )

    def drop_copy(self, exec_id: str = "EX-DC") -> Transition:
        """A drop-copy report for this order (evidence: never applied)."""
        return self.feed(
            DropCopyReport(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                broker="SIM",
                exec_id=ExecId(exec_id),
                exec_type="F",
            )
        )

    def statement(self) -> Transition:
        """A statement file (evidence: never applied to an order)."""
        return self.feed(
            StatementReceived(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                broker="SIM",
                file_name="sim-statement-20260302.csv",
                sha256="0" * 64,
                rows=3,
                mapping_version=1,
            )
        )

    def fill(
        self,
        qty: str | int,
        px: str = "10.00",
        *,
        exec_id: str | None = None,
        cum: str | int | None = None,
    ) -> Transition:
        """A fill of ``qty`` at ``px``; the venue's CumQty defaults to booked + qty."""
        last_qty = Decimal(qty)
        booked = self.order.cum_qty if self.order is not None else Decimal(0)
        cum_qty = Decimal(cum) if cum is not None else booked + last_qty
        order_qty = self.order.spec.qty if self.order is not None else cum_qty
        return self.feed(
            Fill(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=ExecId(exec_id) if exec_id else self.next_exec_id(),
                cl_ord_id=self.order.cl_ord_id if self.order is not None else None,
                venue_order_id=VenueOrderId("V-1"),
                last_qty=last_qty,
                last_px=Decimal(px),
                cum_qty=cum_qty,
                leaves_qty=max(order_qty - cum_qty, Decimal(0)),
            )
        )

    def cancel_ack(self, exec_id: str | None = None, cl_ord_id: str | None = None) -> Transition:
        pending = self.now.pending
        cl = ClOrdId(cl_ord_id) if cl_ord_id else (pending.cl_ord_id if pending else None)
        return self.feed(
            CancelAck(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=ExecId(exec_id) if exec_id else self.next_exec_id(),
                cl_ord_id=cl,
            )
        )

    def cancel_reject(self, cl_ord_id: str | None = None) -> Transition:
        return self.feed(
            CancelReject(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                cl_ord_id=ClOrdId(cl_ord_id) if cl_ord_id else self.pending_cl_ord_id(),
                reason_code="TOO_LATE_TO_CANCEL",
            )
        )

    def replace_ack(self, cl_ord_id: str | None = None, exec_id: str | None = None) -> Transition:
        return self.feed(
            ReplaceAck(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=ExecId(exec_id) if exec_id else self.next_exec_id(),
                cl_ord_id=ClOrdId(cl_ord_id) if cl_ord_id else self.pending_cl_ord_id(),
            )
        )

    def replace_reject(self, cl_ord_id: str | None = None) -> Transition:
        return self.feed(
            ReplaceReject(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                cl_ord_id=ClOrdId(cl_ord_id) if cl_ord_id else self.pending_cl_ord_id(),
            )
        )

    def expired(self) -> Transition:
        return self.feed(
            VenueExpired(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=self.next_exec_id(),
            )
        )

    def done_for_day(self) -> Transition:
        return self.feed(
            VenueDoneForDay(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=self.next_exec_id(),
            )
        )

    def correct(self, ref_exec_id: str, qty: str | int, px: str) -> Transition:
        return self.feed(
            TradeCorrection(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=self.next_exec_id(),
                ref_exec_id=ExecId(ref_exec_id),
                last_qty=Decimal(qty),
                last_px=Decimal(px),
            )
        )

    def bust(self, ref_exec_id: str) -> Transition:
        return self.feed(
            TradeBust(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=self.next_exec_id(),
                ref_exec_id=ExecId(ref_exec_id),
            )
        )

    def status_report(self, status: OrderStatus, cum: str | int, leaves: str | int) -> Transition:
        return self.feed(
            StatusReport(
                order_id=self.order_id,
                ingest_time=self.clock,
                event_time=self.clock,
                exec_id=self.next_exec_id(),
                ord_status=status,
                cum_qty=Decimal(cum),
                leaves_qty=Decimal(leaves),
            )
        )
