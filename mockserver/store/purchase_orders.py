"""The purchase-order table: a purpose-built store for the Retail Procurement world.

Purchase orders are the one collection that is filtered, sorted and paged at volume (100,000 per account must
stay fast), so they get a table of their own behind a small interface, with every column the operations filter
or sort on indexed (SQLite) or kept in creation order (memory). The document itself is JSON, as in the store.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol


@dataclass
class PurchaseOrderRow:
    """One purchase order with the columns its queries use; `document` is the whole stored PO."""

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
        if self.confirmation is not None and f",{self.confirmation}," not in row.confirmation:
            return False
        return self.receiving is None or f",{self.receiving}," in row.receiving


class PurchaseOrderTable(Protocol):
    def put(self, row: PurchaseOrderRow) -> None: ...

    def put_many(self, rows: Iterable[PurchaseOrderRow]) -> int: ...

    def get(self, number: str) -> PurchaseOrderRow | None: ...

    def query(self, query: PurchaseOrderQuery) -> list[PurchaseOrderRow]:
        """Up to `query.limit` rows in (created, number) order after `query.after`."""
        ...

    def count(self, account: str | None = None) -> int: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


class MemoryPurchaseOrderTable:
    """Rows in creation order per account; documents kept as JSON text (decoding is faster than deepcopy)."""

    def __init__(self) -> None:
        self._rows: dict[str, PurchaseOrderRow] = {}  # documents left empty: they are in _bodies
        self._bodies: dict[str, str] = {}
        self._order: dict[str, list[tuple[str, str]]] = {}  # per account, sorted sort keys
        self._lock = threading.Lock()

    def _unindex(self, old: PurchaseOrderRow) -> None:
        old_keys = self._order.get(old.account, [])
        index = bisect.bisect_left(old_keys, old.sort_key)
        if index < len(old_keys) and old_keys[index] == old.sort_key:
            del old_keys[index]

    def _store(self, row: PurchaseOrderRow) -> None:
        self._bodies[row.number] = json.dumps(row.document, separators=(",", ":"))
        self._rows[row.number] = replace(row, document={})

    def _read(self, row: PurchaseOrderRow) -> PurchaseOrderRow:
        return replace(row, document=json.loads(self._bodies[row.number]))

    def put(self, row: PurchaseOrderRow) -> None:
        with self._lock:
            old = self._rows.get(row.number)
            if old is not None:
                self._unindex(old)
            self._store(row)
            bisect.insort(self._order.setdefault(row.account, []), row.sort_key)

    def put_many(self, rows: Iterable[PurchaseOrderRow]) -> int:
        count = 0
        with self._lock:
            for row in rows:
                old = self._rows.get(row.number)
                if old is not None:
                    self._unindex(old)
                self._store(row)
                self._order.setdefault(row.account, []).append(row.sort_key)  # sorted once, below
                count += 1
            for keys in self._order.values():
                keys.sort()
        return count

    def get(self, number: str) -> PurchaseOrderRow | None:
        row = self._rows.get(number)
        return self._read(row) if row is not None else None

    def query(self, query: PurchaseOrderQuery) -> list[PurchaseOrderRow]:
        with self._lock:
            keys = self._order.get(query.account, [])
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
                row = self._rows[number]
                if query.matches(row):
                    matched.append(row)
                    if len(matched) >= query.limit:
                        break
            return [self._read(row) for row in matched]

    def count(self, account: str | None = None) -> int:
        if account is None:
            return len(self._rows)
        return len(self._order.get(account, []))

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()
            self._bodies.clear()
            self._order.clear()

    def close(self) -> None:
        return None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS purchase_orders (
    number TEXT PRIMARY KEY,
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
    receiving TEXT NOT NULL,
    body TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS po_by_created ON purchase_orders (account, created, number);
CREATE INDEX IF NOT EXISTS po_by_state ON purchase_orders (account, state, created, number);
CREATE INDEX IF NOT EXISTS po_by_changed ON purchase_orders (account, changed);
CREATE INDEX IF NOT EXISTS po_by_updated ON purchase_orders (account, updated);
"""

_COLUMNS = (
    "number, account, created, updated, changed, state, vendor_code, ship_to, is_changed, has_cancelled, "
    "confirmation, receiving, body"
)


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
        json.dumps(row.document, separators=(",", ":")),
    )


def _row(values: tuple[Any, ...]) -> PurchaseOrderRow:
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
        document=json.loads(body),
    )


class SqlitePurchaseOrderTable:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        connection = self._connection()
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
        return connection

    def put(self, row: PurchaseOrderRow) -> None:
        with self._write_lock:
            self._connection().execute(
                f"INSERT OR REPLACE INTO purchase_orders ({_COLUMNS}) VALUES ({','.join('?' * 13)})",
                _values(row),
            )

    def put_many(self, rows: Iterable[PurchaseOrderRow]) -> int:
        values = [_values(row) for row in rows]
        with self._write_lock:
            connection = self._connection()
            connection.execute("BEGIN")
            try:
                connection.executemany(
                    f"INSERT OR REPLACE INTO purchase_orders ({_COLUMNS}) VALUES ({','.join('?' * 13)})",
                    values,
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        return len(values)

    def get(self, number: str) -> PurchaseOrderRow | None:
        found = (
            self._connection()
            .execute(f"SELECT {_COLUMNS} FROM purchase_orders WHERE number=?", (number,))
            .fetchone()
        )
        return _row(found) if found else None

    def query(self, query: PurchaseOrderQuery) -> list[PurchaseOrderRow]:
        where = ["account = ?"]
        parameters: list[Any] = [query.account]

        def add(clause: str, value: Any) -> None:
            where.append(clause)
            parameters.append(value)

        if query.after is not None:
            where.append("(created, number) < (?, ?)" if query.descending else "(created, number) > (?, ?)")
            parameters.extend(query.after)
        for clause, value in (
            ("created > ?", query.created_after),
            ("created < ?", query.created_before),
            ("changed > ?", query.changed_after),
            ("changed < ?", query.changed_before),
            ("updated > ?", query.updated_after),
            ("updated < ?", query.updated_before),
            ("state = ?", query.state),
            ("vendor_code = ?", query.vendor_code),
            ("ship_to = ?", query.ship_to),
            ("number = ?", query.number),
        ):
            if value is not None:
                add(clause, value)
        if query.open_only is not None:
            where.append("state != 'Closed'" if query.open_only else "state = 'Closed'")
        if query.is_changed is not None:
            add("is_changed = ?", int(query.is_changed))
        if query.has_cancelled is not None:
            add("has_cancelled = ?", int(query.has_cancelled))
        if query.confirmation is not None:
            add("instr(confirmation, ?) > 0", f",{query.confirmation},")
        if query.receiving is not None:
            add("instr(receiving, ?) > 0", f",{query.receiving},")
        direction = "DESC" if query.descending else "ASC"
        sql = (
            f"SELECT {_COLUMNS} FROM purchase_orders WHERE {' AND '.join(where)} "
            f"ORDER BY created {direction}, number {direction} LIMIT ?"
        )
        parameters.append(query.limit)
        return [_row(values) for values in self._connection().execute(sql, parameters).fetchall()]

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
        with self._write_lock:
            self._connection().execute("DELETE FROM purchase_orders")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def open_purchase_order_table(kind: str, data_dir: Path) -> PurchaseOrderTable:
    if kind == "memory":
        return MemoryPurchaseOrderTable()
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqlitePurchaseOrderTable(data_dir / "state.sqlite3")


__all__ = [
    "MemoryPurchaseOrderTable",
    "PurchaseOrderQuery",
    "PurchaseOrderRow",
    "PurchaseOrderTable",
    "SqlitePurchaseOrderTable",
    "open_purchase_order_table",
]
