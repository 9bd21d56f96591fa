"""`python-amazon-sp-api` runs the whole report flow against the emulator for every vendor report type:
create, poll, then `get_report_document(..., download=True)`, which fetches the pre-signed URL and
decompresses the GZIP document itself; the document it hands back parses and validates against Amazon's
schema."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.domain.reports.report_types import REPORT_TYPES
from mockserver.testing.server import RunningEmulator
from tests.server.reports_support import document_schema, every_type_request, reports_emulator, schema_errors

sp_api = pytest.importorskip("sp_api")

from sp_api.api import ReportsV2  # noqa: E402
from sp_api.auth import AccessTokenClient  # noqa: E402
from sp_api.auth import access_token_client as token_module  # noqa: E402
from sp_api.base import Marketplaces  # noqa: E402


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    token_module.cache.clear()  # tokens of another emulator instance are unknown to this one
    yield from reports_emulator(tmp_path_factory, "clients-reports-sp-api", report_processing_time=0.2)
    token_module.cache.clear()


@pytest.fixture(scope="module")
def reports(emulator: RunningEmulator) -> Iterator[Any]:
    details = emulator.account("acme-na")
    lwa = type("EmulatorLwa", (AccessTokenClient,), {"scheme": "http://", "host": emulator.base_url[7:]})
    client = ReportsV2(
        Marketplaces.US,
        credentials={
            "refresh_token": details["refresh_token"],
            "lwa_app_id": details["client_id"],
            "lwa_client_secret": details["client_secret"],
        },
        auth_token_client_class=lwa,
    )
    client.endpoint = emulator.base_url
    yield client
    client._transport._client.close()
    client._auth._transport._client.close()
    gc.collect()  # any socket left open surfaces here, in this module, not in a later test


def _done(reports: Any, body: dict[str, Any]) -> dict[str, Any]:
    report_id = reports.create_report(**body).payload["reportId"]
    for _ in range(200):
        found: dict[str, Any] = reports.get_report(report_id).payload
        if found["processingStatus"] not in ("IN_QUEUE", "IN_PROGRESS"):
            return found
        time.sleep(0.05)
    raise AssertionError("still processing")


@pytest.mark.parametrize("report_type", sorted(REPORT_TYPES))
def test_create_poll_download_parse_with_python_amazon_sp_api(
    emulator: RunningEmulator, reports: Any, report_type: str
) -> None:
    found = _done(reports, every_type_request(emulator, report_type))
    assert found["processingStatus"] == "DONE", found

    response = reports.get_report_document(found["reportDocumentId"], download=True)

    assert response.payload["compressionAlgorithm"] == "GZIP"
    assert response.character_code.lower().replace("-", "") == "utf8"
    document = json.loads(response.payload["document"])
    assert document["reportSpecification"]["reportType"] == report_type
    schema = document_schema(REPORT_TYPES[report_type].schema)
    if schema is not None:
        assert schema_errors(schema, document) == []


def test_a_fatal_reports_error_details_read_with_python_amazon_sp_api(
    emulator: RunningEmulator, reports: Any
) -> None:
    found = _done(reports, {"reportType": "GET_VENDOR_SALES_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]})
    assert found["processingStatus"] == "FATAL"

    document = json.loads(
        reports.get_report_document(found["reportDocumentId"], download=True).payload["document"]
    )

    assert document["errorDetails"].startswith(
        "This report type requires the reportPeriod, distributorView, sellingProgram reportOption"
    )
    listed = reports.get_reports(
        reportTypes=["GET_VENDOR_SALES_REPORT"], processingStatuses=["FATAL"]
    ).payload
    assert found["reportId"] in [item["reportId"] for item in listed["reports"]]
