"""Reports follow the world they are made from: shipping a Direct Fulfillment order adds exactly its units to
the day it shipped in the sales report, and receiving a shipment confirmation adds its units to the day it was
received in the inventory report; nothing else of the day moves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator
from tests.server import df_support, retail_support
from tests.server.reports_support import period_request, reports_emulator, run_report


@pytest.fixture
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    for running in reports_emulator(tmp_path_factory, "report-consistency", seed_size=80):
        requests.post(f"{running.base_url}/_sandbox/clock", json={"freeze": True}, timeout=10)
        yield running


def _advance(emulator: RunningEmulator, seconds: float) -> None:
    requests.post(f"{emulator.base_url}/_sandbox/clock/advance", json={"seconds": seconds}, timeout=10)


def _day_report(
    emulator: RunningEmulator, report_type: str, day: Any, **options: str
) -> dict[str, dict[str, Any]]:
    body = period_request(report_type, day, day, reportPeriod="DAY", **options)
    found, document = run_report(emulator.session("acme-na"), emulator, body)
    assert found["processingStatus"] == "DONE", found
    rows = document["salesByAsin" if "SALES" in report_type else "inventoryByAsin"]
    return {row["asin"]: row for row in rows}


def test_a_shipped_direct_fulfillment_order_adds_its_units_to_the_day_it_shipped(
    frozen: RunningEmulator,
) -> None:
    emulator = frozen
    session = emulator.session("acme-na")
    order = _us_order(emulator, session)
    acknowledged = df_support.submit(
        emulator,
        session,
        df_support.acknowledgements_path(df_support.V2021),
        df_support.acknowledgement(order),
    )
    assert acknowledged["status"] == "Success", acknowledged
    shipped_at = emulator.sandbox.clock.now()
    _advance(emulator, 2 * 86400)  # the day it ships on has ended
    options = {"distributorView": "MANUFACTURING", "sellingProgram": "RETAIL"}
    before = _day_report(emulator, "GET_VENDOR_SALES_REPORT", shipped_at.date(), **options)

    confirmation = df_support.shipment_confirmation(order, ["1Z999AA10123456784"], shipped_at)
    shipped = df_support.submit(
        emulator, session, df_support.shipping_path(df_support.V2021, "shipmentConfirmations"), confirmation
    )
    assert shipped["status"] == "Success", shipped
    after = _day_report(emulator, "GET_VENDOR_SALES_REPORT", shipped_at.date(), **options)

    units: dict[str, int] = {}
    for item in order["orderDetails"]["items"]:
        units[item["buyerProductIdentifier"]] = (
            units.get(item["buyerProductIdentifier"], 0) + item["orderedQuantity"]["amount"]
        )
    for asin, row in after.items():
        assert row["shippedUnits"] - before[asin]["shippedUnits"] == units.get(asin, 0), asin
        assert row["orderedUnits"] == before[asin]["orderedUnits"]
    assert units and set(units) <= set(after)


def _us_order(emulator: RunningEmulator, session: requests.Session) -> dict[str, Any]:
    """A NEW order of the US vendor code's warehouses (sandbox test data makes some when none is left)."""
    for attempt in range(2):
        for item in df_support.list_orders(emulator, session, status="NEW"):
            if item["orderDetails"]["shipFromParty"]["partyId"].startswith("ACME1"):
                return item
        if attempt == 0:
            df_support.generate_orders(emulator, session, "acme-na", entries=2)  # ACME1W1's orders
    raise AssertionError("no NEW order of ACME1")


def test_a_received_shipment_adds_its_units_to_the_day_it_was_received(frozen: RunningEmulator) -> None:
    emulator = frozen
    session = emulator.session("acme-na")
    orders = retail_support.get(
        emulator, session, f"{retail_support.ORDERS}/purchaseOrders", purchaseOrderState="New", limit=100
    ).json()["payload"]["orders"]
    order = next(
        item
        for item in orders
        if item["orderDetails"]["sellingParty"]["partyId"] == "ACME1"
        and all(line["orderedQuantity"]["amount"] > 0 for line in item["orderDetails"]["items"])
    )
    assert (
        retail_support.submit(emulator, session, retail_support.ACK, retail_support.acknowledgement(order))[
            "status"
        ]
        == "Success"
    )
    now = emulator.sandbox.clock.now()
    receive_at = now + timedelta(hours=1)
    confirmation = retail_support.shipment_confirmation(
        order,
        f"ASN-{order['purchaseOrderNumber']}",
        shipmentConfirmationDate=_stamp(now),
        shippedDate=_stamp(now),
        estimatedDeliveryDate=_stamp(receive_at),
    )
    accepted = retail_support.submit(emulator, session, retail_support.ASN, confirmation)
    assert accepted["status"] == "Success", accepted
    _advance(emulator, 2 * 86400)  # received an hour later; the day of receipt has ended

    rows = _day_report(
        emulator,
        "GET_VENDOR_INVENTORY_REPORT",
        receive_at.date(),
        distributorView="SOURCING",
        sellingProgram="RETAIL",
    )

    status = retail_support.get(
        emulator,
        session,
        f"{retail_support.ORDERS}/purchaseOrdersStatus",
        purchaseOrderNumber=order["purchaseOrderNumber"],
    ).json()["payload"]["ordersStatus"][0]
    for item in status["itemStatus"]:
        receiving = item["receivingStatus"]
        assert (
            receiving["receiveStatus"] == "RECEIVED"
            and receiving["lastReceiveDate"][:10] == receive_at.date().isoformat()
        )
        row = rows[item["buyerProductIdentifier"]]
        assert row["netReceivedInventoryUnits"] >= receiving["receivedQuantity"]["amount"] > 0
    cost = {
        item["amazonProductIdentifier"]: item["netCost"]["amount"] for item in order["orderDetails"]["items"]
    }
    for asin, row in rows.items():
        if asin in cost:
            assert row["netReceivedInventoryCost"]["amount"] == pytest.approx(
                float(cost[asin]) * row["netReceivedInventoryUnits"]
            )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
