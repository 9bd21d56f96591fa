"""What one process keeps in memory and several processes must share: the journal, the usage-plan buckets,
the chaos rules' counters, a few shared values (fault rules, storms, strict mode's issued nextTokens) and a
generation that changes whenever one of them (or the sandbox clock) is changed through the admin API.

Nothing here must survive a restart of every process (a lone process keeps all of it in memory), but while
several processes serve, each must see what the others did: `--workers N` over SQLite keeps it in a
second SQLite file beside the database, the Redis store in Redis. Each process reads the generation at the
start of a request and reloads what it keeps of the shared configuration when it changed.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Protocol

from mockserver.ids import unique_id


class Runtime(Protocol):
    @property
    def shared(self) -> bool:
        """Whether other processes use this runtime (then the caller re-reads the shared configuration)."""
        ...

    def generation(self) -> str:
        """Changes on every `bump`: whoever holds a copy of the shared configuration re-reads it."""
        ...

    def bump(self) -> None: ...

    def get_value(self, name: str) -> Any: ...

    def set_value(self, name: str, value: Any) -> None:
        """A small JSON value (None deletes it)."""
        ...

    def values(self, prefix: str) -> dict[str, Any]:
        """Every value whose name starts with `prefix`."""
        ...

    def delete_values(self, prefix: str) -> None: ...

    def add(self, name: str, amount: int = 1, below: int | None = None) -> int | None:
        """Add to a counter atomically and return it; with `below`, only while it is below that (None when it
        was not, and nothing is added)."""
        ...

    def counter(self, name: str) -> int: ...

    def clear_counters(self, prefix: str) -> None: ...

    def take(self, bucket: str, rate: float, burst: float, now: float, initial: float) -> bool:
        """Spend one token of a token bucket (refilled at `rate` a second up to `burst`; a new bucket holds
        `initial`); False, spending nothing, when it has less than one."""
        ...

    def clear_buckets(self, prefix: str = "") -> None: ...

    def journal_append(self, record: bytes, cost: int, max_entries: int, max_bytes: int) -> int:
        """Append a journal record and drop the oldest beyond the bounds (never the newest); its sequence."""
        ...

    def journal_records(self) -> list[tuple[int, bytes]]:
        """(sequence, record), oldest first."""
        ...

    def journal_stats(self) -> tuple[int, int]:
        """(entries, bytes) kept."""
        ...

    def journal_clear(self) -> None: ...

    def problem(self) -> str | None: ...

    def close(self) -> None: ...


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated


def refill(tokens: float, updated: float, rate: float, burst: float, now: float) -> float:
    """A bucket's tokens at `now`: refilled at `rate` since `updated`, at most `burst` (a clock that went
    back refills nothing)."""
    return min(float(burst), tokens + max(0.0, now - updated) * rate)


class LocalRuntime:
    """One process: everything in memory (the journal of `serve` without workers is `journal.Journal`, which
    keeps entries as objects; this one keeps records, like the shared runtimes, for the shared journal)."""

    shared = False

    def __init__(self) -> None:
        self._generation = unique_id()
        self._values: dict[str, Any] = {}
        self._counters: dict[str, int] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._journal: deque[tuple[int, int, bytes]] = deque()
        self._journal_bytes = 0
        self._sequence = 0
        self._lock = threading.Lock()

    def generation(self) -> str:
        return self._generation

    def bump(self) -> None:
        self._generation = unique_id()

    def get_value(self, name: str) -> Any:
        return self._values.get(name)

    def set_value(self, name: str, value: Any) -> None:
        with self._lock:
            if value is None:
                self._values.pop(name, None)
            else:
                self._values[name] = value

    def values(self, prefix: str) -> dict[str, Any]:
        with self._lock:
            return {name: value for name, value in self._values.items() if name.startswith(prefix)}

    def delete_values(self, prefix: str) -> None:
        with self._lock:
            for name in [name for name in self._values if name.startswith(prefix)]:
                del self._values[name]

    def add(self, name: str, amount: int = 1, below: int | None = None) -> int | None:
        with self._lock:
            value = self._counters.get(name, 0)
            if below is not None and value >= below:
                return None
            value += amount
            self._counters[name] = value
            return value

    def counter(self, name: str) -> int:
        return self._counters.get(name, 0)

    def clear_counters(self, prefix: str) -> None:
        with self._lock:
            for name in [name for name in self._counters if name.startswith(prefix)]:
                del self._counters[name]

    def take(self, bucket: str, rate: float, burst: float, now: float, initial: float) -> bool:
        with self._lock:
            found = self._buckets.get(bucket)
            if found is None:
                found = self._buckets[bucket] = _Bucket(float(initial), now)
            else:
                found.tokens = refill(found.tokens, found.updated, rate, burst, now)
                found.updated = now
            if found.tokens < 1.0:
                return False
            found.tokens -= 1.0
            return True

    def clear_buckets(self, prefix: str = "") -> None:
        with self._lock:
            for name in [name for name in self._buckets if name.startswith(prefix)]:
                del self._buckets[name]

    def journal_append(self, record: bytes, cost: int, max_entries: int, max_bytes: int) -> int:
        with self._lock:
            self._sequence += 1
            self._journal.append((self._sequence, cost, record))
            self._journal_bytes += cost
            while len(self._journal) > 1 and (
                len(self._journal) > max_entries or self._journal_bytes > max_bytes
            ):
                self._journal_bytes -= self._journal.popleft()[1]
            return self._sequence

    def journal_records(self) -> list[tuple[int, bytes]]:
        with self._lock:
            return [(sequence, record) for sequence, _, record in self._journal]

    def journal_stats(self) -> tuple[int, int]:
        return len(self._journal), self._journal_bytes

    def journal_clear(self) -> None:
        with self._lock:
            self._journal.clear()
            self._journal_bytes = 0

    def problem(self) -> str | None:
        return None

    def close(self) -> None:
        return None


__all__ = ["LocalRuntime", "Runtime", "refill"]
