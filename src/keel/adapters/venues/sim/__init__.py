"""The simulated venue: price-time matching, a synthetic market and a fault plan.

Pure and deterministic: no I/O, no asyncio, no FIX, no clock (time is an argument), no global
random (generators seeded from ``SimVenue(seed=...)``). The FIX acceptor wraps ``SimVenue``;
tests drive it directly.

- ``venue.SimVenue``: the façade (new order, cancel, replace, status, mass status, tick,
  due; its truth: the executions ledger, statement rows, order states and the drop copy's
  stream).
- ``reports``: what it says (``VenueReport``, ``MassStatusPart``, ``StatementRow``,
  ``VenueOrderState``, ``Trade``) and ``SimVenueError``.
- ``statement``: the broker statement, its CSV format and settlement dates
  (``write_statement`` is the one function here that writes a file).
- ``faults.FaultPlan`` and ``Trigger``: what goes wrong, on a seeded ratio or for one order.
- ``market``: listings, the random-walk reference price and the house market maker's rules.
- ``engine``, ``book``, ``orders``, ``checks``, ``wire``: the insides.

FIX lives beside it, not in it: ``fix_venue`` serves it (``run_sim_venue``), ``gateway``
answers sessions, ``fix_mapping`` writes reports, ``mass_status`` reads and answers the
OrderMassStatusRequest, ``drop_copy`` copies the reports.
"""

from keel.adapters.venues.sim.faults import FaultPlan, Trigger
from keel.adapters.venues.sim.market import DEFAULT_LISTINGS, Listing, QuotingRules, listing
from keel.adapters.venues.sim.reports import (
    FILL_KINDS,
    UNKNOWN_ORDER_ID,
    MassStatusPart,
    RejectCode,
    ReportKind,
    SimVenueError,
    StatementRow,
    Trade,
    VenueOrderState,
    VenueReport,
)
from keel.adapters.venues.sim.venue import SimVenue

__all__ = [
    "DEFAULT_LISTINGS",
    "FILL_KINDS",
    "UNKNOWN_ORDER_ID",
    "FaultPlan",
    "Listing",
    "MassStatusPart",
    "QuotingRules",
    "RejectCode",
    "ReportKind",
    "SimVenue",
    "SimVenueError",
    "StatementRow",
    "Trade",
    "Trigger",
    "VenueOrderState",
    "VenueReport",
    "listing",
]
