"""The Reports world of one emulator: the one object the Reports handlers and the document URL hold.

As the other worlds, it brings the account up to the sandbox clock at the start of each call (the reports its
schedules owe are created, the reports whose processing time is over are decided), then answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from mockserver.accounts import AccountDirectory
from mockserver.domain.clock import SandboxClock
from mockserver.domain.reports import documents, reports, schedules
from mockserver.domain.reports.specification import accept_request
from mockserver.domain.reports.state import META, ReportsState
from mockserver.domain.seeding import seed_once
from mockserver.store import Store
from mockserver.store.df_orders import DfOrderTable
from mockserver.store.purchase_orders import PurchaseOrderTable

LOCK = "reports.world"


class ReportsWorld:
    def __init__(
        self,
        accounts: AccountDirectory,
        store: Store,
        purchase_orders: PurchaseOrderTable,
        df_orders: DfOrderTable,
        clock: SandboxClock,
        *,
        seed: int,
        processing_time: float,
        worlds_up_to_date: Callable[[], None] = lambda: None,
    ) -> None:
        self.clock = clock
        # The Retail and DF worlds brought up to the clock (receipts, arrivals) before a report reads them.
        self.worlds_up_to_date = worlds_up_to_date
        self.state = ReportsState(accounts, store, purchase_orders, df_orders, clock, seed, processing_time)

    def _locked(self) -> AbstractContextManager[None]:
        """The Reports world's lock, the store's: one for every process sharing the store. Taken before the
        Retail and DF worlds' (a report brings them up to the clock), never after."""
        return self.state.store.lock(LOCK)

    # Seeding ---------------------------------------------------------------------------------------
    def ensure_seeded(self) -> None:
        """Reports belong to the world they were made from: a world seeded anew starts without any."""
        seed_once(self._locked(), self._seeded, self.reset)

    def _seeded(self) -> bool:
        state = self.state
        meta = state.store.get(*META)
        anchor = state.anchor().isoformat()
        return meta is not None and meta.get("seed") == state.seed and meta.get("anchor") == anchor

    def reset(self) -> None:
        with self._locked():
            self.state.reset()
            self.state.store.put(*META, {"seed": self.state.seed, "anchor": self.state.anchor().isoformat()})

    # Time moving -----------------------------------------------------------------------------------
    @contextmanager
    def paused(self) -> Iterator[None]:
        """No report created or decided meanwhile (a snapshot)."""
        with self._locked():
            yield

    @contextmanager
    def _up_to_date(self, account: str) -> Iterator[datetime]:
        """The account brought up to the clock: schedules run, reports due decided; yields the time."""
        with self._locked():
            self.worlds_up_to_date()
            now = self.clock.now()
            schedules.run_schedules(self.state, account, now)
            reports.settle(self.state, account, self.clock.timestamp())
            yield now

    # Reports ---------------------------------------------------------------------------------------
    def create_report(self, account: str, body: dict[str, Any]) -> str:
        request = accept_request(self.state.account(account), body)
        with self._up_to_date(account):
            return reports.create(self.state, account, request, self.clock.timestamp())

    def get_report(self, account: str, report_id: str) -> dict[str, Any]:
        with self._up_to_date(account):
            return reports.get(self.state, account, report_id, self.clock.timestamp())

    def list_reports(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        with self._up_to_date(account):
            return reports.list_reports(self.state, account, query, self.clock.timestamp())

    def cancel_report(self, account: str, report_id: str) -> None:
        with self._up_to_date(account):
            reports.cancel(self.state, account, report_id, self.clock.timestamp())

    def report_document(
        self, account: str, document_id: str, origin: str, content_encoding: bool = False
    ) -> dict[str, Any]:
        """getReportDocument: the document's id, its pre-signed URL on the emulator's own origin (good for
        five minutes of sandbox time) and its compression."""
        with self._up_to_date(account) as now:
            reports.document_owner(self.state, account, document_id)
            query = documents.presigned_query(self.state.store, document_id, now, content_encoding)
        url = f"{origin}{documents.PATH_PREFIX}{quote(document_id)}?{urlencode(query)}"
        return {
            "reportDocumentId": document_id,
            "url": url,
            "compressionAlgorithm": documents.GZIP,
        }

    def download(self, document_id: str, query: dict[str, str]) -> documents.Download:
        """What the pre-signed URL answers (no SP-API token: the signature is the authority)."""
        return documents.download(self.state.store, document_id, query, self.clock.now())

    # Schedules -------------------------------------------------------------------------------------
    def create_schedule(self, account: str, body: dict[str, Any]) -> str:
        with self._up_to_date(account) as now:
            return schedules.create_schedule(self.state, account, body, now)

    def list_schedules(self, account: str, report_types: list[str]) -> dict[str, Any]:
        with self._up_to_date(account):
            return schedules.list_schedules(self.state, account, report_types)

    def get_schedule(self, account: str, schedule_id: str) -> dict[str, Any]:
        with self._up_to_date(account):
            return schedules.get_schedule(self.state, account, schedule_id)

    def cancel_schedule(self, account: str, schedule_id: str) -> None:
        with self._up_to_date(account):
            schedules.cancel_schedule(self.state, account, schedule_id)


__all__ = ["ReportsWorld"]
