"""Secrets (passwords, keys): carried as values that never print themselves."""

from __future__ import annotations


class Secret:
    """A password or key: usable through ``reveal``, but never shown by ``repr``, ``str``
    or a log line that formats it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)
