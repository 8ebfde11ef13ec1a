"""What the sequencer hands a store to commit, and what a store hands back.

Rows are plain values whose field names are the tables' column names, so every store maps
them to SQL the same way. The sequencer builds several per input, so they are slotted
dataclasses without ``frozen`` (a frozen one pays ``object.__setattr__`` per field, three
times the cost); treat them as values all the same: nothing mutates a row once made.

Prices, quantities and money are ``Decimal``; times are aware UTC ``datetime``s; encoded
domain values (inputs and events) are UTF-8 JSON bytes made by ``keel.app.codec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class InputRecord:
    """One input as received and processed: kept forever, linked to what it caused."""

    input_seq: int
    """Global, gap-free, assigned by the sequencer in processing order."""
    source: str
    """Where it came from: ``client:rest``, ``client:fix:CLIENT1``, ``venue:SIM``, ``timer``."""
    kind: str
    """The domain input kind (``FILL``, ``CANCEL_REQUEST``...)."""
    order_id: str | None
    idempotency_key: str | None
    ingest_time: datetime
    processed_time: datetime
    payload: bytes
    """The canonical domain input, encoded."""
    raw: bytes | None
    """The bytes as received (a FIX message, a file row), when there were any."""
    outcome: str
    note: str
    actor: str


@dataclass(slots=True)
class EventRecord:
    """One domain event as stored: immutable, hash-chained to the one before."""

    event_seq: int
    """Global sequence over all partitions."""
    partition: int
    partition_seq: int
    order_id: str
    order_version: int
    type: str
    schema_version: int
    payload: bytes
    input_seq: int
    actor: str
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes


@dataclass(slots=True)
class IdempotencyRecord:
    """What has been processed under a key, and the answer a retry gets."""

    key: str
    input_seq: int
    order_id: str | None
    answer: bytes


@dataclass(slots=True)
class OrderRow:
    order_id: str
    account: str
    instrument: str
    side: str
    ord_type: str
    qty: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    tif: str
    expire_time: datetime | None
    venue: str | None
    client_order_id: str | None
    parent_id: str | None
    status: str
    cl_ord_id: str
    venue_order_id: str | None
    cum_qty: Decimal
    leaves_qty: Decimal
    avg_px: Decimal
    cum_notional: Decimal
    open_exceptions: int
    created_at: datetime
    updated_at: datetime
    version: int


@dataclass(slots=True)
class LinkRow:
    """One id that leads to an order: a ClOrdID, a venue order id, a client order id, a child.

    ``kind`` is ``CL_ORD_ID``, ``VENUE_ORDER_ID`` (``ref`` is ``venue:venue order id``),
    ``CLIENT_ORDER_ID`` (``ref`` is ``account:client order id``) or ``CHILD`` (``ref`` is
    the child's order id, ``order_id`` the parent's). ``detail`` says more (``NEW``,
    ``REPLACE of X``, ``CANCEL of X``).
    """

    kind: str
    ref: str
    order_id: str
    detail: str
    created_seq: int


@dataclass(slots=True)
class FillRow:
    fill_id: str
    order_id: str
    exec_id: str
    account: str
    instrument: str
    side: str
    qty: Decimal
    price: Decimal
    cl_ord_id: str | None
    event_time: datetime
    ingest_time: datetime
    trade_date: date | None
    state: str
    corrects: str | None
    late: bool
    booked_seq: int
    """The event sequence that booked it: the order fills are applied to positions in."""


@dataclass(slots=True)
class PositionRow:
    account: str
    instrument: str
    net_qty: Decimal
    open_cost: Decimal
    """The exact cost of the open position: what a restart reloads (``avg_cost`` is rounded)."""
    avg_cost: Decimal
    realized_pnl: Decimal
    updated_seq: int


@dataclass(slots=True)
class ExceptionRow:
    exception_id: str
    kind: str
    order_id: str | None
    summary: str
    evidence: str
    """JSON: the labelled values the state machine recorded."""
    status: str
    raised_at: datetime
    input_seq: int
    exec_id: str | None
    cl_ord_id: str | None
    resolved_by: str | None = None
    resolution: str | None = None
    """The resolution's comment (or, for one the order cleared itself, what cleared it)."""
    resolved_at: datetime | None = None
    assignee: str | None = None
    resolution_kind: str | None = None
    approved_by: str | None = None
    """The second person who approved a resolution that changed the books."""
    proposal: str | None = None
    """JSON: a resolution awaiting approval (kind, comment, who proposed it, the fill)."""
    break_key: str | None = None
    """For a reconciliation break: what identifies the difference from run to run."""


@dataclass(slots=True)
class ProjectionRows:
    """The current-state rows one batch changes, written in the batch's transaction."""

    orders: dict[str, OrderRow] = field(default_factory=dict)
    links: list[LinkRow] = field(default_factory=list)
    fills: dict[str, FillRow] = field(default_factory=dict)
    positions: dict[tuple[str, str], PositionRow] = field(default_factory=dict)
    exceptions: dict[str, ExceptionRow] = field(default_factory=dict)


FixTarget = tuple[int, int]
"""A FIX session's ``(epoch, next_target)``: the number the peer's next message must carry."""


@dataclass(frozen=True, slots=True)
class CommitBatch:
    """Everything one group commit writes, in one transaction."""

    inputs: list[InputRecord]
    events: list[EventRecord]
    keys: list[IdempotencyRecord]
    projections: ProjectionRows
    fix_targets: dict[str, FixTarget] = field(default_factory=dict)
    """FIX sessions whose messages became this batch's inputs, with the number each session
    expects next: committed with those inputs, so a restart never skips one."""


@dataclass(frozen=True, slots=True)
class FixSessionRow:
    """Where a FIX session's numbers stand (table ``fix_sessions``)."""

    session_id: str
    epoch: int
    """Resets so far: messages are kept per epoch, since numbers start again at 1."""
    next_sender: int
    next_target: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FixMessageRow:
    """One message a FIX session sent (table ``fix_messages``)."""

    session_id: str
    epoch: int
    seq: int
    msg_type: str
    raw: bytes
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class LogHead:
    """Where the log stands: the sequencer continues from here after a restart."""

    last_input_seq: int
    last_event_seq: int
    last_partition_seq: int
    last_hash: bytes


GENESIS_HASH = b"\x00" * 32
"""The ``prev_hash`` of the first event."""

EMPTY_HEAD = LogHead(0, 0, 0, GENESIS_HASH)


def row_values(row: Any) -> dict[str, Any]:
    """Return a row's columns and values, in declaration order."""
    return {f.name: getattr(row, f.name) for f in fields(row)}


def column_names(row_type: type[Any]) -> tuple[str, ...]:
    """Return a row type's column names, in declaration order."""
    return tuple(f.name for f in fields(row_type))


@dataclass(frozen=True, slots=True)
class UserRow:
    """Someone who uses the API (table ``users``); ``accounts`` are the ones they may touch."""

    name: str
    role: str
    accounts: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    """An API key, known only by its digest (table ``api_keys``)."""

    key_hash: str
    user_name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One request that changed something (table ``audit``): who, when, from where, the
    exact payload, and the events it caused."""

    at: datetime
    actor: str
    source: str
    method: str
    path: str
    payload: bytes | None
    status_code: int
    event_seqs: tuple[int, ...]
    audit_id: int = 0
    """Given by the store when the row is written."""


@dataclass(frozen=True, slots=True)
class ReconRunRow:
    """One reconciliation run (table ``recon_runs``): what was compared, the summary, and
    every break found, as JSON documents (a run is read whole)."""

    run_id: str
    broker: str
    trade_date: str | None
    started_at: datetime
    finished_at: datetime
    actor: str
    result: str
    """``CLEAN`` (nothing unexplained) or ``BREAKS``."""
    summary: str
    """JSON: counts by level and kind, matched, fallback matches, the inputs compared."""
    breaks: str
    """JSON: a list of breaks with both sides, the explanation, the evidence, the
    exception each became."""


@dataclass(frozen=True, slots=True)
class HaltRow:
    """New orders halted for an account, or for every account (``scope`` ``*``)."""

    scope: str
    reason: str
    actor: str
    at: datetime
