"""`GET /metrics`: Prometheus exposition of what the emulator did, parsed as Prometheus parses it.

Requests by operation (route template, never a raw id), status and answered-by; latency; 429s; faults by
action; transactions by result; LWA grants by type; journal and store sizes. Multiprocess mode sums workers.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server import retail_support
from tests.server.cli_support import REPOSITORY

ORDERS = "/vendor/orders/v1/purchaseOrders"
ORDER_ROUTE = "/vendor/orders/v1/purchaseOrders/{purchaseOrderNumber}"


def scrape(base_url: str, **headers: str) -> dict[str, list[Sample]]:
    response = requests.get(f"{base_url}/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(response.text):
        families.setdefault(family.name, []).extend(family.samples)
    return families


def value(families: dict[str, list[Sample]], sample_name: str, **labels: str) -> float:
    """The sum of the samples named `sample_name` whose labels include `labels`."""
    return sum(
        sample.value
        for samples in families.values()
        for sample in samples
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


@pytest.fixture
def metered(tmp_path: Path) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path / "data", store="memory", processing_delay=0.05, seed_size=20, rate_scale=1000.0
    )
    yield running
    running.stop()


def test_throttled_calls_are_counted_by_source(tmp_path: Path) -> None:
    throttled = start_emulator(data_dir=tmp_path / "data", store="memory", seed_size=5, rate_scale=0.2)
    throttled.sandbox.throttle.clock = lambda: 1000.0  # no refill between two calls of a slow machine
    try:
        session = throttled.session()
        statuses = [
            session.get(throttled.base_url + ORDERS, params={"limit": 1}, timeout=10).status_code
            for _ in range(5)
        ]
        assert statuses == [200, 200, 429, 429, 429]  # getPurchaseOrders: burst 10 x 0.2
        families = scrape(throttled.base_url)
        labels = {"operation": "getPurchaseOrders", "route": "/vendor/orders/v1/purchaseOrders"}
        assert value(families, "vendor_sandbox_throttled_requests_total", **labels, source="usage_plan") == 3
        assert value(families, "vendor_sandbox_requests_total", **labels, status="429") == 3
        assert value(families, "vendor_sandbox_requests_total", answered_by="error:throttle") == 3
    finally:
        throttled.stop()


def test_requests_are_counted_by_route_template_status_and_answer(metered: RunningEmulator) -> None:
    session = metered.session()
    base = metered.base_url
    numbers = [
        order["purchaseOrderNumber"]
        for order in session.get(base + ORDERS, params={"limit": 2}, timeout=10).json()["payload"]["orders"]
    ]
    for number in numbers:
        assert session.get(f"{base}{ORDERS}/{number}", timeout=10).status_code == 200
    assert session.get(f"{base}{ORDERS}/NO-SUCH-PO", timeout=10).status_code == 404
    assert requests.get(f"{base}/vendor/nothing/here/12345", timeout=10).status_code == 404

    families = scrape(base)
    route = {
        "route": ORDER_ROUTE,
        "operation": "getPurchaseOrder",
        "method": "GET",
        "api": "vendor/orders/v1",
    }
    assert (
        value(families, "vendor_sandbox_requests_total", **route, status="200", answered_by="stateful") == 2
    )
    assert (
        value(families, "vendor_sandbox_requests_total", **route, status="404", answered_by="error:handle")
        == 1
    )
    assert value(families, "vendor_sandbox_requests_total", route="unmatched", status="404") == 1
    assert value(families, "vendor_sandbox_request_duration_seconds_count", route=ORDER_ROUTE) == 3
    assert value(families, "vendor_sandbox_request_duration_seconds_sum", route=ORDER_ROUTE) > 0
    # The histogram's buckets are cumulative and end in +Inf holding every observation.
    assert (
        value(families, "vendor_sandbox_request_duration_seconds_bucket", route=ORDER_ROUTE, le="+Inf") == 3
    )

    # No label carries a purchase-order number, nor any path as requested.
    raw = {*numbers, "NO-SUCH-PO", "12345"}
    for samples in families.values():
        for sample in samples:
            for label in sample.labels.values():
                assert not any(item in label for item in raw), sample


def test_faults_transactions_and_grants(metered: RunningEmulator) -> None:
    base = metered.base_url
    session = metered.session()
    rule = {"operation": "getPurchaseOrdersStatus", "first": 2, "action": "service_unavailable"}
    assert requests.post(f"{base}/_sandbox/faults", json=rule, timeout=10).status_code == 201
    for _ in range(3):
        session.get(base + "/vendor/orders/v1/purchaseOrdersStatus", params={"limit": 1}, timeout=10)
    lwa_rule = {"endpoint": "lwa", "first": 1, "action": "lwa_error", "params": {"status": 500}}
    assert requests.post(f"{base}/_sandbox/faults", json=lwa_rule, timeout=10).status_code == 201
    account = metered.account("acme-na")
    grant = {
        "grant_type": "refresh_token",
        "refresh_token": account["refresh_token"],
        "client_id": account["client_id"],
        "client_secret": account["client_secret"],
    }
    assert requests.post(f"{base}/auth/o2/token", data=grant, timeout=10).status_code == 500  # the fault
    assert requests.post(f"{base}/auth/o2/token", data=grant, timeout=10).status_code == 200
    bad_secret = {**grant, "client_secret": "wrong"}
    assert requests.post(f"{base}/auth/o2/token", data=bad_secret, timeout=10).status_code == 401
    assert (
        requests.post(f"{base}/auth/o2/token", data={**grant, "grant_type": "x" * 50}, timeout=10).ok is False
    )

    order = retail_support.new_purchase_order(metered, session)
    ack = retail_support.acknowledgement(order)
    assert retail_support.submit(metered, session, retail_support.ACK, ack)["status"] == "Success"
    broken = retail_support.acknowledgement(
        retail_support.new_purchase_order(metered, session), sellingParty={"partyId": "NOT-OURS"}
    )
    assert retail_support.submit(metered, session, retail_support.ACK, broken)["status"] == "Failure"

    families = scrape(base)
    assert value(families, "vendor_sandbox_throttled_requests_total") == 0
    assert (
        value(
            families,
            "vendor_sandbox_faults_injected_total",
            endpoint="sp-api",
            action="service_unavailable",
            operation="getPurchaseOrdersStatus",
        )
        == 2
    )
    assert (
        value(families, "vendor_sandbox_requests_total", operation="getPurchaseOrdersStatus", status="503")
        == 2
    )
    assert value(families, "vendor_sandbox_faults_injected_total", endpoint="lwa", action="lwa_error") == 1
    kind = {"family": "retail", "kind": "acknowledgement"}
    assert value(families, "vendor_sandbox_transactions_total", **kind, result="Success") == 1
    assert value(families, "vendor_sandbox_transactions_total", **kind, result="Failure") == 1
    # The session's own token grant, and the one after the fault; the fault's answer is no grant.
    assert value(families, "vendor_sandbox_lwa_grants_total", grant_type="refresh_token", status="200") == 2
    assert value(families, "vendor_sandbox_lwa_grants_total", grant_type="refresh_token", status="401") == 1
    assert value(families, "vendor_sandbox_lwa_grants_total", grant_type="other", status="400") == 1


def test_state_gauges_read_the_journal_and_the_store(metered: RunningEmulator) -> None:
    metered.session().get(metered.base_url + ORDERS, params={"limit": 1}, timeout=10)
    families = scrape(metered.base_url)
    journal = metered.sandbox.journal
    assert value(families, "vendor_sandbox_journal_entries") == len(journal)
    assert value(families, "vendor_sandbox_journal_bytes") == journal.bytes
    for account in ("acme-na", "nordwind-eu", "globex-readonly", "initech-in"):
        assert value(families, "vendor_sandbox_purchase_orders", account=account) == 20
    assert value(families, "vendor_sandbox_store_documents", collection="lwa_access_tokens") >= 1
    assert value(families, "vendor_sandbox_build_info", store="memory", mode="dynamic", region="na") == 1
    assert value(families, "vendor_sandbox_fault_rules") == 0


def test_names_follow_prometheus_conventions(metered: RunningEmulator) -> None:
    metered.session().get(metered.base_url + ORDERS, params={"limit": 1}, timeout=10)
    response = requests.get(f"{metered.base_url}/metrics", timeout=10)
    ours = [
        family for family in text_string_to_metric_families(response.text) if "vendor_sandbox" in family.name
    ]
    assert {family.name for family in ours} >= {
        "vendor_sandbox_requests",
        "vendor_sandbox_request_duration_seconds",
        "vendor_sandbox_lwa_grants",
        "vendor_sandbox_journal_entries",
        "vendor_sandbox_store_documents",
    }
    for family in ours:
        assert re.fullmatch(r"vendor_sandbox_[a-z_]+", family.name), family.name
        if family.type == "counter":
            assert all(sample.name.endswith(("_total", "_created")) for sample in family.samples), family.name
        if family.type == "histogram":
            assert family.name.endswith("_seconds")
        if family.type == "gauge" and ("bytes" in family.name or family.unit):
            assert family.name.endswith("_bytes")


def test_openmetrics_when_the_scraper_asks_for_it(metered: RunningEmulator) -> None:
    response = requests.get(
        f"{metered.base_url}/metrics",
        headers={"Accept": "application/openmetrics-text; version=1.0.0"},
        timeout=10,
    )
    assert response.headers["Content-Type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")


def test_metrics_need_the_admin_token_where_one_is_set(tmp_path: Path) -> None:
    guarded = start_emulator(data_dir=tmp_path / "data", store="memory", seed_size=5, admin_token="m3trics")
    try:
        assert requests.get(f"{guarded.base_url}/metrics", timeout=10).status_code == 403
        families = scrape(guarded.base_url, Authorization="Bearer m3trics")
        assert "vendor_sandbox_requests" in families or "vendor_sandbox_journal_entries" in families
    finally:
        guarded.stop()


def test_a_failing_observer_costs_the_client_nothing(metered: RunningEmulator) -> None:
    def broken(entry: Any) -> None:
        raise RuntimeError("metrics backend down")

    metered.sandbox.journal.observers.insert(0, broken)
    try:
        response = metered.session().get(metered.base_url + ORDERS, params={"limit": 1}, timeout=10)
        assert response.status_code == 200
        assert (
            value(scrape(metered.base_url), "vendor_sandbox_requests_total", operation="getPurchaseOrders")
            == 1
        )
    finally:
        metered.sandbox.journal.observers.remove(broken)


def _serve(data_dir: Path, multiproc: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--store", "memory", "--seed-size", "5",
         "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY), "PROMETHEUS_MULTIPROC_DIR": str(multiproc)},
    )  # fmt: skip


def test_multiprocess_mode_sums_every_process(tmp_path: Path) -> None:
    """Two processes counting into one PROMETHEUS_MULTIPROC_DIR, as workers do: either one's scrape shows
    both processes' requests."""
    from tests.server.cli_support import accounts, token_for

    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    with contextlib.ExitStack() as stack:
        processes = [
            stack.enter_context(_serve(tmp_path / f"worker-{index}", multiproc)) for index in range(2)
        ]
        stack.callback(_stop, processes)
        urls = []
        for process in processes:
            assert process.stdout is not None
            match = re.search(r"(http://127\.0\.0\.1:\d+)", process.stdout.readline())
            assert match, process.stderr.read() if process.stderr else ""
            urls.append(match.group(1))
        acme = next(item for item in accounts() if item["name"] == "acme-na")
        for count, url in zip((2, 3), urls, strict=True):
            headers = {"x-amz-access-token": token_for(url, acme)}
            for _ in range(count):
                requests.get(url + ORDERS, params={"limit": 1}, headers=headers, timeout=10)
        for url in urls:
            families = scrape(url)
            assert value(families, "vendor_sandbox_requests_total", operation="getPurchaseOrders") == 5
            assert value(families, "vendor_sandbox_lwa_grants_total", grant_type="refresh_token") == 2
        # One file per process and kind of metric: prometheus-client's multiprocess layout (the process
        # that answers is each `serve`'s worker).
        assert len({path.name.rsplit("_", 1)[1] for path in multiproc.glob("counter_*.db")}) == 2


def _stop(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
