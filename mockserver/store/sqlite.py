"""The embedded default store: SQLite in WAL mode, so accepted state survives a restart."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any

from mockserver import wire
from mockserver.store.base import Document, decode_stored
from mockserver.store.checkpoints import BACKSTOP_PAGES, Checkpointer
from mockserver.store.integrity import probe_database
from mockserver.store.locks import FileLocks, NamedLock, database_write_lock
from mockserver.store.this_process import this_process

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue_entries (
    queue TEXT NOT NULL,
    member TEXT NOT NULL,
    due REAL NOT NULL,
    PRIMARY KEY (queue, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS queue_by_due ON queue_entries (queue, due, member);
"""


def connect(path: Path, fsync: bool) -> sqlite3.Connection:
    """A connection to the data directory's database in autocommit mode (transactions are explicit).

    WAL mode with synchronous=NORMAL (the default) makes a commit a write into the log: once the answer is
    sent, the write survives the emulator being killed or restarted, not a power loss of the machine.
    `fsync` (synchronous=FULL) syncs the log on every commit, which survives a power loss too, at about 2.5
    ms a write on a virtual disk: ten times the cost of a whole request."""
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
    connection.execute("PRAGMA busy_timeout=30000")
    # The log is copied into the file by a thread of its own (checkpoints.py); this is the backstop.
    connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    return connection


class Database:
    """One SQLite file as this process writes it: one connection per thread, shared by the document store
    and the tables of the file (so that one transaction may span them: `write`), and the file's write lock.

    `write()` opens a transaction (BEGIN IMMEDIATE, under the lock) or joins the one this thread has open:
    several writes in one `with` are committed together, which is one write to the log instead of several.
    """

    def __init__(self, path: Path, fsync: bool) -> None:
        self.path = path
        self.fsync = fsync
        self.lock = database_write_lock(path)
        self._local = threading.local()
        self._checkpointer = Checkpointer(path, functools.partial(connect, path, fsync), self.lock)

    def connection(self) -> sqlite3.Connection:
        local = self._local.__dict__
        connection: sqlite3.Connection | None = local.get("connection")
        if connection is None or local.get("pid") != this_process.pid:  # none yet, or the parent's (a fork)
            connection = connect(self.path, self.fsync)
            local.update(connection=connection, pid=this_process.pid)
        return connection

    def write(self) -> Write:
        return Write(self)

    def close(self) -> None:
        """Close this thread's connection (the next use opens another), and end the checkpoint thread (the
        next write starts another): `serve` closes the store before it forks its workers."""
        connection = self._local.__dict__.pop("connection", None)
        if connection is not None:
            connection.close()
        self._checkpointer.stop()


class Write:
    """`Database.write()`: opens a transaction (BEGIN IMMEDIATE, under the file's write lock) or joins the
    one this thread has open; the opener commits it (or rolls it back on an error) and lets go of the lock.

    A class rather than a generator-based context manager: every write of every request enters one, and a
    generator's frame and its `contextlib` wrapper were 3% of the instructions of a submission."""

    __slots__ = ("_db", "_opened")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._opened: sqlite3.Connection | None = None  # the transaction this block opened (None: joined)

    def __enter__(self) -> sqlite3.Connection:
        connection = self._db.connection()
        if connection.in_transaction:  # joining this thread's transaction (whose opener holds the lock)
            return connection
        begin_immediate(connection, self._db.lock)
        self._opened = connection
        return connection

    def __exit__(self, kind: type[BaseException] | None, error: object, trace: object) -> None:
        connection, self._opened = self._opened, None
        if connection is None:
            return
        end_transaction(connection, self._db.lock, failed=kind is not None)
        if kind is None:
            self._db._checkpointer.wrote()


def begin_immediate(connection: sqlite3.Connection, lock: NamedLock) -> None:
    """Take the file's write lock and open a write transaction (the lock is let go if that fails)."""
    lock.__enter__()
    try:
        connection.execute("BEGIN IMMEDIATE")
    except BaseException:
        lock.__exit__(None, None, None)
        raise


def end_transaction(connection: sqlite3.Connection, lock: NamedLock, *, failed: bool) -> None:
    """COMMIT (ROLLBACK after an error), then let go of the write lock. A COMMIT that fails is rolled back
    first: left open, the thread's next write would join the transaction without holding the lock."""
    try:
        if failed:
            connection.execute("ROLLBACK")
        else:
            try:
                connection.execute("COMMIT")
            except BaseException:
                with suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                raise
    finally:
        lock.__exit__(None, None, None)


_databases: dict[str, Database] = {}
_databases_guard = threading.Lock()


def database(path: Path, fsync: bool = False) -> Database:
    """The `Database` of the file at `path` in this process (the first opener sets `fsync`)."""
    key = str(path.resolve())
    found = _databases.get(key)
    if found is None or found.fsync != fsync:
        with _databases_guard:
            found = _databases.get(key)
            if found is None or found.fsync != fsync:
                found = _databases[key] = Database(path, fsync)
    return found


class SqliteStore:
    remote = False

    def __init__(self, path: Path, *, shared: bool = False, fsync: bool = False) -> None:
        self.path = path
        self.shared = shared
        self.fsync = fsync
        self._db = database(path, fsync)
        self._locks = FileLocks(path)
        connection = self._connection()
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(_SCHEMA)
        connection.commit()

    def _connection(self) -> sqlite3.Connection:
        return self._db.connection()

    def batch(self) -> AbstractContextManager[Any]:
        """Writes in the block are committed together (one SQLite transaction, with the tables' writes)."""
        return self._db.write()

    def get(self, collection: str, key: str) -> Document | None:
        row = (
            self._connection()
            .execute("SELECT body FROM documents WHERE collection=? AND key=?", (collection, key))
            .fetchone()
        )
        return decode_stored(row[0], f"{self.path}: {collection}/{key}") if row else None

    def put(self, collection: str, key: str, document: Document) -> None:
        with self._db.write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO documents (collection, key, body) VALUES (?, ?, ?)",
                (collection, key, wire.dumps(document).decode()),
            )

    def put_many(self, collection: str, documents: Iterable[tuple[str, Document]]) -> int:
        rows = [(collection, key, wire.dumps(document).decode()) for key, document in documents]
        with self._db.write() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO documents (collection, key, body) VALUES (?, ?, ?)", rows
            )
        return len(rows)

    def put_if_absent(self, collection: str, key: str, document: Document) -> bool:
        with self._db.write() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO documents (collection, key, body) VALUES (?, ?, ?)",
                (collection, key, wire.dumps(document).decode()),
            )
            return cursor.rowcount == 1

    def delete(self, collection: str, key: str) -> bool:
        with self._db.write() as connection:
            cursor = connection.execute(
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

    def _in_transaction(self, *statements: tuple[str, tuple[object, ...]]) -> None:
        with self._db.write() as connection:
            for sql, parameters in statements:
                connection.execute(sql, parameters)

    def clear(self, collection: str | None = None) -> None:
        if collection is None:
            self._in_transaction(
                ("DELETE FROM documents", ()), ("DELETE FROM counters", ()), ("DELETE FROM queue_entries", ())
            )
        else:
            self._in_transaction(
                ("DELETE FROM documents WHERE collection=?", (collection,)),
                ("DELETE FROM counters WHERE collection=?", (collection,)),
            )

    def problem(self) -> str | None:
        return probe_database(self.path, ("documents", "counters", "queue_entries"))

    def close(self) -> None:
        self._db.close()
        self._locks.close()

    # -- shared between processes ------------------------------------------------------------------------

    def lock(self, name: str) -> AbstractContextManager[None]:
        return self._locks.hold(name)

    def increment(self, collection: str, key: str, amount: int = 1) -> int:
        with self._db.write() as connection:
            row = connection.execute(
                "INSERT INTO counters (collection, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (collection, key) DO UPDATE SET value = value + excluded.value "
                "RETURNING value",
                (collection, key, amount),
            ).fetchone()
        return int(row[0])

    def schedule(self, queue: str, member: str, due: float) -> None:
        with self._db.write() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO queue_entries (queue, member, due) VALUES (?, ?, ?)",
                (queue, member, float(due)),
            )

    def next_due(self, queue: str) -> float | None:
        row = (
            self._connection()
            .execute("SELECT MIN(due) FROM queue_entries WHERE queue=?", (queue,))
            .fetchone()
        )
        return None if row is None or row[0] is None else float(row[0])

    def due(self, queue: str, until: float, limit: int = 1000) -> list[str]:
        rows = (
            self._connection()
            .execute(
                "SELECT member FROM queue_entries WHERE queue=? AND due<=? ORDER BY due, member LIMIT ?",
                (queue, float(until), limit),
            )
            .fetchall()
        )
        return [str(row[0]) for row in rows]

    def unschedule(self, queue: str, member: str) -> bool:
        with self._db.write() as connection:
            cursor = connection.execute(
                "DELETE FROM queue_entries WHERE queue=? AND member=?", (queue, member)
            )
            return cursor.rowcount > 0

    def clear_queue(self, queue: str) -> None:
        with self._db.write() as connection:
            connection.execute("DELETE FROM queue_entries WHERE queue=?", (queue,))
