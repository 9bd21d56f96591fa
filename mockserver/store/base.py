"""The store interface: named collections of JSON documents by key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

Document = dict[str, Any]


class Store(Protocol):
    def get(self, collection: str, key: str) -> Document | None: ...

    def put(self, collection: str, key: str, document: Document) -> None: ...

    def put_if_absent(self, collection: str, key: str, document: Document) -> bool:
        """Store the document unless the key exists; True when it was stored."""
        ...

    def delete(self, collection: str, key: str) -> bool: ...

    def scan(self, collection: str) -> Iterator[tuple[str, Document]]: ...

    def count(self, collection: str) -> int: ...

    def clear(self, collection: str | None = None) -> None: ...

    def close(self) -> None: ...
