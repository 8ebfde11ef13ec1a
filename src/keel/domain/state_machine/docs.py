"""Generate ``docs/order-lifecycle.md`` from the transition table.

The diagram and the per-input tables are read off ``TABLE``; the rules are listed with the
test that defends each one. A test fails when the committed document is stale
(``make docs`` rewrites it) or when a named test does not exist.
"""

from __future__ import annotations

from collections import defaultdict

from keel.domain.enums import OrderStatus
from keel.domain.inputs import InputKind
from keel.domain.state_machine.table import ALL_STATUSES, TABLE

RULES: tuple[tuple[str, str], ...] = (
    (
        "A fill only ever reduces leaves qty; cum qty is the sum of booked fills; avg px is "
        "their quantity-weighted mean, computed from the exact notional.",
        "test_fill_only_reduces_leaves_and_cum_is_sum_of_fills",
    ),
    (
        "A duplicate execution (same venue and ExecID) changes nothing and is reported as a "
        "duplicate.",
        "test_duplicate_execution_changes_nothing_and_is_reported",
    ),
    (
        "A fill before the ack is booked and implies the ack.",
        "test_fill_before_ack_implies_the_ack",
    ),
    (
        "A fill after a cancel ack is booked, the order stays CANCELED, and LATE_FILL is raised.",
        "test_late_fill_after_cancel_is_booked_and_flagged",
    ),
    (
        "A fill beyond the order quantity (e.g. after a replace reduced it) is booked and "
        "raises OVERFILL.",
        "test_fill_beyond_order_qty_after_replace_down_raises_overfill",
    ),
    (
        "An execution whose CumQty skips ahead of the booked fills raises MISSING_EXECUTION and "
        "sends a status request; the exception clears when the missing fill arrives.",
        "test_cum_qty_skipping_ahead_raises_missing_execution_and_requests_status",
    ),
    (
        "A cancel reject returns the order to the status its fills give.",
        "test_cancel_reject_returns_order_to_prior_status",
    ),
    (
        "A replace reject returns the order to the status its fills give.",
        "test_replace_reject_returns_order_to_prior_status",
    ),
    (
        "A second replace while one is pending is refused (policy REFUSE, the default).",
        "test_second_replace_while_pending_is_refused_by_default",
    ),
    (
        "With policy QUEUE, the newest replace waits and is sent when the pending one is answered.",
        "test_second_replace_while_pending_is_queued_when_policy_says_so",
    ),
    (
        "A cancel while a replace is pending is queued and sent as soon as the replace is "
        "answered.",
        "test_cancel_while_replace_pending_is_queued_and_sent_after_answer",
    ),
    (
        "A replace ack must name the pending ClOrdID, otherwise LINEAGE_MISMATCH.",
        "test_replace_ack_for_other_cl_ord_id_raises_lineage_mismatch",
    ),
    (
        "A replace that lowers the quantity to or below cum qty leaves the order FILLED.",
        "test_replace_to_or_below_cum_qty_leaves_order_filled",
    ),
    (
        "Terminal statuses (FILLED, CANCELED, REJECTED, EXPIRED) absorb everything except late "
        "fills and corrections, which are booked and flagged.",
        "test_terminal_statuses_absorb_everything_but_late_fills_and_corrections",
    ),
    (
        "A correction changes a fill's quantity or price and recomputes cum qty and avg px; the "
        "original fill stays in history.",
        "test_correction_recomputes_cum_and_avg_px_and_keeps_original",
    ),
    (
        "A bust removes a fill's effect; the original fill stays in history.",
        "test_bust_removes_fill_effect_and_keeps_original",
    ),
    (
        "Any other input that conflicts with the known state becomes an exception record with "
        "the evidence, never a silent change.",
        "test_conflicting_input_becomes_exception_with_evidence_not_silent_change",
    ),
    (
        "A new order denied by validation or risk is recorded as REJECTED with its reason code.",
        "test_new_order_denied_by_risk_is_recorded_rejected_with_reason",
    ),
    (
        "An instruction left unanswered gets a status request, then a STUCK_ORDER exception.",
        "test_stuck_ack_requests_status_then_raises_stuck_order",
    ),
    (
        "A status report showing a close Keel never heard of is adopted and flagged MISSED_STATUS.",
        "test_status_report_adopts_missed_cancel_and_flags_it",
    ),
    (
        "An exception is acknowledged, then resolved with a kind and a comment; a resolution "
        "that books or busts a fill needs a second person's approval, and the proposer cannot "
        "approve it.",
        "test_booking_a_missing_fill_needs_a_second_person",
    ),
    (
        "Every (status, input) pair has a defined outcome.",
        "test_every_status_and_input_pair_has_a_defined_outcome",
    ),
    (
        "A parent's quantities and status derive from its children.",
        "test_parent_quantities_and_status_derive_from_children",
    ),
)


def mermaid() -> str:
    """Return the state diagram (Mermaid) of every status change the table allows."""
    edges: dict[tuple[OrderStatus, OrderStatus], list[str]] = defaultdict(list)
    for (status, kind), rule in TABLE.items():
        for target in rule.to:
            if target is not status:
                edges[status, target].append(kind.value)
    lines = [
        "stateDiagram-v2",
        f"    [*] --> {OrderStatus.PENDING_NEW.value}: {InputKind.NEW_ORDER_ACCEPTED.value}",
        f"    [*] --> {OrderStatus.REJECTED.value}: {InputKind.NEW_ORDER_DENIED.value}",
    ]
    order = {status: i for i, status in enumerate(ALL_STATUSES)}
    for (source, target), kinds in sorted(
        edges.items(), key=lambda e: (order[e[0][0]], order[e[0][1]])
    ):
        lines.append(f"    {source.value} --> {target.value}: {', '.join(kinds)}")
    return "\n".join(lines)


def _matrix() -> list[str]:
    out: list[str] = []
    for kind in InputKind:
        out += [f"### {kind.value}", "", "| status | outcome | can lead to |", "|---|---|---|"]
        for status in ALL_STATUSES:
            rule = TABLE[status, kind]
            to = ", ".join(s.value for s in rule.to) or "(unchanged)"
            out.append(f"| {status.value} | {rule.why} | {to} |")
        out.append("")
    return out


def lifecycle_markdown() -> str:
    """Return the whole of ``docs/order-lifecycle.md``."""
    lines = [
        "# Order lifecycle",
        "",
        "<!-- Generated from keel.domain.state_machine.table by `make docs`; do not edit. -->",
        "",
        "Every order changes only through `apply(order, input, now) -> Transition`, a pure",
        "function driven by a table with one rule per (status, input) pair. Statuses follow FIX",
        "OrdStatus; PENDING_NEW (accepted, not yet sent) and SENT (sent, not acknowledged) are",
        "Keel's own. Before the table, a venue report whose ExecID the order has processed, and",
        "a client request whose ClOrdID it has seen, are duplicates: they change nothing.",
        "",
        "## State diagram",
        "",
        "```mermaid",
        mermaid(),
        "```",
        "",
        "## Rules",
        "",
        "Each rule is defended by the named test in `tests/unit/`.",
        "",
    ]
    lines += [f"- {text} (`{test}`)" for text, test in RULES]
    lines += ["", "## Every (status, input) pair", ""]
    lines += _matrix()
    return "\n".join(lines).rstrip() + "\n"
