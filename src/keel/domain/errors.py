"""Keel's exception tree.

Python exceptions are for programming and boundary errors; business outcomes (a risk denial,
a late fill) are events and exception *records*, never raised.

    KeelError
    ├── ValidationError          bad input at a boundary; carries the field and the reason
    │   └── InvalidNumberError   a price or quantity that is not an exact finite decimal
    └── DomainError              an impossible request to the model (a programming error)

Adapters translate driver and protocol errors into subclasses defined in their own layers
(``raise StoreError(...) from e``), all rooted here.
"""

from __future__ import annotations


class KeelError(Exception):
    """Root of every error Keel raises on purpose."""


class ValidationError(KeelError):
    """Input that does not fit the model; names the field and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidNumberError(ValidationError):
    """A price or quantity that is not an exact, finite decimal."""


class DomainError(KeelError):
    """A request the model cannot honour, such as folding an event onto the wrong order."""
