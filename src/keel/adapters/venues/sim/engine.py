"""The matching engine: orders, books, ids, and the reports that say what really happened.

Each call takes the time as an argument and leaves the reports it produced in an outbox that
the venue takes afterwards: the venue's truth, before the wire does anything to it. House
orders (the synthetic market maker's) trade like any other but report to nobody; the house
is also the counterparty of a late fill. Faults inside the venue (reject, split prints, late
fill after cancel) are decided here; faults on the wire are the wire's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from keel.adapters.venues.sim.book import OrderBook
from keel.adapters.venues.sim.checks import (
    Problem,
    check_new_order,
    check_replace,
    check_request,
)
from keel.adapters.venues.sim.faults import FaultDice, FaultPlan
from keel.adapters.venues.sim.orders import SimOrder
from keel.adapters.venues.sim.reports import (
    RejectCode,
    ReportKind,
    SimVenueError,
    StatementRow,
    Trade,
    VenueReport,
    unknown_order_answer,
)
from keel.domain.amounts import ZERO
from keel.domain.enums import OrderStatus, OrdType, RequestKind, Side, TimeInForce
from keel.domain.ids import AccountId, ClOrdId, ExecId, VenueOrderId
from keel.domain.instruments import Instrument

HOUSE_ACCOUNT = AccountId("SIM-HOUSE")
HOUSE_LATE_FILL_ID = VenueOrderId("SIM-HOUSE")
"""The house's side of a late fill on the tape: it answers no order of its own."""
LATE_FILL_LEAD = timedelta(milliseconds=1)
"""How long before the cancel a late fill is stamped as having executed."""


class MatchingEngine:
    """Price-time priority matching over one book per instrument, with the venue's ids."""

    def __init__(
        self, instruments: Iterable[Instrument], plan: FaultPlan, dice: FaultDice, run: str = ""
    ) -> None:
        self._run = run
        """Put in every id this engine gives, so a restarted venue never repeats an ExecID."""
        self._instruments: dict[str, Instrument] = {}
        for instrument in instruments:
            if instrument.symbol in self._instruments:
                raise SimVenueError(f"{instrument.symbol} is listed twice")
            self._instruments[instrument.symbol] = instrument
        self._books = {symbol: OrderBook(symbol) for symbol in self._instruments}
        self._plan = plan
        self._dice = dice
        self._by_cl_ord_id: dict[ClOrdId, SimOrder] = {}
        """Every ClOrdID that ever named a client order, old versions included."""
        self._used_cl_ord_ids: set[ClOrdId] = set()
        self._working: dict[VenueOrderId, SimOrder] = {}
        """Client orders that may still trade, in the order they were accepted."""
        self._outbox: list[VenueReport] = []
        self.tape: list[Trade] = []
        self.executions: list[StatementRow] = []
        """Every client execution, in the order it happened: the statement's rows."""
        self._house_bought = dict.fromkeys(self._instruments, ZERO)
        self._house_sold = dict.fromkeys(self._instruments, ZERO)
        self._order_seq = 0
        self._house_seq = 0
        self._exec_seq = 0
        self._trade_seq = 0
        self._now: datetime | None = None

    def set_plan(self, plan: FaultPlan) -> None:
        """Apply ``plan``'s venue faults from now on."""
        self._plan = plan

    # -- client requests -----------------------------------------------------------------
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
        """Accept or reject a new order; an accepted one trades at once where it crosses."""
        self._now = now
        if cl_ord_id in self._used_cl_ord_ids:
            text = f"ClOrdID {cl_ord_id} was already used"
            self._outbox.append(
                unknown_order_answer(
                    ReportKind.REJECTED,
                    cl_ord_id,
                    None,
                    self.next_exec_id(),
                    now,
                    RejectCode.DUPLICATE_CL_ORD_ID,
                    text,
                    account=account,
                    side=side,
                    symbol=symbol,
                    order_qty=qty,
                    price=price,
                )
            )
            return
        self._used_cl_ord_ids.add(cl_ord_id)
        self._order_seq += 1
        order_id = VenueOrderId(f"SIM-{self._run}O{self._order_seq:09d}")
        order = SimOrder(
            order_id, cl_ord_id, account, symbol, side, ord_type, tif, qty, price, now,
            session=session, account_given=account_given,
        )  # fmt: skip
        self._by_cl_ord_id[cl_ord_id] = order
        problem = check_new_order(self._instruments.get(symbol), order, now)
        if problem is None and self._rejected_by_fault(order):
            problem = RejectCode.FAULT_INJECTED, self._plan.reject_text
        if problem is not None:
            order.close(OrderStatus.REJECTED)
            self._emit(order, ReportKind.REJECTED, code=problem[0], text=problem[1])
            return
        self._working[order_id] = order
        self._emit(order, ReportKind.NEW)
        self._work(order)

    def cancel(self, cl_ord_id: ClOrdId, orig_cl_ord_id: ClOrdId, now: datetime) -> None:
        """Cancel a working order, or answer why not (unknown, already closed, reused id)."""
        self._now = now
        order = self._by_cl_ord_id.get(orig_cl_ord_id)
        problem = check_request(order, cl_ord_id in self._used_cl_ord_ids)
        self._used_cl_ord_ids.add(cl_ord_id)
        if problem is not None or order is None:
            self._cancel_reject(cl_ord_id, orig_cl_ord_id, order, RequestKind.CANCEL, problem)
            return
        late_qty = self._late_fill_qty(order)
        self._books[order.symbol].remove(order)
        self._rename(order, cl_ord_id)
        self._close(order, OrderStatus.CANCELED)
        self._emit(order, ReportKind.CANCELED, orig=orig_cl_ord_id, text="canceled on request")
        if late_qty:
            self._late_fill(order, late_qty, now)

    def replace(
        self,
        cl_ord_id: ClOrdId,
        orig_cl_ord_id: ClOrdId,
        qty: Decimal,
        price: Decimal | None,
        now: datetime,
    ) -> None:
        """Change a working order's total quantity and/or price (``None``: keep the price).

        Quantity down at the same price keeps the order's place in the queue; a new price or
        more quantity sends it to the back, and a new price may make it trade at once.
        """
        self._now = now
        order = self._by_cl_ord_id.get(orig_cl_ord_id)
        problem = check_request(order, cl_ord_id in self._used_cl_ord_ids)
        self._used_cl_ord_ids.add(cl_ord_id)
        new_price = price
        if problem is None and order is not None:
            new_price = order.price if price is None else price
            assert new_price is not None  # only limit orders stay working
            instrument = self._instruments[order.symbol]
            problem = check_replace(instrument, order, qty, new_price)
        if problem is not None or order is None or new_price is None:
            self._cancel_reject(cl_ord_id, orig_cl_ord_id, order, RequestKind.REPLACE, problem)
            return
        book = self._books[order.symbol]
        leaves_qty = qty - order.cum_qty
        keeps_priority = new_price == order.price and qty <= order.order_qty
        if keeps_priority:
            book.resize(order, leaves_qty)
        else:
            book.remove(order)
            order.price = new_price
            order.leaves_qty = leaves_qty
        order.order_qty = qty
        self._rename(order, cl_ord_id)
        self._emit(order, ReportKind.REPLACED, orig=orig_cl_ord_id)
        if not keeps_priority:
            self._work(order)

    def status(self, cl_ord_id: ClOrdId, now: datetime) -> None:
        """Report the order's current state, or that the venue does not know it."""
        self._now = now
        order = self._by_cl_ord_id.get(cl_ord_id)
        if order is not None:
            self._emit(order, ReportKind.STATUS)
            return
        exec_id, text = self.next_exec_id(), f"unknown order {cl_ord_id}"
        self._outbox.append(
            unknown_order_answer(
                ReportKind.STATUS, cl_ord_id, None, exec_id, now, RejectCode.UNKNOWN_ORDER, text
            )
        )

    def expire_day_orders(self, now: datetime) -> None:
        """Expire every working DAY order, in the order they were accepted (end of day)."""
        self._now = now
        for order in [o for o in self._working.values() if o.tif is TimeInForce.DAY]:
            self._books[order.symbol].remove(order)
            self._close(order, OrderStatus.EXPIRED)
            self._emit(order, ReportKind.EXPIRED, text="DAY order expired at end of day")

    # -- the house (synthetic market maker) ----------------------------------------------
    def place_house(
        self, symbol: str, side: Side, qty: Decimal, price: Decimal, now: datetime
    ) -> SimOrder:
        """Place a GTC limit order for the house; it trades where it crosses, then rests."""
        self._now = now
        self._house_seq += 1
        house_id = f"SIM-{self._run}H{self._house_seq:09d}"
        order = SimOrder(
            VenueOrderId(house_id),
            ClOrdId(house_id),
            HOUSE_ACCOUNT,
            symbol,
            side,
            OrdType.LIMIT,
            TimeInForce.GTC,
            qty,
            price,
            now,
            is_house=True,
        )
        self._work(order)
        return order

    def cancel_house(self, order: SimOrder) -> None:
        """Pull a house order from the book if it still rests."""
        if order.status.is_working:
            self._books[order.symbol].remove(order)
            order.close(OrderStatus.CANCELED)

    # -- what the venue reads --------------------------------------------------------------
    def take_reports(self) -> list[VenueReport]:
        """Return the reports produced since the last call, in the order they happened."""
        out, self._outbox = self._outbox, []
        return out

    @property
    def symbols(self) -> list[str]:
        """Return the listed symbols in listing order."""
        return list(self._instruments)

    def instrument(self, symbol: str) -> Instrument:
        """Return the listed instrument; an unlisted symbol is a programming error here."""
        try:
            return self._instruments[symbol]
        except KeyError:
            raise SimVenueError(f"{symbol} is not listed") from None

    def book(self, symbol: str) -> OrderBook:
        """Return the instrument's order book, for views."""
        self.instrument(symbol)
        return self._books[symbol]

    def house_traded(self, symbol: str) -> tuple[Decimal, Decimal]:
        """Return how much the house has bought and sold of ``symbol``."""
        self.instrument(symbol)
        return self._house_bought[symbol], self._house_sold[symbol]

    def client_orders(self) -> list[SimOrder]:
        """Return every client order the venue has taken, rejected ones too, in arrival order."""
        return list(dict.fromkeys(self._by_cl_ord_id.values()))  # identity: one per order

    def state_of(self, cl_ord_id: ClOrdId, now: datetime) -> VenueReport | None:
        """Return the order's state as a STATUS report that is not sent and has no ExecID."""
        order = self._by_cl_ord_id.get(cl_ord_id)
        return None if order is None else order.report(ReportKind.STATUS, None, now)

    # -- trading -------------------------------------------------------------------------
    def _work(self, order: SimOrder) -> None:
        """Trade the order where it crosses, then rest or cancel what is left, as its TIF says."""
        book = self._books[order.symbol]
        if order.tif is TimeInForce.FOK and not book.can_fill(order):
            self._cancel_rest(order, "FOK: not enough liquidity to fill the whole order")
            return
        book.match(order, self._on_trade)
        if not order.leaves_qty:
            return
        if order.ord_type is OrdType.MARKET:
            self._cancel_rest(order, "market order: no more liquidity, remainder canceled")
        elif order.tif is TimeInForce.IOC:
            self._cancel_rest(order, "IOC: remainder canceled")
        else:
            book.add(order)

    def _cancel_rest(self, order: SimOrder, text: str) -> None:
        self._close(order, OrderStatus.CANCELED)
        self._emit(order, ReportKind.CANCELED, text=text)

    def _on_trade(self, taker: SimOrder, maker: SimOrder, qty: Decimal, price: Decimal) -> None:
        for print_qty in self._prints(taker, maker, qty):
            buyer, seller = (taker, maker) if taker.is_buy else (maker, taker)
            self._print(
                taker.symbol,
                print_qty,
                price,
                buyer.venue_order_id,
                seller.venue_order_id,
                taker.side,
                self._time(),
            )
            self._fill(taker, print_qty, price)
            self._fill(maker, print_qty, price)

    def _rejected_by_fault(self, order: SimOrder) -> bool:
        plan = self._plan
        if order.symbol in plan.reject_symbols:
            return True
        return plan.reject_new.armed and self._dice.fires(
            "reject", plan.reject_new, order.cl_ord_id
        )

    def _prints(self, taker: SimOrder, maker: SimOrder, qty: Decimal) -> list[Decimal]:
        """Return the quantities one match is reported as: one print, or several (fault)."""
        trigger = self._plan.split_fill
        if not trigger.armed:
            return [qty]
        hits = [
            self._dice.fires("split", trigger, order.cl_ord_id)
            for order in (taker, maker)
            if not order.is_house
        ]
        if not any(hits):
            return [qty]
        lot = self._instruments[taker.symbol].lot_size
        lots = int(qty / lot)
        prints = max(1, min(self._plan.split_prints, lots))
        base, extra = divmod(lots, prints)
        return [(base + (1 if i < extra else 0)) * lot for i in range(prints)]

    def _print(
        self,
        symbol: str,
        qty: Decimal,
        price: Decimal,
        buy_order_id: VenueOrderId,
        sell_order_id: VenueOrderId,
        aggressor: Side,
        at: datetime,
    ) -> None:
        self._trade_seq += 1
        trade_id = f"SIM-{self._run}T{self._trade_seq:09d}"
        self.tape.append(
            Trade(trade_id, symbol, qty, price, buy_order_id, sell_order_id, aggressor, at)
        )

    def _fill(self, order: SimOrder, qty: Decimal, price: Decimal) -> None:
        order.fill(qty, price)
        if order.is_house:
            self._book_house(order.symbol, order.is_buy, qty)
        elif order.leaves_qty:
            self._emit(order, ReportKind.PARTIAL_FILL, last_qty=qty, last_px=price)
        else:
            del self._working[order.venue_order_id]
            self._emit(order, ReportKind.FILL, last_qty=qty, last_px=price)

    def _book_house(self, symbol: str, is_buy: bool, qty: Decimal) -> None:
        if is_buy:
            self._house_bought[symbol] += qty
        else:
            self._house_sold[symbol] += qty

    def _late_fill_qty(self, order: SimOrder) -> Decimal:
        """Return the quantity of the late fill the fault plan injects on this cancel, or 0."""
        plan = self._plan
        trigger = plan.late_fill_after_cancel
        if not trigger.armed or not self._dice.fires("late_fill", trigger, order.cl_ord_id):
            return ZERO
        if plan.late_fill_qty is not None:
            return min(plan.late_fill_qty, order.leaves_qty)
        lot = self._instruments[order.symbol].lot_size
        return min(order.leaves_qty, max(lot, order.leaves_qty / 2 // lot * lot))

    def _late_fill(self, order: SimOrder, qty: Decimal, now: datetime) -> None:
        """Book and report a fill that executed just before the cancel that was acked first.

        The CANCELED report already went out with the cum qty the cancel handler saw, so
        this fill arrives after it: what an OMS must book and flag as a late fill.
        """
        price = order.price
        assert price is not None  # only limit orders rest, and only resting orders cancel
        at = max(order.accepted_at, now - LATE_FILL_LEAD)
        house_side = Side.SELL if order.is_buy else Side.BUY
        buyer, seller = order.venue_order_id, HOUSE_LATE_FILL_ID
        if not order.is_buy:
            buyer, seller = seller, buyer
        self._print(order.symbol, qty, price, buyer, seller, house_side, at)
        self._book_house(order.symbol, not order.is_buy, qty)
        order.book_late_fill(qty, price)
        kind = ReportKind.FILL if order.cum_qty == order.order_qty else ReportKind.PARTIAL_FILL
        text = "late fill: executed before the cancel"
        self._emit(order, kind, last_qty=qty, last_px=price, text=text, at=at)

    # -- bookkeeping and reports ---------------------------------------------------------
    def _close(self, order: SimOrder, status: OrderStatus) -> None:
        order.close(status)
        if not order.is_house:
            self._working.pop(order.venue_order_id, None)

    def _rename(self, order: SimOrder, cl_ord_id: ClOrdId) -> None:
        order.cl_ord_id = cl_ord_id
        self._by_cl_ord_id[cl_ord_id] = order

    def _time(self) -> datetime:
        if self._now is None:
            raise SimVenueError("the engine was asked to trade before it was given a time")
        return self._now

    def next_exec_id(self) -> ExecId:
        """Return the next ExecID: every report the venue sends has its own."""
        self._exec_seq += 1
        return ExecId(f"SIM-{self._run}E{self._exec_seq:09d}")

    def _emit(
        self,
        order: SimOrder,
        kind: ReportKind,
        *,
        last_qty: Decimal = ZERO,
        last_px: Decimal = ZERO,
        orig: ClOrdId | None = None,
        code: str | None = None,
        text: str = "",
        at: datetime | None = None,
    ) -> None:
        if order.is_house:
            return
        exec_id = self.next_exec_id()
        at = at or self._time()
        self._outbox.append(
            order.report(
                kind,
                exec_id,
                at,
                last_qty=last_qty,
                last_px=last_px,
                orig=orig,
                code=code,
                text=text,
            )
        )
        if kind.is_fill:
            currency = self._instruments[order.symbol].currency
            self.executions.append(order.execution(exec_id, last_qty, last_px, currency, at))

    def _cancel_reject(
        self,
        cl_ord_id: ClOrdId,
        orig_cl_ord_id: ClOrdId,
        order: SimOrder | None,
        response_to: RequestKind,
        problem: Problem | None,
    ) -> None:
        code, text = problem or (RejectCode.UNKNOWN_ORDER, "unknown order")
        now = self._time()
        if order is None:
            report = unknown_order_answer(
                ReportKind.CANCEL_REJECTED,
                cl_ord_id,
                orig_cl_ord_id,
                None,
                now,
                code,
                text,
                response_to,
            )
        else:
            report = order.report(
                ReportKind.CANCEL_REJECTED,
                None,
                now,
                orig=orig_cl_ord_id,
                code=code,
                text=text,
                response_to=response_to,
                cl_ord_id=cl_ord_id,
            )
        self._outbox.append(report)
