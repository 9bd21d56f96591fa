"""Amazon's SDK `amzn-sp-api` (pinned in the `test` extra), pointed at the emulator, runs the whole flow.

How it is pointed at the emulator: `SPAPIClient(config, oauth_endpoint=..., endpoint=...)` takes the LWA token
URL and the SP-API endpoint; each API class takes the client's `api_client`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server.retail_support import acknowledgement, invoice, shipment_confirmation

spapi = pytest.importorskip("spapi")

from spapi import (  # noqa: E402
    VendorOrdersApi,
    VendorPaymentsApi,
    VendorShipmentApi,
    VendorTransactionApi,
)
from spapi.auth.credentials import SPAPIConfig  # noqa: E402
from spapi.client import SPAPIClient  # noqa: E402


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("clients-amzn-sp-api"),
        store="memory",
        rate_scale=1000.0,
        processing_delay=0.05,
        seed_size=40,
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(retail: RunningEmulator) -> Iterator[Any]:
    details = retail.account("acme-na")
    config = SPAPIConfig(
        client_id=details["client_id"],
        client_secret=details["client_secret"],
        refresh_token=details["refresh_token"],
        region="NA",
    )
    sdk = SPAPIClient(config, oauth_endpoint=f"{retail.base_url}/auth/o2/token", endpoint=retail.base_url)
    yield sdk.api_client
    sdk.api_client.rest_client.pool_manager.clear()
    gc.collect()  # any socket left open surfaces here, in this module, not in a later test


def _wait(client: Any, transaction_id: str) -> dict[str, Any]:
    api = VendorTransactionApi(client)
    for _ in range(100):
        status = api.get_transaction(transaction_id).payload.transaction_status.to_dict()
        if status["status"] != "Processing":
            return dict(status)
        time.sleep(0.05)
    raise AssertionError("still Processing")


def test_the_whole_flow_with_amazons_sdk(client: Any) -> None:
    orders_api = VendorOrdersApi(client)
    orders: list[dict[str, Any]] = []
    response = orders_api.get_purchase_orders(purchase_order_state="New", limit=10)
    while True:
        orders += [order.to_dict() for order in response.payload.orders]
        token = response.payload.pagination.next_token if response.payload.pagination else None
        if not token:
            break
        response = orders_api.get_purchase_orders(next_token=token)
    numbers = [order["purchase_order_number"] for order in orders]
    assert len(numbers) >= 20 and len(numbers) == len(set(numbers))
    number = next(
        o["purchase_order_number"]
        for o in orders
        if all(i["ordered_quantity"]["amount"] > 0 for i in o["order_details"]["items"])
    )
    # The documents are sent as the JSON a vendor's system builds (the SDK serialises dicts as they are).
    order = client.sanitize_for_serialization(orders_api.get_purchase_order(number).payload)
    assert order["purchaseOrderNumber"] == number

    submitted = orders_api.submit_acknowledgement(acknowledgement(order))
    assert _wait(client, submitted.payload.transaction_id)["status"] == "Success"

    shipping = VendorShipmentApi(client)
    submitted = shipping.submit_shipment_confirmations(shipment_confirmation(order, f"ASN-{number}"))
    assert _wait(client, submitted.payload.transaction_id)["status"] == "Success"

    payments = VendorPaymentsApi(client)
    submitted = payments.submit_invoices(invoice(order, f"INV-{number}"))
    assert _wait(client, submitted.payload.transaction_id)["status"] == "Success"

    duplicate = payments.submit_invoices(invoice(order, f"INV-{number}"))
    failure = _wait(client, duplicate.payload.transaction_id)
    assert failure["status"] == "Failure"
    assert failure["errors"][0]["code"] == "DUPLICATE_TRANSACTION"
