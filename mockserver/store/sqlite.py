"""The embedded default store: SQLite in WAL mode, so accepted state survives a restart."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from mockserver import wire
from mockserver.store.base import Document, decode_stored
from mockserver.store.integrity import probe_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID;
"""


class SqliteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection per thread: sqlite3 connections are not shared across threads safely.
        self._local = threading.local()
        self._write_lock = threading.Lock()
        connection = self._connection()
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(_SCHEMA)
        connection.commit()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            # synchronous=FULL: a 2xx answered after the write means the write reached the disk.
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
        return connection

    def get(self, collection: str, key: str) -> Document | None:
        row = (
            self._connection()
            .execute("SELECT body FROM documents WHERE collection=? AND key=?", (collection, key))
            .fetchone()
        )
        return decode_stored(row[0], f"{self.path}: {collection}/{key}") if row else None

    def put(self, collection: str, key: str, document: Document) -> None:
        with self._write_lock:
            self._connection().execute(
                "INSERT OR REPLACE INTO documents (collection, key, body) VALUES (?, ?, ?)",
                (collection, key, wire.dumps(document).decode()),
            )

    def put_many(self, collection: str, documents: Iterable[tuple[str, Document]]) -> int:
        rows = [(collection, key, wire.dumps(document).decode()) for key, document in documents]
        with self._write_lock:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.executemany(
                    "INSERT OR REPLACE INTO documents (collection, key, body) VALUES (?, ?, ?)", rows
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        return len(rows)

    def put_if_absent(self, collection: str, key: str, document: Document) -> bool:
        with self._write_lock:
            cursor = self._connection().execute(
                "INSERT OR IGNORE INTO documents (collection, key, body) VALUES (?, ?, ?)",
                (collection, key, wire.dumps(document).decode()),
            )
            return cursor.rowcount == 1

    def delete(self, collection: str, key: str) -> bool:
        with self._write_lock:
            cursor = self._connection().execute(
                "DELETE FROM documents WHERE collection=? AND key=?", (collection, key)
            )
            return cursor.rowcount > 0

    def scan(self, collection: str) -> Iterator[tuple[str, Document]]:
        rows = (
            self._connection()
            .execute("SELECT key, body FROM documents WHERE collection=? ORDER BY key", (collection,))
            .fetchall()
        )
        for key, body in rows:
            yield key, decode_stored(body, f"{self.path}: {collection}/{key}")

    def count(self, collection: str) -> int:
        row = (
            self._connection()
            .execute("SELECT COUNT(*) FROM documents WHERE collection=?", (collection,))
            .fetchone()
        )
        return int(row[0])

    def collections(self) -> list[str]:
        rows = self._connection().execute("SELECT DISTINCT collection FROM documents ORDER BY collection")
        return [str(row[0]) for row in rows.fetchall()]

    def clear(self, collection: str | None = None) -> None:
        with self._write_lock:
            if collection is None:
                self._connection().execute("DELETE FROM documents")
            else:
                self._connection().execute("DELETE FROM documents WHERE collection=?", (collection,))

    def problem(self) -> str | None:
        return probe_database(self.path, ("documents",))

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
