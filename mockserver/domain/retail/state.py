"""What every Retail document module works on: the accounts, the document store and the purchase-order table,
with the account's purchase orders read for a submission (a private copy) or for an answer (shared)."""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.accounts import AccountDirectory, VendorAccount
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder
from mockserver.store import Store
from mockserver.store.purchase_orders import PurchaseOrderTable

META = ("retail", "world")
ASN = "retail.shipment-confirmations"
SHIPMENTS = "retail.shipments"
INVOICES = "retail.invoices"
# Receiving index: the pending shipment confirmations per account, and when the next one is due.
RECEIVING = "retail.receiving"
RECEIVING_DUE = ("retail.receiving-due", "next")


@dataclass
class RetailState:
    """What the Retail modules work on: the accounts, the document store and the purchase-order table."""

    accounts: AccountDirectory
    store: Store
    table: PurchaseOrderTable

    def account(self, name: str) -> VendorAccount:
        return self.accounts.accounts[name]

    def vendor_codes(self, account: str) -> set[str]:
        return set(self.accounts.accounts[account].vendor_codes)

    def load(self, account: str, number: str) -> StoredPurchaseOrder | None:
        """The account's PO as a private copy, for the submissions to change (they change it before they know
        whether the whole submission is accepted: the stored PO must not change with it)."""
        row = self.table.get(number)
        if row is None or row.account != account:
            return None
        return StoredPurchaseOrder.editable(row)

    def view(self, account: str, number: str) -> StoredPurchaseOrder | None:
        """The account's PO, read-only: the table's own document (no copy), for answers that only read it."""
        row = self.table.get(number)
        if row is None or row.account != account:
            return None
        return StoredPurchaseOrder.from_row(row)
