"""Every vendor report type, with every combination of Amazon's options, through HTTP: the document validates
against Amazon's schema for its type and echoes the request; aggregates are the sums of their ASIN rows;
the ASINs are the account's catalogue; any ended period of the two years of history is DONE with rows,
one before it CANCELLED; the same report over the same state is the same document; and the numbers agree
with the purchase orders, shipments and Direct Fulfillment orders of the same account."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests

from mockserver.domain.reports import periods
from mockserver.domain.reports.report_types import REPORT_TYPES
from mockserver.testing.server import RunningEmulator
from tests.server.reports_support import (
    US,
    every_type_request,
    hours_request,
    last_period,
    period_request,
    reports_emulator,
    run_report,
    stamp,
    today,
)
from tests.server.reports_support import document_schema as schema_of
from tests.server.reports_support import schema_errors as errors_of


def _combinations() -> list[tuple[str, dict[str, str]]]:
    found: list[tuple[str, dict[str, str]]] = []
    for kind in REPORT_TYPES.values():
        enumerated = [option for option in kind.options if option.values]
        for values in itertools.product(*(option.values for option in enumerated)):
            found.append(
                (kind.name, {option.name: value for option, value in zip(enumerated, values, strict=True)})
            )
        if any(option.kind == "currency" for option in kind.options):
            found.append((kind.name, {"currencyCode": "USD"}))
    return found


COMBINATIONS = _combinations()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from reports_emulator(tmp_path_factory, "report-content")


@pytest.fixture(scope="module")
def session(emulator: RunningEmulator) -> requests.Session:
    return emulator.session("acme-na")


def test_every_type_and_option_combination_is_covered() -> None:
    assert {name for name, _ in COMBINATIONS} == set(REPORT_TYPES)
    assert len(COMBINATIONS) == 30 + 20 + 5 + 5 + 2 + 2 + 1 + 1 + 1 + 1  # sales, inventory, ..., promotions


@pytest.mark.parametrize(
    ("report_type", "options"),
    COMBINATIONS,
    ids=[f"{name}-{'-'.join(options.values()) or 'default'}" for name, options in COMBINATIONS],
)
def test_the_document_validates_against_amazons_schema_and_echoes_the_request(
    emulator: RunningEmulator, session: requests.Session, report_type: str, options: dict[str, str]
) -> None:
    body = every_type_request(emulator, report_type, **options)

    found, document = run_report(session, emulator, body)

    assert found["processingStatus"] == "DONE", found
    schema = schema_of(REPORT_TYPES[report_type].schema)
    if schema is None:
        pytest.skip(
            f"{REPORT_TYPES[report_type].schema}.json is not in the reference copy (it holds the vendor*.json"
            " "
            "schemas): add it from amzn/selling-partner-api-models schemas/reports/ to check this document"
        )
    assert errors_of(schema, document) == []
    echoed = document["reportSpecification"]
    assert echoed["reportType"] == report_type and echoed["marketplaceIds"] == [US]
    for name, value in body.get("reportOptions", {}).items():
        assert echoed["reportOptions"][name] == value
    if REPORT_TYPES[report_type].dates == "period":
        assert echoed["dataStartTime"] == body["dataStartTime"][:10]
        assert echoed["dataEndTime"] == body["dataEndTime"][:10]
    if REPORT_TYPES[report_type].dates == "hours":
        assert (echoed["dataStartTime"], echoed["dataEndTime"]) == (
            body["dataStartTime"],
            body["dataEndTime"],
        )


def test_promotions_follow_amazons_promotion_report_shape(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    """Amazon's promotionReport.json is not in the reference copy: its required fields, checked here."""
    _, document = run_report(
        session, emulator, every_type_request(emulator, "GET_PROMOTION_PERFORMANCE_REPORT")
    )
    required = {
        "promotionId",
        "promotionName",
        "unitsSold",
        "revenue",
        "revenueCurrencyCode",
        "startDateTime",
        "endDateTime",
        "type",
        "status",
        "creationChannel",
        "marketplaceId",
        "createdDateTime",
        "lastUpdatedDateTime",
        "includedProducts",
    }
    assert document["promotions"]
    for promotion in document["promotions"]:
        assert required <= set(promotion)
        assert promotion["unitsSold"] == sum(
            item["productUnitsSold"] for item in promotion["includedProducts"]
        )
        assert promotion["type"] in ("BEST_DEAL", "LIGHTNING_DEAL", "PRICE_DISCOUNT")


def _catalogue(emulator: RunningEmulator, marketplace: str = US) -> set[str]:
    rows = requests.get(f"{emulator.base_url}/_sandbox/catalogue/acme-na", timeout=10).json()["products"]
    return {row["asin"] for row in rows if row["marketplaceId"] == marketplace}


COUNTS = {
    "GET_VENDOR_SALES_REPORT": (
        "salesAggregate",
        "salesByAsin",
        (
            "customerReturns",
            "orderedUnits",
            "shippedUnits",
            "orderedRevenue",
            "shippedRevenue",
            "shippedCogs",
        ),
    ),
    "GET_VENDOR_INVENTORY_REPORT": (
        "inventoryAggregate",
        "inventoryByAsin",
        (
            "netReceivedInventoryUnits",
            "netReceivedInventoryCost",
            "openPurchaseOrderUnits",
            "unfilledCustomerOrderedUnits",
            "sellableOnHandInventoryUnits",
            "sellableOnHandInventoryCost",
            "unsellableOnHandInventoryUnits",
            "unsellableOnHandInventoryCost",
            "aged90PlusDaysSellableInventoryUnits",
            "aged90PlusDaysSellableInventoryCost",
            "unhealthyInventoryUnits",
            "unhealthyInventoryCost",
        ),
    ),
    "GET_VENDOR_TRAFFIC_REPORT": ("trafficAggregate", "trafficByAsin", ("glanceViews",)),
}


def _number(value: Any) -> Decimal:
    return Decimal(str(value["amount"] if isinstance(value, dict) else value))


@pytest.mark.parametrize("report_type", sorted(COUNTS))
def test_aggregates_are_the_sums_of_their_asin_rows_over_the_catalogue(
    emulator: RunningEmulator, session: requests.Session, report_type: str
) -> None:
    options = {**every_type_request(emulator, report_type)["reportOptions"], "reportPeriod": "DAY"}
    last = today(emulator) - timedelta(days=1)
    first = last - timedelta(days=9)
    _, document = run_report(session, emulator, period_request(report_type, first, last, **options))
    aggregate_key, rows_key, fields = COUNTS[report_type]
    aggregates, rows = document[aggregate_key], document[rows_key]
    assert len(aggregates) == 10
    for aggregate in aggregates:
        period_rows = [row for row in rows if row["startDate"] == aggregate["startDate"]]
        assert {row["asin"] for row in period_rows} == _catalogue(emulator)
        for name in fields:
            if name in aggregate:
                assert _number(aggregate[name]) == sum(_number(row[name]) for row in period_rows), name
    assert any(_number(aggregate[fields[-1]]) != 0 for aggregate in aggregates)


def test_the_same_report_over_the_same_state_is_the_same_document(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    body = every_type_request(emulator, "GET_VENDOR_SALES_REPORT", reportPeriod="MONTH")
    emulator.sandbox.clock.freeze()
    try:
        first, second = run_report(session, emulator, body)[1], run_report(session, emulator, body)[1]
    finally:
        emulator.sandbox.clock.unfreeze()
    assert first == second
    assert first["salesByAsin"]


def _history_start(emulator: RunningEmulator) -> Any:
    return emulator.sandbox.reports.state.history("acme-na").history_start


@pytest.mark.parametrize("period", periods.PERIODS)
def test_the_earliest_whole_period_of_the_history_is_done_with_rows(
    emulator: RunningEmulator, session: requests.Session, period: str
) -> None:
    start = _history_start(emulator)
    first = periods.next_period_start(start - timedelta(days=1), period)  # the first whole period in it
    last = periods.period_end(first, period)
    body = period_request(
        "GET_VENDOR_SALES_REPORT",
        first,
        last,
        reportPeriod=period,
        distributorView="MANUFACTURING",
        sellingProgram="RETAIL",
    )
    found, document = run_report(session, emulator, body)
    assert found["processingStatus"] == "DONE"
    assert document["salesAggregate"][0]["shippedUnits"] > 0


def test_a_period_before_the_accounts_history_ends_cancelled(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    day = _history_start(emulator) - timedelta(days=3)
    body = period_request("GET_VENDOR_TRAFFIC_REPORT", day - timedelta(days=6), day, reportPeriod="DAY")

    found, document = run_report(session, emulator, body)

    assert found["processingStatus"] == "CANCELLED" and document is None
    assert "reportDocumentId" not in found and "processingEndTime" in found


def test_a_marketplace_without_the_vendors_products_ends_cancelled(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    first, last = last_period(emulator, periods.WEEK)
    body = period_request("GET_VENDOR_TRAFFIC_REPORT", first, last, "A13V1IB3VIYZZH", reportPeriod="WEEK")

    found, _ = run_report(emulator.session("nordwind-eu"), emulator, body)

    assert found["processingStatus"] == "CANCELLED"


def test_real_time_hours_add_up_to_the_days_sales(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    day = today(emulator) - timedelta(days=2)
    midnight = emulator.sandbox.clock.now().replace(hour=0, minute=0, second=0) - timedelta(days=2)
    _, hourly = run_report(
        session,
        emulator,
        hours_request("GET_VENDOR_REAL_TIME_SALES_REPORT", midnight, midnight + timedelta(days=1)),
    )
    _, daily = run_report(
        session,
        emulator,
        period_request(
            "GET_VENDOR_SALES_REPORT",
            day,
            day,
            reportPeriod="DAY",
            distributorView="MANUFACTURING",
            sellingProgram="RETAIL",
        ),
    )
    per_asin: dict[str, int] = {}
    for row in hourly["reportData"]:
        per_asin[row["asin"]] = per_asin.get(row["asin"], 0) + row["orderedUnits"]
    assert len({row["startTime"] for row in hourly["reportData"]}) == 24
    assert per_asin == {row["asin"]: row["orderedUnits"] for row in daily["salesByAsin"]}


def test_direct_fulfillment_orders_count_as_retail_sales(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    """Fresh excludes the Direct Fulfillment orders Retail counts: for a Fresh ASIN, Retail less Fresh
    ordered units are exactly the units of the account's DF orders placed that day."""
    first, last = last_period(emulator, periods.WEEK)
    request = {"reportPeriod": "DAY", "distributorView": "MANUFACTURING"}
    _, retail = run_report(
        session,
        emulator,
        period_request("GET_VENDOR_SALES_REPORT", first, last, sellingProgram="RETAIL", **request),
    )
    _, fresh = run_report(
        session,
        emulator,
        period_request("GET_VENDOR_SALES_REPORT", first, last, sellingProgram="FRESH", **request),
    )
    fresh_asins = {row["asin"] for row in fresh["salesByAsin"]}
    assert fresh_asins and fresh_asins < {row["asin"] for row in retail["salesByAsin"]}
    orders = _df_orders(emulator, stamp(first), stamp(last, end_of_day=True))
    checked = 0
    for row in retail["salesByAsin"]:
        if row["asin"] not in fresh_asins:
            continue
        match = next(
            item
            for item in fresh["salesByAsin"]
            if (item["asin"], item["startDate"]) == (row["asin"], row["startDate"])
        )
        placed = sum(units for day, asin, units in orders if (asin, day) == (row["asin"], row["startDate"]))
        assert row["orderedUnits"] - match["orderedUnits"] == placed
        checked += placed
    assert checked > 0, "no DF order of a Fresh ASIN in the week: the check proved nothing"


def _df_orders(emulator: RunningEmulator, after: str, before: str) -> list[tuple[str, str, int]]:
    """(order day, ASIN, units) of every DF order of acme-na in the window, read through the DF API."""
    session = emulator.session("acme-na")
    found: list[tuple[str, str, int]] = []
    params: dict[str, Any] = {"createdAfter": after, "createdBefore": before, "limit": 100}
    url = f"{emulator.base_url}/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
    while True:
        page = session.get(url, params=params, timeout=10).json()
        for order in page["orders"]:
            details = order["orderDetails"]
            for item in details["items"]:
                found.append(
                    (
                        details["orderDate"][:10],
                        item["buyerProductIdentifier"],
                        item["orderedQuantity"]["amount"],
                    )
                )
        token = (page.get("pagination") or {}).get("nextToken")
        if not token:
            return found
        params = {"nextToken": token, "createdAfter": after, "createdBefore": before}


def test_units_received_are_the_purchase_orders_receipts(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    """netReceivedInventoryUnits of a day are the units the purchase orders say were received that day."""
    statuses = _purchase_order_statuses(emulator)
    catalogue = _catalogue(emulator)
    received: dict[tuple[str, str], int] = {}
    for status in statuses:
        for item in status["itemStatus"]:
            receiving = item["receivingStatus"]
            if item["buyerProductIdentifier"] not in catalogue:
                continue  # another marketplace's purchase order
            if receiving.get("lastReceiveDate") and receiving["receivedQuantity"]["amount"]:
                key = (receiving["lastReceiveDate"][:10], item["buyerProductIdentifier"])
                received[key] = received.get(key, 0) + receiving["receivedQuantity"]["amount"]
    days = sorted({day for day, _ in received})
    assert days, "no purchase order was received: the check would prove nothing"
    busiest = max(days, key=lambda day: sum(units for (d, _), units in received.items() if d == day))
    day = date.fromisoformat(busiest)
    _, document = run_report(
        session,
        emulator,
        period_request(
            "GET_VENDOR_INVENTORY_REPORT",
            day,
            day,
            reportPeriod="DAY",
            distributorView="SOURCING",
            sellingProgram="RETAIL",
        ),
    )
    reported = {row["asin"]: row["netReceivedInventoryUnits"] for row in document["inventoryByAsin"]}
    expected = {asin: units for (d, asin), units in received.items() if d == busiest}
    assert expected and all(reported[asin] == units for asin, units in expected.items())
    assert sum(reported.values()) == sum(expected.values())


def _purchase_order_statuses(emulator: RunningEmulator) -> list[dict[str, Any]]:
    session = emulator.session("acme-na")
    now = emulator.sandbox.clock.now()
    params: dict[str, Any] = {
        "updatedAfter": stamp(now - timedelta(days=120)),
        "updatedBefore": stamp(now + timedelta(minutes=1)),
        "limit": 100,
    }
    found: list[dict[str, Any]] = []
    while True:
        payload = session.get(
            f"{emulator.base_url}/vendor/orders/v1/purchaseOrdersStatus", params=params, timeout=10
        ).json()["payload"]
        found += payload["ordersStatus"]
        token = (payload.get("pagination") or {}).get("nextToken")
        if not token:
            return found
        params = {
            "nextToken": token,
            **{key: params[key] for key in ("updatedAfter", "updatedBefore", "limit")},
        }
