"""One Keel process: the sequencer with its FIX doors, wired and started in the right order.

A ``Node`` owns a store, the sequencer, the effect dispatcher, the client gateway behind a
FIX acceptor and one gateway per venue behind a FIX initiator. ``start`` loads the working
orders, then subscribes the dispatcher and the client gateway (so nothing committed is
missed), then opens the doors; ``stop`` closes them first and the sequencer last, so every
input taken is committed before the process ends.

This is the wiring ``keel serve`` and the demo use; ``bootstrap`` opens the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from keel.adapters.fix.client_gateway import ClientSession, FixClientGateway
from keel.adapters.fix.config import SessionConfig
from keel.adapters.fix.drop_copy import DropCopyGateway
from keel.adapters.fix.session import Session
from keel.adapters.fix.store import DurableSessionStore, FixJournal, SessionStore
from keel.adapters.fix.transport import FixAcceptor, FixInitiator
from keel.adapters.fix.venue_gateway import FixVenueGateway
from keel.adapters.fix.venue_mapping import VenueMapping, default_mapping
from keel.adapters.metrics import NodeMetrics
from keel.app.dispatch import EffectDispatcher
from keel.app.feed import EventFeed
from keel.app.halts import Halts
from keel.app.intake import Intake
from keel.app.monitor import SilenceMonitor
from keel.app.ports import Clock, EventStore
from keel.app.prices import LastPrices
from keel.app.recon import BrokerSetup, Reconciler, StatementReader
from keel.app.replay import load_order
from keel.app.secret import Secret
from keel.app.sequencer import Sequencer
from keel.domain.instruments import Instrument
from keel.domain.risk import Limits
from keel.domain.state_machine import DEFAULT_POLICY, Policy

CLIENT_MESSAGES = frozenset({"D", "F", "G", "H"})
VENUE_MESSAGES = frozenset({"8", "9", "j"})


@dataclass(frozen=True, slots=True)
class VenueLink:
    """A venue Keel routes to: its FIX session (Keel initiates) and its mapping."""

    session: SessionConfig
    host: str
    port: int
    mapping: VenueMapping | None = None
    password: Secret | None = None

    @property
    def venue(self) -> str:
        return self.mapping.venue if self.mapping else self.session.target_comp_id

    def mapping_or_default(self) -> VenueMapping:
        return self.mapping or default_mapping(self.venue, self.session.begin_string)


@dataclass(frozen=True, slots=True)
class DropCopyLink:
    """A broker's drop-copy session (Keel initiates): copies of its ExecutionReports."""

    broker: str
    session: SessionConfig
    host: str
    port: int
    password: Secret | None = None


@dataclass(slots=True)
class NodeConfig:
    instruments: Mapping[str, Instrument]
    clients: Sequence[ClientSession] = ()
    venues: Sequence[VenueLink] = ()
    client_host: str = "127.0.0.1"
    client_port: int = 0
    default_venue: str | None = None
    timer_interval: float = 1.0
    reconnect_backoff: tuple[float, float] = (0.5, 30.0)
    limits: dict[tuple[str, str], Limits] = field(default_factory=dict)
    """Pre-trade limits by (account, symbol); ``"*"`` stands for any."""
    session_stores: dict[str, SessionStore] = field(default_factory=dict)
    """Session stores by session id; a session without one keeps its numbers and messages
    in the node's event store (``DurableSessionStore``)."""
    policy: Policy = DEFAULT_POLICY
    """The state machine's timeouts and rules: the stuck-order monitor's settings."""
    monitor_interval: float = 5.0
    """How often the silence sweep looks at the working orders (with a silence window)."""
    brokers: Mapping[str, BrokerSetup] = field(default_factory=dict)
    """The brokers Keel reconciles with, by name."""
    drop_copies: Sequence[DropCopyLink] = ()
    read_statement: StatementReader | None = None
    """How this process reads broker statements (the configured column mappings)."""


class Node:
    """A running Keel: see the module docstring."""

    def __init__(self, store: EventStore, clock: Clock, config: NodeConfig) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.sequencer = Sequencer(store, clock, policy=config.policy)
        window = config.policy.silence_window
        self.monitor = (
            None
            if window is None
            else SilenceMonitor(self.sequencer, clock, window, interval=config.monitor_interval)
        )
        self.dispatcher = EffectDispatcher(self.sequencer, clock)
        self.prices = LastPrices()
        self.halts = Halts(store)
        self.intake = Intake(
            config.instruments, default_venue=config.default_venue, limits=config.limits,
            last_price=self.prices.get, halted=self.halts.reason,
        )  # fmt: skip
        self.clients = FixClientGateway(
            self.intake, self.sequencer, config.clients, clock.now,
            find_order=lambda order_id: load_order(store, order_id),
        )  # fmt: skip
        self.journal = FixJournal(store)
        self.feed = EventFeed(store)
        self.venues: dict[str, FixVenueGateway] = {}
        self.metrics = NodeMetrics(
            clock.now,
            open_orders=lambda: list(self.sequencer.open_orders.values()),
            open_exceptions=lambda: [
                row["kind"] for row in store.read_table("exceptions")
                if row["status"] != "RESOLVED"
            ],
            venues=lambda: {name: g.connection is not None for name, g in self.venues.items()},
            unavailable=lambda: self.dispatcher.failed,
        )  # fmt: skip
        self.initiators: list[FixInitiator] = []
        self.drop_copies: dict[str, DropCopyGateway] = {}
        self._drop_copy_initiators: list[FixInitiator] = []
        self.recon = Reconciler(self.sequencer, store, clock, config.brokers, config.read_statement)
        self.recon.finished.append(self.metrics.recon_run)
        self.acceptor: FixAcceptor | None = None

    def _session(self, config: SessionConfig, password: Secret | None = None) -> Session:
        store = self.config.session_stores.get(config.session_id)
        if store is None:
            store = DurableSessionStore(
                self.store, self.journal, config.session_id, self.clock.now()
            )
            self.config.session_stores[config.session_id] = store
        return Session(config, store, password=password.reveal() if password else None)

    async def start(self) -> None:
        await self.sequencer.start()
        self.sequencer.subscribe(self.dispatcher)
        self.sequencer.subscribe(self.clients)
        self.feed.last_seq = self.sequencer.head.last_event_seq
        self.sequencer.subscribe(self.feed)
        self.sequencer.subscribe(self.prices)
        self.sequencer.subscribe(self.metrics)
        self.dispatcher.start()
        self.clients.start()
        if self.monitor is not None:
            self.monitor.start()
        for link in self.config.venues:
            gateway = FixVenueGateway(
                link.mapping_or_default(), self.sequencer, self.clock,
                resolve=self.store.resolve_order_ref,
                open_orders=lambda: list(self.sequencer.open_orders.values()),
            )  # fmt: skip
            self.venues[gateway.venue] = gateway
            self.dispatcher.add_gateway(gateway)
            initiator = FixInitiator(
                self._session(link.session, link.password), gateway, self.clock,
                host=link.host, port=link.port, timer_interval=self.config.timer_interval,
                backoff=self.config.reconnect_backoff,
            )  # fmt: skip
            self.initiators.append(initiator)
            initiator.start()
        for copy in self.config.drop_copies:
            broker = self.config.brokers.get(copy.broker)
            copies = DropCopyGateway(
                copy.broker, self.sequencer, self.clock, resolve=self.store.resolve_order_ref,
                venue=broker.venue if broker is not None else None,
            )  # fmt: skip
            self.drop_copies[copy.broker] = copies
            initiator = FixInitiator(
                self._session(copy.session, copy.password), copies, self.clock,
                host=copy.host, port=copy.port, timer_interval=self.config.timer_interval,
                backoff=self.config.reconnect_backoff,
            )  # fmt: skip
            self._drop_copy_initiators.append(initiator)
            initiator.start()
        if self.config.clients:
            sessions = [self._session(c.config) for c in self.config.clients]
            self.clients.sessions = {s.config.target_comp_id: s for s in sessions}
            self.acceptor = FixAcceptor(
                sessions, self.clients, self.clock, host=self.config.client_host,
                port=self.config.client_port, timer_interval=self.config.timer_interval,
            )  # fmt: skip
            await self.acceptor.start()

    def venue_status(self) -> list[dict[str, object]]:
        """Each venue's FIX session as the operator sees it: state and sequence numbers."""
        out: list[dict[str, object]] = []
        for link, initiator in zip(self.config.venues, self.initiators, strict=True):
            session = initiator.session
            out.append({
                "venue": link.venue, "session": session.config.session_id,
                "host": link.host, "port": link.port, "state": str(session.state),
                "logged_on": initiator.connection is not None
                and initiator.connection.logged_on,
                "next_sender_seq": session.next_sender_seq,
                "next_target_seq": session.next_target_seq,
                "reconnect_attempts": initiator.attempts,
            })  # fmt: skip
        return out

    @property
    def client_port(self) -> int:
        if self.acceptor is None:
            raise RuntimeError("this node has no client sessions")
        return self.acceptor.port

    async def stop(self) -> None:
        if self.monitor is not None:
            await self.monitor.stop()
        if self.acceptor is not None:
            await self.acceptor.stop()
        for initiator in (*self.initiators, *self._drop_copy_initiators):
            await initiator.stop()
        await self.dispatcher.stop()
        await self.clients.stop()
        await self.sequencer.stop()
