"""The store interface: named collections of JSON documents by key."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any, Protocol

from mockserver import wire

Document = dict[str, Any]


def copy_document(document: Any) -> Any:
    """A private copy sharing nothing with `document`, through JSON as the SQLite stores keep documents (so
    every store hands back the same values), and several times faster than `copy.deepcopy` for these."""
    try:
        return wire.loads(wire.dumps(document))
    except (TypeError, ValueError):  # not JSON-shaped at all: still a private copy
        return copy.deepcopy(document)


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
