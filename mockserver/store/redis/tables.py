"""The purpose-built tables on Redis: purchase orders and Direct Fulfillment orders.

A table keeps its rows in one hash (number -> the row as JSON: query columns and document) and, per
account, sorted sets of sort keys (`created number`, fixed-width created, so text order is (created,
number) order): one of every row of the account and one per filter value (a state, a vendor code, an item
status...). A query walks the shortest set its filters allow in sort order, from the page's start, reads the
rows of a batch of members and keeps those that match, as SQLite walks an index: a page of N rows reads
about N members. Rows read are shared, read-only, as the other stores' are (their documents are decoded
once per stored text, whoever wrote it).

`KeysetTable` is the mechanism; a table is a `RowKind` saying how its rows are named, filtered and coded,
so another purpose-built table (say, of reports) is a `RowKind` of a dozen lines.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Generic, Protocol, TypeVar

from mockserver import wire
from mockserver.store.bulk import DecodedDocuments
from mockserver.store.df_orders import DfOrderQuery, DfOrderRow
from mockserver.store.df_orders import _row_facets as df_row_facets
from mockserver.store.purchase_orders import PurchaseOrderQuery, PurchaseOrderRow
from mockserver.store.purchase_orders import _row_facets as po_row_facets
from mockserver.store.redis.connection import client, delete_matching, key
from mockserver.store.redis.documents import redis_problem

Row = TypeVar("Row")
Query = TypeVar("Query", contravariant=True)
_BULK_CHUNK = 2000
_MAX = b"\xff"


class RowKind(Protocol[Row, Query]):
    @property
    def name(self) -> str:
        """The table's key space: "po", "df"."""
        ...

    def number(self, row: Row) -> str: ...

    def account(self, row: Row) -> str: ...

    def created(self, row: Row) -> str: ...

    def facets(self, row: Row) -> list[tuple[str, Any]]: ...

    def encode(self, row: Row) -> bytes: ...

    def decode(self, fields: dict[str, Any]) -> Row: ...

    def query_account(self, query: Query) -> str: ...

    def query_facets(self, query: Query) -> list[tuple[str, Any]] | None:
        """The equality filters of the query; None when no row can match (a status no item may have)."""
        ...

    def window(self, query: Query) -> tuple[str | None, str | None]:
        """created_after, created_before (exclusive bounds), where the query has them."""
        ...

    def matches(self, query: Query, row: Row) -> bool: ...


def _facet_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _member(created: str, number: str) -> bytes:
    return f"{created} {number}".encode()


def _encode_fields(row: Any) -> bytes:
    return wire.dumps({item.name: getattr(row, item.name) for item in fields(row)})


class KeysetTable(Generic[Row, Query]):
    def __init__(self, url: str, kind: RowKind[Row, Query], decoded_cache: int = 4096) -> None:
        self.url = url
        self.kind = kind
        self._rows_key = key(kind.name, "rows")
        self._decoded = DecodedDocuments(decoded_cache)

    @property
    def redis(self) -> Any:
        return client(self.url)

    def _index(self, account: str, facet: tuple[str, Any] | None = None) -> str:
        if facet is None:
            return key(self.kind.name, "ix", account)
        return key(self.kind.name, "ix", account, f"{facet[0]}={_facet_value(facet[1])}")

    def _row(self, body: bytes) -> Row:
        return self.kind.decode(self._decoded(body))  # type: ignore[arg-type]

    def _index_keys(self, row: Row) -> list[str]:
        account = self.kind.account(row)
        return [self._index(account), *(self._index(account, facet) for facet in self.kind.facets(row))]

    # -- writes ------------------------------------------------------------------------------------------

    def put(self, row: Row) -> None:
        self._write([row])

    def _write(self, rows: Sequence[Row]) -> None:
        kind = self.kind
        numbers = [kind.number(row) for row in rows]
        old_bodies = self.redis.hmget(self._rows_key, numbers) if numbers else []
        removals: dict[str, list[bytes]] = {}
        for body in old_bodies:
            if body is None:
                continue
            old = self._row(body)
            member = _member(kind.created(old), kind.number(old))
            for index in self._index_keys(old):
                removals.setdefault(index, []).append(member)
        additions: dict[str, dict[bytes, float]] = {}
        for row in rows:
            member = _member(kind.created(row), kind.number(row))
            for index in self._index_keys(row):
                additions.setdefault(index, {})[member] = 0.0
        pipeline = self.redis.pipeline(transaction=True)
        for index, members in removals.items():
            pipeline.zrem(index, *members)
        pipeline.hset(self._rows_key, mapping={kind.number(row): kind.encode(row) for row in rows})
        for index, scored in additions.items():
            pipeline.zadd(index, scored)
        pipeline.execute()

    def put_many(self, rows: Iterable[Row]) -> int:
        count = 0
        iterator = iter(rows)
        while chunk := list(itertools.islice(iterator, _BULK_CHUNK)):
            latest = {self.kind.number(row): row for row in chunk}  # the last of a number wins, as with put
            self._write(list(latest.values()))
            count += len(latest)
        return count

    # -- reads -------------------------------------------------------------------------------------------

    def get(self, number: str) -> Row | None:
        body = self.redis.hget(self._rows_key, number)
        return self._row(body) if body is not None else None

    def _candidates(self, account: str, facets: list[tuple[str, Any]]) -> str | None:
        """The shortest index the filters allow; None when one of them is empty (nothing can match)."""
        names = [self._index(account), *(self._index(account, facet) for facet in facets)]
        if len(names) == 1:
            return names[0]
        pipeline = self.redis.pipeline(transaction=False)
        for name in names:
            pipeline.zcard(name)
        sizes = pipeline.execute()
        if any(size == 0 for size in sizes[1:]):
            return None
        return min(zip(sizes, range(len(names)), names, strict=True))[2]

    def query(self, query: Query) -> list[Row]:
        kind = self.kind
        facets = kind.query_facets(query)
        if facets is None:
            return []
        number = getattr(query, "number", None)
        if number is not None:
            row = self.get(number)
            candidates = [row] if row is not None else []
            return self._filter_listed(query, candidates)
        index = self._candidates(kind.query_account(query), facets)
        if index is None:
            return []
        limit: int = query.limit  # type: ignore[attr-defined]
        descending: bool = query.descending  # type: ignore[attr-defined]
        after: tuple[str, str] | None = query.after  # type: ignore[attr-defined]
        created_after, created_before = kind.window(query)
        low = b"-"
        high = b"+"
        if created_after is not None:
            low = b"(" + created_after.encode() + _MAX
        if created_before is not None:
            high = b"(" + created_before.encode() + b" "
        if after is not None:
            bound = b"(" + _member(*after)
            if descending:
                high = bound if high == b"+" or bound[1:] < high[1:] else high
            else:
                low = bound if low == b"-" or bound[1:] > low[1:] else low
        matched: list[Row] = []
        batch = max(limit + 1, 16)
        redis = self.redis
        while len(matched) < limit:
            if descending:
                members = redis.zrevrangebylex(index, high, low, start=0, num=batch)
            else:
                members = redis.zrangebylex(index, low, high, start=0, num=batch)
            if not members:
                break
            numbers = [member.split(b" ", 1)[1] for member in members]
            for body in redis.hmget(self._rows_key, numbers):
                if body is None:
                    continue  # removed since the member was read
                row = self._row(body)
                if kind.matches(query, row):
                    matched.append(row)
                    if len(matched) >= limit:
                        break
            if len(members) < batch:
                break
            if descending:
                high = b"(" + members[-1]
            else:
                low = b"(" + members[-1]
            batch = min(batch * 2, 2000)
        return matched

    def _filter_listed(self, query: Query, rows: list[Row]) -> list[Row]:
        kind = self.kind
        after: tuple[str, str] | None = query.after  # type: ignore[attr-defined]
        descending: bool = query.descending  # type: ignore[attr-defined]
        kept = []
        for row in rows:
            if not kind.matches(query, row):
                continue
            sort_key = (kind.created(row), kind.number(row))
            if after is not None and not (sort_key < after if descending else sort_key > after):
                continue
            kept.append(row)
        return kept[: query.limit]  # type: ignore[attr-defined]

    def count(self, account: str | None = None) -> int:
        if account is None:
            return int(self.redis.hlen(self._rows_key))
        return int(self.redis.zcard(self._index(account)))

    def clear(self) -> None:
        delete_matching(self.redis, f"{self.kind.name}:*")
        self._decoded.clear()

    def problem(self) -> str | None:
        return redis_problem(self.redis, self.url)

    def close(self) -> None:
        return None


_PO_FIELDS = tuple(item.name for item in fields(PurchaseOrderRow))
_DF_FIELDS = tuple(item.name for item in fields(DfOrderRow))


@dataclass(frozen=True)
class PurchaseOrderKind:
    name: str = "po"

    def number(self, row: PurchaseOrderRow) -> str:
        return row.number

    def account(self, row: PurchaseOrderRow) -> str:
        return row.account

    def created(self, row: PurchaseOrderRow) -> str:
        return row.created

    def facets(self, row: PurchaseOrderRow) -> list[tuple[str, Any]]:
        return po_row_facets(row)

    def encode(self, row: PurchaseOrderRow) -> bytes:
        return _encode_fields(row)

    def decode(self, values: dict[str, Any]) -> PurchaseOrderRow:
        return PurchaseOrderRow(**{name: values[name] for name in _PO_FIELDS if name in values})

    def query_account(self, query: PurchaseOrderQuery) -> str:
        return query.account

    def query_facets(self, query: PurchaseOrderQuery) -> list[tuple[str, Any]] | None:
        from mockserver.store.purchase_orders import CONFIRMATION_STATUSES, RECEIVE_STATUSES

        if (query.confirmation is not None and query.confirmation not in CONFIRMATION_STATUSES) or (
            query.receiving is not None and query.receiving not in RECEIVE_STATUSES
        ):
            return None
        return query.facets()

    def window(self, query: PurchaseOrderQuery) -> tuple[str | None, str | None]:
        return query.created_after, query.created_before

    def matches(self, query: PurchaseOrderQuery, row: PurchaseOrderRow) -> bool:
        return query.matches(row)


@dataclass(frozen=True)
class DfOrderKind:
    name: str = "df"

    def number(self, row: DfOrderRow) -> str:
        return row.number

    def account(self, row: DfOrderRow) -> str:
        return row.account

    def created(self, row: DfOrderRow) -> str:
        return row.created

    def facets(self, row: DfOrderRow) -> list[tuple[str, Any]]:
        return df_row_facets(row)

    def encode(self, row: DfOrderRow) -> bytes:
        return _encode_fields(row)

    def decode(self, values: dict[str, Any]) -> DfOrderRow:
        return DfOrderRow(**{name: values[name] for name in _DF_FIELDS if name in values})

    def query_account(self, query: DfOrderQuery) -> str:
        return query.account

    def query_facets(self, query: DfOrderQuery) -> list[tuple[str, Any]] | None:
        return query.facets()

    def window(self, query: DfOrderQuery) -> tuple[str | None, str | None]:
        return query.created_after, query.created_before

    def matches(self, query: DfOrderQuery, row: DfOrderRow) -> bool:
        return query.matches(row)


class RedisPurchaseOrderTable(KeysetTable[PurchaseOrderRow, PurchaseOrderQuery]):
    def __init__(self, url: str) -> None:
        super().__init__(url, PurchaseOrderKind())


class RedisDfOrderTable(KeysetTable[DfOrderRow, DfOrderQuery]):
    def __init__(self, url: str) -> None:
        super().__init__(url, DfOrderKind())


__all__ = ["KeysetTable", "RedisDfOrderTable", "RedisPurchaseOrderTable", "RowKind"]
