"""A QuickFIX session in its own process, driven by JSON lines: a FIX peer nobody here wrote.

Run by ``support.quickfix_driver.QuickFixPeer`` (never imported by Keel). Commands arrive on stdin,
one JSON object a line:

    {"send": "D", "fields": [[11, "C1"], [55, "ACME"], ...]}   send an application message
    {"logout": "text"}                                         log out
    {"stop": true}                                             stop the engine and exit

What happens is printed on stdout, one JSON object a line:

    {"event": "ready"}
    {"event": "logon"} / {"event": "logout"}
    {"event": "app", "msg_type": "8", "raw": "8=FIX.4.4|9=...|"}      received application message
    {"event": "admin_in", "msg_type": "2", "raw": ...}                 received admin message
    {"event": "admin_out", "msg_type": "A", "raw": ...}                sent admin message
    {"event": "app_out", "msg_type": "8", "raw": ...}                  sent application message
    {"event": "error", "text": ...}

QuickFIX runs with ThreadedSocket* engines, a FileStore (resends after a gap work with it)
and no data dictionary (none ships with the wheel): see ../shared/QUICKFIX-PEER.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import quickfix as fix

_print_lock = threading.Lock()


def emit(**event: Any) -> None:
    event.setdefault("t", time.time())
    with _print_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def text_of(message: Any) -> str:
    return str(message.toString()).replace("\x01", "|")


class Peer(fix.Application):  # type: ignore[misc]
    def __init__(self, auto_fill: bool = False, quiet: bool = False) -> None:
        super().__init__()
        self.session_id: Any = None
        self.auto_fill = auto_fill
        """Answer each NewOrderSingle at once with an ack and a full fill (a bare broker)."""
        self.quiet = quiet
        """Report only execution reports received, not every message (for benchmarks)."""
        self.exec_ids = 0

    def onCreate(self, session_id: Any) -> None:  # noqa: N802
        self.session_id = session_id

    def onLogon(self, session_id: Any) -> None:  # noqa: N802
        emit(event="logon")

    def onLogout(self, session_id: Any) -> None:  # noqa: N802
        emit(event="logout")

    def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        if self.quiet:
            return
        try:
            msg_type = fix.MsgType()
            message.getHeader().getField(msg_type)
            emit(event="admin_out", msg_type=msg_type.getValue(), raw=text_of(message))
        except Exception as e:  # never let an exception escape a callback
            emit(event="error", text=f"toAdmin: {e}")

    def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        if self.quiet:
            return
        try:
            msg_type = fix.MsgType()
            message.getHeader().getField(msg_type)
            emit(event="admin_in", msg_type=msg_type.getValue(), raw=text_of(message))
        except Exception as e:
            emit(event="error", text=f"fromAdmin: {e}")

    def toApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
        if self.quiet:
            return
        try:
            msg_type = fix.MsgType()
            message.getHeader().getField(msg_type)
            emit(event="app_out", msg_type=msg_type.getValue(), raw=text_of(message))
        except Exception as e:
            emit(event="error", text=f"toApp: {e}")

    def fromApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
        try:
            msg_type = fix.MsgType()
            message.getHeader().getField(msg_type)
            kind = msg_type.getValue()
            if self.auto_fill and kind == "D":
                self.fill(message, session_id)
            if self.quiet:
                if kind == "8":
                    cl, exec_type = fix.ClOrdID(), fix.ExecType()
                    message.getField(cl)
                    message.getField(exec_type)
                    emit(event="er", cl=cl.getValue(), exec_type=exec_type.getValue())
                return
            emit(event="app", msg_type=kind, raw=text_of(message))
        except Exception as e:
            emit(event="error", text=f"fromApp: {e}")

    def fill(self, order: Any, session_id: Any) -> None:
        """Acknowledge and fill a NewOrderSingle at its price (or 1 for a market order)."""
        cl, side, qty = fix.ClOrdID(), fix.Side(), fix.OrderQty()
        order.getField(cl)
        order.getField(side)
        order.getField(qty)
        price = fix.Price()
        px = 1.0
        if order.isSetField(44):
            order.getField(price)
            px = price.getValue()
        symbol = fix.Symbol()
        order.getField(symbol)
        for exec_type, status, cum in (("0", "0", 0), ("F", "2", qty.getValue())):
            self.exec_ids += 1
            report = fix.Message()
            report.getHeader().setField(fix.MsgType("8"))
            report.setField(fix.OrderID(f"QF-{cl.getValue()}"))
            report.setField(fix.ClOrdID(cl.getValue()))
            report.setField(fix.ExecID(f"QF-E{self.exec_ids}"))
            report.setField(fix.ExecType(exec_type))
            report.setField(fix.OrdStatus(status))
            report.setField(symbol)
            report.setField(side)
            report.setField(fix.OrderQty(qty.getValue()))
            report.setField(fix.LeavesQty(qty.getValue() - cum))
            report.setField(fix.CumQty(cum))
            report.setField(fix.AvgPx(px if cum else 0))
            if cum:
                report.setField(fix.LastQty(cum))
                report.setField(fix.LastPx(px))
            fix.Session.sendToTarget(report, session_id)


def settings_text(args: argparse.Namespace) -> str:
    role = "initiator" if args.role == "initiator" else "acceptor"
    lines = [
        "[DEFAULT]",
        f"ConnectionType={role}",
        "ReconnectInterval=1",
        f"FileStorePath={args.store}",
        "StartTime=00:00:00",
        "EndTime=00:00:00",
        "UseDataDictionary=N",
        "SocketNodelay=Y",
        f"HeartBtInt={args.heartbeat}",
        "ValidateUserDefinedFields=N",
        "ResetOnLogon=" + ("Y" if args.reset else "N"),
        "",
        "[SESSION]",
        f"BeginString={args.begin_string}",
        f"SenderCompID={args.sender}",
        f"TargetCompID={args.target}",
    ]
    if role == "initiator":
        lines += ["SocketConnectHost=127.0.0.1", f"SocketConnectPort={args.port}"]
    else:
        lines += [f"SocketAcceptPort={args.port}"]
    return "\n".join(lines) + "\n"


def build(begin_string: str, msg_type: str, fields: list[list[Any]]) -> Any:
    message = fix.Message()
    header = message.getHeader()
    header.setField(fix.BeginString(begin_string))
    header.setField(fix.MsgType(msg_type))
    for tag, value in fields:
        message.setField(int(tag), str(value))
    return message


def burst(app: Peer, begin_string: str, command: dict[str, Any]) -> None:
    """Send ``burst`` NewOrderSingles as fast as QuickFIX takes them, buys and sells in
    turn, each reported as {"event": "sent", "cl": ..., "t": ...}."""
    prefix = command.get("prefix", "C")
    for n in range(int(command["burst"])):
        cl = f"{prefix}{n}"
        buy = n % 2 == 0
        fields = [
            [11, cl],
            [1, command.get("account", "FUND-A")],
            [55, command.get("symbol", "ACME")],
            [54, "1" if buy else "2"],
            [60, time.strftime("%Y%m%d-%H:%M:%S", time.gmtime())],
            [38, str(command.get("qty", 1))],
            [40, "2"],
            [44, command["buy_price"] if buy else command["sell_price"]],
            [59, "0"],
        ]
        sent_at = time.time()
        fix.Session.sendToTarget(build(begin_string, "D", fields), app.session_id)
        emit(event="sent", cl=cl, t=sent_at)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["initiator", "acceptor"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--begin-string", default="FIX.4.4")
    parser.add_argument("--sender", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--heartbeat", type=int, default=30)
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--auto-fill", action="store_true", help="ack and fill every order")
    parser.add_argument("--quiet", action="store_true", help="report only execution reports")
    args = parser.parse_args()
    Path(args.store).mkdir(parents=True, exist_ok=True)
    cfg = Path(args.store) / "peer.cfg"
    cfg.write_text(settings_text(args))
    settings = fix.SessionSettings(str(cfg))
    app = Peer(auto_fill=args.auto_fill, quiet=args.quiet)
    store = fix.FileStoreFactory(settings)
    logs = fix.ScreenLogFactory(False, False, False)
    if args.role == "initiator":
        engine = fix.ThreadedSocketInitiator(app, store, settings, logs)
    else:
        engine = fix.ThreadedSocketAcceptor(app, store, settings, logs)
    engine.start()
    emit(event="ready")
    for line in sys.stdin:
        try:
            command = json.loads(line)
            if "send" in command:
                message = build(args.begin_string, command["send"], command.get("fields", []))
                ok = fix.Session.sendToTarget(message, app.session_id)
                emit(event="sent", ok=bool(ok), msg_type=command["send"])
            elif "burst" in command:
                burst(app, args.begin_string, command)
            elif "logout" in command:
                session = fix.Session.lookupSession(app.session_id)
                session.logout(command["logout"])
            elif "stop" in command:
                break
        except Exception as e:
            emit(event="error", text=f"{type(e).__name__}: {e}")
    engine.stop()
    emit(event="stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
