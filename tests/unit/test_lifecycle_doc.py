"""The committed lifecycle doc is generated from the table, and names real tests."""

from __future__ import annotations

import re
from pathlib import Path

from keel.domain.state_machine.docs import RULES, lifecycle_markdown, mermaid
from keel.domain.state_machine.table import TABLE

ROOT = Path(__file__).resolve().parents[2]


def test_committed_lifecycle_doc_matches_the_transition_table() -> None:
    committed = (ROOT / "docs" / "order-lifecycle.md").read_text(encoding="utf-8")
    assert committed == lifecycle_markdown(), "docs/order-lifecycle.md is stale: run `make docs`"


def test_every_rule_in_the_doc_names_a_test_that_exists() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    defined = set(re.findall(r"^def (test_\w+)\(", sources, flags=re.MULTILINE))
    missing = [name for _, name in RULES if name not in defined]
    assert not missing, f"rules without their named test: {missing}"


def test_diagram_shows_every_status_change_the_table_allows() -> None:
    diagram = mermaid()
    for (status, kind), rule in TABLE.items():
        for target in rule.to:
            if target is not status:
                line = next(
                    ln for ln in diagram.splitlines() if f"{status.value} --> {target.value}:" in ln
                )
                assert kind.value in line
