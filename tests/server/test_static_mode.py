"""Static mode reproduces Amazon's static sandbox: every case of the official models, answered exactly."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from mockserver.contracts.loader import load_operations
from mockserver.contracts.model import Operation, StaticCase
from mockserver.sandbox.static_cases import NO_BODY, case_request
from mockserver.testing.server import RunningEmulator, start_emulator
from tests.reference import find_reference_models, reference_models_dir

UNMATCHED = {
    "errors": [{"code": "InvalidInput", "message": "Could not match input arguments", "details": ""}]
}


def _all_cases() -> list[tuple[Operation, StaticCase]]:
    models = find_reference_models()
    if models is None:
        return []
    return [(operation, case) for operation in load_operations(models) for case in operation.static_cases]


CASES = _all_cases()


@pytest.fixture(scope="module")
def static_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("static"),
        store="memory",
        mode="static",
        contracts_dir=reference_models_dir(),
        rate_limits=False,
    )
    yield running
    running.stop()


def _send(
    emulator: RunningEmulator, operation: Operation, case: StaticCase, host: str | None = None
) -> requests.Response:
    request = case_request(operation, case)
    path = operation.path
    for name, value in request.path_parameters.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    headers = {"x-amz-access-token": emulator.access_token(), **request.headers}
    if host:
        headers["Host"] = host
    data = None
    if request.body is not NO_BODY:
        data = json.dumps(request.body)
        headers["Content-Type"] = "application/json"
    return requests.request(
        operation.method,
        emulator.base_url + path,
        params=[(name, value) for name, values in request.query.items() for value in values],
        data=data,
        headers=headers,
        timeout=10,
    )


def _strict(value: Any) -> str:
    """JSON equality that keeps types apart (true is not 1)."""
    return json.dumps(value, sort_keys=True)


def test_the_reference_holds_95_static_cases() -> None:
    reference_models_dir()
    assert len(CASES) == 95


@pytest.mark.parametrize(
    ("operation", "case"),
    CASES,
    ids=[
        f"{operation.api.api_id}#{operation.operation_id}-{case.status}-{case.order}"
        for operation, case in CASES
    ],
)
def test_every_static_case_is_answered_exactly(
    static_emulator: RunningEmulator, operation: Operation, case: StaticCase
) -> None:
    response = _send(static_emulator, operation, case)
    assert response.status_code == case.status, response.text
    if case.response is None:
        assert response.content == b""
    else:
        assert _strict(response.json()) == _strict(case.response)
    assert response.headers["x-amzn-RequestId"]
    entry = static_emulator.sandbox.journal.query(request_id=response.headers["x-amzn-RequestId"])[0]
    assert entry.answered_by == "static-case"


def test_an_unmatched_request_gets_amazons_could_not_match_answer(static_emulator: RunningEmulator) -> None:
    response = static_emulator.session().get(
        static_emulator.base_url + "/vendor/transactions/v1/transactions/no-such-transaction"
    )
    assert response.status_code == 400
    assert response.json() == UNMATCHED


def test_static_mode_still_requires_a_valid_access_token(static_emulator: RunningEmulator) -> None:
    response = requests.get(
        static_emulator.base_url + "/vendor/orders/v1/purchaseOrders",
        headers={"x-amz-access-token": "Atza|not-a-token"},
        timeout=10,
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"


def test_sandbox_host_selects_static_mode_on_a_dynamic_server(tmp_path: Path) -> None:
    """With the official models in the models directory, Amazon's sandbox host name gets static answers."""
    models = tmp_path / "fetched-models"
    shutil.copytree(reference_models_dir(), models)
    running = start_emulator(data_dir=tmp_path / "data", store="memory", rate_limits=False, models_dir=models)
    try:
        operation, case = next(
            (operation, case)
            for operation, case in CASES
            if operation.operation_id == "getReport" and case.status == 200
        )
        static = _send(running, operation, case, host="sandbox.sellingpartnerapi-na.amazon.com")
        assert static.status_code == 200
        assert _strict(static.json()) == _strict(case.response)
        entry = running.sandbox.journal.query(request_id=static.headers["x-amzn-RequestId"])[0]
        assert entry.answered_by == "static-case"
        dynamic = _send(running, operation, case)
        assert running.sandbox.journal.query(request_id=dynamic.headers["x-amzn-RequestId"])[
            0
        ].answered_by != ("static-case")
    finally:
        running.stop()


def test_sandbox_host_without_official_models_says_how_to_get_them(emulator: RunningEmulator) -> None:
    response = emulator.session().get(
        emulator.base_url + "/vendor/orders/v1/purchaseOrders",
        headers={"Host": "sandbox.sellingpartnerapi-na.amazon.com"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["message"]) == ("InvalidInput", "Could not match input arguments")
    assert "vendor-sandbox contracts fetch" in error["details"]
    assert "--models-dir" in error["details"]
    assert str(emulator.sandbox.settings.official_models_dir) in error["details"]


def test_static_mode_without_official_models_refuses_to_start(tmp_path: Path) -> None:
    from mockserver.contracts.loader import ContractError

    with pytest.raises(ContractError, match="contracts fetch"):
        start_emulator(data_dir=tmp_path / "data", store="memory", mode="static")
