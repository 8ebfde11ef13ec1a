"""Golden messages captured from QuickFIX, read through a venue mapping: each becomes the
domain input the rules expect, with exact decimals and times, in FIX 4.2 and 4.4 alike."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from keel.adapters.fix.codec import parse
from keel.adapters.fix.venue_mapping import default_mapping
from keel.domain.ids import OrderId
from keel.domain.inputs import (
    CancelAck,
    CancelReject,
    Fill,
    ReplaceAck,
    TradeBust,
    TradeCorrection,
    VenueAck,
    VenueReject,
)

GOLDEN = Path(__file__).resolve().parents[2] / "fixtures" / "fix"
INGEST = datetime(2026, 3, 2, 14, 30, 0, 5000, tzinfo=UTC)
TRANSACT = datetime(2026, 3, 2, 14, 29, 59, 998000, tzinfo=UTC)
SENDING = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)

EXPECTED: dict[str, tuple[type, dict[str, Any]]] = {
    "execution_report_new": (VenueAck, {"exec_id": "EX-1", "venue_order_id": "BRK-000042"}),
    "execution_report_partial_fill": (Fill, {
        "exec_id": "EX-2", "cl_ord_id": "ORD-42.1", "last_qty": Decimal(400),
        "last_px": Decimal("101.25"), "cum_qty": Decimal(400), "leaves_qty": Decimal(600),
    }),
    "execution_report_fill": (Fill, {
        "exec_id": "EX-3", "last_qty": Decimal(600), "last_px": Decimal("101.20"),
        "cum_qty": Decimal(1000), "leaves_qty": Decimal(0),
    }),
    "execution_report_canceled": (CancelAck, {"exec_id": "EX-4", "orig_cl_ord_id": "ORD-42.1"}),
    "execution_report_replaced": (ReplaceAck, {"exec_id": "EX-5", "orig_cl_ord_id": "ORD-42.0"}),
    "execution_report_rejected": (VenueReject, {
        "exec_id": "EX-6", "reason_code": "VENUE_REJECT:3", "text": "Order exceeds credit limit",
    }),
    "execution_report_trade_correction": (TradeCorrection, {
        "exec_id": "EX-7", "ref_exec_id": "EX-3", "last_qty": Decimal(600),
        "last_px": Decimal("101.21"),
    }),
    "execution_report_trade_bust": (TradeBust, {"exec_id": "EX-8", "ref_exec_id": "EX-2"}),
    "order_cancel_reject": (CancelReject, {
        "cl_ord_id": "ORD-42.2", "orig_cl_ord_id": "ORD-42.1",
        "reason_code": "CANCEL_REJECTED:0", "text": "Too late to cancel",
    }),
}  # fmt: skip


@pytest.mark.parametrize("version", ["fix42", "fix44"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_report_becomes_the_expected_domain_input(version: str, name: str) -> None:
    message = parse((GOLDEN / version / f"{name}.fix").read_bytes())
    mapping = default_mapping("BROKER", message.begin_string)
    inp = mapping.report(message, OrderId("ORD-42"), INGEST)
    kind, fields = EXPECTED[name]
    assert type(inp) is kind
    assert inp.order_id == "ORD-42"
    # the time the venue says it happened: TransactTime, else (OrderCancelReject) SendingTime
    when = SENDING if name == "order_cancel_reject" else TRANSACT
    assert (inp.ingest_time, inp.event_time) == (INGEST, when)
    for field, value in fields.items():
        assert getattr(inp, field) == value, field
