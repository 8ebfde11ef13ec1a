"""Intake: a client's request becomes a canonical command, or a refusal saying why.

Every door (FIX client sessions now, REST later) hands intake the same ``OrderRequest``;
intake checks entitlement, the instrument and the order's terms, gives the order its ids,
and returns the input for the sequencer. A request that cannot be an order at all (an
unknown instrument, an account the user may not trade, terms off tick) is refused with
``Violation``s and creates nothing; downstream code never re-reads the client's fields.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from keel.domain.enums import OrdType, RejectSource, Side, TimeInForce
from keel.domain.ids import AccountId, ClientOrderId, ClOrdId, InstrumentId, OrderId, VenueId
from keel.domain.inputs import CancelRequest, NewOrderAccepted, NewOrderDenied, ReplaceRequest
from keel.domain.instruments import Instrument, Violation, check_order_terms
from keel.domain.order import Order, OrderSpec
from keel.domain.risk import Breach, Limits, check_limits, limits_for


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A client's new order, as read at the door (typed, not yet checked)."""

    account: str
    symbol: str
    side: Side
    qty: Decimal
    ord_type: OrdType
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    tif: TimeInForce = TimeInForce.DAY
    expire_time: datetime | None = None
    client_order_id: str | None = None
    venue: str | None = None
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Refused:
    """A request intake will not turn into an order; nothing was created."""

    violations: tuple[Violation, ...]

    @property
    def text(self) -> str:
        return "; ".join(f"{v.field}: {v.message}" for v in self.violations)

    @property
    def code(self) -> str:
        return self.violations[0].code if self.violations else "REFUSED"


class OrderIds:
    """Order ids that sort by time of creation and do not repeat across restarts: the
    creation time in milliseconds (hex) and a counter within the process."""

    def __init__(self, prefix: str = "K") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)
        self._last_ms = 0

    def next(self, now: datetime) -> OrderId:
        ms = max(int(now.timestamp() * 1000), self._last_ms)
        self._last_ms = ms
        return OrderId(f"{self._prefix}{ms:011x}{next(self._counter) % 0x10000:04x}")


def next_cl_ord_id(order: Order) -> ClOrdId:
    """The ClOrdID of the order's next instruction: ``{order_id}.{n}``."""
    return ClOrdId(f"{order.order_id}.{len(order.lineage) + 1}")


class Intake:
    """Checks requests against the instruments and the user's entitlements."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        *,
        default_venue: str | None = None,
        ids: OrderIds | None = None,
        limits: dict[tuple[str, str], Limits] | None = None,
        last_price: Callable[[str], Decimal | None] = lambda _symbol: None,
        halted: Callable[[str], str | None] = lambda _account: None,
    ) -> None:
        self._instruments = instruments
        self._default_venue = default_venue
        self._ids = ids or OrderIds()
        self._limits = limits or {}
        self._last_price = last_price
        self._halted = halted

    def new_order(
        self, request: OrderRequest, *, actor: str, accounts: frozenset[str], now: datetime
    ) -> NewOrderAccepted | NewOrderDenied | Refused:
        """Return the accepted new order; the order denied by a pre-trade limit (it is
        recorded, as REJECTED with the limit's code); or why it cannot be an order at all
        (nothing is recorded)."""
        problems: list[Violation] = []
        if request.account not in accounts:
            problems.append(
                Violation(
                    "account",
                    "ACCOUNT_NOT_ENTITLED",
                    f"{actor} may not trade account {request.account!r}",
                )
            )
        instrument = self._instruments.get(request.symbol)
        if instrument is None:
            problems.append(
                Violation("symbol", "UNKNOWN_INSTRUMENT", f"no instrument {request.symbol!r}")
            )
        else:
            problems += check_order_terms(
                instrument, ord_type=request.ord_type, qty=request.qty,
                limit_price=request.limit_price, stop_price=request.stop_price,
                tif=request.tif, expire_time=request.expire_time, now=now,
            )  # fmt: skip
        venue = request.venue or self._default_venue
        if venue is None:
            problems.append(Violation("venue", "NO_VENUE", "no venue given and none by default"))
        if problems:
            return Refused(tuple(problems))
        assert instrument is not None
        order_id = self._ids.next(now)
        spec = OrderSpec(
            AccountId(request.account), InstrumentId(instrument.instrument_id), request.side,
            request.ord_type, request.qty, request.limit_price, request.stop_price, request.tif,
            request.expire_time, VenueId(venue) if venue else None,
        )  # fmt: skip
        client_order_id = (
            ClientOrderId(request.client_order_id) if request.client_order_id else None
        )
        parent_id = OrderId(request.parent_id) if request.parent_id else None
        limits = limits_for(self._limits, request.account, request.symbol)
        breach = None
        halt = self._halted(request.account)
        if halt is not None:
            breach = Breach("HALTED", f"new orders are halted: {halt}")
        elif limits is not None:
            breach = check_limits(
                limits, ord_type=request.ord_type, qty=request.qty,
                limit_price=request.limit_price, last_price=self._last_price(request.symbol),
            )  # fmt: skip
        if breach is not None:
            return NewOrderDenied(
                order_id=order_id, ingest_time=now, event_time=now, spec=spec,
                cl_ord_id=ClOrdId(f"{order_id}.1"), source=RejectSource.RISK,
                reason_code=breach.code, text=breach.text, client_order_id=client_order_id,
                parent_id=parent_id, actor=actor,
            )  # fmt: skip
        return NewOrderAccepted(
            order_id=order_id, ingest_time=now, event_time=now, spec=spec,
            cl_ord_id=ClOrdId(f"{order_id}.1"), client_order_id=client_order_id,
            parent_id=parent_id, actor=actor,
        )  # fmt: skip

    def cancel(self, order: Order, *, actor: str, now: datetime) -> CancelRequest:
        return CancelRequest(
            order_id=order.order_id, ingest_time=now, event_time=now,
            cl_ord_id=next_cl_ord_id(order), actor=actor,
        )  # fmt: skip

    def replace(
        self,
        order: Order,
        *,
        actor: str,
        now: datetime,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
        tif: TimeInForce | None = None,
    ) -> ReplaceRequest | Refused:
        """Return the replace request, or why its new terms are refused."""
        instrument = self._instruments.get(order.spec.instrument)
        if instrument is not None:
            spec = order.spec
            problems = check_order_terms(
                instrument, ord_type=spec.ord_type, qty=qty if qty is not None else spec.qty,
                limit_price=limit_price if limit_price is not None else spec.limit_price,
                stop_price=stop_price if stop_price is not None else spec.stop_price,
                tif=tif or spec.tif, expire_time=spec.expire_time, now=now,
            )  # fmt: skip
            if problems:
                return Refused(tuple(problems))
        return ReplaceRequest(
            order_id=order.order_id, ingest_time=now, event_time=now,
            cl_ord_id=next_cl_ord_id(order), qty=qty, limit_price=limit_price,
            stop_price=stop_price, tif=tif, actor=actor,
        )  # fmt: skip
