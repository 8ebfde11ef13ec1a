"""What the projector reads while a batch commits: the store, overlaid with that batch.

The sequencer prepares batch N+1 while batch N is being committed on another thread, so
the rows batch N wrote (fills, exceptions) are newer than the store until its commit ends:
they are read first.
"""

from __future__ import annotations

from keel.app.ports import EventStore
from keel.app.records import ExceptionRow, FillRow, ProjectionRows


class StoreOverlay:
    """The store's projections as the batch in flight leaves them."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self.inflight: ProjectionRows | None = None
        """The rows of the batch being committed: newer than the store, read before it."""

    def fills_of(self, account: str, instrument: str) -> list[FillRow]:
        """The active fills of one account and instrument."""
        stored = {f.fill_id: f for f in self._store.active_fills(account, instrument)}
        if self.inflight is not None:
            stored.update(
                (f.fill_id, f)
                for f in self.inflight.fills.values()
                if (f.account, f.instrument) == (account, instrument)
            )
        return list(stored.values())

    def exception_by_id(self, exception_id: str) -> ExceptionRow | None:
        """One exception, as it now stands."""
        if self.inflight is not None:
            found = self.inflight.exceptions.get(exception_id)
            if found is not None:
                return found
        return self._store.find_exception(exception_id)

    def exceptions_of(self, order_id: str) -> list[ExceptionRow]:
        """One order's exceptions, as they now stand."""
        stored = {x.exception_id: x for x in self._store.exceptions_for_order(order_id)}
        if self.inflight is not None:
            stored.update(
                (x.exception_id, x)
                for x in self.inflight.exceptions.values()
                if x.order_id == order_id
            )
        return list(stored.values())
