"""Breaks: each difference between Keel and a broker, explained, with its evidence.

A break's ``break_key`` names what it is about (the level, the kind and the ids), never the
values found, so the same data gives the same keys on every run and a break that has been
resolved is recognised when a later run no longer finds its key. Breaks found twice in one
run (the statement and the drop copy both report a fill Keel missed) merge into one, with
the evidence of both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from keel.domain.enums import Side
from keel.domain.ids import ExecId, InstrumentId, OrderId
from keel.domain.recon.values import BrokerFill, BrokerSource, KeelFill

Values = tuple[tuple[str, str], ...]
"""Labelled values of one side, in reading order: ``(("qty", "100"), ("price", "150.25"))``."""


class BreakKind(StrEnum):
    """What kind of difference a break is. "At broker" and "internally" say who lacks it."""

    MISSING_INTERNALLY = "MISSING_INTERNALLY"
    """The broker has it; Keel does not."""
    MISSING_AT_BROKER = "MISSING_AT_BROKER"
    """Keel has it; the broker does not."""
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"
    """Both have it with different quantities (or sides, accounts or symbols, which move
    quantity to another position)."""
    PRICE_MISMATCH = "PRICE_MISMATCH"
    """Both have it, at prices (or notionals) further apart than the tolerance."""
    DUPLICATE_AT_BROKER = "DUPLICATE_AT_BROKER"
    """The broker reports the same execution more than once in one source."""
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    """The venue reports an order Keel does not know."""
    STATUS_MISMATCH = "STATUS_MISMATCH"
    """Keel and the venue disagree on whether (or how) an order ended."""


class BreakLevel(StrEnum):
    """What a break compares."""

    FILL = "FILL"
    ORDER = "ORDER"
    POSITION = "POSITION"
    """Quantity and notional per account, trade date and symbol."""


class EvidenceKind(StrEnum):
    """Where a piece of evidence is kept."""

    STATEMENT = "STATEMENT"
    """A statement line (``file.csv:17``)."""
    DROP_COPY = "DROP_COPY"
    """A drop-copy message."""
    ORDER_STATUS = "ORDER_STATUS"
    """An order status or mass status answer."""
    KEEL_FILL = "KEEL_FILL"
    """A fill Keel booked (its fill id)."""
    KEEL_ORDER = "KEEL_ORDER"
    """An order Keel holds (its order id)."""


class Evidence(NamedTuple):
    kind: EvidenceKind
    ref: str


@dataclass(frozen=True, slots=True)
class Break:
    """One difference between Keel and a broker, for a person to work.

    ``keel`` and ``broker`` hold each side's values as labelled pairs (empty for the side
    that lacks the thing); ``evidence`` points at the statement lines, raw messages, fills
    and orders involved. ``order_id`` and ``exec_id`` link the break to an order and an
    execution when it has them.
    """

    kind: BreakKind
    level: BreakLevel
    break_key: str
    explanation: str
    keel: Values
    broker: Values
    evidence: tuple[Evidence, ...]
    order_id: OrderId | None = None
    exec_id: ExecId | None = None

    def labelled(self) -> Values:
        """Return both sides' values and the evidence as one run of labelled pairs:
        ``("keel qty", "100")``, then ``("broker qty", "90")``, then where each came from
        (``("STATEMENT", "stmt.csv:17")``), for an exception record's evidence."""
        return (
            *((f"keel {label}", value) for label, value in self.keel),
            *((f"broker {label}", value) for label, value in self.broker),
            *((e.kind.value, e.ref) for e in self.evidence),
        )


def break_key(level: BreakLevel, kind: BreakKind, *ids: object) -> str:
    """Return the stable key of a break: level, kind and the ids it is about, ``/``-joined."""
    return "/".join((level.value, kind.value, *(str(i) for i in ids)))


def merge_breaks(breaks: Iterable[Break]) -> tuple[Break, ...]:
    """Return the breaks with one per key, evidence united, sorted by key.

    The first break of a key keeps its explanation and values; sorting by key makes the
    result the same whatever order the inputs came in.
    """
    by_key: dict[str, Break] = {}
    for found in breaks:
        known = by_key.get(found.break_key)
        if known is None:
            by_key[found.break_key] = found
            continue
        extra = tuple(e for e in found.evidence if e not in known.evidence)
        if extra:
            by_key[found.break_key] = Break(
                known.kind, known.level, known.break_key, known.explanation, known.keel,
                known.broker, known.evidence + extra, known.order_id, known.exec_id,
            )  # fmt: skip
    return tuple(by_key[key] for key in sorted(by_key))


# -- wording ------------------------------------------------------------------------------


def number(value: Decimal) -> str:
    """Return a decimal in plain notation (``100``, not ``1E+2``)."""
    return f"{value:f}"


def trade_words(side: Side, qty: Decimal, symbol: InstrumentId, price: Decimal) -> str:
    """Return ``BUY 100 AAPL @ 150.25``."""
    return f"{side.value} {number(qty)} {symbol} @ {number(price)}"


def source_evidence(source: BrokerSource, ref: str) -> Evidence:
    """Return where a broker's report (of a fill or an order) was read."""
    return Evidence(_EVIDENCE_OF[source], ref)


def broker_evidence(fill: BrokerFill) -> Evidence:
    """Return where a broker's report of a fill was read."""
    return Evidence(_EVIDENCE_OF[fill.source], fill.ref)


def keel_fill_evidence(fill: KeelFill) -> tuple[Evidence, Evidence]:
    """Return the Keel fill and its order as evidence."""
    return Evidence(EvidenceKind.KEEL_FILL, fill.fill_id), Evidence(
        EvidenceKind.KEEL_ORDER, fill.order_id
    )


def keel_fill_values(fill: KeelFill) -> Values:
    """Return a Keel fill's values as labelled pairs."""
    return (
        ("fill", fill.fill_id), ("order", fill.order_id), ("exec", fill.exec_id),
        ("broker order", fill.venue_order_id or ""), ("account", fill.account),
        ("symbol", fill.symbol), ("side", fill.side.value), ("qty", number(fill.qty)),
        ("price", number(fill.price)), ("trade date", fill.trade_date.isoformat()),
        ("time", fill.event_time.isoformat()), ("state", fill.state.value),
    )  # fmt: skip


def broker_fill_values(fill: BrokerFill) -> Values:
    """Return a broker's report of an execution as labelled pairs."""
    time = fill.transact_time.isoformat() if fill.transact_time is not None else ""
    return (
        ("source", fill.source.value), ("ref", fill.ref), ("exec", fill.exec_id),
        ("broker order", fill.venue_order_id or ""), ("ClOrdID", fill.cl_ord_id or ""),
        ("account", fill.account),
        ("symbol", fill.symbol), ("side", fill.side.value), ("qty", number(fill.qty)),
        ("price", number(fill.price)), ("trade date", fill.trade_date.isoformat()),
        ("time", time),
    )  # fmt: skip


_EVIDENCE_OF = {
    BrokerSource.STATEMENT: EvidenceKind.STATEMENT,
    BrokerSource.DROP_COPY: EvidenceKind.DROP_COPY,
    BrokerSource.ORDER_STATUS: EvidenceKind.ORDER_STATUS,
}
