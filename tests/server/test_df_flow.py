"""The Direct Fulfillment life cycle through HTTP, in both API versions: orders and their listings, the
whole flow from acknowledgement to invoice, the documents (labels, packing slips, customer invoices) as real
files."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from mockserver.testing.server import RunningEmulator
from tests.redis_support import STORE_KINDS, store_location
from tests.server.df_support import (
    V1,
    V2021,
    VERSIONS,
    Flow,
    df_emulator,
    list_orders,
    orders_path,
    payload,
    rules_of,
    sandbox_now,
    shipping_path,
    stamp,
    window,
)


@pytest.fixture(scope="module", params=STORE_KINDS)
def emulator(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[RunningEmulator]:
    """The flow on every store kind: one behavioural suite for memory, SQLite and Redis."""
    yield from df_emulator(tmp_path_factory, "df-flow", seed_size=600, store=store_location(request.param))


@pytest.fixture(scope="module")
def flow(emulator: RunningEmulator) -> Flow:
    return Flow(emulator)


def decode_png(content: bytes) -> tuple[int, int, bytes, dict[str, list[str]]]:
    """Width, height, the decompressed scanlines and the text chunks of a PNG; every chunk's CRC checked."""
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, texts = 8, b"", {}
    width = height = 0
    while position < len(content):
        (length,) = struct.unpack(">I", content[position : position + 4])
        kind = content[position + 4 : position + 8]
        body = content[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", content[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            data += body
        elif kind == b"tEXt":
            key, value = body.split(b"\x00", 1)
            texts.setdefault(key.decode(), []).append(value.decode("latin-1"))
        position += 12 + length
    return width, height, zlib.decompress(data), texts


def assert_pdf(content: bytes, *expected: str) -> None:
    assert content.startswith(b"%PDF-1.4") and content.rstrip().endswith(b"%%EOF")
    xref = int(content.rsplit(b"startxref", 1)[1].split()[0])
    assert content[xref : xref + 4] == b"xref"
    for text in expected:
        assert text.encode("latin-1") in content


# -- the whole flow ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_the_whole_flow_in_each_version(flow: Flow, version: str) -> None:
    order = flow.new_order()
    number = order["purchaseOrderNumber"]

    assert flow.acknowledge(order, version)["status"] == "Success"
    assert flow.order(number)["orderDetails"]["orderStatus"] == "ACCEPTED"
    assert flow.request_label(order, version)["status"] == "Success"
    label = flow.label(order, version)
    warehouse = order["orderDetails"]["shipFromParty"]["partyId"]
    expected_format = "PNG" if warehouse.endswith("W1") else "ZPL"
    assert (label["purchaseOrderNumber"], label["labelFormat"]) == (number, expected_format)
    tracking = [package["trackingNumber"] for package in label["labelData"]]
    assert flow.ship(order, tracking, version)["status"] == "Success"
    assert flow.order(number)["orderDetails"]["orderStatus"] == "SHIPPED"
    assert flow.invoice(order, f"FLOW-{version}-{number}")["status"] == "Success"

    listed = flow.session.get(
        flow.url(shipping_path(version, "shippingLabels")), params=window(flow.emulator, 1), timeout=10
    )
    assert number in {item["purchaseOrderNumber"] for item in payload(listed, version)["shippingLabels"]}


def test_a_label_is_a_real_png_with_the_tracking_number(flow: Flow) -> None:
    order, label = flow.labelled_order()
    package = label["labelData"][0]

    width, height, scanlines, texts = decode_png(base64.b64decode(package["content"]))

    assert (width, height) == (400, 200)
    assert len(scanlines) == height * (1 + (width + 7) // 8)  # one filter byte and 1-bit pixels per row
    assert texts["Title"] == [f"Shipping label {package['trackingNumber']}"]
    assert any(order["purchaseOrderNumber"] in line for line in texts["Comment"])
    assert package["packageIdentifier"] == "001"
    assert package["shipMethod"] == order["orderDetails"]["shipmentDetails"]["shipMethod"]


def test_create_shipping_labels_answers_at_once_in_the_warehouses_format(flow: Flow) -> None:
    zpl_orders = [
        order
        for order in list_orders(flow.emulator, flow.session, status="NEW")
        if order["orderDetails"]["shipFromParty"]["partyId"].endswith("W2")
    ]
    order = zpl_orders[0]
    details = order["orderDetails"]
    body = {
        "sellingParty": details["sellingParty"],
        "shipFromParty": {"partyId": details["shipFromParty"]["partyId"]},
    }
    path = flow.url(shipping_path(V2021, f"shippingLabels/{order['purchaseOrderNumber']}"))

    not_accepted = flow.session.post(path, json=body, timeout=10)
    assert flow.acknowledge(order)["status"] == "Success"
    created = flow.session.post(path, json=body, timeout=10)
    unknown = flow.session.post(
        flow.url(shipping_path(V2021, "shippingLabels/NOSUCH99")), json=body, timeout=10
    )

    assert not_accepted.status_code == 400
    assert "rule df-label-accepted" in not_accepted.json()["errors"][0]["details"]
    assert created.status_code == 200, created.text
    label = created.json()
    assert label["labelFormat"] == "ZPL"
    zpl = base64.b64decode(label["labelData"][0]["content"]).decode()
    assert zpl.startswith("^XA") and "^BCN" in zpl and zpl.rstrip().endswith("^XZ")
    assert flow.label(order) == label
    assert unknown.status_code == 404


def test_a_container_label_groups_labelled_packages(flow: Flow) -> None:
    order, label = flow.labelled_order()
    details = order["orderDetails"]
    body = {
        "sellingParty": details["sellingParty"],
        "shipFromParty": {"partyId": details["shipFromParty"]["partyId"]},
        "carrierId": "SWA",
        "vendorContainerId": f"PALLET-{order['purchaseOrderNumber']}",
        "packages": [{"packageTrackingNumber": package["trackingNumber"]} for package in label["labelData"]],
    }

    response = flow.session.post(flow.url(shipping_path(V2021, "containerLabel")), json=body, timeout=10)

    assert response.status_code == 200, response.text
    container = response.json()["containerLabel"]
    assert container["format"] == "PNG"
    assert decode_png(base64.b64decode(container["content"]))[3]["Title"] == [
        f"Shipping label {container['containerTrackingNumber']}"
    ]


def test_own_carrier_shipments_take_status_updates(flow: Flow) -> None:
    order = flow.own_carrier_order()
    details = order["orderDetails"]
    update = {
        "shipmentStatusUpdates": [
            {
                "purchaseOrderNumber": order["purchaseOrderNumber"],
                "sellingParty": details["sellingParty"],
                "shipFromParty": {"partyId": details["shipFromParty"]["partyId"]},
                "statusUpdateDetails": {
                    "trackingNumber": f"VOC{order['purchaseOrderNumber']}",
                    "statusCode": "D1",
                    "reasonCode": "NS",
                    "statusDateTime": stamp(sandbox_now(flow.emulator)),
                    "statusLocationAddress": {
                        "name": "Door",
                        "addressLine1": "1 Main St",
                        "countryCode": "US",
                    },
                },
            }
        ]
    }

    for version in VERSIONS:
        assert (
            flow.submit(shipping_path(version, "shipmentStatusUpdates"), update, version)["status"]
            == "Success"
        )
        update["shipmentStatusUpdates"][0]["statusUpdateDetails"]["statusCode"] = "X1"  # not a duplicate


def test_a_floor_denial_cancels_the_order(flow: Flow) -> None:
    order = flow.accepted_order()

    status = flow.ship(
        order,
        [],
        shipmentDetails={"shippedDate": stamp(sandbox_now(flow.emulator)), "shipmentStatus": "FLOOR_DENIAL"},
    )

    assert status["status"] == "Success"
    assert flow.order(order["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "CANCELLED"
    assert rules_of(flow.invoice(order, "FLOOR-DENIED")) == ["df-invoice-shipped"]


# -- orders and their listings -------------------------------------------------------------------------------


def test_both_versions_serve_the_same_orders_in_their_own_shape(
    emulator: RunningEmulator, flow: Flow
) -> None:
    v1 = list_orders(emulator, flow.session, V1)
    v2021 = list_orders(emulator, flow.session, V2021)

    assert [order["purchaseOrderNumber"] for order in v1] == [order["purchaseOrderNumber"] for order in v2021]
    assert all("orderStatus" not in order["orderDetails"] for order in v1)
    assert {order["orderDetails"]["orderStatus"] for order in v2021} <= {
        "NEW",
        "ACCEPTED",
        "SHIPPED",
        "CANCELLED",
    }
    for old, new in zip(v1, v2021, strict=True):
        assert {**old["orderDetails"], "orderStatus": new["orderDetails"]["orderStatus"]} == new[
            "orderDetails"
        ]


def test_orders_are_drop_shipments_to_customers_in_the_marketplace(
    emulator: RunningEmulator, flow: Flow
) -> None:
    orders = list_orders(emulator, flow.session)
    nordwind = list_orders(emulator, emulator.session("nordwind-eu"))

    assert len(orders) == 100  # the first page of a seeded week
    for order in orders:
        details = order["orderDetails"]
        assert details["shipFromParty"]["partyId"] in {"ACME1W1", "ACME1W2", "ACMECW1", "ACMECW2"}
        assert details["shipToParty"]["countryCode"] in {"US", "CA"}
        assert details["shipToParty"]["stateOrRegion"]
        assert all(
            item["vendorProductIdentifier"].startswith(details["sellingParty"]["partyId"])
            for item in details["items"]
        )
        assert details["shipmentDetails"]["shipmentDates"]["requiredShipDate"] > details["orderDate"]
        if details["shipmentDetails"]["isGift"]:
            assert details["shipmentDetails"]["isPslipRequired"]
            assert all(item["giftDetails"]["giftMessage"] for item in details["items"])
    assert {order["orderDetails"]["shipToParty"]["countryCode"] for order in nordwind} <= {"DE", "GB", "FR"}
    assert {
        item["netPrice"]["currencyCode"] for order in nordwind for item in order["orderDetails"]["items"]
    } <= {
        "EUR",
        "GBP",
    }


def test_filters_sort_and_details(emulator: RunningEmulator, flow: Flow) -> None:
    shipped = list_orders(emulator, flow.session, status="SHIPPED")
    one_warehouse = list_orders(emulator, flow.session, shipFromPartyId="ACMECW1")
    descending = list_orders(emulator, flow.session, sortOrder="DESC", limit=10)
    numbers = list_orders(emulator, flow.session, includeDetails="false", limit=5)

    assert shipped and {order["orderDetails"]["orderStatus"] for order in shipped} == {"SHIPPED"}
    assert one_warehouse and {o["orderDetails"]["shipFromParty"]["partyId"] for o in one_warehouse} == {
        "ACMECW1"
    }
    dates = [order["orderDetails"]["orderDate"] for order in descending]
    assert dates == sorted(dates, reverse=True)
    assert all(set(order) == {"purchaseOrderNumber"} for order in numbers) and len(numbers) == 5


@pytest.mark.parametrize("version", VERSIONS)
def test_pages_never_skip_or_repeat_while_orders_arrive(
    emulator: RunningEmulator, flow: Flow, version: str
) -> None:
    now = sandbox_now(emulator)
    query = {
        "createdAfter": stamp(now - timedelta(days=2)),
        "createdBefore": stamp(now + timedelta(days=1)),
        "limit": 7,
    }
    before = [
        order["purchaseOrderNumber"]
        for order in list_orders(emulator, flow.session, version, **{**query, "limit": 100})
    ]
    assert 14 < len(before) < 100

    seen: list[str] = []
    response = flow.session.get(flow.url(orders_path(version)), params=query, timeout=10)
    while True:
        page = payload(response, version)
        seen += [order["purchaseOrderNumber"] for order in page["orders"]]
        token = (page.get("pagination") or {}).get("nextToken")
        if not token:
            break
        requests.post(f"{emulator.base_url}/_sandbox/clock/advance", json={"seconds": 3600}, timeout=10)
        response = flow.session.get(
            flow.url(orders_path(version)), params={**query, "nextToken": token}, timeout=10
        )
        assert response.status_code == 200, response.text

    assert len(seen) == len(set(seen))
    assert seen[: len(before)] == before  # arrivals come after the last key: never in the middle of a page


@pytest.mark.parametrize(
    ("change", "details"),
    [
        (
            {"createdAfter": "2024-05-01T00:00:00Z", "createdBefore": "2024-05-09T00:00:00Z"},
            "must not be more than 7 days",
        ),
        ({"createdAfter": "2024-05-02T00:00:00Z", "createdBefore": "2024-05-01T00:00:00Z"}, "must be later"),
        ({"nextToken": "not-a-token"}, "The nextToken is invalid."),
    ],
    ids=["window-over-7-days", "window-backwards", "forged-next-token"],
)
def test_listings_refuse_what_amazon_refuses(flow: Flow, change: dict[str, str], details: str) -> None:
    params = {"createdAfter": "2024-05-01T00:00:00Z", "createdBefore": "2024-05-02T00:00:00Z", **change}

    for path in (
        orders_path(V2021),
        shipping_path(V1, "packingSlips"),
        shipping_path(V2021, "customerInvoices"),
    ):
        response = flow.session.get(flow.url(path), params=params, timeout=10)
        assert response.status_code == 400, (path, response.text)
        (error,) = response.json()["errors"]
        assert error["code"] == "InvalidInput" and details in error["details"]


def test_another_listings_next_token_is_refused(emulator: RunningEmulator, flow: Flow) -> None:
    first = flow.session.get(
        flow.url(orders_path(V2021)), params={**window(emulator), "limit": 1}, timeout=10
    )
    token = first.json()["pagination"]["nextToken"]

    params = {**window(emulator), "nextToken": token}
    as_other_version = flow.session.get(flow.url(orders_path(V1)), params=params, timeout=10)
    as_other_account = emulator.session("nordwind-eu").get(
        flow.url(orders_path(V2021)), params=params, timeout=10
    )

    assert as_other_version.status_code == 400
    assert as_other_account.status_code == 400


# -- packing slips and customer invoices ---------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_packing_slips_of_the_orders_that_need_one(
    emulator: RunningEmulator, flow: Flow, version: str
) -> None:
    response = flow.session.get(
        flow.url(shipping_path(version, "packingSlips")),
        params={**window(emulator), "limit": 100},
        timeout=10,
    )
    slips = payload(response, version)["packingSlips"]
    orders = {order["purchaseOrderNumber"]: order for order in list_orders(emulator, flow.session)}

    assert slips
    for slip in slips:
        order = orders.get(slip["purchaseOrderNumber"])
        if order is not None:
            assert order["orderDetails"]["shipmentDetails"]["isPslipRequired"]
            assert order["orderDetails"]["orderStatus"] != "CANCELLED"
        assert slip["contentType"] == "application/pdf"
        assert_pdf(base64.b64decode(slip["content"]), f"Packing slip {slip['purchaseOrderNumber']}")
    without = next(
        number
        for number, order in orders.items()
        if not order["orderDetails"]["shipmentDetails"]["isPslipRequired"]
    )
    one = flow.session.get(
        flow.url(shipping_path(version, f"packingSlips/{slips[0]['purchaseOrderNumber']}")), timeout=10
    )
    none = flow.session.get(flow.url(shipping_path(version, f"packingSlips/{without}")), timeout=10)
    assert payload(one, version) == slips[0]
    assert none.status_code == 404


@pytest.mark.parametrize("version", VERSIONS)
def test_customer_invoices_where_the_marketplace_uses_them(emulator: RunningEmulator, version: str) -> None:
    india, acme = emulator.session("initech-in"), emulator.session("acme-na")
    path = emulator.base_url + shipping_path(version, "customerInvoices")

    invoices = payload(india.get(path, params=window(emulator), timeout=10), version)["customerInvoices"]
    none = payload(acme.get(path, params=window(emulator), timeout=10), version)["customerInvoices"]

    assert invoices and none == []
    content = base64.b64decode(invoices[0]["content"])
    assert_pdf(content, f"Tax invoice for order {invoices[0]['purchaseOrderNumber']}", "INR")
    one = india.get(f"{path}/{invoices[0]['purchaseOrderNumber']}", timeout=10)
    assert payload(one, version) == invoices[0]
    orders = list_orders(emulator, india)
    assert {
        item["netPrice"]["currencyCode"] for order in orders for item in order["orderDetails"]["items"]
    } == {"INR"}


# -- sandbox test data ---------------------------------------------------------------------------------------


def test_scenario_orders_appear_in_both_versions(emulator: RunningEmulator, flow: Flow) -> None:
    from tests.server.df_support import generate_orders

    numbers = generate_orders(emulator, flow.session, "acme-na", entries=2)

    assert len(numbers) == 4
    for number in numbers:
        for version in VERSIONS:
            order = flow.order(number, version)
            assert order["orderDetails"]["shipFromParty"]["partyId"] == "ACME1W1"
        assert flow.order(number)["orderDetails"]["orderStatus"] == "NEW"


def test_scenarios_for_foreign_or_unknown_parties_fail_clearly(emulator: RunningEmulator, flow: Flow) -> None:
    from tests.server.df_support import SCENARIOS

    for party in (
        {"sellingParty": {"partyId": "NWDE1"}, "shipFromParty": {"partyId": "NWDE1W1"}},  # another account's
        {"sellingParty": {"partyId": "ACME1"}, "shipFromParty": {"partyId": "NOWHERE"}},
        {"sellingParty": {"partyId": "ACME1"}, "shipFromParty": {"partyId": "ACMECW1"}},  # another code's
    ):
        response = flow.session.post(flow.url(SCENARIOS), json={"orders": [party]}, timeout=10)
        assert response.status_code == 400
        (error,) = response.json()["errors"]
        assert error["code"] == "InvalidInput" and "rule df-scenario-parties" in error["details"]
    empty = flow.session.post(flow.url(SCENARIOS), json={"orders": []}, timeout=10)
    assert empty.status_code == 400


def test_warehouses_are_listed_for_the_admin(emulator: RunningEmulator) -> None:
    found = requests.get(f"{emulator.base_url}/_sandbox/df/warehouses/initech-in", timeout=10).json()
    unknown = requests.get(f"{emulator.base_url}/_sandbox/df/warehouses/nobody", timeout=10)

    assert [item["warehouseId"] for item in found["warehouses"]] == ["INTC1W1", "INTC1W2"]
    assert all(item["customerInvoices"] and item["currency"] == "INR" for item in found["warehouses"])
    assert unknown.status_code == 404
