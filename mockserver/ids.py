"""Identifiers that need to be unique, not secret: request ids and transaction ids.

`uuid.uuid4()` reads the operating system's random source, a system call that lets go of the GIL; under load
every such call hands the interpreter to another thread and waits to get it back, which measured as a third
of the emulator's throughput on submissions. These come from one generator seeded from that source once.
Tokens and authorization codes, which must not be guessable, keep using `secrets` (lwa/).
"""

from __future__ import annotations

import os
import random
import uuid

_random = random.Random(os.urandom(32))
# A worker forked from a process that drew ids must not draw the same ones: each child seeds its own.
os.register_at_fork(after_in_child=lambda: _random.seed(os.urandom(32)))


def unique_id() -> str:
    """A random (version 4) UUID as text, as Amazon's request and transaction ids are."""
    return str(uuid.UUID(int=_random.getrandbits(128), version=4))


__all__ = ["unique_id"]
