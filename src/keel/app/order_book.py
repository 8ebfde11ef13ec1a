"""The in-memory order book: every order, changed only through the state machine.

This is the core the sequencer wraps: it looks up the order an input is for, applies the
state machine with the clock's time, keeps the result, and counts outcomes. Durability
(group commit of inputs, events and projections before effects leave) is added around the
same calls by the sequencer.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from keel.app.ports import Clock
from keel.domain.enums import Outcome
from keel.domain.events import Event
from keel.domain.ids import OrderId
from keel.domain.inputs import Input
from keel.domain.order import Order
from keel.domain.order_exceptions import OrderException
from keel.domain.state_machine import DEFAULT_POLICY, Policy, Transition, apply


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One input as processed: the input itself and what it did."""

    sequence: int
    input: Input
    transition: Transition


class OrderBook:
    """Holds orders by id and applies inputs to them in arrival order."""

    def __init__(self, clock: Clock, policy: Policy = DEFAULT_POLICY) -> None:
        self._clock = clock
        self._policy = policy
        self.orders: dict[OrderId, Order] = {}
        self.events: list[Event] = []
        self.exceptions: list[OrderException] = []
        self.journal: list[JournalEntry] = []
        self.outcomes: Counter[Outcome] = Counter()

    def submit(self, inp: Input) -> Transition:
        """Apply ``inp`` to its order and record the outcome."""
        transition = apply(self.orders.get(inp.order_id), inp, self._clock.now(), self._policy)
        if transition.order is not None:
            self.orders[transition.order.order_id] = transition.order
        self.events.extend(transition.events)
        self.exceptions.extend(transition.exceptions)
        self.journal.append(JournalEntry(len(self.journal) + 1, inp, transition))
        self.outcomes[transition.outcome] += 1
        return transition

    def history(self, order_id: OrderId) -> list[JournalEntry]:
        """Return the journal entries that concerned one order, in processing order."""
        return [entry for entry in self.journal if entry.input.order_id == order_id]
