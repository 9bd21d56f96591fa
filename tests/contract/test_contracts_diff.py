"""Our contracts state exactly Amazon's facts, and the diff names every kind of difference."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from mockserver.cli import main
from mockserver.contracts.diff import diff_directories
from mockserver.contracts.loader import load_operations
from mockserver.contracts.registry import DEFAULT_CONTRACTS
from tests.reference import reference_models_dir


def test_our_contracts_cover_every_operation_of_the_reference() -> None:
    ours = {(operation.method, operation.path) for operation in load_operations(DEFAULT_CONTRACTS)}
    theirs = {(operation.method, operation.path) for operation in load_operations(reference_models_dir())}
    assert len(theirs) == 52
    assert ours == theirs


def test_our_contracts_have_zero_differences_from_the_reference() -> None:
    differences = diff_directories(DEFAULT_CONTRACTS, reference_models_dir())
    assert [str(difference) for difference in differences] == []


def test_diff_command_exits_zero_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contracts", "diff", "--against", str(reference_models_dir())]) == 0
    assert "0 difference(s)" in capsys.readouterr().out


def _edited_copy(tmp_path: Path, file_name: str) -> tuple[Path, dict]:
    target = tmp_path / "contracts"
    shutil.copytree(DEFAULT_CONTRACTS, target)
    path = target / file_name
    return path, yaml.safe_load(path.read_text())


def _write(path: Path, document: dict) -> None:
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _diff_lines(tmp_path: Path) -> list[str]:
    return [
        str(difference) for difference in diff_directories(tmp_path / "contracts", reference_models_dir())
    ]


def test_diff_reports_a_changed_bound_and_a_missing_enum_value(tmp_path: Path) -> None:
    path, document = _edited_copy(tmp_path, "vendor-orders-v1.yaml")
    operation = document["paths"]["/vendor/orders/v1/purchaseOrders"]["get"]
    limit = next(p for p in operation["parameters"] if p["name"] == "limit")
    limit["schema"]["maximum"] = 50
    state = next(p for p in operation["parameters"] if p["name"] == "purchaseOrderState")
    state["schema"]["enum"] = ["New", "Acknowledged"]
    _write(path, document)
    lines = _diff_lines(tmp_path)
    assert any("query parameter limit maximum: ours 50, official 100" in line for line in lines), lines
    assert any("purchaseOrderState enum" in line and "Closed" in line for line in lines), lines


def test_diff_reports_removed_field_changed_type_and_requiredness(tmp_path: Path) -> None:
    path, document = _edited_copy(tmp_path, "vendor-invoices-v1.yaml")
    schemas = document["components"]["schemas"]
    del schemas["Money"]["properties"]["currencyCode"]
    schemas["Invoice"]["properties"]["id"]["type"] = "integer"
    schemas["Invoice"]["required"] = [name for name in schemas["Invoice"]["required"] if name != "date"]
    _write(path, document)
    lines = _diff_lines(tmp_path)
    assert any("schema Money.currencyCode: missing from ours" in line for line in lines), lines
    assert any("schema Invoice.id type: ours 'integer', official 'string'" in line for line in lines), lines
    assert any("schema Invoice.date: ours 'optional', official 'required'" in line for line in lines), lines


def test_diff_reports_rate_burst_and_added_or_removed_operations(tmp_path: Path) -> None:
    path, document = _edited_copy(tmp_path, "vendor-transaction-status-v1.yaml")
    operation = document["paths"]["/vendor/transactions/v1/transactions/{transactionId}"]["get"]
    operation["x-rate-limit"] = {"rate": 5, "burst": 20}
    document["paths"]["/vendor/transactions/v1/transactions"] = {
        "get": {**operation, "operationId": "listAll"}
    }
    _write(path, document)
    (tmp_path / "contracts" / "tokens-2021-03-01.yaml").unlink()
    lines = _diff_lines(tmp_path)
    assert any("{transactionId} rate: ours 5.0, official 10.0" in line for line in lines), lines
    assert any("GET /vendor/transactions/v1/transactions: only in ours" in line for line in lines), lines
    assert any(line.startswith("tokens/2021-03-01: API: missing from ours") for line in lines), lines


def test_diff_command_exits_non_zero_on_differences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, document = _edited_copy(tmp_path, "tokens-2021-03-01.yaml")
    document["components"]["schemas"]["RestrictedResource"]["required"] = ["method"]
    _write(path, document)
    code = main(
        [
            "contracts",
            "diff",
            "--against",
            str(reference_models_dir()),
            "--contracts",
            str(tmp_path / "contracts"),
        ]
    )
    output = capsys.readouterr().out
    assert code == 1
    assert "schema RestrictedResource.path: ours 'optional', official 'required'" in output


def test_diff_command_reports_an_unreadable_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["contracts", "diff", "--against", str(tmp_path / "empty")]) == 2
    assert "no API contract" in capsys.readouterr().err
