"""The runtime: what one process keeps in memory and several share (shared values, counters, usage-plan
buckets with Amazon's semantics, the bounded journal), in memory, in SQLite beside the data directory
and in Redis."""

from __future__ import annotations

import base64
import threading
from dataclasses import replace

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mockserver.journal import JournalEntry, SharedJournal, decode_entry, encode_entry, entry_bytes
from tests.store.conftest import Backend, run_in_threads


def _entry(status: int = 200, body: bytes | None = b'{"payload":{}}') -> JournalEntry:
    return JournalEntry(
        sequence=0,
        time=1700000000.5,
        request_id="req",
        method="GET",
        path="/vendor/orders/v1/purchaseOrders",
        operation="vendorOrders.getPurchaseOrders",
        operation_id="getPurchaseOrders",
        account="acme-na",
        application="demo-integration",
        status=status,
        latency_ms=1.25,
        answered_by="stateful",
        request_headers={"host": "x"},
        query={"limit": ["10"]},
        request_body=None,
        response_body=body,
        notes=["a note"],
        violations=[{"rule": "r", "message": "m"}],
        fault={"source": "rule"},
    )


def test_values_are_set_read_listed_and_deleted_by_prefix(backend: Backend) -> None:
    runtime = backend.runtime
    assert runtime.get_value("chaos.rules") is None
    runtime.set_value("chaos.rules", [{"id": "a"}])
    runtime.set_value("chaos.storm:getPurchaseOrders", {"rate": 1.0})
    runtime.set_value("strict.enabled", True)
    assert runtime.get_value("chaos.rules") == [{"id": "a"}]
    assert runtime.values("chaos.") == {
        "chaos.rules": [{"id": "a"}],
        "chaos.storm:getPurchaseOrders": {"rate": 1.0},
    }
    runtime.delete_values("chaos.storm:")
    assert runtime.values("chaos.") == {"chaos.rules": [{"id": "a"}]}
    runtime.set_value("strict.enabled", None)
    assert runtime.get_value("strict.enabled") is None


def test_prefixes_are_literal_not_patterns(backend: Backend) -> None:
    runtime = backend.runtime
    runtime.set_value("a*b", 1)
    runtime.set_value("axb", 2)
    assert runtime.values("a*") == {"a*b": 1}


def test_the_generation_changes_on_every_bump(backend: Backend) -> None:
    runtime = backend.runtime
    seen = {runtime.generation()}
    for _ in range(3):
        runtime.bump()
        seen.add(runtime.generation())
    assert len(seen) == 4
    assert backend.reopen().runtime.generation() == runtime.generation()


def test_counters_add_atomically_and_stop_at_a_limit(backend: Backend) -> None:
    runtime = backend.runtime
    other = backend.reopen().runtime
    results: list[int | None] = []

    def add(index: int) -> None:
        for _ in range(10):
            results.append((runtime if index % 2 else other).add("chaos:e:fired", below=25))

    run_in_threads(add, 4)
    assert sorted(value for value in results if value is not None) == list(range(1, 26))
    assert results.count(None) == 15
    assert runtime.counter("chaos:e:fired") == 25
    assert runtime.add("chaos:e:matched", 3) == 3
    runtime.clear_counters("chaos:e:")
    assert runtime.counter("chaos:e:fired") == 0


def test_a_bucket_spends_its_burst_then_refills_at_its_rate(backend: Backend) -> None:
    runtime = backend.runtime
    now = 1000.0
    taken = [runtime.take("plan:op|acme|app", 2.0, 3, now, 3) for _ in range(5)]
    assert taken == [True, True, True, False, False]
    assert runtime.take("plan:op|acme|app", 2.0, 3, now + 0.49, 3) is False
    assert runtime.take("plan:op|acme|app", 2.0, 3, now + 0.51, 3) is True
    # Ten seconds later it is full again, never more than the burst.
    assert [runtime.take("plan:op|acme|app", 2.0, 3, now + 10.0, 3) for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]


def test_a_throttled_call_spends_nothing(backend: Backend) -> None:
    runtime = backend.runtime
    assert runtime.take("plan:b", 1.0, 1, 0.0, 1) is True
    # Refused again and again within the second: none of these may push the next token further away.
    assert [runtime.take("plan:b", 1.0, 1, 0.1 * step, 1) for step in range(1, 10)] == [False] * 9
    assert runtime.take("plan:b", 1.0, 1, 1.0, 1) is True


def test_a_clock_going_back_refills_nothing(backend: Backend) -> None:
    runtime = backend.runtime
    assert runtime.take("plan:c", 1.0, 1, 100.0, 1) is True
    assert runtime.take("plan:c", 1.0, 1, 50.0, 1) is False


def test_a_storm_bucket_starts_empty(backend: Backend) -> None:
    runtime = backend.runtime
    assert runtime.take("storm:op|a|b", 2.0, 2, 10.0, 0.0) is False
    assert runtime.take("storm:op|a|b", 2.0, 2, 10.6, 0.0) is True


def test_one_bucket_for_every_process_sharing_the_runtime(backend: Backend) -> None:
    runtimes = [backend.runtime, backend.reopen().runtime]
    granted: list[bool] = []

    def spend(index: int) -> None:
        for _ in range(10):
            granted.append(runtimes[index % 2].take("plan:shared", 0.001, 12, 500.0, 12))

    run_in_threads(spend, 4)
    assert granted.count(True) == 12


def test_buckets_are_cleared_by_prefix(backend: Backend) -> None:
    runtime = backend.runtime
    runtime.take("plan:x", 1.0, 1, 0.0, 1)
    runtime.take("storm:x", 1.0, 1, 0.0, 1)
    runtime.clear_buckets("plan:")
    assert runtime.take("plan:x", 1.0, 1, 0.0, 1) is True  # full again
    assert runtime.take("storm:x", 1.0, 1, 0.0, 1) is False  # untouched


def test_a_journal_record_round_trips(backend: Backend) -> None:
    entry = _entry(body=b"\xff\xfe not UTF-8")
    again = decode_entry(7, encode_entry(entry))
    assert again.sequence == 7
    assert again.response_body == b"\xff\xfe not UTF-8"
    assert {**again.to_dict(), "sequence": 0} == {
        **_entry(body=b"\xff\xfe not UTF-8").to_dict(),
        "sequence": 0,
    }


def test_the_shared_journal_numbers_keeps_and_bounds_entries(backend: Backend) -> None:
    journal = SharedJournal(backend.runtime, size=3)
    other = SharedJournal(backend.reopen().runtime, size=3)
    for status in (200, 201, 202, 203):
        (journal if status % 2 else other).record(_entry(status))
    entries = journal.entries()
    assert [entry.status for entry in entries] == [201, 202, 203]
    sequences = [entry.sequence for entry in entries]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    assert len(journal) == 3
    assert journal.bytes == 3 * entry_bytes(_entry())
    assert [entry.status for entry in other.query(status=202)] == [202]
    assert entries[0].to_dict()["response_body"] == {"payload": {}}
    journal.clear()
    assert len(other) == 0 and other.bytes == 0 and other.entries() == []


def test_the_shared_journal_keeps_the_newest_entry_even_over_its_byte_budget(backend: Backend) -> None:
    journal = SharedJournal(backend.runtime, size=100, max_bytes=3000)
    journal.record(_entry(200))
    journal.record(_entry(201, body=b"x" * 5000))
    assert [entry.status for entry in journal.entries()] == [201]
    journal.record(_entry(202))
    assert [entry.status for entry in journal.entries()] == [202]


def test_the_journal_numbers_on_after_a_clear(backend: Backend) -> None:
    runtime = backend.runtime
    sequences = [runtime.journal_append(b"r", 10, 100, 10_000) for _ in range(3)]
    assert sequences == list(range(sequences[0], sequences[0] + 3))
    runtime.journal_clear()
    assert runtime.journal_stats() == (0, 0) and runtime.journal_records() == []
    after = backend.reopen().runtime.journal_append(b"s", 7, 100, 10_000)
    assert after > sequences[-1]
    assert runtime.journal_records() == [(after, b"s")]
    assert runtime.journal_stats() == (1, 7)
    runtime.journal_clear()
    runtime.journal_clear()  # a clear of an empty journal forgets nothing of the numbering
    assert runtime.journal_append(b"t", 1, 100, 10_000) > after


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(st.one_of(st.integers(min_value=1, max_value=400), st.just(0)), min_size=1, max_size=40),
    max_entries=st.integers(min_value=1, max_value=6),
    max_bytes=st.integers(min_value=1, max_value=1200),
)
@example(steps=[300, 300, 400, 300], max_entries=6, max_bytes=1000)  # cut to exactly the budget
@example(steps=[5, 5, 5, 5, 0, 5, 5], max_entries=2, max_bytes=1000)  # cut to exactly the count
def test_the_journal_keeps_what_a_plain_list_keeps(
    backend: Backend, steps: list[int], max_entries: int, max_bytes: int
) -> None:
    """Appends of any costs (0: a clear) under any bounds: the same entries, numbers and totals as a list
    that drops its oldest while over either bound, never the newest."""
    runtime = backend.runtime
    runtime.journal_clear()
    kept: list[tuple[int, int, bytes]] = []
    last = 0
    for index, cost in enumerate(steps):
        if cost == 0:
            runtime.journal_clear()
            kept.clear()
            continue
        record = b"%d:" % index + bytes(range(256))[: cost % 256]
        sequence = runtime.journal_append(record, cost, max_entries, max_bytes)
        assert sequence > last
        last = sequence
        kept.append((sequence, cost, record))
        while len(kept) > 1 and (len(kept) > max_entries or sum(item[1] for item in kept) > max_bytes):
            kept.pop(0)
        assert runtime.journal_records() == [(sequence, record) for sequence, _, record in kept]
        assert runtime.journal_stats() == (len(kept), sum(item[1] for item in kept))


@pytest.mark.parametrize(
    ("request_body", "response_body"),
    [
        (None, None),
        (b"", b'{"payload":{}}'),
        (bytearray(b'{"a":1}'), b"\x00\xff" * 3000),
        ({"as": "a value"}, [1, "two"]),
        (b"\x00\x00\x00\x05 looks like a length", None),
    ],
)
def test_journal_records_keep_bodies_as_they_were(request_body: object, response_body: object) -> None:
    entry = _entry()
    entry.request_body, entry.response_body = request_body, response_body
    again = decode_entry(3, encode_entry(entry))
    expected = bytes(request_body) if isinstance(request_body, bytearray) else request_body
    assert (again.request_body, again.response_body) == (expected, response_body)
    assert type(again.request_body) is type(expected)


def test_a_journal_record_with_bytes_beyond_its_bodies_is_refused() -> None:
    with pytest.raises(ValueError, match="beyond its bodies"):
        decode_entry(1, encode_entry(_entry()) + b"x")


def test_a_journal_record_of_an_earlier_version_still_reads() -> None:
    """Before bodies were kept as bytes, a record was all JSON; a Redis journal outlives an upgrade."""
    legacy = orjson.dumps(
        {
            **{name: value for name, value in _entry().to_dict().items() if name != "sequence"},
            "request_body": ["value", None],
            "response_body": ["text", '{"payload":{}}'],
        }
    )
    assert decode_entry(9, legacy) == replace(_entry(), sequence=9)
    binary = orjson.dumps(
        {
            **{name: value for name, value in _entry().to_dict().items() if name != "sequence"},
            "request_body": ["base64", base64.b64encode(b"\xff\x00").decode()],
            "response_body": ["value", {"a": 1}],
        }
    )
    again = decode_entry(10, binary)
    assert (again.request_body, again.response_body) == (b"\xff\x00", {"a": 1})


def test_concurrent_appends_are_numbered_without_gaps_and_bounded(backend: Backend) -> None:
    """Appends from several threads of two openings (another process's view, where there is one): each gets
    its own number, the numbers run without a gap, and the bound and totals hold once they are done."""
    runtimes = [backend.runtime, backend.reopen().runtime]
    runtimes[0].journal_clear()
    sequences: list[int] = []
    guard = threading.Lock()

    def append(index: int) -> None:
        for step in range(40):
            sequence = runtimes[index % 2].journal_append(b"%d.%d" % (index, step), 10, 50, 100_000)
            with guard:
                sequences.append(sequence)

    run_in_threads(append, 4)
    assert sorted(sequences) == list(range(min(sequences), min(sequences) + 160))
    kept = runtimes[1].journal_records()
    assert [sequence for sequence, _ in kept] == sorted(sequences)[-50:]
    assert runtimes[0].journal_stats() == (50, 500)
