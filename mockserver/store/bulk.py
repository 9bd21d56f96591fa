"""Helpers of the purpose-built SQLite tables (purchase orders, Direct Fulfillment orders): decoded documents
shared between readers, bulk loads generated ahead on a worker thread, and the log synced and checkpointed
after a load."""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from mockserver import wire
from mockserver.store.base import decode_stored


def encode_document(document: dict[str, Any]) -> str:
    return wire.dumps(document).decode()


def decode_document(body: str | bytes) -> dict[str, Any]:
    document: dict[str, Any] = decode_stored(body, "a stored order document")
    return document


class DecodedDocuments:
    """The documents of the bodies read last, decoded, keyed by the body text itself: the same text is the
    same document whoever wrote it (another worker process included), so nothing is ever stale. Hashing and
    comparing the text costs a tenth of decoding it. The documents are shared: read-only, like the rows."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._documents: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, body: str) -> dict[str, Any]:
        with self._lock:
            document = self._documents.get(body)
            if document is not None:
                self._documents.move_to_end(body)
                return document
        document = decode_document(body)
        with self._lock:
            self._documents[body] = document
            if len(self._documents) > self._size:
                self._documents.popitem(last=False)
        return document

    def clear(self) -> None:
        with self._lock:
            self._documents.clear()


_T = TypeVar("_T")


def ahead(items: Iterator[_T], depth: int = 4) -> Iterator[_T]:
    """What `items` yields, produced by a worker thread up to `depth` items ahead. A bulk load generates its
    rows (Python) while SQLite writes the previous chunk (the sqlite3 module lets go of the GIL meanwhile)."""
    ready: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def hand_over(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand_over((True, item)):
                    return
            hand_over((True, end))
        except BaseException as error:  # handed to the consumer, raised there
            hand_over((False, error))

    worker = threading.Thread(target=produce, name="purchase-order-bulk-load", daemon=True)
    worker.start()
    try:
        while True:
            produced, item = ready.get()
            if not produced:
                raise item
            if item is end:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def sync_log(path: Path) -> None:
    """fsync the write-ahead log of the database at `path`, as a commit at synchronous=FULL does."""
    log = path.with_name(path.name + "-wal")
    try:
        descriptor = os.open(log, os.O_RDONLY)
    except FileNotFoundError:  # not in WAL mode: the commit wrote (and SQLite synced) the database
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class BackgroundCheckpoint:
    """Copy a load from the log into the database file (and sync it) on a thread of its own, so that
    seeding need not wait for it; a PASSIVE checkpoint blocks neither readers nor writers. Until it is
    done, reads find the pages in the log."""

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        def checkpoint() -> None:
            try:
                connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                try:
                    connection.execute("PRAGMA synchronous=FULL")
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except sqlite3.Error:
                return  # the next automatic checkpoint copies what this one did not

        self.wait()
        self._thread = threading.Thread(target=checkpoint, name=self.name, daemon=True)
        self._thread.start()

    def wait(self) -> None:
        """Until the checkpoint, if one runs, is done."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
