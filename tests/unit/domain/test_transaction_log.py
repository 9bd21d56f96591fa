"""The transaction log's decisions: a submission decides the oldest transactions due in its own write, a few
at a time and in submission order; a status read of a transaction due decides everything due, at once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mockserver.domain.transactions import DECIDE_WITH_SUBMISSION, SETTLE_LAG, TransactionLog
from mockserver.store import MemoryStore
from mockserver.store.sqlite import SqliteStore

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "sqlite-shared"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Memory, SQLite as one process opens it, and SQLite as a worker of `serve --workers` does (where what
    is due is read from the store, or found in the submission's write, instead of remembered)."""
    if request.param == "memory":
        yield MemoryStore()
        return
    sqlite = SqliteStore(tmp_path / "state.sqlite3", shared=request.param == "sqlite-shared")
    yield sqlite
    sqlite.close()


def logged(store: Any, decided: list[int]) -> TransactionLog:
    """A log with no processing delay whose processor records the order it is called in (and fails odd
    numbers, so that outcomes are told apart)."""
    log = TransactionLog(store, 0.0, lambda: NOW)

    def process(account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        decided.append(body["n"])
        if body["n"] % 2:
            return [{"code": "odd", "message": f"{body['n']} is odd", "details": ""}]
        return []

    log.processors["test"] = process
    return log


def test_each_submission_decides_those_before_it_in_order(store: Any) -> None:
    decided: list[int] = []
    log = logged(store, decided)
    ids = [log.submit("acme", "test", {"n": n}) for n in range(10)]
    # With no delay, each submission finds the one before it due, and decides it before it is recorded.
    assert decided == list(range(9))
    statuses = [log.status("acme", transaction_id).status for transaction_id in ids[:9]]
    assert statuses == ["Success" if n % 2 == 0 else "Failure" for n in range(9)]
    assert store.get(log.collection, ids[9])["status"] == "Processing"


def test_a_backlog_is_worked_off_a_few_per_submission_oldest_first(store: Any) -> None:
    decided: list[int] = []
    log = logged(store, decided)
    backlog = [log.submit("acme", "test", {"n": n}, decide=0) for n in range(3 * DECIDE_WITH_SUBMISSION)]
    assert decided == []
    log.submit("acme", "test", {"n": 100})
    assert decided == list(range(DECIDE_WITH_SUBMISSION))
    log.submit("acme", "test", {"n": 101})
    assert decided == list(range(2 * DECIDE_WITH_SUBMISSION))
    # Reading the status of the last of the backlog decides everything due (with no delay: every one), in
    # order, at once.
    assert log.status("acme", backlog[-1]).status == "Failure"
    assert decided == [*range(3 * DECIDE_WITH_SUBMISSION), 100, 101]


def test_a_submission_that_decides_nothing_due_decides_nothing(store: Any) -> None:
    decided: list[int] = []
    log = TransactionLog(store, 3600.0, lambda: NOW)  # an hour's delay: nothing is due
    log.processors["test"] = lambda account, body, now: decided.append(body["n"]) or []
    ids = [log.submit("acme", "test", {"n": n}) for n in range(5)]
    assert decided == []
    assert {log.status("acme", transaction_id).status for transaction_id in ids} == {"Processing"}


def test_a_failing_processor_fails_its_transaction_not_the_submission_deciding_it(store: Any) -> None:
    log = TransactionLog(store, 0.0, lambda: NOW)

    def broken(account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        raise RuntimeError("the emulator's own fault")

    log.processors["broken"] = broken
    first = log.submit("acme", "broken", {"n": 1})
    second = log.submit("acme", "broken", {"n": 2})  # decides the first: its processor raises
    status = log.status("acme", first)
    assert status.status == "Failure"
    assert status.errors[0]["code"] == "InternalFailure"
    assert store.get(log.collection, second) is not None


def test_duplicates_are_decided_as_duplicates_by_the_next_submission(store: Any) -> None:
    decided: list[int] = []
    log = logged(store, decided)
    first = log.submit("acme", "test", {"n": 2})
    again = log.submit("acme", "test", {"n": 2})
    log.submit("acme", "test", {"n": 4})
    assert log.status("acme", first).status == "Success"
    repeated = log.status("acme", again)
    assert repeated.status == "Failure"
    assert repeated.errors[0]["code"] == "DUPLICATE_TRANSACTION"
    assert first in repeated.errors[0]["details"]
    assert decided == [2]  # a duplicate never reaches the processor


class RemoteMemoryStore(MemoryStore):
    remote = True  # as Redis says of itself: each call a round trip, a lock more of them


def test_on_a_remote_store_submissions_leave_deciding_to_the_batches() -> None:
    decided: list[int] = []
    log = logged(RemoteMemoryStore(), decided)
    ids = [log.submit("acme", "test", {"n": n}) for n in range(6)]
    assert decided == []  # no lock taken per submission
    time.sleep(SETTLE_LAG * 1.5)
    log.settle(limit=4)  # what a call's tick does once the earliest is overdue
    assert decided == [0, 1, 2, 3]
    assert log.status("acme", ids[-1]).status == "Failure"  # 5 is odd; reading it decides the rest
    assert decided == list(range(6))
