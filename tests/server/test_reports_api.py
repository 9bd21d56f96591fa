"""The Reports API from a client's side: a report's life on the sandbox clock (IN_QUEUE, IN_PROGRESS, DONE),
cancelling while queued and only then, getReports with every filter, Amazon's defaults and stable paging,
another account's reports unseen, schedules that create reports as the clock moves, restart, usage plans,
the journal and faults."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.domain.reports import periods
from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server.reports_support import (
    REPORTS,
    SCHEDULES,
    create,
    document_of,
    every_type_request,
    last_period,
    period_request,
    report,
    reports_emulator,
    stamp,
    wait_until_processed,
)

PROCESSING = 60.0  # sandbox seconds: IN_QUEUE 30, IN_PROGRESS 30, then done


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """Reports done as soon as they are read."""
    yield from reports_emulator(tmp_path_factory, "reports-api")


@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """Reports that take PROCESSING seconds of sandbox time."""
    yield from reports_emulator(tmp_path_factory, "reports-api-slow", report_processing_time=PROCESSING)


@pytest.fixture(scope="module")
def session(emulator: RunningEmulator) -> requests.Session:
    return emulator.session("acme-na")


@pytest.fixture
def frozen(slow: RunningEmulator) -> Iterator[RunningEmulator]:
    """The slow emulator with its sandbox clock frozen for the test (through the admin API)."""
    _clock(slow, {"freeze": True})
    yield slow
    _clock(slow, {"freeze": False})


@pytest.fixture
def slow_session(slow: RunningEmulator) -> requests.Session:
    return slow.session("acme-na")


def _clock(emulator: RunningEmulator, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(f"{emulator.base_url}/_sandbox/clock", json=body, timeout=10)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _advance(emulator: RunningEmulator, seconds: float) -> None:
    _clock(emulator, {"advance": seconds})


def _sales(emulator: RunningEmulator, **options: str) -> dict[str, Any]:
    return every_type_request(emulator, "GET_VENDOR_SALES_REPORT", **options)


# -- a report's life -----------------------------------------------------------------------------------------


def test_a_report_is_queued_then_in_progress_then_done_on_the_sandbox_clock(
    frozen: RunningEmulator, slow_session: requests.Session
) -> None:
    emulator = frozen
    report_id = create(slow_session, emulator, _sales(emulator))

    queued = report(slow_session, emulator, report_id)
    assert queued["processingStatus"] == "IN_QUEUE"
    assert "processingStartTime" not in queued and "reportDocumentId" not in queued
    _advance(emulator, PROCESSING / 2 + 1)
    started = report(slow_session, emulator, report_id)
    assert started["processingStatus"] == "IN_PROGRESS"
    assert started["processingStartTime"] > started["createdTime"]
    assert "processingEndTime" not in started
    _advance(emulator, PROCESSING / 2)
    done = report(slow_session, emulator, report_id)

    assert done["processingStatus"] == "DONE"
    assert done["processingEndTime"] > done["processingStartTime"]
    assert done["reportDocumentId"].startswith("amzn1.spdoc.1.4.na.")
    assert done["reportType"] == "GET_VENDOR_SALES_REPORT" and done["marketplaceIds"] == ["ATVPDKIKX0DER"]
    assert done["createdTime"].endswith("+00:00")
    assert document_of(slow_session, emulator, done)["salesByAsin"]


def test_a_queued_report_can_be_cancelled_and_stays_cancelled(
    frozen: RunningEmulator, slow_session: requests.Session
) -> None:
    emulator = frozen
    report_id = create(slow_session, emulator, _sales(emulator))

    response = slow_session.delete(f"{emulator.base_url}{REPORTS}/{report_id}", timeout=10)

    assert response.status_code == 200 and response.content == b""
    _advance(emulator, PROCESSING * 2)
    cancelled = report(slow_session, emulator, report_id)
    assert cancelled["processingStatus"] == "CANCELLED"
    assert "processingStartTime" not in cancelled and "reportDocumentId" not in cancelled
    again = slow_session.delete(f"{emulator.base_url}{REPORTS}/{report_id}", timeout=10)
    assert again.status_code == 400
    assert "only a report IN_QUEUE can be cancelled" in again.json()["errors"][0]["details"]


@pytest.mark.parametrize(("wait", "status"), [(PROCESSING / 2 + 1, "IN_PROGRESS"), (PROCESSING + 1, "DONE")])
def test_a_report_no_longer_queued_cannot_be_cancelled(
    frozen: RunningEmulator, slow_session: requests.Session, wait: float, status: str
) -> None:
    emulator = frozen
    report_id = create(slow_session, emulator, _sales(emulator))
    _advance(emulator, wait)

    response = slow_session.delete(f"{emulator.base_url}{REPORTS}/{report_id}", timeout=10)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    assert f"is {status}" in error["details"] and "report-cancel-in-queue" in error["details"]
    assert report(slow_session, emulator, report_id)["processingStatus"] == status


def test_a_report_the_processing_index_lost_is_still_decided(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    """Two processes writing the index of reports still processing at once may lose an entry: a report read
    after its processing time is decided then, whatever the index says."""
    report_id = create(session, emulator, _sales(emulator))
    emulator.sandbox.store.delete("reports.pending", "acme-na")

    found = report(session, emulator, report_id)

    assert found["processingStatus"] == "DONE" and found["reportDocumentId"]


def test_unknown_reports_are_not_found(emulator: RunningEmulator, session: requests.Session) -> None:
    for response in (
        session.get(f"{emulator.base_url}{REPORTS}/999999999999", timeout=10),
        session.delete(f"{emulator.base_url}{REPORTS}/999999999999", timeout=10),
        session.get(
            f"{emulator.base_url}/reports/2021-06-30/documents/amzn1.spdoc.1.4.na.nothing", timeout=10
        ),
        session.get(f"{emulator.base_url}{SCHEDULES}/99999999999", timeout=10),
        session.delete(f"{emulator.base_url}{SCHEDULES}/99999999999", timeout=10),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["errors"][0]["code"] == "NotFound"


def test_another_accounts_reports_are_unseen(emulator: RunningEmulator, session: requests.Session) -> None:
    found = wait_until_processed(session, emulator, create(session, emulator, _sales(emulator)))
    other = emulator.session("nordwind-eu")
    base = emulator.base_url

    assert other.get(f"{base}{REPORTS}/{found['reportId']}", timeout=10).status_code == 404
    assert other.delete(f"{base}{REPORTS}/{found['reportId']}", timeout=10).status_code == 404
    document = f"{base}/reports/2021-06-30/documents/{found['reportDocumentId']}"
    assert other.get(document, timeout=10).status_code == 404
    listed = other.get(f"{base}{REPORTS}", params={"reportTypes": "GET_VENDOR_SALES_REPORT"}, timeout=10)
    assert found["reportId"] not in [item["reportId"] for item in listed.json()["reports"]]
    assert session.get(document, timeout=10).status_code == 200


# -- getReports ----------------------------------------------------------------------------------------------


def _list(session: requests.Session, emulator: RunningEmulator, **params: Any) -> requests.Response:
    return session.get(emulator.base_url + REPORTS, params=params, timeout=10)


def test_get_reports_pages_newest_first_without_repeats(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    made = [
        create(session, emulator, every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT")) for _ in range(5)
    ]
    seen: list[str] = []
    response = _list(session, emulator, reportTypes="GET_VENDOR_TRAFFIC_REPORT", pageSize=2)
    pages = 0
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        assert len(page["reports"]) <= 2
        seen += [item["reportId"] for item in page["reports"]]
        if "nextToken" not in page:
            break
        create(
            session, emulator, every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT")
        )  # arrives meanwhile
        response = _list(session, emulator, nextToken=page["nextToken"])
    assert len(seen) == len(set(seen)) and set(made) <= set(seen) and pages >= 3
    created = [item for item in seen if item in made]
    assert created == sorted(created, key=made.index, reverse=True)


def test_get_reports_filters_by_status_marketplace_and_creation_window(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    canada = every_type_request(emulator, "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT")
    canada["marketplaceIds"] = ["A2EUQ1WTGCTBG2"]
    in_canada = create(session, emulator, canada)
    done = wait_until_processed(
        session,
        emulator,
        create(session, emulator, every_type_request(emulator, "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT")),
    )
    kind = "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT"

    def ids(**params: Any) -> set[str]:
        response = _list(session, emulator, reportTypes=kind, pageSize=100, **params)
        assert response.status_code == 200, response.text
        return {item["reportId"] for item in response.json()["reports"]}

    assert {in_canada, done["reportId"]} <= ids()
    assert ids(marketplaceIds="A2EUQ1WTGCTBG2") == {in_canada}
    assert done["reportId"] in ids(processingStatuses="DONE,CANCELLED")
    assert done["reportId"] not in ids(processingStatuses="IN_QUEUE")
    now = emulator.sandbox.clock.now()
    assert (
        ids(createdSince=stamp(now + timedelta(minutes=1)), createdUntil=stamp(now + timedelta(minutes=2)))
        == set()
    )
    assert ids(createdUntil=stamp(now - timedelta(days=1))) == set()
    assert done["reportId"] in ids(createdSince=stamp(now - timedelta(minutes=5)), createdUntil=stamp(now))


def test_reports_are_kept_ninety_days(tmp_path: Path) -> None:
    running = start_emulator(data_dir=tmp_path, store="memory", rate_scale=1000.0, report_processing_time=0.0)
    try:
        session = running.session("acme-na")
        report_id = create(session, running, _sales(running))
        listed = _list(session, running, reportTypes="GET_VENDOR_SALES_REPORT")
        assert [item["reportId"] for item in listed.json()["reports"]] == [report_id]
        requests.post(f"{running.base_url}/_sandbox/clock/advance", json={"seconds": 89 * 86400}, timeout=10)
        assert report(session, running, report_id)["processingStatus"] == "DONE"
        by_default = _list(session, running, reportTypes="GET_VENDOR_SALES_REPORT").json()["reports"]
        assert [item["reportId"] for item in by_default] == [
            report_id
        ]  # createdSince defaults to 90 days ago
        requests.post(f"{running.base_url}/_sandbox/clock/advance", json={"seconds": 2 * 86400}, timeout=10)
        assert session.get(f"{running.base_url}{REPORTS}/{report_id}", timeout=10).status_code == 404
        assert _list(session, running, reportTypes="GET_VENDOR_SALES_REPORT").json()["reports"] == []
    finally:
        running.stop()


# -- schedules -----------------------------------------------------------------------------------------------


def _schedule(session: requests.Session, emulator: RunningEmulator, **body: Any) -> requests.Response:
    return session.post(emulator.base_url + SCHEDULES, json=body, timeout=10)


def test_a_schedule_creates_its_reports_as_the_clock_moves(
    frozen: RunningEmulator, slow_session: requests.Session
) -> None:
    emulator = frozen
    response = _schedule(
        slow_session,
        emulator,
        reportType="GET_VENDOR_SALES_REPORT",
        marketplaceIds=["ATVPDKIKX0DER"],
        reportOptions={"reportPeriod": "DAY", "distributorView": "SOURCING", "sellingProgram": "RETAIL"},
        period="P1D",
    )
    assert response.status_code == 201, response.text
    schedule_id = response.json()["reportScheduleId"]
    first = slow_session.get(f"{emulator.base_url}{SCHEDULES}/{schedule_id}", timeout=10).json()

    _advance(emulator, 2 * 86400 + 120)

    later = slow_session.get(f"{emulator.base_url}{SCHEDULES}/{schedule_id}", timeout=10).json()
    assert later["nextReportCreationTime"] > first["nextReportCreationTime"]
    assert later["period"] == "P1D" and later["reportOptions"]["reportPeriod"] == "DAY"
    listed = _list(slow_session, emulator, reportTypes="GET_VENDOR_SALES_REPORT", pageSize=100).json()[
        "reports"
    ]
    made = [item for item in listed if item.get("reportScheduleId") == schedule_id]
    assert len(made) == 3  # at creation, one day later, two days later
    assert all(item["processingStatus"] == "DONE" for item in made)
    day_reports = sorted(made, key=lambda item: item["createdTime"])
    for item in day_reports:  # each covers the day that ended before it was created
        assert item["dataStartTime"][:10] == item["dataEndTime"][:10] < item["createdTime"][:10]
    cancel = slow_session.delete(f"{emulator.base_url}{SCHEDULES}/{schedule_id}", timeout=10)
    assert cancel.status_code == 200
    _advance(emulator, 2 * 86400)
    after = _list(slow_session, emulator, reportTypes="GET_VENDOR_SALES_REPORT", pageSize=100).json()[
        "reports"
    ]
    assert len([item for item in after if item.get("reportScheduleId") == schedule_id]) == 3


def test_a_new_schedule_replaces_the_one_of_the_same_type_and_marketplaces(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    body = {
        "reportType": "GET_VENDOR_FORECASTING_REPORT",
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "period": "P7D",
        "reportOptions": {"sellingProgram": "RETAIL"},
    }
    first = _schedule(session, emulator, **body).json()["reportScheduleId"]
    elsewhere = _schedule(session, emulator, **{**body, "marketplaceIds": ["A2EUQ1WTGCTBG2"]}).json()
    second = _schedule(session, emulator, **{**body, "period": "P14D"}).json()["reportScheduleId"]

    listed = session.get(
        emulator.base_url + SCHEDULES, params={"reportTypes": "GET_VENDOR_FORECASTING_REPORT"}, timeout=10
    ).json()["reportSchedules"]

    assert {item["reportScheduleId"] for item in listed} == {second, elsewhere["reportScheduleId"]}
    assert session.get(f"{emulator.base_url}{SCHEDULES}/{first}", timeout=10).status_code == 404
    assert next(item for item in listed if item["reportScheduleId"] == second)["period"] == "P14D"


def test_a_schedule_starts_at_the_time_asked(emulator: RunningEmulator, session: requests.Session) -> None:
    start = emulator.sandbox.clock.now() + timedelta(days=3)
    response = _schedule(
        session,
        emulator,
        reportType="GET_VENDOR_REAL_TIME_SALES_REPORT",
        marketplaceIds=["ATVPDKIKX0DER"],
        period="PT1H",
        nextReportCreationTime=stamp(start),
    )
    schedule = session.get(
        f"{emulator.base_url}{SCHEDULES}/{response.json()['reportScheduleId']}", timeout=10
    )
    assert schedule.json()["nextReportCreationTime"] == start.replace(microsecond=0).isoformat()


# -- restart, usage plans, journal, faults -------------------------------------------------------------------


def test_a_restart_loses_no_report_document_or_schedule(tmp_path: Path) -> None:
    settings = {
        "data_dir": tmp_path,
        "store": "sqlite",
        "rate_scale": 1000.0,
        "report_processing_time": 0.0,
        "seed_size": 60,
    }
    running = start_emulator(**settings)
    try:
        session = running.session("acme-na")
        done = wait_until_processed(session, running, create(session, running, _sales(running)))
        url = session.get(
            f"{running.base_url}/reports/2021-06-30/documents/{done['reportDocumentId']}", timeout=10
        ).json()["url"]
        schedule = _schedule(
            session,
            running,
            reportType="GET_VENDOR_TRAFFIC_REPORT",
            marketplaceIds=["ATVPDKIKX0DER"],
            period="P30D",
            reportOptions={"reportPeriod": "WEEK"},
        ).json()["reportScheduleId"]
        document = document_of(session, running, done)
    finally:
        running.stop()
    again = start_emulator(**settings)
    try:
        session = again.session("acme-na")
        assert report(session, again, done["reportId"]) == done
        assert document_of(session, again, done) == document
        port = again.base_url.rsplit(":", 1)[1]
        old_url = url.replace(
            url.split("/")[2], f"127.0.0.1:{port}"
        )  # the URL issued before, on the new port
        assert requests.get(old_url, timeout=10).status_code == 200
        listed = session.get(
            f"{again.base_url}{SCHEDULES}", params={"reportTypes": "GET_VENDOR_TRAFFIC_REPORT"}, timeout=10
        )
        assert [item["reportScheduleId"] for item in listed.json()["reportSchedules"]] == [schedule]
    finally:
        again.stop()


def test_create_report_follows_amazons_usage_plan(fresh_emulator: RunningEmulator) -> None:
    session = fresh_emulator.session("acme-na")
    body = every_type_request(fresh_emulator, "GET_VENDOR_TRAFFIC_REPORT")
    answers = [session.post(fresh_emulator.base_url + REPORTS, json=body, timeout=10) for _ in range(16)]

    assert [answer.status_code for answer in answers] == [202] * 15 + [429]
    assert answers[0].headers["x-amzn-RateLimit-Limit"] == "0.0167"
    assert answers[-1].json()["errors"][0]["code"] == "QuotaExceeded"


def test_reports_calls_are_journaled_and_take_faults(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    created = session.post(emulator.base_url + REPORTS, json=_sales(emulator), timeout=10)
    entry = emulator.sandbox.journal.query(request_id=created.headers["x-amzn-RequestId"], limit=1)[0]
    assert (entry.operation_id, entry.answered_by, entry.status) == ("createReport", "stateful", 202)

    faulted = session.get(
        f"{emulator.base_url}{REPORTS}/{created.json()['reportId']}",
        headers={"x-vendor-sandbox-fault": "service_unavailable"},
        timeout=10,
    )
    assert faulted.status_code == 503
    assert faulted.json()["errors"][0]["code"] == "ServiceUnavailable"


def test_a_read_only_account_reads_its_reports(emulator: RunningEmulator) -> None:
    session = emulator.session("globex-readonly")
    listed = session.get(
        emulator.base_url + REPORTS, params={"reportTypes": "GET_VENDOR_SALES_REPORT"}, timeout=10
    )
    assert listed.status_code == 200 and listed.json() == {"reports": []}
    refused = session.post(emulator.base_url + REPORTS, json=_sales(emulator), timeout=10)
    assert refused.status_code == 403


def test_every_ended_week_of_the_last_seven_is_done(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    _, last = last_period(emulator, periods.WEEK)
    first = last - timedelta(days=48)
    body = period_request("GET_VENDOR_TRAFFIC_REPORT", first, last, reportPeriod="WEEK")
    found = wait_until_processed(session, emulator, create(session, emulator, body))
    assert found["processingStatus"] == "DONE"
    assert document_of(session, emulator, found)["trafficAggregate"][-1]["endDate"] == last.isoformat()


def test_a_reset_forgets_every_report_document_and_schedule(tmp_path: Path) -> None:
    running = start_emulator(data_dir=tmp_path, store="memory", rate_scale=1000.0, report_processing_time=0.0)
    try:
        session = running.session("acme-na")
        done = wait_until_processed(session, running, create(session, running, _sales(running)))
        url = session.get(
            f"{running.base_url}/reports/2021-06-30/documents/{done['reportDocumentId']}", timeout=10
        ).json()["url"]
        schedule = _schedule(
            session,
            running,
            reportType="GET_VENDOR_TRAFFIC_REPORT",
            marketplaceIds=["ATVPDKIKX0DER"],
            period="P1D",
            reportOptions={"reportPeriod": "DAY"},
        ).json()["reportScheduleId"]

        assert requests.post(f"{running.base_url}/_sandbox/reset", timeout=30).status_code == 200

        assert session.get(f"{running.base_url}{REPORTS}/{done['reportId']}", timeout=10).status_code == 404
        assert session.get(f"{running.base_url}{SCHEDULES}/{schedule}", timeout=10).status_code == 404
        assert requests.get(url, timeout=10).status_code == 404
    finally:
        running.stop()


def test_concurrent_clients_get_every_report_once(emulator: RunningEmulator) -> None:
    body = every_type_request(emulator, "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT")

    def create_and_read(_: int) -> dict[str, Any]:
        session = emulator.session("nordwind-eu")
        nordwind = {**body, "marketplaceIds": ["A1PA6795UKMFR9"]}
        return wait_until_processed(session, emulator, create(session, emulator, nordwind))

    with ThreadPoolExecutor(max_workers=8) as pool:
        reports = list(pool.map(create_and_read, range(16)))

    assert len({item["reportId"] for item in reports}) == 16
    assert {item["processingStatus"] for item in reports} == {"DONE"}
    assert len({item["reportDocumentId"] for item in reports}) == 16
    listed = emulator.session("nordwind-eu").get(
        emulator.base_url + REPORTS,
        params={"reportTypes": "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT", "pageSize": 100},
        timeout=10,
    )
    assert {item["reportId"] for item in reports} <= {item["reportId"] for item in listed.json()["reports"]}
