"""Drive a QuickFIX peer (``support/quickfix_peer.py``) in a subprocess from a test.

The peer runs in its own process so that a wedged or crashing QuickFIX cannot hang or kill
the test run; every wait has a timeout and ``stop`` kills what does not exit.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PEER_SCRIPT = Path(__file__).with_name("quickfix_peer.py")
Event = dict[str, Any]


def quickfix_available() -> bool:
    return importlib.util.find_spec("quickfix") is not None


needs_quickfix = pytest.mark.skipif(
    not quickfix_available(),
    reason="QuickFIX is not installed: `make test` installs it (pip install quickfix-tls)",
)


class QuickFixPeer:
    """A QuickFIX initiator or acceptor in a child process."""

    def __init__(
        self,
        *,
        role: str,
        port: int,
        sender: str,
        target: str,
        store: Path,
        begin_string: str = "FIX.4.4",
        heartbeat: int = 30,
        reset: bool = False,
        extra: tuple[str, ...] = (),
    ) -> None:
        args = [
            sys.executable, str(PEER_SCRIPT), "--role", role, "--port", str(port),
            "--sender", sender, "--target", target, "--store", str(store),
            "--begin-string", begin_string, "--heartbeat", str(heartbeat),
        ]  # fmt: skip
        if reset:
            args.append("--reset")
        args.extend(extra)
        self._proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1,
        )  # fmt: skip
        self.events: list[Event] = []
        self._queue: queue.Queue[Event] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for(lambda e: e["event"] == "ready", timeout=20)

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"event": "noise", "text": line.rstrip()}
            self._queue.put(event)

    def _pump(self) -> None:
        while True:
            try:
                self.events.append(self._queue.get_nowait())
            except queue.Empty:
                return

    def wait_for(self, match: Callable[[Event], bool], timeout: float = 10.0) -> Event:
        """Return the first event (seen so far or to come) that ``match`` accepts."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            self._pump()
            for event in self.events[seen:]:
                if match(event):
                    return event
            seen = len(self.events)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"QuickFIX peer: no matching event in {timeout} s; saw {self.events[-20:]}"
                    f"; stderr: {self._stderr()}"
                )
            with contextlib.suppress(queue.Empty):
                self.events.append(self._queue.get(timeout=min(left, 0.05)))

    def count(self, match: Callable[[Event], bool]) -> int:
        self._pump()
        return sum(1 for e in self.events if match(e))

    def app_messages(self, msg_type: str | None = None) -> list[Event]:
        self._pump()
        return [
            e for e in self.events
            if e["event"] == "app" and (msg_type is None or e["msg_type"] == msg_type)
        ]  # fmt: skip

    def send(self, msg_type: str, fields: list[tuple[int, Any]]) -> None:
        self._command({"send": msg_type, "fields": [[tag, str(v)] for tag, v in fields]})

    def burst(self, count: int, **options: object) -> None:
        """Have the peer send ``count`` orders as fast as it can (see quickfix_peer.burst)."""
        self._command({"burst": count, **options})

    def logout(self, text: str = "") -> None:
        self._command({"logout": text})

    def _command(self, command: dict[str, Any]) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(command) + "\n")
        self._proc.stdin.flush()

    @property
    def pid(self) -> int:
        """The peer's process id (for a benchmark that reads its CPU time)."""
        return self._proc.pid

    def stop(self) -> None:
        if self._proc.poll() is None:
            try:
                self._command({"stop": True})
                self._proc.wait(timeout=15)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._close_pipes()

    def kill(self) -> None:
        """Kill the peer at once (a crash, for reconnect tests)."""
        self._proc.kill()
        self._proc.wait(timeout=5)
        self._close_pipes()

    def _close_pipes(self) -> None:
        self._reader.join(timeout=5)
        for pipe in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            if pipe is not None:
                pipe.close()

    def _stderr(self) -> str:
        if self._proc.poll() is None or self._proc.stderr is None:
            return ""
        return self._proc.stderr.read()[-2000:]


def fields_of(raw_text: str) -> dict[int, str]:
    """The fields of a peer-reported message (``|`` for SOH), the first of each tag."""
    out: dict[int, str] = {}
    for part in raw_text.strip("|").split("|"):
        tag, _, value = part.partition("=")
        out.setdefault(int(tag), value)
    return out
