"""The Retail Procurement world of one emulator: the one object the handlers and the admin API hold.

It owns the world's state (accounts, document store, purchase-order table, clock, transaction log) and the
order of things: the world is brought up to the sandbox clock (arrivals, receipts, transactions due) at the
start of each call, then the document module of the operation answers. The rules live in those modules
(orders, acknowledgements, shipments, shipment_details, labels, invoices, receiving), one per document kind.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from mockserver.accounts import AccountDirectory, VendorAccount
from mockserver.domain.clock import SandboxClock, iso
from mockserver.domain.retail import (
    acknowledgements,
    invoices,
    labels,
    orders,
    receiving,
    seeding,
    shipment_details,
    shipments,
)
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder
from mockserver.domain.retail.state import (
    ASN,
    INVOICES,
    META,
    RECEIVING,
    RECEIVING_DUE,
    SHIPMENTS,
    RetailState,
)
from mockserver.domain.retail.world import WorldBuilder
from mockserver.domain.seeding import Progress, collector_held
from mockserver.domain.transactions import TransactionLog
from mockserver.store import Store
from mockserver.store.purchase_orders import PurchaseOrderTable

EXAMPLE_PURCHASE_ORDER = seeding.EXAMPLE_PURCHASE_ORDER


class RetailWorld:
    def __init__(
        self,
        accounts: AccountDirectory,
        store: Store,
        table: PurchaseOrderTable,
        clock: SandboxClock,
        *,
        seed: int,
        seed_size: int,
        processing_delay: float,
        arrival_interval: float = 3600.0,
    ) -> None:
        self.accounts = accounts
        self.store = store
        self.table = table
        self.clock = clock
        self.seed = seed
        self.seed_size = seed_size
        self.arrival_interval = arrival_interval
        self.state = RetailState(accounts, store, table)
        self._lock = threading.RLock()
        self.transactions = TransactionLog(store, processing_delay, clock.now)
        self.transactions.processors.update(
            {
                "acknowledgement": self._process_acknowledgements,
                "shipmentConfirmation": self._confirm_shipments,
                "shipment": self._process_shipments,
                "invoice": self._process_invoices,
            }
        )
        self._builders: dict[str, WorldBuilder] = {}

    # Seeding ---------------------------------------------------------------------------------------
    def ensure_seeded(self, progress: Progress | None = None) -> None:
        meta = self.store.get(*META)
        if meta is None or meta.get("seed") != self.seed or meta.get("size") != self.seed_size:
            self.seed_world(progress)

    def seed_world(self, progress: Progress | None = None) -> None:
        with self._lock:
            self.table.clear()
            for collection in (ASN, SHIPMENTS, INVOICES):
                for account in self.accounts.accounts.values():
                    self.store.clear(f"{collection}:{account.name}")
            receiving.clear_index(self.state)
            self.transactions.reset()
            anchor = self.clock.now().replace(minute=0, second=0, microsecond=0)
            # One bulk load of every account's rows, generated as the table takes them.
            with collector_held():
                self.table.put_many(
                    seeding.seed_rows(self.state, self.seed, self.seed_size, anchor, progress)
                )
            self.store.put(
                *META,
                {"seed": self.seed, "size": self.seed_size, "anchor": iso(anchor), "arrivals": 0, "last": {}},
            )
            self._builders.clear()

    def _cancel_item(self, po: StoredPurchaseOrder, sequence: str, at: str) -> None:
        seeding.cancel_item(po, sequence, at)

    # Time moving -----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Bring the world up to the clock: arrivals and changes of POs, warehouse receipts, transactions."""
        with self._lock:
            now = self.clock.now()
            seeding.arrivals(self.state, self.seed, self.arrival_interval, self._builder, now)
            receiving.receipts(self.state, now)
            self.transactions.settle()

    def _builder(self, account: VendorAccount) -> WorldBuilder:
        builder = self._builders.get(account.name)
        if builder is None:
            builder = self._builders[account.name] = WorldBuilder(self.seed, account, set())
        return builder

    # Reads -----------------------------------------------------------------------------------------
    def get_purchase_order(self, account: str, number: str) -> dict[str, Any]:
        self.tick()
        return orders.get_purchase_order(self.state, account, number)

    def list_purchase_orders(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        return orders.list_purchase_orders(self.state, account, query, self.clock.now())

    def list_purchase_order_statuses(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        return orders.list_purchase_order_statuses(self.state, account, query, self.clock.now())

    def shipment_details(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        return shipment_details.shipment_details(self.state, account, query, self.clock.now())

    def shipment_labels(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        return labels.shipment_labels(self.state, account, query, self.clock.now())

    def receiving_pending(self, account: str) -> dict[str, str]:
        return receiving.receiving_pending(self.state, account)

    # Submissions -----------------------------------------------------------------------------------
    def submit(self, account: str, kind: str, body: Any) -> str:
        with self._lock:
            self.tick()
            return self.transactions.submit(account, kind, body)

    def transaction_status(self, account: str, transaction_id: str) -> dict[str, Any]:
        self.tick()
        return self.transactions.status(account, transaction_id).to_payload()

    def _process_acknowledgements(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        return acknowledgements.process_acknowledgements(self.state, account, body, now)

    def _confirm_shipments(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        return shipments.confirm_shipments(self.state, account, body, now)

    def _process_shipments(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        return shipments.process_shipments(self.state, account, body, now)

    def _process_invoices(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        return invoices.process_invoices(self.state, account, body, now)

    # Admin -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.seed_world()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No submission is applied and the world is not brought up to the clock meanwhile (a snapshot)."""
        with self._lock:
            yield

    def reload(self) -> None:
        """The store was replaced under the world (a snapshot restored): read again what is kept in memory."""
        with self._lock:
            self.transactions.reload()
            self._builders.clear()

    def catalogue(self, account: str) -> list[dict[str, Any]]:
        return self._builder(self.accounts.accounts[account]).catalogue()


__all__ = ["EXAMPLE_PURCHASE_ORDER", "RECEIVING", "RECEIVING_DUE", "RetailWorld"]
