"""A Retail world without HTTP for unit tests: memory document store, the sandbox clock frozen at FROZEN."""

from __future__ import annotations

from datetime import UTC, datetime

from mockserver.accounts import load_accounts
from mockserver.domain.clock import SandboxClock
from mockserver.domain.retail.service import RetailWorld
from mockserver.settings import Settings
from mockserver.store import MemoryStore
from mockserver.store.purchase_orders import PurchaseOrderTable

FROZEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def frozen_world(table: PurchaseOrderTable, *, seed: int, size: int) -> RetailWorld:
    """A seeded world on `table`, no processing delay (a transaction is decided at the next tick)."""
    store = MemoryStore()
    clock = SandboxClock(store)
    clock.freeze(FROZEN)
    world = RetailWorld(
        load_accounts(Settings().fixtures_dir),
        store,
        table,
        clock,
        seed=seed,
        seed_size=size,
        processing_delay=0,
    )
    world.ensure_seeded()
    return world
