"""One reconciliation: fills, positions and (when the venue's snapshot is given) orders."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from keel.domain.recon.breaks import Break, BreakKind, merge_breaks
from keel.domain.recon.fills import FillMatch, match_fills
from keel.domain.recon.orders import OrderMatch, match_orders
from keel.domain.recon.positions import PositionMatch, match_positions
from keel.domain.recon.values import (
    DEFAULT_TOLERANCES,
    BrokerFill,
    KeelFill,
    KeelOrder,
    Tolerances,
    VenueOrder,
)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Every level's result, and all their breaks in one tuple sorted by key."""

    fills: FillMatch
    positions: PositionMatch
    orders: OrderMatch | None
    breaks: tuple[Break, ...]

    def counts(self) -> dict[BreakKind, int]:
        """Return the number of breaks of each kind found (kinds with none left out)."""
        return dict(Counter(found.kind for found in self.breaks))


def reconcile(
    keel_fills: Collection[KeelFill],
    broker_fills: Collection[BrokerFill],
    tolerances: Tolerances = DEFAULT_TOLERANCES,
    *,
    keel_orders: Iterable[KeelOrder] = (),
    venue_orders: Iterable[VenueOrder] = (),
    as_of: datetime | None = None,
) -> Reconciliation:
    """Reconcile Keel's fills with the broker's at fill and position level, and Keel's
    orders with the venue's snapshot taken at ``as_of`` when one is given."""
    fills = match_fills(keel_fills, broker_fills, tolerances)
    positions = match_positions(keel_fills, broker_fills, tolerances)
    orders = match_orders(keel_orders, venue_orders, as_of) if as_of is not None else None
    every = fills.breaks + positions.breaks + (orders.breaks if orders is not None else ())
    return Reconciliation(fills, positions, orders, merge_breaks(every))
