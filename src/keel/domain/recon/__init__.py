"""Reconciliation: what Keel believes against what brokers and venues say, as pure functions.

Three levels, each a function of frozen values, with tolerances and times as arguments:

- ``match_fills``: each broker execution against Keel's fill, by (venue, ExecID), then by
  broker order id, quantity, price and time as a fallback reported as such;
- ``match_orders``: Keel's orders against the venue's open orders and status answers;
- ``match_positions``: bought and sold quantity and notional per account, trade date and
  symbol.

Each difference is a ``Break``: a kind, both sides' values, a one-line explanation, the
evidence, and a ``break_key`` that stays the same from run to run. ``reconcile`` runs the
levels together. ``bench/recon.py`` measures a million statement rows against a million
fills.
"""

from keel.domain.recon.breaks import (
    Break,
    BreakKind,
    BreakLevel,
    Evidence,
    EvidenceKind,
    Values,
    break_key,
    merge_breaks,
)
from keel.domain.recon.fills import FillMatch, FillPair, compare_pair, match_fills
from keel.domain.recon.orders import OrderMatch, OrderPair, match_orders
from keel.domain.recon.positions import (
    PositionLine,
    PositionMatch,
    PositionTotals,
    match_positions,
)
from keel.domain.recon.run import Reconciliation, reconcile
from keel.domain.recon.values import (
    DEFAULT_TOLERANCES,
    BrokerFill,
    BrokerSource,
    KeelFill,
    KeelOrder,
    MatchMethod,
    Tolerances,
    VenueOrder,
    same_direction,
)

__all__ = [
    "DEFAULT_TOLERANCES",
    "Break",
    "BreakKind",
    "BreakLevel",
    "BrokerFill",
    "BrokerSource",
    "Evidence",
    "EvidenceKind",
    "FillMatch",
    "FillPair",
    "KeelFill",
    "KeelOrder",
    "MatchMethod",
    "OrderMatch",
    "OrderPair",
    "PositionLine",
    "PositionMatch",
    "PositionTotals",
    "Reconciliation",
    "Tolerances",
    "Values",
    "VenueOrder",
    "break_key",
    "compare_pair",
    "match_fills",
    "match_orders",
    "match_positions",
    "merge_breaks",
    "reconcile",
    "same_direction",
]
