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
from pathlib import Path
from typing import Any

import quickfix as fix

_print_lock = threading.Lock()


def emit(**event: Any) -> None:
    with _print_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def text_of(message: Any) -> str:
    return str(message.toString()).replace("\x01", "|")


class Peer(fix.Application):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.session_id: Any = None

    def onCreate(self, session_id: Any) -> None:  # noqa: N802
        self.session_id = session_id

    def onLogon(self, session_id: Any) -> None:  # noqa: N802
        emit(event="logon")

    def onLogout(self, session_id: Any) -> None:  # noqa: N802
        emit(event="logout")

    def toAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        try:
            msg_type = fix.MsgType()
            message.getHeader().getField(msg_type)
            emit(event="admin_out", msg_type=msg_type.getValue(), raw=text_of(message))
        except Exception as e:  # never let an exception escape a callback
            emit(event="error", text=f"toAdmin: {e}")

    def fromAdmin(self, message: Any, session_id: Any) -> None:  # noqa: N802
        try:
            msg_type = fix.MsgType()
            message.getHeader().getField(msg_type)
            emit(event="admin_in", msg_type=msg_type.getValue(), raw=text_of(message))
        except Exception as e:
            emit(event="error", text=f"fromAdmin: {e}")

    def toApp(self, message: Any, session_id: Any) -> None:  # noqa: N802
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
            emit(event="app", msg_type=msg_type.getValue(), raw=text_of(message))
        except Exception as e:
            emit(event="error", text=f"fromApp: {e}")


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
    args = parser.parse_args()
    Path(args.store).mkdir(parents=True, exist_ok=True)
    cfg = Path(args.store) / "peer.cfg"
    cfg.write_text(settings_text(args))
    settings = fix.SessionSettings(str(cfg))
    app = Peer()
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
