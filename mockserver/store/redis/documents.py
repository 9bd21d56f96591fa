"""The document store on Redis: one hash per collection (key -> JSON), counters in a hash per collection,
due queues as sorted sets, and locks with a lease (a process killed while holding one loses it when the
lease runs out)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from typing import Any

from mockserver import wire
from mockserver.store.base import Document, decode_stored
from mockserver.store.redis.connection import client, delete_matching, describe_url, key, scan_keys

# Seconds a lock outlives a process killed while holding it (the others wait that long at most); a holder
# alive renews its locks every LOCK_RENEW seconds, however long its work (seeding a large world) takes.
LOCK_LEASE = 5.0
LOCK_RENEW = 1.0


class _LeaseKeeper:
    """Renews the leases of the locks this process holds, from a thread of its own while it holds any."""

    def __init__(self) -> None:
        self._held: set[Any] = set()
        self._guard = threading.Lock()
        self._running: int | None = None  # the process whose renewing thread runs

    def hold(self, lock: Any) -> None:
        with self._guard:
            if self._running is not None and self._running != os.getpid():  # a forked worker's copy
                self._held, self._running = set(), None
            self._held.add(lock)
            if self._running is None:
                self._running = os.getpid()
                thread = threading.Thread(target=self._renew, name="redis-lock-lease", daemon=True)
                thread.start()

    def release(self, lock: Any) -> None:
        with self._guard:
            self._held.discard(lock)

    def _renew(self) -> None:
        while True:
            time.sleep(LOCK_RENEW)
            with self._guard:
                held = list(self._held)
                if not held:
                    self._running = None
                    return
            for lock in held:
                with suppress(Exception):  # released meanwhile, or Redis away: the lease decides
                    lock.reacquire()


_keeper = _LeaseKeeper()
SCAN_BATCH = 1000


def redis_problem(redis_client: Any, url: str) -> str | None:
    """None when Redis answers; otherwise what is wrong, in one line."""
    import redis

    try:
        redis_client.ping()
    except redis.RedisError as error:
        return f"Redis at {describe_url(url)}: {error}"
    return None


class RedisStore:
    shared = True
    remote = True

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    @property
    def redis(self) -> Any:
        return client(self.url)

    @staticmethod
    def _collection(collection: str) -> str:
        return key("doc", collection)

    def get(self, collection: str, document_key: str) -> Document | None:
        body = self.redis.hget(self._collection(collection), document_key)
        if body is None:
            return None
        found: Document = decode_stored(body, f"Redis {collection}/{document_key}")
        return found

    def put(self, collection: str, document_key: str, document: Document) -> None:
        self.redis.hset(self._collection(collection), document_key, wire.dumps(document))

    def put_many(self, collection: str, documents: Iterable[tuple[str, Document]]) -> int:
        written = 0
        name = self._collection(collection)
        pending: dict[str, bytes] = {}
        for document_key, document in documents:
            pending[document_key] = wire.dumps(document)
            if len(pending) >= SCAN_BATCH:
                self.redis.hset(name, mapping=pending)
                written += len(pending)
                pending = {}
        if pending:
            self.redis.hset(name, mapping=pending)
            written += len(pending)
        return written

    def put_if_absent(self, collection: str, document_key: str, document: Document) -> bool:
        return bool(self.redis.hsetnx(self._collection(collection), document_key, wire.dumps(document)))

    def delete(self, collection: str, document_key: str) -> bool:
        return bool(self.redis.hdel(self._collection(collection), document_key))

    def scan(self, collection: str) -> Iterator[tuple[str, Document]]:
        items = sorted(
            (name.decode(), body) for name, body in self.redis.hgetall(self._collection(collection)).items()
        )
        for document_key, body in items:
            yield document_key, decode_stored(body, f"Redis {collection}/{document_key}")

    def count(self, collection: str) -> int:
        return int(self.redis.hlen(self._collection(collection)))

    def collections(self) -> list[str]:
        prefix = key("doc", "")
        names = {name.decode()[len(prefix) :] for name in scan_keys(self.redis, "doc:*")}
        return sorted(names)

    def clear(self, collection: str | None = None) -> None:
        if collection is None:
            for pattern in ("doc:*", "counter:*", "queue:*"):
                delete_matching(self.redis, pattern)
        else:
            self.redis.delete(self._collection(collection), key("counter", collection))

    def problem(self) -> str | None:
        return redis_problem(self.redis, self.url)

    def close(self) -> None:
        return None

    # -- shared between processes ------------------------------------------------------------------------

    def batch(self) -> AbstractContextManager[None]:
        return nullcontext()  # each write applies at once (Redis has no transaction that reads its writes)

    def lock(self, name: str) -> AbstractContextManager[None]:
        return self._hold(name)

    @contextmanager
    def _hold(self, name: str) -> Iterator[None]:
        held: dict[str, Any] = self._local.__dict__.setdefault("held", {})
        entry = held.get(name)
        if entry is not None:  # re-entered in this thread
            entry[1] += 1
            try:
                yield
            finally:
                entry[1] -= 1
            return
        lock = self.redis.lock(key("lock", name), timeout=LOCK_LEASE, sleep=0.005, thread_local=False)
        lock.acquire(blocking=True)
        held[name] = [lock, 1]
        _keeper.hold(lock)
        try:
            yield
        finally:
            del held[name]
            _keeper.release(lock)
            # The lease may have run out meanwhile: the work is done, and the lock is free already.
            with suppress(Exception):
                lock.release()

    def increment(self, collection: str, counter_key: str, amount: int = 1) -> int:
        return int(self.redis.hincrby(key("counter", collection), counter_key, amount))

    def schedule(self, queue: str, member: str, due: float) -> None:
        self.redis.zadd(key("queue", queue), {member: float(due)})

    def next_due(self, queue: str) -> float | None:
        first = self.redis.zrange(key("queue", queue), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def due(self, queue: str, until: float, limit: int = 1000) -> list[str]:
        members = self.redis.zrangebyscore(key("queue", queue), "-inf", float(until), start=0, num=limit)
        return [member.decode() for member in members]

    def unschedule(self, queue: str, member: str) -> bool:
        return bool(self.redis.zrem(key("queue", queue), member))

    def clear_queue(self, queue: str) -> None:
        self.redis.delete(key("queue", queue))


__all__ = ["RedisStore", "redis_problem"]
