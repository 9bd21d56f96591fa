"""Helpers for the Retail Procurement tests: an emulator with short processing delays, and documents built
from a purchase order the way a vendor's system builds them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

ORDERS = "/vendor/orders/v1"
ACK = f"{ORDERS}/acknowledgements"
ASN = "/vendor/shipping/v1/shipmentConfirmations"
SHIPMENTS = "/vendor/shipping/v1/shipments"
LABELS = "/vendor/shipping/v1/transportLabels"
INVOICES = "/vendor/payments/v1/invoices"
PROCESSING_DELAY = 0.05


def retail_emulator(
    tmp_path_factory: pytest.TempPathFactory, name: str, seed_size: int, store: str = "memory"
) -> Iterator[RunningEmulator]:
    """A module's own emulator: memory store (unless told), rates scaled up, short processing delays."""
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp(name),
        store=store,
        rate_scale=1000.0,
        processing_delay=PROCESSING_DELAY,
        seed_size=seed_size,
    )
    yield running
    running.stop()


def journal_notes(emulator: RunningEmulator, response: requests.Response) -> list[str]:
    entries = emulator.sandbox.journal.query(request_id=response.headers["x-amzn-RequestId"], limit=1)
    assert entries, "no journal entry"
    return list(entries[0].notes)


def get(emulator: RunningEmulator, session: requests.Session, path: str, **params: Any) -> requests.Response:
    response = session.get(emulator.base_url + path, params=params, timeout=10)
    assert journal_notes(emulator, response) == []
    return response


def post(emulator: RunningEmulator, session: requests.Session, path: str, body: Any) -> requests.Response:
    response = session.post(emulator.base_url + path, json=body, timeout=10)
    assert journal_notes(emulator, response) == []
    return response


def wait_for_transaction(
    emulator: RunningEmulator, session: requests.Session, transaction_id: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        response = get(emulator, session, f"/vendor/transactions/v1/transactions/{transaction_id}")
        assert response.status_code == 200, response.text
        status: dict[str, Any] = response.json()["payload"]["transactionStatus"]
        if status["status"] != "Processing" or time.monotonic() > deadline:
            return status
        time.sleep(PROCESSING_DELAY)


def submit(emulator: RunningEmulator, session: requests.Session, path: str, body: Any) -> dict[str, Any]:
    response = post(emulator, session, path, body)
    assert response.status_code == 202, response.text
    return wait_for_transaction(emulator, session, response.json()["payload"]["transactionId"])


def new_purchase_order(
    emulator: RunningEmulator, session: requests.Session, **filters: Any
) -> dict[str, Any]:
    response = get(
        emulator, session, f"{ORDERS}/purchaseOrders", purchaseOrderState="New", limit=100, **filters
    )
    orders = response.json()["payload"]["orders"]
    taken = getattr(emulator, "_taken_orders", set())
    for order in orders:
        if order["purchaseOrderNumber"] not in taken and all(
            item["orderedQuantity"]["amount"] > 0 for item in order["orderDetails"]["items"]
        ):
            taken.add(order["purchaseOrderNumber"])
            emulator._taken_orders = taken  # type: ignore[attr-defined]
            return dict(order)
    raise AssertionError("no New purchase order left")


def eaches(quantity: dict[str, Any]) -> int:
    if quantity.get("unitOfMeasure") == "Cases":
        return int(quantity["amount"]) * int(quantity.get("unitSize") or 1)
    return int(quantity["amount"])


def acknowledgement(order: dict[str, Any], code: str = "Accepted", **overrides: Any) -> dict[str, Any]:
    details = order["orderDetails"]
    return {
        "acknowledgements": [
            {
                "purchaseOrderNumber": order["purchaseOrderNumber"],
                "sellingParty": {"partyId": details["sellingParty"]["partyId"]},
                "acknowledgementDate": "2026-01-01T00:00:00Z",
                "items": [
                    {
                        "itemSequenceNumber": item["itemSequenceNumber"],
                        "amazonProductIdentifier": item["amazonProductIdentifier"],
                        "vendorProductIdentifier": item["vendorProductIdentifier"],
                        "orderedQuantity": item["orderedQuantity"],
                        "netCost": item["netCost"],
                        "itemAcknowledgements": [
                            {"acknowledgementCode": code, "acknowledgedQuantity": item["orderedQuantity"]}
                        ],
                    }
                    for item in details["items"]
                ],
                **overrides,
            }
        ]
    }


def shipment_confirmation(order: dict[str, Any], identifier: str, **overrides: Any) -> dict[str, Any]:
    details = order["orderDetails"]
    return {
        "shipmentConfirmations": [
            {
                "shipmentIdentifier": identifier,
                "shipmentConfirmationType": "Original",
                "shipmentConfirmationDate": "2026-01-01T00:00:00Z",
                "shippedDate": "2026-01-01T00:00:00Z",
                "estimatedDeliveryDate": "2026-01-02T00:00:00Z",
                "sellingParty": {"partyId": details["sellingParty"]["partyId"]},
                "shipFromParty": {"partyId": "WH-01"},
                "shipToParty": {"partyId": details["shipToParty"]["partyId"]},
                "shippedItems": [
                    {
                        "itemSequenceNumber": str(index),
                        "amazonProductIdentifier": item["amazonProductIdentifier"],
                        "vendorProductIdentifier": item["vendorProductIdentifier"],
                        "shippedQuantity": {
                            "amount": eaches(item["orderedQuantity"]),
                            "unitOfMeasure": "Eaches",
                        },
                        "itemDetails": {"purchaseOrderNumber": order["purchaseOrderNumber"]},
                    }
                    for index, item in enumerate(details["items"], start=1)
                ],
                **overrides,
            }
        ]
    }


def invoice(order: dict[str, Any], number: str, total_delta: Decimal = Decimal(0)) -> dict[str, Any]:
    details = order["orderDetails"]
    currency = details["items"][0]["netCost"]["currencyCode"]
    total = sum(
        Decimal(item["netCost"]["amount"]) * eaches(item["orderedQuantity"]) for item in details["items"]
    )
    return {
        "invoices": [
            {
                "invoiceType": "Invoice",
                "id": number,
                "date": "2026-01-03T00:00:00Z",
                "remitToParty": {"partyId": details["sellingParty"]["partyId"]},
                "invoiceTotal": {"currencyCode": currency, "amount": str(total + total_delta)},
                "items": [
                    {
                        "itemSequenceNumber": index,
                        "amazonProductIdentifier": item["amazonProductIdentifier"],
                        "vendorProductIdentifier": item["vendorProductIdentifier"],
                        "invoicedQuantity": {
                            "amount": eaches(item["orderedQuantity"]),
                            "unitOfMeasure": "Eaches",
                        },
                        "netCost": item["netCost"],
                        "purchaseOrderNumber": order["purchaseOrderNumber"],
                    }
                    for index, item in enumerate(details["items"], start=1)
                ],
            }
        ]
    }


def credit_note(
    order: dict[str, Any],
    number: str,
    quantity: int,
    *,
    reference_invoice: str | None,
    item_index: int = 0,
    purchase_order: bool = True,
) -> dict[str, Any]:
    """A credit note (submitInvoices, invoiceType CreditNote) for `quantity` eaches of one item of the PO, at
    the PO's net cost. `reference_invoice` is the invoice it corrects (`referenceInvoiceNumber`); None names
    a returns notice (`returnsReferenceNumber`) instead."""
    details = order["orderDetails"]
    item = details["items"][item_index]
    credit_details = (
        {"returnsReferenceNumber": "RET-1"}
        if reference_invoice is None
        else {"referenceInvoiceNumber": reference_invoice}
    )
    line: dict[str, Any] = {
        "itemSequenceNumber": 1,
        "amazonProductIdentifier": item["amazonProductIdentifier"],
        "vendorProductIdentifier": item["vendorProductIdentifier"],
        "invoicedQuantity": {"amount": quantity, "unitOfMeasure": "Eaches"},
        "netCost": item["netCost"],
        "creditNoteDetails": credit_details,
    }
    if purchase_order:
        line["purchaseOrderNumber"] = order["purchaseOrderNumber"]
    total = Decimal(item["netCost"]["amount"]) * quantity
    return {
        "invoices": [
            {
                "invoiceType": "CreditNote",
                "id": number,
                "date": "2026-01-04T00:00:00Z",
                "remitToParty": {"partyId": details["sellingParty"]["partyId"]},
                "invoiceTotal": {"currencyCode": item["netCost"]["currencyCode"], "amount": str(total)},
                "items": [line],
            }
        ]
    }
