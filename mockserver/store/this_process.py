"""This process's id, read without a system call: the stores check it on every statement and lock (a forked
worker must not use its parent's connections, descriptors or threads), and `os.getpid()` is one system call
each time, a few microseconds a request. Kept by a hook that runs in every child forked from Python
(`os.fork`, and multiprocessing's fork start method, which is how `serve` makes its workers)."""

from __future__ import annotations

import os


class ThisProcess:
    __slots__ = ("pid",)

    def __init__(self) -> None:
        self.pid = os.getpid()

    def forked(self) -> None:
        self.pid = os.getpid()


this_process = ThisProcess()
os.register_at_fork(after_in_child=this_process.forked)

__all__ = ["ThisProcess", "this_process"]
