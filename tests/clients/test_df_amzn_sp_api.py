"""Amazon's SDK `amzn-sp-api` drives the whole Direct Fulfillment flow (2021-12-28, the version it ships):
scenario -> orders read with a restricted data token -> acknowledge -> label -> confirm -> invoice, every
transaction Success; a rule breaker ends in Failure.

The SDK sends whatever its configuration's `access_token_cache` answers as `x-amz-access-token` (it overwrites
any header a call passes), so an RDT goes through an `ApiClient` whose cache answers the RDT. The SDK (1.13.0)
has no Sandbox Test Data API: the scenario is generated with plain `requests`, as any HTTP client would.
"""

from __future__ import annotations

import base64
import gc
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server.df_support import acknowledgement, invoice, label_request, shipment_confirmation

spapi = pytest.importorskip("spapi")

from spapi import (  # noqa: E402
    ApiClient,
    Configuration,
    TokensApi,
    VendorDfOrdersApi,
    VendorDfTransactionApi,
    VendorInvoiceApi,
    VendorShippingApi,
    VendorShippingLabelsApi,
)
from spapi.auth.credentials import SPAPIConfig  # noqa: E402
from spapi.client import SPAPIClient  # noqa: E402
from spapi.rest import ApiException  # noqa: E402

ORDERS = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
LABELS = "/vendor/directFulfillment/shipping/2021-12-28/shippingLabels"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("clients-df-amzn-sp-api"),
        store="memory",
        rate_scale=1000.0,
        processing_delay=0.05,
        seed_size=40,
    )
    yield running
    running.stop()


class RestrictedDataTokenCache:
    """What the SDK asks for its access token: here, a restricted data token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_lwa_access_token(self) -> str:
        return self.token


@pytest.fixture(scope="module")
def clients(emulator: RunningEmulator) -> Iterator[tuple[Any, Any]]:
    details = emulator.account("acme-na")
    config = SPAPIConfig(
        client_id=details["client_id"],
        client_secret=details["client_secret"],
        refresh_token=details["refresh_token"],
        region="NA",
    )
    sdk = SPAPIClient(config, oauth_endpoint=f"{emulator.base_url}/auth/o2/token", endpoint=emulator.base_url)
    resources = [
        {"method": "GET", "path": ORDERS},
        {"method": "GET", "path": f"{ORDERS}/{{purchaseOrderNumber}}"},
        {"method": "GET", "path": f"{LABELS}/{{purchaseOrderNumber}}"},
    ]
    rdt = TokensApi(sdk.api_client).create_restricted_data_token({"restrictedResources": resources})
    configuration = Configuration()
    configuration.host = emulator.base_url
    configuration.access_token_cache = RestrictedDataTokenCache(rdt.restricted_data_token)
    restricted = ApiClient(configuration=configuration)
    yield sdk.api_client, restricted
    for client in (sdk.api_client, restricted):
        client.rest_client.pool_manager.clear()
    gc.collect()  # any socket left open surfaces here, in this module, not in a later test


def _wait(client: Any, transaction_id: str) -> dict[str, Any]:
    api = VendorDfTransactionApi(client)
    for _ in range(100):
        status: dict[str, Any] = client.sanitize_for_serialization(
            api.get_transaction_status(transaction_id).transaction_status
        )
        if status["status"] != "Processing":
            return status
        time.sleep(0.05)
    raise AssertionError("still Processing")


def _scenario_orders(emulator: RunningEmulator, token: str) -> list[str]:
    headers = {"x-amz-access-token": token}
    body = {"orders": [{"sellingParty": {"partyId": "ACMEC"}, "shipFromParty": {"partyId": "ACMECW2"}}]}
    sandbox = f"{emulator.base_url}/vendor/directFulfillment/sandbox/2021-10-28"
    transaction_id = requests.post(f"{sandbox}/orders", json=body, headers=headers, timeout=10).json()[
        "transactionId"
    ]
    for _ in range(100):
        status = requests.get(f"{sandbox}/transactions/{transaction_id}", headers=headers, timeout=10).json()
        if status["transactionStatus"]["status"] == "SUCCESS":
            return [
                order["orderId"]
                for order in status["transactionStatus"]["testCaseData"]["scenarios"][0]["orders"]
            ]
        time.sleep(0.05)
    raise AssertionError("scenario still PROCESSING")


def test_the_whole_direct_fulfillment_flow_with_amazons_sdk(
    emulator: RunningEmulator, clients: tuple[Any, Any]
) -> None:
    client, restricted = clients
    numbers = _scenario_orders(emulator, emulator.access_token())

    orders_api = VendorDfOrdersApi(restricted)
    now = emulator.sandbox.clock.now()
    listed = orders_api.get_orders(
        now - timedelta(hours=1), now + timedelta(minutes=1), status="NEW", limit=100
    )
    assert set(numbers) <= {order.purchase_order_number for order in listed.orders}
    order = restricted.sanitize_for_serialization(orders_api.get_order(numbers[0]))
    assert order["orderDetails"]["orderStatus"] == "NEW"
    with pytest.raises(ApiException) as refused:
        VendorDfOrdersApi(client).get_order(numbers[0])  # the LWA access token: no personal data
    assert refused.value.status == 403

    submitted = VendorDfOrdersApi(client).submit_acknowledgement(acknowledgement(order))
    assert _wait(client, submitted.transaction_id)["status"] == "Success"

    submitted = VendorShippingLabelsApi(client).submit_shipping_label_request(label_request(order))
    assert _wait(client, submitted.transaction_id)["status"] == "Success"
    label = VendorShippingLabelsApi(restricted).get_shipping_label(numbers[0])
    assert label.label_format == "ZPL"  # warehouse ACMECW2 prints ZPL
    zpl = base64.b64decode(label.label_data[0].content).decode()
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ")
    assert label.label_data[0].tracking_number in zpl

    tracking = [package.tracking_number for package in label.label_data]
    submitted = VendorShippingApi(client).submit_shipment_confirmations(
        shipment_confirmation(order, tracking, now)
    )
    assert _wait(client, submitted.transaction_id)["status"] == "Success"

    payments = VendorInvoiceApi(client)
    wrong_total = invoice(order, f"SDK-{numbers[0]}-WRONG")
    wrong_total["invoices"][0]["invoiceTotal"]["amount"] = "0.01"
    failure = _wait(client, payments.submit_invoice(wrong_total).payload.transaction_id)
    assert failure["status"] == "Failure"
    assert [error["code"] for error in failure["errors"]["errors"]] == ["INVOICE_TOTAL_MISMATCH"]

    submitted = payments.submit_invoice(invoice(order, f"SDK-{numbers[0]}"))
    assert _wait(client, submitted.payload.transaction_id)["status"] == "Success"
    assert (
        restricted.sanitize_for_serialization(orders_api.get_order(numbers[0]))["orderDetails"]["orderStatus"]
        == "SHIPPED"
    )
