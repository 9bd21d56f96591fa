"""Vendor transactions: every submission answers 202 with a transactionId at once, is Processing, and after a
processing delay ends Success or Failure with Amazon-shaped errors.

A transaction is written to the store (with the submitted documents) before the 202 is answered, so a restart
loses nothing; the outcome is decided when the delay has passed, in submission order, by the processor that
the world registers for the transaction's kind. Each family keeps its own log (its own collections), so a
transaction of one family is unknown to the other's status operation, as on Amazon.

The transactions still Processing wait in a queue of the store, by submission time, so that whichever
process of a shared emulator sees one due decides it, once (under the world's lock, which `settle` takes).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from contextlib import nullcontext
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
# Transactions decided by one call at most: under a stream of calls, each decides a few of those due instead
# of one call deciding a second's worth (hundreds) while its client, and every request queued behind it,
# waits. A status read of a transaction due decides every one before it, in order, whatever their number.
SETTLE_BATCH = 8
# Calls other than submissions decide the transactions due once the earliest has waited this long past its
# delay, so that they are decided a batch per SQLite transaction, not one per call.
SETTLE_LAG = 0.05
# A submission decides up to this many of the transactions due (the oldest) in its own write, before it is
# recorded: a stream of submissions is decided as it arrives, about one decision per submission with no
# commit of its own, and a backlog (after a pause) is worked off a few per call, never in one long call.
# Not on a remote store (Redis), where the lock a decision needs is round trips of its own on every
# submission: there calls decide SETTLE_BATCH at a time, as other calls do.
DECIDE_WITH_SUBMISSION = 4


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
    """A transaction's status as read: Processing, Success or Failure, with its errors and result."""

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
        lock: str | None = None,
    ) -> None:
        self.store = store
        self.collection = collection
        self.submissions = submissions
        self.processing_delay = processing_delay
        self.clock = clock
        self.lock = lock or collection
        # What a submission decides by default (see DECIDE_WITH_SUBMISSION); the world's calls leave
        # deciding to the submission where it does (`decides_with_submissions`).
        self.decides_with_submissions = not store.remote
        self.queue = f"{collection}.processing"
        self.processors: dict[str, Processor] = {}
        # Called with (kind, "Success" | "Failure") as each transaction is decided (the metrics count here).
        self.observers: list[Callable[[str, str], None]] = []
        # When the first transaction in the queue was submitted, for a lone process (which alone submits):
        # a call with nothing due reads nothing. Where the store is shared, the queue is read instead.
        self._earliest: float | None = None
        self._queue_built()

    def _queue_built(self) -> None:
        """A data directory of an earlier version kept no queue: queue its transactions still Processing."""
        marker = (f"{self.collection}.meta", "queue")
        if self.store.get(*marker) is None:
            with self.store.lock(self.lock):
                if self.store.get(*marker) is None:
                    for key, document in self.store.scan(self.collection):
                        if document.get("status") == "Processing":
                            self.store.schedule(self.queue, key, float(document["submitted_at"]))
                    self.store.put(*marker, {"version": 1})
        self._earliest = self.store.next_due(self.queue)

    def submit(
        self,
        account: str,
        kind: str,
        body: Any,
        *,
        deduplicate: bool = True,
        decide: int | None = None,
    ) -> str:
        """Record a submission (durably) and return its transactionId; the caller answers 202. With
        `deduplicate`, a body identical to an earlier submission of the kind fails as its duplicate. Up to
        `decide` transactions due (by default DECIDE_WITH_SUBMISSION, none on a remote store) are decided
        first, in the same write (under the log's lock)."""
        now = self.clock()
        transaction_id = f"{now:%Y%m%d%H%M%S}-{unique_id()}"
        duplicate_of = None
        fingerprint = _fingerprint(account, kind, body) if deduplicate else None
        if decide is None:
            decide = DECIDE_WITH_SUBMISSION if self.decides_with_submissions else 0
        # Where other processes write (SQLite workers), what is due is found in the write itself: reading the
        # queue's head first would be one more read transaction on every submission, and the write is made
        # anyway.
        shared = self.store.shared
        deciding = decide > 0 and (shared or self.due(lag=0.0))
        # One write where the store can (SQLite): the decisions, the duplicate check, the queue and the
        # transaction. The lock is taken before the write, in the order settle() takes them.
        with self.store.lock(self.lock) if deciding else nullcontext(), self.store.batch():
            if deciding:
                self._decide_due(decide)
            if fingerprint is not None:
                record = {"transaction_id": transaction_id}
                if not self.store.put_if_absent(self.submissions, fingerprint, record):
                    first = self.store.get(self.submissions, fingerprint)
                    duplicate_of = first["transaction_id"] if first else None
            submitted_at = time.time()
            # Queued first: where the writes apply one by one (Redis), a process killed between the two leaves
            # a queue entry without a transaction (dropped when due), never a transaction nobody decides.
            self.store.schedule(self.queue, transaction_id, submitted_at)
            self.store.put(
                self.collection,
                transaction_id,
                {
                    "account": account,
                    "kind": kind,
                    "body": body,
                    "status": "Processing",
                    "errors": [],
                    "submitted_at": submitted_at,
                    "duplicate_of": duplicate_of,
                },
            )
            if deciding and not shared:  # a shared store's head is read where it is needed (`due`)
                self._earliest = self.store.next_due(self.queue)
        if self._earliest is None or submitted_at < self._earliest:
            self._earliest = submitted_at
        return transaction_id

    def due(self, lag: float = SETTLE_LAG) -> bool:
        """Whether a transaction's processing delay has passed (`lag` seconds ago)."""
        earliest = self.store.next_due(self.queue) if self.store.shared else self._earliest
        return earliest is not None and earliest + self.processing_delay + lag <= time.time()

    def settle(self, limit: int | None = SETTLE_BATCH) -> None:
        """Decide the transactions whose processing delay has passed, in submission order: at most `limit`
        of them (None: every one due, at once)."""
        if not self.due(lag=SETTLE_LAG if limit is not None else 0.0):
            return
        horizon = time.time() - self.processing_delay
        with self.store.lock(self.lock):
            left = limit
            while left is None or left > 0:
                batch = 500 if left is None else min(left, 500)
                with self.store.batch():  # decided together: one write where the store can (SQLite)
                    decided = self._decide_due(batch, horizon)
                if left is not None:
                    left -= decided
                if decided < batch:
                    break
            self._earliest = self.store.next_due(self.queue)

    def _decide_due(self, limit: int, horizon: float | None = None) -> int:
        """Decide the oldest due (at most `limit`), in the caller's write, under the log's lock."""
        if horizon is None:
            horizon = time.time() - self.processing_delay
        members = self.store.due(self.queue, horizon, limit=limit)
        for transaction_id in members:
            self._settle_one(transaction_id)
            self.store.unschedule(self.queue, transaction_id)
        return len(members)

    def forget_cached(self) -> None:
        """Read the queue's head again (another process replaced the store's contents)."""
        self._earliest = self.store.next_due(self.queue)

    def _settle_one(self, transaction_id: str) -> None:
        document = self.store.get(self.collection, transaction_id)
        if document is None or document.get("status") != "Processing":
            return
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
        if (
            document is not None
            and document.get("status") == "Processing"
            and float(document["submitted_at"]) + self.processing_delay <= time.time()
        ):
            self.settle(limit=None)  # due: decided now, with every transaction before it
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
        with self.store.lock(self.lock):
            self.store.clear(self.collection)
            self.store.clear(self.submissions)
            self.store.clear_queue(self.queue)
            self._earliest = None

    def reload(self) -> None:
        """Queue again what is Processing, after the store was replaced under the log (a snapshot restored:
        the queue is not part of a snapshot, the transactions are)."""
        with self.store.lock(self.lock):
            self.store.clear_queue(self.queue)
            with self.store.batch():
                for key, document in self.store.scan(self.collection):
                    if document.get("status") == "Processing":
                        self.store.schedule(self.queue, key, float(document["submitted_at"]))
            self._earliest = self.store.next_due(self.queue)
