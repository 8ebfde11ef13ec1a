"""Errors of the application layer and its ports, rooted at ``KeelError``.

    KeelError (keel.domain.errors)
    └── AppError
        ├── StoreError        a store could not do what was asked; nothing was half-written
        │   └── SchemaError   the database's schema is newer than this code, or damaged
        ├── CodecError        stored bytes that do not decode
        └── SequencerStoppedError  an input offered to a sequencer that has stopped

Adapters translate their drivers' errors into these (``raise StoreError(...) from e``).
"""

from __future__ import annotations

from keel.domain.errors import KeelError


class AppError(KeelError):
    """Root of the application layer's errors."""


class StoreError(AppError):
    """A store operation failed; the transaction was rolled back."""


class SchemaError(StoreError):
    """The database's schema is not one this code can use."""


class CodecError(AppError):
    """Stored bytes that do not decode into the value they claim to be."""


class SequencerStoppedError(AppError):
    """The sequencer is not running, so it cannot take the input."""
