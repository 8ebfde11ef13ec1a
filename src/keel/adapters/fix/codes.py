"""FIX's codes for Keel's enumerations, both ways, as the FIX specification gives them.

One table for everything that speaks FIX here (the client gateway, the venue mappings, the
simulated venue); a venue whose codes differ says so in its ``VenueMapping``.
"""

from __future__ import annotations

from keel.domain.enums import OrderStatus, OrdType, Side, TimeInForce

SIDES: dict[str, Side] = {"1": Side.BUY, "2": Side.SELL, "5": Side.SELL_SHORT}
"""Side(54) code -> side."""
SIDE_CODES: dict[Side, str] = {side: code for code, side in SIDES.items()}

ORD_TYPES: dict[str, OrdType] = {
    "1": OrdType.MARKET, "2": OrdType.LIMIT, "3": OrdType.STOP, "4": OrdType.STOP_LIMIT,
}  # fmt: skip
"""OrdType(40) code -> order type."""
ORD_TYPE_CODES: dict[OrdType, str] = {kind: code for code, kind in ORD_TYPES.items()}

TIFS: dict[str, TimeInForce] = {
    "0": TimeInForce.DAY, "1": TimeInForce.GTC, "3": TimeInForce.IOC, "4": TimeInForce.FOK,
    "6": TimeInForce.GTD,
}  # fmt: skip
"""TimeInForce(59) code -> time in force."""
TIF_CODES: dict[TimeInForce, str] = {tif: code for code, tif in TIFS.items()}

ORD_STATUS_CODES: dict[OrderStatus, str] = {
    OrderStatus.PENDING_NEW: "A", OrderStatus.SENT: "A", OrderStatus.NEW: "0",
    OrderStatus.PARTIALLY_FILLED: "1", OrderStatus.FILLED: "2", OrderStatus.DONE_FOR_DAY: "3",
    OrderStatus.CANCELED: "4", OrderStatus.PENDING_CANCEL: "6", OrderStatus.REJECTED: "8",
    OrderStatus.EXPIRED: "C", OrderStatus.PENDING_REPLACE: "E",
}  # fmt: skip
"""Order status -> OrdStatus(39) code (Keel's PENDING_NEW and SENT are both Pending New)."""
