"""Run the installed ``keel`` console script as a user would: a real subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

KEEL = shutil.which("keel", path=str(Path(sys.executable).parent))


def keel(*args: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    """Run ``keel ARGS`` with a plain terminal; return what it printed and its status."""
    assert KEEL, "the keel console script is not installed in this environment (make install)"
    return subprocess.run(
        [KEEL, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": str(columns), "PATH": "/usr/bin:/bin", "TERM": "dumb"},
    )


@contextmanager
def running(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """Start a long-running command (``keel serve``, ``keel venue-sim``); kill it if it is
    still running when the block ends, and close its pipes."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
