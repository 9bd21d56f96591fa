"""A throwaway store (`--store memory`): state lives as long as the process."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from mockserver.store.base import Document, copy_document


class MemoryStore:
    def __init__(self) -> None:
        self._collections: dict[str, dict[str, Document]] = {}
        self._lock = threading.Lock()

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
            items = list(self._collections.get(collection, {}).items())
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
            else:
                self._collections.pop(collection, None)

    def problem(self) -> str | None:
        return None

    def close(self) -> None:
        return None
