"""What the desks share: their errors (which the API turns into statuses), paging and the
role check, and how a row becomes JSON."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from keel.app.errors import AppError
from keel.app.users import Permission, User
from keel.domain.instruments import Violation


class DeskError(AppError):
    """A request the desk will not carry out; the API turns each kind into its status."""


class RequestRefusedError(DeskError):
    """The request cannot become an order (or a change to one); nothing was created."""

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        super().__init__("; ".join(f"{v.field}: {v.message}" for v in violations))
        self.violations = violations


class NotFoundError(DeskError):
    """No such order, or none the user may see (the two are not told apart)."""


class ForbiddenError(DeskError):
    """The user's role does not allow this."""


class ConflictError(DeskError):
    """The current state refuses the request (a cancel of a filled order, a second
    resolution of an exception); the refused input is kept in the log with the reason."""


def page_of(
    rows: Iterator[dict[str, Any]], key: str, after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to ``limit`` rows after the cursor ``after`` (rows come in ``key`` order), and the
    cursor of the next page, or None at the end."""
    page: list[dict[str, Any]] = []
    for row in rows:
        if after is not None and row[key] <= after:
            continue
        page.append(jsonable(row))
        if len(page) > limit:
            break
    more = len(page) > limit
    return page[:limit], (page[limit - 1][key] if more else None)


def require(user: User, permission: Permission) -> None:
    if not user.may(permission):
        raise ForbiddenError(f"{user.name} ({user.role}) may not {permission.value}")


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            out[key] = format(value, "f")
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        elif isinstance(value, str):
            out[key] = str.__str__(value)
        else:
            out[key] = value
    return out
