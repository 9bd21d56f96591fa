"""The Direct Fulfillment order table: DF orders by the hundred thousand per account, listed by creation date
within a window, by status and warehouse, and the packing slips and customer invoices of the orders that
carry them, a page at a time.

Every filter is backed by an index that yields rows already in (created, number) order, so a page of N rows
reads about N index entries at 1,000 orders as at 100,000: SQLite has an index per filtered column and a
partial index per document an order may carry; memory keeps the sort keys of each account, and of each
filter value, in sorted lists and walks the shortest a query's filters allow. Sharing, as in the purchase-
order table: rows a table returns are read-only; whoever changes an order changes a private copy and puts it.
"""

from __future__ import annotations

import bisect
import itertools
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

from mockserver.store.base import copy_document
from mockserver.store.bulk import BackgroundCheckpoint, DecodedDocuments, ahead, encode_document, sync_log
from mockserver.store.checkpoints import BACKSTOP_PAGES
from mockserver.store.integrity import database_path, probe_database
from mockserver.store.sqlite import database


@dataclass(slots=True)
class DfOrderRow:
    """One Direct Fulfillment order with the columns its queries use; `document` is the stored order."""

    account: str
    number: str
    created: str  # ISO 8601 UTC, fixed width: text order is time order
    status: str  # NEW | ACCEPTED | SHIPPED | CANCELLED
    ship_from: str  # the vendor's warehouse (shipFromParty)
    packing_slip: bool = False  # the order carries a packing slip
    customer_invoice: bool = False  # the order carries a customer invoice
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.created, self.number)


@dataclass(frozen=True)
class DfOrderQuery:
    """A page of an account's DF orders: a creation window, optional filters, the key to continue after."""

    account: str
    created_after: str
    created_before: str
    limit: int = 100
    descending: bool = False
    after: tuple[str, str] | None = None  # the sort key of the last row already returned
    status: str | None = None
    ship_from: str | None = None
    packing_slip: bool | None = None
    customer_invoice: bool | None = None

    def matches(self, row: DfOrderRow) -> bool:
        return (
            row.account == self.account
            and self.created_after < row.created < self.created_before
            and (self.status is None or row.status == self.status)
            and (self.ship_from is None or row.ship_from == self.ship_from)
            and (self.packing_slip is None or row.packing_slip == self.packing_slip)
            and (self.customer_invoice is None or row.customer_invoice == self.customer_invoice)
        )

    def facets(self) -> list[tuple[str, Any]]:
        found: list[tuple[str, Any]] = []
        for name in ("status", "ship_from", "packing_slip", "customer_invoice"):
            value = getattr(self, name)
            if value is not None:
                found.append((name, value))
        return found


def _row_facets(row: DfOrderRow) -> list[tuple[str, Any]]:
    return [
        ("status", row.status),
        ("ship_from", row.ship_from),
        ("packing_slip", row.packing_slip),
        ("customer_invoice", row.customer_invoice),
    ]


class DfOrderTable(Protocol):
    def put(self, row: DfOrderRow) -> None:
        """Store (or replace) a row; the table keeps a copy of it."""
        ...

    def put_many(self, rows: Iterable[DfOrderRow]) -> int:
        """Store rows in bulk (a seeded world): the table takes them over as they are."""
        ...

    def get(self, number: str) -> DfOrderRow | None:
        """The row (read-only: it may be the table's own)."""
        ...

    def query(self, query: DfOrderQuery) -> list[DfOrderRow]:
        """Up to `query.limit` rows in (created, number) order after `query.after` (read-only)."""
        ...

    def count(self, account: str | None = None) -> int: ...

    def clear(self) -> None: ...

    def problem(self) -> str | None:
        """What makes the table unreadable now (the health call), or None."""
        ...

    def close(self) -> None: ...


_Key = tuple[str, str]


class MemoryDfOrderTable:
    def __init__(self) -> None:
        self._rows: dict[str, DfOrderRow] = {}
        self._keys: dict[str, _Key] = {}
        self._order: dict[str, list[_Key]] = {}
        self._facets: dict[tuple[str, str, Any], list[_Key]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _remove(keys: list[_Key], key: _Key) -> None:
        index = bisect.bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            del keys[index]

    def _unindex(self, old: DfOrderRow) -> None:
        key = self._keys.pop(old.number)
        self._remove(self._order.get(old.account, []), key)
        for name, value in _row_facets(old):
            self._remove(self._facets.get((old.account, name, value), []), key)

    def put(self, row: DfOrderRow) -> None:
        row = replace(row, document=copy_document(row.document))
        key = (row.created, row.number)
        with self._lock:
            old = self._rows.get(row.number)
            if old is not None:
                self._unindex(old)
            self._rows[row.number] = row
            self._keys[row.number] = key
            bisect.insort(self._order.setdefault(row.account, []), key)
            for name, value in _row_facets(row):
                bisect.insort(self._facets.setdefault((row.account, name, value), []), key)

    def put_many(self, rows: Iterable[DfOrderRow]) -> int:
        batch = {row.number: row for row in rows}
        ordered = sorted(batch.values(), key=attrgetter("created", "number"))
        lists_of: dict[tuple[Any, ...], tuple[list[_Key], ...]] = {}
        with self._lock:
            for number, row in batch.items():
                old = self._rows.get(number)
                if old is not None:
                    self._unindex(old)
                self._rows[number] = row
            for row in ordered:  # appended in sort order: each list stays one sorted run (merged below)
                key = self._keys[row.number] = (row.created, row.number)
                signature = (row.account, row.status, row.ship_from, row.packing_slip, row.customer_invoice)
                lists = lists_of.get(signature)
                if lists is None:
                    lists = lists_of[signature] = (
                        self._order.setdefault(row.account, []),
                        *(
                            self._facets.setdefault((row.account, name, value), [])
                            for name, value in _row_facets(row)
                        ),
                    )
                for keys in lists:
                    keys.append(key)
            for keys in {id(keys): keys for lists in lists_of.values() for keys in lists}.values():
                keys.sort()
        return len(batch)

    def get(self, number: str) -> DfOrderRow | None:
        return self._rows.get(number)

    def query(self, query: DfOrderQuery) -> list[DfOrderRow]:
        with self._lock:
            keys = self._order.get(query.account, [])
            for name, value in query.facets():
                candidates = self._facets.get((query.account, name, value))
                if candidates is None:
                    return []
                if len(candidates) < len(keys):
                    keys = candidates
            matched: list[DfOrderRow] = []
            if query.descending:
                end = bisect.bisect_left(keys, (query.created_before, ""))
                if query.after is not None:
                    end = min(end, bisect.bisect_left(keys, query.after))
                indexes: Iterable[int] = range(end - 1, -1, -1)
            else:
                start = bisect.bisect_right(keys, (query.created_after, "\uffff"))
                if query.after is not None:
                    start = max(start, bisect.bisect_right(keys, query.after))
                indexes = range(start, len(keys))
            rows = self._rows
            for index in indexes:
                created, number = keys[index]
                outside = (
                    created <= query.created_after if query.descending else created >= query.created_before
                )
                if outside:
                    break
                row = rows[number]
                if query.matches(row):
                    matched.append(row)
                    if len(matched) >= query.limit:
                        break
            return matched

    def count(self, account: str | None = None) -> int:
        if account is None:
            return len(self._rows)
        return len(self._order.get(account, []))

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._keys.clear()
            self._order.clear()
            self._facets.clear()

    def problem(self) -> str | None:
        return None

    def close(self) -> None:
        return None


DF_TABLES = ("df_orders", "df_order_bodies")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS df_orders (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL,
    account TEXT NOT NULL,
    created TEXT NOT NULL,
    status TEXT NOT NULL,
    ship_from TEXT NOT NULL,
    packing_slip INTEGER NOT NULL,
    customer_invoice INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS df_order_bodies (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);
"""
# As for purchase orders: narrow query columns and the bodies apart, every index ending in (created, number)
# so that a filtered page comes out in sort order; the documents an order may carry get partial indexes.
_INDEXES: dict[str, str] = {
    "df_by_number": "(number)",  # unique
    "df_by_created": "(account, created, number)",
    "df_by_status": "(account, status, created, number)",
    "df_by_ship_from": "(account, ship_from, created, number)",
    "df_packing_slips": "(account, created, number) WHERE packing_slip = 1",
    "df_customer_invoices": "(account, created, number) WHERE customer_invoice = 1",
}
_COLUMNS = "number, account, created, status, ship_from, packing_slip, customer_invoice"
_SELECT = (
    "SELECT d.number, d.account, d.created, d.status, d.ship_from, d.packing_slip, d.customer_invoice, "
    "b.body FROM df_orders AS d CROSS JOIN df_order_bodies AS b ON b.id = d.id"
)
_INSERT_ROW = f"INSERT OR REPLACE INTO df_orders (id, {_COLUMNS}) VALUES ({','.join('?' * 8)})"
_INSERT_BODY = "INSERT OR REPLACE INTO df_order_bodies (id, body) VALUES (?, ?)"
_BULK_CHUNK = 5000


def _create_index(name: str, if_not_exists: bool = False) -> str:
    unique = "UNIQUE " if name == "df_by_number" else ""
    exists = "IF NOT EXISTS " if if_not_exists else ""
    return f"CREATE {unique}INDEX {exists}{name} ON df_orders {_INDEXES[name]}"


def _values(row: DfOrderRow) -> tuple[Any, ...]:
    return (
        row.number,
        row.account,
        row.created,
        row.status,
        row.ship_from,
        int(row.packing_slip),
        int(row.customer_invoice),
    )


class SqliteDfOrderTable:
    def __init__(self, path: Path, decoded_cache: int = 4096, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self._db = database(path, fsync)
        self._write_lock = self._db.lock
        self._decoded = DecodedDocuments(decoded_cache)
        self._checkpoint = BackgroundCheckpoint(path, "df-order-checkpoint")
        connection = self._connection()
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(_SCHEMA)
        connection.executescript("".join(f"{_create_index(name, True)};\n" for name in _INDEXES))

    def _connection(self) -> sqlite3.Connection:
        return self._db.connection()

    def _row(self, values: tuple[Any, ...]) -> DfOrderRow:
        number, account, created, status, ship_from, packing_slip, customer_invoice, body = values
        return DfOrderRow(
            account,
            number,
            created,
            status,
            ship_from,
            bool(packing_slip),
            bool(customer_invoice),
            self._decoded(body),
        )

    @staticmethod
    def _replace(connection: sqlite3.Connection, row: DfOrderRow) -> None:
        old = connection.execute("SELECT id FROM df_orders WHERE number=?", (row.number,)).fetchone()
        row_id = connection.execute(_INSERT_ROW, (old[0] if old else None, *_values(row))).lastrowid
        connection.execute(_INSERT_BODY, (row_id, encode_document(row.document)))

    def put(self, row: DfOrderRow) -> None:
        with self._db.write() as connection:
            self._replace(connection, row)

    def put_many(self, rows: Iterable[DfOrderRow]) -> int:
        """Rows in one transaction; into an empty table a bulk load (see SqlitePurchaseOrderTable.put_many:
        indexes built after the rows, rows generated ahead, the log synced once at the end)."""
        count = 0
        with self._write_lock:
            connection = self._connection()
            loading = connection.execute("SELECT 1 FROM df_orders LIMIT 1").fetchone() is None
            if loading:
                connection.execute("PRAGMA synchronous=OFF")
                connection.execute("PRAGMA wal_autocheckpoint=0")
                connection.execute("PRAGMA cache_size=-65536")
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    if loading:
                        count = self._bulk_load(connection, rows)
                    else:
                        for row in rows:
                            self._replace(connection, row)
                            count += 1
                    connection.execute("COMMIT")
                except BaseException:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
            finally:
                if loading:
                    connection.execute(f"PRAGMA synchronous={'FULL' if self.fsync else 'NORMAL'}")
                    connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
                    connection.execute("PRAGMA cache_size=-2000")
            if loading:
                sync_log(self.path)
                self._checkpoint.start()
        return count

    def _bulk_load(self, connection: sqlite3.Connection, rows: Iterable[DfOrderRow]) -> int:
        for name in _INDEXES:
            connection.execute(f"DROP INDEX IF EXISTS {name}")
        first = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM df_order_bodies").fetchone()[0]
        count = 0
        for bodies, values in ahead(_chunks(rows, first)):
            connection.executemany(_INSERT_BODY, bodies)
            connection.executemany(_INSERT_ROW, values)
            count += len(values)
        duplicates = (
            "SELECT id FROM df_orders WHERE id NOT IN (SELECT MAX(id) FROM df_orders GROUP BY number)"
        )
        for name in _INDEXES:
            try:
                connection.execute(_create_index(name))
            except sqlite3.IntegrityError:  # a number given twice: the last row of it wins, as with put
                connection.execute(f"DELETE FROM df_order_bodies WHERE id IN ({duplicates})")
                connection.execute(f"DELETE FROM df_orders WHERE id IN ({duplicates})")
                connection.execute(_create_index(name))
        return count

    def wait_for_checkpoint(self) -> None:
        self._checkpoint.wait()

    def get(self, number: str) -> DfOrderRow | None:
        found = self._connection().execute(f"{_SELECT} WHERE d.number=?", (number,)).fetchone()
        return self._row(found) if found else None

    @staticmethod
    def _statement(query: DfOrderQuery) -> tuple[str, list[Any]]:
        where = ["d.account = ?", "d.created > ?", "d.created < ?"]
        parameters: list[Any] = [query.account, query.created_after, query.created_before]
        if query.after is not None:
            where.append(
                "(d.created, d.number) < (?, ?)" if query.descending else "(d.created, d.number) > (?, ?)"
            )
            parameters.extend(query.after)
        if query.status is not None:
            where.append("d.status = ?")
            parameters.append(query.status)
        if query.ship_from is not None:
            where.append("d.ship_from = ?")
            parameters.append(query.ship_from)
        # Literal terms: the WHERE of their partial indexes.
        if query.packing_slip is not None:
            where.append(f"d.packing_slip = {int(query.packing_slip)}")
        if query.customer_invoice is not None:
            where.append(f"d.customer_invoice = {int(query.customer_invoice)}")
        direction = "DESC" if query.descending else "ASC"
        sql = (
            f"{_SELECT} WHERE {' AND '.join(where)} "
            f"ORDER BY d.created {direction}, d.number {direction} LIMIT ?"
        )
        parameters.append(query.limit)
        return sql, parameters

    def query(self, query: DfOrderQuery) -> list[DfOrderRow]:
        return [
            self._row(values) for values in self._connection().execute(*self._statement(query)).fetchall()
        ]

    def explain(self, query: DfOrderQuery) -> list[str]:
        """SQLite's plan of `query`, for tests."""
        sql, parameters = self._statement(query)
        return [str(row[-1]) for row in self._connection().execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]

    def count(self, account: str | None = None) -> int:
        connection = self._connection()
        if account is None:
            return int(connection.execute("SELECT COUNT(*) FROM df_orders").fetchone()[0])
        return int(
            connection.execute("SELECT COUNT(*) FROM df_orders WHERE account=?", (account,)).fetchone()[0]
        )

    def clear(self) -> None:
        with self._db.write() as connection:
            connection.execute("DELETE FROM df_orders")
            connection.execute("DELETE FROM df_order_bodies")
        self._decoded.clear()

    def problem(self) -> str | None:
        return probe_database(self.path, DF_TABLES)

    def close(self) -> None:
        self._checkpoint.wait()
        self._db.close()


def _chunks(rows: Iterable[DfOrderRow], first_id: int) -> Iterator[tuple[list[Any], list[Any]]]:
    row_id = first_id
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, _BULK_CHUNK)):
        ids = range(row_id, row_id + len(chunk))
        bodies = [(body_id, encode_document(row.document)) for row, body_id in zip(chunk, ids, strict=True)]
        values = [(body_id, *_values(row)) for row, body_id in zip(chunk, ids, strict=True)]
        row_id += len(chunk)
        yield bodies, values


def open_df_order_table(kind: str, data_dir: Path, *, fsync: bool = False) -> DfOrderTable:
    if kind == "memory":
        return MemoryDfOrderTable()
    if kind.startswith(("redis://", "rediss://", "unix://")):
        from mockserver.store.redis.tables import RedisDfOrderTable

        return RedisDfOrderTable(kind)
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteDfOrderTable(database_path(data_dir), fsync=fsync)


__all__ = [
    "DfOrderQuery",
    "DfOrderRow",
    "DfOrderTable",
    "MemoryDfOrderTable",
    "SqliteDfOrderTable",
    "open_df_order_table",
]
