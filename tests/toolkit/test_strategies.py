"""The public Hypothesis strategies: what they generate keeps (or, on purpose, breaks) the contracts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.testing import strategies
from mockserver.testing.strategies import (
    accepted_quantities,
    body_violation,
    operation,
    request_bodies,
    response_violation,
    responses,
    retail_documents,
)

RETAIL_ORDERS = "vendor/orders/v1"
FAST = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@FAST
@given(request_bodies("submitAcknowledgement", api=RETAIL_ORDERS))
def test_valid_request_bodies_pass_the_contract(body: Any) -> None:
    assert body_violation(operation("submitAcknowledgement", RETAIL_ORDERS), body) is None


@FAST
@given(request_bodies("submitAcknowledgement", valid=False, api=RETAIL_ORDERS))
def test_invalid_request_bodies_fail_the_contract(body: Any) -> None:
    assert body_violation(operation("submitAcknowledgement", RETAIL_ORDERS), body) is not None


@FAST
@given(responses("getPurchaseOrders"))
def test_valid_responses_pass_the_contract(body: Any) -> None:
    assert response_violation(operation("getPurchaseOrders"), body) is None
    assert isinstance(body["payload"]["orders"], list)


@FAST
@given(responses("getPurchaseOrders", valid=False))
def test_invalid_responses_fail_the_contract(body: Any) -> None:
    assert response_violation(operation("getPurchaseOrders"), body) is not None


def test_an_operation_id_in_several_apis_needs_the_api() -> None:
    with pytest.raises(KeyError, match="several APIs"):
        operation("getOrders")
    assert operation("getOrders", api="vendor/directFulfillment/orders/2021-12-28").method == "GET"


@FAST
@given(retail_documents())
def test_retail_documents_keep_the_contracts_and_each_other(documents: tuple[dict[str, Any], ...]) -> None:
    order, acknowledgement, shipment, invoice = documents
    read = operation("getPurchaseOrder")
    assert response_violation(read, {"payload": order}) is None
    assert (
        body_violation(
            operation("submitAcknowledgement", RETAIL_ORDERS), {"acknowledgements": [acknowledgement]}
        )
        is None
    )
    assert (
        body_violation(operation("SubmitShipmentConfirmations"), {"shipmentConfirmations": [shipment]})
        is None
    )
    assert body_violation(operation("submitInvoices"), {"invoices": [invoice]}) is None

    number = order["purchaseOrderNumber"]
    assert acknowledgement["purchaseOrderNumber"] == number
    assert acknowledgement["sellingParty"] == order["orderDetails"]["sellingParty"]
    for ordered, acknowledged in zip(order["orderDetails"]["items"], acknowledgement["items"], strict=True):
        total = sum(part["acknowledgedQuantity"]["amount"] for part in acknowledged["itemAcknowledgements"])
        assert total == ordered["orderedQuantity"]["amount"]
    accepted = accepted_quantities(acknowledgement)
    shipped = {
        line["itemSequenceNumber"]: line["shippedQuantity"]["amount"] for line in shipment["shippedItems"]
    }
    assert shipped == {sequence: amount for sequence, amount in accepted.items() if amount}
    costs = {
        item["itemSequenceNumber"]: Decimal(item["netCost"]["amount"])
        for item in order["orderDetails"]["items"]
    }
    expected_total = sum(costs[sequence] * amount for sequence, amount in shipped.items())
    assert Decimal(invoice["invoiceTotal"]["amount"]) == expected_total
    assert {line["purchaseOrderNumber"] for line in invoice["items"]} <= {number}
    assert order["orderDetails"]["purchaseOrderDate"] < shipment["shippedDate"] < invoice["date"]


def test_strategies_are_documented_in_the_module() -> None:
    assert strategies.__doc__ is not None
    for name in strategies.__all__:
        assert getattr(strategies, name).__doc__, name


@FAST
@given(st.data())
def test_domain_strategies_compose_with_a_given_order(data: st.DataObject) -> None:
    order = data.draw(strategies.purchase_orders(vendor_codes=("NWDE1",), currency="EUR", max_items=2))
    invoice = data.draw(strategies.invoices(order))
    assert invoice["remitToParty"] == {"partyId": "NWDE1"}
    assert invoice["invoiceTotal"]["currencyCode"] == "EUR"
    assert len(invoice["items"]) == len(order["orderDetails"]["items"]) <= 2
