"""The store interface: named collections of JSON documents by key."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from mockserver import wire

Document = dict[str, Any]


class StoreCorruption(RuntimeError):
    """A stored document that can no longer be read: the data directory is damaged."""


def decode_stored(body: str | bytes, where: str) -> Any:
    """A document as the store keeps it (JSON), or StoreCorruption naming where it was."""
    try:
        return wire.loads(body)
    except ValueError as error:
        raise StoreCorruption(f"{where} cannot be decoded: {error}") from None


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

    def put_many(self, collection: str, documents: Iterable[tuple[str, Document]]) -> int:
        """Store (or replace) documents of one collection at once (a snapshot restored); how many."""
        ...

    def put_if_absent(self, collection: str, key: str, document: Document) -> bool:
        """Store the document unless the key exists; True when it was stored."""
        ...

    def delete(self, collection: str, key: str) -> bool: ...

    def scan(self, collection: str) -> Iterator[tuple[str, Document]]: ...

    def count(self, collection: str) -> int: ...

    def collections(self) -> list[str]:
        """The names of the collections holding at least one document, sorted (snapshots, metrics)."""
        ...

    def clear(self, collection: str | None = None) -> None: ...

    def problem(self) -> str | None:
        """What makes the store unreadable now (the health call), or None."""
        ...

    def close(self) -> None: ...
