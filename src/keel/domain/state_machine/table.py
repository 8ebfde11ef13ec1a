"""The order transition table, as data.

Every (status, input) pair has exactly one ``Rule``: the handler that runs, the statuses it
can lead to (empty: the status does not change) and one line saying why. The docs' state
diagram is generated from this table, and a test checks that no pair is missing.

Two checks run before the table, for every status: a venue report whose ExecID the order has
already processed, and a client request whose ClOrdID it has already seen, are duplicates and
change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from keel.domain.enums import ExceptionKind, OrderStatus
from keel.domain.inputs import InputKind
from keel.domain.state_machine import breaks, fills, requests, venue, workflow
from keel.domain.state_machine.outcomes import (
    FastPath,
    Handler,
    conflict,
    duplicate,
    ignore,
    refuse,
)

S = OrderStatus
K = InputKind

ALL_STATUSES: tuple[OrderStatus, ...] = tuple(OrderStatus)
CLOSED = (S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED)
UNACKED = (S.PENDING_NEW, S.SENT)
WORKING = (S.NEW, S.PARTIALLY_FILLED)
PENDING = (S.PENDING_CANCEL, S.PENDING_REPLACE)
OPEN = (*UNACKED, *WORKING, S.DONE_FOR_DAY, *PENDING)


@dataclass(frozen=True, slots=True)
class Rule:
    handler: Handler
    to: tuple[OrderStatus, ...]
    """Statuses the rule can lead to; empty when the status stays as it is."""
    why: str
    fast: FastPath | None = None
    """For the most frequent inputs: the same outcome without the ``Step`` machinery in the
    plain case (no exception, nothing queued); returns None to fall back to ``handler``."""


def _each(statuses: Iterable[OrderStatus], rule: Rule) -> dict[OrderStatus, Rule]:
    return dict.fromkeys(statuses, rule)


_DUPLICATE_NEW = Rule(
    duplicate("the order already exists: a retried new order changes nothing"),
    (),
    "duplicate: a retried new order changes nothing",
)
_CLOSED_STATUS_CONFLICT = conflict(
    ExceptionKind.STATUS_CONFLICT, "a venue message for a closed order"
)

_EVIDENCE = ignore("evidence (a drop copy, a statement) is recorded by the sequencer, not applied")

_ROWS: dict[InputKind, dict[OrderStatus, Rule]] = {
    K.NEW_ORDER_ACCEPTED: _each(ALL_STATUSES, _DUPLICATE_NEW),
    K.NEW_ORDER_DENIED: _each(ALL_STATUSES, _DUPLICATE_NEW),
    K.SENT_TO_VENUE: {
        S.PENDING_NEW: Rule(
            venue.mark_sent, (S.SENT,), "the gateway wrote the order; ack timer armed"
        ),
        **_each(
            (s for s in ALL_STATUSES if s is not S.PENDING_NEW),
            Rule(ignore("already past SENT"), (), "already past SENT (an answer came first)"),
        ),
    },
    K.VENUE_ACK: {
        **_each(
            UNACKED,
            Rule(venue.acknowledge, (S.NEW,), "acknowledged by the venue", venue.acknowledge_fast),
        ),
        **_each(
            WORKING,
            Rule(
                venue.acknowledge,
                (),
                "repeat ack: ignored; another venue order id raises VENUE_ORDER_ID_MISMATCH",
            ),
        ),
        S.DONE_FOR_DAY: Rule(
            venue.acknowledge, (S.NEW, S.PARTIALLY_FILLED), "restated for a new trading day"
        ),
        **_each(
            PENDING,
            Rule(venue.acknowledge, (), "ack arriving after a cancel/replace was sent: recorded"),
        ),
        **_each(
            (S.FILLED, S.CANCELED, S.EXPIRED),
            Rule(ignore("late ack of a closed order"), (), "late ack of a closed order: ignored"),
        ),
        # The venue says the order lives; we recorded it as rejected. A person must look.
        S.REJECTED: Rule(
            conflict(ExceptionKind.STATUS_CONFLICT, "an ack of a rejected order"),
            (),
            "STATUS_CONFLICT: the venue acknowledged an order Keel holds as rejected",
        ),
    },
    K.VENUE_REJECT: {
        **_each(UNACKED, Rule(venue.venue_rejects, (S.REJECTED,), "rejected by the venue")),
        **_each(
            PENDING,
            Rule(
                venue.venue_rejects,
                (S.REJECTED,),
                "rejected before its ack (cancel/replace was in flight); STATUS_CONFLICT if acked",
            ),
        ),
        **_each(
            (*WORKING, S.DONE_FOR_DAY),
            Rule(
                conflict(ExceptionKind.STATUS_CONFLICT, "a venue reject of an acknowledged order"),
                (),
                "STATUS_CONFLICT: a reject of an acknowledged order",
            ),
        ),
        S.REJECTED: Rule(ignore("already rejected"), (), "repeat reject: ignored"),
        **_each(
            (S.FILLED, S.CANCELED, S.EXPIRED),
            Rule(_CLOSED_STATUS_CONFLICT, (), "STATUS_CONFLICT: a reject of a closed order"),
        ),
    },
    K.FILL: {
        **_each(
            UNACKED,
            Rule(
                fills.book_fill,
                (S.PARTIALLY_FILLED, S.FILLED),
                "a fill before the ack is booked and implies the ack",
            ),
        ),
        **_each(
            WORKING,
            Rule(
                fills.book_fill,
                (S.PARTIALLY_FILLED, S.FILLED),
                "booked; leaves qty only falls",
                fills.book_fill_fast,
            ),
        ),
        **_each(
            PENDING,
            Rule(
                fills.book_fill,
                (S.FILLED,),
                "booked; the request stays pending unless the order is now filled",
                fills.book_fill_fast,
            ),
        ),
        # Done for day promised no more executions today: book it, flag it.
        S.DONE_FOR_DAY: Rule(
            fills.book_late_fill, (S.FILLED,), "booked and flagged LATE_FILL (after done for day)"
        ),
        # Already filled: booked, and the excess raises OVERFILL.
        S.FILLED: Rule(fills.book_fill, (), "booked; cum qty over the order qty raises OVERFILL"),
        # Execution truth wins: a fill after the order closed is booked and flagged.
        **_each(
            (S.CANCELED, S.REJECTED, S.EXPIRED),
            Rule(fills.book_late_fill, (), "booked, status kept, LATE_FILL raised"),
        ),
    },
    K.CANCEL_REQUEST: {
        **_each(
            (*UNACKED, *WORKING, S.DONE_FOR_DAY),
            Rule(
                requests.request_cancel,
                (S.PENDING_CANCEL,),
                "cancel sent; cancel timer armed",
                requests.request_cancel_fast,
            ),
        ),
        S.PENDING_CANCEL: Rule(
            refuse("CANCEL_PENDING", "a cancel is already pending for this order"),
            (),
            "refused: a cancel is already pending",
        ),
        S.PENDING_REPLACE: Rule(
            requests.queue_cancel, (), "queued; sent as soon as the pending replace is answered"
        ),
        **_each(
            CLOSED,
            Rule(
                refuse("TOO_LATE_TO_CANCEL", "the order is already closed"),
                (),
                "refused: too late to cancel",
            ),
        ),
    },
    K.CANCEL_ACK: {
        **_each(
            (*UNACKED, *WORKING, S.DONE_FOR_DAY, S.PENDING_REPLACE),
            Rule(
                requests.cancel_done,
                (S.CANCELED,),
                "canceled by the venue (unsolicited)",
                requests.cancel_done_fast,
            ),
        ),
        S.PENDING_CANCEL: Rule(
            requests.cancel_done,
            (S.CANCELED,),
            "our cancel acknowledged",
            requests.cancel_done_fast,
        ),
        S.CANCELED: Rule(ignore("already canceled"), (), "repeat cancel: ignored"),
        **_each(
            (S.FILLED, S.REJECTED, S.EXPIRED),
            Rule(
                _CLOSED_STATUS_CONFLICT,
                (),
                "STATUS_CONFLICT: a cancel of an order closed otherwise",
            ),
        ),
    },
    K.CANCEL_REJECT: {
        **_each(
            (s for s in ALL_STATUSES if s is not S.PENDING_CANCEL),
            Rule(
                requests.request_rejected,
                (),
                "clears a pending cancel answered late; else duplicate or UNKNOWN_REQUEST",
            ),
        ),
        S.PENDING_CANCEL: Rule(
            requests.request_rejected,
            (S.SENT, S.NEW, S.PARTIALLY_FILLED, S.DONE_FOR_DAY),
            "back to the status the fills give",
        ),
    },
    K.REPLACE_REQUEST: {
        **_each(
            WORKING,
            Rule(requests.request_replace, (S.PENDING_REPLACE,), "replace sent; timer armed"),
        ),
        **_each(
            UNACKED,
            Rule(
                refuse("NOT_ACKNOWLEDGED", "the venue has not acknowledged the order yet"),
                (),
                "refused: not acknowledged yet",
            ),
        ),
        S.DONE_FOR_DAY: Rule(
            refuse("DONE_FOR_DAY", "the order is done for the day"), (), "refused: done for day"
        ),
        S.PENDING_CANCEL: Rule(
            refuse("CANCEL_PENDING", "a cancel is pending for this order"),
            (),
            "refused: a cancel is pending",
        ),
        S.PENDING_REPLACE: Rule(
            requests.replace_while_replace_pending,
            (),
            "refused by default; queued when the policy says QUEUE",
        ),
        **_each(
            CLOSED,
            Rule(refuse("ORDER_CLOSED", "the order is closed"), (), "refused: order closed"),
        ),
    },
    K.REPLACE_ACK: {
        S.PENDING_REPLACE: Rule(
            requests.replace_done,
            (S.NEW, S.PARTIALLY_FILLED, S.FILLED, S.DONE_FOR_DAY, S.PENDING_CANCEL),
            "new terms in force (must name the pending ClOrdID, else LINEAGE_MISMATCH); "
            "a queued request goes next",
        ),
        **_each(
            (*UNACKED, *WORKING, S.DONE_FOR_DAY, S.PENDING_CANCEL),
            Rule(
                requests.replace_ack_without_pending,
                (),
                "no replace pending: old answer ignored, else LINEAGE_MISMATCH",
            ),
        ),
        **_each(
            CLOSED,
            Rule(_CLOSED_STATUS_CONFLICT, (), "STATUS_CONFLICT: a replace ack for a closed order"),
        ),
    },
    K.REPLACE_REJECT: {
        **_each(
            (s for s in ALL_STATUSES if s is not S.PENDING_REPLACE),
            Rule(
                requests.request_rejected,
                (),
                "clears a pending replace answered late; else duplicate or UNKNOWN_REQUEST",
            ),
        ),
        S.PENDING_REPLACE: Rule(
            requests.request_rejected,
            (S.NEW, S.PARTIALLY_FILLED, S.DONE_FOR_DAY, S.PENDING_CANCEL),
            "back to the status the fills give; a queued request goes next",
        ),
    },
    K.EXPIRED: {
        **_each(OPEN, Rule(venue.expire, (S.EXPIRED,), "expired by the venue")),
        S.EXPIRED: Rule(ignore("already expired"), (), "repeat expiry: ignored"),
        **_each(
            (S.FILLED, S.CANCELED),
            Rule(ignore("order already closed"), (), "already closed otherwise: ignored"),
        ),
        S.REJECTED: Rule(
            conflict(ExceptionKind.STATUS_CONFLICT, "an expiry of a rejected order"),
            (),
            "STATUS_CONFLICT: the venue had the order Keel holds as rejected",
        ),
    },
    K.DONE_FOR_DAY: {
        **_each(
            (*UNACKED, *WORKING),
            Rule(venue.done_for_day, (S.DONE_FOR_DAY,), "no more executions today"),
        ),
        **_each(PENDING, Rule(venue.done_for_day, (), "recorded; the request stays pending")),
        S.DONE_FOR_DAY: Rule(ignore("already done for day"), (), "repeat: ignored"),
        **_each(CLOSED, Rule(ignore("order already closed"), (), "closed: ignored")),
    },
    K.TRADE_CORRECTION: {
        # An order with no active fill has nothing to correct: UNKNOWN_EXECUTION.
        **_each(
            (*UNACKED, S.NEW),
            Rule(fills.amend_fill, (), "nothing booked to correct: UNKNOWN_EXECUTION"),
        ),
        S.PARTIALLY_FILLED: Rule(
            fills.amend_fill,
            (S.NEW, S.FILLED),
            "fill corrected, original kept; cum and avg px recomputed",
        ),
        **_each(
            (S.DONE_FOR_DAY, *PENDING),
            Rule(
                fills.amend_fill,
                (S.FILLED,),
                "fill corrected, original kept; the status stays unless now filled",
            ),
        ),
        **_each(
            CLOSED,
            Rule(fills.amend_fill, (), "corrected, status kept, TERMINAL_AMENDMENT raised"),
        ),
    },
    K.TRADE_BUST: {
        **_each(
            (*UNACKED, S.NEW),
            Rule(fills.amend_fill, (), "nothing booked to bust: UNKNOWN_EXECUTION"),
        ),
        S.PARTIALLY_FILLED: Rule(
            fills.amend_fill, (S.NEW,), "fill busted, original kept; cum and avg px recomputed"
        ),
        **_each(
            (S.DONE_FOR_DAY, *PENDING),
            Rule(fills.amend_fill, (), "fill busted, original kept; the status stays"),
        ),
        **_each(
            CLOSED, Rule(fills.amend_fill, (), "busted, status kept, TERMINAL_AMENDMENT raised")
        ),
    },
    K.STATUS_REPORT: {
        **_each(
            UNACKED,
            Rule(
                venue.reconcile_working,
                (S.NEW, S.CANCELED, S.EXPIRED, S.REJECTED),
                "compared; a live order implies the ack, a close is adopted; CumQty gaps flagged",
            ),
        ),
        **_each(
            (*WORKING, S.DONE_FOR_DAY, *PENDING),
            Rule(
                venue.reconcile_working,
                (S.CANCELED, S.EXPIRED, S.REJECTED),
                "compared; a close Keel missed is adopted (MISSED_STATUS); CumQty gaps flagged",
            ),
        ),
        **_each(
            CLOSED,
            Rule(
                venue.reconcile_closed,
                (),
                "compared; a live order at the venue raises STATUS_CONFLICT",
            ),
        ),
    },
    K.TIMER: {
        S.PENDING_NEW: Rule(
            venue.expire_unsent, (S.EXPIRED,), "expiry of an order never sent expires it here"
        ),
        **_each(
            (S.SENT, *WORKING, S.DONE_FOR_DAY, *PENDING),
            Rule(
                venue.chase,
                (),
                "unanswered: OrderStatusRequest, then STUCK_ORDER; stale timers ignored",
            ),
        ),
        **_each(CLOSED, Rule(ignore("stale timer: order closed"), (), "stale timer: order closed")),
    },
    K.EXCEPTION_WORK: _each(
        ALL_STATUSES,
        Rule(
            workflow.work_exception,
            (),
            "exception workflow (acknowledge, resolve, four-eyes approval); status unchanged "
            "unless an approved fill or bust moves it",
        ),
    ),
    K.BREAK_FOUND: _each(
        ALL_STATUSES,
        Rule(breaks.raise_break, (), "a reconciliation break raised on the order, once"),
    ),
    **{
        kind: _each(ALL_STATUSES, Rule(_EVIDENCE, (), "evidence: recorded, never applied"))
        for kind in (K.DROP_COPY, K.STATEMENT)
    },
}

TABLE: Mapping[tuple[OrderStatus, InputKind], Rule] = MappingProxyType(
    {(status, kind): rule for kind, row in _ROWS.items() for status, rule in row.items()}
)
"""(status, input kind) -> rule, for every status and every input kind."""
