"""What every Direct Fulfillment document module works on: the accounts, the document store, the DF order
table and each account's world builder (warehouses, catalogue), with reads of an account's own things."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from mockserver.accounts import AccountDirectory, VendorAccount
from mockserver.domain.catalogue import Product
from mockserver.domain.direct_fulfillment import orders
from mockserver.domain.direct_fulfillment.orders import StoredDfOrder
from mockserver.domain.direct_fulfillment.world import DfWorldBuilder, Warehouse
from mockserver.store import Store
from mockserver.store.df_orders import DfOrderTable

META = ("df", "world")
LABELS = "df.labels"  # per account: the shipping labels Amazon issued, by purchase order number
CONTAINER_LABELS = "df.container-labels"  # per account, by vendor container id
INVOICES = "df.invoices"  # per account, by invoice number
INVENTORY = "df.inventory"  # by "account:warehouse": {"items": {sku: {"available", "obsolete", "at"}}}
TRANSACTIONS = "df.transactions"
SUBMISSIONS = "df.submissions"


@dataclass
class DfState:
    """What the Direct Fulfillment modules work on: accounts, store, DF order table and world builders."""

    accounts: AccountDirectory
    store: Store
    table: DfOrderTable
    seed: int
    _builders: dict[str, DfWorldBuilder] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def account(self, name: str) -> VendorAccount:
        return self.accounts.accounts[name]

    def builder(self, account: str) -> DfWorldBuilder:
        builder = self._builders.get(account)
        if builder is None:
            with self._lock:
                builder = self._builders.get(account)
                if builder is None:
                    builder = self._builders[account] = DfWorldBuilder(self.seed, self.account(account))
        return builder

    def vendor_codes(self, account: str) -> set[str]:
        return set(self.account(account).vendor_codes)

    def warehouse(self, account: str, warehouse_id: Any) -> Warehouse | None:
        """One of the account's warehouses (another account's is indistinguishable from none)."""
        return self.builder(account).warehouses.get(str(warehouse_id))

    def warehouses(self, account: str) -> list[Warehouse]:
        return list(self.builder(account).warehouses.values())

    def product(self, account: str, vendor_code: str, asin: Any, sku: Any) -> Product | None:
        """A catalogue product of the vendor code, by vendor SKU or ASIN."""
        products = self.builder(account).products.get(vendor_code, {})
        if sku and str(sku) in products:
            return products[str(sku)]
        if asin:
            for product in products.values():
                if product.asin == asin:
                    return product
        return None

    def load(self, account: str, number: Any) -> StoredDfOrder | None:
        return orders.load(self.table, account, str(number))

    def view(self, account: str, number: Any) -> StoredDfOrder | None:
        return orders.view(self.table, account, str(number))

    def stock(self, account: str, warehouse_id: str) -> dict[str, Any]:
        """The warehouse's reported stock by SKU ({} until the vendor reports any)."""
        document = self.store.get(INVENTORY, f"{account}:{warehouse_id}") or {}
        items: dict[str, Any] = document.get("items") or {}
        return items

    def out_of_stock(self, account: str, warehouse_id: str) -> frozenset[str]:
        """The SKUs the warehouse reported at zero (or obsolete): Amazon orders none of them."""
        return frozenset(
            sku
            for sku, entry in self.stock(account, warehouse_id).items()
            if entry.get("obsolete") or int(entry.get("available", 0)) <= 0
        )

    def reset(self) -> None:
        with self._lock:
            self._builders.clear()
