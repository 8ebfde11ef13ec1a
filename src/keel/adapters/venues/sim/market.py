"""The synthetic market: listed instruments, a random-walk reference price, and a market maker.

On every ``tick`` each instrument's reference price moves a seeded random number of ticks,
and the house market maker pulls its quotes and quotes again around the new price: several
levels on each side, so what clients took is replenished at the next tick and the quotes
re-centre as the price moves. A new house quote that crosses a client's resting order trades
with it at the client's price: that is how passive orders fill when the price walks through.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from keel.adapters.venues.sim.engine import MatchingEngine
from keel.adapters.venues.sim.orders import SimOrder
from keel.adapters.venues.sim.reports import SimVenueError
from keel.domain.amounts import is_multiple
from keel.domain.enums import Side
from keel.domain.ids import InstrumentId
from keel.domain.instruments import Instrument


@dataclass(frozen=True, slots=True)
class Listing:
    """An instrument the venue lists, and the reference price its market opens at."""

    instrument: Instrument
    reference_price: Decimal

    def __post_init__(self) -> None:
        if not is_multiple(self.reference_price, self.instrument.tick_size):
            raise SimVenueError(
                f"{self.instrument.symbol}: reference price {self.reference_price} is not on "
                f"the tick size {self.instrument.tick_size}"
            )


@dataclass(frozen=True, slots=True)
class QuotingRules:
    """How the house market maker quotes each instrument; ``levels=0`` means no market maker."""

    levels: int = 5
    """Price levels per side."""
    lots_per_level: int = 100
    """Quantity per level, in lots."""
    half_spread_ticks: int = 1
    """Distance in ticks from the reference price to the best bid and to the best ask."""
    max_step_ticks: int = 2
    """The reference price moves by a whole number of ticks in [-max, +max] per tick."""

    def __post_init__(self) -> None:
        if self.levels < 0 or self.lots_per_level < 1 or self.max_step_ticks < 0:
            raise SimVenueError("levels and max_step_ticks must be >= 0, lots_per_level >= 1")
        if self.half_spread_ticks < 1:
            raise SimVenueError("half_spread_ticks must be at least 1, or the house crosses")


def listing(symbol: str, reference_price: str, currency: str = "USD") -> Listing:
    """Return a listing of a cash equity with tick 0.01, lot 1 and minimum quantity 1."""
    instrument = Instrument(
        instrument_id=InstrumentId(symbol),
        symbol=symbol,
        tick_size=Decimal("0.01"),
        lot_size=Decimal(1),
        min_qty=Decimal(1),
        price_precision=2,
        currency=currency,
    )
    return Listing(instrument, Decimal(reference_price))


DEFAULT_LISTINGS = (
    listing("ACME", "100.00"),
    listing("BOLT", "25.00"),
    listing("CRNK", "8.50"),
)


class SyntheticMarket:
    """The reference prices and the house's quotes, moved only by ``open`` and ``tick``."""

    def __init__(
        self,
        engine: MatchingEngine,
        listings: Sequence[Listing],
        rules: QuotingRules,
        rng: random.Random,
    ) -> None:
        self._engine = engine
        self._listings = tuple(listings)
        self._rules = rules
        self._rng = rng
        self._reference = {lst.instrument.symbol: lst.reference_price for lst in listings}
        self._quotes: dict[str, list[SimOrder]] = {symbol: [] for symbol in self._reference}
        self._open = False

    def open(self, now: datetime) -> None:
        """Put up the house's first quotes, once; later calls do nothing."""
        if self._open:
            return
        self._open = True
        for lst in self._listings:
            self._quote(lst.instrument, now)

    def tick(self, now: datetime) -> None:
        """Move every reference price one random step, then quote again around it."""
        self.open(now)
        for lst in self._listings:
            self._walk(lst.instrument)
            self._quote(lst.instrument, now)

    def reference_price(self, symbol: str) -> Decimal:
        """Return the price the house quotes around now."""
        try:
            return self._reference[symbol]
        except KeyError:
            raise SimVenueError(f"{symbol} is not listed") from None

    def _walk(self, instrument: Instrument) -> None:
        rules = self._rules
        step = self._rng.randint(-rules.max_step_ticks, rules.max_step_ticks)
        tick = instrument.tick_size
        floor = tick * (rules.levels + rules.half_spread_ticks + 1)
        symbol = instrument.symbol
        self._reference[symbol] = max(floor, self._reference[symbol] + step * tick)

    def _quote(self, instrument: Instrument, now: datetime) -> None:
        """Pull the house's quotes on ``instrument`` and quote every level again.

        Asks go first, then bids, each from the inside out; the house never crosses itself
        because its bids are below the reference price and its asks above.
        """
        symbol = instrument.symbol
        for order in self._quotes[symbol]:
            self._engine.cancel_house(order)
        rules = self._rules
        reference = self._reference[symbol]
        tick = instrument.tick_size
        qty = instrument.lot_size * rules.lots_per_level
        quotes: list[SimOrder] = []
        for side, sign in ((Side.SELL, 1), (Side.BUY, -1)):
            for level in range(rules.levels):
                price = reference + sign * tick * (rules.half_spread_ticks + level)
                order = self._engine.place_house(symbol, side, qty, price, now)
                if order.status.is_working:
                    quotes.append(order)
        self._quotes[symbol] = quotes
