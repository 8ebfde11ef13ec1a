"""Users, roles and API keys.

A user has one role and a set of accounts; they see and touch only those accounts. An API
key is 32 random bytes, shown once when it is made and stored only as its SHA-256 digest
(a key has enough entropy that a slow hash adds nothing). Every command a user sends
carries their name into its events as the actor.

=============  ===============================================================
role           may
=============  ===============================================================
viewer         read orders, fills, positions and exceptions of their accounts
trader         viewer, and place, cancel and replace orders
risk           viewer, and the kill switch
operations     viewer, work exceptions, and approve a resolution that books or
               busts a fill (four eyes: never one they proposed themselves)
admin          everything, on every account, and read the audit; but approving a
               resolution that changes the books is for the operations role only
=============  ===============================================================
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from keel.app.errors import AppError
from keel.app.ports import EventStore
from keel.app.records import ApiKeyRow, UserRow

KEY_PREFIX = "keel_"


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    RISK = "risk"
    OPERATIONS = "operations"
    ADMIN = "admin"


class Permission(StrEnum):
    READ = "read"
    TRADE = "trade"
    HALT = "halt"
    WORK_EXCEPTIONS = "work_exceptions"
    APPROVE_RESOLUTIONS = "approve_resolutions"
    AUDIT = "audit"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.TRADER: frozenset({Permission.READ, Permission.TRADE}),
    Role.RISK: frozenset({Permission.READ, Permission.HALT}),
    Role.OPERATIONS: frozenset(
        {Permission.READ, Permission.WORK_EXCEPTIONS, Permission.APPROVE_RESOLUTIONS}
    ),
    Role.ADMIN: frozenset(Permission) - {Permission.APPROVE_RESOLUTIONS},
}


class UserError(AppError):
    """A user could not be added or found as asked."""


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated user: who, in which role, over which accounts."""

    name: str
    role: Role
    accounts: frozenset[str]

    def may(self, permission: Permission) -> bool:
        return permission in GRANTS[self.role]

    def sees(self, account: str) -> bool:
        return self.role is Role.ADMIN or account in self.accounts

    @property
    def actor(self) -> str:
        """The name their commands carry into events."""
        return f"user:{self.name}"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Users:
    """Adds, lists, revokes and authenticates users, in the event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def add(self, name: str, role: str, accounts: list[str], now: datetime) -> tuple[User, str]:
        """Add a user (or a new key for one) and return them with their new key, shown
        only this once."""
        if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise UserError(f"user name {name!r}: use letters, digits, '-', '_' or '.'")
        try:
            parsed = Role(role)
        except ValueError:
            raise UserError(
                f"role {role!r}: must be one of {', '.join(r.value for r in Role)}"
            ) from None
        cleaned = tuple(sorted({a.strip() for a in accounts if a.strip()}))
        if not cleaned and parsed is not Role.ADMIN:
            raise UserError("a user needs at least one account (--accounts FUND-A,FUND-B)")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self._store.save_user(
            UserRow(name, parsed.value, cleaned, now),
            ApiKeyRow(digest(key), name, key[:12], now),
        )
        return User(name, parsed, frozenset(cleaned)), key

    def list(self) -> list[UserRow]:
        return self._store.users()

    def revoke(self, name: str, now: datetime) -> None:
        if not self._store.revoke_user(name, now):
            raise UserError(f"no user {name!r}")

    def authenticate(self, key: str) -> User | None:
        """Return the user a key belongs to, unless it or they are revoked."""
        if not key.startswith(KEY_PREFIX):
            return None
        found = self._store.user_by_key(digest(key))
        if found is None:
            return None
        user, api_key = found
        if user.revoked_at is not None or api_key.revoked_at is not None:
            return None
        return User(user.name, Role(user.role), frozenset(user.accounts))
