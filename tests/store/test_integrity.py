"""The start check of the data directory's database: the whole file, unless it is as a clean stop left it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from mockserver.store.integrity import (
    StoreDamaged,
    check_database_file,
    closed_cleanly,
    forget_clean_stop,
    note_clean_stop,
    probe_database,
    remove_database,
)


def _database(tmp_path: Path, rows: int = 400) -> Path:
    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE items (key INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        connection.executemany(
            "INSERT INTO items (key, body) VALUES (?, ?)", ((n, "x" * 500) for n in range(rows))
        )
    connection.close()
    return path


def _damage_a_middle_page_keeping_size_and_time(path: Path) -> None:
    """Overwrite a page inside the table with garbage, then put the file's times back: what bit rot looks
    like from outside, and what only a full check finds."""
    before = path.stat()
    page_size = 4096
    pages = before.st_size // page_size
    assert pages > 10
    with path.open("r+b") as handle:
        handle.seek((pages // 2) * page_size)
        handle.write(b"\xa5" * page_size)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size


def test_a_clean_stop_is_noted_and_recognised(tmp_path: Path) -> None:
    path = _database(tmp_path)
    assert not closed_cleanly(path)
    note_clean_stop(path)
    assert closed_cleanly(path)
    forget_clean_stop(path)
    assert not closed_cleanly(path)
    forget_clean_stop(path)  # nothing to forget: no error


@pytest.mark.parametrize("change", ["write", "touch", "log appears", "replaced", "note garbled"])
def test_any_change_since_the_note_means_the_file_is_checked_whole(tmp_path: Path, change: str) -> None:
    path = _database(tmp_path)
    note_clean_stop(path)
    if change == "write":
        with sqlite3.connect(path) as connection:
            connection.execute("UPDATE items SET body = 'y' WHERE key = 3")
        connection.close()
    elif change == "touch":
        status = path.stat()
        os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 1_000_000))
    elif change == "log appears":
        (tmp_path / "state.sqlite3-wal").write_bytes(b"")
    elif change == "replaced":
        copy = tmp_path / "copy"
        copy.write_bytes(path.read_bytes())
        status = path.stat()
        os.utime(copy, ns=(status.st_atime_ns, status.st_mtime_ns))
        os.replace(copy, path)  # same bytes, size and time; another file
    else:
        (tmp_path / "state.sqlite3-clean").write_text("{not json")
    assert not closed_cleanly(path)


def test_the_start_check_skips_the_full_read_only_for_a_file_as_noted(tmp_path: Path) -> None:
    path = _database(tmp_path)
    note_clean_stop(path)
    _damage_a_middle_page_keeping_size_and_time(path)
    check_database_file(path)  # as noted: only the schema is read, which the damage does not touch
    forget_clean_stop(path)
    with pytest.raises(StoreDamaged) as refused:
        check_database_file(path)
    assert str(path) in str(refused.value) and "--reset" in str(refused.value)


def test_a_file_that_is_not_a_database_is_refused_even_with_a_matching_note(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"these are not the bytes of a database\n" * 200)
    note_clean_stop(path)
    assert closed_cleanly(path)
    with pytest.raises(StoreDamaged, match="is not a usable vendor-sandbox database"):
        check_database_file(path)


def test_reset_removes_the_note_with_the_database(tmp_path: Path) -> None:
    path = _database(tmp_path)
    note_clean_stop(path)
    removed = remove_database(tmp_path)
    assert path in removed and tmp_path / "state.sqlite3-clean" in removed
    assert not (tmp_path / "state.sqlite3-clean").exists()
    note_clean_stop(path)  # no database: no note
    assert not (tmp_path / "state.sqlite3-clean").exists()


def test_the_health_probe_names_a_missing_table_and_a_file_that_is_no_database(tmp_path: Path) -> None:
    path = _database(tmp_path)
    assert probe_database(path, ("items",)) is None
    assert probe_database(path, ("items", "gone")) == f"{path}: table gone is missing"
    path.write_bytes(b"not a database" * 500)
    problem = probe_database(path, ("items",))
    assert problem is not None and problem.startswith(f"{path}: ")
