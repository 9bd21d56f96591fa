"""One Redis client per URL and process, and the names of the emulator's keys.

Every key starts with `vendor-sandbox:` so that a Redis database shared with something else stays
readable; `FLUSHDB` is never used (a reset deletes the emulator's keys only).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
PREFIX = "vendor-sandbox:"
# Seconds a command may take before the emulator calls Redis unreachable (a stopped server must give an
# error quickly, not hang a request).
SOCKET_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0

_clients: dict[tuple[str, int], Any] = {}
_clients_lock = threading.Lock()


def is_redis_url(store: str) -> bool:
    return store.startswith(REDIS_SCHEMES)


def describe_url(url: str) -> str:
    """The URL without a password, for messages and the health call."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + netloc).geturl()


def client(url: str) -> Any:
    """The redis-py client of this process for `url` (a forked worker gets its own connections)."""
    key = (url, os.getpid())
    found = _clients.get(key)
    if found is not None:
        return found
    import redis

    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = redis.Redis.from_url(
                url,
                socket_timeout=SOCKET_TIMEOUT,
                socket_connect_timeout=CONNECT_TIMEOUT,
                health_check_interval=30,
                retry_on_timeout=False,
            )
    return found


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


def scan_keys(redis_client: Any, pattern: str) -> Iterator[bytes]:
    yield from redis_client.scan_iter(match=PREFIX + pattern, count=1000)


def delete_matching(redis_client: Any, pattern: str) -> int:
    """Delete the emulator's keys matching `pattern` (after the prefix), a batch at a time."""
    deleted = 0
    batch: list[bytes] = []
    for name in scan_keys(redis_client, pattern):
        batch.append(name)
        if len(batch) >= 1000:
            deleted += redis_client.delete(*batch)
            batch = []
    if batch:
        deleted += redis_client.delete(*batch)
    return deleted


__all__ = ["PREFIX", "REDIS_SCHEMES", "client", "delete_matching", "describe_url", "is_redis_url", "key"]
