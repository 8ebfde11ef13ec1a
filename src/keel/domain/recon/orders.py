"""Order-level matching: Keel's orders against the venue's order status answers.

Every order Keel handed to a venue must have an execution, cancel or expiry path: either it
is terminal in Keel, or it is working in Keel and the venue lists it as open. So:

- an order working in Keel that the venue does not list is ``MISSING_AT_BROKER``: some
  execution, cancel or expiry never reached Keel (or the order never reached the venue);
- an order one side has working and the other has ended, or that both have ended
  differently, is ``STATUS_MISMATCH``;
- an order both sides know with a different filled quantity is ``QUANTITY_MISMATCH``;
- an order the venue reports that Keel does not know is ``UNKNOWN_ORDER``.

The venue's answers are one snapshot taken at ``as_of`` (a mass status answer, or status
answers after a reconnect); they must list every order open at the venue. An order Keel
changed after ``as_of`` is skipped, because the two sides cannot be compared at one moment;
the next run compares it. Orders still ``PENDING_NEW`` (never handed to the venue) and
``DONE_FOR_DAY`` (which a venue need not list as open) are only compared when the venue
reports them. When the venue reports an order twice, the later report counts.

Reports are joined to Keel's orders by (venue, venue order id), then by (venue, ClOrdID)
over each order's whole lineage.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from keel.domain.enums import OrderStatus
from keel.domain.ids import OrderId
from keel.domain.recon.breaks import (
    Break,
    BreakKind,
    BreakLevel,
    Evidence,
    EvidenceKind,
    Values,
    break_key,
    number,
    source_evidence,
)
from keel.domain.recon.values import KeelOrder, VenueOrder

_ORDER = BreakLevel.ORDER
_NEED_NOT_BE_LISTED = frozenset({OrderStatus.PENDING_NEW, OrderStatus.DONE_FOR_DAY})


class OrderPair(NamedTuple):
    keel: KeelOrder
    venue: VenueOrder


@dataclass(frozen=True, slots=True)
class OrderMatch:
    pairs: tuple[OrderPair, ...]
    breaks: tuple[Break, ...]
    """Sorted by key."""
    skipped: tuple[OrderId, ...]
    """Orders Keel changed after the venue's snapshot, left for the next run."""


def match_orders(
    keel: Iterable[KeelOrder], venue: Iterable[VenueOrder], as_of: datetime
) -> OrderMatch:
    """Compare Keel's orders with the venue's snapshot of its orders taken at ``as_of``."""
    orders = list(keel)
    by_venue_id: dict[tuple[str, str], KeelOrder] = {}
    by_cl_ord_id: dict[tuple[str, str], KeelOrder] = {}
    for order in orders:
        if order.venue_order_id:
            by_venue_id[(order.venue, order.venue_order_id)] = order
        for cl_ord_id in (order.cl_ord_id, *order.cl_ord_ids):
            by_cl_ord_id[(order.venue, cl_ord_id)] = order

    reported: dict[OrderId, VenueOrder] = {}
    unknown: dict[str, VenueOrder] = {}
    for report in venue:
        known: KeelOrder | None = None
        if report.venue_order_id:
            known = by_venue_id.get((report.venue, report.venue_order_id))
        if known is None and report.cl_ord_id:
            known = by_cl_ord_id.get((report.venue, report.cl_ord_id))
        if known is not None:
            reported[known.order_id] = report
        else:
            unknown[_venue_ref(report)] = report

    pairs: list[OrderPair] = []
    skipped: list[OrderId] = []
    found: list[Break] = []
    for order in orders:
        if order.updated_at > as_of:
            skipped.append(order.order_id)
            continue
        answer = reported.get(order.order_id)
        if answer is None:
            if not order.status.is_terminal and order.status not in _NEED_NOT_BE_LISTED:
                found.append(_not_listed(order))
            continue
        pairs.append(OrderPair(order, answer))
        found += _compare(order, answer)
    found += (_unknown(stray) for stray in unknown.values())
    return OrderMatch(tuple(pairs), tuple(sorted(found, key=lambda b: b.break_key)), tuple(skipped))


def _compare(order: KeelOrder, report: VenueOrder) -> list[Break]:
    found: list[Break] = []
    ours, theirs = order.status, report.status
    if ours.is_terminal != theirs.is_terminal or (ours.is_terminal and ours is not theirs):
        found.append(
            _break(
                BreakKind.STATUS_MISMATCH,
                order,
                report,
                f"Order {order.order_id} ({_terms(order)}): Keel has it {ours.value}, the "
                f"venue reports it {theirs.value}",
            )
        )
    if order.cum_qty != report.cum_qty:
        found.append(
            _break(
                BreakKind.QUANTITY_MISMATCH,
                order,
                report,
                f"Order {order.order_id} ({_terms(order)}): Keel has {number(order.cum_qty)} "
                f"filled, the venue reports {number(report.cum_qty)}",
            )
        )
    return found


def _not_listed(order: KeelOrder) -> Break:
    return _break(
        BreakKind.MISSING_AT_BROKER,
        order,
        None,
        f"Keel has order {order.order_id} ({_terms(order)}) {order.status.value} but the "
        f"venue does not list it as open: no execution, cancel or expiry of it reached Keel",
    )


def _unknown(report: VenueOrder) -> Break:
    terms = f"{report.side.value} {number(report.qty)} {report.symbol}"
    if report.account:
        terms += f" for {report.account}"
    kind = BreakKind.UNKNOWN_ORDER
    return Break(
        kind,
        _ORDER,
        break_key(_ORDER, kind, report.venue, _venue_ref(report)),
        f"The venue reports order {_venue_ref(report)} ({terms}, {report.status.value}, "
        f"{number(report.cum_qty)} filled) that Keel does not know",
        (),
        _venue_values(report),
        (source_evidence(report.source, report.ref),),
    )


def _break(kind: BreakKind, order: KeelOrder, report: VenueOrder | None, text: str) -> Break:
    evidence = [Evidence(EvidenceKind.KEEL_ORDER, order.order_id)]
    if report is not None:
        evidence.append(source_evidence(report.source, report.ref))
    return Break(
        kind,
        _ORDER,
        break_key(_ORDER, kind, order.order_id),
        text,
        _keel_values(order),
        _venue_values(report) if report is not None else (),
        tuple(evidence),
        order.order_id,
    )


def _venue_ref(report: VenueOrder) -> str:
    """The venue's id for an order: its order id, else the ClOrdID it quotes."""
    return report.venue_order_id or report.cl_ord_id or report.ref


def _terms(order: KeelOrder) -> str:
    return f"{order.side.value} {number(order.qty)} {order.symbol} for {order.account}"


def _keel_values(order: KeelOrder) -> Values:
    return (
        ("order", order.order_id), ("ClOrdID", order.cl_ord_id),
        ("venue order", order.venue_order_id or ""), ("account", order.account),
        ("symbol", order.symbol), ("side", order.side.value), ("qty", number(order.qty)),
        ("filled", number(order.cum_qty)), ("status", order.status.value),
        ("updated", order.updated_at.isoformat()),
    )  # fmt: skip


def _venue_values(report: VenueOrder) -> Values:
    return (
        ("source", report.source.value), ("ref", report.ref),
        ("venue order", report.venue_order_id or ""), ("ClOrdID", report.cl_ord_id or ""),
        ("account", report.account or ""), ("symbol", report.symbol),
        ("side", report.side.value), ("qty", number(report.qty)),
        ("filled", number(report.cum_qty)), ("status", report.status.value),
    )  # fmt: skip
