"""Several processes behave as one emulator: replicas on their own ports over one Redis (as behind a balancer,
on several hosts), and `serve --workers N` over SQLite or Redis. One usage plan, one world (a PO
acknowledged through one is acknowledged through all, a nextToken from one pages on another), one journal,
one set of fault rules and one clock; nothing answered 202 is lost when a worker is killed -9 in the middle
of submissions, or when Redis restarts."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.redis_support import clean, own_redis, redis_url
from tests.server.shared_support import (
    ACK,
    ORDERS,
    Served,
    acknowledgement,
    retrying,
    serving,
    session_for,
    transaction_status,
    wait_until_decided,
)

COMMON = ("--seed-size", "40", "--processing-delay", "0.2")


@contextmanager
def two_replicas(tmp_path: Path, *options: str) -> Iterator[tuple[Served, Served]]:
    """Two `serve` processes over one Redis, as two hosts behind a balancer (each with its own data dir)."""
    url = redis_url()
    clean(url)
    arguments = ("--store", url, *COMMON, *options)
    with (
        serving(*arguments, data_dir=tmp_path / "a") as first,
        serving(*arguments, data_dir=tmp_path / "b") as second,
    ):
        yield first, second
    clean(url)


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[tuple[Served, Served]]:
    with two_replicas(tmp_path, "--no-rate-limits") as served:
        yield served


def _new_orders(session: requests.Session, url: str, limit: int = 5) -> list[dict[str, Any]]:
    response = session.get(f"{url}{ORDERS}", params={"purchaseOrderState": "New", "limit": limit}, timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json()["payload"]["orders"])


def test_replicas_meter_one_usage_plan(tmp_path: Path) -> None:
    # Usage plans at 0.3x Amazon's: getPurchaseOrders allows a burst of 3, then 3 a second.
    with two_replicas(tmp_path, "--rate-scale", "0.3") as served:
        _one_usage_plan(*served)


def _one_usage_plan(first: Served, second: Served) -> None:
    one, other = session_for(first.url), session_for(second.url)
    # One access token is good on every replica: the token store is shared too.
    other.headers["x-amz-access-token"] = one.headers["x-amz-access-token"]
    statuses = [
        session.get(f"{served.url}{ORDERS}", params={"limit": 1}, timeout=10).status_code
        for session, served in ((one, first), (other, second), (one, first), (other, second), (one, first))
    ]
    # A burst of 3 between them, not 3 each (a refill of one token takes a third of a second).
    assert statuses[:3] == [200, 200, 200]
    assert 429 in statuses[3:]
    time.sleep(0.7)
    assert other.get(f"{second.url}{ORDERS}", params={"limit": 1}, timeout=10).status_code == 200


def test_a_purchase_order_acknowledged_through_one_replica_is_acknowledged_through_the_other(
    replicas: tuple[Served, Served],
) -> None:
    first, second = replicas
    one, other = session_for(first.url), session_for(second.url)
    order = _new_orders(one, first.url)[0]
    number = order["purchaseOrderNumber"]
    response = one.post(f"{first.url}{ACK}", json=acknowledgement(order), timeout=10)
    assert response.status_code == 202, response.text
    transaction_id = response.json()["payload"]["transactionId"]
    # Decided by whichever replica sees it due first; read through the other.
    assert wait_until_decided(other, second.url, transaction_id) == "Success"
    assert transaction_status(one, first.url, transaction_id) == "Success"
    for session, served in ((other, second), (one, first)):
        state = session.get(f"{served.url}{ORDERS}/{number}", timeout=10).json()["payload"][
            "purchaseOrderState"
        ]
        assert state == "Acknowledged"
    # The same acknowledgement again, through the other replica: a duplicate of the first.
    again = other.post(f"{second.url}{ACK}", json=acknowledgement(order), timeout=10)
    assert wait_until_decided(one, first.url, again.json()["payload"]["transactionId"]) == "Failure"


def test_a_next_token_from_one_replica_pages_on_the_other(replicas: tuple[Served, Served]) -> None:
    first, second = replicas
    one, other = session_for(first.url), session_for(second.url)
    whole = one.get(f"{first.url}{ORDERS}", params={"limit": 6}, timeout=10).json()["payload"]["orders"]
    page = one.get(f"{first.url}{ORDERS}", params={"limit": 3}, timeout=10).json()["payload"]
    token = page["pagination"]["nextToken"]
    following = other.get(f"{second.url}{ORDERS}", params={"limit": 3, "nextToken": token}, timeout=10)
    assert following.status_code == 200, following.text
    numbers = [
        order["purchaseOrderNumber"] for order in page["orders"] + following.json()["payload"]["orders"]
    ]
    assert numbers == [order["purchaseOrderNumber"] for order in whole]


def test_replicas_keep_one_journal(replicas: tuple[Served, Served]) -> None:
    first, second = replicas
    one, other = session_for(first.url), session_for(second.url)
    requests.delete(f"{first.url}/_sandbox/journal", timeout=10)
    ids = [
        session.get(f"{served.url}{ORDERS}", params={"limit": 1}, timeout=10).headers["x-amzn-RequestId"]
        for session, served in ((one, first), (other, second))
    ]
    for served in (first, second):
        entries = requests.get(f"{served.url}/_sandbox/journal", timeout=10).json()["entries"]
        assert [entry["request_id"] for entry in entries] == ids
        assert entries[0]["sequence"] < entries[1]["sequence"]
        stats = requests.get(f"{served.url}/_sandbox/journal/stats", timeout=10).json()
        assert stats["entries"] == 2


def test_fault_rules_clock_and_strict_mode_set_through_one_replica_apply_on_the_other(
    replicas: tuple[Served, Served],
) -> None:
    first, second = replicas
    one, other = session_for(first.url), session_for(second.url)
    rule = {"id": "third", "operation": "getPurchaseOrdersStatus", "nth": 3, "action": "internal_failure"}
    assert requests.post(f"{first.url}/_sandbox/faults", json=rule, timeout=10).status_code == 201
    statuses = [
        session.get(f"{served.url}/vendor/orders/v1/purchaseOrdersStatus", params={"limit": 1}, timeout=10)
        for session, served in ((other, second), (one, first), (other, second), (one, first))
    ]
    # The rule counts the calls of both replicas: the third call, on the second replica, fails.
    assert [response.status_code for response in statuses] == [200, 200, 500, 200]
    listed = requests.get(f"{first.url}/_sandbox/faults", timeout=10).json()["rules"]
    assert (listed[0]["matched"], listed[0]["fired"]) == (4, 1)

    before = requests.get(f"{second.url}/_sandbox/clock", timeout=10).json()
    requests.post(f"{first.url}/_sandbox/clock", json={"freeze": True, "advance": 7200}, timeout=10)
    after = requests.get(f"{second.url}/_sandbox/clock", timeout=10).json()
    assert after["frozen"] is True
    assert after["now"] > before["now"]

    assert (
        requests.put(f"{second.url}/_sandbox/strict", json={"enabled": True}, timeout=10).status_code == 200
    )
    assert requests.get(f"{first.url}/_sandbox/strict", timeout=10).json()["enabled"] is True


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_workers_meter_one_usage_plan_and_keep_one_journal(tmp_path: Path, kind: str) -> None:
    store = "sqlite" if kind == "sqlite" else redis_url()
    if kind == "redis":
        clean(store)
    # getPurchaseOrders at 0.03x Amazon's plan: a burst of 1, a token every 3.3 seconds.
    with serving(
        "--store", store, "--workers", "2", "--rate-scale", "0.03", *COMMON, data_dir=tmp_path
    ) as served:
        assert len(served.workers_up(2)) == 2
        token = session_for(served.url).headers["x-amz-access-token"]
        requests.delete(f"{served.url}/_sandbox/journal", timeout=10)
        statuses: list[int] = []
        barrier = threading.Barrier(8)

        def call() -> None:
            barrier.wait()
            # A new connection each: the kernel spreads them over the workers.
            response = requests.get(
                f"{served.url}{ORDERS}",
                params={"limit": 1},
                headers={"x-amz-access-token": token},
                timeout=10,
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200] + [429] * 7
        entries = requests.get(f"{served.url}/_sandbox/journal", timeout=10).json()["entries"]
        assert len(entries) == 8
        assert len({entry["sequence"] for entry in entries}) == 8
        assert sorted(entry["status"] for entry in entries) == sorted(statuses)
        # /metrics of whichever worker answers counts every worker's requests.
        for _ in range(4):
            counted = _requests_counted(served.url, "getPurchaseOrders")
            assert counted == {"200": 1.0, "429": 7.0}, counted
    if kind == "redis":
        clean(store)


def _requests_counted(url: str, operation: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    # A new connection each time: the kernel may hand it to either worker.
    text = requests.get(f"{url}/metrics", headers={"Connection": "close"}, timeout=10).text
    counted: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "vendor_sandbox_requests":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels.get("operation") == operation:
                status = sample.labels["status"]
                counted[status] = counted.get(status, 0.0) + sample.value
    return counted


def test_a_snapshot_restored_through_one_replica_is_the_world_of_both(
    replicas: tuple[Served, Served],
) -> None:
    first, second = replicas
    one, other = session_for(first.url), session_for(second.url)
    requests.post(f"{first.url}/_sandbox/clock", json={"freeze": True}, timeout=10)
    order = _new_orders(one, first.url)[0]
    number = order["purchaseOrderNumber"]
    saved = requests.post(f"{first.url}/_sandbox/snapshots", json={"name": "before-ack"}, timeout=30)
    assert saved.status_code == 201, saved.text
    clock_then = requests.get(f"{second.url}/_sandbox/clock", timeout=10).json()["now"]

    response = other.post(f"{second.url}{ACK}", json=acknowledgement(order), timeout=10)
    assert response.status_code == 202, response.text
    assert wait_until_decided(one, first.url, response.json()["payload"]["transactionId"]) == "Success"
    requests.post(f"{second.url}/_sandbox/clock/advance", json={"seconds": 86400}, timeout=10)

    restored = requests.post(f"{first.url}/_sandbox/snapshots/before-ack/restore", timeout=30)
    assert restored.status_code == 200, restored.text
    # The replica that did not restore sees the world and the clock as they were saved.
    for session, served in ((other, second), (one, first)):
        state = session.get(f"{served.url}{ORDERS}/{number}", timeout=10).json()["payload"][
            "purchaseOrderState"
        ]
        assert state == "New"
        assert requests.get(f"{served.url}/_sandbox/clock", timeout=10).json()["now"] == clock_then
    # And the same acknowledgement is no duplicate any more: the world has not seen it.
    again = other.post(f"{second.url}{ACK}", json=acknowledgement(order), timeout=10)
    assert wait_until_decided(one, first.url, again.json()["payload"]["transactionId"]) == "Success"


def _submit_under_load(
    served: Served, orders: list[dict[str, Any]], kill_after: float
) -> tuple[list[str], int]:
    """Acknowledgements from 4 clients for a while; one worker is killed -9 in the middle. The transaction
    ids answered 202, and the number of calls that got no answer."""
    token = session_for(served.url).headers["x-amz-access-token"]
    accepted: list[str] = []
    failed = [0]
    stop = threading.Event()

    def client(index: int) -> None:
        session = requests.Session()
        session.headers["x-amz-access-token"] = token
        sent = 0
        while not stop.is_set():
            order = orders[(index + sent) % len(orders)]
            body = acknowledgement(order, date=f"2026-03-01T10:{index:02d}:{sent % 60:02d}Z")
            sent += 1
            try:
                response = session.post(f"{served.url}{ACK}", json=body, timeout=10)
            except requests.RequestException:
                failed[0] += 1
                session = requests.Session()
                session.headers["x-amz-access-token"] = token
                continue
            if response.status_code == 202:
                accepted.append(response.json()["payload"]["transactionId"])
            else:
                failed[0] += 1

    threads = [threading.Thread(target=client, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(kill_after)
    victim = served.workers()[0]
    os.kill(victim, signal.SIGKILL)
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join()
    return accepted, failed[0]


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_nothing_answered_202_is_lost_when_a_worker_is_killed_mid_submission(
    tmp_path: Path, kind: str
) -> None:
    store = "sqlite" if kind == "sqlite" else redis_url()
    if kind == "redis":
        clean(store)
    arguments = ("--store", store, "--workers", "2", "--no-rate-limits", "--seed-size", "40")
    with serving(*arguments, "--processing-delay", "0.5", data_dir=tmp_path) as served:
        session = session_for(served.url)
        orders = _new_orders(session, served.url, limit=20)
        before = set(served.workers_up(2))
        assert len(before) == 2
        accepted, _ = _submit_under_load(served, orders, kill_after=1.0)
        assert len(accepted) > 20
        # The killed worker was replaced; the emulator still answers.
        deadline = time.monotonic() + 15
        while len(served.workers()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(served.workers()) == 2 and set(served.workers()) != before
        for transaction_id in accepted:
            status = wait_until_decided(session, served.url, transaction_id)
            assert status in ("Success", "Failure"), (transaction_id, status)
        for order in orders:
            state = session.get(f"{served.url}{ORDERS}/{order['purchaseOrderNumber']}", timeout=10).json()
            assert state["payload"]["purchaseOrderState"] == "Acknowledged"
    if kind == "redis":
        clean(store)


def test_a_redis_restart_loses_nothing_answered_202(tmp_path: Path) -> None:
    """Redis as docker-compose.yml runs it (append-only file, synced every second) stops and starts again
    while the emulator runs: what was accepted is there afterwards, and the emulator serves again."""
    with own_redis(tmp_path / "redis") as redis_server:
        arguments = ("--store", redis_server.url, "--no-rate-limits", "--seed-size", "30")
        with serving(*arguments, "--processing-delay", "0.3", data_dir=tmp_path / "data") as served:
            session = session_for(served.url)
            orders = _new_orders(session, served.url, limit=3)
            accepted = []
            for order in orders[:2]:
                response = session.post(f"{served.url}{ACK}", json=acknowledgement(order), timeout=10)
                assert response.status_code == 202
                accepted.append(response.json()["payload"]["transactionId"])
            redis_server.stop()  # before the transactions were decided
            down = session.get(f"{served.url}{ORDERS}", params={"limit": 1}, timeout=10)
            assert down.status_code == 500  # Amazon's InternalFailure while the store is away
            assert down.json()["errors"][0]["code"] == "InternalFailure"
            health = requests.get(f"{served.url}/_sandbox/health", timeout=10)
            assert health.status_code == 503
            redis_server.start()
            retrying(lambda: session.get(f"{served.url}{ORDERS}", params={"limit": 1}, timeout=10))
            for transaction_id in accepted:
                assert wait_until_decided(session, served.url, transaction_id) == "Success"
            for order in orders[:2]:
                response = session.get(f"{served.url}{ORDERS}/{order['purchaseOrderNumber']}", timeout=10)
                assert response.json()["payload"]["purchaseOrderState"] == "Acknowledged"
            after = session.post(f"{served.url}{ACK}", json=acknowledgement(orders[2]), timeout=10)
            assert after.status_code == 202
            assert requests.get(f"{served.url}/_sandbox/health", timeout=10).status_code == 200
