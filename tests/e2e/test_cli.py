"""The `keel` command as a user runs it: a real subprocess of the installed console script."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.cli import keel

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_demo_plays_the_scripted_lifecycles_and_shows_the_exceptions() -> None:
    result = keel("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Blotter" in out
    assert "DUPLICATE" in out
    assert "LATE_FILL" in out
    assert "MISSING_EXECUTION" in out
    assert "MAX_NOTIONAL" in out
    assert "Traceback" not in out + result.stderr


@pytest.mark.e2e
def test_docs_lifecycle_prints_the_committed_document() -> None:
    result = keel("docs", "lifecycle")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "docs" / "order-lifecycle.md").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_unknown_command_gets_a_clear_error_not_a_traceback() -> None:
    result = keel("launch-rockets")
    assert result.returncode == 2
    assert "invalid choice: 'launch-rockets'" in result.stderr
    assert "Traceback" not in result.stderr
