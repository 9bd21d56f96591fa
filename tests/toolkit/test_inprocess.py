"""In-process mode: requests and httpx calls to Amazon's hosts answered without a socket, like moto."""

from __future__ import annotations

import asyncio
import gzip
import socket
from typing import Any

import httpx
import pytest
import requests

from mockserver.testing import mock_sp_api
from mockserver.testing.inprocess import active_mock, is_amazon_host

NA = "https://sellingpartnerapi-na.amazon.com"
EU = "https://sellingpartnerapi-eu.amazon.com"


def _token(credentials: dict[str, Any], lwa_host: str = "api.amazon.com") -> str:
    response = requests.post(
        f"https://{lwa_host}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": credentials["refresh_token"],
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        },
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.mark.parametrize(
    ("host", "amazon"),
    [
        ("api.amazon.com", True),
        ("api.amazon.co.uk", True),
        ("api.amazon.co.jp", True),
        ("sellingpartnerapi-na.amazon.com", True),
        ("sellingpartnerapi-eu.amazon.com", True),
        ("sellingpartnerapi-fe.amazon.com", True),
        ("sandbox.sellingpartnerapi-na.amazon.com", True),
        ("sellingpartnerapi-na.amazon.com:443", True),
        ("example.com", False),
        ("evil-sellingpartnerapi-na.amazon.com", False),
        ("127.0.0.1:8000", False),
    ],
)
def test_only_amazons_hosts_are_intercepted(host: str, amazon: bool) -> None:
    assert is_amazon_host(host) is amazon


def test_requests_calls_to_amazon_never_open_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a socket was opened")

    with mock_sp_api() as sandbox:
        monkeypatch.setattr(socket, "create_connection", no_network)
        token = _token(sandbox.credentials())
        response = requests.get(
            f"{NA}/vendor/orders/v1/purchaseOrders",
            params={"limit": 2},
            headers={"x-amz-access-token": token},
            timeout=5,
        )
    assert response.status_code == 200
    assert response.headers["x-amzn-RateLimit-Limit"] == "10.0"
    assert response.json()["payload"]["orders"]
    assert response.headers["x-amzn-RequestId"]


def test_httpx_sync_and_async_clients_are_served_in_process() -> None:
    with mock_sp_api() as sandbox:
        token = _token(sandbox.credentials())
        with httpx.Client() as client:
            sync = client.get(
                f"{NA}/vendor/orders/v1/purchaseOrders",
                params={"limit": 1},
                headers={"x-amz-access-token": token},
            )

        number = sync.json()["payload"]["orders"][0]["purchaseOrderNumber"]

        async def call() -> httpx.Response:
            async with httpx.AsyncClient() as client:
                return await client.get(
                    f"{NA}/vendor/orders/v1/purchaseOrders/{number}", headers={"x-amz-access-token": token}
                )

        asynchronous = asyncio.run(call())
        journal = sandbox.journal()
    assert sync.status_code == 200 and sync.json()["payload"]["orders"]
    assert asynchronous.status_code == 200
    operations = [entry["operation_id"] for entry in journal if entry["operation_id"]]
    assert operations == ["getPurchaseOrders", "getPurchaseOrder"]


def test_region_rules_apply_by_host_as_on_amazon() -> None:
    """A token of an NA account is refused on the EU host: the Host header reaches the emulator."""
    with mock_sp_api() as sandbox:
        token = _token(sandbox.credentials("acme-na"))
        eu = requests.get(
            f"{EU}/vendor/orders/v1/purchaseOrders", headers={"x-amz-access-token": token}, timeout=5
        )
    assert eu.status_code == 403
    assert eu.json()["errors"][0]["code"] == "Unauthorized"


def test_other_hosts_are_not_intercepted(emulator: Any) -> None:
    with mock_sp_api() as sandbox:
        served = requests.get(f"{emulator.base_url}/_sandbox/health", timeout=5)
        assert sandbox.journal() == []
    assert served.status_code == 200


def test_decorator_gives_each_call_a_fresh_emulator() -> None:
    seen: list[int] = []

    @mock_sp_api(rate_limits=False)
    def client_code() -> None:
        token = _token(active_mock().credentials())
        for _ in range(30):  # beyond getPurchaseOrders' burst of 10: usage plans are off
            response = requests.get(
                f"{NA}/vendor/orders/v1/purchaseOrders",
                params={"limit": 1},
                headers={"x-amz-access-token": token},
                timeout=5,
            )
            assert response.status_code == 200
        seen.append(len(active_mock().journal()))

    client_code()
    client_code()
    assert seen == [30, 30]  # the same 30 calls in each fresh emulator


def test_python_amazon_sp_api_runs_unchanged() -> None:
    from sp_api.api import VendorOrders
    from sp_api.base import Marketplaces

    with mock_sp_api() as sandbox:
        account = sandbox.credentials()
        credentials = {
            "refresh_token": account["refresh_token"],
            "lwa_app_id": account["client_id"],
            "lwa_client_secret": account["client_secret"],
        }
        orders = VendorOrders(credentials=credentials, marketplace=Marketplaces.US).get_purchase_orders(
            limit=5, createdAfter="2024-01-01T00:00:00Z"
        )
        journal = sandbox.journal()
    assert orders.payload["orders"]
    assert [entry["operation_id"] for entry in journal] == ["getPurchaseOrders"]


def test_mock_is_removed_after_the_block() -> None:
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send
    original_httpx = httpx.HTTPTransport.handle_request
    with mock_sp_api(), mock_sp_api():
        assert HTTPAdapter.send is not original
    assert HTTPAdapter.send is original
    assert httpx.HTTPTransport.handle_request is original_httpx


def test_report_documents_are_served_in_process_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The document URL is on Amazon's host in-process (the request's own), so it never leaves the process."""

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a socket was opened")

    with mock_sp_api(report_processing_time=0) as sandbox:
        monkeypatch.setattr(socket, "create_connection", no_network)
        headers = {"x-amz-access-token": _token(sandbox.credentials())}
        created = requests.post(
            f"{NA}/reports/2021-06-30/reports",
            json={
                "reportType": "GET_VENDOR_FORECASTING_REPORT",
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "reportOptions": {"sellingProgram": "RETAIL"},
            },
            headers=headers,
            timeout=5,
        )
        report = requests.get(
            f"{NA}/reports/2021-06-30/reports/{created.json()['reportId']}", headers=headers, timeout=5
        )
        document_id = report.json()["reportDocumentId"]
        details = requests.get(
            f"{NA}/reports/2021-06-30/documents/{document_id}", headers=headers, timeout=5
        ).json()
        download = requests.get(details["url"], timeout=5)
    assert details["url"].startswith(f"{NA}/_documents/")
    assert download.status_code == 200
    assert b"forecastByAsin" in gzip.decompress(download.content)
