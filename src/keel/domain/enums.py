"""Enumerations of the order model, named as a trading desk names them."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"
    SELL_SHORT = "SELL_SHORT"

    @property
    def sign(self) -> int:
        """Return +1 for buys and -1 for sells, for position arithmetic."""
        return 1 if self is Side.BUY else -1


class OrdType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"

    @property
    def needs_limit_price(self) -> bool:
        return self in (OrdType.LIMIT, OrdType.STOP_LIMIT)

    @property
    def needs_stop_price(self) -> bool:
        return self in (OrdType.STOP, OrdType.STOP_LIMIT)


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"


class OrderStatus(StrEnum):
    """Order status with FIX OrdStatus semantics, plus Keel's internal PENDING_NEW and SENT."""

    PENDING_NEW = "PENDING_NEW"
    """Created and accepted internally, not yet handed to the venue gateway."""
    SENT = "SENT"
    """Handed to the venue; no acknowledgement yet."""
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    DONE_FOR_DAY = "DONE_FOR_DAY"
    """The venue will give no more executions today (FIX OrdStatus 3); not terminal."""
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    PENDING_REPLACE = "PENDING_REPLACE"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def is_working(self) -> bool:
        """Return whether the order may still trade (not terminal)."""
        return self not in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)


class ExceptionKind(StrEnum):
    """Kinds of exception records: conflicts that a person must look at."""

    LATE_FILL = "LATE_FILL"
    """A fill arrived after the order was canceled, expired, rejected or done for the day."""
    OVERFILL = "OVERFILL"
    """Booked fills exceed the order quantity."""
    MISSING_EXECUTION = "MISSING_EXECUTION"
    """The venue's CumQty is ahead of the fills Keel has booked."""
    CUM_QTY_MISMATCH = "CUM_QTY_MISMATCH"
    """The venue reports less cumulative quantity than Keel has booked."""
    LINEAGE_MISMATCH = "LINEAGE_MISMATCH"
    """A replace or cancel answer refers to a ClOrdID that is not the pending one."""
    STATUS_CONFLICT = "STATUS_CONFLICT"
    """A venue message contradicts the order's known status."""
    MISSED_STATUS = "MISSED_STATUS"
    """A status report shows a terminal status Keel never received a message for."""
    VENUE_ORDER_ID_MISMATCH = "VENUE_ORDER_ID_MISMATCH"
    UNKNOWN_EXECUTION = "UNKNOWN_EXECUTION"
    """A correction or bust refers to an ExecID Keel never booked."""
    UNKNOWN_REQUEST = "UNKNOWN_REQUEST"
    """A cancel or replace answer refers to a ClOrdID Keel never sent."""
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    """A message for an order Keel does not know."""
    TERMINAL_AMENDMENT = "TERMINAL_AMENDMENT"
    """A correction or bust changed the fills of an order that is already closed."""
    STUCK_ORDER = "STUCK_ORDER"
    """A request got no answer after a status request."""
    SILENT_ORDER = "SILENT_ORDER"
    """A working order has had no update for longer than the configured window."""
    # -- reconciliation breaks: Keel's books against the broker's (drop copy, statement) --
    MISSING_INTERNALLY = "MISSING_INTERNALLY"
    """The broker reports an execution Keel never booked."""
    MISSING_AT_BROKER = "MISSING_AT_BROKER"
    """Keel booked an execution the broker does not report."""
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"
    """Both sides have the execution (or the day's total) with different quantities."""
    PRICE_MISMATCH = "PRICE_MISMATCH"
    """Both sides have the execution with different prices (beyond the tolerance)."""
    DUPLICATE_AT_BROKER = "DUPLICATE_AT_BROKER"
    """The broker reports the same execution twice."""
    STATUS_MISMATCH = "STATUS_MISMATCH"
    """The venue's view of an order (open or closed) differs from Keel's."""


class ExceptionStatus(StrEnum):
    """Where an exception stands in the operations workflow."""

    OPEN = "OPEN"
    """Raised; nobody has taken it yet."""
    ACKNOWLEDGED = "ACKNOWLEDGED"
    """Taken: assigned to someone who is working it."""
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    """A resolution that changes the books was proposed; a second person must approve it."""
    RESOLVED = "RESOLVED"


class ResolutionKind(StrEnum):
    """How an exception was resolved."""

    EXPLAINED = "EXPLAINED"
    """Explained, no action: the books are right as they stand."""
    BOOKED_MISSING_FILL = "BOOKED_MISSING_FILL"
    """A fill Keel never received was booked by hand (needs a second person's approval)."""
    BUSTED_FILL = "BUSTED_FILL"
    """A booked fill that did not happen was busted (needs a second person's approval)."""
    CORRECTED_MAPPING = "CORRECTED_MAPPING"
    """The cause was a mapping (symbols, accounts, enumerations) that has been corrected."""

    @property
    def changes_books(self) -> bool:
        """Return whether this resolution books or busts a fill: four eyes required."""
        return self in (ResolutionKind.BOOKED_MISSING_FILL, ResolutionKind.BUSTED_FILL)


class WorkflowAction(StrEnum):
    """A step an operator takes on an exception."""

    ACKNOWLEDGE = "ACKNOWLEDGE"
    RESOLVE = "RESOLVE"
    APPROVE = "APPROVE"
    DECLINE = "DECLINE"
    """Decline a proposed resolution: the exception goes back to its assignee."""


class RejectSource(StrEnum):
    """Who said no to a new order."""

    VALIDATION = "VALIDATION"
    RISK = "RISK"
    VENUE = "VENUE"


class RequestKind(StrEnum):
    CANCEL = "CANCEL"
    REPLACE = "REPLACE"


class TimerKind(StrEnum):
    ACK_TIMEOUT = "ACK_TIMEOUT"
    CANCEL_TIMEOUT = "CANCEL_TIMEOUT"
    REPLACE_TIMEOUT = "REPLACE_TIMEOUT"
    EXPIRY = "EXPIRY"
    SILENCE = "SILENCE"
    """The stuck-order monitor's check of a working order that has been quiet too long."""


class Outcome(StrEnum):
    """What a transition did with its input."""

    APPLIED = "APPLIED"
    """The order changed (events were emitted)."""
    DUPLICATE = "DUPLICATE"
    """The input was seen before (same ExecID, same ClOrdID, same order id); nothing changed."""
    IGNORED = "IGNORED"
    """The input agrees with what is known or is stale (an old timer); nothing changed."""
    REFUSED = "REFUSED"
    """A client request the order's state does not allow; recorded and answered."""
    RECORDED = "RECORDED"
    """Evidence (a drop copy, a statement): kept for reconciliation, not applied to an order."""
    CONFLICT = "CONFLICT"
    """The input contradicts the known state; an exception record was raised, no silent edit."""
