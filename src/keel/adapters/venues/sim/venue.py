"""``SimVenue``: the simulated venue's face, the API the FIX acceptor will call.

Every call is pure computation with the time as an argument: no I/O, no clock, no global
random (two generators are seeded from ``seed``: one for the market, one for the faults, so
arming a fault does not change how prices walk). The same seed and the same calls give the
same reports. Requests answer through reports, which ``due`` hands out after the wire's
faults; ``drop_copy``, ``executions``, ``statement_rows`` and ``order_states`` tell the
venue's own truth, whatever the wire did. With the copy line open (``open_copy_line``),
``take_copies`` hands out what a broker's FIX drop copy shows.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from keel.adapters.venues.sim.engine import MatchingEngine
from keel.adapters.venues.sim.faults import FaultDice, FaultPlan
from keel.adapters.venues.sim.market import (
    DEFAULT_LISTINGS,
    Listing,
    QuotingRules,
    SyntheticMarket,
)
from keel.adapters.venues.sim.reports import (
    MassStatusPart,
    ReportKind,
    SimVenueError,
    StatementRow,
    Trade,
    VenueOrderState,
    VenueReport,
    unknown_order_answer,
)
from keel.adapters.venues.sim.wire import Wire
from keel.domain.enums import OrdType, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId
from keel.domain.instruments import Instrument

NO_OPEN_ORDERS = "no open orders"
"""The text of a mass status answer when the session has no order open."""

Depth = tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]
"""Book depth as ``(bids, asks)``, each a list of ``(price, qty)``, best first."""


class SimVenue:
    """A simulated venue: price-time matching, a synthetic market, and a fault plan."""

    def __init__(
        self,
        *,
        seed: int = 0,
        listings: Sequence[Listing] = DEFAULT_LISTINGS,
        quoting: QuotingRules | None = None,
        faults: FaultPlan | None = None,
        run: str = "",
    ) -> None:
        plan = faults or FaultPlan()
        dice = FaultDice(random.Random(f"keel-sim/{seed}/faults"))
        self._engine = MatchingEngine([lst.instrument for lst in listings], plan, dice, run)
        self._market = SyntheticMarket(
            self._engine,
            listings,
            quoting or QuotingRules(),
            random.Random(f"keel-sim/{seed}/market"),
        )
        self._wire = Wire(plan, dice)
        self._truth: list[VenueReport] = []
        self._last_now: datetime | None = None

    def set_faults(self, plan: FaultPlan) -> None:
        """Change the fault plan from now on (a test scripts one fault on one order)."""
        self._engine.set_plan(plan)
        self._wire.set_plan(plan)

    # -- requests (each answers through reports) -------------------------------------------
    def new_order(
        self,
        cl_ord_id: ClOrdId,
        account: AccountId,
        symbol: str,
        side: Side,
        qty: Decimal,
        ord_type: OrdType,
        price: Decimal | None,
        tif: TimeInForce,
        now: datetime,
        *,
        session: str = "",
        account_given: bool = True,
    ) -> None:
        """Take a new order: NEW then fills as it trades, or REJECTED with the reason.

        ``session`` names where the order came from, for the ledger; ``account_given``
        False says the client named no account and ``account`` is the session's default
        (the reports show it, the statement does not).
        """
        self._begin(now)
        _require_decimal(qty, "qty")
        _require_decimal(price, "price", optional=True)
        self._engine.new_order(
            cl_ord_id, account, symbol, side, qty, ord_type, price, tif, now,
            session=session, account_given=account_given,
        )  # fmt: skip
        self._flush(now)

    def cancel(self, cl_ord_id: ClOrdId, orig_cl_ord_id: ClOrdId, now: datetime) -> None:
        """Take a cancel request: CANCELED, or CANCEL_REJECTED with the reason."""
        self._begin(now)
        self._engine.cancel(cl_ord_id, orig_cl_ord_id, now)
        self._flush(now)

    def replace(
        self,
        cl_ord_id: ClOrdId,
        orig_cl_ord_id: ClOrdId,
        qty: Decimal,
        price: Decimal | None,
        now: datetime,
    ) -> None:
        """Take a cancel/replace: ``qty`` is the new total quantity, executed part included
        (FIX OrderQty); ``price`` None keeps the price. Answers REPLACED or CANCEL_REJECTED."""
        self._begin(now)
        _require_decimal(qty, "qty")
        _require_decimal(price, "price", optional=True)
        self._engine.replace(cl_ord_id, orig_cl_ord_id, qty, price, now)
        self._flush(now)

    def status(self, cl_ord_id: ClOrdId, now: datetime) -> None:
        """Take a status request: a STATUS report, REJECTED/UNKNOWN_ORDER if not known."""
        self._begin(now)
        self._engine.status(cl_ord_id, now)
        self._flush(now)

    def mass_status(self, request_id: str, now: datetime, *, session: str = "") -> None:
        """Take an order mass status request from ``session``: a STATUS report for each of
        its orders the venue holds open, by venue order id, each carrying its place in the
        answer (``VenueReport.mass_status``); when none is open, one STATUS report of no
        order (OrderID NONE, REJECTED, total 0) says so. Another session's orders and
        closed orders are not listed."""
        self._begin(now)
        engine = self._engine
        orders = [o for o in engine.client_orders() if o.session == session and o.status.is_working]
        orders.sort(key=lambda order: order.venue_order_id)
        total = len(orders)
        batch = [
            order.report(
                ReportKind.STATUS, engine.next_exec_id(), now,
                mass_status=MassStatusPart(request_id, session, total, last=n == total),
            )
            for n, order in enumerate(orders, start=1)
        ]  # fmt: skip
        if not batch:
            nothing = MassStatusPart(request_id, session, 0, last=True)
            batch = [
                unknown_order_answer(
                    ReportKind.STATUS, ClOrdId("NONE"), None, engine.next_exec_id(), now,
                    None, NO_OPEN_ORDERS, mass_status=nothing,
                )
            ]  # fmt: skip
        self._send(batch, now)

    def tick(self, now: datetime) -> None:
        """Move the market one step; resting orders the price walks through get filled."""
        self._begin(now)
        self._market.tick(now)
        self._flush(now)

    def end_of_day(self, now: datetime) -> None:
        """Expire every working DAY order (GTC orders stay)."""
        self._begin(now)
        self._engine.expire_day_orders(now)
        self._flush(now)

    # -- the wire ----------------------------------------------------------------------------
    def due(self, now: datetime) -> list[VenueReport]:
        """Return the reports to send at ``now``, in send order, after the wire's faults.

        Each report is handed out once (a duplicate fault hands out a second copy).
        """
        self._begin(now)
        return self._wire.due(now)

    def disconnect_due(self, now: datetime) -> bool:
        """Return whether the venue drops the session now; each armed disconnect says so once."""
        self._begin(now)
        return self._wire.disconnect_due(now)

    def open_copy_line(self) -> None:
        """Start keeping, for ``take_copies``, every report as the broker's drop copy shows
        it; until then nothing is kept, so a venue without a drop copy pays nothing."""
        if self._wire.copies is None:
            self._wire.copies = []

    def take_copies(self) -> list[VenueReport]:
        """Return the drop copy's reports since the last call, in the order the venue made
        them: after the duplicate fault (a duplicated report comes twice, same ExecID) and
        before the wire's drops, delays and swaps (a dropped report is here too)."""
        copies = self._wire.copies
        if not copies:
            return []
        self._wire.copies = []
        return copies

    @property
    def pending_reports(self) -> int:
        """How many reports wait on the wire for their release time."""
        return self._wire.pending

    # -- the venue's own truth ---------------------------------------------------------------
    def drop_copy(self) -> list[VenueReport]:
        """Return every report the venue produced, once each, in the order it produced them,
        including the ones the wire dropped, delayed or has not released yet."""
        return list(self._truth)

    def dropped(self) -> list[VenueReport]:
        """Return the reports the wire dropped and will never send."""
        return list(self._wire.dropped)

    def statement(self, trade_date: date) -> list[StatementRow]:
        """Return every client execution of ``trade_date`` (UTC) in execution order."""
        return [row for row in self._engine.executions if row.trade_date == trade_date]

    def executions(self, trade_date: date | None = None) -> list[StatementRow]:
        """Return the executions ledger: every client execution the venue made (split prints
        and late fills included, each once, dropped or not on the wire), in the order it
        made them; only ``trade_date``'s when given."""
        if trade_date is None:
            return list(self._engine.executions)
        return self.statement(trade_date)

    def statement_rows(self, trade_date: date | None = None) -> list[StatementRow]:
        """Return the broker statement's rows: the ledger of ``trade_date`` (None: all of
        it), sorted by transact time, then ExecID."""
        rows = self.executions(trade_date)
        rows.sort(key=lambda row: (row.transact_time, row.exec_id))
        return rows

    def trade_dates(self) -> list[date]:
        """Return the trade dates that have executions, in order."""
        return sorted({row.trade_date for row in self._engine.executions})

    def order_states(self) -> list[VenueOrderState]:
        """Return the venue's view of every client order it took (rejected ones included),
        in the order they arrived."""
        return [order.state() for order in self._engine.client_orders()]

    def open_orders(self) -> list[VenueOrderState]:
        """Return the venue's view of the client orders that may still trade."""
        return [order.state() for order in self._engine.client_orders() if order.status.is_working]

    def tape(self) -> list[Trade]:
        """Return every trade, house ones included, in the order they happened."""
        return list(self._engine.tape)

    # -- looking at the market (for tests and the demo; nothing is sent) -----------------
    def instruments(self) -> list[Instrument]:
        """Return the listed instruments in listing order."""
        return [self._engine.instrument(symbol) for symbol in self.symbols()]

    def symbols(self) -> list[str]:
        """Return the listed symbols in listing order."""
        return list(self._engine.symbols)

    def reference_price(self, symbol: str) -> Decimal:
        """Return the price the synthetic market quotes around now."""
        return self._market.reference_price(symbol)

    def best_bid(self, symbol: str) -> Decimal | None:
        """Return the highest bid resting in the book, or None."""
        return self._engine.book(symbol).best_bid()

    def best_ask(self, symbol: str) -> Decimal | None:
        """Return the lowest ask resting in the book, or None."""
        return self._engine.book(symbol).best_ask()

    def depth(self, symbol: str, levels: int = 5) -> Depth:
        """Return up to ``levels`` (price, qty) pairs per side, best first."""
        return self._engine.book(symbol).depth(levels)

    def queue(self, symbol: str, side: Side, price: Decimal) -> list[ClOrdId]:
        """Return the ClOrdIDs resting at ``price`` on ``side``, first in line first."""
        book = self._engine.book(symbol)
        return [order.cl_ord_id for order in book.queue_at(side is Side.BUY, price)]

    def order_state(self, cl_ord_id: ClOrdId) -> VenueReport | None:
        """Return the venue's view of an order as an unsent STATUS report (no ExecID)."""
        if self._last_now is None:
            return None
        return self._engine.state_of(cl_ord_id, self._last_now)

    def house_traded(self, symbol: str) -> tuple[Decimal, Decimal]:
        """Return how much the house (market maker and late-fill counterparty) bought and sold."""
        return self._engine.house_traded(symbol)

    # -- plumbing ----------------------------------------------------------------------------
    def _begin(self, now: datetime) -> None:
        """Check the time and open the market at the first call."""
        if not isinstance(now, datetime) or now.utcoffset() is None:
            raise SimVenueError(f"now must be an aware UTC datetime, not {now!r}")
        if self._last_now is not None and now < self._last_now:
            raise SimVenueError(f"time went backwards: {now} is before {self._last_now}")
        self._last_now = now
        self._market.open(now)

    def _flush(self, now: datetime) -> None:
        self._send(self._engine.take_reports(), now)

    def _send(self, batch: list[VenueReport], now: datetime) -> None:
        self._truth.extend(batch)
        self._wire.send(batch, now)


def _require_decimal(value: object, field: str, *, optional: bool = False) -> None:
    """Refuse floats and other non-Decimals: a programming error, not a venue reject."""
    if value is None and optional:
        return
    if not isinstance(value, Decimal):
        raise SimVenueError(f"{field} must be a Decimal, not {type(value).__name__}")
