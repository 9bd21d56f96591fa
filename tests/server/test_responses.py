"""What every answer carries (JSON, a request id, the usage plan) and what a generated answer is."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator

from mockserver.contracts.model import Operation
from mockserver.testing.server import RunningEmulator, start_emulator

TOKEN_HEADER = "x-amz-access-token"
PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
ACKNOWLEDGEMENTS = "/vendor/orders/v1/acknowledgements"
DF_ORDERS = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
CREATED = {"createdAfter": "2024-05-01T00:00:00Z", "createdBefore": "2024-05-08T00:00:00Z"}

Send = Callable[[RunningEmulator], requests.Response]


def _send(
    method: str, path: str, token: bool = True, headers: dict[str, str] | None = None, **kwargs: Any
) -> Send:
    def send(emulator: RunningEmulator) -> requests.Response:
        # As a client does: a restricted data token for a restricted operation, else the access token.
        sent = {TOKEN_HEADER: emulator.token_for(method, path)} if token else {}
        sent.update(headers or {})
        return requests.request(method, f"{emulator.base_url}{path}", headers=sent, timeout=10, **kwargs)

    return send


def _get(path: str, token: bool = True, headers: dict[str, str] | None = None, **kwargs: Any) -> Send:
    return _send("GET", path, token, headers, **kwargs)


# One request for each kind of answer the pipeline gives, success or error, with its expected status.
EXCHANGES: dict[str, tuple[Send, int]] = {
    "generated-200": (_get(PURCHASE_ORDERS), 200),
    "generated-202": (_send("POST", ACKNOWLEDGEMENTS, json={"acknowledgements": []}), 202),
    "stateful-200": (
        _send(
            "POST", RDT_PATH, json={"restrictedResources": [{"method": "GET", "path": f"{DF_ORDERS}/PO1"}]}
        ),
        200,
    ),
    "not-found-404": (_get("/vendor/orders/v9/nothing"), 404),
    "root-404": (_get("/", token=False), 404),
    "method-405": (_send("PUT", PURCHASE_ORDERS), 405),
    "no-token-403": (_get(PURCHASE_ORDERS, token=False), 403),
    "invalid-parameter-400": (_get(DF_ORDERS, params={"limit": "many"}), 400),
    "unsupported-media-type-415": (
        _send("POST", ACKNOWLEDGEMENTS, data="x", headers={"Content-Type": "text/plain"}),
        415,
    ),
    "sandbox-host-400": (
        _get(PURCHASE_ORDERS, headers={"Host": "sandbox.sellingpartnerapi-na.amazon.com"}),
        400,
    ),
}


@pytest.fixture(scope="module")
def real_rates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """An emulator at Amazon's own rates (the session emulator scales them up)."""
    data_dir: Path = tmp_path_factory.mktemp("real-rates")
    running = start_emulator(data_dir=data_dir, store="memory")
    yield running
    running.stop()


def response_validator(operation: Operation, status: int) -> Draft202012Validator:
    schema = operation.responses[str(status)].schema
    assert schema is not None, f"{operation.name} declares no schema for {status}"
    return Draft202012Validator(
        operation.schema_document(schema), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def journal_entry(emulator: RunningEmulator, response: requests.Response) -> dict[str, Any]:
    found = requests.get(
        f"{emulator.base_url}/_sandbox/journal",
        params={"request_id": response.headers["x-amzn-RequestId"]},
        timeout=10,
    )
    (entry,) = found.json()["entries"]
    return dict(entry)


# -- every answer -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("send", "status"), EXCHANGES.values(), ids=EXCHANGES.keys())
def test_every_answer_is_json_with_a_request_id(emulator: RunningEmulator, send: Send, status: int) -> None:
    response = send(emulator)

    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    request_id = response.headers["x-amzn-RequestId"]
    assert str(uuid.UUID(request_id)) == request_id
    body = response.json()
    if status >= 400:
        (error,) = body["errors"]
        assert set(error) == {"code", "message", "details"}
        assert all(isinstance(value, str) for value in error.values())


def test_request_ids_are_unique(emulator: RunningEmulator) -> None:
    request_ids = [
        send(emulator).headers["x-amzn-RequestId"] for send, _ in EXCHANGES.values() for _ in range(3)
    ]

    assert len(set(request_ids)) == len(request_ids)


def test_throttled_answer_is_json_with_a_request_id(tmp_path: Path) -> None:
    running = start_emulator(data_dir=tmp_path / "data", store="memory", rate_scale=0.1)  # burst 1
    try:
        first, second = (_get(PURCHASE_ORDERS)(running) for _ in range(2))
    finally:
        running.stop()

    assert (first.status_code, second.status_code) == (200, 429)
    assert second.headers["Content-Type"] == "application/json"
    assert first.headers["x-amzn-RequestId"] != second.headers["x-amzn-RequestId"]
    uuid.UUID(second.headers["x-amzn-RequestId"])
    assert "x-amzn-RateLimit-Limit" not in second.headers


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "rate"),
    [
        ("GET", PURCHASE_ORDERS, {}, "10.0"),
        ("GET", "/vendor/orders/v1/purchaseOrdersStatus", {}, "10.0"),
        (
            "GET",
            "/reports/2021-06-30/reports",
            {"params": {"reportTypes": "GET_VENDOR_SALES_REPORT"}},
            "0.0222",
        ),
        (
            "GET",
            "/reports/2021-06-30/schedules",
            {"params": {"reportTypes": "GET_VENDOR_SALES_REPORT"}},
            "0.0222",
        ),
        ("POST", RDT_PATH, {"json": {"restrictedResources": [{"method": "GET", "path": DF_ORDERS}]}}, "1.0"),
        ("POST", ACKNOWLEDGEMENTS, {"json": {"acknowledgements": []}}, "10.0"),
        # No usage plan in the contract: the server's default rate.
        (
            "POST",
            "/vendor/directFulfillment/sandbox/2021-10-28/orders",
            {
                "json": {
                    "orders": [
                        {"sellingParty": {"partyId": "ACME1"}, "shipFromParty": {"partyId": "ACME1W1"}}
                    ]
                }
            },
            "10.0",
        ),
    ],
)
def test_answer_carries_the_contract_rate(
    real_rates: RunningEmulator, method: str, path: str, kwargs: dict[str, Any], rate: str
) -> None:
    response = _send(method, path, **kwargs)(real_rates)

    assert response.status_code < 300, response.text
    assert response.headers["x-amzn-RateLimit-Limit"] == rate


def test_validation_error_carries_the_contract_rate(real_rates: RunningEmulator) -> None:
    response = _get(DF_ORDERS)(real_rates)

    assert response.status_code == 400
    assert response.headers["x-amzn-RateLimit-Limit"] == "10.0"


# -- generated answers ---------------------------------------------------------------------------------------


GENERATED: list[tuple[str, str, str, dict[str, Any]]] = [
    ("reports/2021-06-30#getReport", "GET", "/reports/2021-06-30/reports/R1", {}),
    ("reports/2021-06-30#getReportSchedule", "GET", "/reports/2021-06-30/schedules/S1", {}),
    ("reports/2021-06-30#getReports", "GET", "/reports/2021-06-30/reports", {}),
]


@pytest.fixture(scope="module")
def without_reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """Every operation has a stateful handler: this emulator's Reports handlers are taken away, so that its
    Reports operations are answered as an operation without one is (from the contract, marked generated)."""
    running = start_emulator(data_dir=tmp_path_factory.mktemp("generated"), store="memory", rate_scale=1000.0)
    for name in [name for name in running.sandbox.handlers if name.startswith("reports/")]:
        del running.sandbox.handlers[name]
    yield running
    running.stop()


def test_every_operation_has_a_stateful_handler(emulator: RunningEmulator) -> None:
    assert {operation.name for operation in emulator.sandbox.registry.operations} == set(
        emulator.sandbox.handlers
    )


@pytest.mark.parametrize(
    ("name", "method", "path", "kwargs"), GENERATED, ids=[name.split("#")[1] for name, *_ in GENERATED]
)
def test_generated_answer_fits_the_contract_and_is_journaled_as_generated(
    without_reports: RunningEmulator, name: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    emulator = without_reports
    operation = emulator.sandbox.registry.by_name[name]
    assert name not in emulator.sandbox.handlers

    response = _send(method, path, **kwargs)(emulator)

    assert response.status_code == int(operation.success_status), response.text
    assert response.headers["x-vendor-sandbox-answer"] == "generated"
    errors = sorted(response_validator(operation, response.status_code).iter_errors(response.json()), key=str)
    assert not errors, [f"{list(error.absolute_path)}: {error.message}" for error in errors]
    entry = journal_entry(emulator, response)
    assert (entry["operation"], entry["answered_by"]) == (name, "generated")
    assert entry["notes"] == []  # the emulator's own response check found nothing either


def test_stateful_answer_fits_the_contract_and_is_journaled_as_stateful(emulator: RunningEmulator) -> None:
    operation = emulator.sandbox.registry.by_name["tokens/2021-03-01#createRestrictedDataToken"]

    response = EXCHANGES["stateful-200"][0](emulator)

    assert response.status_code == 200
    response_validator(operation, 200).validate(response.json())
    assert journal_entry(emulator, response)["answered_by"] == "stateful"


@pytest.mark.parametrize(
    ("exchange", "stage"),
    [
        ("no-token-403", "error:auth"),
        ("invalid-parameter-400", "error:validate"),
        ("unsupported-media-type-415", "error:validate"),
    ],
)
def test_error_answer_fits_the_contract_error_schema(
    emulator: RunningEmulator, exchange: str, stage: str
) -> None:
    send, status = EXCHANGES[exchange]

    response = send(emulator)

    assert response.status_code == status
    entry = journal_entry(emulator, response)
    operation = emulator.sandbox.registry.by_name[entry["operation"]]
    response_validator(operation, status).validate(response.json())
    assert entry["answered_by"] == stage
