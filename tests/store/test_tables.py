"""The purpose-built tables (purchase orders, Direct Fulfillment orders) against a brute-force reference:
every filter, both directions, page after page from the last key, on memory, SQLite and Redis; rows
replaced keep no trace of their old filter values; another process reads what one wrote."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest

from mockserver.store.df_orders import DfOrderQuery, DfOrderRow
from mockserver.store.purchase_orders import (
    CONFIRMATION_STATUSES,
    RECEIVE_STATUSES,
    PurchaseOrderQuery,
    PurchaseOrderRow,
)
from tests.store.conftest import Backend

ACCOUNTS = ("acme-na", "nordwind-eu")


def _stamp(rng: random.Random) -> str:
    return f"2026-02-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"


def _statuses(rng: random.Random, choices: Sequence[str]) -> str:
    picked = sorted(set(rng.sample(list(choices), rng.randint(1, 2))))
    return "," + ",".join(picked) + ","


def purchase_orders(count: int, seed: int = 3) -> list[PurchaseOrderRow]:
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        created = _stamp(rng)
        changed = _stamp(rng) if rng.random() < 0.3 else None
        rows.append(
            PurchaseOrderRow(
                account=rng.choice(ACCOUNTS),
                number=f"PO{index:05d}",
                created=created,
                updated=max(created, _stamp(rng)),
                state=rng.choice(("New", "Acknowledged", "Closed")),
                vendor_code=rng.choice(("V1", "V2", "V3")),
                ship_to=rng.choice(("FC1", "FC2")),
                changed=changed,
                is_changed=changed is not None,
                has_cancelled=rng.random() < 0.2,
                confirmation=_statuses(rng, CONFIRMATION_STATUSES),
                receiving=_statuses(rng, RECEIVE_STATUSES),
                document={"n": index, "lines": [{"q": rng.randint(1, 9)}]},
            )
        )
    # Two orders created at the same second: the number breaks the tie.
    rows[1] = replace(rows[1], created=rows[0].created, account=rows[0].account)
    return rows


def df_orders(count: int, seed: int = 5) -> list[DfOrderRow]:
    rng = random.Random(seed)
    return [
        DfOrderRow(
            account=rng.choice(ACCOUNTS),
            number=f"DF{index:05d}",
            created=_stamp(rng),
            status=rng.choice(("NEW", "ACCEPTED", "SHIPPED", "CANCELLED")),
            ship_from=rng.choice(("W1", "W2")),
            packing_slip=rng.random() < 0.3,
            customer_invoice=rng.random() < 0.1,
            document={"n": index},
        )
        for index in range(count)
    ]


def _reference(rows: Sequence[Any], query: Any) -> list[str]:
    matched = sorted((row for row in rows if query.matches(row)), key=lambda row: row.sort_key)
    if query.descending:
        matched.reverse()
    if query.after is not None:
        matched = [
            row
            for row in matched
            if (row.sort_key < query.after if query.descending else row.sort_key > query.after)
        ]
    return [row.number for row in matched[: query.limit]]


def _pages(query_of: Callable[..., Any], run: Callable[[Any], list[Any]], limit: int) -> list[str]:
    numbers: list[str] = []
    after = None
    while True:
        rows = run(query_of(limit=limit, after=after))
        numbers += [row.number for row in rows]
        if len(rows) < limit:
            return numbers
        after = rows[-1].sort_key


PO_QUERIES: list[dict[str, Any]] = [
    {},
    {"descending": True},
    {"state": "New"},
    {"state": "Closed", "descending": True},
    {"open_only": True},
    {"open_only": False},
    {"vendor_code": "V2", "ship_to": "FC1"},
    {"is_changed": True},
    {"has_cancelled": False, "state": "Acknowledged"},
    {"confirmation": "REJECTED"},
    {"receiving": "PARTIALLY_RECEIVED", "descending": True},
    {"receiving": "NO_SUCH_STATUS"},
    {"created_after": "2026-02-10T00:00:00Z", "created_before": "2026-02-20T00:00:00Z"},
    {"created_after": "2026-02-10T00:00:00Z", "created_before": "2026-02-20T00:00:00Z", "descending": True},
    {"changed_after": "2026-02-05T00:00:00Z", "changed_before": "2026-02-25T00:00:00Z"},
    {"updated_after": "2026-02-15T00:00:00Z"},
    {"number": "PO00007"},
    {"vendor_code": "NOBODY"},
]


@pytest.mark.parametrize("filters", PO_QUERIES, ids=lambda filters: ",".join(filters) or "all")
def test_purchase_order_queries_page_exactly_as_the_reference(
    backend: Backend, filters: dict[str, Any]
) -> None:
    rows = purchase_orders(400)
    assert backend.purchase_orders.put_many(rows) == 400
    for account in ACCOUNTS:

        def query_of(**paging: Any) -> PurchaseOrderQuery:
            return PurchaseOrderQuery(account=account, **filters, **paging)  # noqa: B023

        everything = _reference(rows, query_of(limit=10_000, after=None))
        for limit in (1, 7, 1000):
            assert _pages(query_of, backend.purchase_orders.query, limit) == everything
        # A page starting after a key that is no row's (a nextToken of a row deleted since).
        if everything:
            gap = (rows[0].created, "PO00000~")
            assert [row.number for row in backend.purchase_orders.query(query_of(limit=5, after=gap))] == (
                _reference(rows, query_of(limit=5, after=gap))
            )


DF_QUERIES: list[dict[str, Any]] = [
    {},
    {"descending": True},
    {"status": "SHIPPED"},
    {"ship_from": "W2", "descending": True},
    {"packing_slip": True},
    {"customer_invoice": True, "status": "NEW"},
    {"packing_slip": False, "ship_from": "W1"},
    {"status": "NOBODY"},
]


@pytest.mark.parametrize("filters", DF_QUERIES, ids=lambda filters: ",".join(filters) or "all")
def test_df_order_queries_page_exactly_as_the_reference(backend: Backend, filters: dict[str, Any]) -> None:
    rows = df_orders(300)
    assert backend.df_orders.put_many(rows) == 300
    for account in ACCOUNTS:
        for window in (
            ("2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
            ("2026-02-08T00:00:00Z", "2026-02-15T00:00:00Z"),
        ):

            def query_of(**paging: Any) -> DfOrderQuery:
                return DfOrderQuery(account, window[0], window[1], **filters, **paging)  # noqa: B023

            everything = _reference(rows, query_of(limit=10_000, after=None))
            for limit in (1, 10, 1000):
                assert _pages(query_of, backend.df_orders.query, limit) == everything


def test_a_replaced_row_leaves_nothing_of_its_old_filter_values(backend: Backend) -> None:
    table = backend.purchase_orders
    rows = purchase_orders(50)
    table.put_many(rows)
    target = next(row for row in rows if row.state == "New")
    table.put(replace(target, state="Closed", receiving=",RECEIVED,", document={"replaced": True}))
    account = target.account
    assert target.number not in [row.number for row in table.query(PurchaseOrderQuery(account, state="New"))]
    closed = table.query(PurchaseOrderQuery(account, limit=1000, state="Closed", receiving="RECEIVED"))
    assert target.number in [row.number for row in closed]
    stored = table.get(target.number)
    assert stored is not None and stored.document == {"replaced": True} and stored.state == "Closed"
    assert table.count() == 50
    assert table.count(account) == sum(1 for row in rows if row.account == account)


def test_put_many_keeps_the_last_row_of_a_number_given_twice(backend: Backend) -> None:
    rows = df_orders(5)
    again = replace(rows[2], status="SHIPPED", document={"again": True})
    assert backend.df_orders.put_many([*rows, again]) in (5, 6)
    assert backend.df_orders.count() == 5
    stored = backend.df_orders.get(rows[2].number)
    assert stored is not None and stored.document == {"again": True} and stored.status == "SHIPPED"


def test_rows_read_are_whole_and_equal_to_what_was_put(backend: Backend) -> None:
    rows = purchase_orders(20)
    backend.purchase_orders.put_many(rows)
    for row in rows:
        assert backend.purchase_orders.get(row.number) == row
    assert backend.purchase_orders.get("NOPE") is None


def test_another_process_pages_what_one_wrote(backend: Backend) -> None:
    rows = purchase_orders(100)
    backend.purchase_orders.put_many(rows)
    other = backend.reopen()
    first = backend.purchase_orders.query(PurchaseOrderQuery("acme-na", limit=5))
    second = other.purchase_orders.query(PurchaseOrderQuery("acme-na", limit=5, after=first[-1].sort_key))
    expected = _reference(rows, PurchaseOrderQuery("acme-na", limit=10))
    assert [row.number for row in first + second] == expected


def test_clear_empties_the_tables(backend: Backend) -> None:
    backend.purchase_orders.put_many(purchase_orders(10))
    backend.df_orders.put_many(df_orders(10))
    backend.purchase_orders.clear()
    backend.df_orders.clear()
    assert backend.purchase_orders.count() == 0 and backend.df_orders.count() == 0
    assert backend.purchase_orders.query(PurchaseOrderQuery("acme-na")) == []
    assert (
        backend.df_orders.query(DfOrderQuery("acme-na", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")) == []
    )
