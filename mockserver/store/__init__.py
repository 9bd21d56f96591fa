"""State that must survive: behind one small interface, with SQLite (embedded default), memory (throwaway)
and Redis (shared by several processes or hosts) behind it."""

from __future__ import annotations

from pathlib import Path

from mockserver.store.base import Store
from mockserver.store.integrity import database_path
from mockserver.store.memory import MemoryStore
from mockserver.store.redis.connection import is_redis_url
from mockserver.store.runtime import LocalRuntime, Runtime
from mockserver.store.sqlite import SqliteStore


def open_store(kind: str, data_dir: Path, *, shared: bool = False, fsync: bool = False) -> Store:
    """The document store of `kind` ("sqlite", "memory" or a redis:// URL); `shared`: other processes use
    the same SQLite file (`serve --workers`)."""
    if kind == "memory":
        return MemoryStore()
    if kind == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteStore(database_path(data_dir), shared=shared, fsync=fsync)
    if is_redis_url(kind):
        from mockserver.store.redis.documents import RedisStore

        return RedisStore(kind)
    raise ValueError(f"unknown store {kind!r}")


def open_runtime(kind: str, data_dir: Path, *, workers: int = 1) -> Runtime:
    """Where the journal, usage-plan buckets and chaos counters live: Redis for the Redis store, a SQLite
    file beside the database for several workers over SQLite, this process's memory otherwise."""
    if is_redis_url(kind):
        from mockserver.store.redis.runtime import RedisRuntime

        return RedisRuntime(kind)
    if workers > 1 and kind == "sqlite":
        from mockserver.store.sqlite_runtime import SqliteRuntime, runtime_path

        data_dir.mkdir(parents=True, exist_ok=True)
        return SqliteRuntime(runtime_path(data_dir))
    return LocalRuntime()


__all__ = [
    "LocalRuntime",
    "MemoryStore",
    "Runtime",
    "SqliteStore",
    "Store",
    "is_redis_url",
    "open_runtime",
    "open_store",
]
