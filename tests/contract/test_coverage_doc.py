"""docs/COVERAGE.md is generated from the code and must say what the code does."""

from __future__ import annotations

from pathlib import Path

from mockserver.app import Sandbox
from mockserver.contracts.loader import load_operations
from mockserver.coverage import coverage_markdown
from mockserver.settings import Settings
from tests.reference import reference_models_dir

DOC = Path(__file__).resolve().parents[2] / "docs" / "COVERAGE.md"


def test_coverage_doc_is_up_to_date(tmp_path: Path) -> None:
    sandbox = Sandbox(Settings(store="memory", data_dir=tmp_path))
    rows = sandbox.coverage()
    sandbox.close()
    static_counts = {
        (operation.method, operation.path): len(operation.static_cases)
        for operation in load_operations(reference_models_dir())
    }
    expected = coverage_markdown(rows, static_counts)
    assert DOC.read_text() == expected, "regenerate: vendor-sandbox coverage --markdown --official DIR"
    assert len(rows) == 52
