"""The recording proxy (against a second emulator) and replay of what it recorded."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient
from waitress.server import create_server

from mockserver.proxy import create_proxy_app, create_replay_app
from mockserver.testing.served import VendorSandbox

ORDERS = "/vendor/orders/v1/purchaseOrders"


@pytest.fixture(scope="module")
def target() -> Iterator[VendorSandbox]:
    sandbox = VendorSandbox(rate_limits=False)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def proxy(target: VendorSandbox) -> FlaskClient:
    return create_proxy_app(target.base_url).test_client()


def _token(proxy: FlaskClient, target: VendorSandbox) -> str:
    account = target.credentials()
    response = proxy.post(
        "/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": account["refresh_token"],
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
    )
    assert response.status_code == 200
    token: str = response.get_json()["access_token"]
    return token


def test_the_proxy_forwards_and_records_every_exchange(proxy: FlaskClient, target: VendorSandbox) -> None:
    token = _token(proxy, target)
    response = proxy.get(ORDERS, query_string={"limit": 2}, headers={"x-amz-access-token": token})
    assert response.status_code == 200
    assert response.get_json()["payload"]["orders"]
    assert response.headers["x-amzn-RateLimit-Limit"]
    entries = proxy.get("/_sandbox/journal").get_json()["entries"]
    assert [(entry["method"], entry["path"], entry["status"]) for entry in entries] == [
        ("POST", "/auth/o2/token", 200),
        ("GET", ORDERS, 200),
    ]
    assert entries[1]["operation_id"] == "getPurchaseOrders"
    assert entries[1]["request_headers"]["X-Amz-Access-Token"] == "***"
    assert entries[0]["request_body"] is not None and "Atzr" not in json.dumps(entries[0])
    # ... and the target saw the same call.
    assert target.journal(operation="getPurchaseOrders")


def test_the_proxy_validates_requests_without_blocking_them(
    proxy: FlaskClient, target: VendorSandbox
) -> None:
    token = _token(proxy, target)
    response = proxy.get(ORDERS, query_string={"limit": "many"}, headers={"x-amz-access-token": token})
    assert response.status_code == 400  # the target's own answer
    report = proxy.get("/_sandbox/report/conformance").get_json()
    row = next(row for row in report["operations"] if row["operation_id"] == "getPurchaseOrders")
    assert row["violations"][0]["rule"] == "contract"
    assert "limit" in row["violations"][0]["message"]


def test_the_proxy_validates_responses(tmp_path: Path) -> None:
    broken = Flask(__name__)

    @broken.get(ORDERS)
    def orders() -> Any:
        return jsonify({"payload": {"orders": "none"}})

    from mockserver.testing.server import RunningEmulator  # noqa: F401  (the same waitress setup)

    server = create_server(broken, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        proxy = create_proxy_app(f"http://127.0.0.1:{server.effective_port}").test_client()
        assert proxy.get(ORDERS).status_code == 200
        entry = proxy.get("/_sandbox/journal").get_json()["entries"][0]
    finally:
        server.close()
    assert entry["violations"] == [
        {"rule": "response-contract", "message": 'response.payload.orders: "none" is not of type "array"'}
    ]


def test_har_export_and_replay_serve_the_recording_back(
    proxy: FlaskClient, target: VendorSandbox, tmp_path: Path
) -> None:
    token = _token(proxy, target)
    headers = {"x-amz-access-token": token}
    first = proxy.get(ORDERS, query_string={"limit": 1}, headers=headers).get_json()
    number = first["payload"]["orders"][0]["purchaseOrderNumber"]
    one = proxy.get(f"{ORDERS}/{number}", headers=headers).get_json()
    har = proxy.get("/_sandbox/journal/har").get_json()
    assert har["log"]["version"] == "1.2"
    assert [entry["request"]["method"] for entry in har["log"]["entries"]] == ["POST", "GET", "GET"]
    recording = tmp_path / "recording.har"
    recording.write_text(json.dumps(har))

    replay = create_replay_app(recording).test_client()
    assert replay.get(ORDERS, query_string={"limit": 1}).get_json() == first
    assert replay.get(f"{ORDERS}/{number}").get_json() == one
    missing = replay.get(f"{ORDERS}/NOPE")
    assert missing.status_code == 404
    assert missing.get_json()["errors"][0]["code"] == "NotFound"

    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps(proxy.get("/_sandbox/journal").get_json()))
    assert create_replay_app(journal).test_client().get(f"{ORDERS}/{number}").get_json() == one
