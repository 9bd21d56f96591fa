"""Is the data directory's database usable? Checked before serving, and on demand by the health call.

A data directory that is not a database, or a damaged one, must stop `serve` with one line naming the file
and what to do, not seed over it or answer every call with a 500 while the health call says ok.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DATABASE_FILE = "state.sqlite3"
_COMPANIONS = ("-wal", "-shm", "-journal")


class StoreDamaged(RuntimeError):
    """The database cannot be used; the message is one line for the user."""


def database_path(data_dir: Path) -> Path:
    return data_dir / DATABASE_FILE


def check_database_file(path: Path) -> None:
    """Raise StoreDamaged when `path` exists and is not a sound SQLite database (a full quick_check)."""
    if not path.exists():
        return
    advice = "move it away, or start with --reset to begin a new world"
    if not path.is_file():
        raise StoreDamaged(f"{path} is not a database file: {advice}")
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        try:
            findings = [str(row[0]) for row in connection.execute("PRAGMA quick_check(3)")]
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise StoreDamaged(f"{path} is not a usable vendor-sandbox database ({error}): {advice}") from None
    if findings != ["ok"]:
        raise StoreDamaged(f"{path} is damaged ({findings[0][:120]}): {advice}")


def probe_database(path: Path, tables: tuple[str, ...]) -> str | None:
    """A cheap check for the health call: the database opens and each of `tables` is there and readable.

    None when they are; otherwise what failed, in one line."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5, isolation_level=None)
        try:
            listed = connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            missing = sorted(set(tables) - {row[0] for row in listed})
            if missing:
                return f"{path}: table {', '.join(missing)} is missing"
            for table in tables:
                connection.execute(f'SELECT * FROM "{table}" LIMIT 1').fetchall()
                connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()
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
