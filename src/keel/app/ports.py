"""Ports: what the application needs from the outside world, as ``typing.Protocol``s.

Adapters implement them; ``keel.bootstrap`` chooses which. Every store implementation
(memory, SQLite, PostgreSQL) passes the one contract suite in ``tests/integration/store``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from keel.app.records import (
    ApiKeyRow,
    AuditRow,
    CommitBatch,
    EventRecord,
    ExceptionRow,
    FillRow,
    FixMessageRow,
    FixSessionRow,
    HaltRow,
    IdempotencyRecord,
    InputRecord,
    LinkRow,
    LogHead,
    PositionRow,
    ProjectionRows,
    ReconRunRow,
    UserRow,
)

EventRow = tuple[int, int, str, str, int, bytes]
"""An event as replay needs it: ``(event_seq, input_seq, order_id, type, schema_version,
payload)``. ``read_event_rows`` returns these, the driver's own tuples where it can."""


class Clock(Protocol):
    """Tells the time in UTC. Domain code never reads a clock; the app passes time in."""

    def now(self) -> datetime: ...


PROJECTION_TABLES = ("orders", "order_links", "fills", "positions", "exceptions")
"""The current-state tables rebuilt from the log by replay, in that order."""


class EventStore(Protocol):
    """The event log and the current-state tables beside it.

    Every method either does all it was asked or raises ``StoreError`` having changed
    nothing. Only the sequencer writes; anything may read.
    """

    # -- schema -------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply the migrations not yet applied; return the schema version now in force."""
        ...

    def schema_version(self) -> int:
        """Return the schema version of the database (0 when nothing is applied)."""
        ...

    # -- the writer ---------------------------------------------------------------------
    def head(self) -> LogHead:
        """Return the last input and event sequence numbers and the last event's hash."""
        ...

    def commit(self, batch: CommitBatch) -> None:
        """Write a whole batch in one transaction: inputs, events, idempotency keys and the
        projection rows (orders, links and exceptions upserted, fills upserted, positions
        upserted). Durable when it returns."""
        ...

    # -- what the sequencer loads -------------------------------------------------------
    def open_order_ids(self) -> list[str]:
        """Return the ids of every order that is not closed (status not terminal), sorted.

        The sequencer rebuilds each from its own events (``events_for_order``), so start-up
        reads the working orders' events only, however long the history.
        """
        ...

    def find_key(self, key: str) -> IdempotencyRecord | None:
        """Return what was processed under an idempotency key, if anything."""
        ...

    def keys_of_open_orders(self) -> list[IdempotencyRecord]:
        """Return the idempotency keys that belong to orders that are not closed."""
        ...

    def load_positions(self) -> list[PositionRow]: ...

    def active_fills(self, account: str, instrument: str) -> list[FillRow]:
        """Return the ACTIVE fills of one account and instrument in booking order."""
        ...

    def fills_traded_on(self, day: date) -> list[FillRow]:
        """Return every fill (whatever its state) of trade date ``day``, by fill id; a fill
        without a trade date counts on the UTC date of its event time. What one day's
        reconciliation reads, instead of every fill ever booked."""
        ...

    # -- reading the log ----------------------------------------------------------------
    def read_events(self, after_seq: int = 0, limit: int = 10_000) -> list[EventRecord]:
        """Return events with ``event_seq > after_seq`` in sequence order, at most ``limit``."""
        ...

    def read_event_rows(self, after_seq: int = 0, limit: int = 10_000) -> list[EventRow]:
        """Return what ``read_events`` would, as ``EventRow`` tuples: only the columns that
        replay needs, with nothing converted (no ``EventRecord``, no time parsed)."""
        ...

    def read_inputs(self, after_seq: int = 0, limit: int = 10_000) -> list[InputRecord]:
        """Return inputs with ``input_seq > after_seq`` in sequence order."""
        ...

    def inputs_by_seq(self, seqs: Sequence[int]) -> list[InputRecord]: ...

    def inputs_from(self, kind: str, source: str) -> list[InputRecord]:
        """Return every input of ``kind`` from ``source``, in sequence order (the evidence a
        reconciliation compares, e.g. a broker's drop copies)."""
        ...

    def events_for_order(self, order_id: str) -> list[EventRecord]:
        """Return one order's events in order."""
        ...

    def count_inputs_by_outcome(self) -> dict[str, int]:
        """Return how many inputs ended with each outcome (``DUPLICATE``: the duplicates)."""
        ...

    # -- reading the projections --------------------------------------------------------
    def resolve_order_ref(self, ref: str) -> str | None:
        """Return the order id that ``ref`` names: an order id, a ClOrdID, a venue order id
        (``VENUE:ID``, see ``venue_order_ref``) or a client order id (``ACCOUNT:ID``), or
        the bare id of either when only one order has it (client order ids first)."""
        ...

    def fills_for_order(self, order_id: str) -> list[FillRow]: ...

    def links_for_order(self, order_id: str) -> list[LinkRow]: ...

    def exceptions_for_order(self, order_id: str) -> list[ExceptionRow]: ...

    def find_exception(self, exception_id: str) -> ExceptionRow | None:
        """Return one exception by its id, or None."""
        ...

    def select_rows(
        self,
        table: str,
        where: Mapping[str, str | Collection[str]],
        *,
        after: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Return up to ``limit`` rows of a projection table keyed by one column, in key
        order after ``after``, whose text columns match ``where`` (a value: equal to it; a
        collection: one of them). The list endpoints' query: the store does the filtering."""
        ...

    def read_table(self, table: str) -> Iterator[dict[str, Any]]:
        """Yield every row of a projection table as column -> value, by primary key."""
        ...

    def replace_projections(self, rows: ProjectionRows, version: int) -> None:
        """Replace every projection table's content with ``rows`` and record that they are
        now of projection ``version``, in one transaction."""
        ...

    def projection_version(self) -> int:
        """Return the projection version the tables were last built with (1 when new)."""
        ...

    # -- FIX sessions -------------------------------------------------------------------
    def fix_session(self, session_id: str) -> FixSessionRow | None:
        """Return where a FIX session's numbers stand, if it was ever saved."""
        ...

    def save_fix_session(self, row: FixSessionRow) -> None:
        """Create or overwrite a FIX session's row (at creation and at each reset)."""
        ...

    def store_fix_messages(self, rows: Sequence[FixMessageRow]) -> None:
        """Keep sent messages and move each session's ``next_sender`` past the highest of
        its epoch, in one transaction: durable when this returns."""
        ...

    def fix_messages(
        self, session_id: str, epoch: int, begin: int, end: int
    ) -> list[FixMessageRow]:
        """Return a session's sent messages of one epoch with ``begin <= seq <= end``."""
        ...

    # -- the kill switch ------------------------------------------------------------------
    def save_recon_run(self, run: ReconRunRow) -> None:
        """Keep a reconciliation run's report."""
        ...

    def recon_run(self, run_id: str) -> ReconRunRow | None:
        """Return one run's report, or None."""
        ...

    def recon_runs(self, limit: int = 100) -> list[ReconRunRow]:
        """Return the latest runs, newest first."""
        ...

    def save_halt(self, halt: HaltRow) -> None:
        """Halt new orders for ``halt.scope`` (an account, or ``*`` for all)."""
        ...

    def lift_halt(self, scope: str) -> bool:
        """Lift a halt; False when there was none."""
        ...

    def halts(self) -> list[HaltRow]:
        """Return the halts in force, by scope."""
        ...

    # -- audit --------------------------------------------------------------------------
    def record_audit(self, row: AuditRow) -> None:
        """Keep one audited request (its ``audit_id`` is given by the store)."""
        ...

    def audit(self, after_id: int = 0, limit: int = 100) -> list[AuditRow]:
        """Return audited requests with ``audit_id > after_id``, oldest first."""
        ...

    # -- users and API keys -------------------------------------------------------------
    def save_user(self, user: UserRow, key: ApiKeyRow | None = None) -> None:
        """Create or overwrite a user, and add ``key`` to them, in one transaction."""
        ...

    def users(self) -> list[UserRow]:
        """Return every user, by name."""
        ...

    def user_by_key(self, key_hash: str) -> tuple[UserRow, ApiKeyRow] | None:
        """Return the user an API key digest belongs to, with the key's row."""
        ...

    def revoke_user(self, name: str, at: datetime) -> bool:
        """Revoke a user and all their keys; False when there is no such user."""
        ...

    def close(self) -> None: ...
