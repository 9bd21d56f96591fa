"""The purchase-order tables: what a read returns, what a write keeps, the filters against a brute-force
reference, the item-status filters on both stores, and SQLite answering every filter from an index."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder
from mockserver.domain.retail.service import RetailWorld
from mockserver.store.purchase_orders import (
    CONFIRMATION_STATUSES,
    RECEIVE_STATUSES,
    MemoryPurchaseOrderTable,
    PurchaseOrderQuery,
    PurchaseOrderRow,
    PurchaseOrderTable,
    SqlitePurchaseOrderTable,
)
from mockserver.store.redis.tables import RedisPurchaseOrderTable
from tests.redis_support import clean, redis_url
from tests.unit.domain.world_support import FROZEN, frozen_world

ACCOUNT = "acme-na"


def _world(table: PurchaseOrderTable, size: int = 60) -> RetailWorld:
    return frozen_world(table, seed=11, size=size)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PurchaseOrderTable]:
    opened: PurchaseOrderTable
    if request.param == "memory":
        opened = MemoryPurchaseOrderTable()
    elif request.param == "sqlite":
        opened = SqlitePurchaseOrderTable(tmp_path / "po.db")
    else:
        url = redis_url()
        clean(url)
        opened = RedisPurchaseOrderTable(url)
    yield opened
    opened.close()


def _all(table: PurchaseOrderTable, account: str = ACCOUNT) -> list[PurchaseOrderRow]:
    return table.query(PurchaseOrderQuery(account=account, limit=1_000_000))


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _partially_received(world: RetailWorld) -> str:
    """Make one acknowledged, not yet received PO partially received, its first item short by one each and
    the others complete (",PARTIALLY_RECEIVED,RECEIVED,"), stored as the warehouse's receipt would be."""
    for row in _all(world.table):
        po = StoredPurchaseOrder.editable(row)
        tracks = list(po.tracking.values())
        if (
            po.state == "Acknowledged"
            and len(tracks) > 1
            and all(t["accepted"] > 1 and not t["received"] for t in tracks)
        ):
            for track in tracks:
                track["shipped"] = track["received"] = track["accepted"]
                track["lastReceiveDate"] = "2026-03-01T10:00:00Z"
            tracks[0]["received"] -= 1
            po.updated = max(po.updated, "2026-03-01T10:00:00Z")
            world.table.put(po.to_row())
            return po.number
    raise AssertionError("no acknowledged PO waiting for its goods")


def test_both_tables_read_back_the_same_documents(tmp_path: Path) -> None:
    memory, sqlite = MemoryPurchaseOrderTable(), SqlitePurchaseOrderTable(tmp_path / "po.db")
    _world(memory)
    _world(sqlite)
    try:
        for account in ("acme-na", "nordwind-eu", "globex-readonly"):
            rows = _all(memory, account)
            assert len(rows) == 60
            assert [row.number for row in rows] == [row.number for row in _all(sqlite, account)]
            for row in rows:
                stored = sqlite.get(row.number)
                assert stored is not None
                assert stored == row  # every column and the document
                assert _json(row.document) == row.document  # plain JSON, as the store kept it before
    finally:
        sqlite.close()


def test_each_row_carries_the_columns_its_document_gives(table: PurchaseOrderTable) -> None:
    world = _world(table)
    _partially_received(world)
    for row in _all(table):
        assert StoredPurchaseOrder.from_row(row).to_row() == row


def test_put_keeps_its_own_copy_of_the_row(table: PurchaseOrderTable) -> None:
    world = _world(table, size=30)
    row = StoredPurchaseOrder.editable(_all(world.table)[0]).to_row()
    before = copy.deepcopy(row.document)
    table.put(row)
    row.document["order"]["purchaseOrderState"] = "Closed"
    row.document["tracking"].clear()
    stored = table.get(row.number)
    assert stored is not None
    assert stored.document == before


def test_an_editable_purchase_order_shares_nothing_with_the_table(table: PurchaseOrderTable) -> None:
    world = _world(table, size=30)
    row = _all(world.table)[0]
    before = copy.deepcopy(row.document)
    po = StoredPurchaseOrder.editable(row)
    po.order["orderDetails"]["items"][0]["orderedQuantity"]["amount"] = 0
    po.order["orderDetails"]["shipToParty"]["partyId"] = "XXX1"
    next(iter(po.tracking.values()))["accepted"] = 99
    po.set_state("Acknowledged", "2026-03-01T11:00:00Z")
    for stored in (table.get(row.number), _all(table)[0]):
        assert stored is not None
        assert stored.document == before
    # Another PO of the world shares the fulfilment centre's party with this one: untouched too.
    party = before["order"]["orderDetails"]["shipToParty"]["partyId"]
    assert all(
        stored.document["order"]["orderDetails"]["shipToParty"]["partyId"] != "XXX1" for stored in _all(table)
    )
    assert party != "XXX1"


def _acknowledgement(po: StoredPurchaseOrder) -> dict[str, Any]:
    return {
        "purchaseOrderNumber": po.number,
        "sellingParty": {"partyId": po.vendor_code},
        "acknowledgementDate": "2026-03-01T11:00:00Z",
        "items": [
            {
                "itemSequenceNumber": item["itemSequenceNumber"],
                "amazonProductIdentifier": item["amazonProductIdentifier"],
                "vendorProductIdentifier": item["vendorProductIdentifier"],
                "orderedQuantity": item["orderedQuantity"],
                "itemAcknowledgements": [
                    {"acknowledgementCode": "Accepted", "acknowledgedQuantity": item["orderedQuantity"]}
                ],
            }
            for item in po.details["items"]
        ],
    }


def test_a_submission_that_fails_late_leaves_every_stored_purchase_order_as_it_was(
    table: PurchaseOrderTable,
) -> None:
    """The first acknowledgement is valid and is applied to the PO before the second one fails: the PO the
    table holds (and hands to readers) must not have changed with it."""
    world = _world(table)
    new = [row for row in _all(table) if row.state == "New" and not row.is_changed]
    first = StoredPurchaseOrder.from_row(new[0])
    before = copy.deepcopy(new[0].document)
    failing = {"acknowledgements": [_acknowledgement(first), {**_acknowledgement(first), "items": []}]}
    errors = world._process_acknowledgements(ACCOUNT, failing, FROZEN)
    assert errors
    stored = table.get(first.number)
    assert stored is not None
    assert stored.document == before
    assert stored.state == "New"
    # The same acknowledgement alone is accepted and stored: the failure above was the second one's.
    assert (
        world._process_acknowledgements(ACCOUNT, {"acknowledgements": [_acknowledgement(first)]}, FROZEN)
        == []
    )
    stored = table.get(first.number)
    assert stored is not None
    assert stored.state == "Acknowledged"
    assert before["order"]["purchaseOrderState"] == "New"


@pytest.mark.parametrize("status", RECEIVE_STATUSES)
def test_the_receive_status_filter_finds_exactly_the_purchase_orders_with_an_item_in_it(
    table: PurchaseOrderTable, status: str
) -> None:
    world = _world(table)
    partial = _partially_received(world)
    expected = [
        row.number
        for row in _all(table)
        if any(
            StoredPurchaseOrder.from_row(row).receive_status(sequence) == status
            for sequence in row.document["tracking"]
        )
    ]
    found = [
        row.number for row in table.query(PurchaseOrderQuery(account=ACCOUNT, limit=10_000, receiving=status))
    ]
    assert found == expected
    assert (partial in found) == (status != "NOT_RECEIVED")
    if status == "PARTIALLY_RECEIVED":
        assert found == [partial]
    else:
        assert len(found) > 1


@pytest.mark.parametrize("status", ["RECEIVED,", "", "received", "NOT_A_STATUS"])
def test_a_receive_or_confirmation_status_no_item_can_have_finds_nothing(
    table: PurchaseOrderTable, status: str
) -> None:
    _world(table, size=30)
    assert table.query(PurchaseOrderQuery(account=ACCOUNT, receiving=status)) == []
    assert table.query(PurchaseOrderQuery(account=ACCOUNT, confirmation=status)) == []


QUERIES: list[dict[str, Any]] = [
    {},
    {"descending": True},
    {"state": "Acknowledged"},
    {"state": "Closed", "descending": True},
    {"open_only": True},
    {"open_only": False, "receiving": "NOT_RECEIVED"},
    {"vendor_code": "ACMEC"},
    {"vendor_code": "NOPE"},
    {"ship_to": "PHX6", "descending": True},
    {"is_changed": True},
    {"is_changed": False, "has_cancelled": False},
    {"has_cancelled": True},
    {"confirmation": "UNCONFIRMED"},
    {"confirmation": "PARTIALLY_ACCEPTED", "descending": True},
    {"receiving": "RECEIVED", "state": "Closed"},
    {"receiving": "PARTIALLY_RECEIVED"},
    {"created_after": "2026-02-20T00:00:00Z", "created_before": "2026-02-27T00:00:00Z", "descending": True},
    {"changed_after": "2026-02-25T00:00:00Z"},
    {"updated_after": "2026-02-01T00:00:00Z", "updated_before": "2026-02-20T00:00:00Z"},
]


@pytest.mark.parametrize("query", QUERIES)
def test_paged_queries_answer_as_the_brute_force_reference(
    table: PurchaseOrderTable, query: dict[str, Any]
) -> None:
    world = _world(table)
    _partially_received(world)
    everything = _all(table)
    # A PO changed after the load moves between filters: the indexes must follow it.
    moved = StoredPurchaseOrder.editable(next(row for row in everything if row.state == "New"))
    world._cancel_item(moved, moved.details["items"][0]["itemSequenceNumber"], "2026-03-01T11:30:00Z")
    moved.set_state("Acknowledged", "2026-03-01T11:30:00Z")
    table.put(moved.to_row())
    everything = [table.get(row.number) or row for row in everything]
    reference = PurchaseOrderQuery(account=ACCOUNT, **query)
    expected = sorted(
        (row for row in everything if reference.matches(row)),
        key=lambda row: row.sort_key,
        reverse=bool(query.get("descending")),
    )
    for limit in (4, 1000):
        numbers: list[str] = []
        after = None
        while True:
            rows = table.query(PurchaseOrderQuery(account=ACCOUNT, limit=limit, after=after, **query))
            numbers += [row.number for row in rows]
            if len(rows) < limit:
                break
            after = rows[-1].sort_key
        assert numbers == [row.number for row in expected]


def _synthetic_rows(count: int) -> Iterator[PurchaseOrderRow]:
    """Rows with the value spread of a seeded world and tiny documents (the plan depends on the rows' columns,
    not on the documents): 100,000 of them load in seconds."""
    for index in range(count):
        account = ("acme-na", "nordwind-eu", "globex-readonly")[index % 3]
        day = 1 + index % 28
        acknowledged = index % 10 < 7
        yield PurchaseOrderRow(
            account=account,
            number=f"P{index:07d}",
            created=f"2026-02-{day:02d}T{index % 24:02d}:00:00Z",
            updated=f"2026-02-{day:02d}T{index % 24:02d}:30:00Z",
            state=("New", "Acknowledged", "Closed")[index % 3],
            vendor_code=("V1", "V2")[index % 2],
            ship_to=("ABE8", "PHX6", "ONT8")[index % 3],
            changed=f"2026-02-{day:02d}T23:00:00Z" if index % 25 == 0 else None,
            is_changed=index % 25 == 0,
            has_cancelled=index % 30 == 0,
            confirmation=",ACCEPTED," if acknowledged else ",UNCONFIRMED,",
            receiving=",RECEIVED," if index % 10 < 4 else ",NOT_RECEIVED,",
            document={"n": index},
        )


def test_sqlite_answers_every_filter_from_an_index_at_100000_purchase_orders(tmp_path: Path) -> None:
    table = SqlitePurchaseOrderTable(tmp_path / "po.db")
    try:
        assert table.put_many(_synthetic_rows(100_000)) == 100_000
        empty = PurchaseOrderQuery(account=ACCOUNT, limit=11, receiving="PARTIALLY_RECEIVED")
        plan = table.explain(empty)
        assert plan, "the query runs SQL"
        assert not any(step.startswith("SCAN") for step in plan), plan
        assert any("po_receiving_partially_received" in step for step in plan), plan
        assert table.query(empty) == []
        filters: list[dict[str, Any]] = [
            {"state": "New"},
            {"open_only": True},
            {"open_only": False},
            {"vendor_code": "NOPE"},
            {"ship_to": "NOPE"},
            {"number": "P0000042"},
            {"is_changed": True},
            {"is_changed": False},
            {"has_cancelled": True},
            {"changed_after": "2026-02-27T00:00:00Z"},
            {"updated_after": "2026-02-28T00:00:00Z"},
            {"created_after": "2026-02-27T00:00:00Z", "created_before": "2026-02-28T00:00:00Z"},
            {"descending": True, "after": ("2026-02-10T00:00:00Z", "P0000000")},
            *({"confirmation": status} for status in CONFIRMATION_STATUSES),
            *({"receiving": status, "descending": True} for status in RECEIVE_STATUSES),
        ]
        for query in filters:
            plan = table.explain(PurchaseOrderQuery(account=ACCOUNT, limit=11, **query))
            assert plan and not any(step.startswith("SCAN") for step in plan), (query, plan)
    finally:
        table.close()


def test_sqlite_moves_the_documents_of_an_earlier_data_directory(tmp_path: Path) -> None:
    """Earlier versions kept the document in a `body` column of `purchase_orders`."""
    path = tmp_path / "state.sqlite3"
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        CREATE TABLE purchase_orders (
            number TEXT PRIMARY KEY, account TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
            changed TEXT, state TEXT NOT NULL, vendor_code TEXT NOT NULL, ship_to TEXT NOT NULL,
            is_changed INTEGER NOT NULL, has_cancelled INTEGER NOT NULL, confirmation TEXT NOT NULL,
            receiving TEXT NOT NULL, body TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX po_by_created ON purchase_orders (account, created, number);
        """
    )
    for number, created in (("B0000002", "2026-02-02T00:00:00Z"), ("A0000001", "2026-02-01T00:00:00Z")):
        connection.execute(
            "INSERT INTO purchase_orders VALUES (?, 'acme-na', ?, ?, NULL, 'New', 'V1', 'ABE8', 0, 0, "
            "',UNCONFIRMED,', ',NOT_RECEIVED,', ?)",
            (number, created, created, json.dumps({"number": number})),
        )
    connection.commit()
    connection.close()
    table = SqlitePurchaseOrderTable(path)
    try:
        rows = _all(table)
        assert [(row.number, row.document) for row in rows] == [
            ("A0000001", {"number": "A0000001"}),
            ("B0000002", {"number": "B0000002"}),
        ]
        stored = table.get("B0000002")
        assert stored is not None
        assert stored.receiving == ",NOT_RECEIVED,"
        table.put(
            PurchaseOrderRow(**{**{f: getattr(stored, f) for f in stored.__slots__}, "state": "Closed"})
        )
        assert [row.number for row in table.query(PurchaseOrderQuery(account=ACCOUNT, open_only=False))] == [
            "B0000002"
        ]
        assert table.count() == 2
    finally:
        table.close()


def test_a_bulk_load_given_a_number_twice_keeps_the_last(table: PurchaseOrderTable) -> None:
    rows = list(_synthetic_rows(5))
    again = PurchaseOrderRow(
        **{**{f: getattr(rows[1], f) for f in rows[1].__slots__}, "document": {"n": "again"}}
    )
    assert table.put_many([*rows, again]) in (5, 6)
    assert table.count() == 5
    stored = table.get(rows[1].number)
    assert stored is not None
    assert stored.document == {"n": "again"}


@pytest.mark.parametrize(("fsync", "level"), [(False, 1), (True, 2)])
def test_sqlite_is_back_to_its_synchronous_level_after_a_bulk_load_and_after_a_failed_one(
    tmp_path: Path, fsync: bool, level: int
) -> None:
    """A bulk load runs with synchronous=OFF; every later write must be durable again (a 2xx survives a
    crash of the emulator: NORMAL in WAL mode; a power loss too with `fsync`: FULL)."""
    table = SqlitePurchaseOrderTable(tmp_path / "po.db", fsync=fsync)

    def failing() -> Iterator[PurchaseOrderRow]:
        yield from _synthetic_rows(10)
        raise RuntimeError("the seeding broke")

    try:
        with pytest.raises(RuntimeError, match="the seeding broke"):
            table.put_many(failing())
        assert table._connection().execute("PRAGMA synchronous").fetchone()[0] == level
        assert table.count() == 0  # rolled back
        assert table.put_many(_synthetic_rows(1000)) == 1000
        assert table._connection().execute("PRAGMA synchronous").fetchone()[0] == level
        assert table.count() == 1000
        assert table.explain(PurchaseOrderQuery(account=ACCOUNT, receiving="RECEIVED"))  # indexes rebuilt
        assert not any(
            step.startswith("SCAN")
            for step in table.explain(PurchaseOrderQuery(account=ACCOUNT, receiving="PARTIALLY_RECEIVED"))
        )
    finally:
        table.close()


def test_a_query_by_number_answers_as_the_reference(table: PurchaseOrderTable) -> None:
    _world(table, size=30)
    row = _all(table)[5]
    found = table.query(PurchaseOrderQuery(account=ACCOUNT, number=row.number))
    assert [found_row.number for found_row in found] == [row.number]
    assert table.query(PurchaseOrderQuery(account="nordwind-eu", number=row.number)) == []
    assert table.query(PurchaseOrderQuery(account=ACCOUNT, number=row.number, after=row.sort_key)) == []
    assert table.query(PurchaseOrderQuery(account=ACCOUNT, number=row.number, state="Nope")) == []
    before = PurchaseOrderQuery(account=ACCOUNT, number=row.number, after=row.sort_key, descending=True)
    assert table.query(before) == []
    assert [
        r.number for r in table.query(PurchaseOrderQuery(account=ACCOUNT, number=row.number, after=("0", "")))
    ] == [row.number]
