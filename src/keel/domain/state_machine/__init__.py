"""The order state machine: ``apply(order, input, now) -> Transition``, driven by a table."""

from keel.domain.state_machine.machine import apply
from keel.domain.state_machine.policy import DEFAULT_POLICY, PendingRequestPolicy, Policy
from keel.domain.state_machine.table import TABLE, Rule
from keel.domain.state_machine.transition import Transition

__all__ = [
    "DEFAULT_POLICY",
    "TABLE",
    "PendingRequestPolicy",
    "Policy",
    "Rule",
    "Transition",
    "apply",
]
