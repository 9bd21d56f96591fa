"""The SQLite store's checkpoint thread: what is written reaches the database file without a request doing
the copying, the log stays bounded under a stream of writes, and the thread ends when writes stop."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

from mockserver.store import checkpoints
from mockserver.store.sqlite import SqliteStore

BODY = {"text": "x" * 2000}


def checkpoint_threads(path: Path) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == f"checkpoint {path.name}"]


def wait_until(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return bool(condition())  # type: ignore[operator]


def rows_in_database_file(path: Path, scratch: Path) -> int:
    """The documents the database file holds by itself, without its log (what a checkpoint copied)."""
    alone = scratch / "alone.sqlite3"
    shutil.copyfile(path, alone)
    connection = sqlite3.connect(alone)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM documents WHERE collection='c'").fetchone()[0])
    except sqlite3.DatabaseError:  # not even the table is in the file yet, or copied mid-checkpoint
        return -1
    finally:
        connection.close()


def test_writes_reach_the_database_file_and_the_thread_ends_when_they_stop(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    try:
        for index in range(200):
            store.put("c", f"k{index:05d}", BODY)
        assert checkpoint_threads(path), "a write starts the checkpoint thread"
        # No request copied the log (its own automatic checkpoint is thousands of pages away): the thread did.
        assert wait_until(lambda: rows_in_database_file(path, scratch) == 200)
        assert wait_until(lambda: not checkpoint_threads(path), timeout=checkpoints.IDLE_SECONDS + 10)
        store.put("c", "later", BODY)
        assert checkpoint_threads(path), "the next write starts another"
        assert wait_until(lambda: rows_in_database_file(path, scratch) == 201)
    finally:
        store.close()


def log_restarts(log: Path) -> int:
    """How many times the log started again from its beginning (the checkpoint sequence number of its
    header, which SQLite counts up at every restart)."""
    with log.open("rb") as file:
        header = file.read(16)
    return int.from_bytes(header[12:16], "big")


def test_the_log_stays_bounded_under_a_stream_of_writes(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SqliteStore(path)
    log = path.with_name(path.name + "-wal")
    page = 4096
    try:
        # Each document is about three pages of log: 24,000 pages in all, more than the requests' own
        # checkpoint lets the log hold. Without the thread the log grows to that backstop and restarts once;
        # with it, it restarts every thousand-odd pages (about twenty times here). The log's largest size
        # depends on how long the machine keeps the thread waiting (a busy disk's sync), so what is counted
        # is the restarts, with room for a few such waits.
        written = 8 * checkpoints.RESTART_PAGES
        for index in range(written):
            store.put("c", f"k{index:06d}", BODY)
            if index % 50 == 0:
                time.sleep(0.001)  # a stream, not one burst: room for the thread to be scheduled
        restarts = log_restarts(log)
        assert restarts >= 4, f"the log restarted {restarts} time(s): the thread did not keep it short"
        assert log.stat().st_size < checkpoints.BACKSTOP_PAGES * page, "the backstop bounded it"
        assert store.get("c", f"k{written - 1:06d}") == BODY
    finally:
        store.close()
