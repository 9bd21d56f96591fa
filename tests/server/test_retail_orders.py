"""Vendor Orders over HTTP: the seeded world, every listing filter, paging while POs arrive, the clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server.retail_support import ORDERS, get, retail_emulator

EVER = "2000-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from retail_emulator(tmp_path_factory, "retail-orders", 60)


def _numbers(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [order["purchaseOrderNumber"] for order in response.json()["payload"]["orders"]]


def _all_numbers(retail: RunningEmulator, session: requests.Session) -> list[str]:
    numbers: list[str] = []
    response = get(retail, session, f"{ORDERS}/purchaseOrders", createdAfter=EVER, limit=100)
    while True:
        numbers += _numbers(response)
        token = response.json()["payload"].get("pagination", {}).get("nextToken")
        if not token:
            return numbers
        response = get(retail, session, f"{ORDERS}/purchaseOrders", nextToken=token)


@pytest.mark.parametrize("account", ["acme-na", "nordwind-eu", "globex-readonly"])
def test_every_account_has_new_purchase_orders_in_the_default_window(
    retail: RunningEmulator, account: str
) -> None:
    numbers = _numbers(
        get(retail, retail.session(account), f"{ORDERS}/purchaseOrders", purchaseOrderState="New")
    )
    assert len(numbers) >= 20


def test_purchase_orders_carry_every_type_and_a_consistent_catalogue(retail: RunningEmulator) -> None:
    orders = get(retail, retail.session(), f"{ORDERS}/purchaseOrders", createdAfter=EVER).json()["payload"][
        "orders"
    ]
    types = {order["orderDetails"]["purchaseOrderType"] for order in orders}
    assert types == {"RegularOrder", "ConsignedOrder", "NewProductIntroduction", "RushOrder"}
    catalogue = requests.get(f"{retail.base_url}/_sandbox/catalogue/acme-na", timeout=10).json()["products"]
    by_asin = {product["asin"]: product for product in catalogue}
    for order in orders:
        for item in order["orderDetails"]["items"]:
            product = by_asin[item["amazonProductIdentifier"]]
            assert product["sku"] == item["vendorProductIdentifier"]
            assert item["netCost"] == product["netCost"]
            assert len(product["gtin"]) in (12, 13)


def test_paging_never_skips_or_repeats_a_purchase_order_while_new_ones_arrive(
    retail: RunningEmulator,
) -> None:
    session = retail.session()
    for sort_order in ("ASC", "DESC"):
        everything = _all_numbers(retail, session)
        seen: list[str] = []
        response = get(
            retail, session, f"{ORDERS}/purchaseOrders", createdAfter=EVER, limit=7, sortOrder=sort_order
        )
        while True:
            seen += _numbers(response)
            # New POs arrive between pages: every hour of sandbox time.
            requests.post(f"{retail.base_url}/_sandbox/clock/advance", json={"seconds": 3 * 3600}, timeout=10)
            token = response.json()["payload"].get("pagination", {}).get("nextToken")
            if not token:
                break
            response = get(retail, session, f"{ORDERS}/purchaseOrders", nextToken=token)
        assert len(seen) == len(set(seen))
        assert sorted(seen) == sorted(everything)
    dates = [
        o["orderDetails"]["purchaseOrderDate"]
        for o in get(retail, session, f"{ORDERS}/purchaseOrders", createdAfter=EVER, sortOrder="DESC").json()[
            "payload"
        ]["orders"]
    ]
    assert dates == sorted(dates, reverse=True)


def test_new_purchase_orders_arrive_and_some_change_over_time(retail: RunningEmulator) -> None:
    session = retail.session()
    before = requests.get(f"{retail.base_url}/_sandbox/clock", timeout=10).json()["now"]
    requests.post(f"{retail.base_url}/_sandbox/clock/advance", json={"seconds": 7 * 3600}, timeout=10)
    arrived = _numbers(get(retail, session, f"{ORDERS}/purchaseOrders", createdAfter=before))
    assert len(arrived) >= 6
    changed = get(retail, session, f"{ORDERS}/purchaseOrders", changedAfter=before, isPOChanged="true")
    changed_orders = changed.json()["payload"]["orders"]
    assert changed_orders
    for order in changed_orders:
        assert order["orderDetails"]["purchaseOrderChangedDate"] > before
        assert any(item["orderedQuantity"]["amount"] == 0 for item in order["orderDetails"]["items"])
    cancelled = _numbers(
        get(retail, session, f"{ORDERS}/purchaseOrders", createdAfter=EVER, poItemState="Cancelled")
    )
    assert {order["purchaseOrderNumber"] for order in changed_orders} <= set(cancelled)


def test_filters_of_get_purchase_orders(retail: RunningEmulator) -> None:
    session = retail.session()
    base = f"{ORDERS}/purchaseOrders"
    for state in ("New", "Acknowledged", "Closed"):
        orders = get(retail, session, base, createdAfter=EVER, purchaseOrderState=state).json()["payload"][
            "orders"
        ]
        assert orders and {order["purchaseOrderState"] for order in orders} == {state}
    vendor = get(retail, session, base, createdAfter=EVER, orderingVendorCode="ACMEC").json()["payload"][
        "orders"
    ]
    assert vendor and {order["orderDetails"]["sellingParty"]["partyId"] for order in vendor} == {"ACMEC"}
    numbers_only = get(retail, session, base, includeDetails="false", limit=3).json()["payload"]["orders"]
    assert numbers_only and all(
        set(order) == {"purchaseOrderNumber", "purchaseOrderState"} for order in numbers_only
    )
    assert len(_numbers(get(retail, session, base, createdAfter=EVER, limit=5))) == 5


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 101},
        {"limit": 0},
        {"createdAfter": "2026-02-01T00:00:00Z", "createdBefore": "2026-01-01T00:00:00Z"},
        {"nextToken": "not-a-token"},
        {"sortOrder": "UP"},
    ],
)
def test_bad_listing_parameters_are_invalid_input(retail: RunningEmulator, params: dict[str, object]) -> None:
    response = get(retail, retail.session(), f"{ORDERS}/purchaseOrders", **params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_get_purchase_order_answers_the_document_of_the_listing(retail: RunningEmulator) -> None:
    session = retail.session()
    (order,) = get(retail, session, f"{ORDERS}/purchaseOrders", limit=1).json()["payload"]["orders"]
    response = get(retail, session, f"{ORDERS}/purchaseOrders/{order['purchaseOrderNumber']}")
    assert response.status_code == 200
    assert response.headers["x-vendor-sandbox-answer"] == "stateful"
    assert response.json()["payload"] == order


def test_another_accounts_purchase_order_is_indistinguishable_from_an_unknown_one(
    retail: RunningEmulator,
) -> None:
    number = _numbers(get(retail, retail.session("nordwind-eu"), f"{ORDERS}/purchaseOrders", limit=1))[0]
    foreign = get(retail, retail.session("acme-na"), f"{ORDERS}/purchaseOrders/{number}")
    unknown = get(retail, retail.session("acme-na"), f"{ORDERS}/purchaseOrders/ZZZZ9999")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json()["errors"][0]["code"] == unknown.json()["errors"][0]["code"] == "NotFound"
    assert foreign.json()["errors"][0]["message"] == unknown.json()["errors"][0]["message"]
    statuses = get(
        retail, retail.session("acme-na"), f"{ORDERS}/purchaseOrdersStatus", purchaseOrderNumber=number
    )
    assert statuses.json()["payload"]["ordersStatus"] == []
    listed = _numbers(
        get(retail, retail.session("acme-na"), f"{ORDERS}/purchaseOrders", createdAfter=EVER, limit=100)
    )
    assert number not in listed


def test_filters_of_get_purchase_orders_status(retail: RunningEmulator) -> None:
    session = retail.session()
    base = f"{ORDERS}/purchaseOrdersStatus"
    closed = get(retail, session, base, createdAfter=EVER, purchaseOrderStatus="CLOSED").json()["payload"]
    assert closed["ordersStatus"] and {s["purchaseOrderStatus"] for s in closed["ordersStatus"]} == {"CLOSED"}
    for status in ("UNCONFIRMED", "ACCEPTED", "PARTIALLY_ACCEPTED"):
        found = get(retail, session, base, createdAfter=EVER, itemConfirmationStatus=status).json()["payload"]
        for order in found["ordersStatus"]:
            assert status in {i["acknowledgementStatus"]["confirmationStatus"] for i in order["itemStatus"]}
    received = get(retail, session, base, createdAfter=EVER, itemReceiveStatus="RECEIVED").json()["payload"]
    assert received["ordersStatus"]
    one = received["ordersStatus"][0]
    ship_to = one["shipToParty"]["partyId"]
    by_ship_to = get(retail, session, base, createdAfter=EVER, shipToPartyId=ship_to).json()["payload"]
    assert {s["shipToParty"]["partyId"] for s in by_ship_to["ordersStatus"]} == {ship_to}
    by_number = get(retail, session, base, purchaseOrderNumber=one["purchaseOrderNumber"]).json()["payload"]
    assert [s["purchaseOrderNumber"] for s in by_number["ordersStatus"]] == [one["purchaseOrderNumber"]]
    updated = get(retail, session, base, createdAfter=EVER, updatedAfter="2999-01-01T00:00:00Z").json()[
        "payload"
    ]
    assert updated["ordersStatus"] == []


def test_the_clock_can_be_read_frozen_and_advanced(retail: RunningEmulator) -> None:
    base = f"{retail.base_url}/_sandbox/clock"
    frozen = requests.post(f"{base}/freeze", timeout=10).json()
    assert frozen["frozen"] is True
    advanced = requests.post(f"{base}/advance", json={"seconds": 90}, timeout=10).json()
    from mockserver.domain.clock import parse_iso

    assert (parse_iso(advanced["now"]) - parse_iso(frozen["now"])).total_seconds() == 90
    assert requests.get(base, timeout=10).json()["now"] == advanced["now"]
    assert requests.post(base, json={"advance": -5}, timeout=10).status_code == 400
    assert requests.post(f"{base}/unfreeze", timeout=10).json()["frozen"] is False


def test_seed_size_is_configurable(tmp_path: Path) -> None:
    running = start_emulator(data_dir=tmp_path, store="memory", seed_size=30, rate_scale=1000.0)
    try:
        assert running.sandbox.purchase_orders.count("acme-na") == 30
    finally:
        running.stop()
