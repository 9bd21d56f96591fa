"""The Redis store (`--store redis://HOST:PORT/DB`): every piece of shared state in one Redis database, so
that several processes, on one host or several, behave as one emulator.

- `documents.py`: the document store (one hash per collection), counters, due queues and locks;
- `tables.py`: the purchase-order and Direct Fulfillment order tables (rows in a hash, sorted sets as
  indexes, walked in sort order as SQLite walks its indexes);
- `runtime.py`: what a single process keeps in memory and several must share: the journal (bounded), the
  usage-plan buckets (one Lua script per take), chaos counters and small shared values;
- `connection.py`: one client (connection pool) per URL and process, and the key names.
"""

from mockserver.store.redis.connection import REDIS_SCHEMES, is_redis_url

__all__ = ["REDIS_SCHEMES", "is_redis_url"]
