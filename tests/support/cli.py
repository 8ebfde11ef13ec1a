"""Run the installed ``keel`` console script as a user would: a real subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys
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
