"""`python-amazon-sp-api` drives the whole Direct Fulfillment flow against the emulator, in both API versions:
sandbox scenario -> orders read with a restricted data token -> acknowledge -> label -> confirm -> invoice,
every transaction Success; a rule breaker ends in Failure, and a plain LWA token is refused personal data.

The client takes an RDT as `restricted_data_token=` (from `Tokens().create_restricted_data_token`); every
other call goes with the LWA access token of its `AccessTokenClient` (pointed at the emulator as in
test_python_amazon_sp_api.py).
"""

from __future__ import annotations

import base64
import gc
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server.df_support import acknowledgement, invoice, label_request, shipment_confirmation

sp_api = pytest.importorskip("sp_api")

from sp_api.api import (  # noqa: E402
    Tokens,
    VendorDirectFulfillmentOrders,
    VendorDirectFulfillmentPayments,
    VendorDirectFulfillmentSandboxTestData,
    VendorDirectFulfillmentShipping,
    VendorDirectFulfillmentTransactions,
)
from sp_api.auth import AccessTokenClient  # noqa: E402
from sp_api.auth import access_token_client as token_module  # noqa: E402
from sp_api.base import Marketplaces, SellingApiForbiddenException  # noqa: E402

RESTRICTED = [
    {"method": "GET", "path": "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"},
    {
        "method": "GET",
        "path": "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders/{purchaseOrderNumber}",
    },
    {"method": "GET", "path": "/vendor/directFulfillment/orders/v1/purchaseOrders/{purchaseOrderNumber}"},
    {
        "method": "GET",
        "path": "/vendor/directFulfillment/shipping/2021-12-28/shippingLabels/{purchaseOrderNumber}",
    },
]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("clients-df-sp-api"),
        store="memory",
        rate_scale=1000.0,
        processing_delay=0.05,
        seed_size=40,
    )
    token_module.cache.clear()  # tokens of another emulator instance are unknown to this one
    yield running
    for client in _OPENED:
        client._transport._client.close()
        client._auth._transport._client.close()
    _OPENED.clear()
    gc.collect()
    running.stop()
    token_module.cache.clear()


_OPENED: list[Any] = []


def _client(emulator: RunningEmulator, api: type[Any], **options: Any) -> Any:
    details = emulator.account("acme-na")
    lwa = type("EmulatorLwa", (AccessTokenClient,), {"scheme": "http://", "host": emulator.base_url[7:]})
    client = api(
        Marketplaces.US,
        credentials={
            "refresh_token": details["refresh_token"],
            "lwa_app_id": details["client_id"],
            "lwa_client_secret": details["client_secret"],
        },
        auth_token_client_class=lwa,
        **options,
    )
    client.endpoint = emulator.base_url
    _OPENED.append(client)
    return client


def _wait(emulator: RunningEmulator, transaction_id: str, version: str = "2021-12-28") -> dict[str, Any]:
    transactions = _client(emulator, VendorDirectFulfillmentTransactions, version=version)
    for _ in range(100):
        status: dict[str, Any] = transactions.get_transaction_status(transaction_id).payload[
            "transactionStatus"
        ]
        if status["status"] != "Processing":
            return status
        time.sleep(0.05)
    raise AssertionError("still Processing")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_whole_direct_fulfillment_flow_with_python_amazon_sp_api(emulator: RunningEmulator) -> None:
    # Test data, as from Amazon's dynamic sandbox.
    sandbox = _client(emulator, VendorDirectFulfillmentSandboxTestData)
    party = {"sellingParty": {"partyId": "ACME1"}, "shipFromParty": {"partyId": "ACME1W1"}}
    transaction_id = sandbox.generate_order_scenarios(orders=[party]).payload["transactionId"]
    for _ in range(100):
        scenario = sandbox.get_order_scenarios(transaction_id).payload["transactionStatus"]
        if scenario["status"] != "PROCESSING":
            break
        time.sleep(0.05)
    assert scenario["status"] == "SUCCESS"
    numbers = [order["orderId"] for order in scenario["testCaseData"]["scenarios"][0]["orders"]]
    assert len(numbers) == 2

    # The orders, with a restricted data token (a plain access token is refused).
    rdt = (
        _client(emulator, Tokens)
        .create_restricted_data_token(restrictedResources=RESTRICTED)
        .payload["restrictedDataToken"]
    )
    orders_api = _client(
        emulator, VendorDirectFulfillmentOrders, version="2021-12-28", restricted_data_token=rdt
    )
    now = emulator.sandbox.clock.now()
    window = {
        "createdAfter": _stamp(now - timedelta(hours=1)),
        "createdBefore": _stamp(now + timedelta(minutes=1)),
    }
    listed: list[dict[str, Any]] = []
    response = orders_api.get_orders(**window, status="NEW", limit=1)
    while True:
        listed += response.payload["orders"]
        if not response.next_token:
            break
        response = orders_api.get_orders(**window, status="NEW", limit=1, nextToken=response.next_token)
    assert set(numbers) <= {order["purchaseOrderNumber"] for order in listed}
    order = orders_api.get_order(numbers[0]).payload
    assert order["orderDetails"]["orderStatus"] == "NEW"
    v1_order = _client(
        emulator, VendorDirectFulfillmentOrders, version="v1", restricted_data_token=rdt
    ).get_order(numbers[0])
    assert "orderStatus" not in v1_order.payload["orderDetails"]
    with pytest.raises(SellingApiForbiddenException):
        _client(emulator, VendorDirectFulfillmentOrders, version="2021-12-28").get_order(numbers[0])

    # Acknowledge (v1 here: the same order in either version).
    acknowledging = _client(emulator, VendorDirectFulfillmentOrders, version="v1")
    submitted = acknowledging.submit_acknowledgement(**acknowledgement(order))
    assert _wait(emulator, submitted.payload["transactionId"], "v1")["status"] == "Success"

    # A label from Amazon, served with the RDT: a PNG for warehouse ACME1W1.
    shipping = _client(emulator, VendorDirectFulfillmentShipping, version="2021-12-28")
    submitted = shipping.submit_shipping_label_request(**label_request(order))
    assert _wait(emulator, submitted.payload["transactionId"])["status"] == "Success"
    labels = _client(
        emulator, VendorDirectFulfillmentShipping, version="2021-12-28", restricted_data_token=rdt
    )
    label = labels.get_shipping_label(numbers[0]).payload
    assert label["labelFormat"] == "PNG"
    assert base64.b64decode(label["labelData"][0]["content"]).startswith(b"\x89PNG\r\n\x1a\n")
    tracking = [package["trackingNumber"] for package in label["labelData"]]

    # Ship on the label, invoice.
    confirmation = shipment_confirmation(order, tracking, now)
    submitted = shipping.submit_shipment_confirmations(**confirmation)
    assert _wait(emulator, submitted.payload["transactionId"])["status"] == "Success"
    payments = _client(emulator, VendorDirectFulfillmentPayments)
    submitted = payments.submit_invoice(**invoice(order, f"DF-{numbers[0]}"))
    assert _wait(emulator, submitted.payload["transactionId"])["status"] == "Success"
    assert orders_api.get_order(numbers[0]).payload["orderDetails"]["orderStatus"] == "SHIPPED"

    # A rule broken: the same order invoiced again.
    again = payments.submit_invoice(**invoice(order, f"DF-{numbers[0]}-2"))
    failure = _wait(emulator, again.payload["transactionId"])
    assert failure["status"] == "Failure"
    (error,) = failure["errors"]["errors"]
    assert error["code"] == "INVOICED_QUANTITY_EXCEEDS_SHIPPED"
    assert "rule df-invoice-quantity" in error["details"]
    # ... and a label for an order nobody accepted.
    other = orders_api.get_order(numbers[1]).payload
    refused = shipping.submit_shipping_label_request(**label_request(other))
    assert (
        _wait(emulator, refused.payload["transactionId"])["errors"]["errors"][0]["code"]
        == "ORDER_NOT_ACCEPTED"
    )
