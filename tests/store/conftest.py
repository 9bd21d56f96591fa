"""The one behavioural suite of the stores: every test here runs against memory, SQLite and Redis.

`backend` opens all a store kind offers (document store, purchase-order and DF order tables, runtime) on a
fresh state; Redis tests skip without a server (fail under CI), see tests/redis_support.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mockserver.store import Runtime, Store, open_runtime, open_store
from mockserver.store.df_orders import DfOrderTable, open_df_order_table
from mockserver.store.purchase_orders import PurchaseOrderTable, open_purchase_order_table
from tests.redis_support import clean, redis_url

KINDS = ("memory", "sqlite", "redis")


def run_in_threads(work: Callable[[int], None], count: int) -> None:
    """`work(index)` for each index below `count`, all in threads of their own at once; returns when all are
    done."""
    threads = [threading.Thread(target=work, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class Backend:
    kind: str
    location: str  # what --store says: memory, sqlite or the Redis URL
    data_dir: Path
    store: Store
    purchase_orders: PurchaseOrderTable
    df_orders: DfOrderTable
    runtime: Runtime

    def reopen(self) -> Backend:
        """Another process's view of the same state (memory has none: the same objects)."""
        if self.kind == "memory":
            return self
        return open_backend(self.kind, self.location, self.data_dir)

    def close(self) -> None:
        for part in (self.purchase_orders, self.df_orders, self.store, self.runtime):
            part.close()


def open_backend(kind: str, location: str, data_dir: Path) -> Backend:
    # SQLite as `serve --workers` opens it: shared by processes, with the runtime in a file beside it.
    workers = 2 if kind == "sqlite" else 1
    return Backend(
        kind,
        location,
        data_dir,
        open_store(location, data_dir, shared=kind == "sqlite"),
        open_purchase_order_table(location, data_dir),
        open_df_order_table(location, data_dir),
        open_runtime(location, data_dir, workers=workers),
    )


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    kind = request.param
    location = kind
    if kind == "redis":
        location = redis_url()
        clean(location)
    opened = open_backend(kind, location, tmp_path / "data")
    yield opened
    opened.close()
    if kind == "redis":
        clean(location)
