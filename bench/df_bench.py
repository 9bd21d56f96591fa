"""Seeding and reads of the Direct Fulfillment world, in-process, memory and SQLite side by side.

    python bench/df_bench.py [--size N] [--baseline N] [--quick] [--seed S] [--rounds R]

For each DF order table (memory, SQLite in a temporary directory) it seeds one account (`acme-na`) with
`--size` DF orders, with the sandbox clock frozen, and prints the seconds the seeding took (SQLite: until the
load is synced to its log; the copy into the database file runs on a thread of its own); then it seeds a
`--baseline` world (1,000 orders) the same way and prints the microseconds per getOrders page (the whole
domain read: the clock catch-up, the query, the page in the 2021-12-28 shape) at both sizes, and their ratio,
with limit 10 and 100 under a few filters, and a getPackingSlips page. Best of `--rounds` batches. A
benchmark, not a test: it judges nothing.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY))

from mockserver.accounts import AccountDirectory, load_accounts  # noqa: E402
from mockserver.domain.clock import SandboxClock, iso  # noqa: E402
from mockserver.domain.direct_fulfillment.service import DirectFulfillmentWorld  # noqa: E402
from mockserver.settings import Settings  # noqa: E402
from mockserver.store import MemoryStore, SqliteStore, Store  # noqa: E402
from mockserver.store.df_orders import DfOrderTable, MemoryDfOrderTable, SqliteDfOrderTable  # noqa: E402

ACCOUNT = "acme-na"
FROZEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STORES = ("memory", "sqlite")
WINDOW = {"createdAfter": iso(FROZEN - timedelta(days=7)), "createdBefore": iso(FROZEN)}
# (label, operation, query without the limit)
READS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("getOrders, last 7 days", "orders", WINDOW),
    ("getOrders, last 7 days, DESC", "orders", {**WINDOW, "sortOrder": "DESC"}),
    ("getOrders, status SHIPPED", "orders", {**WINDOW, "status": "SHIPPED"}),
    ("getOrders, one warehouse", "orders", {**WINDOW, "shipFromPartyId": "ACME1W2"}),
    ("getOrders, numbers only", "orders", {**WINDOW, "includeDetails": "false"}),
    ("getPackingSlips, last 7 days", "packing", WINDOW),
)
LIMITS = (10, 100)


def _open(kind: str, directory: Path) -> tuple[Store, DfOrderTable]:
    if kind == "memory":
        return MemoryStore(), MemoryDfOrderTable()
    # As `serve --store sqlite` opens them: the document store and the DF order table share one file.
    return SqliteStore(directory / "state.sqlite3"), SqliteDfOrderTable(directory / "state.sqlite3")


def _one_account() -> AccountDirectory:
    accounts = load_accounts(Settings().fixtures_dir)
    return AccountDirectory(
        applications=accounts.applications,
        accounts={ACCOUNT: accounts.accounts[ACCOUNT]},
        authorizations=[item for item in accounts.authorizations if item.account.name == ACCOUNT],
    )


def _world(kind: str, directory: Path, seed: int, size: int) -> tuple[DirectFulfillmentWorld, float]:
    store, table = _open(kind, directory)
    clock = SandboxClock(store)
    clock.freeze(FROZEN)
    world = DirectFulfillmentWorld(
        _one_account(), store, table, clock, seed=seed, seed_size=size, processing_delay=0
    )
    world.state.builder(ACCOUNT)  # the account's Fakers and catalogue: start-up, not seeding
    started = time.perf_counter()
    world.ensure_seeded()
    return world, time.perf_counter() - started


def _microseconds(call: Callable[[], Any], rounds: int, budget: float) -> float:
    call()
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


def _reads(
    world: DirectFulfillmentWorld, rounds: int, budget: float
) -> dict[tuple[str, int], tuple[float, int]]:
    figures: dict[tuple[str, int], tuple[float, int]] = {}
    for label, operation, query in READS:
        for limit in LIMITS:
            arguments = {**query, "limit": str(limit)}

            def call(arguments: dict[str, str] = arguments, operation: str = operation) -> Any:
                if operation == "orders":
                    return world.get_orders(ACCOUNT, arguments, "2021-12-28")["orders"]
                return world.packing_slips(ACCOUNT, arguments, "2021-12-28")["packingSlips"]

            figures[(label, limit)] = (_microseconds(call, rounds, budget), len(call()))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="DF orders seeded for the account")
    parser.add_argument("--baseline", type=int, default=1_000, help="the small world pages are compared with")
    parser.add_argument("--quick", action="store_true", help="2,000 against 200 orders, short batches")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="batches per read figure (the best counts)")
    options = parser.parse_args(argv)
    size, baseline = (2_000, 200) if options.quick else (options.size, options.baseline)
    budget = 0.02 if options.quick else 0.3

    print("vendor-sandbox Direct Fulfillment seed and read benchmark (in-process)")
    print(f"python:   {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"world:    {size:,} DF orders of {ACCOUNT} (pages compared with a world of {baseline:,})")
    print(f"machine:  {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
    print()
    seconds: dict[str, float] = {}
    reads: dict[str, dict[int, dict[tuple[str, int], tuple[float, int]]]] = {}
    for kind in STORES:
        for orders in (size, baseline):
            with tempfile.TemporaryDirectory(prefix="df-bench-") as directory:
                world, took = _world(kind, Path(directory), options.seed, orders)
                try:
                    if orders == size:
                        seconds[kind] = took
                    reads.setdefault(kind, {})[orders] = _reads(world, options.rounds, budget)
                finally:
                    if isinstance(world.table, SqliteDfOrderTable):
                        world.table.wait_for_checkpoint()
                    world.table.close()
                    world.store.close()

    print(f"{'seeding':<36} {'memory':>12} {'sqlite':>12}")
    print(f"{f'seconds to seed {size:,} orders':<36} {seconds['memory']:>12.2f} {seconds['sqlite']:>12.2f}")
    print()
    header = f"{'us per page':<36}"
    for kind in STORES:
        header += f" {kind + f' {baseline:,}':>14} {kind + f' {size:,}':>15} {'ratio':>6}"
    print(header + "  items")
    for label, _, _ in READS:
        for limit in LIMITS:
            line = f"{label + f', limit {limit}':<36}"
            items = ""
            for kind in STORES:
                small, found_small = reads[kind][baseline][(label, limit)]
                large, found_large = reads[kind][size][(label, limit)]
                line += f" {small:>14.0f} {large:>15.0f} {large / small:>6.2f}"
                items = f"{found_small}/{found_large}"
            print(f"{line}  {items}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
