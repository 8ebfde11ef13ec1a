"""Fill-level matching: each broker execution against the fill Keel booked for it.

Pairs are found by (venue, ExecID) first. What is left on both sides is then paired by the
fallback, which a broker whose statement carries its own trade ids needs: same venue,
broker order id, direction and quantity, price within tolerance, same trade date, and
transact time within the window when the broker gives one. A fallback pair is reported as
such (``MatchMethod.FALLBACK``). The fallback is one-to-one and deterministic: the broker's
reports are taken in (trade date, exec id, source, ref) order and each takes the closest
Keel fill left (time gap, then price gap, then the fewest of ClOrdID, account and symbol
differing, then fill id), whatever order the inputs came in.

Broker data may mix sources. Reports of one execution (same venue and ExecID) from one
source more than once are a ``DUPLICATE_AT_BROKER`` break; the first report from each
further source (the drop copy of a statement row) corroborates the pair and is compared
too, so a difference either source shows is a break, once.

Only ``ACTIVE`` Keel fills are expected at the broker. A broker report of a fill Keel
busted or corrected away is ``MISSING_INTERNALLY``: Keel does not count it.

The caller passes the Keel fills of the same venues and trade dates as the broker data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

from keel.domain.enums import Side
from keel.domain.ids import ExecId, VenueId
from keel.domain.order import FillState
from keel.domain.recon.breaks import (
    Break,
    BreakKind,
    BreakLevel,
    Evidence,
    break_key,
    broker_evidence,
    broker_fill_values,
    keel_fill_evidence,
    keel_fill_values,
    merge_breaks,
    number,
    trade_words,
)
from keel.domain.recon.values import (
    DEFAULT_TOLERANCES,
    BrokerFill,
    BrokerSource,
    KeelFill,
    MatchMethod,
    Tolerances,
    same_direction,
)

_ACTIVE = FillState.ACTIVE
_BUY = Side.BUY
_BY_EXEC_ID = MatchMethod.EXEC_ID
_FILL = BreakLevel.FILL
_NO_GAP = timedelta(0)

ExecKey = tuple[VenueId, ExecId]
Book = dict[ExecId, KeelFill]
"""One venue's Keel fills by ExecID."""
Reports = dict[ExecId, BrokerFill]
"""One venue's first broker report of each ExecID."""


class FillPair(NamedTuple):
    """A broker report and the Keel fill it was matched to, and how."""

    keel: KeelFill
    broker: BrokerFill
    method: MatchMethod


class FillPairs:
    """The pairs of one match: by ExecID, venue by venue in the broker's order, then the
    fallback pairs.

    Built on demand when iterated: a run of a million executions needs the breaks and the
    counts, and building a million pairs nobody reads would cost as much as the matching.
    Read-only: it holds the match's own indexes, which nothing changes after the match.
    """

    __slots__ = ("_books", "_by_exec_id", "_fallback", "_fallback_by_key", "_reported")

    def __init__(
        self,
        books: dict[VenueId, Book],
        reported: dict[VenueId, Reports],
        by_exec_id: int,
        fallback: tuple[FillPair, ...],
    ) -> None:
        self._books = books
        self._reported = reported
        self._by_exec_id = by_exec_id
        self._fallback = fallback
        self._fallback_by_key = {(p.broker.venue, p.broker.exec_id): p for p in fallback}

    def __len__(self) -> int:
        return self._by_exec_id + len(self._fallback)

    def __iter__(self) -> Iterator[FillPair]:
        for venue, reports in self._reported.items():
            book = self._books.get(venue, {})
            for exec_id, report in reports.items():
                ours = book.get(exec_id)
                if ours is not None and ours.state is _ACTIVE:
                    yield FillPair(ours, report, _BY_EXEC_ID)
        yield from self._fallback

    def get(self, venue: VenueId, exec_id: ExecId) -> FillPair | None:
        """Return the pair of the broker's execution ``exec_id`` at ``venue``, if paired."""
        report = self._reported.get(venue, {}).get(exec_id)
        ours = self._books.get(venue, {}).get(exec_id)
        if report is not None and ours is not None and ours.state is _ACTIVE:
            return FillPair(ours, report, _BY_EXEC_ID)
        return self._fallback_by_key.get((venue, exec_id))


@dataclass(frozen=True, slots=True)
class FillMatch:
    """The outcome of matching fills: the pairs, and the breaks sorted by key."""

    pairs: FillPairs
    """One per matched execution: by ExecID, then the fallback pairs."""
    corroborations: tuple[FillPair, ...]
    """Reports from a further source of an execution already paired (a drop copy of a
    statement row), with the Keel fill they were compared with."""
    breaks: tuple[Break, ...]
    keel_fills: int
    broker_reports: int
    matched_by_exec_id: int
    matched_by_fallback: int


def match_fills(
    keel: Iterable[KeelFill],
    broker: Iterable[BrokerFill],
    tolerances: Tolerances = DEFAULT_TOLERANCES,
) -> FillMatch:
    """Pair broker executions with Keel's fills and return the pairs and the breaks.

    Each side is read once. Quantities must agree exactly (direction by sign, so SELL and
    SELL_SHORT agree), prices within ``tolerances``; account and symbol must agree too.
    """
    # Indexes are per venue and keyed by the ExecID string alone: a (venue, ExecID) tuple
    # per row would be a million more objects for the garbage collector to walk.
    books, shadowed, keel_count = _index(keel)
    unmatched = {venue: dict(book) for venue, book in books.items()}
    reported: dict[VenueId, Reports] = {}
    extra: list[BrokerFill] = []
    unpaired: list[BrokerFill] = []
    removed: dict[ExecKey, KeelFill] = {}
    found: list[Break] = []
    venue: VenueId | None = None
    reports: Reports = {}
    left: Book = {}
    for report in broker:
        if report.venue != venue:
            venue = report.venue
            reports = reported.setdefault(venue, {})
            left = unmatched.setdefault(venue, {})
        if reports.setdefault(report.exec_id, report) is not report:
            extra.append(report)
            continue
        ours = left.pop(report.exec_id, None)
        if ours is None:
            unpaired.append(report)
        elif ours.state is not _ACTIVE:
            removed[(report.venue, report.exec_id)] = ours
            found.append(_missing_internally(report, ours))
        elif (
            ours.qty != report.qty
            or ours.price != report.price
            or ours.side is not report.side
            or ours.account != report.account
            or ours.symbol != report.symbol
        ):
            found += compare_pair(ours, report, _BY_EXEC_ID, tolerances)
    firsts = sum(len(reports) for reports in reported.values())
    by_exec_id = firsts - len(unpaired) - len(removed)

    leftover = [
        fill for left in unmatched.values() for fill in left.values() if fill.state is _ACTIVE
    ]
    leftover += (fill for fill in shadowed if fill.state is _ACTIVE)
    fallback: list[FillPair] = []
    if unpaired and leftover:
        fallback, unpaired, leftover = _fallback(unpaired, leftover, tolerances)
        for pair in fallback:
            found += compare_pair(pair.keel, pair.broker, pair.method, tolerances)
    found += (_missing_internally(report, None) for report in unpaired)
    found += (_missing_at_broker(fill) for fill in leftover)

    pairs = FillPairs(books, reported, by_exec_id, tuple(fallback))
    corroborations: list[FillPair] = []
    if extra:
        found += _extra_reports(extra, reported, pairs, removed, corroborations, tolerances)

    return FillMatch(
        pairs=pairs,
        corroborations=tuple(corroborations),
        breaks=merge_breaks(found),
        keel_fills=keel_count,
        broker_reports=firsts + len(extra),
        matched_by_exec_id=by_exec_id,
        matched_by_fallback=len(fallback),
    )


def _index(keel: Iterable[KeelFill]) -> tuple[dict[VenueId, Book], list[KeelFill], int]:
    """Return Keel's fills by venue and ExecID, the fills another shares an ExecID with,
    and the count. Of two fills with one ExecID the active one is indexed (the state
    machine books an ExecID once, so this is for data from elsewhere)."""
    books: dict[VenueId, Book] = {}
    shadowed: list[KeelFill] = []
    count = 0
    venue: VenueId | None = None
    book: Book = {}
    for fill in keel:
        count += 1
        if fill.venue != venue:
            venue = fill.venue
            book = books.setdefault(venue, {})
        known = book.setdefault(fill.exec_id, fill)
        if known is not fill:
            prefer_new = known.state is not _ACTIVE and fill.state is _ACTIVE
            if prefer_new:
                book[fill.exec_id] = fill
            shadowed.append(known if prefer_new else fill)
    return books, shadowed, count


def compare_pair(
    fill: KeelFill, report: BrokerFill, method: MatchMethod, tolerances: Tolerances
) -> list[Break]:
    """Return the breaks between a Keel fill and the broker's report it was paired with."""
    found: list[Break] = []
    differs = [
        name
        for name, agree in (
            ("side", same_direction(fill.side, report.side)),
            ("qty", fill.qty == report.qty),
            ("account", fill.account == report.account),
            ("symbol", fill.symbol == report.symbol),
        )
        if not agree
    ]
    how = "" if method is _BY_EXEC_ID else f" (fallback match: Keel exec {fill.exec_id})"
    evidence = (broker_evidence(report), *keel_fill_evidence(fill))
    if differs:
        found.append(
            Break(
                BreakKind.QUANTITY_MISMATCH,
                _FILL,
                break_key(_FILL, BreakKind.QUANTITY_MISMATCH, report.venue, report.exec_id),
                f"Exec {report.exec_id}{how}: Keel booked {fill.side.value} "
                f"{number(fill.qty)} {fill.symbol} for {fill.account}, the broker reports "
                f"{report.side.value} {number(report.qty)} {report.symbol} for "
                f"{report.account} ({', '.join(differs)} differ)",
                keel_fill_values(fill),
                broker_fill_values(report),
                evidence,
                fill.order_id,
                fill.exec_id,
            )
        )
    if not tolerances.prices_agree(fill.price, report.price):
        gap = tolerances.price_gap(fill.price, report.price)
        found.append(
            Break(
                BreakKind.PRICE_MISMATCH,
                _FILL,
                break_key(_FILL, BreakKind.PRICE_MISMATCH, report.venue, report.exec_id),
                f"Exec {report.exec_id}{how}: Keel booked {fill.side.value} "
                f"{number(fill.qty)} {fill.symbol} at {number(fill.price)}, the broker "
                f"reports {number(report.price)}: {number(gap)} apart, tolerance "
                f"{number(tolerances.price_tolerance)}",
                keel_fill_values(fill),
                broker_fill_values(report),
                evidence,
                fill.order_id,
                fill.exec_id,
            )
        )
    return found


def _fallback(
    reports: list[BrokerFill], fills: list[KeelFill], tolerances: Tolerances
) -> tuple[list[FillPair], list[BrokerFill], list[KeelFill]]:
    """Pair what ExecIDs left by broker order id; return the pairs and what is still left."""
    candidates: dict[tuple[object, ...], list[KeelFill]] = {}
    for fill in fills:
        if fill.venue_order_id:
            key = (fill.venue, fill.venue_order_id, fill.side is _BUY, fill.qty)
            candidates.setdefault(key, []).append(fill)
    pairs: list[FillPair] = []
    unpaired: list[BrokerFill] = []
    taken: set[int] = set()
    window = tolerances.time_window
    for report in sorted(reports, key=_report_order):
        if not report.venue_order_id:
            unpaired.append(report)
            continue
        key = (report.venue, report.venue_order_id, report.side is _BUY, report.qty)
        best: tuple[timedelta, Decimal, int, str] | None = None
        chosen: KeelFill | None = None
        for fill in candidates.get(key, ()):
            if id(fill) in taken or fill.trade_date != report.trade_date:
                continue
            if not tolerances.prices_agree(fill.price, report.price):
                continue
            gap = _NO_GAP
            if report.transact_time is not None:
                gap = abs(report.transact_time - fill.event_time)
                if gap > window:
                    continue
            rank = (
                gap,
                tolerances.price_gap(fill.price, report.price),
                _disagreements(fill, report),
                fill.fill_id,
            )
            if best is None or rank < best:
                best, chosen = rank, fill
        if chosen is None:
            unpaired.append(report)
        else:
            taken.add(id(chosen))
            pairs.append(FillPair(chosen, report, MatchMethod.FALLBACK))
    left = [fill for fill in fills if id(fill) not in taken]
    return pairs, unpaired, left


def _disagreements(fill: KeelFill, report: BrokerFill) -> int:
    """Count the terms (ClOrdID when the broker gives one, account, symbol) that differ."""
    return (
        (report.cl_ord_id is not None and report.cl_ord_id != fill.cl_ord_id)
        + (report.account != fill.account)
        + (report.symbol != fill.symbol)
    )


def _report_order(report: BrokerFill) -> tuple[object, ...]:
    return (report.trade_date, report.exec_id, report.source.value, report.ref)


def _extra_reports(
    extra: list[BrokerFill],
    reported: dict[VenueId, Reports],
    pairs: FillPairs,
    removed: dict[ExecKey, KeelFill],
    corroborations: list[FillPair],
    tolerances: Tolerances,
) -> list[Break]:
    """Judge reports of an execution already reported: duplicates, or another source's copy."""
    firsts: dict[tuple[ExecKey, BrokerSource], BrokerFill] = {}
    copies: dict[tuple[ExecKey, BrokerSource], list[BrokerFill]] = {}
    found: list[Break] = []
    for report in extra:
        key = (report.venue, report.exec_id)
        primary = reported[report.venue][report.exec_id]
        firsts.setdefault((key, primary.source), primary)
        first = firsts.setdefault((key, report.source), report)
        if first is not report:
            copies.setdefault((key, report.source), [first]).append(report)
            continue
        pair = pairs.get(*key)
        if pair is not None:
            corroborations.append(FillPair(pair.keel, report, pair.method))
            found += compare_pair(pair.keel, report, pair.method, tolerances)
        else:
            found.append(_missing_internally(report, removed.get(key)))
    for (key, source), reports in copies.items():
        pair = pairs.get(*key)
        found.append(_duplicate(reports, source, pair.keel if pair else removed.get(key)))
    return found


def _missing_internally(report: BrokerFill, fill: KeelFill | None) -> Break:
    words = trade_words(report.side, report.qty, report.symbol, report.price)
    if fill is None:
        why = "that Keel never booked"
        keel_values: tuple[tuple[str, str], ...] = ()
        evidence: tuple[Evidence, ...] = (broker_evidence(report),)
    else:
        why = f"that Keel booked as fill {fill.fill_id} and then marked {fill.state.value}"
        keel_values = keel_fill_values(fill)
        evidence = (broker_evidence(report), *keel_fill_evidence(fill))
    return Break(
        BreakKind.MISSING_INTERNALLY,
        _FILL,
        break_key(_FILL, BreakKind.MISSING_INTERNALLY, report.venue, report.exec_id),
        f"Broker reports a fill of {words} for {report.account} (exec {report.exec_id}) {why}",
        keel_values,
        broker_fill_values(report),
        evidence,
        fill.order_id if fill is not None else None,
        report.exec_id,
    )


def _missing_at_broker(fill: KeelFill) -> Break:
    words = trade_words(fill.side, fill.qty, fill.symbol, fill.price)
    return Break(
        BreakKind.MISSING_AT_BROKER,
        _FILL,
        break_key(_FILL, BreakKind.MISSING_AT_BROKER, fill.venue, fill.exec_id),
        f"Keel booked a fill of {words} for {fill.account} (exec {fill.exec_id}, fill "
        f"{fill.fill_id}) that the broker does not report",
        keel_fill_values(fill),
        (),
        keel_fill_evidence(fill),
        fill.order_id,
        fill.exec_id,
    )


def _duplicate(reports: list[BrokerFill], source: BrokerSource, fill: KeelFill | None) -> Break:
    first = reports[0]
    words = trade_words(first.side, first.qty, first.symbol, first.price)
    terms = {(r.side, r.qty, r.price, r.account, r.symbol) for r in reports}
    differ = "" if len(terms) == 1 else "; the copies differ"
    broker_values = tuple(
        (f"copy {n}", f"{r.ref}: {trade_words(r.side, r.qty, r.symbol, r.price)} {r.account}")
        for n, r in enumerate(reports, start=1)
    )
    evidence = tuple(broker_evidence(r) for r in reports)
    if fill is not None:
        evidence += keel_fill_evidence(fill)
    return Break(
        BreakKind.DUPLICATE_AT_BROKER,
        _FILL,
        break_key(_FILL, BreakKind.DUPLICATE_AT_BROKER, first.venue, first.exec_id),
        f"Broker reports exec {first.exec_id} ({words} for {first.account}) "
        f"{len(reports)} times in its {source.value.lower().replace('_', ' ')}{differ}",
        keel_fill_values(fill) if fill is not None else (),
        broker_values,
        evidence,
        fill.order_id if fill is not None else None,
        first.exec_id,
    )
