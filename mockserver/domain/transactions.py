"""Vendor transactions: every submission answers 202 with a transactionId at once, is Processing, and after a
processing delay ends Success or Failure with Amazon-shaped errors.

A transaction is written to the store (with the submitted documents) before the 202 is answered, so a restart
loses nothing; the outcome is decided when the delay has passed, in submission order, by the processor that
the world registers for the transaction's kind. Each family keeps its own log (its own collections), so a
transaction of one family is unknown to the other's status operation, as on Amazon.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from mockserver.domain.errors import NotFound
from mockserver.ids import unique_id
from mockserver.store import Store

log = logging.getLogger(__name__)

COLLECTION = "vendor.transactions"
SUBMISSIONS = "vendor.submissions"


@dataclass(frozen=True)
class Outcome:
    """What a processor may return instead of a bare error list: the errors and what the transaction made
    (kept with it, and shown by the status read: the orders a sandbox scenario generated)."""

    errors: list[dict[str, str]]
    result: dict[str, Any] | None = None


# A processor applies one submission and returns the errors that fail it ([] is Success), or an Outcome.
Processor = Callable[[str, Any, datetime], "list[dict[str, str]] | Outcome"]


@dataclass(frozen=True)
class TransactionStatus:
    transaction_id: str
    status: str
    errors: list[dict[str, str]]
    result: dict[str, Any] | None = None
    kind: str = ""

    def to_payload(self) -> dict[str, Any]:
        status: dict[str, Any] = {"transactionId": self.transaction_id, "status": self.status}
        if self.status == "Failure":
            status["errors"] = self.errors
        return {"transactionStatus": status}


def _fingerprint(account: str, kind: str, body: Any) -> str:
    try:
        canonical = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # beyond orjson (a huge integer): the standard library's canonical form
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(f"{account}\n{kind}\n".encode() + canonical).hexdigest()


class TransactionLog:
    def __init__(
        self,
        store: Store,
        processing_delay: float,
        clock: Callable[[], datetime],
        *,
        collection: str = COLLECTION,
        submissions: str = SUBMISSIONS,
    ) -> None:
        self.store = store
        self.collection = collection
        self.submissions = submissions
        self.processing_delay = processing_delay
        self.clock = clock
        self.processors: dict[str, Processor] = {}
        # Called with (kind, "Success" | "Failure") as each transaction is decided (the metrics count here).
        self.observers: list[Callable[[str, str], None]] = []
        self._lock = threading.RLock()
        self._sequence = 0
        # (sequence, transactionId, submitted_at): when each is due is known without reading the store.
        self._pending: deque[tuple[int, str, float]] = deque()
        self._load_pending()

    def _load_pending(self) -> None:
        pending = []
        for key, document in self.store.scan(self.collection):
            self._sequence = max(self._sequence, int(document.get("sequence", 0)))
            if document.get("status") == "Processing":
                pending.append((int(document.get("sequence", 0)), key, float(document["submitted_at"])))
        self._pending = deque(sorted(pending))

    def submit(self, account: str, kind: str, body: Any, *, deduplicate: bool = True) -> str:
        """Record a submission (durably) and return its transactionId; the caller answers 202. With
        `deduplicate`, a body identical to an earlier submission of the kind fails as its duplicate."""
        now = self.clock()
        with self._lock:
            self._sequence += 1
            transaction_id = f"{now:%Y%m%d%H%M%S}-{unique_id()}"
            fingerprint = _fingerprint(account, kind, body)
            first = self.store.get(self.submissions, fingerprint) if deduplicate else None
            duplicate_of = first["transaction_id"] if first else None
            if first is None and deduplicate:
                self.store.put(self.submissions, fingerprint, {"transaction_id": transaction_id})
            submitted_at = time.time()
            self.store.put(
                self.collection,
                transaction_id,
                {
                    "sequence": self._sequence,
                    "account": account,
                    "kind": kind,
                    "body": body,
                    "status": "Processing",
                    "errors": [],
                    "submitted_at": submitted_at,
                    "duplicate_of": duplicate_of,
                },
            )
            self._pending.append((self._sequence, transaction_id, submitted_at))
        return transaction_id

    def settle(self) -> None:
        """Decide every transaction whose processing delay has passed, in submission order."""
        wall = time.time()
        if not self._pending or wall < self._pending[0][2] + self.processing_delay:
            return
        with self._lock:
            while self._pending:
                _, transaction_id, submitted_at = self._pending[0]
                if wall < submitted_at + self.processing_delay:
                    break
                self._pending.popleft()
                document = self.store.get(self.collection, transaction_id)
                if document is None or document.get("status") != "Processing":
                    continue
                decided = self._decide(document)
                if isinstance(decided, Outcome):
                    errors, result = decided.errors, decided.result
                else:
                    errors, result = decided, None
                document["status"] = "Failure" if errors else "Success"
                document["errors"] = errors
                if result is not None:
                    document["result"] = result
                self.store.put(self.collection, transaction_id, document)
                for observe in self.observers:
                    observe(str(document.get("kind") or ""), document["status"])

    def _decide(self, document: dict[str, Any]) -> list[dict[str, str]] | Outcome:
        if document.get("duplicate_of"):
            return [
                {
                    "code": "DUPLICATE_TRANSACTION",
                    "message": "The submission repeats an earlier one.",
                    "details": (
                        "submission: rule duplicate-submission: identical to transaction "
                        f"{document['duplicate_of']}."
                    ),
                }
            ]
        processor = self.processors.get(document["kind"])
        if processor is None:
            return []
        try:
            return processor(document["account"], document["body"], self.clock())
        except Exception:  # the emulator's own fault: the transaction fails, later calls keep working
            log.exception("processing transaction of kind %s failed", document["kind"])
            return [
                {
                    "code": "InternalFailure",
                    "message": "We encountered an internal error. Please try again.",
                    "details": "The emulator could not process this submission.",
                }
            ]

    def status(self, account: str, transaction_id: str) -> TransactionStatus:
        self.settle()
        document = self.store.get(self.collection, transaction_id)
        if document is None or document.get("account") != account:
            raise NotFound(f"No transaction {transaction_id}.")
        return TransactionStatus(
            transaction_id,
            document["status"],
            list(document.get("errors") or []),
            document.get("result"),
            str(document.get("kind") or ""),
        )

    def reset(self) -> None:
        with self._lock:
            self.store.clear(self.collection)
            self.store.clear(self.submissions)
            self._pending.clear()
            self._sequence = 0

    def reload(self) -> None:
        """Read what is pending again from the store, after the store was replaced under the log (a snapshot
        restored)."""
        with self._lock:
            self._sequence = 0
            self._load_pending()
