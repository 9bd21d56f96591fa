"""Seeding and purchase-order reads of the Retail world, in-process, memory and SQLite side by side.

    python bench/seed_bench.py [--size N] [--quick] [--seed S] [--rounds R]

For each purchase-order table (memory, SQLite in a temporary directory) it seeds a world of `--size` purchase
orders in total (the `seed_size` setting is per account: size / accounts, rounded up) with the sandbox clock
frozen, and prints the seconds the seeding took (SQLite syncs the load to its log before it returns and copies
it into the database file on a thread of its own: the seconds until that is done too); then the microseconds
per `RetailWorld.list_purchase_orders` call (the whole domain read: the clock catch-up, the query, the page)
with limit 10 and 100 under a few filters, one of them an item receive status no purchase order has (an empty
result). Best of `--rounds` batches. This is a benchmark, not a test: it compares against nothing and judges
nothing.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from mockserver.accounts import load_accounts  # noqa: E402
from mockserver.domain.clock import SandboxClock  # noqa: E402
from mockserver.domain.retail.service import RetailWorld  # noqa: E402
from mockserver.settings import Settings  # noqa: E402
from mockserver.store import MemoryStore, SqliteStore, Store  # noqa: E402
from mockserver.store.purchase_orders import (  # noqa: E402
    MemoryPurchaseOrderTable,
    PurchaseOrderTable,
    SqlitePurchaseOrderTable,
)

ACCOUNT = "acme-na"
FROZEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
EVER = "2000-01-01T00:00:00Z"
STORES = ("memory", "sqlite")
# (label, query of getPurchaseOrders without the limit)
FILTERS: tuple[tuple[str, dict[str, str]], ...] = (
    ("default window (7 days)", {}),
    ("all time, DESC", {"createdAfter": EVER, "sortOrder": "DESC"}),
    ("state Acknowledged", {"createdAfter": EVER, "purchaseOrderState": "Acknowledged"}),
    ("receive status RECEIVED", {"createdAfter": EVER, "itemReceiveStatus": "RECEIVED"}),
    (
        "confirmation PARTIALLY_ACCEPTED",
        {"createdAfter": EVER, "itemConfirmationStatus": "PARTIALLY_ACCEPTED"},
    ),
    ("receive PARTIALLY_RECEIVED (empty)", {"createdAfter": EVER, "itemReceiveStatus": "PARTIALLY_RECEIVED"}),
)
LIMITS = (10, 100)


def _open(kind: str, directory: Path) -> tuple[Store, PurchaseOrderTable]:
    if kind == "memory":
        return MemoryStore(), MemoryPurchaseOrderTable()
    # As `serve --store sqlite` opens them: the document store and the purchase-order table share one file.
    return SqliteStore(directory / "state.sqlite3"), SqlitePurchaseOrderTable(directory / "state.sqlite3")


def _world(kind: str, directory: Path, seed: int, seed_size: int) -> tuple[RetailWorld, float, float, float]:
    store, table = _open(kind, directory)
    clock = SandboxClock(store)
    clock.freeze(FROZEN)
    world = RetailWorld(
        load_accounts(Settings().fixtures_dir),
        store,
        table,
        clock,
        seed=seed,
        seed_size=seed_size,
        processing_delay=0,
    )
    started, cpu = time.perf_counter(), time.process_time()
    world.ensure_seeded()
    seeded, used = time.perf_counter() - started, time.process_time() - cpu
    if isinstance(table, SqlitePurchaseOrderTable):
        table.wait_for_checkpoint()  # the copy of the load into the database file, in the background
    return world, seeded, used, time.perf_counter() - started


def _calibration() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this machine is right now (a shared one varies)."""
    started = time.process_time()
    total = 0
    for number in range(1_000_000):
        total += number * number
    return time.process_time() - started


def _microseconds(call: Callable[[], Any], rounds: int, budget: float) -> float:
    """Best-of-`rounds` mean microseconds per call; each batch runs about `budget` seconds."""
    call()  # warm up (and the first tick)
    started = time.perf_counter()
    call()
    once = max(time.perf_counter() - started, 1e-6)
    batch = max(1, min(2000, int(budget / once)))
    best = math.inf
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(batch):
            call()
        best = min(best, (time.perf_counter() - started) / batch)
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="purchase orders seeded in total")
    parser.add_argument("--quick", action="store_true", help="a small world (600 POs) and short batches")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="batches per read figure (the best counts)")
    options = parser.parse_args(argv)
    size = 600 if options.quick else options.size
    budget = 0.02 if options.quick else 0.3
    accounts = len(load_accounts(Settings().fixtures_dir).accounts)
    seed_size = max(1, math.ceil(size / accounts))

    print("vendor-sandbox seed and read benchmark (in-process)")
    print(f"python:   {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"world:    {seed_size * accounts} purchase orders ({accounts} accounts x seed_size {seed_size})")
    print(
        f"machine:  {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start, "
        f"a fixed Python loop in {_calibration():.3f} s (compare runs by it)"
    )
    print()
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    settled: dict[str, float] = {}
    reads: dict[tuple[str, int], dict[str, float]] = {}
    counts: dict[tuple[str, int], dict[str, int]] = {}
    for kind in STORES:
        with tempfile.TemporaryDirectory(prefix="seed-bench-") as directory:
            world, seconds[kind], cpu[kind], settled[kind] = _world(
                kind, Path(directory), options.seed, seed_size
            )
            try:
                for label, query in FILTERS:
                    for limit in LIMITS:
                        arguments = {**query, "limit": str(limit)}

                        def call(arguments: dict[str, str] = arguments, world: RetailWorld = world) -> Any:
                            return world.list_purchase_orders(ACCOUNT, arguments)

                        counts.setdefault((label, limit), {})[kind] = len(call()["orders"])
                        reads.setdefault((label, limit), {})[kind] = _microseconds(
                            call, options.rounds, budget
                        )
            finally:
                world.table.close()
                world.store.close()

    print(f"{'seeding':<42} {'memory':>12} {'sqlite':>12}")
    print(f"{'seconds to seed':<42} {seconds['memory']:>12.2f} {seconds['sqlite']:>12.2f}")
    print(f"{'  CPU seconds (all threads of the process)':<42} {cpu['memory']:>12.2f} {cpu['sqlite']:>12.2f}")
    label = "  seconds until checkpointed (background)"
    print(f"{label:<42} {settled['memory']:>12.2f} {settled['sqlite']:>12.2f}")
    print()
    print(f"{'list_purchase_orders, us per call':<42} {'memory':>12} {'sqlite':>12}  orders")
    for (label, limit), figures in reads.items():
        found = counts[(label, limit)]
        shown = str(found["memory"]) if found["memory"] == found["sqlite"] else f"{found}"
        print(
            f"{label + f', limit {limit}':<42} {figures['memory']:>12.0f} {figures['sqlite']:>12.0f}  {shown}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
