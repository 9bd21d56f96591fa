"""State that must survive: behind one small interface, so another backend (Redis) can replace SQLite."""

from __future__ import annotations

from pathlib import Path

from mockserver.store.base import Store
from mockserver.store.integrity import database_path
from mockserver.store.memory import MemoryStore
from mockserver.store.sqlite import SqliteStore


def open_store(kind: str, data_dir: Path) -> Store:
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteStore(database_path(data_dir))
    raise ValueError(f"unknown store {kind!r}")


__all__ = ["MemoryStore", "SqliteStore", "Store", "open_store"]
