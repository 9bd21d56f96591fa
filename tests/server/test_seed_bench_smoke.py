"""bench/seed_bench.py still runs end to end: a smoke test, never a judgement on timings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_seed_bench_prints_its_table_and_exits_0() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPOSITORY / "bench" / "seed_bench.py"), "--quick", "--rounds", "1"],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    output = completed.stdout
    assert "vendor-sandbox seed and read benchmark (in-process)" in output
    assert "world:    600 purchase orders (4 accounts x seed_size 150)" in output
    assert re.search(r"^seconds to seed +\d+\.\d\d +\d+\.\d\d$", output, re.MULTILINE), output
    assert re.search(r"^list_purchase_orders, us per call +memory +sqlite +orders$", output, re.MULTILINE)
    for limit in (10, 100):
        for label in (
            "default window (7 days)",
            "receive status RECEIVED",
            "receive PARTIALLY_RECEIVED (empty)",
        ):
            assert re.search(
                rf"^{re.escape(f'{label}, limit {limit}')} +\d+ +\d+  \d+$", output, re.MULTILINE
            ), (
                label,
                output,
            )
    # Both stores found the same purchase orders; the empty filter found none.
    assert re.search(r"^receive PARTIALLY_RECEIVED \(empty\), limit 10 +\d+ +\d+  0$", output, re.MULTILINE)


def test_df_bench_prints_its_table_and_exits_0() -> None:
    completed = subprocess.run(
        [sys.executable, str(REPOSITORY / "bench" / "df_bench.py"), "--quick", "--rounds", "1"],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    output = completed.stdout
    assert "world:    2,000 DF orders of acme-na (pages compared with a world of 200)" in output
    assert re.search(r"^seconds to seed 2,000 orders +\d+\.\d\d +\d+\.\d\d$", output, re.MULTILINE), output
    for label in ("getOrders, last 7 days", "getOrders, status SHIPPED", "getPackingSlips, last 7 days"):
        for limit in (10, 100):
            assert re.search(
                rf"^{re.escape(f'{label}, limit {limit}')}( +\d+ +\d+ +\d+\.\d\d){{2}}  \d+/\d+$",
                output,
                re.MULTILINE,
            ), (label, output)
    # Both worlds have ten orders of the last 7 days to page.
    assert re.search(r"^getOrders, last 7 days, limit 10 .*  10/10$", output, re.MULTILINE)
