"""Every business rule of docs/RULES.md, broken once: the submission is answered 202 and its transaction ends
Failure with Amazon's error shape, naming the document and the rule."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from mockserver.domain.retail.rules import RULES
from mockserver.testing.server import RunningEmulator
from tests.server.retail_support import (
    ACK,
    ASN,
    INVOICES,
    ORDERS,
    acknowledgement,
    credit_note,
    eaches,
    get,
    invoice,
    new_purchase_order,
    retail_emulator,
    shipment_confirmation,
    submit,
)


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from retail_emulator(tmp_path_factory, "retail-rules", 200)


Breaker = Callable[[RunningEmulator, requests.Session], tuple[str, dict[str, Any]]]


def _acknowledged(retail: RunningEmulator, session: requests.Session) -> dict[str, Any]:
    order = new_purchase_order(retail, session)
    assert submit(retail, session, ACK, acknowledgement(order))["status"] == "Success"
    return order


def _first(body: dict[str, Any], key: str) -> dict[str, Any]:
    document: dict[str, Any] = body[key][0]
    return document


def ack_po_exists(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = acknowledgement(new_purchase_order(retail, session))
    _first(body, "acknowledgements")["purchaseOrderNumber"] = "NOSUCHPO"
    return ACK, body


def ack_selling_party(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = acknowledgement(new_purchase_order(retail, session))
    _first(body, "acknowledgements")["sellingParty"] = {"partyId": "NWDE1"}
    return ACK, body


def ack_po_open(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    orders = get(
        retail,
        session,
        f"{ORDERS}/purchaseOrders",
        createdAfter="2000-01-01T00:00:00Z",
        purchaseOrderState="Closed",
    ).json()["payload"]["orders"]
    return ACK, acknowledgement(orders[0])


def ack_item_on_po(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = acknowledgement(new_purchase_order(retail, session))
    item = _first(body, "acknowledgements")["items"][0]
    item["amazonProductIdentifier"] = "B0NOTONPO1"
    item["vendorProductIdentifier"] = "NOT-ON-PO"
    return ACK, body


def ack_all_items(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    order = new_purchase_order(retail, session)
    while len(order["orderDetails"]["items"]) < 2:
        order = new_purchase_order(retail, session)
    body = acknowledgement(order)
    _first(body, "acknowledgements")["items"].pop()
    return ACK, body


def ack_ordered_quantity(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = acknowledgement(new_purchase_order(retail, session))
    item = _first(body, "acknowledgements")["items"][0]
    item["orderedQuantity"] = {**item["orderedQuantity"], "amount": item["orderedQuantity"]["amount"] + 1}
    return ACK, body


def ack_quantities_add_up(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = acknowledgement(new_purchase_order(retail, session))
    item = _first(body, "acknowledgements")["items"][0]
    quantity = item["itemAcknowledgements"][0]["acknowledgedQuantity"]
    item["itemAcknowledgements"][0]["acknowledgedQuantity"] = {**quantity, "amount": quantity["amount"] + 1}
    return ACK, body


def ack_backorder_allowed(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    while True:
        order = new_purchase_order(retail, session)
        if any(not item["isBackOrderAllowed"] for item in order["orderDetails"]["items"]):
            break
    body = acknowledgement(order)
    for ack_item, item in zip(
        _first(body, "acknowledgements")["items"], order["orderDetails"]["items"], strict=True
    ):
        if not item["isBackOrderAllowed"]:
            ack_item["itemAcknowledgements"][0]["acknowledgementCode"] = "Backordered"
    return ACK, body


def asn_selling_party(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = shipment_confirmation(_acknowledged(retail, session), "ASN-SP")
    _first(body, "shipmentConfirmations")["sellingParty"] = {"partyId": "GLBX1"}
    return ASN, body


def asn_unique_shipment_id(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    order = _acknowledged(retail, session)
    first = shipment_confirmation(order, "ASN-TWICE")
    item = _first(first, "shipmentConfirmations")["shippedItems"][0]
    item["shippedQuantity"] = {"amount": 1, "unitOfMeasure": "Eaches"}
    assert submit(retail, session, ASN, first)["status"] == "Success"
    second = copy.deepcopy(first)
    _first(second, "shipmentConfirmations")["shipmentConfirmationDate"] = "2026-01-01T01:00:00Z"
    return ASN, second


def asn_replace_known(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = shipment_confirmation(_acknowledged(retail, session), "ASN-NEVER-SENT")
    _first(body, "shipmentConfirmations")["shipmentConfirmationType"] = "Replace"
    return ASN, body


def asn_po_reference(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = shipment_confirmation(_acknowledged(retail, session), "ASN-NOREF")
    del _first(body, "shipmentConfirmations")["shippedItems"][0]["itemDetails"]
    return ASN, body


def asn_po_exists(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    foreign = new_purchase_order(retail, retail.session("nordwind-eu"))
    body = shipment_confirmation(_acknowledged(retail, session), "ASN-FOREIGN")
    _first(body, "shipmentConfirmations")["pallets"] = [
        {
            "palletIdentifiers": [
                {"containerIdentificationType": "SSCC", "containerIdentificationNumber": "1"}
            ],
            "items": [
                {
                    "itemReference": "1",
                    "shippedQuantity": {"amount": 1, "unitOfMeasure": "Eaches"},
                    "itemDetails": {"purchaseOrderNumber": foreign["purchaseOrderNumber"]},
                }
            ],
        }
    ]
    return ASN, body


def asn_po_acknowledged(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    return ASN, shipment_confirmation(new_purchase_order(retail, session), "ASN-UNACKED")


def asn_item_on_po(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = shipment_confirmation(_acknowledged(retail, session), "ASN-ITEM")
    item = _first(body, "shipmentConfirmations")["shippedItems"][0]
    item["amazonProductIdentifier"], item["vendorProductIdentifier"] = "B0NOTONPO1", "NOT-ON-PO"
    return ASN, body


def asn_quantity_within_accepted(
    retail: RunningEmulator, session: requests.Session
) -> tuple[str, dict[str, Any]]:
    body = shipment_confirmation(_acknowledged(retail, session), "ASN-TOO-MANY")
    item = _first(body, "shipmentConfirmations")["shippedItems"][0]
    item["shippedQuantity"] = {**item["shippedQuantity"], "amount": item["shippedQuantity"]["amount"] + 1}
    return ASN, body


def asn_ship_to(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = shipment_confirmation(_acknowledged(retail, session), "ASN-SHIPTO")
    _first(body, "shipmentConfirmations")["shipToParty"] = {"partyId": "XXX9"}
    return ASN, body


def asn_dates_sane(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = shipment_confirmation(_acknowledged(retail, session), "ASN-DATES")
    _first(body, "shipmentConfirmations")["estimatedDeliveryDate"] = "2025-12-01T00:00:00Z"
    return ASN, body


def _invoiceable(retail: RunningEmulator, session: requests.Session) -> dict[str, Any]:
    return _acknowledged(retail, session)


def invoice_unique_number(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    order = _invoiceable(retail, session)
    first = invoice(order, "INV-TWICE")
    assert submit(retail, session, INVOICES, first)["status"] == "Success"
    second = invoice(_invoiceable(retail, session), "INV-TWICE")
    return INVOICES, second


def invoice_remit_to(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = invoice(_invoiceable(retail, session), "INV-REMIT")
    _first(body, "invoices")["remitToParty"] = {"partyId": "NWDE1"}
    return INVOICES, body


def invoice_po_exists(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = invoice(_invoiceable(retail, session), "INV-NOPO")
    _first(body, "invoices")["items"][0]["purchaseOrderNumber"] = "NOSUCHPO"
    return INVOICES, body


def invoice_item_on_po(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = invoice(_invoiceable(retail, session), "INV-ITEM")
    item = _first(body, "invoices")["items"][0]
    item["amazonProductIdentifier"], item["vendorProductIdentifier"] = "B0NOTONPO1", "NOT-ON-PO"
    return INVOICES, body


def invoice_currency(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = invoice(_invoiceable(retail, session), "INV-CURRENCY")
    item = _first(body, "invoices")["items"][0]
    item["netCost"] = {**item["netCost"], "currencyCode": "JPY"}
    return INVOICES, body


def invoice_net_cost(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    order = _invoiceable(retail, session)
    body = invoice(order, "INV-COST")
    item = _first(body, "invoices")["items"][0]
    item["netCost"] = {**item["netCost"], "amount": str(Decimal(item["netCost"]["amount"]) + Decimal("1.00"))}
    return INVOICES, body


def invoice_quantity_within_accepted(
    retail: RunningEmulator, session: requests.Session
) -> tuple[str, dict[str, Any]]:
    body = invoice(_invoiceable(retail, session), "INV-TOO-MANY")
    document = _first(body, "invoices")
    item = document["items"][0]
    item["invoicedQuantity"] = {**item["invoicedQuantity"], "amount": item["invoicedQuantity"]["amount"] + 1}
    total = Decimal(document["invoiceTotal"]["amount"]) + Decimal(item["netCost"]["amount"])
    document["invoiceTotal"] = {**document["invoiceTotal"], "amount": str(total)}
    return INVOICES, body


def invoice_total(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    return INVOICES, invoice(_invoiceable(retail, session), "INV-TOTAL", total_delta=Decimal("5.00"))


def _invoiced(retail: RunningEmulator, session: requests.Session, number: str) -> dict[str, Any]:
    order = _acknowledged(retail, session)
    assert submit(retail, session, INVOICES, invoice(order, number))["status"] == "Success"
    return order


def credit_note_reference(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    order = _invoiced(retail, session, "INV-CN-REF")
    body = credit_note(order, "CN-NOREF", 1, reference_invoice="INV-CN-REF")
    del _first(body, "invoices")["items"][0]["creditNoteDetails"]
    return INVOICES, body


def credit_note_invoice_exists(
    retail: RunningEmulator, session: requests.Session
) -> tuple[str, dict[str, Any]]:
    order = _invoiced(retail, session, "INV-CN-EXISTS")
    return INVOICES, credit_note(order, "CN-NOINVOICE", 1, reference_invoice="INV-NEVER-SENT")


def credit_note_quantity_within_invoiced(
    retail: RunningEmulator, session: requests.Session
) -> tuple[str, dict[str, Any]]:
    order = _invoiced(retail, session, "INV-CN-QTY")
    invoiced = eaches(order["orderDetails"]["items"][0]["orderedQuantity"])
    return INVOICES, credit_note(order, "CN-TOO-MANY", invoiced + 1, reference_invoice="INV-CN-QTY")


def duplicate_submission(retail: RunningEmulator, session: requests.Session) -> tuple[str, dict[str, Any]]:
    body = acknowledgement(new_purchase_order(retail, session))
    assert submit(retail, session, ACK, body)["status"] == "Success"
    return ACK, body


BREAKERS: dict[str, Breaker] = {
    "ack-po-exists": ack_po_exists,
    "ack-selling-party": ack_selling_party,
    "ack-po-open": ack_po_open,
    "ack-item-on-po": ack_item_on_po,
    "ack-all-items": ack_all_items,
    "ack-ordered-quantity": ack_ordered_quantity,
    "ack-quantities-add-up": ack_quantities_add_up,
    "ack-backorder-allowed": ack_backorder_allowed,
    "asn-selling-party": asn_selling_party,
    "asn-unique-shipment-id": asn_unique_shipment_id,
    "asn-replace-known": asn_replace_known,
    "asn-po-reference": asn_po_reference,
    "asn-po-exists": asn_po_exists,
    "asn-po-acknowledged": asn_po_acknowledged,
    "asn-item-on-po": asn_item_on_po,
    "asn-quantity-within-accepted": asn_quantity_within_accepted,
    "asn-ship-to": asn_ship_to,
    "asn-dates-sane": asn_dates_sane,
    "invoice-unique-number": invoice_unique_number,
    "invoice-remit-to": invoice_remit_to,
    "invoice-po-exists": invoice_po_exists,
    "invoice-item-on-po": invoice_item_on_po,
    "invoice-currency": invoice_currency,
    "invoice-net-cost": invoice_net_cost,
    "invoice-quantity-within-accepted": invoice_quantity_within_accepted,
    "invoice-total": invoice_total,
    "credit-note-reference": credit_note_reference,
    "credit-note-invoice-exists": credit_note_invoice_exists,
    "credit-note-quantity-within-invoiced": credit_note_quantity_within_invoiced,
    "duplicate-submission": duplicate_submission,
}


def test_every_rule_has_a_test_that_breaks_it() -> None:
    assert set(BREAKERS) == set(RULES)


@pytest.mark.parametrize("rule_name", sorted(BREAKERS))
def test_breaking_a_rule_ends_the_transaction_in_failure(retail: RunningEmulator, rule_name: str) -> None:
    session = retail.session()
    path, body = BREAKERS[rule_name](retail, session)
    status = submit(retail, session, path, body)
    assert status["status"] == "Failure", status
    rule = RULES[rule_name]
    assert any(
        error["code"] == rule.code
        and error["message"] == rule.message
        and f"rule {rule_name}:" in error["details"]
        for error in status["errors"]
    ), status["errors"]


def test_a_failed_acknowledgement_changes_nothing(retail: RunningEmulator) -> None:
    session = retail.session()
    path, body = ack_quantities_add_up(retail, session)
    assert submit(retail, session, path, body)["status"] == "Failure"
    number = body["acknowledgements"][0]["purchaseOrderNumber"]
    order = get(retail, session, f"{ORDERS}/purchaseOrders/{number}").json()["payload"]
    assert order["purchaseOrderState"] == "New"


def test_schema_violations_fail_at_once_with_400(retail: RunningEmulator) -> None:
    response = retail.session().post(
        f"{retail.base_url}{ACK}", json={"acknowledgements": [{"purchaseOrderNumber": 5}]}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_the_rules_table_of_the_docs_lists_every_rule_once() -> None:
    from pathlib import Path

    table = (Path(__file__).resolve().parents[2] / "docs" / "RULES.md").read_text(encoding="utf-8")
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    names = [row.split("`")[1] for row in rows]
    assert sorted(names) == sorted(RULES)
    for row in rows:
        rule = RULES[row.split("`")[1]]
        assert f"`{rule.code}`" in row


# Credit notes -------------------------------------------------------------------------------------------
def _broke(status: dict[str, Any], rule_name: str, detail: str = "") -> bool:
    rule = RULES[rule_name]
    return status["status"] == "Failure" and any(
        error["code"] == rule.code and f"rule {rule_name}:" in error["details"] and detail in error["details"]
        for error in status["errors"]
    )


def test_credit_notes_after_an_invoice_succeed_until_the_invoiced_quantity_is_credited(
    retail: RunningEmulator,
) -> None:
    session = retail.session()
    order = _invoiced(retail, session, "INV-CN-HAPPY")
    invoiced = eaches(order["orderDetails"]["items"][0]["orderedQuantity"])
    first = credit_note(order, "CN-HAPPY-1", 1, reference_invoice="INV-CN-HAPPY")
    assert submit(retail, session, INVOICES, first)["status"] == "Success"
    if invoiced > 1:
        rest = credit_note(order, "CN-HAPPY-2", invoiced - 1, reference_invoice="INV-CN-HAPPY")
        assert submit(retail, session, INVOICES, rest)["status"] == "Success"
    # Net of the earlier credit notes, nothing of the item is left to credit.
    again = credit_note(order, "CN-HAPPY-3", 1, reference_invoice="INV-CN-HAPPY")
    status = submit(retail, session, INVOICES, again)
    assert _broke(status, "credit-note-quantity-within-invoiced", f"credited {invoiced} + 1 eaches"), status


def test_a_credit_note_finds_its_purchase_order_through_the_referenced_invoice(
    retail: RunningEmulator,
) -> None:
    session = retail.session()
    order = _invoiced(retail, session, "INV-CN-VIA")
    body = credit_note(order, "CN-VIA", 1, reference_invoice="INV-CN-VIA", purchase_order=False)
    assert submit(retail, session, INVOICES, body)["status"] == "Success"
    stranger = credit_note(order, "CN-VIA-STRANGER", 1, reference_invoice="INV-CN-VIA", purchase_order=False)
    item = _first(stranger, "invoices")["items"][0]
    item["amazonProductIdentifier"], item["vendorProductIdentifier"] = "B0NOTONPO1", "NOT-ON-PO"
    status = submit(retail, session, INVOICES, stranger)
    assert _broke(status, "credit-note-quantity-within-invoiced", "is not on invoice INV-CN-VIA"), status


def test_the_referenced_invoice_limits_what_a_credit_note_credits(retail: RunningEmulator) -> None:
    session = retail.session()
    order = _acknowledged(retail, session)
    while eaches(order["orderDetails"]["items"][0]["orderedQuantity"]) < 2:
        order = _acknowledged(retail, session)
    item = order["orderDetails"]["items"][0]
    for number, quantity in (("INV-CN-PART-A", 1), ("INV-CN-PART-B", 1)):
        body = invoice(order, number)
        document = _first(body, "invoices")
        document["items"] = document["items"][:1]
        document["items"][0]["invoicedQuantity"] = {"amount": quantity, "unitOfMeasure": "Eaches"}
        document["invoiceTotal"]["amount"] = str(Decimal(item["netCost"]["amount"]) * quantity)
        assert submit(retail, session, INVOICES, body)["status"] == "Success"
    # Two eaches are invoiced on the PO, but only one on INV-CN-PART-A.
    body = credit_note(order, "CN-PART", 2, reference_invoice="INV-CN-PART-A")
    status = submit(retail, session, INVOICES, body)
    assert _broke(status, "credit-note-quantity-within-invoiced", "the 1 invoiced on invoice INV-CN-PART-A")
    body = credit_note(order, "CN-PART-OK", 1, reference_invoice="INV-CN-PART-A")
    assert submit(retail, session, INVOICES, body)["status"] == "Success"


def test_a_returns_credit_note_credits_only_what_was_invoiced(retail: RunningEmulator) -> None:
    session = retail.session()
    order = _acknowledged(retail, session)
    status = submit(retail, session, INVOICES, credit_note(order, "CN-RETURN", 1, reference_invoice=None))
    assert _broke(status, "credit-note-quantity-within-invoiced", "exceeds invoiced 0"), status
    assert submit(retail, session, INVOICES, invoice(order, "INV-CN-RETURN"))["status"] == "Success"
    body = credit_note(order, "CN-RETURN-AFTER-INVOICE", 1, reference_invoice=None)
    assert submit(retail, session, INVOICES, body)["status"] == "Success"


def test_a_failed_credit_note_submission_credits_nothing(retail: RunningEmulator) -> None:
    session = retail.session()
    order = _invoiced(retail, session, "INV-CN-ATOMIC")
    invoiced = eaches(order["orderDetails"]["items"][0]["orderedQuantity"])
    valid = credit_note(order, "CN-ATOMIC", invoiced, reference_invoice="INV-CN-ATOMIC")
    broken = credit_note(order, "CN-ATOMIC-BAD", 1, reference_invoice="INV-NEVER-SENT")
    both = {"invoices": valid["invoices"] + broken["invoices"]}
    assert _broke(submit(retail, session, INVOICES, both), "credit-note-invoice-exists")
    assert submit(retail, session, INVOICES, valid)["status"] == "Success"


def _break_credit_note(rule_name: str, body: dict[str, Any]) -> None:
    document = _first(body, "invoices")
    item = document["items"][0]
    if rule_name == "invoice-unique-number":
        document["id"] = "INV-CN-RULES-" + item["purchaseOrderNumber"]
    elif rule_name == "invoice-remit-to":
        document["remitToParty"] = {"partyId": "NWDE1"}
    elif rule_name == "invoice-po-exists":
        item["purchaseOrderNumber"] = "NOSUCHPO"
    elif rule_name == "invoice-item-on-po":
        item["amazonProductIdentifier"], item["vendorProductIdentifier"] = "B0NOTONPO1", "NOT-ON-PO"
    elif rule_name == "invoice-currency":
        item["netCost"] = {**item["netCost"], "currencyCode": "JPY"}
    elif rule_name == "invoice-net-cost":
        cost = Decimal(item["netCost"]["amount"]) + Decimal("1.00")
        item["netCost"] = {**item["netCost"], "amount": str(cost)}
        document["invoiceTotal"] = {**document["invoiceTotal"], "amount": str(cost)}
    else:
        amount = Decimal(document["invoiceTotal"]["amount"]) + Decimal("5.00")
        document["invoiceTotal"] = {**document["invoiceTotal"], "amount": str(amount)}


@pytest.mark.parametrize(
    "rule_name",
    [
        "invoice-unique-number",
        "invoice-remit-to",
        "invoice-po-exists",
        "invoice-item-on-po",
        "invoice-currency",
        "invoice-net-cost",
        "invoice-total",
    ],
)
def test_credit_notes_answer_to_the_invoice_rules(retail: RunningEmulator, rule_name: str) -> None:
    session = retail.session()
    order = _acknowledged(retail, session)
    number = "INV-CN-RULES-" + order["purchaseOrderNumber"]
    assert submit(retail, session, INVOICES, invoice(order, number))["status"] == "Success"
    body = credit_note(order, "CN-RULES-" + order["purchaseOrderNumber"], 1, reference_invoice=number)
    _break_credit_note(rule_name, body)
    status = submit(retail, session, INVOICES, body)
    assert _broke(status, rule_name), status
