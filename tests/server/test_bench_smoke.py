"""bench/pipeline_bench.py still runs end to end: a smoke test, never a judgement on timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_pipeline_bench_prints_its_table_and_exits_0(tmp_path: Path) -> None:
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
            "--json",
            str(figures),
        ],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        timeout=180,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    output = completed.stdout
    assert "vendor-sandbox pipeline benchmark" in output
    assert "loader:   python" in output
    for name in ("getPurchaseOrders", "submitAcknowledgement"):
        assert f"{name:<22} emulator" in output
        assert f"{name:<22} baseline" in output
    assert "emulator / baseline" in output
    assert "start-up (spawn -> first answered GET /_sandbox/health)" in output
    report = json.loads(figures.read_text(encoding="utf-8"))
    assert report["loader"] == "python"
    assert set(report["operations"]) == {"getPurchaseOrders", "submitAcknowledgement"}
    for operation in report["operations"].values():
        assert operation["emulator"]["requests"] > 0
        assert operation["baseline"]["requests"] > 0
