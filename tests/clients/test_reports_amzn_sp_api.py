"""Amazon's SDK `amzn-sp-api` runs the whole report flow against the emulator for every vendor report type:
create, poll, getReportDocument, then the pre-signed URL fetched with the standard library as Amazon's guide
does (no SP-API token), GZIP decompressed, parsed and validated against Amazon's schema."""

from __future__ import annotations

import gc
import gzip
import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.domain.clock import parse_iso
from mockserver.domain.reports.report_types import REPORT_TYPES
from mockserver.testing.server import RunningEmulator
from tests.server.reports_support import document_schema, every_type_request, reports_emulator, schema_errors

spapi = pytest.importorskip("spapi")

from spapi import ReportsApi  # noqa: E402
from spapi.auth.credentials import SPAPIConfig  # noqa: E402
from spapi.client import SPAPIClient  # noqa: E402
from spapi.models.reports_v2021_06_30 import CreateReportScheduleSpecification, CreateReportSpecification  # noqa: E402


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from reports_emulator(tmp_path_factory, "clients-reports-amzn", report_processing_time=0.2)


@pytest.fixture(scope="module")
def reports(emulator: RunningEmulator) -> Iterator[Any]:
    details = emulator.account("acme-na")
    config = SPAPIConfig(
        client_id=details["client_id"],
        client_secret=details["client_secret"],
        refresh_token=details["refresh_token"],
        region="NA",
    )
    sdk = SPAPIClient(config, oauth_endpoint=f"{emulator.base_url}/auth/o2/token", endpoint=emulator.base_url)
    yield ReportsApi(sdk.api_client)
    sdk.api_client.rest_client.pool_manager.clear()
    gc.collect()  # any socket left open surfaces here, in this module, not in a later test


def _specification(body: dict[str, Any]) -> Any:
    return CreateReportSpecification(
        report_type=body["reportType"],
        marketplace_ids=body["marketplaceIds"],
        report_options=body.get("reportOptions"),
        data_start_time=parse_iso(body["dataStartTime"]) if "dataStartTime" in body else None,
        data_end_time=parse_iso(body["dataEndTime"]) if "dataEndTime" in body else None,
    )


def _done(reports: Any, body: dict[str, Any]) -> Any:
    report_id = reports.create_report(_specification(body)).report_id
    for _ in range(200):
        found = reports.get_report(report_id)
        if found.processing_status not in ("IN_QUEUE", "IN_PROGRESS"):
            return found
        time.sleep(0.05)
    raise AssertionError("still processing")


@pytest.mark.parametrize("report_type", sorted(REPORT_TYPES))
def test_create_poll_download_parse_with_amazons_sdk(
    emulator: RunningEmulator, reports: Any, report_type: str
) -> None:
    found = _done(reports, every_type_request(emulator, report_type))
    assert found.processing_status == "DONE"
    assert found.processing_end_time >= found.processing_start_time >= found.created_time

    document_details = reports.get_report_document(found.report_document_id)
    with urllib.request.urlopen(document_details.url, timeout=30) as download:
        raw = download.read()

    assert document_details.compression_algorithm == "GZIP"
    document = json.loads(gzip.decompress(raw).decode("utf-8"))
    assert document["reportSpecification"]["reportType"] == report_type
    schema = document_schema(REPORT_TYPES[report_type].schema)
    if schema is not None:
        assert schema_errors(schema, document) == []


def test_schedules_with_amazons_sdk(reports: Any) -> None:
    created = reports.create_report_schedule(
        CreateReportScheduleSpecification(
            report_type="GET_VENDOR_TRAFFIC_REPORT",
            marketplace_ids=["ATVPDKIKX0DER"],
            report_options={"reportPeriod": "WEEK"},
            period="P7D",
        )
    )
    schedule = reports.get_report_schedule(created.report_schedule_id)
    listed = reports.get_report_schedules(report_types=["GET_VENDOR_TRAFFIC_REPORT"])
    reports.cancel_report_schedule(created.report_schedule_id)

    assert schedule.period == "P7D" and schedule.report_options == {"reportPeriod": "WEEK"}
    assert [item.report_schedule_id for item in listed.report_schedules] == [created.report_schedule_id]
    assert reports.get_report_schedules(report_types=["GET_VENDOR_TRAFFIC_REPORT"]).report_schedules == []
