"""Builders for FIX session tests: a counterparty that writes messages by hand, and a Keel
session on a memory store with time as an argument."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from keel.adapters.fix import tags as t
from keel.adapters.fix.actions import Action, Deliver, Disconnect, Send
from keel.adapters.fix.codec import FieldValue, encode, parse
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.message import FixMessage
from keel.adapters.fix.session import Session
from keel.adapters.fix.store import MemorySessionStore

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
KEEL, BROKER = "KEEL", "BROKER"


def acceptor_config(**changes: Any) -> SessionConfig:
    """Keel as acceptor for a client BROKER... named from Keel's side: sender KEEL."""
    base = SessionConfig(
        "FIX.4.4", KEEL, BROKER, initiator=False, heartbeat_interval=30,
        app_msg_types=frozenset({"D", "F", "G", "H", "8", "9"}),
    )  # fmt: skip
    return replace(base, **changes)


def initiator_config(**changes: Any) -> SessionConfig:
    return replace(acceptor_config(), initiator=True, **changes)


def new_session(config: SessionConfig | None = None, **store: int) -> Session:
    return Session(
        config or acceptor_config(), MemorySessionStore(T0 - timedelta(hours=1), **store)
    )


@dataclass
class Peer:
    """The counterparty: numbers its messages and writes them as raw FIX."""

    sender: str = BROKER
    target: str = KEEL
    begin_string: str = "FIX.4.4"
    seq: int = 1
    sent: list[bytes] = field(default_factory=list)

    def msg(
        self,
        msg_type: str,
        body: Sequence[tuple[int, FieldValue]] = (),
        *,
        at: datetime = T0,
        seq: int | None = None,
        header: Sequence[tuple[int, FieldValue]] = (),
        begin_string: str | None = None,
        sender: str | None = None,
    ) -> bytes:
        """Return the next message's bytes (``seq`` overrides, without moving the count)."""
        number = self.seq if seq is None else seq
        if seq is None:
            self.seq += 1
        head: list[tuple[int, FieldValue]] = [
            (t.MSG_SEQ_NUM, number),
            (t.SENDER_COMP_ID, sender or self.sender),
            (t.SENDING_TIME, at),
            (t.TARGET_COMP_ID, self.target),
            *header,
        ]
        head.sort(key=lambda f: f[0])
        raw = encode(begin_string or self.begin_string, [(t.MSG_TYPE, msg_type), *head, *body])
        self.sent.append(raw)
        return raw

    def logon(self, *, heartbeat: int = 30, reset: bool = False, **kw: Any) -> bytes:
        body: list[tuple[int, FieldValue]] = [(t.ENCRYPT_METHOD, 0), (t.HEART_BT_INT, heartbeat)]
        if reset:
            body.append((t.RESET_SEQ_NUM_FLAG, True))
        return self.msg("A", body, **kw)

    def new_order(self, cl_ord_id: str = "C1", **kw: Any) -> bytes:
        return self.msg(
            "D",
            [
                (t.CL_ORD_ID, cl_ord_id), (t.SYMBOL, "ACME"), (t.SIDE, "1"),
                (t.TRANSACT_TIME, T0), (t.ORDER_QTY, 100), (t.ORD_TYPE, "2"),
                (t.PRICE, "10.00"),
            ],
            **kw,
        )  # fmt: skip


def sent(actions: Sequence[Action]) -> list[FixMessage]:
    """The messages the session wrote, parsed."""
    return [parse(a.raw) for a in actions if isinstance(a, Send)]


def sent_types(actions: Sequence[Action]) -> list[str]:
    return [m.msg_type for m in sent(actions)]


def delivered(actions: Sequence[Action]) -> list[FixMessage]:
    return [a.message for a in actions if isinstance(a, Deliver)]


def disconnects(actions: Sequence[Action]) -> list[str]:
    return [a.reason for a in actions if isinstance(a, Disconnect)]


def logged_on(session: Session | None = None, peer: Peer | None = None) -> tuple[Session, Peer]:
    """An acceptor session that has taken the peer's Logon."""
    session = session or new_session()
    peer = peer or Peer()
    session.connected(T0)
    session.on_raw(peer.logon(), T0)
    return session, peer
