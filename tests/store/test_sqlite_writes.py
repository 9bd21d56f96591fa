"""`Database.write()`: one transaction per outermost block, joined by inner ones, under the file's write lock,
committed or rolled back by its opener, and never left open (nor the lock held) when its commit fails."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from mockserver.store.sqlite import Database


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "state.sqlite3", fsync=False)
    connection = db.connection()
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
    connection.execute(
        "CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER "
        "REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)"
    )
    connection.execute("PRAGMA foreign_keys=ON")
    return db


def _rows(db: Database, table: str) -> int:
    return int(db.connection().execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _another_thread_can_write(db: Database) -> bool:
    done = threading.Event()

    def write() -> None:
        with db.write() as connection:
            connection.execute("INSERT INTO parents DEFAULT VALUES")
        db.close()  # this thread's connection
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(10)


def test_inner_blocks_join_the_outer_transaction_which_commits_once(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with db.write() as outer:
        outer.execute("INSERT INTO parents (id) VALUES (1)")
        with db.write() as inner:
            assert inner is outer and inner.in_transaction
            inner.execute("INSERT INTO parents (id) VALUES (2)")
        assert outer.in_transaction  # the inner block did not commit
    assert not db.connection().in_transaction
    assert _rows(db, "parents") == 2
    assert _another_thread_can_write(db)
    db.close()


def test_an_error_in_the_block_rolls_everything_back_and_lets_go_of_the_lock(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with pytest.raises(RuntimeError, match="in the block"), db.write() as connection:
        connection.execute("INSERT INTO parents (id) VALUES (1)")
        with db.write() as inner:
            inner.execute("INSERT INTO parents (id) VALUES (2)")
        raise RuntimeError("in the block")
    assert not db.connection().in_transaction
    assert _rows(db, "parents") == 0
    assert _another_thread_can_write(db)
    db.close()


def test_a_commit_that_fails_leaves_no_transaction_open_and_the_lock_free(tmp_path: Path) -> None:
    db = _db(tmp_path)
    # The deferred foreign key fails at COMMIT, not before.
    with pytest.raises(sqlite3.IntegrityError), db.write() as connection:
        connection.execute("INSERT INTO children (id, parent) VALUES (1, 99)")
    assert not db.connection().in_transaction
    assert _rows(db, "children") == 0
    assert _another_thread_can_write(db)
    with db.write() as connection:  # the next write opens a transaction of its own, as usual
        connection.execute("INSERT INTO parents (id) VALUES (99)")
        connection.execute("INSERT INTO children (id, parent) VALUES (1, 99)")
    assert _rows(db, "children") == 1
    db.close()
