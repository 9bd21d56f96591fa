"""Is the data directory's database usable? Checked before serving, and on demand by the health call.

A data directory that is not a database, or a damaged one, must stop `serve` with one line naming the file
and what to do, not seed over it or answer every call with a 500 while the health call says ok.

The full check reads every page of the file (about 10 ms for the default world, 3 s for a world of 400,000
purchase orders), so it is spent only where it can find something: `serve` leaves a note of the file as it
stopped (size, modification time, inode, and the same of its log), and a start that finds the file exactly
as noted skips it, like a file system's clean flag. A server killed, a crash, or anything that wrote to the
file since leaves no note or one that no longer matches: then the whole file is checked.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from pathlib import Path

DATABASE_FILE = "state.sqlite3"
_CLEAN_NOTE = "-clean"
_COMPANIONS = ("-wal", "-shm", "-journal", _CLEAN_NOTE)


class StoreDamaged(RuntimeError):
    """The database cannot be used; the message is one line for the user."""


def database_path(data_dir: Path) -> Path:
    return data_dir / DATABASE_FILE


def check_database_file(path: Path) -> None:
    """Raise StoreDamaged when `path` exists and is not a sound SQLite database: a full quick_check, unless
    the file is as the last `serve` left it when it stopped (then its schema is read, which is enough to
    know it is a database)."""
    if not path.exists():
        return
    advice = "move it away, or start with --reset to begin a new world"
    if not path.is_file():
        raise StoreDamaged(f"{path} is not a database file: {advice}")
    whole = not closed_cleanly(path)
    check = "PRAGMA quick_check(3)" if whole else "PRAGMA schema_version"
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            findings = [str(row[0]) for row in connection.execute(check)]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise StoreDamaged(f"{path} is not a usable vendor-sandbox database ({error}): {advice}") from None
    if whole and findings != ["ok"]:
        raise StoreDamaged(f"{path} is damaged ({findings[0][:120]}): {advice}")


def _clean_note(path: Path) -> Path:
    return path.with_name(path.name + _CLEAN_NOTE)


def _as_found(path: Path) -> list[list[int] | None]:
    """The database file and its log as the file system has them now (None: absent)."""
    found: list[list[int] | None] = []
    for candidate in (path, path.with_name(path.name + "-wal")):
        try:
            status = candidate.stat()
        except FileNotFoundError:
            found.append(None)
            continue
        found.append([status.st_size, status.st_mtime_ns, status.st_ino])
    return found


def note_clean_stop(path: Path) -> None:
    """`serve` stopped normally, its workers gone: note the file as it is, for the next start."""
    if not path.is_file():
        return
    note = _clean_note(path)
    written = note.with_name(note.name + ".tmp")
    try:
        written.write_text(json.dumps(_as_found(path)))
        os.replace(written, note)
    except OSError:  # no note: the next start checks the whole file, which is only slower
        written.unlink(missing_ok=True)


def closed_cleanly(path: Path) -> bool:
    """Whether the file is exactly as the last normal stop of `serve` noted it."""
    try:
        noted = json.loads(_clean_note(path).read_text())
    except (OSError, ValueError):
        return False
    return bool(noted == _as_found(path))


def forget_clean_stop(path: Path) -> None:
    """Before the world is opened for writing: a crash from now on must leave no note behind."""
    with contextlib.suppress(OSError):
        _clean_note(path).unlink(missing_ok=True)


def probe_database(path: Path, tables: tuple[str, ...]) -> str | None:
    """A cheap check for the health call: the database opens and each of `tables` is there and its first
    row readable. None when they are; otherwise what failed, in one line.

    Cheap whatever the size of the world (no table is read whole: a health call polled every few seconds on
    a world of 400,000 purchase orders would read 2.5 GB each time); damage deeper in a table shows in the
    call that reads it, which answers 500 and turns this call to 503 from then on."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, isolation_level=None)
        try:
            listed = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            missing = sorted(set(tables) - {row[0] for row in listed})
            if missing:
                return f"{path}: table {', '.join(missing)} is missing"
            for table in tables:
                connection.execute(f'SELECT * FROM "{table}" LIMIT 1').fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return f"{path}: {error}"
    return None


def remove_database(data_dir: Path) -> list[Path]:
    """`serve --reset`: remove the database (and SQLite's companion files); what was removed."""
    path = database_path(data_dir)
    removed = []
    for candidate in (path, *(path.with_name(path.name + suffix) for suffix in _COMPANIONS)):
        if candidate.is_file() or candidate.is_symlink():
            candidate.unlink()
            removed.append(candidate)
        elif candidate.exists():
            raise StoreDamaged(f"{candidate} is not a file: remove it by hand")
    return removed
