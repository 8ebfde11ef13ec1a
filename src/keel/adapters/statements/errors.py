"""Errors of the broker statement adapter, rooted at ``KeelError``.

KeelError (keel.domain.errors)
└── StatementError              a broker statement or its column mapping is wrong
    ├── StatementMappingError   a mapping (from the configuration) is wrong; names the key
    ├── StatementFileError      the file cannot be read as a statement at all: it cannot
    │                           be opened, has no header, lacks a mapped column, or is
    │                           not in its encoding; names the file (and line, column)
    ├── StatementLineError      one bad value on one line: file, line, column and why.
    │                           Collected, not raised, so every bad line is reported
    │                           and the good lines are kept apart
    └── StatementRejectedError  raised on request when a file had bad lines; carries
                                every ``StatementLineError``
"""

from __future__ import annotations

from collections.abc import Sequence

from keel.domain.errors import KeelError


class StatementError(KeelError):
    """Root of the statement adapter's errors."""


class StatementMappingError(StatementError):
    """A column mapping that cannot be used; ``key`` is the dotted path of the bad key."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


class StatementFileError(StatementError):
    """A file that cannot be read as a statement; nothing from it should be used."""

    def __init__(
        self, path: str, reason: str, line: int | None = None, column: str | None = None
    ) -> None:
        where = path if line is None else f"{path}:{line}"
        if column is not None:
            where += f": column {column!r}"
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason


class StatementLineError(StatementError):
    """One bad line (one bad value, or a line that does not split into the header's columns).

    ``row`` keeps the line's fields as read, as evidence; ``column`` is the header's name of
    the bad column, or ``None`` when the line as a whole is wrong.
    """

    def __init__(
        self,
        path: str,
        line: int,
        column: str | None,
        reason: str,
        row: Sequence[str] = (),
    ) -> None:
        where = f"{path}:{line}" + (f": column {column!r}" if column is not None else "")
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        self.row = tuple(row)


class StatementRejectedError(StatementError):
    """A statement with bad lines, when the caller asked for all or nothing."""

    SHOWN = 5
    """How many bad lines the message quotes; ``errors`` holds them all."""

    def __init__(self, path: str, errors: Sequence[StatementLineError]) -> None:
        lines = len({error.line for error in errors})
        shown = "; ".join(
            f"line {e.line}" + (f" column {e.column!r}" if e.column else "") + f": {e.reason}"
            for e in errors[: self.SHOWN]
        )
        more = f"; and {len(errors) - self.SHOWN} more" if len(errors) > self.SHOWN else ""
        super().__init__(f"{path}: {lines} bad line{'s' if lines != 1 else ''}: {shown}{more}")
        self.path = path
        self.errors = tuple(errors)
