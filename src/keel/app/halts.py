"""The kill switch: halt new orders for an account, or for everything.

Halts are kept in the event store, so a restart never lifts one silently; intake consults
them for every new order, and an order sent while its account is halted is recorded as
REJECTED with the code ``HALTED`` and the halt's reason, visible like any other.
"""

from __future__ import annotations

from datetime import datetime

from keel.app.ports import EventStore
from keel.app.records import HaltRow

EVERYTHING = "*"
HALTED = "HALTED"


class Halts:
    """The halts in force, read once from the store and kept in step with it."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._halts = {h.scope: h for h in store.halts()}

    def halt(self, scope: str, reason: str, actor: str, now: datetime) -> HaltRow:
        row = HaltRow(scope, reason, actor, now)
        self._store.save_halt(row)
        self._halts[scope] = row
        return row

    def lift(self, scope: str) -> bool:
        lifted = self._store.lift_halt(scope)
        self._halts.pop(scope, None)
        return lifted

    def of(self, account: str) -> HaltRow | None:
        """The halt that stops new orders for ``account``, if any."""
        return self._halts.get(account) or self._halts.get(EVERYTHING)

    def reason(self, account: str) -> str | None:
        halt = self.of(account)
        return None if halt is None else f"{halt.reason} (halted by {halt.actor})"

    def all(self) -> list[HaltRow]:
        return [self._halts[scope] for scope in sorted(self._halts)]
