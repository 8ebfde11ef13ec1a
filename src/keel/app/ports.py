"""Ports: what the application needs from the outside world, as ``typing.Protocol``s.

Adapters implement them; ``keel.bootstrap`` (and, until it exists, the CLI) chooses which.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the time in UTC. Domain code never reads a clock; the app passes time in."""

    def now(self) -> datetime: ...
