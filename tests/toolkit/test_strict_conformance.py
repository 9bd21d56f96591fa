"""Strict mode and the conformance report: Amazon's requirements beyond the schema, per operation."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.cli import main
from mockserver.testing import mock_sp_api
from mockserver.testing.inprocess import SpApiMock
from mockserver.testing.served import VendorSandbox

NA = "https://sellingpartnerapi-na.amazon.com"
ORDERS = "/vendor/orders/v1/purchaseOrders"


def _session(mock: SpApiMock, name: str | None = None) -> requests.Session:
    account = mock.credentials(name)
    token = requests.post(
        "https://api.amazon.com/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": account["refresh_token"],
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
        timeout=5,
    ).json()["access_token"]
    session = requests.Session()
    session.headers["x-amz-access-token"] = token
    return session


def _rules(report: dict[str, Any], operation_id: str) -> dict[str, dict[str, Any]]:
    row = next(row for row in report["operations"] if row["operation_id"] == operation_id)
    return {item["rule"]: item for item in row["violations"]}


def _error(response: requests.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["errors"][0]
    return error


def test_strict_mode_refuses_a_date_time_without_utc_zone_with_amazons_400() -> None:
    with mock_sp_api(strict=True) as mock:
        session = _session(mock)
        local = session.get(f"{NA}{ORDERS}", params={"createdAfter": "2024-01-01T00:00:00"}, timeout=5)
        offset = session.get(f"{NA}{ORDERS}", params={"createdAfter": "2024-01-01T02:00:00+02:00"}, timeout=5)
        utc = session.get(f"{NA}{ORDERS}", params={"createdAfter": "2024-01-01T00:00:00Z"}, timeout=5)
        isoformat = session.get(f"{NA}{ORDERS}", params={"createdAfter": "2024-01-01T00:00:00.123456+00:00"})
    assert (local.status_code, offset.status_code, utc.status_code, isoformat.status_code) == (
        400,
        400,
        200,
        200,
    )
    assert _error(local) == {
        "code": "InvalidInput",
        "message": "Invalid value for parameter 'createdAfter'.",
        "details": "'2024-01-01T00:00:00' is not an ISO 8601 UTC date-time.",
    }
    assert local.headers["x-vendor-sandbox-violations"] == "date-time-utc"


def test_lenient_mode_accepts_what_strict_mode_refuses() -> None:
    with mock_sp_api() as mock:
        response = _session(mock).get(
            f"{NA}{ORDERS}", params={"createdAfter": "2024-01-01T00:00:00"}, timeout=5
        )
        report = mock.conformance()
    assert response.status_code == 200
    assert report["conforms"] is True


def test_strict_mode_refuses_an_invented_next_token_and_accepts_an_issued_one() -> None:
    with mock_sp_api(strict=True) as mock:
        session = _session(mock)
        first = session.get(f"{NA}{ORDERS}", params={"limit": 1}, timeout=5).json()
        issued = first["payload"]["pagination"]["nextToken"]
        second = session.get(f"{NA}{ORDERS}", params={"limit": 1, "nextToken": issued}, timeout=5)
        invented = session.get(f"{NA}{ORDERS}", params={"limit": 1, "nextToken": "page-2"}, timeout=5)
    assert second.status_code == 200
    assert invented.status_code == 400
    assert _error(invented)["code"] == "InvalidInput"
    assert invented.headers["x-vendor-sandbox-violations"] == "next-token"


def test_strict_mode_refuses_a_marketplace_of_another_account() -> None:
    with mock_sp_api(strict=True) as mock:
        session = _session(mock, "acme-na")
        response = session.post(
            f"{NA}/reports/2021-06-30/reports",
            json={"reportType": "GET_VENDOR_SALES_REPORT", "marketplaceIds": ["A1PA6795UKMFR9"]},
            timeout=5,
        )
        own = session.post(
            f"{NA}/reports/2021-06-30/reports",
            json={"reportType": "GET_VENDOR_SALES_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]},
            timeout=5,
        )
    assert response.status_code == 400
    assert response.headers["x-vendor-sandbox-violations"] == "marketplace-id"
    assert own.status_code == 202


def test_strict_mode_wants_a_restricted_data_token_for_personal_data() -> None:
    path = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
    window = {"createdAfter": "2024-01-01T00:00:00Z", "createdBefore": "2024-01-02T00:00:00Z"}
    with mock_sp_api(strict=True) as mock:
        session = _session(mock)
        access_token = session.get(f"{NA}{path}", params=window, timeout=5)
        rdt = session.post(
            f"{NA}/tokens/2021-03-01/restrictedDataToken",
            json={"restrictedResources": [{"method": "GET", "path": path}]},
            timeout=5,
        ).json()["restrictedDataToken"]
        restricted = requests.get(
            f"{NA}{path}", params=window, headers={"x-amz-access-token": rdt}, timeout=5
        )
    assert access_token.status_code == 403
    assert _error(access_token)["code"] == "Unauthorized"
    assert access_token.headers["x-vendor-sandbox-violations"] == "token-kind"
    assert restricted.status_code == 200


def test_strict_mode_reports_extra_parameters_and_properties_but_answers_them() -> None:
    with mock_sp_api(strict=True) as mock:
        session = _session(mock)
        extra_query = session.get(f"{NA}{ORDERS}", params={"limit": 1, "pageSize": 5}, timeout=5)
        extra_body = session.post(
            f"{NA}/reports/2021-06-30/reports",
            json={
                "reportType": "GET_VENDOR_SALES_REPORT",
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "color": "red",
            },
            timeout=5,
        )
        report = mock.conformance()
    assert extra_query.status_code == 200
    assert extra_query.headers["x-vendor-sandbox-violations"] == "extra-query-parameter"
    assert extra_body.status_code == 202
    assert extra_body.headers["x-vendor-sandbox-violations"] == "extra-body-property"
    assert "'color' was unexpected" in _rules(report, "createReport")["extra-body-property"]["message"]


def test_strict_mode_can_be_switched_per_test_through_the_admin_api() -> None:
    with mock_sp_api() as mock:
        session = _session(mock)
        mock.admin.strict(True)
        refused = session.get(f"{NA}{ORDERS}", params={"createdAfter": "2024-01-01"}, timeout=5)
        mock.admin.strict(False)
        lenient = session.get(f"{NA}{ORDERS}", params={"createdAfter": "2024-01-01T00:00"}, timeout=5)
    assert refused.status_code == 400
    assert lenient.status_code == 200


class NonConformingClient:
    """A client with three classic mistakes: local date-times, invented page tokens, and retrying a 429 at
    once."""

    def __init__(self, session: requests.Session) -> None:
        self.session = session

    def orders_since(self, when: str) -> requests.Response:
        return self.session.get(f"{NA}{ORDERS}", params={"createdAfter": when}, timeout=5)

    def page(self, number: int) -> requests.Response:
        return self.session.get(f"{NA}{ORDERS}", params={"nextToken": f"page-{number}"}, timeout=5)

    def hammer(self, times: int) -> list[int]:
        return [
            self.session.get(
                f"{NA}/reports/2021-06-30/reports",
                params={"reportTypes": "GET_VENDOR_SALES_REPORT"},
                timeout=5,
            ).status_code
            for _ in range(times)
        ]


def test_the_conformance_report_catches_a_non_conforming_client(tmp_path: Path) -> None:
    with mock_sp_api(strict=True) as mock:
        client = NonConformingClient(_session(mock))
        client.orders_since("2024-01-31 10:00:00")
        client.page(2)
        statuses = client.hammer(14)  # getReports: burst 10, then one request every 45 s
        report = mock.conformance()
        junit = mock.app.test_client().get("/_sandbox/report/conformance?format=junit").text
    assert statuses[:10] == [200] * 10 and set(statuses[10:]) == {429}
    assert report["conforms"] is False
    orders = _rules(report, "getPurchaseOrders")
    assert set(orders) == {"date-time-utc", "next-token"}
    assert orders["date-time-utc"]["example"]["query"] == {"createdAfter": ["2024-01-31 10:00:00"]}
    assert orders["next-token"]["example"]["query"] == {"nextToken": ["page-2"]}
    ignored = _rules(report, "getReports")["ignored-429"]
    assert (
        ignored["count"] == 3
    )  # the first 429 is the service's to give; the three after it are the client's
    assert ignored["example"]["status"] == 429
    never = {item["operation_id"] for item in report["never_exercised"]}
    assert "submitAcknowledgement" in never and "getPurchaseOrders" not in never
    failures = {
        case.get("name")
        for case in ElementTree.fromstring(junit).iter("testcase")
        if case.find("failure") is not None
    }
    assert failures == {"getPurchaseOrders", "getReports"}


def test_a_client_that_waits_after_a_429_conforms() -> None:
    status_path = f"{NA}/vendor/orders/v1/purchaseOrdersStatus"  # scaled to 2 requests/s, burst 2
    with mock_sp_api(strict=True, rate_scale=0.2) as mock:
        session = _session(mock)
        statuses = []
        while 429 not in statuses and len(statuses) < 100:
            statuses.append(session.get(status_path, timeout=5).status_code)
        time.sleep(0.6)  # more than 1/rate
        retried = session.get(status_path, timeout=5)
        report = mock.conformance()
    assert statuses[-1] == 429
    assert retried.status_code == 200
    assert report["conforms"] is True, report


def test_report_conformance_command_prints_the_report_and_writes_junit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = VendorSandbox(strict=True)
    try:
        session = sandbox.session()
        session.get(ORDERS, params={"createdAfter": "2024-01-31"})
        session.get(ORDERS, params={"limit": 2})
        junit = tmp_path / "conformance.xml"
        code = main(["report", "conformance", "--url", sandbox.base_url, "--junit", str(junit)])
        output = capsys.readouterr().out
        as_json = main(["report", "conformance", "--url", sandbox.base_url, "--json"])
        document = json.loads(capsys.readouterr().out)
    finally:
        sandbox.stop()
    assert code == 1 and as_json == 1
    assert "FAIL getPurchaseOrders" in output
    assert "contract x1" in output  # a date without a time fails the contract itself
    assert document["calls"] == 2
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_calls_to_paths_no_contract_defines_are_violations_named_by_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A client calling an operation that does not exist (a typo, a version Amazon never published, a wrong
    method) must not get a clean report: the journal has the calls, so the report names them."""
    sandbox = VendorSandbox()
    try:
        session = sandbox.session()
        assert session.get(ORDERS, params={"limit": 1}).status_code == 200
        assert session.get("/vendor/orders/v2/purchaseOrders").status_code == 404
        assert session.get("/vendor/orders/v2/purchaseOrders").status_code == 404
        assert session.delete(ORDERS).status_code == 405
        requests.get(f"{sandbox.base_url}/_sandbox/health", timeout=10)  # admin calls are not the client's
        junit = tmp_path / "conformance.xml"
        code = main(["report", "conformance", "--url", sandbox.base_url, "--junit", str(junit)])
        output = capsys.readouterr().out
        report = sandbox.conformance()
    finally:
        sandbox.reset()
        sandbox.stop()
    assert code == 1
    assert report["conforms"] is False and report["violation_count"] == 3 and report["calls"] == 4
    assert [(row["method"], row["path"], row["calls"]) for row in report["undefined"]] == [
        ("DELETE", ORDERS, 1),
        ("GET", "/vendor/orders/v2/purchaseOrders", 2),
    ]
    assert report["undefined"][1]["rule"] == "undefined-operation"
    assert "/vendor/orders/v2/purchaseOrders" in report["undefined"][1]["message"]
    assert "FAIL (no operation)" in output and "GET /vendor/orders/v2/purchaseOrders" in output
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "2"
    names = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert names == {f"DELETE {ORDERS}", "GET /vendor/orders/v2/purchaseOrders"}


def test_merged_reports_keep_the_undefined_calls() -> None:
    from mockserver.conformance import merge_reports

    with mock_sp_api() as first:
        _session(first).get(f"{NA}/vendor/nothing/here", timeout=5)
        one = first.conformance()
    with mock_sp_api() as second:
        _session(second).get(f"{NA}/vendor/nothing/here", timeout=5)
        two = second.conformance()
    merged = merge_reports([one, two])
    assert [(row["path"], row["calls"]) for row in merged["undefined"]] == [("/vendor/nothing/here", 2)]
    assert merged["conforms"] is False and merged["violation_count"] == 2


def test_serve_strict_turns_strict_mode_on() -> None:
    from mockserver.cli import _settings_from, build_parser

    assert _settings_from(build_parser().parse_args(["serve", "--strict"])).strict is True
    assert _settings_from(build_parser().parse_args(["serve"])).strict is False


def test_python_amazon_sp_api_calls_are_checked_in_strict_mode() -> None:
    from sp_api.api import VendorOrders
    from sp_api.base import Marketplaces, SellingApiException

    with mock_sp_api(strict=True) as mock:
        account = mock.credentials()
        credentials = {
            "refresh_token": account["refresh_token"],
            "lwa_app_id": account["client_id"],
            "lwa_client_secret": account["client_secret"],
        }
        orders = VendorOrders(credentials=credentials, marketplace=Marketplaces.US)
        assert orders.get_purchase_orders(limit=2, createdAfter="2024-01-01T00:00:00Z").payload["orders"]
        with pytest.raises(SellingApiException):
            orders.get_purchase_orders(limit=2, createdAfter="2024-01-01T00:00:00+02:00")
        report = mock.conformance()
    rules = _rules(report, "getPurchaseOrders")
    assert rules["date-time-utc"]["count"] == 1
    # python-amazon-sp-api adds MarketplaceId, MarketplaceIds, marketplaceIds and marketplace_ids to every
    # call: Amazon tolerates them, strict mode reports them.
    assert set(rules) == {"date-time-utc", "extra-query-parameter"}
    assert rules["extra-query-parameter"]["example"]["query"]["MarketplaceId"] == ["ATVPDKIKX0DER"]
