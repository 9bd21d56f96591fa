"""Copying SQLite's write-ahead log into the database file on a thread of its own, not in the requests.

Left to itself, SQLite copies the log (a checkpoint) in whichever commit passes `wal_autocheckpoint` pages:
under a stream of submissions, one request in a hundred copied a thousand pages while every request queued
behind it waited (a pause of 5-15 ms, and about a third of each write's cost). Here a thread of the process
that writes copies the log as it grows (PASSIVE: neither readers nor writers wait for it; sqlite3 lets go of
the GIL while it works), and once the log is long, copies the few pages written since with the writers of
the file held off for that moment, so that the next write starts the log from its beginning again. The
requests' own automatic checkpoint stays, much further out, for a log the thread could not keep up with.

The thread runs while there is something to copy and ends when the log has been quiet for a second; the
next write starts another (a process forked from one whose thread ran starts its own)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from mockserver.store.this_process import this_process

log = logging.getLogger(__name__)

# How often the thread looks at the log, and how long a quiet log keeps it alive.
INTERVAL = 0.01
IDLE_SECONDS = 1.0
# Pages of log after which the thread copies the rest with the writers held off (the log then restarts).
RESTART_PAGES = 1000
# The requests' own automatic checkpoint, for a log the thread could not keep up with (SQLite's default is
# 1000 pages, about 4 MB).
BACKSTOP_PAGES = 20000


class Checkpointer:
    """The checkpoint thread of one database file in this process (`Database` starts it after a write)."""

    def __init__(
        self, path: Path, connect: Callable[[], sqlite3.Connection], write_lock: AbstractContextManager[Any]
    ) -> None:
        self.path = path
        self.connect = connect  # as the file's other connections are opened (its safety level among them)
        self.write_lock = write_lock
        self._guard = threading.Lock()
        self._running_in = -1  # the pid whose thread runs (a forked process has none of its parent's threads)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def wrote(self) -> None:
        """A write was committed: make sure a thread copies it."""
        if self._running_in == this_process.pid:
            return
        with self._guard:
            if self._running_in == this_process.pid:
                return
            self._running_in = this_process.pid
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name=f"checkpoint {self.path.name}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """End this process's thread, if one runs, and wait until its connection is closed: no connection
        may be open across a fork (SQLite's locks belong to the process), nor on a file about to go."""
        with self._guard:
            thread = self._thread if self._running_in == this_process.pid else None
            self._stop.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self, stop: threading.Event) -> None:
        try:
            connection = self.connect()
        except sqlite3.Error as error:
            log.warning("no checkpoint thread for %s: %s", self.path, error)
            self._stopped()
            return
        try:
            self._copy_while_written(connection, stop)
        finally:
            connection.close()
            self._stopped()

    def _copy_while_written(self, connection: sqlite3.Connection, stop: threading.Event) -> None:
        idle_rounds = int(IDLE_SECONDS / INTERVAL)
        quiet = 0
        last_size = -1
        failing = False
        while quiet < idle_rounds and not stop.wait(INTERVAL):
            try:
                _, pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                if pages >= RESTART_PAGES:
                    # Writers held off: this pass copies the rest, and the next write starts the log afresh.
                    with self.write_lock:
                        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as error:  # the requests' own checkpoint (the backstop) still runs
                if not failing:
                    log.warning("checkpoint of %s failed: %s", self.path, error)
                failing = True
                quiet += 1
                continue
            failing = False
            quiet = quiet + 1 if pages == last_size and copied == pages else 0
            last_size = pages

    def _stopped(self) -> None:
        with self._guard:
            if self._running_in == this_process.pid and self._thread is threading.current_thread():
                self._running_in = -1
                self._thread = None


__all__ = ["BACKSTOP_PAGES", "Checkpointer"]
