"""What the Retail and DF worlds share about their lock: a world changes only under its store lock (one for
every process sharing the store), is held still by it for a snapshot, and is re-read after a restore."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mockserver.domain.transactions import TransactionLog
from mockserver.store import Store


class LockedWorld:
    store: Store
    transactions: TransactionLog
    lock_name: str

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No submission is decided and the world is not brought up to the clock meanwhile (a snapshot); in
        every process sharing the store, since the world's lock is the store's."""
        with self.store.lock(self.lock_name):
            yield

    def reload(self) -> None:
        """The store was replaced under the world (a snapshot restored): queue again what is Processing, and
        forget what this process remembers of the world."""
        with self.store.lock(self.lock_name):
            self.transactions.reload()
            self.forget_cached()

    def forget_cached(self) -> None:
        """What this process keeps of the world, read again from the store (another process restored a
        snapshot)."""
        self._forget_kept()
        self.transactions.forget_cached()

    def _forget_kept(self) -> None:
        """Drop what the family keeps in this process's memory."""


__all__ = ["LockedWorld"]
