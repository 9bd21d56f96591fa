"""Seeded world building, shared by the families: deterministic random sources, borrowed Fakers, bulk loads
with the garbage collector held, and the slots at which new documents arrive on the sandbox clock."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

# (account, done, total): a large world takes a while to seed, and says how far it got.
Progress = Callable[[str, int, int], None]
ARRIVAL_CATCH_UP = 500  # at most this many arrival slots are generated at once (a clock jumped by years)

# Making a Faker costs some 40 ms (it scans its provider modules for the locale), more than seeding a few
# hundred purchase orders: builders borrow one per (role, locale) and seed it before drawing, which gives
# the same data as a fresh instance. The lock keeps one builder's draws from interleaving with another's.
_FAKERS: dict[tuple[str, str], Faker] = {}
# Only the providers the worlds draw from (addresses, company names and catch phrases, and the person names
# their formats use): the same draws as with all of Faker's providers, without loading two dozen others.
_FAKER_PROVIDERS = ["faker.providers.address", "faker.providers.company", "faker.providers.person"]
_FAKERS_LOCK = threading.Lock()


@contextmanager
def borrowed_fakers() -> Iterator[Any]:
    """`faker(role, locale, seed)`: a Faker for the locale, seeded, for the duration of the block."""

    def faker(role: str, locale: str, seed: str) -> Faker:
        instance = _FAKERS.get((role, locale))
        if instance is None:
            from faker import Faker  # only where a world is built: a seeded data directory starts without it

            instance = _FAKERS[(role, locale)] = Faker(locale, providers=_FAKER_PROVIDERS)
        instance.seed_instance(seed)
        return instance

    with _FAKERS_LOCK:
        yield faker


@contextmanager
def collector_held() -> Iterator[None]:
    """A bulk load with the cyclic garbage collector held: millions of new dicts (and no cycles) would set it
    off again and again, each time walking the whole growing world (a quarter of the seeding time)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def due_slots(elapsed_seconds: float, interval: float, done: int) -> range:
    """The arrival slots due since the world's anchor and not generated yet (at most ARRIVAL_CATCH_UP)."""
    due = int(elapsed_seconds // interval)
    if due <= done:
        return range(0)
    return range(max(done, due - ARRIVAL_CATCH_UP) + 1, due + 1)


def seed_once(
    lock: AbstractContextManager[None], seeded: Callable[[], bool], seed: Callable[[], None]
) -> None:
    """Seed unless the store holds this world already: of several processes starting together over one
    store, the first (under the world's lock) seeds and the others find it seeded."""
    if seeded():
        return
    with lock:
        if not seeded():
            seed()
