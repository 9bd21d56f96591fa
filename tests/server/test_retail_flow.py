"""The order-to-cash flow over HTTP: acknowledge, ship (ASN), receive over time, invoice, PO Closed; shipments
and labels; restart persistence; isolation of accounts; read-only refusal; reset to the seeded state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.redis_support import STORE_KINDS, store_location
from tests.server.retail_support import (
    ACK,
    ASN,
    INVOICES,
    LABELS,
    ORDERS,
    PROCESSING_DELAY,
    SHIPMENTS,
    acknowledgement,
    get,
    invoice,
    new_purchase_order,
    post,
    retail_emulator,
    shipment_confirmation,
    submit,
    wait_for_transaction,
)


@pytest.fixture(scope="module", params=STORE_KINDS)
def retail(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningEmulator]:
    """The flow on every store kind: one behavioural suite for memory, SQLite and Redis."""
    yield from retail_emulator(tmp_path_factory, "retail-flow", 60, store_location(request.param))


def _status(retail: RunningEmulator, session: requests.Session, number: str) -> dict[str, Any]:
    response = get(retail, session, f"{ORDERS}/purchaseOrdersStatus", purchaseOrderNumber=number)
    (status,) = response.json()["payload"]["ordersStatus"]
    return dict(status)


def _advance(retail: RunningEmulator, seconds: float) -> None:
    requests.post(f"{retail.base_url}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=10)


def test_order_to_cash_closes_the_purchase_order(retail: RunningEmulator) -> None:
    session = retail.session()
    order = new_purchase_order(retail, session)
    number = order["purchaseOrderNumber"]
    response = post(retail, session, ACK, acknowledgement(order))
    assert response.status_code == 202
    transaction_id = response.json()["payload"]["transactionId"]
    first = get(retail, session, f"/vendor/transactions/v1/transactions/{transaction_id}").json()
    assert first["payload"]["transactionStatus"]["status"] in ("Processing", "Success")
    assert wait_for_transaction(retail, session, transaction_id)["status"] == "Success"
    acknowledged = get(retail, session, f"{ORDERS}/purchaseOrders/{number}").json()["payload"]
    assert acknowledged["purchaseOrderState"] == "Acknowledged"
    status = _status(retail, session, number)
    assert {i["acknowledgementStatus"]["confirmationStatus"] for i in status["itemStatus"]} == {"ACCEPTED"}

    assert submit(retail, session, ASN, shipment_confirmation(order, f"ASN-{number}"))["status"] == "Success"
    _advance(retail, 400 * 86400)  # the warehouse receives at the estimated delivery date
    status = _status(retail, session, number)
    assert {i["receivingStatus"]["receiveStatus"] for i in status["itemStatus"]} == {"RECEIVED"}
    assert status["purchaseOrderStatus"] == "OPEN"
    shipments = get(retail, session, SHIPMENTS, vendorShipmentIdentifier=f"ASN-{number}").json()["payload"]
    assert shipments["shipments"][0]["transportationDetails"]["shipmentDeliveryDate"]

    assert submit(retail, session, INVOICES, invoice(order, f"INV-{number}"))["status"] == "Success"
    assert _status(retail, session, number)["purchaseOrderStatus"] == "CLOSED"
    closed = get(retail, session, f"{ORDERS}/purchaseOrders/{number}").json()["payload"]
    assert closed["purchaseOrderState"] == "Closed"


def test_partial_acknowledgement_and_rejection(retail: RunningEmulator) -> None:
    session = retail.session()
    order = new_purchase_order(retail, session)
    body = acknowledgement(order, code="Rejected")
    body["acknowledgements"][0]["items"][0]["itemAcknowledgements"][0]["rejectionReason"] = "ObsoleteProduct"
    assert submit(retail, session, ACK, body)["status"] == "Success"
    status = _status(retail, session, order["purchaseOrderNumber"])
    assert {i["acknowledgementStatus"]["confirmationStatus"] for i in status["itemStatus"]} == {"REJECTED"}
    assert status["purchaseOrderStatus"] == "CLOSED"  # nothing left to ship: closed


def test_submit_shipments_progress_over_time_and_get_labels(retail: RunningEmulator) -> None:
    session = retail.session()
    order = new_purchase_order(retail, session)
    assert submit(retail, session, ACK, acknowledgement(order))["status"] == "Success"
    details = order["orderDetails"]
    item = details["items"][0]
    shipment = {
        "shipments": [
            {
                "vendorShipmentIdentifier": f"SHP-{order['purchaseOrderNumber']}",
                "transactionType": "New",
                "transactionDate": "2026-01-01T00:00:00Z",
                "buyerReferenceNumber": "BRN-1",
                "sellingParty": {"partyId": details["sellingParty"]["partyId"]},
                "shipFromParty": {"partyId": "WH-07"},
                "shipToParty": {"partyId": details["shipToParty"]["partyId"]},
                "purchaseOrders": [
                    {
                        "purchaseOrderNumber": order["purchaseOrderNumber"],
                        "items": [
                            {
                                "itemSequenceNumber": "1",
                                "buyerProductIdentifier": item["amazonProductIdentifier"],
                                "shippedQuantity": {"amount": 1, "unitOfMeasure": "Eaches"},
                            }
                        ],
                    }
                ],
            }
        ]
    }
    assert submit(retail, session, SHIPMENTS, shipment)["status"] == "Success"
    identifier = shipment["shipments"][0]["vendorShipmentIdentifier"]
    listed = get(retail, session, SHIPMENTS, vendorShipmentIdentifier=identifier).json()["payload"][
        "shipments"
    ]
    assert listed[0]["currentShipmentStatus"] == "Created"
    assert (
        get(retail, session, LABELS, vendorShipmentIdentifier=identifier).json()["payload"]["transportLabels"]
        == []
    )
    _advance(retail, 3 * 3600)
    listed = get(retail, session, SHIPMENTS, vendorShipmentIdentifier=identifier).json()["payload"][
        "shipments"
    ]
    assert listed[0]["currentShipmentStatus"] == "CarrierAssigned"
    labels = get(retail, session, LABELS, vendorShipmentIdentifier=identifier).json()["payload"][
        "transportLabels"
    ]
    assert labels[0]["labelData"][0]["labelFormat"] == "PDF"
    page = get(retail, session, SHIPMENTS, limit=1).json()["payload"]
    assert len(page["shipments"]) == 1
    cancel = {"shipments": [{**shipment["shipments"][0], "transactionType": "Cancel"}]}
    assert submit(retail, session, SHIPMENTS, cancel)["status"] == "Success"
    listed = get(retail, session, SHIPMENTS, vendorShipmentIdentifier=identifier).json()["payload"][
        "shipments"
    ]
    assert listed[0]["transactionType"] == "Cancel"


def test_another_accounts_transaction_is_not_found(retail: RunningEmulator) -> None:
    session = retail.session()
    response = post(retail, session, ACK, acknowledgement(new_purchase_order(retail, session)))
    transaction_id = response.json()["payload"]["transactionId"]
    foreign = get(
        retail, retail.session("nordwind-eu"), f"/vendor/transactions/v1/transactions/{transaction_id}"
    )
    assert foreign.status_code == 404
    assert foreign.json()["errors"][0]["code"] == "NotFound"


def test_a_read_only_account_reads_but_every_submission_is_refused(retail: RunningEmulator) -> None:
    session = retail.session("globex-readonly")
    order = new_purchase_order(retail, session)
    for path, body in ((ACK, acknowledgement(order)), (INVOICES, invoice(order, "RO-1"))):
        response = post(retail, session, path, body)
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "Unauthorized"
    again = get(retail, session, f"{ORDERS}/purchaseOrders/{order['purchaseOrderNumber']}").json()["payload"]
    assert again["purchaseOrderState"] == "New"


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_reset_restores_the_seeded_state(tmp_path: Path, kind: str) -> None:
    running = start_emulator(
        data_dir=tmp_path,
        store=store_location(kind),
        rate_scale=1000.0,
        processing_delay=PROCESSING_DELAY,
        seed_size=30,
    )
    try:
        session = running.session()
        order = new_purchase_order(running, session)
        number = order["purchaseOrderNumber"]
        transaction_id = post(running, session, ACK, acknowledgement(order)).json()["payload"][
            "transactionId"
        ]
        assert wait_for_transaction(running, session, transaction_id)["status"] == "Success"
        assert requests.post(f"{running.base_url}/_sandbox/reset", timeout=30).status_code == 200
        assert get(running, session, f"{ORDERS}/purchaseOrders/{number}").json()["payload"] == order
        missing = get(running, session, f"/vendor/transactions/v1/transactions/{transaction_id}")
        assert missing.status_code == 404
    finally:
        running.stop()


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_restart_loses_nothing_that_was_answered_202(tmp_path: Path, kind: str) -> None:
    settings: dict[str, Any] = {
        "data_dir": tmp_path,
        "store": store_location(kind),
        "rate_scale": 1000.0,
        "processing_delay": 0.5,
        "seed_size": 30,
    }
    running = start_emulator(**settings)
    try:
        session = running.session()
        order = new_purchase_order(running, session)
        response = post(running, session, ACK, acknowledgement(order))
        assert response.status_code == 202
        transaction_id = response.json()["payload"]["transactionId"]
    finally:
        running.stop()  # before the transaction was decided
    restarted = start_emulator(**settings)
    try:
        session = restarted.session()
        assert wait_for_transaction(restarted, session, transaction_id)["status"] == "Success"
        number = order["purchaseOrderNumber"]
        state = get(restarted, session, f"{ORDERS}/purchaseOrders/{number}").json()["payload"][
            "purchaseOrderState"
        ]
        assert state == "Acknowledged"
    finally:
        restarted.stop()
