"""The runtime of `serve --workers N` over SQLite: a second database beside the data directory's, shared
by the workers of one host. Its contents are volatile (as a lone process's memory): `serve` starts it
afresh, and it is never synced to disk (synchronous=OFF: a crash of the machine loses a journal, never an
accepted document, which lives in the main database)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from mockserver import wire
from mockserver.ids import unique_id
from mockserver.store.integrity import probe_database
from mockserver.store.locks import NamedLock, database_write_lock
from mockserver.store.runtime import refill
from mockserver.store.sqlite import begin_immediate, end_transaction

RUNTIME_FILE = "runtime.sqlite3"
_TABLES = ("shared_values", "counters", "buckets", "journal", "journal_floor")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS shared_values (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal (
    sequence INTEGER PRIMARY KEY, cost INTEGER NOT NULL, total INTEGER NOT NULL, record BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_floor (id INTEGER PRIMARY KEY CHECK (id = 1), sequence INTEGER NOT NULL);
"""
# The journal's rows are numbered without gaps (appended one after the last, dropped from the oldest) and each
# carries the running total of the costs up to it, so that what the journal holds is read off its first and
# last rows: an append changes the newest page of one table and nothing else (a table of totals, or SQLite's
# table of AUTOINCREMENT counters, was one more page written to the log on every request).
_ENDS = (
    "SELECT last.sequence, last.total, first.sequence, first.total - first.cost "
    "FROM (SELECT sequence, total FROM journal ORDER BY sequence DESC LIMIT 1) AS last, "
    "(SELECT sequence, cost, total FROM journal ORDER BY sequence LIMIT 1) AS first"
)
_GENERATION = "generation"


def runtime_path(data_dir: Path) -> Path:
    return data_dir / RUNTIME_FILE


def remove_runtime(data_dir: Path) -> None:
    """A new runtime for a new `serve` (what a lone process would have in memory at start)."""
    path = runtime_path(data_dir)
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        candidate.unlink(missing_ok=True)


class SqliteRuntime:
    shared = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = database_write_lock(path)
        connection = self._connection()
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("PRAGMA busy_timeout=30000")
            self._local.connection = connection
        return connection

    def _transaction(self) -> _Transaction:
        return _Transaction(self._connection(), self._write_lock)

    def _write(self, sql: str, parameters: tuple[Any, ...]) -> None:
        with self._write_lock:
            self._connection().execute(sql, parameters)

    def generation(self) -> str:
        return str(self.get_value(_GENERATION) or "")

    def bump(self) -> None:
        self.set_value(_GENERATION, unique_id())

    def get_value(self, name: str) -> Any:
        row = self._connection().execute("SELECT value FROM shared_values WHERE name=?", (name,)).fetchone()
        return wire.loads(row[0]) if row else None

    def set_value(self, name: str, value: Any) -> None:
        if value is None:
            self._write("DELETE FROM shared_values WHERE name=?", (name,))
        else:
            self._write(
                "INSERT OR REPLACE INTO shared_values (name, value) VALUES (?, ?)",
                (name, wire.dumps(value).decode()),
            )

    def values(self, prefix: str) -> dict[str, Any]:
        rows = self._connection().execute(
            "SELECT name, value FROM shared_values WHERE substr(name, 1, ?) = ?", (len(prefix), prefix)
        )
        return {name: wire.loads(value) for name, value in rows}

    def delete_values(self, prefix: str) -> None:
        self._write("DELETE FROM shared_values WHERE substr(name, 1, ?) = ?", (len(prefix), prefix))

    def add(self, name: str, amount: int = 1, below: int | None = None) -> int | None:
        with self._transaction() as connection:
            row = connection.execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
            value = int(row[0]) if row else 0
            if below is not None and value >= below:
                return None
            value += amount
            connection.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (name, value))
            return value

    def counter(self, name: str) -> int:
        row = self._connection().execute("SELECT value FROM counters WHERE name=?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def clear_counters(self, prefix: str) -> None:
        self._write("DELETE FROM counters WHERE substr(name, 1, ?) = ?", (len(prefix), prefix))

    def take(self, bucket: str, rate: float, burst: float, now: float, initial: float) -> bool:
        with self._transaction() as connection:
            row = connection.execute("SELECT tokens, updated FROM buckets WHERE name=?", (bucket,)).fetchone()
            tokens = float(initial) if row is None else refill(row[0], row[1], rate, burst, now)
            taken = tokens >= 1.0
            if taken:
                tokens -= 1.0
            connection.execute(
                "INSERT OR REPLACE INTO buckets (name, tokens, updated) VALUES (?, ?, ?)",
                (bucket, tokens, now),
            )
            return taken

    def clear_buckets(self, prefix: str = "") -> None:
        self._write("DELETE FROM buckets WHERE substr(name, 1, ?) = ?", (len(prefix), prefix))

    def journal_append(self, record: bytes, cost: int, max_entries: int, max_bytes: int) -> int:
        with self._transaction() as connection:
            ends = connection.execute(_ENDS).fetchone()
            if ends is None:  # empty: numbered on from the last entry ever kept (see journal_clear)
                floor = connection.execute("SELECT sequence FROM journal_floor WHERE id = 1").fetchone()
                sequence = (int(floor[0]) if floor else 0) + 1
                total = cost
                first, before_first = sequence, 0
            else:
                last, last_total, first, before_first = ends
                sequence, total = last + 1, last_total + cost
            connection.execute(
                "INSERT INTO journal (sequence, cost, total, record) VALUES (?, ?, ?, ?)",
                (sequence, cost, total, record),
            )
            if sequence - first + 1 > max_entries or total - before_first > max_bytes:
                # The oldest entry kept: the first within the count whose own and later costs fit the budget;
                # the newest alone when it is over the budget by itself.
                cut = connection.execute(
                    "SELECT sequence FROM journal WHERE sequence >= ? AND total - cost >= ? "
                    "ORDER BY sequence LIMIT 1",
                    (sequence - max_entries + 1, total - max_bytes),
                ).fetchone()
                connection.execute("DELETE FROM journal WHERE sequence < ?", (cut[0] if cut else sequence,))
            return sequence

    def journal_records(self) -> list[tuple[int, bytes]]:
        rows = self._connection().execute("SELECT sequence, record FROM journal ORDER BY sequence")
        return [(int(sequence), bytes(record)) for sequence, record in rows]

    def journal_stats(self) -> tuple[int, int]:
        ends = self._connection().execute(_ENDS).fetchone()
        if ends is None:
            return 0, 0
        last, last_total, first, before_first = ends
        return int(last - first + 1), int(last_total - before_first)

    def journal_clear(self) -> None:
        with self._transaction() as connection:
            # Numbered on after a clear: whoever polls for entries after a sequence sees the new ones.
            connection.execute(
                "INSERT OR REPLACE INTO journal_floor (id, sequence) "
                "SELECT 1, MAX(sequence) FROM journal HAVING MAX(sequence) IS NOT NULL"
            )
            connection.execute("DELETE FROM journal")

    def problem(self) -> str | None:
        return probe_database(self.path, _TABLES)

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an error), under the database's write lock: one writer at a
    time across the processes, the next one woken as soon as it is done."""

    def __init__(self, connection: sqlite3.Connection, lock: NamedLock) -> None:
        self.connection = connection
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        begin_immediate(self.connection, self.lock)
        return self.connection

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        end_transaction(self.connection, self.lock, failed=kind is not None)


__all__ = ["RUNTIME_FILE", "SqliteRuntime", "remove_runtime", "runtime_path"]
