"""Position-level matching: what each side bought and sold per account, trade date and symbol.

Fill-level matching says which execution differs; this level says whether the books add up,
which also catches a difference the fills hide (two offsetting errors in one day). Bought
and sold are compared separately, quantity exactly, notional within what the price
tolerance allows: ``qty x (price_tolerance + 10 ** -price_decimals)``, the most that fills
agreeing price by price can add up to.

Only ``ACTIVE`` Keel fills count. Each broker execution counts once: a duplicate report, or
the drop copy of a statement row, does not double the broker's side (the fill level reports
duplicates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from keel.domain.amounts import ZERO
from keel.domain.enums import Side
from keel.domain.ids import AccountId, InstrumentId
from keel.domain.order import FillState
from keel.domain.recon.breaks import Break, BreakKind, BreakLevel, Values, break_key, number
from keel.domain.recon.values import DEFAULT_TOLERANCES, BrokerFill, KeelFill, Tolerances

_ACTIVE = FillState.ACTIVE
_BUY = Side.BUY
_POSITION = BreakLevel.POSITION

PositionKey = tuple[AccountId, date, InstrumentId]


class PositionTotals(NamedTuple):
    """What one side bought and sold of a symbol for an account on a trade date."""

    bought: Decimal
    sold: Decimal
    bought_notional: Decimal
    sold_notional: Decimal
    fills: int

    @property
    def net(self) -> Decimal:
        return self.bought - self.sold

    def values(self) -> Values:
        """Return the totals as labelled pairs."""
        return (
            ("bought", number(self.bought)), ("sold", number(self.sold)),
            ("bought notional", number(self.bought_notional)),
            ("sold notional", number(self.sold_notional)), ("fills", str(self.fills)),
        )  # fmt: skip


class PositionLine(NamedTuple):
    """Both sides' totals for one account, trade date and symbol; ``None`` where a side has
    no fills."""

    account: AccountId
    trade_date: date
    symbol: InstrumentId
    keel: PositionTotals | None
    broker: PositionTotals | None


@dataclass(frozen=True, slots=True)
class PositionMatch:
    lines: tuple[PositionLine, ...]
    """Sorted by account, trade date and symbol."""
    breaks: tuple[Break, ...]


def match_positions(
    keel: Iterable[KeelFill],
    broker: Iterable[BrokerFill],
    tolerances: Tolerances = DEFAULT_TOLERANCES,
) -> PositionMatch:
    """Compare bought and sold quantity and notional per (account, trade date, symbol)."""
    ours = _keel_totals(keel)
    theirs = _broker_totals(broker)
    lines: list[PositionLine] = []
    found: list[Break] = []
    for key in sorted(ours.keys() | theirs.keys()):
        keel_side = _totals(ours.get(key))
        broker_side = _totals(theirs.get(key))
        line = PositionLine(*key, keel_side, broker_side)
        lines.append(line)
        found += _compare(line, tolerances)
    return PositionMatch(tuple(lines), tuple(sorted(found, key=lambda b: b.break_key)))


class _Running:
    """Running totals of one key while the fills are read; mutable, and never leaves here.

    Updated in place by the two loops below rather than through a method: the call would
    cost a fifth of the loop, run once per execution on each side.
    """

    __slots__ = ("bought", "bought_notional", "fills", "sold", "sold_notional")

    def __init__(self) -> None:
        self.bought = self.sold = self.bought_notional = self.sold_notional = ZERO
        self.fills = 0

    def totals(self) -> PositionTotals:
        return PositionTotals(
            self.bought, self.sold, self.bought_notional, self.sold_notional, self.fills
        )


def _keel_totals(fills: Iterable[KeelFill]) -> dict[PositionKey, _Running]:
    totals: dict[PositionKey, _Running] = {}
    for fill in fills:
        if fill.state is not _ACTIVE:
            continue
        key = (fill.account, fill.trade_date, fill.symbol)
        running = totals.get(key)
        if running is None:
            running = totals[key] = _Running()
        qty = fill.qty
        if fill.side is _BUY:
            running.bought += qty
            running.bought_notional += qty * fill.price
        else:
            running.sold += qty
            running.sold_notional += qty * fill.price
        running.fills += 1
    return totals


def _broker_totals(reports: Iterable[BrokerFill]) -> dict[PositionKey, _Running]:
    totals: dict[PositionKey, _Running] = {}
    seen_at: dict[str, set[str]] = {}
    venue: str | None = None
    seen: set[str] = set()
    for report in reports:
        if report.venue != venue:  # per venue, so no (venue, ExecID) tuple per row
            venue = report.venue
            seen = seen_at.setdefault(venue, set())
        if report.exec_id in seen:
            continue
        seen.add(report.exec_id)
        key = (report.account, report.trade_date, report.symbol)
        running = totals.get(key)
        if running is None:
            running = totals[key] = _Running()
        qty = report.qty
        if report.side is _BUY:
            running.bought += qty
            running.bought_notional += qty * report.price
        else:
            running.sold += qty
            running.sold_notional += qty * report.price
        running.fills += 1
    return totals


def _totals(running: _Running | None) -> PositionTotals | None:
    return running.totals() if running is not None else None


def _compare(line: PositionLine, tolerances: Tolerances) -> list[Break]:
    where = f"{line.account} {line.symbol} on {line.trade_date.isoformat()}"
    ids = (line.account, line.trade_date.isoformat(), line.symbol)
    keel, broker = line.keel, line.broker
    if keel is None and broker is not None:
        kind = BreakKind.MISSING_INTERNALLY
        text = f"{where}: the broker has {_trades(broker)} and Keel has none"
    elif broker is None and keel is not None:
        kind = BreakKind.MISSING_AT_BROKER
        text = f"{where}: Keel has {_trades(keel)} and the broker has none"
    elif keel is None or broker is None:  # no key has neither side
        return []
    elif keel.bought != broker.bought or keel.sold != broker.sold:
        kind = BreakKind.QUANTITY_MISMATCH
        text = f"{where}: Keel has {_trades(keel)}, the broker {_trades(broker)}"
    else:
        per_unit = tolerances.price_tolerance + tolerances.price_unit
        gaps = [
            (name, ours, theirs, qty * per_unit)
            for name, ours, theirs, qty in (
                ("bought", keel.bought_notional, broker.bought_notional, keel.bought),
                ("sold", keel.sold_notional, broker.sold_notional, keel.sold),
            )
            if abs(ours - theirs) > qty * per_unit
        ]
        if not gaps:
            return []
        kind = BreakKind.PRICE_MISMATCH
        text = f"{where}: " + "; ".join(
            f"notional {name} {number(ours)} in Keel, {number(theirs)} at the broker "
            f"(allowed {number(allowed)})"
            for name, ours, theirs, allowed in gaps
        )
    return [
        Break(
            kind,
            _POSITION,
            break_key(_POSITION, kind, *ids),
            text,
            keel.values() if keel is not None else (),
            broker.values() if broker is not None else (),
            (),
        )
    ]


def _trades(totals: PositionTotals) -> str:
    return (
        f"bought {number(totals.bought)} and sold {number(totals.sold)} "
        f"in {totals.fills} fill{'s' if totals.fills != 1 else ''}"
    )
