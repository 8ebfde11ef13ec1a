"""The last traded price of each instrument, as Keel's own fills show it.

Pre-trade checks need a reference price (the price collar, a market order's notional).
``LastPrices`` subscribes to the sequencer and keeps the price of the last fill booked on
each instrument. It starts empty at each start: until the first fill of the day the collar
is not checked (and says so in ``keel.domain.risk``).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from keel.app.results import Committed
from keel.domain.events import FillBooked


class LastPrices:
    """Instrument -> the price of the last fill booked on it."""

    def __init__(self) -> None:
        self._prices: dict[str, Decimal] = {}

    def __call__(self, batch: Sequence[Committed]) -> None:
        for committed in batch:
            order = committed.result.order
            if order is None:
                continue
            for event in committed.result.events:
                if type(event) is FillBooked:
                    self._prices[order.spec.instrument] = event.fill.price

    def get(self, symbol: str) -> Decimal | None:
        return self._prices.get(symbol)
