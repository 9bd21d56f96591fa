"""Token buckets per (operation, selling partner, application), with Amazon's rates and bursts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.accounts import UsagePlanOverride
from mockserver.contracts.model import Api, Operation
from mockserver.pipeline.errors import SpApiError
from mockserver.pipeline.throttle import Throttle, UsagePlan


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _operation(
    operation_id: str = "getPurchaseOrders", rate: float | None = 10.0, burst: int | None = 10
) -> Operation:
    api = Api("vendor/orders/v1", "Vendor Orders", "v1", Path("x.yaml"))
    return Operation(api, operation_id, "GET", "/vendor/orders/v1/purchaseOrders", (), None, {}, rate, burst)


def _drain(throttle: Throttle, operation: Operation, account: str = "A", application: str = "app") -> int:
    served = 0
    while True:
        try:
            throttle.take(operation, account, application)
        except SpApiError as error:
            assert error.status == 429
            assert error.code == "QuotaExceeded"
            assert error.message == "You exceeded your quota for the requested resource."
            return served
        served += 1


def test_burst_is_served_then_429_then_refill_at_the_rate() -> None:
    clock = FakeClock()
    throttle = Throttle(clock=clock)
    operation = _operation(rate=2.0, burst=5)
    assert _drain(throttle, operation) == 5
    clock.now += 1.0  # 2 requests per second refill two tokens
    assert _drain(throttle, operation) == 2
    clock.now += 100.0  # never more than the burst
    assert _drain(throttle, operation) == 5


def test_a_throttled_call_does_not_use_up_quota() -> None:
    clock = FakeClock()
    throttle = Throttle(clock=clock)
    operation = _operation(rate=1.0, burst=1)
    throttle.take(operation, "A", "app")
    for _ in range(20):
        clock.now += 0.01
        with pytest.raises(SpApiError):
            throttle.take(operation, "A", "app")
    clock.now += 0.81  # one second after the first call in all
    throttle.take(operation, "A", "app")


def test_buckets_are_per_operation_partner_and_application() -> None:
    throttle = Throttle(clock=FakeClock())
    orders = _operation(rate=1.0, burst=1)
    other = _operation("getPurchaseOrdersStatus", rate=1.0, burst=1)
    throttle.take(orders, "A", "app")
    throttle.take(orders, "B", "app")
    throttle.take(orders, "A", "other-app")
    throttle.take(other, "A", "app")
    with pytest.raises(SpApiError):
        throttle.take(orders, "A", "app")


def test_fractional_rates_such_as_reports_refill_slowly() -> None:
    clock = FakeClock()
    throttle = Throttle(clock=clock)
    operation = _operation("getReports", rate=0.0222, burst=10)
    assert _drain(throttle, operation) == 10
    clock.now += 44.0
    assert _drain(throttle, operation) == 0
    clock.now += 1.1
    assert _drain(throttle, operation) == 1
    assert throttle.plan_for(operation, "A").header == "0.0222"


def test_scale_multiplies_rate_and_burst() -> None:
    throttle = Throttle(scale=100.0, clock=FakeClock())
    assert throttle.plan_for(_operation(), "A") == UsagePlan(1000.0, 1000)


def test_disabled_throttle_never_refuses() -> None:
    throttle = Throttle(enabled=False, clock=FakeClock())
    operation = _operation(rate=1.0, burst=1)
    for _ in range(50):
        throttle.take(operation, "A", "app")


def test_operation_without_a_usage_plan_uses_the_default() -> None:
    throttle = Throttle(default_rate=3.0, default_burst=4, clock=FakeClock())
    assert throttle.plan_for(_operation(rate=None, burst=None), "A") == UsagePlan(3.0, 4)


def test_usage_plan_overrides_per_operation_and_per_account() -> None:
    throttle = Throttle(
        overrides=[
            UsagePlanOverride(operation="getPurchaseOrders", rate=20.0, burst=40),
            UsagePlanOverride(
                operation="vendor/orders/v1#getPurchaseOrders", rate=50.0, burst=60, account="A"
            ),
        ],
        clock=FakeClock(),
    )
    assert throttle.plan_for(_operation(), "A") == UsagePlan(50.0, 60)
    assert throttle.plan_for(_operation(), "B") == UsagePlan(20.0, 40)
    throttle.set_override(UsagePlanOverride(operation="getPurchaseOrders", rate=1.0, burst=1, account="B"))
    assert throttle.plan_for(_operation(), "B") == UsagePlan(1.0, 1)
