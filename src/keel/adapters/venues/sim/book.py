"""One instrument's order book: price levels in price-time priority, and matching.

Each side keeps a dict of price levels and a sorted list of their keys, so the best level is
always the last key: bids are keyed by price, asks by minus the price. A level is a FIFO
queue (``deque``) of resting orders plus their total leaves quantity, which makes the FOK
check a walk over levels rather than over orders.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable
from decimal import Decimal

from keel.adapters.venues.sim.orders import SimOrder
from keel.adapters.venues.sim.reports import SimVenueError
from keel.domain.amounts import ZERO

TradeHandler = Callable[[SimOrder, SimOrder, Decimal, Decimal], None]
"""Called as ``(taker, maker, qty, price)`` for each match; it must fill both by ``qty``."""


class PriceLevel:
    """The orders resting at one price, earliest first, and their total leaves quantity."""

    __slots__ = ("orders", "price", "qty")

    def __init__(self, price: Decimal) -> None:
        self.price = price
        self.orders: deque[SimOrder] = deque()
        self.qty = ZERO


class BookSide:
    """The bids or the asks of one book."""

    __slots__ = ("keys", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        """+1 for bids, -1 for asks: ``key = sign * price`` makes the best key the largest."""
        self.keys: list[Decimal] = []
        self.levels: dict[Decimal, PriceLevel] = {}

    def best(self) -> PriceLevel | None:
        """Return the best level (highest bid, lowest ask), or None when the side is empty."""
        return self.levels[self.keys[-1]] if self.keys else None

    def add(self, order: SimOrder, price: Decimal) -> None:
        """Queue ``order`` last at ``price``, opening the level if needed."""
        key = price * self.sign
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = PriceLevel(price)
            insort(self.keys, key)
        level.orders.append(order)
        level.qty += order.leaves_qty

    def level_of(self, order: SimOrder) -> tuple[Decimal, PriceLevel]:
        """Return the key and level where ``order`` rests."""
        assert order.price is not None
        key = order.price * self.sign
        level = self.levels.get(key)
        if level is None:
            raise SimVenueError(f"{order.venue_order_id} is not resting in the book")
        return key, level

    def drop_level(self, key: Decimal) -> None:
        """Forget an empty level."""
        del self.levels[key]
        del self.keys[bisect_left(self.keys, key)]

    def crossing(self, limit: Decimal | None) -> list[PriceLevel]:
        """Return the levels an order limited at ``limit`` (None: any price) may trade with."""
        found: list[PriceLevel] = []
        limit_key = None if limit is None else limit * self.sign
        for key in reversed(self.keys):
            if limit_key is not None and key < limit_key:
                break
            found.append(self.levels[key])
        return found


class OrderBook:
    """Bids and asks of one instrument, matched by price then arrival."""

    __slots__ = ("asks", "bids", "symbol")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = BookSide(+1)
        self.asks = BookSide(-1)

    def _own(self, order: SimOrder) -> BookSide:
        return self.bids if order.is_buy else self.asks

    def _opposite(self, order: SimOrder) -> BookSide:
        return self.asks if order.is_buy else self.bids

    def add(self, order: SimOrder) -> None:
        """Rest ``order`` at the back of its price level: it joins the queue last."""
        if order.price is None or not order.leaves_qty:
            raise SimVenueError(f"{order.venue_order_id}: only a priced order with leaves rests")
        self._own(order).add(order, order.price)

    def remove(self, order: SimOrder) -> None:
        """Take ``order`` out of the book (cancel, or before it moves and loses its place)."""
        side = self._own(order)
        key, level = side.level_of(order)
        try:
            level.orders.remove(order)
        except ValueError:
            raise SimVenueError(f"{order.venue_order_id} is not resting in the book") from None
        level.qty -= order.leaves_qty
        if not level.orders:
            side.drop_level(key)

    def resize(self, order: SimOrder, leaves_qty: Decimal) -> None:
        """Change a resting order's leaves quantity in place, keeping its place in the queue."""
        if not ZERO < leaves_qty <= order.leaves_qty:
            raise SimVenueError("resize only shrinks a resting order and leaves it something")
        _, level = self._own(order).level_of(order)
        level.qty -= order.leaves_qty - leaves_qty
        order.leaves_qty = leaves_qty

    def can_fill(self, order: SimOrder) -> bool:
        """Return whether the opposite side holds enough crossing quantity to fill ``order``."""
        available = ZERO
        for level in self._opposite(order).crossing(order.price):
            available += level.qty
            if available >= order.leaves_qty:
                return True
        return False

    def match(self, taker: SimOrder, on_trade: TradeHandler) -> None:
        """Trade ``taker`` while it crosses: best price first, then earliest arrival.

        Every match is at the resting order's price; ``on_trade`` fills both orders.
        """
        opposite = self._opposite(taker)
        keys = opposite.keys
        levels = opposite.levels
        limit_key = None if taker.price is None else taker.price * opposite.sign
        while taker.leaves_qty and keys:
            key = keys[-1]
            if limit_key is not None and key < limit_key:
                return
            level = levels[key]
            queue = level.orders
            while taker.leaves_qty and queue:
                maker = queue[0]
                qty = min(taker.leaves_qty, maker.leaves_qty)
                on_trade(taker, maker, qty, level.price)
                level.qty -= qty
                if not maker.leaves_qty:
                    queue.popleft()
            if not queue:
                del levels[key]
                keys.pop()

    # -- views ---------------------------------------------------------------------------
    def best_bid(self) -> Decimal | None:
        """Return the highest bid price, or None."""
        level = self.bids.best()
        return None if level is None else level.price

    def best_ask(self) -> Decimal | None:
        """Return the lowest ask price, or None."""
        level = self.asks.best()
        return None if level is None else level.price

    def depth(
        self, levels: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """Return up to ``levels`` (price, qty) pairs per side, best first: (bids, asks)."""
        return (
            [(lv.price, lv.qty) for lv in self.bids.crossing(None)[:levels]],
            [(lv.price, lv.qty) for lv in self.asks.crossing(None)[:levels]],
        )

    def queue_at(self, is_buy: bool, price: Decimal) -> list[SimOrder]:
        """Return the orders resting at ``price`` on one side, in priority order."""
        side = self.bids if is_buy else self.asks
        level = side.levels.get(price * side.sign)
        return [] if level is None else list(level.orders)
