"""A throwaway store (`--store memory`): state lives as long as the process.

Documents are kept encoded, as JSON bytes (the form the SQLite store keeps them in, so every store hands back
the same values): a put encodes once and a get decodes once, and the collector never walks them. Kept as
Python objects, a world's transactions were a heap that grew with every submission, and each full pass of the
collector over it held every request up for longer (over 100 ms after a few tens of thousands)."""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from mockserver import wire
from mockserver.store.base import Document
from mockserver.store.locks import ThreadLocks


class _Unencodable:
    """A document beyond JSON (no stored document is; a caller's mistake must still not share state)."""

    __slots__ = ("document",)

    def __init__(self, document: Any) -> None:
        self.document = copy.deepcopy(document)


def _keep(document: Document) -> bytes | _Unencodable:
    try:
        return wire.dumps(document)
    except (TypeError, ValueError):
        return _Unencodable(document)


def _take(kept: bytes | _Unencodable) -> Document:
    if isinstance(kept, bytes):
        return wire.loads(kept)
    return copy.deepcopy(kept.document)


class MemoryStore:
    shared = False  # one process: memory cannot be shared (`serve --workers` refuses it)
    remote = False

    def __init__(self) -> None:
        self._collections: dict[str, dict[str, bytes | _Unencodable]] = {}
        self._counters: dict[tuple[str, str], int] = {}
        self._queues: dict[str, list[tuple[float, str]]] = {}
        self._lock = threading.Lock()
        self._locks = ThreadLocks()

    def get(self, collection: str, key: str) -> Document | None:
        kept = self._collections.get(collection, {}).get(key)
        return _take(kept) if kept is not None else None

    def put(self, collection: str, key: str, document: Document) -> None:
        with self._lock:
            self._collections.setdefault(collection, {})[key] = _keep(document)

    def put_many(self, collection: str, documents: Iterable[tuple[str, Document]]) -> int:
        copies = [(key, _keep(document)) for key, document in documents]
        with self._lock:
            self._collections.setdefault(collection, {}).update(copies)
        return len(copies)

    def put_if_absent(self, collection: str, key: str, document: Document) -> bool:
        with self._lock:
            documents = self._collections.setdefault(collection, {})
            if key in documents:
                return False
            documents[key] = _keep(document)
            return True

    def delete(self, collection: str, key: str) -> bool:
        with self._lock:
            return self._collections.get(collection, {}).pop(key, None) is not None

    def scan(self, collection: str) -> Iterator[tuple[str, Document]]:
        with self._lock:
            items = sorted(self._collections.get(collection, {}).items())
        for key, kept in items:
            yield key, _take(kept)

    def count(self, collection: str) -> int:
        return len(self._collections.get(collection, {}))

    def collections(self) -> list[str]:
        with self._lock:
            return sorted(name for name, documents in self._collections.items() if documents)

    def clear(self, collection: str | None = None) -> None:
        with self._lock:
            if collection is None:
                self._collections.clear()
                self._counters.clear()
                self._queues.clear()
            else:
                self._collections.pop(collection, None)
                for counter in [counter for counter in self._counters if counter[0] == collection]:
                    del self._counters[counter]

    def problem(self) -> str | None:
        return None

    def close(self) -> None:
        return None

    def batch(self) -> AbstractContextManager[None]:
        return nullcontext()

    def lock(self, name: str) -> AbstractContextManager[None]:
        return self._locks.hold(name)

    def increment(self, collection: str, key: str, amount: int = 1) -> int:
        with self._lock:
            value = self._counters.get((collection, key), 0) + amount
            self._counters[(collection, key)] = value
            return value

    def schedule(self, queue: str, member: str, due: float) -> None:
        with self._lock:
            entries = self._queues.setdefault(queue, [])
            self._remove(entries, member)
            bisect.insort(entries, (float(due), member))

    @staticmethod
    def _remove(entries: list[tuple[float, str]], member: str) -> bool:
        for index, (_, present) in enumerate(entries):
            if present == member:
                del entries[index]
                return True
        return False

    def next_due(self, queue: str) -> float | None:
        entries = self._queues.get(queue)
        return entries[0][0] if entries else None

    def due(self, queue: str, until: float, limit: int = 1000) -> list[str]:
        with self._lock:
            entries = self._queues.get(queue, [])
            end = bisect.bisect_right(entries, (until, "\U0010ffff"))
            return [member for _, member in entries[: min(end, limit)]]

    def unschedule(self, queue: str, member: str) -> bool:
        with self._lock:
            entries = self._queues.get(queue)
            if not entries:
                return False
            # Members leave in order, nearly always from the front.
            if entries[0][1] == member:
                del entries[0]
                return True
            return self._remove(entries, member)

    def clear_queue(self, queue: str) -> None:
        with self._lock:
            self._queues.pop(queue, None)
