"""The exceptions queue pages through a large table within the user's accounts, with the
store doing the filtering."""

from __future__ import annotations

from typing import Any

from integration.store.rows import a_batch, an_exception, an_order
from keel.adapters.clock import ManualClock
from keel.adapters.store.memory import MemoryStore
from keel.app.exception_queue import ExceptionQueue
from keel.app.sequencer import Sequencer
from keel.app.users import Role, User
from support.builders import T0

ACCOUNTS = ("FUND-A", "FUND-B", "FUND-C")


def queue_over(count: int) -> tuple[ExceptionQueue, dict[str, str | None]]:
    """``count`` exceptions: on orders of three accounts in turn, every fifth a case (no
    order); every fourth resolved. Return the queue and each exception's account."""
    store = MemoryStore()
    store.migrate()
    orders, exceptions, account_of = [], [], {}
    for i in range(count):
        xid = f"X-{i:05d}"
        if i % 5 == 4:
            order_id, account = None, None
        else:
            account = ACCOUNTS[i % 3]
            order_id = f"ORD-{i:05d}"
            orders.append(an_order(order_id, account=account))
        exceptions.append(an_exception(xid, order_id=order_id, input_seq=i + 1,
                                       status="RESOLVED" if i % 4 == 3 else "OPEN"))  # fmt: skip
        account_of[xid] = account
    store.commit(a_batch(orders=orders, exceptions=exceptions))
    sequencer = Sequencer(store, ManualClock(T0), tune_collector=False)
    return ExceptionQueue(sequencer, store, ManualClock(T0), lambda *_: None), account_of  # type: ignore[arg-type]


def walk(queue: ExceptionQueue, user: User, limit: int, **filters: Any) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        page, after = queue.page(user, after=after, limit=limit, **filters)
        assert len(page) <= limit
        seen += [row["exception_id"] for row in page]
        if after is None:
            return seen


def test_a_trader_pages_through_only_their_accounts_exceptions_across_store_chunks() -> None:
    queue, account_of = queue_over(1_300)  # more than two of the queue's store reads
    trader = User("alice", Role.TRADER, frozenset({"FUND-A", "FUND-C"}))

    seen = walk(queue, trader, limit=97)

    assert seen == sorted(x for x, a in account_of.items() if a in ("FUND-A", "FUND-C"))


def test_operations_see_cases_too_and_filters_apply_in_the_store() -> None:
    queue, account_of = queue_over(1_300)
    ops = User("olga", Role.OPERATIONS, frozenset({"FUND-B"}))

    everything = walk(queue, ops, limit=500)
    open_ones = walk(queue, ops, limit=250, status="OPEN")

    assert everything == sorted(x for x, a in account_of.items() if a in (None, "FUND-B"))
    assert open_ones == [x for x in everything if int(x[2:]) % 4 != 3]
    assert walk(queue, ops, limit=10, kind="STUCK_ORDER") == []
