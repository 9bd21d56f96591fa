"""The store interface: named collections of JSON documents by key."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
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

    # What several processes over one store need to behave as one emulator (`serve --workers`, replicas on
    # Redis). A single process pays next to nothing for them.

    @property
    def shared(self) -> bool:
        """Whether other processes may use this store at the same time (Redis; SQLite under --workers)."""
        ...

    @property
    def remote(self) -> bool:
        """Whether each call is a round trip to a server (Redis), and a lock one more: work done under a
        lock is then better batched than spread over many calls."""
        ...

    def batch(self) -> AbstractContextManager[Any]:
        """Writes in the block (to the store and its file's tables) are committed together where the store
        can (SQLite: one transaction, and one write to its log); elsewhere each applies at once."""
        ...

    def lock(self, name: str) -> AbstractContextManager[None]:
        """Mutual exclusion among every thread of every process using the store, re-entrant in a thread: a
        world brought up to the clock, a transaction decided, happen once whichever process sees them due."""
        ...

    def increment(self, collection: str, key: str, amount: int = 1) -> int:
        """Add to a durable counter atomically (0 before the first call) and return the new value."""
        ...

    def schedule(self, queue: str, member: str, due: float) -> None:
        """Put `member` in a durable queue ordered by when it is due (then by member), or move it there."""
        ...

    def next_due(self, queue: str) -> float | None:
        """When the earliest member of the queue is due; None for an empty queue."""
        ...

    def due(self, queue: str, until: float, limit: int = 1000) -> list[str]:
        """The members due at `until` or earlier, earliest first (they stay until `unschedule`)."""
        ...

    def unschedule(self, queue: str, member: str) -> bool:
        """Take a member out of its queue; True when it was there."""
        ...

    def clear_queue(self, queue: str) -> None: ...
