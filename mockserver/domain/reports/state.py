"""What every Reports module works on: the accounts, the document store, the Retail and Direct Fulfillment
tables the reports read, the sandbox clock, and each account's history (its sell-through model, calibrated
once and kept in the store).

Every piece of report state is a document in the store: reports and schedules per account, the reports
still processing (`PENDING`, so a call reads one small document to know whether anything is due), the
report documents and the URL signing key. Nothing that must survive a request is kept in the process.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from mockserver.accounts import AccountDirectory, VendorAccount
from mockserver.domain.catalogue import VendorCodeContext, vendor_code_contexts
from mockserver.domain.clock import SandboxClock, parse_iso
from mockserver.domain.reports.demand import ProductModel, calibrate, product_models
from mockserver.domain.reports.documents import DOCUMENTS
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder
from mockserver.domain.retail.state import META as RETAIL_META
from mockserver.store import Store
from mockserver.store.df_orders import DfOrderTable
from mockserver.store.purchase_orders import PurchaseOrderQuery, PurchaseOrderTable

META = ("reports", "world")
MODELS = "reports.models"  # by account: the calibrated sell-through model and the history's dates
REPORTS = "reports.reports"  # f"{REPORTS}:{account}", by reportId
PENDING = "reports.pending"  # by account: {"due": {reportId: POSIX time its processing ends}}
SCHEDULES = "reports.schedules"  # f"{SCHEDULES}:{account}", by reportScheduleId
HISTORY_DAYS = 730  # the world's sales history: two years before the clock when it was seeded
CALIBRATION_ROWS = 5000  # seeded purchase orders read to calibrate an account's model


@dataclass(frozen=True)
class AccountHistory:
    """An account's sales history: the days it covers and each product's calibrated sell-through model."""

    history_start: date  # the first day with data
    era: date  # the first day the world's purchase orders received anything (before it: modeled)
    products: tuple[ProductModel, ...]

    def marketplace(self, marketplace_id: str) -> list[ProductModel]:
        return [product for product in self.products if product.marketplace_id == marketplace_id]


@dataclass
class ReportsState:
    """What the Reports modules work on: accounts, store, Retail and DF order tables, the sandbox clock."""

    accounts: AccountDirectory
    store: Store
    purchase_orders: PurchaseOrderTable
    df_orders: DfOrderTable
    clock: SandboxClock
    seed: int
    processing_time: float
    _contexts: dict[str, list[VendorCodeContext]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def account(self, name: str) -> VendorAccount:
        return self.accounts.accounts[name]

    def contexts(self, account: str) -> list[VendorCodeContext]:
        """The account's vendor codes with their catalogues, drawn as Retail and DF draw them (a cache of a
        pure function of the seed)."""
        with self._lock:
            found = self._contexts.get(account)
            if found is None:
                rng = random.Random(f"{self.seed}:{account}")
                found = self._contexts[account] = vendor_code_contexts(self.seed, self.account(account), rng)
            return found

    def anchor(self) -> datetime:
        """When the Retail world was seeded: the account histories end there."""
        meta = self.store.get(*RETAIL_META) or {}
        return parse_iso(str(meta["anchor"])) if meta.get("anchor") else self.clock.now()

    def history(self, account: str) -> AccountHistory:
        """The account's history: calibrated from its seeded purchase orders the first time it is asked
        for (only what the seeding made counts, so asking later gives the same model) and kept."""
        stored = self.store.get(MODELS, account)
        if stored is None:
            stored = self._calibrate(account)
            self.store.put_if_absent(MODELS, account, stored)
        return AccountHistory(
            date.fromisoformat(stored["historyStart"]),
            date.fromisoformat(stored["era"]),
            tuple(product_models(self.contexts(account), stored["products"])),
        )

    def _calibrate(self, account: str) -> dict[str, Any]:
        anchor = self.anchor()
        seeded_until = anchor.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows = self.purchase_orders.query(
            PurchaseOrderQuery(account=account, limit=CALIBRATION_ROWS, created_before=seeded_until)
        )
        ordered: dict[str, int] = {}
        first_receipt: str | None = None
        for row in rows:
            po = StoredPurchaseOrder.from_row(row)
            for item in po.details["items"]:
                track = po.tracking.get(item["itemSequenceNumber"])
                asin = item.get("amazonProductIdentifier")
                if track is None or not asin:
                    continue
                ordered[asin] = ordered.get(asin, 0) + int(track["ordered"])
                received_at = track.get("lastReceiveDate")
                if received_at and received_at <= seeded_until:
                    first_receipt = received_at if first_receipt is None else min(first_receipt, received_at)
        span = 30
        if rows:
            span = max(30, (anchor - parse_iso(rows[0].created)).days)
        era = parse_iso(first_receipt).date() if first_receipt else anchor.date()
        return {
            "historyStart": (anchor.date() - timedelta(days=HISTORY_DAYS)).isoformat(),
            "era": era.isoformat(),
            "products": calibrate(self.seed, account, self.contexts(account), ordered, span),
        }

    def reset(self) -> None:
        """Forget every report, schedule, document and history (the world was seeded anew)."""
        for name in self.accounts.accounts:
            self.store.clear(f"{REPORTS}:{name}")
            self.store.clear(f"{SCHEDULES}:{name}")
        for collection in (MODELS, PENDING, DOCUMENTS):
            self.store.clear(collection)


__all__ = [
    "HISTORY_DAYS",
    "META",
    "MODELS",
    "PENDING",
    "REPORTS",
    "SCHEDULES",
    "AccountHistory",
    "ReportsState",
]
