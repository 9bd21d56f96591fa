"""The Retail world without HTTP: deterministic seeding, and the two purchase-order tables answering alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.domain.retail.service import RetailWorld
from mockserver.store.purchase_orders import (
    MemoryPurchaseOrderTable,
    PurchaseOrderQuery,
    PurchaseOrderTable,
    SqlitePurchaseOrderTable,
)
from tests.unit.domain.world_support import frozen_world


def _world(table: PurchaseOrderTable, seed: int = 7, size: int = 40) -> RetailWorld:
    return frozen_world(table, seed=seed, size=size)


def _documents(table: PurchaseOrderTable, account: str) -> list[dict[str, object]]:
    return [row.document for row in table.query(PurchaseOrderQuery(account=account, limit=10_000))]


def test_the_same_seed_gives_the_same_world() -> None:
    first, second = MemoryPurchaseOrderTable(), MemoryPurchaseOrderTable()
    _world(first)
    _world(second)
    assert _documents(first, "acme-na") == _documents(second, "acme-na")
    third = MemoryPurchaseOrderTable()
    _world(third, seed=8)
    assert _documents(first, "acme-na") != _documents(third, "acme-na")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"descending": True},
        {"state": "New"},
        {"open_only": False},
        {"confirmation": "PARTIALLY_ACCEPTED"},
        {"receiving": "RECEIVED", "descending": True},
        {"vendor_code": "ACMEC", "has_cancelled": True},
        {"created_after": "2026-02-25T00:00:00Z", "created_before": "2026-02-28T00:00:00Z"},
        {"changed_after": "2026-01-01T00:00:00Z"},
    ],
)
def test_sqlite_and_memory_tables_answer_every_query_alike(tmp_path: Path, query: dict[str, object]) -> None:
    memory, sqlite = MemoryPurchaseOrderTable(), SqlitePurchaseOrderTable(tmp_path / "po.sqlite3")
    _world(memory)
    _world(sqlite)
    try:
        for limit in (3, 1000):
            pages: list[list[str]] = []
            for table in (memory, sqlite):
                numbers: list[str] = []
                after = None
                while True:
                    rows = table.query(
                        PurchaseOrderQuery(account="acme-na", limit=limit, after=after, **query)
                    )  # type: ignore[arg-type]
                    numbers += [row.number for row in rows]
                    if len(rows) < limit:
                        break
                    after = rows[-1].sort_key
                pages.append(numbers)
            assert pages[0] == pages[1]
            assert len(pages[0]) == len(set(pages[0]))
    finally:
        sqlite.close()
