"""The runtime on Redis: journal, usage-plan buckets, counters and shared values of every process using the
Redis store. Each step that must be atomic is one Lua script (a bucket's take, a journal append with its
bounds, a counter below a limit), so processes on several hosts never see half of one."""

from __future__ import annotations

from typing import Any

from mockserver import wire
from mockserver.ids import unique_id
from mockserver.store.redis.connection import PREFIX, client, delete_matching, key
from mockserver.store.redis.documents import redis_problem

# A bucket unused this long is forgotten (it would be full again by then anyway for any usage plan).
BUCKET_TTL_MS = 3_600_000

_TAKE = """
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local rate, burst, now, initial = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local tokens
if state[1] then
  local elapsed = now - tonumber(state[2])
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(burst, tonumber(state[1]) + elapsed * rate)
else
  tokens = initial
end
local taken = 0
if tokens >= 1 then
  tokens = tokens - 1
  taken = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'updated', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return taken
"""

_JOURNAL_APPEND = """
local sequence = redis.call('INCR', KEYS[3])
local cost = tonumber(ARGV[2])
redis.call('RPUSH', KEYS[1], sequence .. ' ' .. cost .. ' ' .. ARGV[1])
local total = redis.call('INCRBY', KEYS[2], cost)
local entries = redis.call('LLEN', KEYS[1])
local max_entries, max_bytes = tonumber(ARGV[3]), tonumber(ARGV[4])
while entries > 1 and (entries > max_entries or total > max_bytes) do
  local oldest = redis.call('LPOP', KEYS[1])
  local dropped = tonumber(string.match(oldest, '^%d+ (%d+) '))
  total = redis.call('DECRBY', KEYS[2], dropped)
  entries = entries - 1
end
return sequence
"""

_ADD_BELOW = """
local value = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if ARGV[3] ~= '' and value >= tonumber(ARGV[3]) then
  return false
end
return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
"""


class RedisRuntime:
    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        self._values = key("runtime", "values")
        self._counters = key("runtime", "counters")
        self._generation = key("runtime", "generation")
        self._journal = key("journal", "entries")
        self._journal_bytes = key("journal", "bytes")
        self._journal_sequence = key("journal", "sequence")
        redis = client(url)
        self._take = redis.register_script(_TAKE)
        self._append = redis.register_script(_JOURNAL_APPEND)
        self._add_below = redis.register_script(_ADD_BELOW)

    @property
    def redis(self) -> Any:
        return client(self.url)

    def generation(self) -> str:
        value = self.redis.get(self._generation)
        return value.decode() if value is not None else ""

    def bump(self) -> None:
        self.redis.set(self._generation, unique_id())

    def get_value(self, name: str) -> Any:
        value = self.redis.hget(self._values, name)
        return wire.loads(value) if value is not None else None

    def set_value(self, name: str, value: Any) -> None:
        if value is None:
            self.redis.hdel(self._values, name)
        else:
            self.redis.hset(self._values, name, wire.dumps(value))

    def values(self, prefix: str) -> dict[str, Any]:
        found = {}
        for name, value in self.redis.hscan_iter(self._values, match=_glob(prefix) + "*", count=1000):
            found[name.decode()] = wire.loads(value)
        return found

    def delete_values(self, prefix: str) -> None:
        names = list(self.values(prefix))
        if names:
            self.redis.hdel(self._values, *names)

    def add(self, name: str, amount: int = 1, below: int | None = None) -> int | None:
        if below is None:
            return int(self.redis.hincrby(self._counters, name, amount))
        value = self._add_below(keys=[self._counters], args=[name, amount, below], client=self.redis)
        return None if value is None else int(value)

    def counter(self, name: str) -> int:
        value = self.redis.hget(self._counters, name)
        return int(value) if value is not None else 0

    def clear_counters(self, prefix: str) -> None:
        names = [
            name for name, _ in self.redis.hscan_iter(self._counters, match=_glob(prefix) + "*", count=1000)
        ]
        if names:
            self.redis.hdel(self._counters, *names)

    def take(self, bucket: str, rate: float, burst: float, now: float, initial: float) -> bool:
        taken = self._take(
            keys=[key("bucket", bucket)],
            args=[
                repr(float(rate)),
                repr(float(burst)),
                repr(float(now)),
                repr(float(initial)),
                BUCKET_TTL_MS,
            ],
            client=self.redis,
        )
        return bool(taken)

    def clear_buckets(self, prefix: str = "") -> None:
        delete_matching(self.redis, f"bucket:{_glob(prefix)}*")

    def journal_append(self, record: bytes, cost: int, max_entries: int, max_bytes: int) -> int:
        sequence = self._append(
            keys=[self._journal, self._journal_bytes, self._journal_sequence],
            args=[record, cost, max_entries, max_bytes],
            client=self.redis,
        )
        return int(sequence)

    def journal_records(self) -> list[tuple[int, bytes]]:
        records = []
        for item in self.redis.lrange(self._journal, 0, -1):
            sequence, _, rest = item.partition(b" ")
            _, _, record = rest.partition(b" ")
            records.append((int(sequence), record))
        return records

    def journal_stats(self) -> tuple[int, int]:
        pipeline = self.redis.pipeline(transaction=True)
        pipeline.llen(self._journal)
        pipeline.get(self._journal_bytes)
        entries, total = pipeline.execute()
        return int(entries), int(total or 0)

    def journal_clear(self) -> None:
        self.redis.delete(self._journal, self._journal_bytes)

    def problem(self) -> str | None:
        return redis_problem(self.redis, self.url)

    def close(self) -> None:
        return None


def _glob(text: str) -> str:
    """`text` matched literally in a Redis pattern."""
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


__all__ = ["PREFIX", "RedisRuntime"]
