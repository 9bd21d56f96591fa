"""Named locks for the stores: threads of one process (memory), processes of one host (SQLite's file locks).

Both are re-entrant in a thread: a submission takes the world's lock and then brings the world up to the
clock, which takes it again.
"""

from __future__ import annotations

import fcntl
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from mockserver.store.this_process import this_process


class ThreadLocks:
    """One re-entrant lock per name, for the threads of this process."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()

    def get(self, name: str) -> threading.RLock:
        lock = self._locks.get(name)
        if lock is None:
            with self._guard:
                lock = self._locks.setdefault(name, threading.RLock())
        return lock

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self.get(name):
            yield


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


class FileLocks:
    """One lock per name across the processes of this host: a `NamedLock` on a file beside the database
    (threads queue on its re-entrant lock first; the outermost holder in this process holds the `flock`)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._locks: dict[str, NamedLock] = {}
        self._guard = threading.Lock()

    def hold(self, name: str) -> NamedLock:
        lock = self._locks.get(name)
        if lock is None:
            path = self.base.with_name(f"{self.base.name}.lock-{_UNSAFE.sub('_', name)}")
            with self._guard:
                lock = self._locks.setdefault(name, NamedLock(path))
        return lock

    def close(self) -> None:
        for lock in self._locks.values():
            lock.close()


class NamedLock:
    """A lock of the threads of this process and of every process of this host (an exclusive `flock` on
    a file, held by the outermost holder in this process), re-entrant in a thread, usable in any number of
    `with` blocks. A class rather than a generator: it is taken on every write of a busy emulator."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0  # changed only by the thread holding `_threads`
        self._descriptor = -1
        self._pid = -1

    def _file(self) -> int:
        if self._pid != this_process.pid:  # none yet, or a forked worker's copy of the parent's
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._pid = this_process.pid
        return self._descriptor

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._depth == 0:
            try:
                fcntl.flock(self._file(), fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise
        self._depth += 1

    def __exit__(self, *details: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        """Close this process's descriptor of the file (the next holder opens it again)."""
        if self._pid == this_process.pid and self._descriptor >= 0:
            with suppress(OSError):
                os.close(self._descriptor)
        self._descriptor = -1
        self._pid = -1


_write_locks: dict[str, NamedLock] = {}
_write_locks_guard = threading.Lock()


def database_write_lock(path: Path) -> NamedLock:
    """The lock around every write transaction on the SQLite database at `path`, shared by every object of
    this process writing to it and taken by every process (`serve --workers`). SQLite lets one writer in at a
    time and makes the others sleep and retry (1, 2, 5, 10... ms): two busy workers spent most of their time
    asleep. A lock of the operating system's wakes the next writer the moment the last one is done."""
    key = str(path.resolve())
    lock = _write_locks.get(key)
    if lock is None:
        with _write_locks_guard:
            lock = _write_locks.setdefault(key, NamedLock(path.with_name(f"{path.name}.lock-write")))
    return lock


__all__ = ["FileLocks", "NamedLock", "ThreadLocks", "database_write_lock"]
