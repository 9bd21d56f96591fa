"""The Direct Fulfillment world of one emulator: the one object the DF handlers and the admin API hold.

As `RetailWorld`, it brings the world up to the sandbox clock (orders arriving, Amazon cancelling some,
transactions due) at the start of each call, then the document module of the operation answers. Both API
versions go through it; `version` only decides the shape of an answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.accounts import AccountDirectory
from mockserver.domain.clock import SandboxClock, iso
from mockserver.domain.direct_fulfillment import (
    acknowledgements,
    customer_invoices,
    inventory,
    invoices,
    labels,
    orders,
    packing_slips,
    scenarios,
    seeding,
    shipments,
)
from mockserver.domain.direct_fulfillment.orders import V1
from mockserver.domain.direct_fulfillment.state import (
    CONTAINER_LABELS,
    INVOICES,
    LABELS,
    META,
    SUBMISSIONS,
    TRANSACTIONS,
    DfState,
)
from mockserver.domain.errors import NotFound
from mockserver.domain.seeding import Progress, collector_held, seed_once
from mockserver.domain.transactions import Processor, TransactionLog
from mockserver.domain.world import LockedWorld
from mockserver.store import Store
from mockserver.store.df_orders import DfOrderTable

SCENARIO = "df.scenario"
# The lock of everything that changes the DF world, across every process sharing the store.
LOCK = "df.world"
# Submission kinds, by the operation that makes them.
KINDS = {
    "submitAcknowledgement": "df.acknowledgement",
    "submitShippingLabelRequest": "df.shippingLabel",
    "submitShipmentConfirmations": "df.shipmentConfirmation",
    "submitShipmentStatusUpdates": "df.shipmentStatusUpdate",
    "submitInvoice": "df.invoice",
    "submitInventoryUpdate": "df.inventory",
}


class DirectFulfillmentWorld(LockedWorld):
    lock_name = LOCK

    def __init__(
        self,
        accounts: AccountDirectory,
        store: Store,
        table: DfOrderTable,
        clock: SandboxClock,
        *,
        seed: int,
        seed_size: int,
        processing_delay: float,
    ) -> None:
        self.accounts = accounts
        self.store = store
        self.table = table
        self.clock = clock
        self.seed = seed
        self.seed_size = seed_size
        self.state = DfState(accounts, store, table, seed)
        self.transactions = TransactionLog(
            store, processing_delay, clock.now, collection=TRANSACTIONS, submissions=SUBMISSIONS, lock=LOCK
        )
        processors: dict[str, Any] = {
            "df.acknowledgement": acknowledgements.process_acknowledgements,
            "df.shippingLabel": labels.process_label_requests,
            "df.shipmentConfirmation": shipments.process_shipment_confirmations,
            "df.shipmentStatusUpdate": shipments.process_status_updates,
            "df.invoice": invoices.process_invoices,
            "df.inventory": inventory.process_inventory_update,
            SCENARIO: scenarios.generate,
        }
        for kind, process in processors.items():
            self.transactions.processors[kind] = self._processor(process)

    def _processor(self, process: Any) -> Processor:
        def processor(account: str, body: Any, now: datetime) -> Any:
            return process(self.state, account, body, now)

        return processor

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
            self.state.reset()
            for account in self.accounts.accounts:
                for collection in (LABELS, CONTAINER_LABELS, INVOICES):
                    self.store.clear(f"{collection}:{account}")
            self.store.clear("df.inventory")
            self.transactions.reset()
            anchor = self.clock.now().replace(minute=0, second=0, microsecond=0)
            with collector_held():
                self.table.put_many(seeding.seed_rows(self.state, self.seed_size, anchor, progress))
            self.store.put(
                *META,
                {"seed": self.seed, "size": self.seed_size, "anchor": iso(anchor), "arrivals": 0, "last": {}},
            )

    def reset(self) -> None:
        self.seed_world()

    def _forget_kept(self) -> None:
        self.state.reset()

    # Time moving -----------------------------------------------------------------------------------
    def tick(self, settle: bool = True) -> None:
        """Bring the world up to the clock (`settle`: a submission decides the transactions due itself, in
        its own write); what is due is read first, without the lock."""
        if not (seeding.arrivals_due(self.state, self.clock.now()) or (settle and self.transactions.due())):
            return
        with self.store.lock(LOCK):
            seeding.arrivals(self.state, self.clock.now())
            if settle:
                self.transactions.settle()

    # Orders ----------------------------------------------------------------------------------------
    def get_orders(self, account: str, query: dict[str, Any], version: str) -> dict[str, Any]:
        self.tick()
        return orders.list_orders(self.table, account, query, version)

    def get_order(self, account: str, number: str, version: str) -> dict[str, Any]:
        self.tick()
        return orders.get_order(self.table, account, number, version)

    # Submissions and their transactions ------------------------------------------------------------
    def submit(self, account: str, operation_id: str, body: Any) -> str:
        self.tick(settle=not self.transactions.decides_with_submissions)
        return self.transactions.submit(account, KINDS[operation_id], body)

    def transaction_status(self, account: str, transaction_id: str, version: str) -> dict[str, Any]:
        self.tick()
        status = self.transactions.status(account, transaction_id)
        if status.kind == SCENARIO:
            raise NotFound(f"No transaction {transaction_id}.")
        transaction: dict[str, Any] = {"transactionId": transaction_id, "status": status.status}
        if status.status == "Failure":
            transaction["errors"] = status.errors if version == V1 else {"errors": status.errors}
        return {"transactionStatus": transaction}

    # Shipping --------------------------------------------------------------------------------------
    def create_shipping_labels(self, account: str, number: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock(LOCK):
            self.tick()
            return labels.create_shipping_labels(self.state, account, number, body, self.clock.now())

    def create_container_label(self, account: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.store.lock(LOCK):
            self.tick()
            return labels.create_container_label(self.state, account, body, self.clock.now())

    def shipping_label(self, account: str, number: str) -> dict[str, Any]:
        self.tick()
        return labels.get_shipping_label(self.state, account, number)

    def shipping_labels(self, account: str, query: dict[str, Any], version: str) -> dict[str, Any]:
        self.tick()
        return labels.list_shipping_labels(self.state, account, query, version)

    def packing_slip(self, account: str, number: str) -> dict[str, Any]:
        self.tick()
        return packing_slips.get_packing_slip(self.state, account, number)

    def packing_slips(self, account: str, query: dict[str, Any], version: str) -> dict[str, Any]:
        self.tick()
        return packing_slips.list_packing_slips(self.state, account, query, version)

    def customer_invoice(self, account: str, number: str) -> dict[str, Any]:
        self.tick()
        return customer_invoices.get_customer_invoice(self.state, account, number)

    def customer_invoices(self, account: str, query: dict[str, Any], version: str) -> dict[str, Any]:
        self.tick()
        return customer_invoices.list_customer_invoices(self.state, account, query, version)

    # Sandbox test data -----------------------------------------------------------------------------
    def generate_order_scenarios(self, account: str, body: dict[str, Any]) -> str:
        with self.store.lock(LOCK):
            self.tick(settle=not self.transactions.decides_with_submissions)
            scenarios.check_request(self.state, account, body)
            # Each request is new test data, as in Amazon's sandbox: an identical one is no duplicate.
            return self.transactions.submit(account, SCENARIO, body, deduplicate=False)

    def order_scenarios(self, account: str, transaction_id: str) -> dict[str, Any]:
        self.tick()
        status = self.transactions.status(account, transaction_id)
        if status.kind != SCENARIO:
            raise NotFound(f"No transaction {transaction_id}.")
        return scenarios.status_payload(transaction_id, status.status, status.result)

    # Admin -----------------------------------------------------------------------------------------
    def warehouses(self, account: str) -> list[dict[str, Any]]:
        """The account's warehouses with their reported stock (`/_sandbox/df/warehouses/<account>`)."""
        stock = inventory.stock(self.state, account)
        return [
            {**warehouse.describe(), "stock": stock.get(warehouse.warehouse_id, {})}
            for warehouse in self.state.warehouses(account)
        ]
