"""Typed identifiers.

Each id is a distinct ``NewType`` over ``str`` so that mypy refuses to pass a ClOrdID where a
venue order id is expected. Mappings between them are stored, never guessed.
"""

from __future__ import annotations

from typing import NewType

OrderId = NewType("OrderId", str)
"""Keel's canonical id for an order; survives every replace."""

ClOrdId = NewType("ClOrdId", str)
"""FIX ClOrdID (11): one per instruction version sent to a venue."""

ClientOrderId = NewType("ClientOrderId", str)
"""The client's own id for the order, unique per client session."""

VenueOrderId = NewType("VenueOrderId", str)
"""FIX OrderID (37) assigned by the venue."""

ExecId = NewType("ExecId", str)
"""FIX ExecID (17), unique per venue."""

FillId = NewType("FillId", str)
"""Keel's internal id of a booked fill."""

AccountId = NewType("AccountId", str)
InstrumentId = NewType("InstrumentId", str)
VenueId = NewType("VenueId", str)
ExceptionId = NewType("ExceptionId", str)


def venue_order_ref(venue: str | None, venue_order_id: str) -> str:
    """The key under which Keel finds an order by the id a venue gave it: ``VENUE:ID``.

    Venues number their orders independently, so the same id can come from two venues; the
    venue's name (which holds no ``:``) keeps them apart. An order without a venue keeps the
    bare id."""
    return f"{venue}:{venue_order_id}" if venue else venue_order_id


def fill_id_for(order_id: OrderId, ordinal: int) -> FillId:
    """Return the deterministic id of the order's ``ordinal``-th booked fill (1-based)."""
    return FillId(f"{order_id}-F{ordinal}")


def exception_id_for(order_id: OrderId, ordinal: int) -> ExceptionId:
    """Return the deterministic id of the order's ``ordinal``-th exception (1-based)."""
    return ExceptionId(f"{order_id}-X{ordinal}")
