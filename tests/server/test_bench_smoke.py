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


def _run_bench(tmp_path: Path, prism: str) -> tuple[str, dict[str, Any]]:
    figures = tmp_path / "figures.json"
    completed = subprocess.run(
        [
            sys.executable,
            str(REPOSITORY / "bench" / "pipeline_bench.py"),
            "--duration",
            "0.5",
            "--warmup",
            "0.1",
            "--connections",
            "2",
            "--loader",
            "python",
            "--startup-runs",
            "1",
            "--prism",
            prism,
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
    output, report = _run_bench(tmp_path, "none")
    assert "vendor-sandbox pipeline benchmark" in output
    assert "loader:   python" in output
    assert "prism:    not measured (--prism none)" in output
    for name in OPERATIONS:
        assert f"{name:<22} emulator" in output
        assert f"{name:<22} baseline" in output
        assert f"{name:<22} prism" not in output
    assert "emulator / baseline" in output
    assert "emulator / prism" not in output
    assert "start-up (spawn -> first answered request)" in output
    assert report["loader"] == "python"
    assert report["prism"]["measured"] is False
    operations = report["operations"]
    assert set(operations) == set(OPERATIONS)
    for operation in operations.values():
        assert operation["emulator"]["requests"] > 0
        assert operation["baseline"]["requests"] > 0
        assert "prism" not in operation


def test_pipeline_bench_measures_prism_too_when_it_is_installed(tmp_path: Path) -> None:
    prism = _prism()
    if prism is None:
        pytest.skip(
            "Stoplight Prism is not installed: `npm install --prefix bench/.prism @stoplight/prism-cli@5`, "
            "or set VENDOR_SANDBOX_PRISM to its path"
        )
    output, report = _run_bench(tmp_path, prism)
    for name in OPERATIONS:
        assert f"{name:<22} prism" in output
    assert "emulator / prism" in output
    assert report["prism"]["measured"] is True
    operations = report["operations"]
    for operation in operations.values():
        assert operation["prism"]["requests"] > 0
        assert operation["prism_response"]["response_bytes"] > 0
        assert "throughput" in operation["ratio_prism"]
    assert report["startup"]["prism"]["median_ms"] > 0
