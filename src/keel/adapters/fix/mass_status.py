"""The venue's answer to an OrderMassStatusRequest, against Keel's working orders.

After each logon a venue gateway whose mapping says so asks the venue for every order it
holds open (35=AF, MassStatusReqType 7). Each answer is an ExecutionReport (ExecType I)
carrying MassStatusReqID(584), TotNumReports(911) and, on the last, LastRptRequested(912)=Y;
an empty answer is one report with TotNumReports 0. Every report of an order goes to the
state machine as a status report, like the answer to a single OrderStatusRequest (a close
Keel missed is adopted and flagged; an order Keel never had opens a case). What only the
whole answer shows is handled here: an order Keel has working at this venue that the venue
does not list is raised on that order as ``MISSING_AT_BROKER``, with the request as
evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from keel.adapters.fix import tags as t
from keel.adapters.fix.message import FixMessage
from keel.domain.enums import ExceptionKind, OrderStatus
from keel.domain.inputs import BreakFound
from keel.domain.order import Order

MUST_BE_LISTED = frozenset({
    OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL,
    OrderStatus.PENDING_REPLACE,
})  # fmt: skip
"""Keel statuses of an order the venue must hold open (unacknowledged ones are asked about
one by one; done-for-day ones a venue need not list)."""


@dataclass
class MassStatusAnswer:
    """One mass status request in flight, and what its answer has listed so far."""

    venue: str
    req_id: str
    asked_at: datetime
    listed: set[str] = field(default_factory=set)
    """The ClOrdIDs and venue order ids the answer has named."""

    def is_answer(self, message: FixMessage) -> bool:
        return message.get_str(t.MASS_STATUS_REQ_ID) == self.req_id

    @staticmethod
    def is_empty(message: FixMessage) -> bool:
        """Whether the report says the venue holds no open order (TotNumReports 0)."""
        return message.get_int(t.TOT_NUM_REPORTS) == 0

    @staticmethod
    def is_last(message: FixMessage) -> bool:
        return message.get_str(t.LAST_RPT_REQUESTED) == "Y" or MassStatusAnswer.is_empty(message)

    def note(self, message: FixMessage) -> None:
        """Remember the order one report of the answer names."""
        for tag in (t.CL_ORD_ID, t.ORIG_CL_ORD_ID, t.ORDER_ID):
            value = message.get_str(tag)
            if value:
                self.listed.add(value)

    def unlisted(self, orders: Iterable[Order], now: datetime) -> list[BreakFound]:
        """The breaks for the orders Keel has working at the venue that the answer left
        out (orders created after the request are not expected in it)."""
        found = []
        for order in orders:
            if order.spec.venue != self.venue or order.status not in MUST_BE_LISTED:
                continue
            if order.created_at > self.asked_at:
                continue
            ids: set[str] = {*order.cl_ord_ids_seen, order.cl_ord_id}
            if order.venue_order_id:
                ids.add(order.venue_order_id)
            if ids & self.listed:
                continue
            found.append(self._missing(order, now))
        return found

    def _missing(self, order: Order, now: datetime) -> BreakFound:
        spec = order.spec
        terms = f"{spec.side} {spec.qty} {spec.instrument} for {spec.account}"
        return BreakFound(
            order_id=order.order_id, ingest_time=now, event_time=now,
            kind=ExceptionKind.MISSING_AT_BROKER,
            break_key=f"ORDER/MISSING_AT_BROKER/{order.order_id}",
            summary=(
                f"Keel has order {order.order_id} ({terms}) {order.status} but {self.venue} "
                f"does not list it as open in its mass status answer {self.req_id}"
            ),
            evidence=(
                ("keel status", str(order.status)), ("keel filled", str(order.cum_qty)),
                ("keel ClOrdID", str(order.cl_ord_id)),
                ("venue order id", str(order.venue_order_id or "")),
                ("mass status request", self.req_id),
                ("asked at", self.asked_at.isoformat()),
                ("orders the venue listed", str(len(self.listed))),
            ),
            run_id=f"mass status {self.req_id}",
        )  # fmt: skip
