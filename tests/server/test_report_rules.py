"""Each rule of the Reports API and the vendor report types (docs/RULES.md,
mockserver/domain/reports/rules.py) broken by one test: answered 400 at once, or accepted and ended FATAL
with Amazon's errorDetails document, or ended CANCELLED without a document."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.domain.reports.rules import RULES
from mockserver.testing.server import RunningEmulator
from tests.server.reports_support import (
    REPORTS,
    SCHEDULES,
    US,
    create,
    every_type_request,
    hours_request,
    period_request,
    reports_emulator,
    run_report,
    stamp,
    today,
    wait_until_processed,
)

RULES_DOC = Path(__file__).resolve().parents[2] / "docs" / "RULES.md"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from reports_emulator(tmp_path_factory, "report-rules", seed_size=60)


@pytest.fixture(scope="module")
def session(emulator: RunningEmulator) -> requests.Session:
    return emulator.session("acme-na")


Breaker = Callable[[RunningEmulator, requests.Session], None]
BREAKERS: dict[str, Breaker] = {}


def breaks(rule: str) -> Callable[[Breaker], Breaker]:
    def register(function: Breaker) -> Breaker:
        BREAKERS[rule] = function
        return function

    return register


def _refused(response: requests.Response, message: str, details: str = "") -> None:
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    assert error["message"] == message
    assert details in error.get("details", "")


def _fatal(emulator: RunningEmulator, session: requests.Session, body: dict[str, Any], details: str) -> None:
    found, document = run_report(session, emulator, body)
    assert found["processingStatus"] == "FATAL", found
    assert found["reportDocumentId"] and document.keys() == {"errorDetails"}
    assert details in document["errorDetails"], document["errorDetails"]


# Answered at once -------------------------------------------------------------------------------------------


@breaks("report-type-known")
def _unknown_type(emulator: RunningEmulator, session: requests.Session) -> None:
    body = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [US]}
    _refused(
        session.post(emulator.base_url + REPORTS, json=body, timeout=10),
        "Invalid Report Type GET_MERCHANT_LISTINGS_ALL_DATA",
    )
    schedule = {**body, "period": "P1D"}
    _refused(
        session.post(emulator.base_url + SCHEDULES, json=schedule, timeout=10),
        "Invalid Report Type GET_MERCHANT_LISTINGS_ALL_DATA",
    )


@breaks("report-marketplace-own")
def _foreign_marketplace(emulator: RunningEmulator, session: requests.Session) -> None:
    body = every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT")
    body["marketplaceIds"] = ["A1F83G8C2ARO7P"]
    _refused(
        session.post(emulator.base_url + REPORTS, json=body, timeout=10), "Invalid input.", "A1F83G8C2ARO7P"
    )
    schedule = {**body, "period": "P1D"}
    _refused(
        session.post(emulator.base_url + SCHEDULES, json=schedule, timeout=10),
        "Invalid input.",
        "A1F83G8C2ARO7P",
    )


@breaks("report-dates-ordered")
def _reversed_dates(emulator: RunningEmulator, session: requests.Session) -> None:
    body = every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT")
    body["dataStartTime"], body["dataEndTime"] = body["dataEndTime"], body["dataStartTime"]
    _refused(
        session.post(emulator.base_url + REPORTS, json=body, timeout=10), "dataStartTime is after dataEndTime"
    )


@breaks("report-cancel-in-queue")
def _cancel_done(emulator: RunningEmulator, session: requests.Session) -> None:
    found = wait_until_processed(
        session,
        emulator,
        create(session, emulator, every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT")),
    )
    response = session.delete(f"{emulator.base_url}{REPORTS}/{found['reportId']}", timeout=10)
    _refused(response, "Invalid input.", "only a report IN_QUEUE can be cancelled")


@breaks("reports-filter-required")
def _no_filter(emulator: RunningEmulator, session: requests.Session) -> None:
    response = session.get(emulator.base_url + REPORTS, params={"pageSize": 5}, timeout=10)
    _refused(response, "Invalid input.", "either reportTypes or nextToken is required")


@breaks("reports-next-token-alone")
def _token_and_filters(emulator: RunningEmulator, session: requests.Session) -> None:
    for _ in range(2):
        create(session, emulator, every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT"))
    page = session.get(
        emulator.base_url + REPORTS,
        params={"reportTypes": "GET_VENDOR_TRAFFIC_REPORT", "pageSize": 1},
        timeout=10,
    ).json()
    params = {"nextToken": page["nextToken"], "reportTypes": "GET_VENDOR_TRAFFIC_REPORT"}
    _refused(
        session.get(emulator.base_url + REPORTS, params=params, timeout=10), "Invalid input.", "reportTypes"
    )
    alone = session.get(emulator.base_url + REPORTS, params={"nextToken": page["nextToken"]}, timeout=10)
    assert alone.status_code == 200
    foreign = emulator.session("nordwind-eu").get(
        emulator.base_url + REPORTS, params={"nextToken": page["nextToken"]}, timeout=10
    )
    _refused(foreign, "Invalid nextToken.")


@breaks("reports-created-window")
def _reversed_window(emulator: RunningEmulator, session: requests.Session) -> None:
    now = emulator.sandbox.clock.now()
    params = {
        "reportTypes": "GET_VENDOR_TRAFFIC_REPORT",
        "createdSince": stamp(now),
        "createdUntil": stamp(now - timedelta(days=1)),
    }
    _refused(
        session.get(emulator.base_url + REPORTS, params=params, timeout=10),
        "Invalid input.",
        "is after createdUntil",
    )


@breaks("schedule-next-creation-time")
def _schedule_in_the_past(emulator: RunningEmulator, session: requests.Session) -> None:
    body = {
        "reportType": "GET_VENDOR_TRAFFIC_REPORT",
        "marketplaceIds": [US],
        "period": "P1D",
        "reportOptions": {"reportPeriod": "DAY"},
        "nextReportCreationTime": stamp(emulator.sandbox.clock.now() - timedelta(days=1)),
    }
    _refused(
        session.post(emulator.base_url + SCHEDULES, json=body, timeout=10), "Invalid input.", "is in the past"
    )


# Accepted, then FATAL ---------------------------------------------------------------------------------------


@breaks("report-one-marketplace")
def _two_marketplaces(emulator: RunningEmulator, session: requests.Session) -> None:
    body = every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT")
    body["marketplaceIds"] = [US, "A2EUQ1WTGCTBG2"]
    _fatal(emulator, session, body, "accepts exactly one marketplaceId")


@breaks("report-options-required")
def _options_missing(emulator: RunningEmulator, session: requests.Session) -> None:
    body = every_type_request(emulator, "GET_VENDOR_SALES_REPORT")
    body["reportOptions"] = {"reportPeriod": "WEEK"}
    _fatal(
        emulator,
        session,
        body,
        "This report type requires the distributorView, sellingProgram reportOption to be specified. Please "
        "review the document for this report type on GitHub",
    )


@breaks("report-option-values")
def _option_value(emulator: RunningEmulator, session: requests.Session) -> None:
    body = every_type_request(emulator, "GET_VENDOR_INVENTORY_REPORT", sellingProgram="BUSINESS")
    _fatal(
        emulator,
        session,
        body,
        "The reportOption sellingProgram has an invalid value BUSINESS. Valid values for this report type "
        "are: RETAIL, FRESH",
    )


@breaks("report-dates-required")
def _no_dates(emulator: RunningEmulator, session: requests.Session) -> None:
    body = every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT")
    del body["dataStartTime"], body["dataEndTime"]
    _fatal(emulator, session, body, "requires dataStartTime and dataEndTime")


@breaks("report-no-dates")
def _forecast_with_dates(emulator: RunningEmulator, session: requests.Session) -> None:
    body = every_type_request(emulator, "GET_VENDOR_FORECASTING_REPORT")
    body["dataStartTime"] = stamp(today(emulator) - timedelta(days=7))
    _fatal(emulator, session, body, "takes no date range")


@breaks("report-period-aligned")
def _week_from_monday(emulator: RunningEmulator, session: requests.Session) -> None:
    sunday = today(emulator) - timedelta(days=(today(emulator).weekday() + 1) % 7 + 14)
    monday = sunday + timedelta(days=1)
    body = period_request(
        "GET_VENDOR_TRAFFIC_REPORT", monday, monday + timedelta(days=6), reportPeriod="WEEK"
    )
    _fatal(emulator, session, body, "dataStartTime must be a Sunday and dataEndTime a Saturday")
    month = period_request(
        "GET_VENDOR_TRAFFIC_REPORT",
        sunday.replace(day=2),
        sunday.replace(day=1) + timedelta(days=40),
        reportPeriod="MONTH",
    )
    _fatal(emulator, session, month, "dataStartTime must be the first day of a month")


@breaks("report-period-ended")
def _today(emulator: RunningEmulator, session: requests.Session) -> None:
    body = period_request("GET_VENDOR_TRAFFIC_REPORT", today(emulator), today(emulator), reportPeriod="DAY")
    _fatal(emulator, session, body, "has not ended yet")


@breaks("report-lookback")
def _too_far_back(emulator: RunningEmulator, session: requests.Session) -> None:
    day = today(emulator) - timedelta(days=1461)
    body = period_request("GET_VENDOR_TRAFFIC_REPORT", day, day, reportPeriod="DAY")
    _fatal(emulator, session, body, "beyond the maximum lookback of 1460 days for reportPeriod DAY")


@breaks("report-max-periods")
def _too_many_days(emulator: RunningEmulator, session: requests.Session) -> None:
    last = today(emulator) - timedelta(days=1)
    body = period_request("GET_VENDOR_TRAFFIC_REPORT", last - timedelta(days=15), last, reportPeriod="DAY")
    _fatal(emulator, session, body, "spans 16 days; reportPeriod DAY allows at most 15 days")


@breaks("report-real-time-window")
def _hours_outside(emulator: RunningEmulator, session: requests.Session) -> None:
    now = emulator.sandbox.clock.now()
    old = hours_request(
        "GET_VENDOR_REAL_TIME_INVENTORY_REPORT", now - timedelta(hours=170), now - timedelta(hours=160)
    )
    _fatal(emulator, session, old, "more than 168 hours before the request")
    long = hours_request(
        "GET_VENDOR_REAL_TIME_INVENTORY_REPORT", now - timedelta(hours=30), now - timedelta(hours=1)
    )
    _fatal(emulator, session, long, "more than 24 hours after dataStartTime")
    recent = hours_request(
        "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT", now - timedelta(hours=3), now - timedelta(minutes=10)
    )
    _fatal(emulator, session, recent, "at least 60 minutes before the request")
    month = hours_request(
        "GET_VENDOR_REAL_TIME_SALES_REPORT", now - timedelta(days=31), now - timedelta(days=30, hours=20)
    )
    _fatal(emulator, session, month, "more than 30 days before the request")
    future = hours_request(
        "GET_VENDOR_REAL_TIME_SALES_REPORT", now - timedelta(hours=2), now + timedelta(hours=2)
    )
    _fatal(emulator, session, future, "is in the future")


@breaks("report-currency")
def _other_currency(emulator: RunningEmulator, session: requests.Session) -> None:
    body = every_type_request(emulator, "GET_VENDOR_REAL_TIME_SALES_REPORT", currencyCode="EUR")
    _fatal(emulator, session, body, "currencyCode EUR is not the currency of the marketplace (USD)")


@breaks("report-start-date-range")
def _campaign_range(emulator: RunningEmulator, session: requests.Session) -> None:
    now = emulator.sandbox.clock.now()
    reversed_range = every_type_request(
        emulator,
        "GET_COUPON_PERFORMANCE_REPORT",
        campaignStartDateFrom=stamp(now),
        campaignStartDateTo=stamp(now - timedelta(days=9)),
    )
    _fatal(emulator, session, reversed_range, "campaignStartDateFrom is after campaignStartDateTo")
    old = every_type_request(
        emulator, "GET_PROMOTION_PERFORMANCE_REPORT", promotionStartDateFrom=stamp(now - timedelta(days=1000))
    )
    _fatal(emulator, session, old, "more than two years before the request")
    garbled = every_type_request(emulator, "GET_COUPON_PERFORMANCE_REPORT", campaignStartDateFrom="last week")
    _fatal(emulator, session, garbled, "is not an ISO 8601 date-time")


# Accepted, then CANCELLED -----------------------------------------------------------------------------------


@breaks("report-no-data")
def _nothing_to_report(emulator: RunningEmulator, session: requests.Session) -> None:
    now = emulator.sandbox.clock.now()
    future_campaigns = every_type_request(
        emulator,
        "GET_COUPON_PERFORMANCE_REPORT",
        campaignStartDateFrom=stamp(now + timedelta(days=90)),
        campaignStartDateTo=stamp(now + timedelta(days=120)),
    )
    found, document = run_report(session, emulator, future_campaigns)
    assert found["processingStatus"] == "CANCELLED" and document is None


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_is_kept(emulator: RunningEmulator, session: requests.Session, rule: str) -> None:
    BREAKERS[rule](emulator, session)


def test_every_rule_has_a_breaker() -> None:
    assert set(BREAKERS) == set(RULES)


def test_the_reports_rules_table_of_the_docs_lists_exactly_these_rules() -> None:
    section = RULES_DOC.read_text(encoding="utf-8").split("# Reports rules", 1)[1]
    rows = re.findall(
        r"^\| [^|`]+ \| `([a-z-]+)` \| (400 InvalidInput|FATAL|CANCELLED) \|", section, flags=re.MULTILINE
    )
    assert sorted(name for name, _ in rows) == sorted(RULES)
    assert all(RULES[name].code == outcome.removeprefix("400 ") for name, outcome in rows)
