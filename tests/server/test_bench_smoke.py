"""bench/pipeline_bench.py still runs end to end: a smoke test, never a judgement on timings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.reference import reference_models_dir

REPOSITORY = Path(__file__).resolve().parents[2]
OPERATIONS = ("getPurchaseOrders", "submitAcknowledgement")


def _prism() -> str | None:
    """Prism as the bench's --prism auto finds it: $VENDOR_SANDBOX_PRISM, PATH, then bench/.prism."""
    candidates = [
        os.environ.get("VENDOR_SANDBOX_PRISM", "").strip(),
        shutil.which("prism") or "",
        str(REPOSITORY / "bench" / ".prism" / "node_modules" / ".bin" / "prism"),
    ]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _run_bench(tmp_path: Path, *options: str) -> tuple[str, dict[str, Any]]:
    figures = tmp_path / "figures.json"
    completed = subprocess.run(
        [
            sys.executable,
            str(REPOSITORY / "bench" / "pipeline_bench.py"),
            "--duration",
            "0.5",
            "--rounds",
            "1",
            "--warmup",
            "0.1",
            "--connections",
            "2",
            "--loader",
            "python",
            "--startup-runs",
            "1",
            *options,
            "--json",
            str(figures),
        ],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout, json.loads(figures.read_text(encoding="utf-8"))


def test_pipeline_bench_prints_its_table_and_exits_0(tmp_path: Path) -> None:
    servers = "sqlite,sqlite-workers,memory"
    output, report = _run_bench(tmp_path, "--servers", servers, "--prism", "none", "--wiremock", "none")
    assert "vendor-sandbox pipeline benchmark" in output
    assert "loader:   python" in output
    for label in ("emulator, SQLite (default)", "emulator, SQLite, 2 workers", "emulator, memory"):
        assert label in output
    assert "Prism" not in output.split("load:")[1]
    assert "start-up (spawn -> first answered request)" in output
    assert report["loader"] == "python"
    operations = report["operations"]
    assert set(operations) == set(OPERATIONS)
    for operation in operations.values():
        assert set(operation["servers"]) == set(servers.split(","))
        for result in operation["servers"].values():
            assert result["requests"] > 0
            assert result["errors"] == 0
        assert operation["ratios"] == {}
    assert report["startup"]["sqlite"]["median_ms"] > 0


def test_pipeline_bench_measures_prism_on_amazons_model_when_it_is_installed(tmp_path: Path) -> None:
    prism = _prism()
    if prism is None:
        pytest.skip(
            "Stoplight Prism is not installed: `npm install --prefix bench/.prism @stoplight/prism-cli@5`, "
            "or set VENDOR_SANDBOX_PRISM to its path"
        )
    reference_models_dir()
    output, report = _run_bench(tmp_path, "--servers", "sqlite,prism", "--prism", prism, "--wiremock", "none")
    assert "sqlite / prism" in output
    assert report["prism"]["model"].endswith("vendorOrders.json")
    for operation in report["operations"].values():
        assert operation["servers"]["prism"]["requests"] > 0
        assert operation["servers"]["prism"]["response_bytes"] > 0
        assert "throughput" in operation["ratios"]["sqlite/prism"]
    assert report["startup"]["prism"]["median_ms"] > 0
