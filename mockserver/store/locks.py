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
    """One lock per name across the processes of this host: an exclusive `flock` on a file beside the
    database, held by the outermost holder in this process (the threads queue on a re-entrant lock first,
    since every thread of a process shares the one open file)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._threads = ThreadLocks()
        self._depth = threading.local()
        self._files: dict[str, int] = {}
        self._pid = os.getpid()

    def _descriptor(self, name: str) -> int:
        if self._pid != os.getpid():  # a forked worker: descriptors of the parent share its locks
            self._files = {}
            self._pid = os.getpid()
        descriptor = self._files.get(name)
        if descriptor is None:
            path = self.base.with_name(f"{self.base.name}.lock-{_UNSAFE.sub('_', name)}")
            descriptor = self._files[name] = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        return descriptor

    @contextmanager
    def hold(self, name: str) -> Iterator[None]:
        with self._threads.get(name):
            depths: dict[str, int] = self._depth.__dict__.setdefault("depths", {})
            outermost = depths.get(name, 0) == 0
            descriptor = self._descriptor(name) if outermost else -1
            if outermost:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
            depths[name] = depths.get(name, 0) + 1
            try:
                yield
            finally:
                depths[name] -= 1
                if outermost:
                    fcntl.flock(descriptor, fcntl.LOCK_UN)

    def close(self) -> None:
        for descriptor in self._files.values():
            with suppress(OSError):
                os.close(descriptor)
        self._files = {}


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
        if self._pid != os.getpid():  # none yet, or a forked worker's copy of the parent's
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._pid = os.getpid()
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
