"""A forked child knows itself without asking the system each time, and so uses none of its parent's SQLite
connections or lock descriptors (a connection used across a fork corrupts SQLite's locks)."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from mockserver.store.locks import NamedLock
from mockserver.store.sqlite import database
from mockserver.store.this_process import this_process


def _report(path: Path, parent_connection: int, parent_descriptor: int, lock: NamedLock) -> None:
    connection = database(path).connection()
    with lock:
        descriptor = lock._descriptor
    path.with_suffix(".child").write_text(
        " ".join(
            str(value)
            for value in (
                this_process.pid == os.getpid(),
                id(connection) != parent_connection,
                descriptor != parent_descriptor,
                connection.execute("SELECT 1").fetchone()[0],
            )
        )
    )


def test_the_process_id_is_the_childs_in_a_forked_child(tmp_path: Path) -> None:
    assert this_process.pid == os.getpid()
    child = os.fork()
    if child == 0:  # the child: report through the exit status only
        os._exit(0 if this_process.pid == os.getpid() else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert this_process.pid == os.getpid()


def test_a_worker_forked_by_multiprocessing_opens_its_own_connection_and_lock_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    parent = database(path).connection()
    lock = NamedLock(tmp_path / "lock")
    with lock:
        parent_descriptor = lock._descriptor
    context = multiprocessing.get_context("fork")
    worker = context.Process(target=_report, args=(path, id(parent), parent_descriptor, lock))
    worker.start()
    worker.join(30)
    assert worker.exitcode == 0
    assert path.with_suffix(".child").read_text() == "True True True 1"
    assert database(path).connection() is parent  # the parent keeps its own
