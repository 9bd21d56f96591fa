"""Every Direct Fulfillment business rule, broken once through HTTP: the submission is answered 202 and its
transaction ends Failure naming that rule (or, for the synchronous operations, the call answers 400), and
nothing of the broken submission is applied."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.domain.direct_fulfillment.rules import RULES
from mockserver.domain.direct_fulfillment.seeding import cancel_by_amazon
from mockserver.testing.server import RunningEmulator
from tests.server.df_support import (
    INVOICES,
    SCENARIOS,
    V1,
    V2021,
    VERSIONS,
    Flow,
    acknowledgement,
    acknowledgements_path,
    df_emulator,
    inventory_path,
    invoice,
    list_orders,
    rules_of,
    sandbox_now,
    shipping_path,
    stamp,
)

RULES_DOC = Path(__file__).resolve().parents[2] / "docs" / "RULES.md"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from df_emulator(tmp_path_factory, "df-rules", seed_size=400)


@pytest.fixture(scope="module")
def flow(emulator: RunningEmulator) -> Flow:
    return Flow(emulator)


Outcome = dict[str, Any] | requests.Response
Breaker = Callable[[Flow, str], Outcome]


def _ack(flow: Flow, version: str, order: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    return flow.acknowledge(order or flow.new_order(), version, **changes)


def _other_warehouse(order: dict[str, Any]) -> str:
    warehouse = order["orderDetails"]["shipFromParty"]["partyId"]
    return warehouse[:-1] + ("2" if warehouse.endswith("1") else "1")


def _cancelled_by_amazon(flow: Flow, version: str) -> dict[str, Any]:
    order = flow.new_order()
    state = flow.emulator.sandbox.direct_fulfillment.state
    cancel_by_amazon(state, "acme-na", order["purchaseOrderNumber"], stamp(sandbox_now(flow.emulator)))
    return _ack(flow, version, order)


def _acknowledged_twice(flow: Flow, version: str) -> dict[str, Any]:
    order = flow.new_order()
    assert _ack(flow, version, order)["status"] == "Success"
    return _ack(flow, version, order, vendorOrderNumber="SECOND-ACK")


def _missing_item(flow: Flow, version: str) -> dict[str, Any]:
    return _ack(flow, version, itemAcknowledgements=[])


def _wrong_quantity(flow: Flow, version: str) -> dict[str, Any]:
    order = flow.new_order()
    body = acknowledgement(order)
    line = body["orderAcknowledgements"][0]["itemAcknowledgements"][0]
    line["acknowledgedQuantity"]["amount"] += 1
    return flow.submit(acknowledgements_path(version), body, version)


def _false_out_of_stock(flow: Flow, version: str) -> dict[str, Any]:
    order = flow.new_order()
    details = order["orderDetails"]
    plenty = {
        "inventory": {
            "sellingParty": {"partyId": details["sellingParty"]["partyId"]},
            "isFullUpdate": False,
            "items": [
                {
                    "vendorProductIdentifier": item["vendorProductIdentifier"],
                    "availableQuantity": {"amount": 500, "unitOfMeasure": "Each"},
                }
                for item in details["items"]
            ],
        }
    }
    warehouse = details["shipFromParty"]["partyId"]
    assert flow.submit(inventory_path(warehouse), plenty, V1)["status"] == "Success"
    return _ack(flow, version, order, acknowledgementStatus={"code": "03"})


def _label_for_new_order(flow: Flow, version: str) -> dict[str, Any]:
    return flow.request_label(flow.new_order(), version)


def _label_with_foreign_item(flow: Flow, version: str) -> dict[str, Any]:
    container = {
        "containerType": "carton" if version == V1 else "Carton",
        "containerIdentifier": "BOX-1",
        "weight": {"unitOfMeasure": "KG", "value": "1"},
        "packedItems": [{"itemSequenceNumber": 42, "packedQuantity": {"amount": 1, "unitOfMeasure": "Each"}}],
    }
    return flow.request_label(flow.accepted_order(), version, containers=[container])


def _container_of_unknown_packages(flow: Flow, version: str) -> requests.Response:
    order = flow.accepted_order()
    details = order["orderDetails"]
    return flow.session.post(
        flow.url(shipping_path(V2021, "containerLabel")),
        json={
            "sellingParty": {"partyId": details["sellingParty"]["partyId"]},
            "shipFromParty": {"partyId": details["shipFromParty"]["partyId"]},
            "carrierId": "SWA",
            "vendorContainerId": "PALLET-X",
            "packages": [{"packageTrackingNumber": "1Z0000000000000000"}],
        },
        timeout=10,
    )


def _ship_new_order(flow: Flow, version: str) -> dict[str, Any]:
    return flow.ship(flow.new_order(), ["VOC1"], version)


def _ship_twice(flow: Flow, version: str) -> dict[str, Any]:
    order = flow.own_carrier_order()
    return flow.ship(order, [f"VOC{order['purchaseOrderNumber']}", "AGAIN"], version)


def _ship_short(flow: Flow, version: str) -> dict[str, Any]:
    order = flow.accepted_order()
    items = [
        {
            "itemSequenceNumber": int(item["itemSequenceNumber"]),
            "shippedQuantity": {"amount": 0, "unitOfMeasure": "Each"},
        }
        for item in order["orderDetails"]["items"]
    ]
    return flow.ship(order, ["VOC2"], version, items=items)


def _ship_off_label(flow: Flow, version: str) -> dict[str, Any]:
    order, _ = flow.labelled_order()
    return flow.ship(order, ["NOT-THE-LABEL"], version)


def _ship_in_the_future(flow: Flow, version: str) -> dict[str, Any]:
    order = flow.accepted_order()
    later = stamp(sandbox_now(flow.emulator) + timedelta(days=2))
    return flow.ship(
        order, ["VOC3"], version, shipmentDetails={"shippedDate": later, "shipmentStatus": "SHIPPED"}
    )


def _status_update(order: dict[str, Any], tracking: str) -> dict[str, Any]:
    details = order["orderDetails"]
    return {
        "shipmentStatusUpdates": [
            {
                "purchaseOrderNumber": order["purchaseOrderNumber"],
                "sellingParty": {"partyId": details["sellingParty"]["partyId"]},
                "shipFromParty": {"partyId": details["shipFromParty"]["partyId"]},
                "statusUpdateDetails": {
                    "trackingNumber": tracking,
                    "statusCode": "X6",
                    "reasonCode": "NS",
                    "statusDateTime": "2024-05-03T10:00:00Z",
                    "statusLocationAddress": {"name": "Hub", "addressLine1": "1 Way", "countryCode": "US"},
                },
            }
        ]
    }


def _status_of_labelled_shipment(flow: Flow, version: str) -> dict[str, Any]:
    order, label = flow.labelled_order()
    tracking = [package["trackingNumber"] for package in label["labelData"]]
    assert flow.ship(order, tracking)["status"] == "Success"
    return flow.submit(
        shipping_path(version, "shipmentStatusUpdates"), _status_update(order, tracking[0]), version
    )


def _status_of_unknown_package(flow: Flow, version: str) -> dict[str, Any]:
    order = flow.own_carrier_order()
    return flow.submit(
        shipping_path(version, "shipmentStatusUpdates"), _status_update(order, "OTHER"), version
    )


def _invoice_number_twice(flow: Flow, version: str) -> dict[str, Any]:
    first, second = flow.own_carrier_order(), flow.own_carrier_order()
    assert flow.invoice(first, "DF-INV-TWICE")["status"] == "Success"
    return flow.invoice(second, "DF-INV-TWICE")


def _invoice_unknown_remit_to(flow: Flow, version: str) -> dict[str, Any]:
    return flow.invoice(flow.own_carrier_order(), "DF-INV-REMIT", remitToParty={"partyId": "NOT-OURS"})


def _invoice_unshipped(flow: Flow, version: str) -> dict[str, Any]:
    return flow.invoice(flow.accepted_order(), "DF-INV-UNSHIPPED")


def _invoice_changed_item(field: str, change: Callable[[dict[str, Any]], None]) -> Breaker:
    def breaker(flow: Flow, version: str) -> dict[str, Any]:
        order = flow.own_carrier_order()
        body = invoice(order, f"DF-INV-{field}")
        change(body["invoices"][0]["items"][0])
        return flow.submit(INVOICES, body, V1)

    return breaker


def _more(line: dict[str, Any]) -> None:
    line["invoicedQuantity"]["amount"] += 1


def _invoice_total(amount: str) -> Breaker:
    def breaker(flow: Flow, version: str) -> dict[str, Any]:
        order = flow.own_carrier_order()
        body = invoice(order, f"DF-INV-TOTAL-{amount}")
        body["invoices"][0]["invoiceTotal"]["amount"] = amount
        return flow.submit(INVOICES, body, V1)

    return breaker


def _inventory(items: list[dict[str, Any]]) -> Breaker:
    def breaker(flow: Flow, version: str) -> dict[str, Any]:
        body = {"inventory": {"sellingParty": {"partyId": "ACME1"}, "isFullUpdate": False, "items": items}}
        return flow.submit(inventory_path("ACME1W1"), body, V1)

    return breaker


def _scenario_for_a_foreign_warehouse(flow: Flow, version: str) -> requests.Response:
    body = {"orders": [{"sellingParty": {"partyId": "ACME1"}, "shipFromParty": {"partyId": "NWDE1W1"}}]}
    return flow.session.post(flow.url(SCENARIOS), json=body, timeout=10)


def _duplicate(flow: Flow, version: str) -> dict[str, Any]:
    body = acknowledgement(flow.new_order())
    assert flow.submit(acknowledgements_path(version), body, version)["status"] == "Success"
    return flow.submit(acknowledgements_path(version), body, version)


def _set_tax(line: dict[str, Any]) -> None:
    line["taxDetails"][0]["taxAmount"]["amount"] = "999.99"


def _set_currency(line: dict[str, Any]) -> None:
    line["netCost"]["currencyCode"] = "XXX"


def _raise_cost(line: dict[str, Any]) -> None:
    line["netCost"]["amount"] = str(float(line["netCost"]["amount"]) + 1)


def _foreign_item(line: dict[str, Any]) -> None:
    line["itemSequenceNumber"] = "42"


BREAKERS: dict[str, Breaker] = {
    "df-order-exists": lambda flow, version: flow.submit(
        acknowledgements_path(version),
        {
            "orderAcknowledgements": [
                {
                    **acknowledgement(flow.new_order())["orderAcknowledgements"][0],
                    "purchaseOrderNumber": "NOSUCH01",
                }
            ]
        },
        version,
    ),
    "df-selling-party": lambda flow, version: _ack(flow, version, sellingParty={"partyId": "NWDE1"}),
    "df-ship-from-party": lambda flow, version: (
        lambda order: _ack(flow, version, order, shipFromParty={"partyId": _other_warehouse(order)})
    )(flow.new_order()),
    "df-ack-open": _cancelled_by_amazon,
    "df-ack-once": _acknowledged_twice,
    "df-ack-known-code": lambda flow, version: _ack(flow, version, acknowledgementStatus={"code": "99"}),
    "df-ack-item-on-order": lambda flow, version: (
        lambda order: flow.submit(
            acknowledgements_path(version),
            acknowledgement(
                order,
                itemAcknowledgements=[
                    {
                        "itemSequenceNumber": "42",
                        "acknowledgedQuantity": {"amount": 1, "unitOfMeasure": "Each"},
                    }
                ],
            ),
            version,
        )
    )(flow.new_order()),
    "df-ack-all-items": _missing_item,
    "df-ack-quantity": _wrong_quantity,
    "df-ack-out-of-stock": _false_out_of_stock,
    "df-label-accepted": _label_for_new_order,
    "df-label-packed-items": _label_with_foreign_item,
    "df-container-packages": _container_of_unknown_packages,
    "df-ship-accepted": _ship_new_order,
    "df-ship-once": _ship_twice,
    "df-ship-items": _ship_short,
    "df-ship-label-tracking": _ship_off_label,
    "df-ship-date": _ship_in_the_future,
    "df-status-own-carrier": _status_of_labelled_shipment,
    "df-status-tracking": _status_of_unknown_package,
    "df-invoice-unique-number": _invoice_number_twice,
    "df-invoice-remit-to": _invoice_unknown_remit_to,
    "df-invoice-shipped": _invoice_unshipped,
    "df-invoice-item-on-order": _invoice_changed_item("item", _foreign_item),
    "df-invoice-quantity": _invoice_changed_item("quantity", _more),
    "df-invoice-currency": _invoice_changed_item("currency", _set_currency),
    "df-invoice-net-cost": _invoice_changed_item("cost", _raise_cost),
    "df-invoice-tax": _invoice_changed_item("tax", _set_tax),
    "df-invoice-not-zero": _invoice_total("0.00"),
    "df-invoice-total": _invoice_total("1.00"),
    "df-inventory-item": _inventory(
        [
            {
                "vendorProductIdentifier": "NOT-A-SKU",
                "availableQuantity": {"amount": 1, "unitOfMeasure": "Each"},
            }
        ]
    ),
    "df-inventory-quantity": _inventory(
        [
            {
                "vendorProductIdentifier": "ACME1-0001",
                "availableQuantity": {"amount": -1, "unitOfMeasure": "Each"},
            }
        ]
    ),
    "df-scenario-parties": _scenario_for_a_foreign_warehouse,
    "duplicate-submission": _duplicate,
}
# Rules of operations that exist in both versions (except createContainerLabel's): broken through each.
BOTH_VERSIONS = {
    name
    for name in BREAKERS
    if name.startswith(("df-ack", "df-label", "df-ship", "df-status", "df-order", "df-selling"))
    or name == "duplicate-submission"
}
CASES = [
    (name, version) for name in BREAKERS for version in (VERSIONS if name in BOTH_VERSIONS else (V2021,))
]


@pytest.mark.parametrize(("rule", "version"), CASES, ids=[f"{rule}-{version}" for rule, version in CASES])
def test_breaking_the_rule_fails_naming_it(flow: Flow, rule: str, version: str) -> None:
    outcome = BREAKERS[rule](flow, version)

    if isinstance(outcome, requests.Response):  # a synchronous operation: its 400
        assert outcome.status_code == 400, outcome.text
        (error,) = outcome.json()["errors"]
        assert error["code"] == "InvalidInput"
        assert error["message"] == RULES[rule].message
        assert f"rule {rule}:" in error["details"]
        return
    assert rules_of(outcome) == [rule]
    errors = outcome["errors"] if isinstance(outcome["errors"], list) else outcome["errors"]["errors"]
    assert errors[0]["code"] == RULES[rule].code
    assert errors[0]["message"] == RULES[rule].message


def test_every_rule_has_a_breaker() -> None:
    assert set(BREAKERS) == set(RULES)


def test_the_rules_table_of_the_docs_lists_exactly_these_rules() -> None:
    text = RULES_DOC.read_text(encoding="utf-8")
    section = text.split("# Direct Fulfillment business rules", 1)[1]
    rows = re.findall(r"^\| [^|`]+ \| `([a-z-]+)` \| `([A-Z_]+)` \|", section, flags=re.MULTILINE)
    assert sorted(name for name, _ in rows) == sorted(RULES)
    assert all(RULES[name].code == code for name, code in rows)


def test_a_failed_submission_applies_nothing(flow: Flow) -> None:
    good, bad = flow.new_order(), flow.new_order()
    body = acknowledgement(good)
    body["orderAcknowledgements"] += acknowledgement(bad, acknowledgementStatus={"code": "99"})[
        "orderAcknowledgements"
    ]

    status = flow.submit(acknowledgements_path(V2021), body)

    assert rules_of(status) == ["df-ack-known-code"]
    assert flow.order(good["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "NEW"


def test_a_rejected_order_is_cancelled_and_cannot_be_labelled(flow: Flow) -> None:
    order = flow.new_order()
    assert flow.acknowledge(order, acknowledgementStatus={"code": "02"})["status"] == "Success"

    assert flow.order(order["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "CANCELLED"
    assert rules_of(flow.request_label(order)) == ["df-label-accepted"]


def test_inventory_at_zero_keeps_a_sku_out_of_new_orders(emulator: RunningEmulator, flow: Flow) -> None:
    """A full update with nothing in stock: the warehouse's SKUs are all at zero, so no order for it arrives
    (orders keep arriving for the other warehouses)."""
    body = {"inventory": {"sellingParty": {"partyId": "ACME1"}, "isFullUpdate": True, "items": []}}
    assert flow.submit(inventory_path("ACME1W2"), body, V1)["status"] == "Success"
    before = sandbox_now(emulator)

    requests.post(f"{emulator.base_url}/_sandbox/clock/advance", json={"seconds": 12 * 3600}, timeout=10)
    arrived = list_orders(emulator, flow.session, createdAfter=stamp(before))

    assert len(arrived) >= 5
    assert all(order["orderDetails"]["shipFromParty"]["partyId"] != "ACME1W2" for order in arrived)
    warehouses = flow.session.get(flow.url("/_sandbox/df/warehouses/acme-na"), timeout=10).json()[
        "warehouses"
    ]
    stock = next(item["stock"] for item in warehouses if item["warehouseId"] == "ACME1W2")
    assert stock and all(entry["available"] == 0 for entry in stock.values())
