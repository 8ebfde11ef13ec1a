"""Properties of reconciliation over random books: what is changed is exactly what is found."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from keel.domain.enums import Side
from keel.domain.ids import AccountId, ExecId
from keel.domain.recon import (
    BreakKind,
    BreakLevel,
    BrokerFill,
    KeelFill,
    MatchMethod,
    Tolerances,
    reconcile,
)
from unit.recon.builders import DAY, T0, keel_fill, reported

WINDOW = Tolerances(time_window=timedelta(seconds=2))


@st.composite
def books(draw: st.DrawFn, min_size: int = 1) -> list[KeelFill]:
    """Keel's fills: distinct ExecIDs over a few orders (each with its own side, account
    and symbol) and two trade days."""
    terms = st.tuples(
        st.sampled_from([Side.BUY, Side.SELL, Side.SELL_SHORT]),
        st.sampled_from(["FUND-A", "FUND-B"]),
        st.sampled_from(["AAPL", "MSFT"]),
    )
    orders = draw(st.lists(terms, min_size=1, max_size=6))
    size = draw(st.integers(min_size, 25))
    fills = []
    for n in range(1, size + 1):
        order = draw(st.integers(0, len(orders) - 1))
        side, account, symbol = orders[order]
        fills.append(
            keel_fill(
                n,
                order=order,
                qty=str(draw(st.integers(1, 5)) * 100),
                price=f"{draw(st.integers(995, 1005)) / 100:.2f}",
                side=side,
                account=account,
                symbol=symbol,
                trade_date=DAY + timedelta(days=draw(st.integers(0, 1))),
                at=T0 + timedelta(seconds=draw(st.integers(0, 20))),
            )
        )
    return fills


def mirror(fills: list[KeelFill]) -> list[BrokerFill]:
    return [reported(f) for f in fills]


def fill_breaks(result: object) -> list[tuple[BreakKind, str | None]]:
    return [
        (b.kind, b.exec_id)
        for b in result.breaks  # type: ignore[attr-defined]
        if b.level is BreakLevel.FILL
    ]


@settings(max_examples=150, deadline=None)
@given(books(), st.randoms(use_true_random=False))
def test_books_reconciled_against_their_own_mirror_have_no_breaks(
    ours: list[KeelFill], rnd: random.Random
) -> None:
    theirs = mirror(ours)
    rnd.shuffle(theirs)
    result = reconcile(ours, theirs, WINDOW)
    assert result.breaks == ()
    assert result.fills.matched_by_exec_id == len(ours)
    assert all(p.method is MatchMethod.EXEC_ID for p in result.fills.pairs)


@settings(max_examples=150, deadline=None)
@given(books(), st.data())
def test_a_fill_the_broker_left_out_is_exactly_one_missing_at_broker(
    ours: list[KeelFill], data: st.DataObject
) -> None:
    theirs = mirror(ours)
    dropped = theirs.pop(data.draw(st.integers(0, len(theirs) - 1)))
    result = reconcile(ours, theirs, WINDOW)
    assert fill_breaks(result) == [(BreakKind.MISSING_AT_BROKER, dropped.exec_id)]
    [position] = result.positions.breaks
    assert position.kind in (BreakKind.QUANTITY_MISMATCH, BreakKind.MISSING_AT_BROKER)
    assert position.break_key.endswith(
        f"/{dropped.account}/{dropped.trade_date.isoformat()}/{dropped.symbol}"
    )


@settings(max_examples=150, deadline=None)
@given(books(), st.data())
def test_a_fill_keel_never_booked_is_exactly_one_missing_internally(
    ours: list[KeelFill], data: st.DataObject
) -> None:
    missed = ours.pop(data.draw(st.integers(0, len(ours) - 1)))
    theirs = mirror([*ours, missed])
    result = reconcile(ours, theirs, WINDOW)
    assert fill_breaks(result) == [(BreakKind.MISSING_INTERNALLY, missed.exec_id)]
    assert len(result.positions.breaks) == 1


@settings(max_examples=150, deadline=None)
@given(books(), st.data())
def test_a_line_the_broker_repeats_is_exactly_one_duplicate_and_counts_once(
    ours: list[KeelFill], data: st.DataObject
) -> None:
    theirs = mirror(ours)
    again = theirs[data.draw(st.integers(0, len(theirs) - 1))]
    theirs.insert(data.draw(st.integers(0, len(theirs))), again._replace(ref="stmt.csv:999"))
    result = reconcile(ours, theirs, WINDOW)
    assert fill_breaks(result) == [(BreakKind.DUPLICATE_AT_BROKER, again.exec_id)]
    assert result.positions.breaks == ()


@settings(max_examples=150, deadline=None)
@given(books(), st.data())
def test_a_statement_with_its_own_trade_ids_pairs_every_fill_by_the_fallback(
    ours: list[KeelFill], data: st.DataObject
) -> None:
    theirs = [r._replace(exec_id=ExecId(f"TRD-{r.exec_id}")) for r in mirror(ours)]
    data.draw(st.randoms(use_true_random=False)).shuffle(theirs)
    result = reconcile(ours, theirs, WINDOW)
    assert result.breaks == ()
    assert result.fills.matched_by_fallback == len(ours)
    assert all(p.keel.exec_id == p.broker.exec_id[4:] for p in result.fills.pairs)


@settings(max_examples=150, deadline=None)
@given(books(), st.data())
def test_the_breaks_found_do_not_depend_on_the_order_of_either_side(
    ours: list[KeelFill], data: st.DataObject
) -> None:
    theirs = mirror(ours)
    for n in data.draw(st.lists(st.integers(0, len(theirs) - 1), max_size=4, unique=True)):
        change = data.draw(st.sampled_from(["qty", "price", "drop", "own id"]))
        if change == "qty":
            theirs[n] = theirs[n]._replace(qty=theirs[n].qty + 1)
        elif change == "price":
            theirs[n] = theirs[n]._replace(price=theirs[n].price + 1)
        elif change == "own id":
            theirs[n] = theirs[n]._replace(exec_id=ExecId(f"TRD-{n}"))
        else:
            theirs[n] = theirs[n]._replace(account=AccountId("FUND-Z"), exec_id=ExecId(f"X-{n}"))
    first = reconcile(ours, theirs, WINDOW)
    rnd = data.draw(st.randoms(use_true_random=False))
    shuffled_ours, shuffled_theirs = ours[:], theirs[:]
    rnd.shuffle(shuffled_ours)
    rnd.shuffle(shuffled_theirs)
    second = reconcile(shuffled_ours, shuffled_theirs, WINDOW)
    assert second.breaks == first.breaks
    assert {(p.keel.fill_id, p.broker.ref) for p in second.fills.pairs} == {
        (p.keel.fill_id, p.broker.ref) for p in first.fills.pairs
    }
