"""Helpers for the Reports tests: an emulator whose reports are done at once, requests for every vendor report
type over ranges that have ended, and a client's create -> poll -> download -> parse done with `requests`."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from mockserver.domain.reports import periods
from mockserver.domain.reports.report_types import REPORT_TYPES
from mockserver.testing.server import RunningEmulator, start_emulator
from tests.reference import reference_report_schemas_dir

REPORTS = "/reports/2021-06-30/reports"
SCHEDULES = "/reports/2021-06-30/schedules"
DOCUMENTS = "/reports/2021-06-30/documents"
US = "ATVPDKIKX0DER"


def reports_emulator(
    tmp_path_factory: pytest.TempPathFactory, name: str, **settings: Any
) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp(name),
        store=settings.pop("store", "memory"),
        rate_scale=settings.pop("rate_scale", 1000.0),
        processing_delay=0.05,
        report_processing_time=settings.pop("report_processing_time", 0.0),
        seed_size=settings.pop("seed_size", 120),
        **settings,
    )
    yield running
    running.stop()


def stamp(moment: datetime | date, end_of_day: bool = False) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{moment.isoformat()}T{'23:59:59' if end_of_day else '00:00:00'}Z"


def today(emulator: RunningEmulator) -> date:
    return emulator.sandbox.clock.now().date()


def period_request(
    report_type: str, first: date, last: date, marketplace: str = US, **options: str
) -> dict[str, Any]:
    return {
        "reportType": report_type,
        "marketplaceIds": [marketplace],
        "reportOptions": options,
        "dataStartTime": stamp(first),
        "dataEndTime": stamp(last, end_of_day=True),
    }


def last_period(emulator: RunningEmulator, period: str) -> tuple[date, date]:
    return periods.last_ended_period(today(emulator), period)


def hours_request(
    report_type: str, start: datetime, end: datetime, marketplace: str = US, **options: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reportType": report_type,
        "marketplaceIds": [marketplace],
        "dataStartTime": stamp(start),
        "dataEndTime": stamp(end),
    }
    if options:
        body["reportOptions"] = options
    return body


def every_type_request(emulator: RunningEmulator, report_type: str, **options: str) -> dict[str, Any]:
    """A request of the type over a range that has ended, with Amazon's required options (`options` win)."""
    now = emulator.sandbox.clock.now()
    kind = REPORT_TYPES[report_type]
    defaults: dict[str, str] = {}
    for option in kind.options:
        if option.required and option.values:
            defaults[option.name] = "WEEK" if option.name == "reportPeriod" else option.values[0]
    defaults.update(options)
    if kind.dates == "period":
        first, last = last_period(emulator, defaults["reportPeriod"])
        return period_request(report_type, first, last, **defaults)
    if kind.dates == "hours":
        end = now.replace(minute=0, second=0) - timedelta(hours=1)
        return hours_request(report_type, end - timedelta(hours=3), end, **defaults)
    if kind.dates == "options":
        names = kind.required_options
        defaults.setdefault(names[0], stamp(now - timedelta(days=400)))
        defaults.setdefault(names[1], stamp(now))
    return {"reportType": report_type, "marketplaceIds": [US], "reportOptions": defaults}


def create(session: requests.Session, emulator: RunningEmulator, body: dict[str, Any]) -> str:
    response = session.post(emulator.base_url + REPORTS, json=body, timeout=10)
    assert response.status_code == 202, response.text
    report_id: str = response.json()["reportId"]
    return report_id


def report(session: requests.Session, emulator: RunningEmulator, report_id: str) -> dict[str, Any]:
    response = session.get(f"{emulator.base_url}{REPORTS}/{report_id}", timeout=10)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def wait_until_processed(
    session: requests.Session, emulator: RunningEmulator, report_id: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        found = report(session, emulator, report_id)
        if found["processingStatus"] not in ("IN_QUEUE", "IN_PROGRESS") or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def document_of(session: requests.Session, emulator: RunningEmulator, found: dict[str, Any]) -> Any:
    """The report's document as a client reads it: getReportDocument, then the URL without a token."""
    response = session.get(f"{emulator.base_url}{DOCUMENTS}/{found['reportDocumentId']}", timeout=10)
    assert response.status_code == 200, response.text
    details = response.json()
    download = requests.get(details["url"], timeout=30)
    assert download.status_code == 200, download.text
    body = (
        gzip.decompress(download.content)
        if details.get("compressionAlgorithm") == "GZIP"
        else download.content
    )
    return json.loads(body)


def run_report(
    session: requests.Session, emulator: RunningEmulator, body: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """create -> poll -> download: the report and its document (None without one)."""
    found = wait_until_processed(session, emulator, create(session, emulator, body))
    document = document_of(session, emulator, found) if found.get("reportDocumentId") else None
    return found, document


@cache
def document_schema(schema_name: str) -> dict[str, Any] | None:
    """Amazon's schema of a report document from the reference copy (None where the copy lacks it)."""
    path: Path = reference_report_schemas_dir() / f"{schema_name}.json"
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def schema_errors(schema: dict[str, Any], document: Any) -> list[str]:
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)][:10]


__all__ = [
    "DOCUMENTS",
    "REPORTS",
    "SCHEDULES",
    "US",
    "create",
    "document_of",
    "document_schema",
    "every_type_request",
    "hours_request",
    "last_period",
    "period_request",
    "report",
    "reports_emulator",
    "run_report",
    "schema_errors",
    "stamp",
    "today",
    "wait_until_processed",
]
