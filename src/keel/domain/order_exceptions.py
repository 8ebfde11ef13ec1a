"""Exception records: conflicts raised for a person to review, never dropped silently.

(Named ``order_exceptions`` so that it cannot be mistaken for Python's exceptions; those
live in ``keel.domain.errors``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from keel.domain.enums import ExceptionKind, ExceptionStatus, ResolutionKind
from keel.domain.ids import ClOrdId, ExceptionId, ExecId, OrderId


@dataclass(frozen=True, slots=True)
class OrderException:
    """A conflict between what Keel knows and what it was told, with the evidence.

    ``evidence`` holds labelled values (``("booked cum qty", "300")``); the sequencer links the
    record to the raw input that caused it, so the original message is always one hop away.
    """

    exception_id: ExceptionId
    kind: ExceptionKind
    order_id: OrderId | None
    summary: str
    evidence: tuple[tuple[str, str], ...]
    raised_at: datetime
    exec_id: ExecId | None = None
    cl_ord_id: ClOrdId | None = None
    status: ExceptionStatus = ExceptionStatus.OPEN
    break_key: str | None = None
    """For a reconciliation break: what identifies the difference across runs, so a rerun
    that finds it again does not raise it twice."""


class Resolution(NamedTuple):
    """How someone resolved (or proposes to resolve) an exception, and why.

    For ``BOOKED_MISSING_FILL`` the fill to book: ``exec_id`` (the venue's ExecID), ``qty``,
    ``price`` and ``trade_date``. For ``BUSTED_FILL``, ``exec_id`` names the booked fill.
    """

    kind: ResolutionKind
    comment: str
    actor: str
    exec_id: ExecId | None = None
    qty: Decimal | None = None
    price: Decimal | None = None
    trade_date: date | None = None
