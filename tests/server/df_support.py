"""Helpers for the Direct Fulfillment tests: an emulator with short processing delays, the DF paths of both
versions, and documents built from a DF order the way a vendor's system builds them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

V1 = "v1"
V2021 = "2021-12-28"
VERSIONS = (V1, V2021)
PROCESSING_DELAY = 0.05
TOKEN_HEADER = "x-amz-access-token"


def orders_path(version: str) -> str:
    return f"/vendor/directFulfillment/orders/{version}/purchaseOrders"


def acknowledgements_path(version: str) -> str:
    return f"/vendor/directFulfillment/orders/{version}/acknowledgements"


def shipping_path(version: str, what: str) -> str:
    return f"/vendor/directFulfillment/shipping/{version}/{what}"


def transaction_path(version: str, transaction_id: str) -> str:
    return f"/vendor/directFulfillment/transactions/{version}/transactions/{transaction_id}"


INVOICES = "/vendor/directFulfillment/payments/v1/invoices"
SCENARIOS = "/vendor/directFulfillment/sandbox/2021-10-28/orders"
SCENARIO_TRANSACTIONS = "/vendor/directFulfillment/sandbox/2021-10-28/transactions"


def inventory_path(warehouse: str) -> str:
    return f"/vendor/directFulfillment/inventory/v1/warehouses/{warehouse}/items"


def df_emulator(
    tmp_path_factory: pytest.TempPathFactory, name: str, seed_size: int = 200, **settings: Any
) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp(name),
        store=settings.pop("store", "memory"),
        rate_scale=1000.0,
        processing_delay=PROCESSING_DELAY,
        seed_size=seed_size,
        **settings,
    )
    yield running
    running.stop()


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sandbox_now(emulator: RunningEmulator) -> datetime:
    return emulator.sandbox.clock.now()


def window(emulator: RunningEmulator, days: float = 7) -> dict[str, str]:
    """The last `days` of the sandbox clock (and a minute ahead, for orders arriving now)."""
    now = sandbox_now(emulator)
    return {
        "createdAfter": stamp(now - timedelta(days=days) + timedelta(minutes=1)),
        "createdBefore": stamp(now + timedelta(minutes=1)),
    }


def payload(response: requests.Response, version: str) -> Any:
    body = response.json()
    return body["payload"] if version == V1 else body


def list_orders(
    emulator: RunningEmulator, session: requests.Session, version: str = V2021, **params: Any
) -> list[dict[str, Any]]:
    query = {**window(emulator), "limit": 100, **params}
    response = session.get(emulator.base_url + orders_path(version), params=query, timeout=10)
    assert response.status_code == 200, response.text
    orders: list[dict[str, Any]] = payload(response, version)["orders"]
    return orders


def generate_orders(
    emulator: RunningEmulator, session: requests.Session, account: str, entries: int = 10
) -> list[str]:
    """New orders from the sandbox test data API (two per entry), for the account's first warehouse."""
    warehouse = requests.get(f"{emulator.base_url}/_sandbox/df/warehouses/{account}", timeout=10).json()[
        "warehouses"
    ][0]
    entry = {
        "sellingParty": {"partyId": warehouse["vendorCode"]},
        "shipFromParty": {"partyId": warehouse["warehouseId"]},
    }
    response = session.post(emulator.base_url + SCENARIOS, json={"orders": [entry] * entries}, timeout=10)
    assert response.status_code == 202, response.text
    transaction_id = response.json()["transactionId"]
    deadline = time.monotonic() + 5
    while True:
        status = session.get(f"{emulator.base_url}{SCENARIO_TRANSACTIONS}/{transaction_id}", timeout=10)
        assert status.status_code == 200, status.text
        transaction = status.json()["transactionStatus"]
        if transaction["status"] == "SUCCESS":
            return [
                order["orderId"]
                for scenario in transaction["testCaseData"]["scenarios"]
                for order in scenario["orders"]
            ]
        assert transaction["status"] == "PROCESSING" and time.monotonic() < deadline, transaction
        time.sleep(PROCESSING_DELAY)


def new_order(
    emulator: RunningEmulator, session: requests.Session, account: str = "acme-na"
) -> dict[str, Any]:
    """A NEW order (2021-12-28 shape) nobody acknowledged yet, distinct from those handed out before; the
    sandbox test data API makes more when the world has none left."""
    used: set[str] = emulator.__dict__.setdefault(f"_df_orders_handed_out_{account}", set())
    for attempt in range(2):
        for order in list_orders(emulator, session, status="NEW"):
            if order["purchaseOrderNumber"] not in used:
                used.add(order["purchaseOrderNumber"])
                return order
        if attempt == 0:
            generate_orders(emulator, session, account)
    raise AssertionError("no NEW order left")


def wait_for_transaction(
    emulator: RunningEmulator, session: requests.Session, transaction_id: str, version: str = V2021
) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        response = session.get(emulator.base_url + transaction_path(version, transaction_id), timeout=10)
        assert response.status_code == 200, response.text
        status: dict[str, Any] = payload(response, version)["transactionStatus"]
        if status["status"] != "Processing" or time.monotonic() > deadline:
            return status
        time.sleep(PROCESSING_DELAY)


def submit(
    emulator: RunningEmulator, session: requests.Session, path: str, body: Any, version: str = V2021
) -> dict[str, Any]:
    response = session.post(emulator.base_url + path, json=body, timeout=10)
    assert response.status_code == 202, response.text
    transaction_id = payload(response, V1 if "/v1/" in path else V2021)["transactionId"]
    return wait_for_transaction(emulator, session, transaction_id, version)


def errors_of(status: dict[str, Any]) -> list[dict[str, str]]:
    """A Failure's errors, whichever version's shape (v1: a list, 2021-12-28: {"errors": [...]})."""
    assert status["status"] == "Failure", status
    errors = status["errors"]
    return list(errors["errors"] if isinstance(errors, dict) else errors)


def rules_of(status: dict[str, Any]) -> list[str]:
    return [error["details"].split(": rule ", 1)[1].split(":", 1)[0] for error in errors_of(status)]


# Documents built from an order ------------------------------------------------------------------------------


def parties(order: dict[str, Any]) -> dict[str, Any]:
    details = order["orderDetails"]
    return {
        "sellingParty": {"partyId": details["sellingParty"]["partyId"]},
        "shipFromParty": {"partyId": details["shipFromParty"]["partyId"]},
    }


def acknowledgement(order: dict[str, Any], code: str = "00", **changes: Any) -> dict[str, Any]:
    document = {
        "purchaseOrderNumber": order["purchaseOrderNumber"],
        "vendorOrderNumber": f"V-{order['purchaseOrderNumber']}",
        "acknowledgementDate": "2024-05-01T10:00:00Z",
        "acknowledgementStatus": {"code": code},
        **parties(order),
        "itemAcknowledgements": [
            {
                "itemSequenceNumber": item["itemSequenceNumber"],
                "buyerProductIdentifier": item["buyerProductIdentifier"],
                "vendorProductIdentifier": item["vendorProductIdentifier"],
                "acknowledgedQuantity": dict(item["orderedQuantity"]),
            }
            for item in order["orderDetails"]["items"]
        ],
    }
    document.update(changes)
    return {"orderAcknowledgements": [document]}


def label_request(order: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {
        "shippingLabelRequests": [
            {"purchaseOrderNumber": order["purchaseOrderNumber"], **parties(order), **changes}
        ]
    }


def shipment_confirmation(
    order: dict[str, Any],
    tracking_numbers: list[str],
    shipped: datetime,
    version: str = V2021,
    **changes: Any,
) -> dict[str, Any]:
    items = order["orderDetails"]["items"]
    document = {
        "purchaseOrderNumber": order["purchaseOrderNumber"],
        "shipmentDetails": {"shippedDate": stamp(shipped), "shipmentStatus": "SHIPPED"},
        **parties(order),
        "items": [
            {
                "itemSequenceNumber": int(item["itemSequenceNumber"]),
                "vendorProductIdentifier": item["vendorProductIdentifier"],
                "shippedQuantity": dict(item["orderedQuantity"]),
            }
            for item in items
        ],
        "containers": [
            {
                "containerType": "carton" if version == V1 else "Carton",
                "containerIdentifier": f"BOX-{index + 1}",
                "trackingNumber": tracking,
                "shipMethod": order["orderDetails"]["shipmentDetails"]["shipMethod"],
                "weight": {"unitOfMeasure": "KG", "value": "1.5"},
                "packedItems": [
                    {
                        "itemSequenceNumber": int(item["itemSequenceNumber"]),
                        "packedQuantity": dict(item["orderedQuantity"]),
                    }
                    for item in items
                ]
                if index == 0
                else [],
            }
            for index, tracking in enumerate(tracking_numbers)
        ],
    }
    document.update(changes)
    return {"shipmentConfirmations": [document]}


def invoice(order: dict[str, Any], number: str, **changes: Any) -> dict[str, Any]:
    """An invoice of the whole order: net prices, the order's taxes, the total they make."""
    details = order["orderDetails"]
    items = []
    total = Decimal(0)
    currency = details["items"][0]["netPrice"]["currencyCode"]
    for item in details["items"]:
        quantity = item["orderedQuantity"]["amount"]
        taxes = item["taxDetails"]["taxLineItem"]
        tax = sum(Decimal(line["taxAmount"]["amount"]) for line in taxes)
        total += Decimal(item["netPrice"]["amount"]) * quantity + tax
        items.append(
            {
                "itemSequenceNumber": item["itemSequenceNumber"],
                "vendorProductIdentifier": item["vendorProductIdentifier"],
                "invoicedQuantity": {"amount": quantity, "unitOfMeasure": "Each"},
                "netCost": dict(item["netPrice"]),
                "purchaseOrderNumber": order["purchaseOrderNumber"],
                "taxDetails": [
                    {"taxType": "VAT", "taxAmount": {"currencyCode": currency, "amount": str(tax)}}
                ],
            }
        )
    document = {
        "invoiceNumber": number,
        "invoiceDate": "2024-05-02T10:00:00Z",
        "remitToParty": {"partyId": details["sellingParty"]["partyId"]},
        "shipFromParty": {"partyId": details["shipFromParty"]["partyId"]},
        "invoiceTotal": {"currencyCode": currency, "amount": str(total.quantize(Decimal("0.01")))},
        "items": items,
    }
    document.update(changes)
    return {"invoices": [document]}


class Flow:
    """One account's DF life cycle through HTTP, a step at a time (both versions)."""

    def __init__(self, emulator: RunningEmulator, account: str = "acme-na") -> None:
        self.emulator = emulator
        self.account = account
        self.session = emulator.session(account)

    def url(self, path: str) -> str:
        return self.emulator.base_url + path

    def new_order(self) -> dict[str, Any]:
        return new_order(self.emulator, self.session, self.account)

    def order(self, number: str, version: str = V2021) -> dict[str, Any]:
        response = self.session.get(self.url(f"{orders_path(version)}/{number}"), timeout=10)
        assert response.status_code == 200, response.text
        order: dict[str, Any] = payload(response, version)
        return order

    def submit(self, path: str, body: Any, version: str = V2021) -> dict[str, Any]:
        return submit(self.emulator, self.session, path, body, version)

    def acknowledge(self, order: dict[str, Any], version: str = V2021, **changes: Any) -> dict[str, Any]:
        return self.submit(acknowledgements_path(version), acknowledgement(order, **changes), version)

    def accepted_order(self) -> dict[str, Any]:
        order = self.new_order()
        assert self.acknowledge(order)["status"] == "Success"
        return order

    def request_label(self, order: dict[str, Any], version: str = V2021, **changes: Any) -> dict[str, Any]:
        return self.submit(shipping_path(version, "shippingLabels"), label_request(order, **changes), version)

    def label(self, order: dict[str, Any], version: str = V2021) -> dict[str, Any]:
        number = order["purchaseOrderNumber"]
        response = self.session.get(self.url(shipping_path(version, f"shippingLabels/{number}")), timeout=10)
        assert response.status_code == 200, response.text
        label: dict[str, Any] = payload(response, version)
        return label

    def labelled_order(self) -> tuple[dict[str, Any], dict[str, Any]]:
        order = self.accepted_order()
        assert self.request_label(order)["status"] == "Success"
        return order, self.label(order)

    def ship(
        self, order: dict[str, Any], tracking: list[str], version: str = V2021, **changes: Any
    ) -> dict[str, Any]:
        body = shipment_confirmation(order, tracking, sandbox_now(self.emulator), version, **changes)
        return self.submit(shipping_path(version, "shipmentConfirmations"), body, version)

    def own_carrier_order(self) -> dict[str, Any]:
        """An order shipped with the vendor's own carrier, on tracking number VOC-<PO number>."""
        order = self.accepted_order()
        assert self.ship(order, [f"VOC{order['purchaseOrderNumber']}"])["status"] == "Success"
        return order

    def shipped_order(self) -> dict[str, Any]:
        order, label = self.labelled_order()
        tracking = [package["trackingNumber"] for package in label["labelData"]]
        assert self.ship(order, tracking)["status"] == "Success"
        return order

    def invoice(self, order: dict[str, Any], number: str, **changes: Any) -> dict[str, Any]:
        return self.submit(INVOICES, invoice(order, number, **changes), V1)
