"""Usage plans through HTTP: a token bucket per operation, selling partner and application; Amazon's 429.

The server here runs at a fifth of Amazon's rates (rate_scale 0.2): getPurchaseOrders (10/s, burst 10) becomes
2 requests a second with a burst of 2. The buckets' clock moves only when a test advances it, so a refill
happens exactly where a test says and never because the machine was slow between two calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

RATE_SCALE = 0.2
BURST = 2  # getPurchaseOrders: burst 10 * 0.2
REFILL = 1 / 2.0  # seconds per request at 10/s * 0.2
MANY = 25  # far beyond any burst here
PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
PURCHASE_ORDERS_STATUS = "/vendor/orders/v1/purchaseOrdersStatus"
# Direct Fulfillment getOrders in both versions (restricted: called with a restricted data token).
_WINDOW = "?createdAfter=2024-01-01T00:00:00Z&createdBefore=2024-01-05T00:00:00Z"
DF_ORDER_V1 = f"/vendor/directFulfillment/orders/v1/purchaseOrders{_WINDOW}"
DF_ORDER_2021 = f"/vendor/directFulfillment/orders/2021-12-28/purchaseOrders{_WINDOW}"
PURCHASE_ORDER = "/vendor/orders/v1/purchaseOrders/4Z32PABC"
WARM_UP = (PURCHASE_ORDERS, PURCHASE_ORDERS_STATUS, PURCHASE_ORDER, DF_ORDER_V1, DF_ORDER_2021)
CALLERS = (
    ("acme-na", "demo-integration"),
    ("nordwind-eu", "demo-integration"),
    ("acme-na", "second-integration"),
)
QUOTA_EXCEEDED = {
    "errors": [
        {
            "code": "QuotaExceeded",
            "message": "You exceeded your quota for the requested resource.",
            "details": "",
        }
    ]
}


class ManualClock:
    """Monotonic seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


CLOCK = ManualClock()


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    data_dir: Path = tmp_path_factory.mktemp("throttled")
    running = start_emulator(data_dir=data_dir, store="memory", rate_scale=RATE_SCALE)
    # Buckets refill on a clock the tests move: a slow machine must not refill a bucket between two calls.
    running.sandbox.throttle.clock = CLOCK
    # Each caller's first answer of each operation, once (compiled schemas, issued tokens) before any test.
    for path in WARM_UP:
        for account, application in CALLERS:
            # The example PO belongs to acme-na: another account gets Amazon's 404, metered all the same.
            expected = 404 if path == PURCHASE_ORDER and account != "acme-na" else 200
            assert call(running, path, account, application).status_code == expected
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def full_buckets(request: pytest.FixtureRequest) -> None:
    """Every test starts with full buckets (the admin reset empties the bucket table)."""
    if "throttled" in request.fixturenames:
        emulator: RunningEmulator = request.getfixturevalue("throttled")
        assert requests.post(f"{emulator.base_url}/_sandbox/reset", timeout=10).status_code == 200


def call(
    emulator: RunningEmulator,
    path: str = PURCHASE_ORDERS,
    account: str = "acme-na",
    application: str = "demo-integration",
) -> requests.Response:
    token = emulator.token_for("GET", path, account, application)
    return requests.get(f"{emulator.base_url}{path}", headers={"x-amz-access-token": token}, timeout=10)


def spend_burst(emulator: RunningEmulator, path: str = PURCHASE_ORDERS) -> None:
    statuses = [call(emulator, path).status_code for _ in range(BURST)]
    assert statuses == [200] * BURST
    assert call(emulator, path).status_code == 429


def assert_throttled(response: requests.Response) -> None:
    assert response.status_code == 429
    assert response.headers["Content-Type"] == "application/json"
    uuid.UUID(response.headers["x-amzn-RequestId"])
    assert "x-amzn-RateLimit-Limit" not in response.headers
    assert response.json() == QUOTA_EXCEEDED


def test_burst_is_served_then_quota_exceeded(throttled: RunningEmulator) -> None:
    for _ in range(BURST):
        response = call(throttled)
        assert response.status_code == 200
        assert response.headers["x-amzn-RateLimit-Limit"] == "2.0"

    assert_throttled(call(throttled))


def test_quota_refills_at_the_plan_rate(throttled: RunningEmulator) -> None:
    spend_burst(throttled)

    CLOCK.advance(REFILL * 1.5)  # one and a half requests' worth

    assert call(throttled).status_code == 200
    assert_throttled(call(throttled))


def test_throttled_calls_spend_no_quota(throttled: RunningEmulator) -> None:
    spend_burst(throttled)
    for _ in range(10):
        assert_throttled(call(throttled))

    CLOCK.advance(REFILL * 1.5)

    # Had the ten refused calls been charged, the bucket would still be far below one request.
    assert call(throttled).status_code == 200


def test_refused_calls_spend_no_quota(throttled: RunningEmulator) -> None:
    for _ in range(BURST * 2):
        response = requests.get(f"{throttled.base_url}{PURCHASE_ORDERS}", timeout=10)
        assert response.status_code == 403

    assert [call(throttled).status_code for _ in range(BURST)] == [200] * BURST


@pytest.mark.parametrize(
    ("path", "account", "application"),
    [
        (PURCHASE_ORDERS, "nordwind-eu", "demo-integration"),
        (PURCHASE_ORDERS, "acme-na", "second-integration"),
        (PURCHASE_ORDERS_STATUS, "acme-na", "demo-integration"),
        (PURCHASE_ORDER, "acme-na", "demo-integration"),
    ],
    ids=["per-account", "per-application", "per-operation", "per-operation-same-path-prefix"],
)
def test_buckets_are_separate(throttled: RunningEmulator, path: str, account: str, application: str) -> None:
    spend_burst(throttled)

    other = [call(throttled, path, account, application).status_code for _ in range(BURST)]

    assert other == [200] * BURST
    assert_throttled(call(throttled))


def test_same_operation_id_in_two_api_versions_has_two_buckets(throttled: RunningEmulator) -> None:
    spend_burst(throttled, DF_ORDER_2021)

    assert [call(throttled, DF_ORDER_V1).status_code for _ in range(BURST)] == [200] * BURST
    assert_throttled(call(throttled, DF_ORDER_2021))


def test_token_endpoint_is_never_throttled(throttled: RunningEmulator) -> None:
    account = throttled.account("acme-na")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": account["refresh_token"],
        "client_id": account["client_id"],
        "client_secret": account["client_secret"],
    }
    statuses = [
        requests.post(f"{throttled.base_url}/auth/o2/token", data=form, timeout=10).status_code
        for _ in range(MANY)
    ]

    assert statuses == [200] * (MANY)


def test_admin_api_is_never_throttled(throttled: RunningEmulator) -> None:
    statuses = [
        requests.get(f"{throttled.base_url}/_sandbox/health", timeout=10).status_code for _ in range(MANY)
    ]

    assert statuses == [200] * (MANY)


def test_no_rate_limits_never_throttles(tmp_path: Path) -> None:
    # At a tenth of Amazon's rates the plan is 1 request a second with a burst of 1, and still never enforced.
    running = start_emulator(data_dir=tmp_path / "data", store="memory", rate_limits=False, rate_scale=0.1)
    try:
        responses = [call(running) for _ in range(30)]
    finally:
        running.stop()

    assert [response.status_code for response in responses] == [200] * 30
    assert {response.headers["x-amzn-RateLimit-Limit"] for response in responses} == {"1.0"}
