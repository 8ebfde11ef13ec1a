"""Keel's side of a reconciliation: its fills and orders at one venue, read from the store
as far as the comparison needs them.

For a trade date, only that day's fills are read (through an index) with their orders; for
the order level, only the open orders and those the venue reports, with their lineage.
Without a trade date, every fill Keel holds at the venue is compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from typing import Any

from keel.app.ports import EventStore
from keel.app.records import FillRow
from keel.domain.enums import OrderStatus, Side
from keel.domain.ids import (
    AccountId,
    ClOrdId,
    ExecId,
    FillId,
    InstrumentId,
    OrderId,
    VenueId,
    VenueOrderId,
    venue_order_ref,
)
from keel.domain.order import FillState
from keel.domain.recon import KeelFill, KeelOrder, VenueOrder

ORDERS_PER_QUERY = 500
"""Order ids per ``select_rows`` query."""

_FILL_COLUMNS = tuple(f.name for f in fields(FillRow))


class KeelBooks:
    """Reads what Keel booked, in the shapes the recon domain compares."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def fills(self, venue: VenueId, trade_date: date | None) -> list[KeelFill]:
        """Keel's fills at ``venue``: of ``trade_date``, or every one when no date is given."""
        if trade_date is None:
            rows: list[dict[str, Any]] = list(self._store.read_table("fills"))
            orders = {
                row["order_id"]: row
                for row in self._store.read_table("orders")
                if row["venue"] == venue
            }
        else:
            rows = [_fields_of(fill) for fill in self._store.fills_traded_on(trade_date)]
            orders = self._orders_at(venue, sorted({row["order_id"] for row in rows}))
        found: list[KeelFill] = []
        for row in rows:
            order = orders.get(row["order_id"])
            if order is None:
                continue
            day = row["trade_date"] or row["event_time"].date()
            found.append(KeelFill(
                FillId(row["fill_id"]), OrderId(row["order_id"]), venue,
                ExecId(row["exec_id"]), _venue_order_id(order["venue_order_id"]),
                ClOrdId(row["cl_ord_id"]) if row["cl_ord_id"] else None,
                AccountId(row["account"]), InstrumentId(row["instrument"]), Side(row["side"]),
                row["qty"], row["price"], row["event_time"], day, FillState(row["state"]),
            ))  # fmt: skip
        return found

    def orders(self, venue: VenueId, reported: Sequence[VenueOrder]) -> list[KeelOrder]:
        """The Keel orders at ``venue`` that order-level matching needs: every open one (the
        venue must list it) and every one the venue reports, found by ClOrdID or venue
        order id. A closed order nobody reports has nothing to compare."""
        wanted = set(self._store.open_order_ids())
        for report in reported:
            scoped = (
                venue_order_ref(venue, report.venue_order_id) if report.venue_order_id else None
            )
            for ref in (report.cl_ord_id, scoped):
                found = self._store.resolve_order_ref(ref) if ref else None
                if found is not None:
                    wanted.add(found)
                    break
        rows = self._orders_at(venue, sorted(wanted))
        return [
            KeelOrder(
                OrderId(order_id), venue, ClOrdId(row["cl_ord_id"]),
                _venue_order_id(row["venue_order_id"]), AccountId(row["account"]),
                InstrumentId(row["instrument"]), Side(row["side"]), row["qty"], row["cum_qty"],
                OrderStatus(row["status"]), row["updated_at"],
                tuple(ClOrdId(link.ref) for link in self._store.links_for_order(order_id)
                      if link.kind == "CL_ORD_ID"),
            )
            for order_id, row in sorted(rows.items())
        ]  # fmt: skip

    def _orders_at(self, venue: str, order_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The rows of those of ``order_ids`` routed to ``venue``, asked for in chunks."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(order_ids), ORDERS_PER_QUERY):
            chunk = order_ids[start : start + ORDERS_PER_QUERY]
            for row in self._store.select_rows(
                "orders", {"order_id": chunk, "venue": venue}, limit=len(chunk)
            ):
                found[row["order_id"]] = row
        return found


def _venue_order_id(value: object) -> VenueOrderId | None:
    return VenueOrderId(str(value)) if value else None


def _fields_of(fill: FillRow) -> dict[str, Any]:
    """A fill as the column -> value mapping ``read_table`` gives."""
    return {name: getattr(fill, name) for name in _FILL_COLUMNS}
