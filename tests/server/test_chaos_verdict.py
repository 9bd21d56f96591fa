"""The retry verdict: a naive client fails and a well-behaved one passes, on the same fault plan.

Both clients do the same work (submit an acknowledgement, list purchase orders) against the same plan: the
first acknowledgement is accepted but its answer lost (the connection dropped after the handler ran), the
second attempt gets a 503; getPurchaseOrders answers two 429s, a 503, then an expired token.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.cli import main
from mockserver.testing.chaos import Chaos, VerdictFailed

PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
ACKNOWLEDGEMENTS = "/vendor/orders/v1/acknowledgements"
# The acknowledgement of one purchase order: the business document whose second acceptance is a duplicate.
ACKNOWLEDGEMENT = {
    "acknowledgements": [
        {
            "purchaseOrderNumber": "4Z32PABC",
            "sellingParty": {"partyId": "ACME1"},
            "acknowledgementDate": "2026-01-05T10:00:00Z",
            "items": [],
        }
    ]
}
RETRYABLE = {429, 500, 502, 503, 504}

PLAN: dict[str, Any] = {
    "rules": [
        {"id": "throttled", "operation": "getPurchaseOrders", "first": 2, "action": "quota_exceeded"},
        {"id": "unavailable", "operation": "getPurchaseOrders", "nth": 3, "action": "service_unavailable"},
        {"id": "expired", "operation": "getPurchaseOrders", "nth": 4, "action": "expired_token"},
        {
            "id": "lost-answer",
            "operation": "submitAcknowledgement",
            "nth": 1,
            "action": "drop",
            "params": {"after_handle": True},
        },
        {"id": "ack-503", "operation": "submitAcknowledgement", "nth": 2, "action": "service_unavailable"},
    ],
    "policy": {"max_attempts": 6, "min_backoff": 0.05, "growth_factor": 1.5},
}


class Client:
    """Just enough of an SP-API client: LWA token, then calls."""

    user_agent = "client"

    def __init__(self, base_url: str, credentials: dict[str, Any]) -> None:
        self.base_url = base_url
        self.credentials = credentials
        self.http = requests.Session()
        self.http.headers["User-Agent"] = self.user_agent
        self.token = self.refresh()

    def refresh(self) -> str:
        response = self.http.post(
            f"{self.base_url}/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": self.credentials["refresh_token"],
                "client_id": self.credentials["client_id"],
                "client_secret": self.credentials["client_secret"],
            },
            timeout=10,
        )
        response.raise_for_status()
        token: str = response.json()["access_token"]
        return token

    def send(self, method: str, path: str, body: Any = None) -> requests.Response:
        return self.http.request(
            method,
            f"{self.base_url}{path}",
            json=body,
            headers={"x-amz-access-token": self.token},
            timeout=10,
        )


class NaiveClient(Client):
    """Retries at once, whatever the failure, and resends submissions blindly."""

    user_agent = "naive-client/1.0"

    def call(self, method: str, path: str, body: Any = None) -> requests.Response | None:
        for _ in range(8):
            try:
                response = self.send(method, path, body)
            except requests.ConnectionError:
                continue
            if response.status_code not in RETRYABLE and response.status_code != 403:
                return response
        return None


class WellBehavedClient(Client):
    """Exponential backoff with jitter, waits after 429, refreshes an expired token, never blindly resends a
    submission whose outcome is unknown (it reconciles instead)."""

    user_agent = "well-behaved-client/1.0"
    base = 0.06

    def __init__(self, base_url: str, credentials: dict[str, Any]) -> None:
        super().__init__(base_url, credentials)
        self.random = random.Random(3)
        self.unknown_outcomes: list[Any] = []

    def wait(self, attempt: int, throttled: bool) -> None:
        delay = self.base * 2**attempt
        delay = delay * (1 + self.random.random() / 2)  # jitter, never below the exponential floor
        time.sleep(delay * (2 if throttled else 1))

    def call(self, method: str, path: str, body: Any = None) -> requests.Response | None:
        for attempt in range(5):
            try:
                response = self.send(method, path, body)
            except requests.ConnectionError:
                if method == "POST":
                    self.unknown_outcomes.append(body)  # reconcile later, never resend blindly
                    return None
                self.wait(attempt, False)
                continue
            if response.status_code == 403 and "expired" in response.text:
                self.token = self.refresh()
                continue
            if response.status_code in RETRYABLE:
                self.wait(attempt, response.status_code == 429)
                continue
            return response
        return None


def exercise(client: Client) -> None:
    client.call("POST", ACKNOWLEDGEMENTS, ACKNOWLEDGEMENT)  # type: ignore[attr-defined]
    client.call("GET", PURCHASE_ORDERS)  # type: ignore[attr-defined]


def run_on_plan(vendor_sandbox: Any, client_class: type[Client]) -> Chaos:
    chaos = Chaos(vendor_sandbox.base_url)
    chaos.clear()
    chaos.apply(PLAN)
    client = client_class(vendor_sandbox.base_url, vendor_sandbox.credentials("acme-na"))
    exercise(client)
    client.http.close()
    return chaos


def test_a_naive_client_fails_the_verdict(vendor_sandbox: Any) -> None:
    with run_on_plan(vendor_sandbox, NaiveClient) as chaos:
        verdict = chaos.verdict()
    assert not verdict.passed
    failed = set(verdict.failed_checks(user_agent="naive-client"))
    assert {"min_backoff", "token_refreshed", "no_duplicate_submissions"} <= failed
    client = verdict.client(user_agent="naive-client")
    duplicates = next(check for check in client["checks"] if check["name"] == "no_duplicate_submissions")
    assert "accepted acknowledgements:purchaseOrderNumber=4Z32PABC 2 times" in duplicates["detail"]
    evidence = next(call for call in client["evidence"] if call["method"] == "GET")
    assert [attempt["status"] for attempt in evidence["attempts"]][:4] == [429, 429, 503, 403]
    assert min(evidence["waits"]) < 0.05  # retried at once
    with pytest.raises(VerdictFailed):
        verdict.assert_passed()
    verdict.assert_failed("min_backoff")


def test_a_well_behaved_client_passes_the_same_plan(vendor_sandbox: Any) -> None:
    with run_on_plan(vendor_sandbox, WellBehavedClient) as chaos:
        verdict = chaos.verdict()
    verdict.assert_passed()
    client = verdict.client(user_agent="well-behaved-client")
    assert client["observations"]["exponential"] is True
    evidence = next(call for call in client["evidence"] if call["method"] == "GET")
    assert [attempt["status"] for attempt in evidence["attempts"]] == [429, 429, 503, 403, 200]
    waits = evidence["waits"]
    assert waits[0] >= 0.1 and waits[1] > waits[0] and waits[2] >= 0.2  # backoff, longer after 429
    at = [attempt["at"] for attempt in evidence["attempts"]]
    assert at == sorted(at)


@pytest.mark.chaos(plan=PLAN)
def test_the_chaos_fixture_applies_a_plan_and_judges_the_test(chaos: Chaos, vendor_sandbox: Any) -> None:
    assert {rule["id"] for rule in chaos.rules()} >= {"throttled", "lost-answer"}
    client = NaiveClient(vendor_sandbox.base_url, vendor_sandbox.credentials("acme-na"))
    exercise(client)
    client.http.close()
    chaos.verdict().assert_failed("min_backoff", "no_duplicate_submissions")
    # The same exchanges, judged by a lenient policy, pass the checks it relaxes.
    lenient = chaos.verdict(min_backoff=0, no_duplicate_submissions=False)
    assert "min_backoff" not in lenient.failed_checks()


def test_report_retries_command_prints_the_verdict_and_writes_junit(
    vendor_sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_on_plan(vendor_sandbox, NaiveClient).close()
    junit = tmp_path / "retries.xml"
    status = main(["report", "retries", "--url", vendor_sandbox.base_url, "--junit", str(junit)])
    assert status == 1
    out = capsys.readouterr().out
    assert "retry verdict: FAIL" in out
    assert "naive-client/1.0" in out
    xml = junit.read_text(encoding="utf-8")
    assert '<testsuite name="vendor-sandbox retries"' in xml
    assert '<testcase classname="demo-integration.naive-client/1.0" name="min_backoff">' in xml
    assert "<failure" in xml
    lenient = main(
        [
            "report",
            "retries",
            "--url",
            vendor_sandbox.base_url,
            "--min-backoff",
            "0",
            "--max-attempts",
            "100",
            "--growth-factor",
            "0",
            "--allow-duplicates",
            "--json",
        ]
    )
    assert lenient == 1  # the expired token used again still fails
    assert '"token_refreshed"' in capsys.readouterr().out


def test_report_retries_over_http_in_three_formats(vendor_sandbox: Any) -> None:
    run_on_plan(vendor_sandbox, WellBehavedClient).close()
    url = f"{vendor_sandbox.base_url}/_sandbox/report/retries"
    assert requests.get(url, timeout=10).json()["passed"] is True
    assert "retry verdict: PASS" in requests.get(url, params={"format": "text"}, timeout=10).text
    assert "<testsuite" in requests.get(url, params={"format": "junit"}, timeout=10).text
    bad = requests.get(url, params={"max_attempts": "many"}, timeout=10)
    assert bad.status_code == 400
    unknown = requests.get(url, params={"colour": "red"}, timeout=10)
    assert unknown.status_code == 400
