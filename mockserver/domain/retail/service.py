"""The Retail Procurement world of one emulator: the one object the handlers and the admin API hold.

It owns the world's state (accounts, document store, purchase-order table, clock, transaction log) and the
order of things: the world is brought up to the sandbox clock (arrivals, receipts, transactions due) at the
start of each call, then the document module of the operation answers. The rules live in those modules
(orders, acknowledgements, shipments, shipment_details, labels, invoices, receiving), one per document kind.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mockserver.accounts import AccountDirectory, VendorAccount
from mockserver.domain.clock import SandboxClock, iso, parse_iso
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
from mockserver.domain.seeding import Progress, collector_held, due_slots, seed_once
from mockserver.domain.transactions import TransactionLog
from mockserver.domain.world import LockedWorld
from mockserver.store import Store
from mockserver.store.purchase_orders import PurchaseOrderTable

EXAMPLE_PURCHASE_ORDER = seeding.EXAMPLE_PURCHASE_ORDER
# The lock of everything that changes the world (arrivals, receipts, transactions decided, seeding): held by
# one thread of one process at a time, however many processes share the store.
LOCK = "retail.world"


class RetailWorld(LockedWorld):
    lock_name = LOCK

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
        self.transactions = TransactionLog(store, processing_delay, clock.now, lock=LOCK)
        self.transactions.processors.update(
            {
                "acknowledgement": self._process_acknowledgements,
                "shipmentConfirmation": self._confirm_shipments,
                "shipment": self._process_shipments,
                "invoice": self._process_invoices,
            }
        )
        self._builders: dict[str, WorldBuilder] = {}
        # The sandbox time before which no arrival or receipt is due. A lone process (a store no other process
        # writes) reads it from the store once, and again only after something may have changed it; where
        # other processes write, what it follows from is read on every call and it is kept only while that is
        # unchanged (`_quiet_read`).
        self._quiet_until: str | None = None
        self._quiet_read: tuple[Any, Any] | None = None

    # Seeding ---------------------------------------------------------------------------------------
    def ensure_seeded(self, progress: Progress | None = None) -> None:
        """Seed the world unless the store holds this one (seed and size)."""
        seed_once(self.store.lock(LOCK), self._seeded, lambda: self.seed_world(progress))

    def _seeded(self) -> bool:
        meta = self.store.get(*META)
        return meta is not None and meta.get("seed") == self.seed and meta.get("size") == self.seed_size

    def seed_world(self, progress: Progress | None = None) -> None:
        with self.store.lock(LOCK):
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
            self._quiet_until = None

    def _cancel_item(self, po: StoredPurchaseOrder, sequence: str, at: str) -> None:
        seeding.cancel_item(po, sequence, at)

    # Time moving -----------------------------------------------------------------------------------
    def tick(self, settle: bool = True) -> None:
        """Bring the world up to the clock: arrivals and changes of POs, warehouse receipts, transactions
        (`settle`: a submission decides those due itself, in its own write). What is due is read first,
        without the lock: a call with nothing due waits for no other process."""
        if not self._due(self.clock.now(), settle):
            return
        with self.store.lock(LOCK):
            now = self.clock.now()
            seeding.arrivals(self.state, self.seed, self.arrival_interval, self._builder, now)
            receiving.receipts(self.state, now)
            if settle:
                self.transactions.settle()
            self._quiet_until = None

    def _due(self, now: datetime, settle: bool = True) -> bool:
        if settle and self.transactions.due():
            return True
        stamp = iso(now)
        shared = self.store.shared
        if not shared and self._quiet_until is not None and stamp < self._quiet_until:
            return False
        meta = self.store.get(*META)
        receipt = receiving.receiving_due(self.state).get("next")
        if (
            self._quiet_until is not None
            and stamp < self._quiet_until
            and (meta, receipt) == self._quiet_read  # as read when the time was worked out
        ):
            return False
        upcoming: list[str] = []
        if meta is not None:
            anchor = parse_iso(meta["anchor"])
            done = int(meta.get("arrivals", 0))
            if due_slots((now - anchor).total_seconds(), self.arrival_interval, done):
                return True
            upcoming.append(iso(anchor + timedelta(seconds=(done + 1) * self.arrival_interval)))
        if receipt is not None:
            if receipt <= stamp:
                return True
            upcoming.append(receipt)
        if meta is not None:
            self._quiet_until = min(upcoming)
            self._quiet_read = (meta, receipt)
        return False

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
        self.tick(settle=not self.transactions.decides_with_submissions)
        return self.transactions.submit(account, kind, body)

    def transaction_status(self, account: str, transaction_id: str) -> dict[str, Any]:
        self.tick()
        return self.transactions.status(account, transaction_id).to_payload()

    def _process_acknowledgements(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        self._quiet_until = None  # a processor may index receipts: what is due is read again
        return acknowledgements.process_acknowledgements(self.state, account, body, now)

    def _confirm_shipments(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        self._quiet_until = None
        return shipments.confirm_shipments(self.state, account, body, now)

    def _process_shipments(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        self._quiet_until = None
        return shipments.process_shipments(self.state, account, body, now)

    def _process_invoices(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        self._quiet_until = None
        return invoices.process_invoices(self.state, account, body, now)

    # Admin -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.seed_world()

    def _forget_kept(self) -> None:
        self._builders.clear()
        self._quiet_until = None

    def catalogue(self, account: str) -> list[dict[str, Any]]:
        return self._builder(self.accounts.accounts[account]).catalogue()


__all__ = ["EXAMPLE_PURCHASE_ORDER", "RECEIVING", "RECEIVING_DUE", "RetailWorld"]
