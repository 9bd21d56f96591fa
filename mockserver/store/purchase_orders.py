"""The purchase-order table: a purpose-built store for the Retail Procurement world.

Purchase orders are the one collection that is filtered, sorted and paged at volume (100,000 per account must
stay fast), so they get a table of their own behind a small interface. Every filter of `PurchaseOrderQuery` is
backed by an index that yields rows already in (created, number) order: a page of N rows reads about N index
entries, and a filter that matches nothing answers at once instead of walking every row of the account (a
receive status no PO has took a second at 100,000 POs on SQLite, a full scan). SQLite has an index per
filtered column and a partial index per item status (see `_INDEXES`); memory keeps the sort keys of each
account, and of each filter value, in sorted lists, and walks the shortest list a query's filters allow. With
two filters, one index is walked and the other filter tested row by row: two common values that never meet
(Closed POs with a PARTIALLY_RECEIVED item) still walk the rows of the one.

Sharing: the rows (and their documents) that `get` and `query` return may be the table's own objects (memory
keeps documents decoded, so a read decodes nothing): they are read-only. Whoever changes a purchase order
changes a private copy (`StoredPurchaseOrder.editable`) and `put`s it. `put` stores a copy of what it is
given; `put_many` (the bulk load of a seeded world) takes the rows it is given as they are: the caller hands
them over and keeps no reference it could change. SQLite decodes bodies with orjson and keeps the documents of
the bodies read last (`_DecodedDocuments`), shared the same way.
"""

from __future__ import annotations

import bisect
import itertools
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol

from mockserver.store.base import copy_document
from mockserver.store.bulk import BackgroundCheckpoint, DecodedDocuments, ahead, encode_document, sync_log
from mockserver.store.checkpoints import BACKSTOP_PAGES
from mockserver.store.integrity import database_path, probe_database
from mockserver.store.sqlite import database

CONFIRMATION_STATUSES = ("ACCEPTED", "PARTIALLY_ACCEPTED", "REJECTED", "UNCONFIRMED")
RECEIVE_STATUSES = ("NOT_RECEIVED", "PARTIALLY_RECEIVED", "RECEIVED")


@dataclass(slots=True)
class PurchaseOrderRow:
    """One purchase order with the columns its queries use; `document` is the whole stored PO. Rows a table
    returns are read-only (not frozen: that would double the cost of building 100,000 of them)."""

    account: str
    number: str
    created: str  # ISO 8601 UTC, fixed width ("YYYY-MM-DDTHH:MM:SSZ"), so text order is time order
    updated: str
    state: str  # New | Acknowledged | Closed
    vendor_code: str
    ship_to: str
    changed: str | None = None
    is_changed: bool = False
    has_cancelled: bool = False
    confirmation: str = ""  # ",ACCEPTED,UNCONFIRMED,": the item confirmation statuses present
    receiving: str = ""  # ",NOT_RECEIVED,RECEIVED,": the item receive statuses present
    document: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[str, str]:
        return (self.created, self.number)


@dataclass(frozen=True)
class PurchaseOrderQuery:
    """A page of an account's purchase orders: optional filters, and the sort key to continue after."""

    account: str
    limit: int = 100
    descending: bool = False
    after: tuple[str, str] | None = None  # the sort key of the last row already returned
    created_after: str | None = None
    created_before: str | None = None
    changed_after: str | None = None
    changed_before: str | None = None
    updated_after: str | None = None
    updated_before: str | None = None
    state: str | None = None
    open_only: bool | None = None  # True: not Closed; False: Closed only
    vendor_code: str | None = None
    ship_to: str | None = None
    number: str | None = None
    is_changed: bool | None = None
    has_cancelled: bool | None = None
    confirmation: str | None = None
    receiving: str | None = None

    def matches(self, row: PurchaseOrderRow) -> bool:
        if row.account != self.account:
            return False
        if self.created_after is not None and not row.created > self.created_after:
            return False
        if self.created_before is not None and not row.created < self.created_before:
            return False
        if self.changed_after is not None and (row.changed is None or not row.changed > self.changed_after):
            return False
        if self.changed_before is not None and (row.changed is None or not row.changed < self.changed_before):
            return False
        if self.updated_after is not None and not row.updated > self.updated_after:
            return False
        if self.updated_before is not None and not row.updated < self.updated_before:
            return False
        if self.state is not None and row.state != self.state:
            return False
        if self.open_only is not None and (row.state != "Closed") != self.open_only:
            return False
        if self.vendor_code is not None and row.vendor_code != self.vendor_code:
            return False
        if self.ship_to is not None and row.ship_to != self.ship_to:
            return False
        if self.number is not None and row.number != self.number:
            return False
        if self.is_changed is not None and row.is_changed != self.is_changed:
            return False
        if self.has_cancelled is not None and row.has_cancelled != self.has_cancelled:
            return False
        if self.confirmation is not None and (
            self.confirmation not in CONFIRMATION_STATUSES or f",{self.confirmation}," not in row.confirmation
        ):
            return False
        return self.receiving is None or (
            self.receiving in RECEIVE_STATUSES and f",{self.receiving}," in row.receiving
        )

    def facets(self) -> list[tuple[str, Any]]:
        """The equality filters of the query, as (facet, value): see `_row_facets`."""
        found: list[tuple[str, Any]] = []
        for name in ("state", "vendor_code", "ship_to", "is_changed", "has_cancelled", "confirmation"):
            value = getattr(self, name)
            if value is not None:
                found.append((name, value))
        if self.receiving is not None:
            found.append(("receiving", self.receiving))
        if self.open_only is not None:
            found.append(("open", self.open_only))
        return found


def _row_facets(row: PurchaseOrderRow) -> list[tuple[str, Any]]:
    """What a row offers the equality filters: one (facet, value) per filter it would pass."""
    found: list[tuple[str, Any]] = [
        ("state", row.state),
        ("vendor_code", row.vendor_code),
        ("ship_to", row.ship_to),
        ("is_changed", row.is_changed),
        ("has_cancelled", row.has_cancelled),
        ("open", row.state != "Closed"),
    ]
    found += [("confirmation", status) for status in row.confirmation.split(",") if status]
    found += [("receiving", status) for status in row.receiving.split(",") if status]
    return found


class PurchaseOrderTable(Protocol):
    def put(self, row: PurchaseOrderRow) -> None:
        """Store (or replace) a row; the table keeps a copy of it."""
        ...

    def put_many(self, rows: Iterable[PurchaseOrderRow]) -> int:
        """Store rows in bulk (a seeded world): the table takes them over as they are."""
        ...

    def get(self, number: str) -> PurchaseOrderRow | None:
        """The row (read-only: it may be the table's own)."""
        ...

    def query(self, query: PurchaseOrderQuery) -> list[PurchaseOrderRow]:
        """Up to `query.limit` rows in (created, number) order after `query.after` (read-only)."""
        ...

    def count(self, account: str | None = None) -> int: ...

    def clear(self) -> None: ...

    def problem(self) -> str | None:
        """What makes the table unreadable now (the health call), or None."""
        ...

    def close(self) -> None: ...


def _copy_row(row: PurchaseOrderRow) -> PurchaseOrderRow:
    return replace(row, document=copy_document(row.document))


_Key = tuple[str, str]  # (created, number): the sort key of a row


class MemoryPurchaseOrderTable:
    """Rows with their documents decoded; per account, the sort keys of all rows and, per facet value (a
    state, a vendor code, an item status...), of the rows that have it, each list sorted. A query walks the
    shortest list among its filters' (an unseen value: no list, no rows)."""

    def __init__(self) -> None:
        self._rows: dict[str, PurchaseOrderRow] = {}
        self._keys: dict[str, _Key] = {}  # number -> the one sort-key tuple every list shares
        self._order: dict[str, list[_Key]] = {}  # per account
        self._facets: dict[tuple[str, str, Any], list[_Key]] = {}  # (account, facet, value)
        self._lock = threading.Lock()

    @staticmethod
    def _remove(keys: list[_Key], key: _Key) -> None:
        index = bisect.bisect_left(keys, key)
        if index < len(keys) and keys[index] == key:
            del keys[index]

    def _unindex(self, old: PurchaseOrderRow) -> None:
        key = self._keys.pop(old.number)
        self._remove(self._order.get(old.account, []), key)
        for name, value in _row_facets(old):
            self._remove(self._facets.get((old.account, name, value), []), key)

    def put(self, row: PurchaseOrderRow) -> None:
        row = _copy_row(row)
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

    def put_many(self, rows: Iterable[PurchaseOrderRow]) -> int:
        batch = {row.number: row for row in rows}  # the last of a number wins, as with put
        ordered = sorted(batch.values(), key=attrgetter("created", "number"))
        facets_of: dict[tuple[Any, ...], tuple[list[_Key], ...]] = {}
        with self._lock:
            for number, row in batch.items():
                old = self._rows.get(number)
                if old is not None:
                    self._unindex(old)
                self._rows[number] = row
            for (
                row
            ) in ordered:  # appended in sort order: each list stays sorted (merged below if it was not empty)
                key = self._keys[row.number] = (row.created, row.number)
                signature = (
                    row.account, row.state, row.vendor_code, row.ship_to, row.is_changed, row.has_cancelled,
                    row.confirmation, row.receiving,
                )  # fmt: skip
                lists = facets_of.get(signature)
                if lists is None:
                    lists = facets_of[signature] = (
                        self._order.setdefault(row.account, []),
                        *(
                            self._facets.setdefault((row.account, name, value), [])
                            for name, value in _row_facets(row)
                        ),
                    )
                for keys in lists:
                    keys.append(key)
            touched = {id(keys): keys for lists in facets_of.values() for keys in lists}
            for keys in touched.values():
                keys.sort()  # linear for a list that is one sorted run, a merge for two
        return len(batch)

    def get(self, number: str) -> PurchaseOrderRow | None:
        return self._rows.get(number)

    def _candidates(self, query: PurchaseOrderQuery) -> list[_Key]:
        best = self._order.get(query.account, [])
        for name, value in query.facets():
            keys = self._facets.get((query.account, name, value))
            if keys is None:
                return []
            if len(keys) < len(best):
                best = keys
        return best

    def query(self, query: PurchaseOrderQuery) -> list[PurchaseOrderRow]:
        with self._lock:
            if query.number is not None:
                row = self._rows.get(query.number)
                found = [row] if row is not None and query.matches(row) else []
                if query.after is not None:
                    key = (found[0].created, found[0].number) if found else query.after
                    found = found if (key < query.after if query.descending else key > query.after) else []
                return found[: query.limit]
            keys = self._candidates(query)
            matched: list[PurchaseOrderRow] = []
            if query.descending:
                end = bisect.bisect_left(keys, query.after) if query.after is not None else len(keys)
                if query.created_before is not None:
                    end = min(end, bisect.bisect_left(keys, (query.created_before, "")))
                indexes: Iterable[int] = range(end - 1, -1, -1)
            else:
                start = bisect.bisect_right(keys, query.after) if query.after is not None else 0
                if query.created_after is not None:
                    start = max(start, bisect.bisect_right(keys, (query.created_after, "\uffff")))
                indexes = range(start, len(keys))
            rows = self._rows
            for index in indexes:
                created, number = keys[index]
                if query.descending and query.created_after is not None and created <= query.created_after:
                    break
                if (
                    not query.descending
                    and query.created_before is not None
                    and created >= query.created_before
                ):
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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS purchase_orders (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL,
    account TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    changed TEXT,
    state TEXT NOT NULL,
    vendor_code TEXT NOT NULL,
    ship_to TEXT NOT NULL,
    is_changed INTEGER NOT NULL,
    has_cancelled INTEGER NOT NULL,
    confirmation TEXT NOT NULL,
    receiving TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS purchase_order_bodies (
    id INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);
"""
# The query columns and the documents live in two tables sharing the row id: the narrow one is what the
# indexes are built from and walk (an index build reads 150 bytes a row, not the 2 KB document); a page then
# reads the bodies of its rows by id. A bulk load appends to both in id order (no B-tree insert in the middle)
# and builds the index of PO numbers (unique) with the others, after the rows.
#
# Secondary indexes, each ending in (created, number) so that a filtered page comes out in sort order. A
# substring test (the item statuses, `instr(...)`) or an inequality (`state != 'Closed'`) can use no ordinary
# index: each of their values gets a partial index instead, which the query names with the very same literal
# term (a bound parameter would not match the index's WHERE). Without them a status no PO has (say
# PARTIALLY_RECEIVED in a freshly seeded world) walked every row of the account: a second at 100,000 POs.
_INDEXES: dict[str, str] = {
    "po_by_number": "(number)",  # unique
    "po_by_created": "(account, created, number)",
    "po_by_state": "(account, state, created, number)",
    "po_by_vendor_code": "(account, vendor_code, created, number)",
    "po_by_ship_to": "(account, ship_to, created, number)",
    # Changed and cancelled POs are few: partial indexes (a filter for the many others walks po_by_created).
    "po_changed": "(account, created, number) WHERE is_changed = 1",
    "po_cancelled": "(account, created, number) WHERE has_cancelled = 1",
    "po_by_changed": "(account, changed) WHERE changed IS NOT NULL",
    "po_by_updated": "(account, updated)",
    "po_open": "(account, created, number) WHERE state != 'Closed'",
    **{
        f"po_{column}_{status.lower()}": f"(account, created, number) WHERE instr({column}, ',{status},') > 0"
        for column, statuses in (("confirmation", CONFIRMATION_STATUSES), ("receiving", RECEIVE_STATUSES))
        for status in statuses
    },
}
_OLD_INDEXES = ("po_by_created", "po_by_state", "po_by_changed", "po_by_updated")


def _create_index(name: str, if_not_exists: bool = False) -> str:
    unique = "UNIQUE " if name == "po_by_number" else ""
    exists = "IF NOT EXISTS " if if_not_exists else ""
    return f"CREATE {unique}INDEX {exists}{name} ON purchase_orders {_INDEXES[name]}"


_ROW_COLUMNS = (
    "number, account, created, updated, changed, state, vendor_code, ship_to, is_changed, has_cancelled, "
    "confirmation, receiving"
)
_SELECT = (
    "SELECT p.number, p.account, p.created, p.updated, p.changed, p.state, p.vendor_code, p.ship_to, "
    "p.is_changed, p.has_cancelled, p.confirmation, p.receiving, b.body "
    "FROM purchase_orders AS p CROSS JOIN purchase_order_bodies AS b ON b.id = p.id"
)
_INSERT_ROW = f"INSERT OR REPLACE INTO purchase_orders (id, {_ROW_COLUMNS}) VALUES ({','.join('?' * 13)})"
_INSERT_BODY = "INSERT OR REPLACE INTO purchase_order_bodies (id, body) VALUES (?, ?)"
_BULK_CHUNK = 5000


def _values(row: PurchaseOrderRow) -> tuple[Any, ...]:
    return (
        row.number,
        row.account,
        row.created,
        row.updated,
        row.changed,
        row.state,
        row.vendor_code,
        row.ship_to,
        int(row.is_changed),
        int(row.has_cancelled),
        row.confirmation,
        row.receiving,
    )


def _row(values: tuple[Any, ...], decode: Callable[[str], dict[str, Any]]) -> PurchaseOrderRow:
    (
        number,
        account,
        created,
        updated,
        changed,
        state,
        vendor_code,
        ship_to,
        is_changed,
        has_cancelled,
        confirmation,
        receiving,
        body,
    ) = values
    return PurchaseOrderRow(
        account=account,
        number=number,
        created=created,
        updated=updated,
        changed=changed,
        state=state,
        vendor_code=vendor_code,
        ship_to=ship_to,
        is_changed=bool(is_changed),
        has_cancelled=bool(has_cancelled),
        confirmation=confirmation,
        receiving=receiving,
        document=decode(body),
    )


def _bulk_chunks(
    rows: Iterable[PurchaseOrderRow], first_id: int
) -> Iterator[tuple[list[tuple[int, str]], list[tuple[Any, ...]]]]:
    """The bodies and row values of a bulk load, a chunk at a time, numbered from `first_id`."""
    row_id = first_id
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, _BULK_CHUNK)):
        ids = range(row_id, row_id + len(chunk))
        bodies = [(body_id, encode_document(row.document)) for row, body_id in zip(chunk, ids, strict=True)]
        values = [(body_id, *_values(row)) for row, body_id in zip(chunk, ids, strict=True)]
        row_id += len(chunk)
        yield bodies, values


class SqlitePurchaseOrderTable:
    def __init__(self, path: Path, decoded_cache: int = 4096, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        self._db = database(path, fsync)
        self._write_lock = self._db.lock
        self._decoded = DecodedDocuments(decoded_cache)
        self._checkpoint = BackgroundCheckpoint(path, "purchase-order-checkpoint")
        connection = self._connection()
        connection.execute("PRAGMA journal_mode=WAL")
        self._migrate(connection)
        connection.executescript(_SCHEMA)
        connection.executescript(
            "".join(f"{_create_index(name, if_not_exists=True)};\n" for name in _INDEXES)
        )

    @staticmethod
    def _migrate(connection: sqlite3.Connection) -> None:
        """A data directory of an earlier version kept the document in `purchase_orders.body`: move it out
        (the indexes are created afterwards, as for a new file)."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            columns = {column[1] for column in connection.execute("PRAGMA table_info(purchase_orders)")}
            if "body" in columns:
                for name in _OLD_INDEXES:
                    connection.execute(f"DROP INDEX IF EXISTS {name}")
                connection.execute("ALTER TABLE purchase_orders RENAME TO purchase_orders_before_bodies")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(
                    "INSERT INTO purchase_order_bodies (id, body) "
                    "SELECT ROW_NUMBER() OVER (ORDER BY number), body FROM purchase_orders_before_bodies"
                )
                connection.execute(
                    f"INSERT INTO purchase_orders (id, {_ROW_COLUMNS}) SELECT ROW_NUMBER() OVER "
                    f"(ORDER BY number), {_ROW_COLUMNS} FROM purchase_orders_before_bodies"
                )
                connection.execute("DROP TABLE purchase_orders_before_bodies")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        return self._db.connection()

    @staticmethod
    def _replace(connection: sqlite3.Connection, row: PurchaseOrderRow) -> None:
        """Write one row (inside a transaction), in place of the row of its number if there is one."""
        old = connection.execute("SELECT id FROM purchase_orders WHERE number=?", (row.number,)).fetchone()
        row_id = connection.execute(_INSERT_ROW, (old[0] if old else None, *_values(row))).lastrowid
        connection.execute(_INSERT_BODY, (row_id, encode_document(row.document)))

    def put(self, row: PurchaseOrderRow) -> None:
        with self._db.write() as connection:
            self._replace(connection, row)

    def put_many(self, rows: Iterable[PurchaseOrderRow]) -> int:
        """Rows in one transaction. Into an empty table (a world being seeded) it is a bulk load: the
        secondary indexes are dropped and built again after the rows (one sort each instead of 100,000
        inserts in the middle of B-trees), the rows are generated by a worker thread while SQLite writes
        (`_ahead`), and the load neither syncs nor checkpoints. Then synchronous=FULL is back, the log is
        synced (the load is on disk before the caller records the world as seeded) and a checkpoint on a
        thread of its own copies it into the database file."""
        count = 0
        with self._write_lock:
            connection = self._connection()
            # The safety level cannot change inside a transaction: set for a bulk load before, decided in it.
            loading = connection.execute("SELECT 1 FROM purchase_orders LIMIT 1").fetchone() is None
            bulk = False
            if loading:
                connection.execute("PRAGMA synchronous=OFF")
                connection.execute("PRAGMA wal_autocheckpoint=0")
                connection.execute("PRAGMA cache_size=-65536")
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    bulk = (
                        loading
                        and connection.execute("SELECT 1 FROM purchase_orders LIMIT 1").fetchone() is None
                    )
                    if bulk:
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
            if bulk:
                sync_log(self.path)
                self._checkpoint.start()
        return count

    def wait_for_checkpoint(self) -> None:
        """Until the checkpoint after a bulk load, if one runs, is done."""
        self._checkpoint.wait()

    def _bulk_load(self, connection: sqlite3.Connection, rows: Iterable[PurchaseOrderRow]) -> int:
        count = 0
        for name in _INDEXES:
            connection.execute(f"DROP INDEX IF EXISTS {name}")
        first = connection.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM purchase_order_bodies").fetchone()[0]
        for bodies, values in ahead(_bulk_chunks(rows, first)):
            connection.executemany(_INSERT_BODY, bodies)
            connection.executemany(_INSERT_ROW, values)
            count += len(values)
        for name in _INDEXES:
            try:
                connection.execute(_create_index(name))
            except sqlite3.IntegrityError:  # the unique index of numbers: a number given twice
                self._deduplicate(connection)
                connection.execute(_create_index(name))
        return count

    @staticmethod
    def _deduplicate(connection: sqlite3.Connection) -> None:
        """A bulk load given a number twice keeps the last row of it, as `put` would."""
        duplicates = (
            "SELECT id FROM purchase_orders WHERE id NOT IN "
            "(SELECT MAX(id) FROM purchase_orders GROUP BY number)"
        )
        if connection.execute(f"{duplicates} LIMIT 1").fetchone() is not None:
            connection.execute(f"DELETE FROM purchase_order_bodies WHERE id IN ({duplicates})")
            connection.execute(f"DELETE FROM purchase_orders WHERE id IN ({duplicates})")

    def get(self, number: str) -> PurchaseOrderRow | None:
        found = self._connection().execute(f"{_SELECT} WHERE p.number=?", (number,)).fetchone()
        return _row(found, self._decoded) if found else None

    @staticmethod
    def _statement(query: PurchaseOrderQuery) -> tuple[str, list[Any]] | None:
        """The SELECT of a query and its parameters; None when nothing can match."""
        if (query.confirmation is not None and query.confirmation not in CONFIRMATION_STATUSES) or (
            query.receiving is not None and query.receiving not in RECEIVE_STATUSES
        ):
            return None  # a status no item can have
        where = ["p.account = ?"]
        parameters: list[Any] = [query.account]

        def add(clause: str, value: Any) -> None:
            where.append(clause)
            parameters.append(value)

        if query.after is not None:
            where.append(
                "(p.created, p.number) < (?, ?)" if query.descending else "(p.created, p.number) > (?, ?)"
            )
            parameters.extend(query.after)
        for clause, value in (
            ("p.created > ?", query.created_after),
            ("p.created < ?", query.created_before),
            ("p.changed > ?", query.changed_after),
            ("p.changed < ?", query.changed_before),
            ("p.updated > ?", query.updated_after),
            ("p.updated < ?", query.updated_before),
            ("p.state = ?", query.state),
            ("p.vendor_code = ?", query.vendor_code),
            ("p.ship_to = ?", query.ship_to),
            ("p.number = ?", query.number),
        ):
            if value is not None:
                add(clause, value)
        if query.open_only is not None:
            where.append("p.state != 'Closed'" if query.open_only else "p.state = 'Closed'")
        # Literal terms (statuses checked above), the WHERE of their partial indexes.
        if query.is_changed is not None:
            where.append(f"p.is_changed = {int(query.is_changed)}")
        if query.has_cancelled is not None:
            where.append(f"p.has_cancelled = {int(query.has_cancelled)}")
        if query.confirmation is not None:
            where.append(f"instr(p.confirmation, ',{query.confirmation},') > 0")
        if query.receiving is not None:
            where.append(f"instr(p.receiving, ',{query.receiving},') > 0")
        direction = "DESC" if query.descending else "ASC"
        sql = (
            f"{_SELECT} WHERE {' AND '.join(where)} "
            f"ORDER BY p.created {direction}, p.number {direction} LIMIT ?"
        )
        parameters.append(query.limit)
        return sql, parameters

    def query(self, query: PurchaseOrderQuery) -> list[PurchaseOrderRow]:
        statement = self._statement(query)
        if statement is None:
            return []
        decode = self._decoded
        return [_row(values, decode) for values in self._connection().execute(*statement).fetchall()]

    def explain(self, query: PurchaseOrderQuery) -> list[str]:
        """SQLite's plan of `query` (the details of EXPLAIN QUERY PLAN), for tests: [] if it runs no SQL."""
        statement = self._statement(query)
        if statement is None:
            return []
        sql, parameters = statement
        return [str(row[-1]) for row in self._connection().execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]

    def count(self, account: str | None = None) -> int:
        if account is None:
            found = self._connection().execute("SELECT COUNT(*) FROM purchase_orders").fetchone()
        else:
            found = (
                self._connection()
                .execute("SELECT COUNT(*) FROM purchase_orders WHERE account=?", (account,))
                .fetchone()
            )
        return int(found[0])

    def clear(self) -> None:
        with self._db.write() as connection:
            connection.execute("DELETE FROM purchase_orders")
            connection.execute("DELETE FROM purchase_order_bodies")
        self._decoded.clear()

    def problem(self) -> str | None:
        return probe_database(self.path, ("purchase_orders", "purchase_order_bodies"))

    def close(self) -> None:
        self.wait_for_checkpoint()
        self._db.close()


def open_purchase_order_table(kind: str, data_dir: Path, *, fsync: bool = False) -> PurchaseOrderTable:
    if kind == "memory":
        return MemoryPurchaseOrderTable()
    if kind.startswith(("redis://", "rediss://", "unix://")):
        from mockserver.store.redis.tables import RedisPurchaseOrderTable

        return RedisPurchaseOrderTable(kind)
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqlitePurchaseOrderTable(database_path(data_dir), fsync=fsync)


__all__ = [
    "MemoryPurchaseOrderTable",
    "PurchaseOrderQuery",
    "PurchaseOrderRow",
    "PurchaseOrderTable",
    "SqlitePurchaseOrderTable",
    "open_purchase_order_table",
]
