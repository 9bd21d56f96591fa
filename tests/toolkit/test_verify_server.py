"""verify-server: Schemathesis with every applicable check against any server; a broken one must fail."""

from __future__ import annotations

import shutil
import threading
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify, request
from waitress import wasyncore
from waitress.server import create_server

from mockserver.cli import main
from mockserver.contracts.registry import DEFAULT_CONTRACTS
from mockserver.testing.server import RunningEmulator, start_emulator
from mockserver.testing.verify import verify_server
from tests.reference import reference_models_dir

ORDERS = "/vendor/orders/v1/purchaseOrders"


def _broken_app() -> Flask:
    """Vendor Orders done wrong: a wrong type, a missing required field, and a 500."""
    app = Flask(__name__)

    @app.post("/auth/o2/token")
    def token() -> Any:
        return jsonify({"access_token": "Atza|broken", "token_type": "bearer", "expires_in": 3600})

    @app.get(ORDERS)
    def purchase_orders() -> Any:
        # `orders` must be an array of orders.
        return jsonify({"payload": {"orders": "none today"}})

    @app.get(f"{ORDERS}/<number>")
    def purchase_order(number: str) -> Any:
        # `purchaseOrderState` is required.
        return jsonify({"payload": {"purchaseOrderNumber": number}})

    @app.post("/vendor/orders/v1/acknowledgements")
    def acknowledge() -> Any:
        return jsonify({"errors": [{"code": "InternalFailure", "message": "boom"}]}), 500

    @app.get("/vendor/orders/v1/purchaseOrdersStatus")
    def statuses() -> Any:
        return jsonify({"payload": {"ordersStatus": []}, "unused": request.args.get("limit")})

    return app


@pytest.fixture
def broken_server() -> Iterator[str]:
    server = create_server(_broken_app(), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.task_dispatcher.shutdown()
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    thread.join(timeout=10)


@pytest.fixture
def orders_contract(tmp_path: Path) -> Path:
    directory = tmp_path / "contracts"
    directory.mkdir()
    shutil.copy(DEFAULT_CONTRACTS / "vendor-orders-v1.yaml", directory)
    return directory


def test_a_broken_server_fails_naming_what_broke(
    broken_server: str, orders_contract: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit = tmp_path / "verify.xml"
    code = main(
        [
            "verify-server",
            broken_server,
            "--contracts",
            str(orders_contract),
            "--max-examples",
            "2",
            "--phases",
            "examples,fuzzing",
            "--junit",
            str(junit),
        ]
    )
    output = capsys.readouterr().out
    assert code == 1
    assert "FAILED" in output
    # The 500 of submitAcknowledgement, the wrong type of getPurchaseOrders, getPurchaseOrder's missing field.
    assert "FAIL POST /vendor/orders/v1/acknowledgements: [not_a_server_error]" in output
    assert f"FAIL GET {ORDERS}: [sp_api_response_schema_conformance]" in output
    assert '"none today" is not of type "array"' in output
    assert f"FAIL GET {ORDERS}/{{purchaseOrderNumber}}: [sp_api_response_schema_conformance]" in output
    assert '"purchaseOrderState" is a required property' in output
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    failed = {case.get("name") for case in suite.iter("testcase") if case.find("failure") is not None}
    assert {
        "POST /vendor/orders/v1/acknowledgements",
        f"GET {ORDERS}",
        f"GET {ORDERS}/{{purchaseOrderNumber}}",
    } <= failed


@pytest.fixture(scope="module")
def quiet_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(data_dir=tmp_path_factory.mktemp("verify"), store="memory", rate_limits=False)
    yield running
    running.stop()


def test_the_emulator_passes_the_stateful_phase_of_its_contracts(quiet_emulator: RunningEmulator) -> None:
    """Examples, coverage and fuzzing run in tests/contract/test_schemathesis.py; here the stateful phase,
    following the links between operations (Schemathesis' inferred links and the contracts' own)."""
    result = verify_server(quiet_emulator.base_url, max_examples=5, phases=("stateful",))
    assert result.ok, result.summary()
    assert result.operations, "the stateful phase ran"


@pytest.mark.reference
def test_the_emulator_serving_amazons_models_passes_verify_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    models = reference_models_dir()
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("verify-reference"),
        store="memory",
        rate_limits=False,
        contracts_dir=models,
    )
    try:
        result = verify_server(running.base_url, models, max_examples=3, phases=("examples", "stateful"))
    finally:
        running.stop()
    assert result.ok, result.summary()
