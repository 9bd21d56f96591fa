"""A throwaway store (`--store memory`): state lives as long as the process."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext

from mockserver.store.base import Document, copy_document
from mockserver.store.locks import ThreadLocks


class MemoryStore:
    shared = False  # one process: memory cannot be shared (`serve --workers` refuses it)

    def __init__(self) -> None:
        self._collections: dict[str, dict[str, Document]] = {}
        self._counters: dict[tuple[str, str], int] = {}
        self._queues: dict[str, list[tuple[float, str]]] = {}
        self._lock = threading.Lock()
        self._locks = ThreadLocks()

    def get(self, collection: str, key: str) -> Document | None:
        document = self._collections.get(collection, {}).get(key)
        return copy_document(document) if document is not None else None

    def put(self, collection: str, key: str, document: Document) -> None:
        with self._lock:
            self._collections.setdefault(collection, {})[key] = copy_document(document)

    def put_many(self, collection: str, documents: Iterable[tuple[str, Document]]) -> int:
        copies = [(key, copy_document(document)) for key, document in documents]
        with self._lock:
            self._collections.setdefault(collection, {}).update(copies)
        return len(copies)

    def put_if_absent(self, collection: str, key: str, document: Document) -> bool:
        with self._lock:
            documents = self._collections.setdefault(collection, {})
            if key in documents:
                return False
            documents[key] = copy_document(document)
            return True

    def delete(self, collection: str, key: str) -> bool:
        with self._lock:
            return self._collections.get(collection, {}).pop(key, None) is not None

    def scan(self, collection: str) -> Iterator[tuple[str, Document]]:
        with self._lock:
            items = sorted(self._collections.get(collection, {}).items())
        for key, document in items:
            yield key, copy_document(document)

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
