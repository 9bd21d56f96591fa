"""The document store: what a read returns, what a write keeps, and the atomic steps several processes rely
on (put_if_absent, counters, due queues, locks), on memory, SQLite and Redis alike."""

from __future__ import annotations

import threading
import time

import pytest

from tests.store.conftest import Backend, run_in_threads


def test_a_document_reads_back_as_written_and_is_a_private_copy(backend: Backend) -> None:
    store = backend.store
    document = {"number": "4Z32PABC", "items": [{"quantity": 2}], "total": "10.20", "none": None}
    store.put("orders", "4Z32PABC", document)
    document["items"][0]["quantity"] = 99
    read = store.get("orders", "4Z32PABC")
    assert read == {"number": "4Z32PABC", "items": [{"quantity": 2}], "total": "10.20", "none": None}
    assert read is not None
    read["items"].append({"quantity": 1})
    assert store.get("orders", "4Z32PABC") == {
        "number": "4Z32PABC",
        "items": [{"quantity": 2}],
        "total": "10.20",
        "none": None,
    }


def test_missing_documents_and_collections_read_as_none_and_empty(backend: Backend) -> None:
    store = backend.store
    assert store.get("orders", "nope") is None
    assert list(store.scan("never-written")) == []
    assert store.count("never-written") == 0
    assert store.delete("orders", "nope") is False


def test_put_replaces_and_delete_removes(backend: Backend) -> None:
    store = backend.store
    store.put("orders", "a", {"v": 1})
    store.put("orders", "a", {"v": 2})
    assert store.get("orders", "a") == {"v": 2}
    assert store.count("orders") == 1
    assert store.delete("orders", "a") is True
    assert store.get("orders", "a") is None
    assert store.delete("orders", "a") is False


def test_put_if_absent_stores_once(backend: Backend) -> None:
    store = backend.store
    assert store.put_if_absent("submissions", "f1", {"transaction_id": "first"}) is True
    assert store.put_if_absent("submissions", "f1", {"transaction_id": "second"}) is False
    assert store.get("submissions", "f1") == {"transaction_id": "first"}


def test_put_if_absent_has_one_winner_among_concurrent_writers(backend: Backend) -> None:
    other = backend.reopen()
    stores = [backend.store, other.store] * 4
    winners: list[int] = []
    barrier = threading.Barrier(len(stores))

    def race(index: int) -> None:
        barrier.wait()
        if stores[index].put_if_absent("submissions", "same", {"by": index}):
            winners.append(index)

    run_in_threads(race, len(stores))
    assert len(winners) == 1
    assert backend.store.get("submissions", "same") == {"by": winners[0]}


def test_scan_yields_every_document_in_key_order(backend: Backend) -> None:
    store = backend.store
    for key in ("b", "c", "a", "aa"):
        store.put("orders", key, {"key": key})
    store.put("other", "z", {"key": "z"})
    assert [key for key, _ in store.scan("orders")] == ["a", "aa", "b", "c"]
    assert dict(store.scan("orders"))["aa"] == {"key": "aa"}
    assert store.count("orders") == 4


def test_put_many_writes_a_batch_and_collections_name_every_non_empty_one(backend: Backend) -> None:
    store = backend.store
    assert store.collections() == []
    batch = [(f"k{index:04d}", {"index": index, "name": "ü"}) for index in range(2500)]
    assert store.put_many("orders:acme", iter(batch)) == 2500  # more than one Redis pipeline's worth
    assert store.put_many("empty", []) == 0
    store.put("sandbox", "clock", {"offset": 1})
    assert store.collections() == ["orders:acme", "sandbox"]
    assert list(store.scan("orders:acme")) == batch
    assert store.put_many("orders:acme", [("k0001", {"index": -1})]) == 1  # replaces
    assert store.get("orders:acme", "k0001") == {"index": -1}
    assert backend.reopen().store.collections() == ["orders:acme", "sandbox"]
    store.clear("sandbox")
    assert store.collections() == ["orders:acme"]


def test_clear_one_collection_or_everything(backend: Backend) -> None:
    store = backend.store
    store.put("orders", "a", {})
    store.put("invoices", "b", {})
    store.increment("orders", "sequence")
    store.schedule("queue", "m", 1.0)
    store.clear("orders")
    assert store.count("orders") == 0
    assert store.count("invoices") == 1
    assert store.increment("orders", "sequence") == 1  # a collection's counters go with it
    store.clear()
    assert store.count("invoices") == 0
    assert store.next_due("queue") is None


def test_keys_and_values_outside_ascii_round_trip(backend: Backend) -> None:
    store = backend.store
    store.put("labels", "Küche/ä b:c", {"text": "Grüße ✓", "big": 2**53, "real": 1.5})
    assert store.get("labels", "Küche/ä b:c") == {"text": "Grüße ✓", "big": 2**53, "real": 1.5}


def test_another_process_sees_what_one_wrote(backend: Backend) -> None:
    if backend.kind == "memory":
        pytest.skip("memory is one process's")
    other = backend.reopen()
    backend.store.put("orders", "a", {"v": 1})
    assert other.store.get("orders", "a") == {"v": 1}
    other.store.delete("orders", "a")
    assert backend.store.get("orders", "a") is None


def test_counters_count_atomically_from_zero(backend: Backend) -> None:
    other = backend.reopen()
    stores = [backend.store, other.store]
    seen: list[int] = []

    def count(index: int) -> None:
        for _ in range(50):
            seen.append(stores[index % 2].increment("transactions", "sequence"))

    run_in_threads(count, 4)
    assert sorted(seen) == list(range(1, 201))
    assert backend.store.increment("transactions", "sequence", 0) == 200
    assert backend.store.increment("transactions", "other", 5) == 5


def test_a_due_queue_orders_by_due_time_then_member(backend: Backend) -> None:
    store = backend.store
    assert store.next_due("processing") is None
    assert store.due("processing", 100.0) == []
    store.schedule("processing", "c", 30.0)
    store.schedule("processing", "b", 10.0)
    store.schedule("processing", "a", 10.0)
    store.schedule("processing", "d", 50.0)
    store.schedule("other", "x", 1.0)
    assert store.next_due("processing") == 10.0
    assert store.due("processing", 30.0) == ["a", "b", "c"]
    assert store.due("processing", 30.0, limit=2) == ["a", "b"]
    assert store.due("processing", 9.99) == []
    store.schedule("processing", "a", 60.0)  # moved, not added twice
    assert store.due("processing", 100.0) == ["b", "c", "d", "a"]
    assert store.unschedule("processing", "b") is True
    assert store.unschedule("processing", "b") is False
    assert store.next_due("processing") == 30.0
    store.clear_queue("processing")
    assert store.next_due("processing") is None
    assert store.due("other", 5.0) == ["x"]


def test_a_due_queue_survives_reopening(backend: Backend) -> None:
    if backend.kind == "memory":
        pytest.skip("memory state ends with the process")
    backend.store.schedule("processing", "t1", 5.0)
    assert backend.reopen().store.due("processing", 10.0) == ["t1"]


def test_a_lock_excludes_other_threads_and_processes_and_is_reentrant(backend: Backend) -> None:
    other = backend.reopen()
    inside: list[int] = []
    overlaps: list[int] = []
    store_of = [backend.store, other.store]

    def work(index: int) -> None:
        store = store_of[index % 2]
        for _ in range(5):
            with store.lock("world"), store.lock("world"):  # re-entered in the same thread
                inside.append(index)
                if len(inside) > 1:
                    overlaps.append(index)
                time.sleep(0.002)
                inside.remove(index)

    run_in_threads(work, 4)
    assert overlaps == []


def test_locks_of_different_names_do_not_exclude_each_other(backend: Backend) -> None:
    entered = threading.Event()

    def hold_other() -> None:
        with backend.store.lock("df.world"):
            entered.set()

    with backend.store.lock("retail.world"):
        thread = threading.Thread(target=hold_other)
        thread.start()
        assert entered.wait(5)
        thread.join()


def test_the_store_reports_itself_healthy(backend: Backend) -> None:
    assert backend.store.problem() is None
    assert backend.purchase_orders.problem() is None
    assert backend.df_orders.problem() is None
    assert backend.runtime.problem() is None


def test_a_redis_lock_outlives_its_lease_while_held_and_not_a_killed_holder(backend: Backend) -> None:
    """A holder alive keeps its lock past the lease (seeding a large world takes longer); a holder killed
    (its lease never renewed, as here: taken by hand and left) frees the lock when the lease runs out."""
    if backend.kind != "redis":
        pytest.skip("leases are Redis's")
    from mockserver.store.redis.connection import client, key
    from mockserver.store.redis.documents import LOCK_LEASE

    other = backend.reopen()
    entered = threading.Event()

    def wait_for_it() -> None:
        with other.store.lock("retail.world"):
            entered.set()

    with backend.store.lock("retail.world"):
        waiting = threading.Thread(target=wait_for_it)
        waiting.start()
        assert not entered.wait(LOCK_LEASE + 1.5)  # renewed meanwhile
    assert entered.wait(5)
    waiting.join()
    # A lock taken by hand and left, never renewed: a killed holder stands in.
    abandoned = client(backend.location).lock(key("lock", "df.world"), timeout=LOCK_LEASE)
    assert abandoned.acquire(blocking=False)
    started = time.monotonic()
    with backend.store.lock("df.world"):
        waited = time.monotonic() - started
    assert 0.5 < waited <= LOCK_LEASE + 1.0
