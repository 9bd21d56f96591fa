"""The pytest plugin's fixtures, used here as a user's tests use them (the plugin loads by entry point)."""

from __future__ import annotations

import pytest

from mockserver.testing.admin import AdminError
from mockserver.testing.inprocess import SpApiMock
from mockserver.testing.served import VendorSandbox

ORDERS = "/vendor/orders/v1/purchaseOrders"


def test_vendor_sandbox_serves_on_localhost_with_accounts_and_a_session(
    vendor_sandbox: VendorSandbox,
) -> None:
    assert vendor_sandbox.base_url.startswith("http://127.0.0.1:")
    assert {item["name"] for item in vendor_sandbox.accounts} >= {"acme-na", "nordwind-eu", "globex-readonly"}
    response = vendor_sandbox.session().get(ORDERS, params={"limit": 1})
    assert response.status_code == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "10.0"
    entries = vendor_sandbox.journal(operation="getPurchaseOrders")
    assert [entry["status"] for entry in entries] == [200]


def test_vendor_sandbox_is_fresh_for_each_test(vendor_sandbox: VendorSandbox) -> None:
    assert vendor_sandbox.journal() == []


def test_admin_helpers_reset_and_call_the_admin_api_generically(vendor_sandbox: VendorSandbox) -> None:
    vendor_sandbox.session().get(ORDERS)
    vendor_sandbox.reset()
    assert vendor_sandbox.journal() == []
    assert vendor_sandbox.admin.call("GET", "/_sandbox/health")["status"] == "ok"
    with pytest.raises(AdminError) as refused:
        vendor_sandbox.admin.call("POST", "/_sandbox/no-such-call")
    assert refused.value.status == 404


def test_the_read_only_account_gets_amazons_403_on_submissions(vendor_sandbox: VendorSandbox) -> None:
    response = vendor_sandbox.session("globex-readonly").post(
        "/vendor/orders/v1/acknowledgements", json={"acknowledgements": []}
    )
    assert response.status_code == 403


@pytest.mark.vendor_sandbox(strict=True)
def test_the_marker_sets_the_emulators_settings(vendor_sandbox: VendorSandbox) -> None:
    response = vendor_sandbox.session().get(ORDERS, params={"createdAfter": "2024-01-01T00:00:00"})
    assert response.status_code == 400
    report = vendor_sandbox.conformance()
    assert report["violation_count"] == 1
    vendor_sandbox.reset()  # the session-end summary sums up each test's report; this one is cleared


def test_session_scoped_variant_is_shared(vendor_sandbox_session: VendorSandbox) -> None:
    vendor_sandbox_session.session().get(ORDERS)
    assert vendor_sandbox_session.journal(operation="getPurchaseOrders")


@pytest.mark.vendor_sandbox(rate_limits=False)
def test_sp_api_mock_fixture_takes_the_marker_too(sp_api_mock: SpApiMock) -> None:
    assert sp_api_mock.sandbox.settings.rate_limits is False
    assert sp_api_mock.conformance()["calls"] == 0
