"""Report documents at their pre-signed URLs on the emulator's own origin: fetched without an SP-API token, as
from S3; good for five minutes of sandbox time after getReportDocument issued them and refused after; refused
when altered or unsigned; GZIP, or decoded by the HTTP client when `enableContentEncodingUrlHeader` asks; with
S3's ETag, HEAD and ranges."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from mockserver.domain.reports.documents import presigned_query
from mockserver.testing.server import RunningEmulator
from tests.server.reports_support import (
    DOCUMENTS,
    create,
    every_type_request,
    reports_emulator,
    wait_until_processed,
)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from reports_emulator(tmp_path_factory, "report-downloads", seed_size=60)


@pytest.fixture(scope="module")
def session(emulator: RunningEmulator) -> requests.Session:
    return emulator.session("acme-na")


@pytest.fixture(scope="module")
def done(emulator: RunningEmulator, session: requests.Session) -> dict[str, Any]:
    body = every_type_request(emulator, "GET_VENDOR_TRAFFIC_REPORT")
    return wait_until_processed(session, emulator, create(session, emulator, body))


def _document(
    session: requests.Session, emulator: RunningEmulator, done: dict[str, Any], **params: Any
) -> dict[str, Any]:
    response = session.get(
        f"{emulator.base_url}{DOCUMENTS}/{done['reportDocumentId']}", params=params, timeout=10
    )
    assert response.status_code == 200, response.text
    details: dict[str, Any] = response.json()
    return details


def _error(response: requests.Response) -> tuple[int, str, str]:
    text = response.text
    code = text.split("<Code>", 1)[1].split("</Code>", 1)[0]
    message = text.split("<Message>", 1)[1].split("</Message>", 1)[0]
    return response.status_code, code, message


def test_the_url_is_on_the_emulators_origin_and_needs_no_token(
    emulator: RunningEmulator, session: requests.Session, done: dict[str, Any]
) -> None:
    details = _document(session, emulator, done)

    assert set(details) == {"reportDocumentId", "url", "compressionAlgorithm"}
    assert (
        details["reportDocumentId"] == done["reportDocumentId"] and details["compressionAlgorithm"] == "GZIP"
    )
    assert details["url"].startswith(f"{emulator.base_url}/_documents/{done['reportDocumentId']}?")
    response = requests.get(details["url"], timeout=10)  # no x-amz-access-token
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers  # the bytes are the GZIP file itself
    assert json.loads(gzip.decompress(response.content))["reportSpecification"]["reportType"] == (
        "GET_VENDOR_TRAFFIC_REPORT"
    )


def test_the_url_expires_five_minutes_after_it_was_issued_on_the_sandbox_clock(
    emulator: RunningEmulator, session: requests.Session, done: dict[str, Any]
) -> None:
    requests.post(f"{emulator.base_url}/_sandbox/clock", json={"freeze": True}, timeout=10)
    try:
        url = _document(session, emulator, done)["url"]
        requests.post(f"{emulator.base_url}/_sandbox/clock/advance", json={"seconds": 299}, timeout=10)
        assert requests.get(url, timeout=10).status_code == 200
        requests.post(f"{emulator.base_url}/_sandbox/clock/advance", json={"seconds": 2}, timeout=10)

        expired = requests.get(url, timeout=10)

        assert _error(expired) == (403, "AccessDenied", "Request has expired")
        assert "<X-Amz-Expires>300</X-Amz-Expires>" in expired.text
        assert expired.headers["Content-Type"].startswith("application/xml")
        assert (
            requests.get(_document(session, emulator, done)["url"], timeout=10).status_code == 200
        )  # a new one
    finally:
        requests.post(f"{emulator.base_url}/_sandbox/clock", json={"freeze": False}, timeout=10)


def _with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_an_altered_or_unsigned_url_is_refused(
    emulator: RunningEmulator, session: requests.Session, done: dict[str, Any]
) -> None:
    url = _document(session, emulator, done)["url"]
    longer = _with_query(url, **{"X-Amz-Expires": "604800"})
    assert _error(requests.get(longer, timeout=10))[:2] == (403, "SignatureDoesNotMatch")
    document = done["reportDocumentId"]
    other = url.replace(document, document[:-1] + ("1" if document.endswith("0") else "0"))
    assert _error(requests.get(other, timeout=10))[:2] == (403, "SignatureDoesNotMatch")
    unsigned = _with_query(url, **{"X-Amz-Signature": None})
    assert _error(requests.get(unsigned, timeout=10))[:2] == (403, "AccessDenied")
    assert _error(requests.get(url.split("?")[0], timeout=10))[:2] == (403, "AccessDenied")


def test_a_signed_url_to_a_missing_document_is_no_such_key(emulator: RunningEmulator) -> None:
    missing = "amzn1.spdoc.1.4.na.00000000-0000-0000-0000-000000000000"
    query = presigned_query(emulator.sandbox.store, missing, emulator.sandbox.clock.now(), False)

    response = requests.get(f"{emulator.base_url}/_documents/{missing}?{urlencode(query)}", timeout=10)

    assert _error(response) == (404, "NoSuchKey", "The specified key does not exist.")


def test_content_encoding_gzip_when_the_client_asks(
    emulator: RunningEmulator, session: requests.Session, done: dict[str, Any]
) -> None:
    details = _document(session, emulator, done, enableContentEncodingUrlHeader="true")

    response = requests.get(details["url"], timeout=10)

    assert response.headers["Content-Encoding"] == "gzip"
    assert (
        response.json()["reportSpecification"]["reportType"] == "GET_VENDOR_TRAFFIC_REPORT"
    )  # decoded by requests


def test_etag_head_and_ranges_as_s3_answers_them(
    emulator: RunningEmulator, session: requests.Session, done: dict[str, Any]
) -> None:
    url = _document(session, emulator, done)["url"]
    whole = requests.get(url, timeout=10)
    etag = whole.headers["ETag"]

    head = requests.head(url, timeout=10)
    part = requests.get(url, headers={"Range": "bytes=0-9"}, timeout=10)
    unchanged = requests.get(url, headers={"If-None-Match": etag}, timeout=10)

    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(whole.content)
    assert part.status_code == 206 and part.content == whole.content[:10]
    assert unchanged.status_code == 304


@pytest.mark.parametrize(
    ("settings", "host", "origin"),
    [
        ({"public_url": "http://localhost:18000"}, None, "http://localhost:18000"),
        (
            {"serving_host": "0.0.0.0"},
            "reports.example:9000",
            "http://reports.example:9000",
        ),  # every interface
        ({}, "27.0.0.1:1234", None),  # a client's odd Host: the address the server listens on
        ({}, "sellingpartnerapi-na.amazon.com", "https://sellingpartnerapi-na.amazon.com"),  # in-process
    ],
    ids=["public-url", "every-interface", "odd-host", "amazon-host"],
)
def test_document_urls_point_where_the_client_can_reach_the_emulator(
    tmp_path_factory: pytest.TempPathFactory, settings: dict[str, Any], host: str | None, origin: str | None
) -> None:
    serving_host = settings.pop("serving_host", None)
    for running in reports_emulator(tmp_path_factory, "report-origin", seed_size=20, **settings):
        if (
            serving_host
        ):  # as `serve --host 0.0.0.0` (in a container) is set; the test server listens on 127.0.0.1
            running.sandbox.settings = dataclasses.replace(running.sandbox.settings, host=serving_host)
        session = running.session("acme-na")
        found = wait_until_processed(
            session,
            running,
            create(session, running, every_type_request(running, "GET_VENDOR_TRAFFIC_REPORT")),
        )
        headers = {"Host": host} if host else {}
        details = session.get(
            f"{running.base_url}{DOCUMENTS}/{found['reportDocumentId']}", headers=headers, timeout=10
        )
        assert details.status_code == 200, details.text
        expected = origin or running.base_url
        assert details.json()["url"].startswith(f"{expected}/_documents/")
