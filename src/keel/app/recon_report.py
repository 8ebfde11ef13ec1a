"""A reconciliation run's report as files people open: CSV (one line per break) and HTML
(the summary and the breaks, readable in any browser, no scripts)."""

from __future__ import annotations

import csv
import html
import io
from typing import Any

CSV_COLUMNS = (
    "run_id", "break_key", "kind", "level", "state", "exception_id", "order_id", "exec_id",
    "explanation", "keel", "broker", "evidence",
)  # fmt: skip


def _pairs(values: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in values.items() if v != "")


def _evidence(found: dict[str, Any]) -> str:
    return "; ".join(f"{e['kind']} {e['ref']}" for e in found["evidence"])


def report_csv(run: dict[str, Any]) -> str:
    """One line per break, with both sides' values and the evidence."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for found in run["breaks"]:
        writer.writerow((
            run["run_id"], found["break_key"], found["kind"], found["level"], found["state"],
            found.get("exception_id") or "", found.get("order_id") or "",
            found.get("exec_id") or "", found["explanation"], _pairs(found["keel"]),
            _pairs(found["broker"]), _evidence(found),
        ))  # fmt: skip
    return out.getvalue()


def report_html(run: dict[str, Any]) -> str:
    """The run's summary and breaks as a self-contained HTML page."""
    e = html.escape
    summary = run["summary"]
    facts = [
        ("Broker", run["broker"]), ("Trade date", run["trade_date"] or "all"),
        ("Result", run["result"]), ("Run by", run["actor"]),
        ("Started", run["started_at"]), ("Finished", run["finished_at"]),
        ("Keel fills", summary["keel_fills"]), ("Broker fills", summary["broker_fills"]),
        ("Matched by ExecID", summary["matched_by_exec_id"]),
        ("Matched by fallback", summary["matched_by_fallback"]),
    ]  # fmt: skip
    rows = "".join(
        f"<tr><td>{e(f['kind'])}</td><td>{e(f['state'])}</td>"
        f"<td>{e(f.get('order_id') or '')}</td><td>{e(f.get('exception_id') or '')}</td>"
        f"<td>{e(f['explanation'])}</td><td>{e(_pairs(f['keel']))}</td>"
        f"<td>{e(_pairs(f['broker']))}</td><td>{e(_evidence(f))}</td></tr>"
        for f in run["breaks"]
    )
    fact_rows = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in facts)
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(summary["breaks_by_kind"].items()))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Keel reconciliation {e(run["run_id"])}</title>
<style>body{{font-family:system-ui,sans-serif;font-size:14px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 6px;text-align:left;
vertical-align:top}}</style></head><body>
<h1>Reconciliation {e(run["run_id"])}: {e(run["result"])}</h1>
<table>{fact_rows}</table>
<h2>Breaks ({len(run["breaks"])}){": " + e(kinds) if kinds else ""}</h2>
<table><tr><th>Kind</th><th>State</th><th>Order</th><th>Exception</th><th>What</th>
<th>Keel</th><th>Broker</th><th>Evidence</th></tr>{rows}</table>
</body></html>
"""
