"""`python-amazon-sp-api` (pinned in the `test` extra), pointed at the emulator, runs the whole flow.

How it is pointed at the emulator: the LWA endpoint is the class attributes `scheme` and `host` of its
`AccessTokenClient` (a subclass is passed as `auth_token_client_class`); the SP-API endpoint is the client's
`endpoint` attribute, set after construction.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server.retail_support import acknowledgement, invoice, shipment_confirmation

sp_api = pytest.importorskip("sp_api")

from sp_api.api import (  # noqa: E402
    VendorInvoices,
    VendorOrders,
    VendorShipments,
    VendorTransactionStatus,
)
from sp_api.auth import AccessTokenClient  # noqa: E402
from sp_api.auth import access_token_client as token_module  # noqa: E402
from sp_api.base import Marketplaces  # noqa: E402


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("clients-sp-api"),
        store="memory",
        rate_scale=1000.0,
        processing_delay=0.05,
        seed_size=40,
    )
    token_module.cache.clear()  # tokens of another emulator instance are unknown to this one
    yield running
    for client in _OPENED:  # the clients' httpx connections, closed so that no socket is left open
        client._transport._client.close()
        client._auth._transport._client.close()
    _OPENED.clear()
    gc.collect()  # any socket left open surfaces here, in this module, not in a later test
    running.stop()
    token_module.cache.clear()


_OPENED: list[Any] = []
_TRANSACTIONS: dict[str, Any] = {}


def _client(retail: RunningEmulator, api: type[Any], account: str = "acme-na") -> Any:
    details = retail.account(account)
    lwa = type("EmulatorLwa", (AccessTokenClient,), {"scheme": "http://", "host": retail.base_url[7:]})
    client = api(
        Marketplaces.US,
        credentials={
            "refresh_token": details["refresh_token"],
            "lwa_app_id": details["client_id"],
            "lwa_client_secret": details["client_secret"],
        },
        auth_token_client_class=lwa,
    )
    client.endpoint = retail.base_url
    _OPENED.append(client)
    return client


def _wait(retail: RunningEmulator, transaction_id: str) -> dict[str, Any]:
    transactions = _TRANSACTIONS.get(retail.base_url) or _client(retail, VendorTransactionStatus)
    _TRANSACTIONS[retail.base_url] = transactions
    for _ in range(100):
        status: dict[str, Any] = transactions.get_transaction(transaction_id).payload["transactionStatus"]
        if status["status"] != "Processing":
            return status
        time.sleep(0.05)
    raise AssertionError("still Processing")


def test_the_whole_flow_with_python_amazon_sp_api(retail: RunningEmulator) -> None:
    orders_api = _client(retail, VendorOrders)
    orders: list[dict[str, Any]] = []
    response = orders_api.get_purchase_orders(purchaseOrderState="New", limit=10)
    while True:
        orders += response.payload["orders"]
        if not response.next_token:
            break
        response = orders_api.get_purchase_orders(nextToken=response.next_token)
    numbers = [order["purchaseOrderNumber"] for order in orders]
    assert len(numbers) >= 20 and len(numbers) == len(set(numbers))
    order = next(o for o in orders if all(i["orderedQuantity"]["amount"] for i in o["orderDetails"]["items"]))
    number = order["purchaseOrderNumber"]
    assert orders_api.get_purchase_order(number).payload == order

    submitted = orders_api.submit_acknowledgement(**acknowledgement(order))
    assert _wait(retail, submitted.payload["transactionId"])["status"] == "Success"

    shipments_api = _client(retail, VendorShipments)
    submitted = shipments_api.submit_shipment_confirmations(**shipment_confirmation(order, f"ASN-{number}"))
    assert _wait(retail, submitted.payload["transactionId"])["status"] == "Success"

    invoices_api = _client(retail, VendorInvoices)
    submitted = invoices_api.submit_invoices(invoice(order, f"INV-{number}"))
    assert _wait(retail, submitted.payload["transactionId"])["status"] == "Success"

    again = invoices_api.submit_invoices(invoice(order, f"INV-{number}-2"))
    failure = _wait(retail, again.payload["transactionId"])
    assert failure["status"] == "Failure"
    assert failure["errors"][0]["code"] == "INVOICED_QUANTITY_EXCEEDS_ACCEPTED"
    assert "rule invoice-quantity-within-accepted" in failure["errors"][0]["details"]
