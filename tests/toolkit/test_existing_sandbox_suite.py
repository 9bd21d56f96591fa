"""An existing test suite written for Amazon's static sandbox (here in python-amazon-sp-api's usual style: the
sandbox chosen by `AWS_ENV=SANDBOX`, credentials from the environment, no fixture of ours) runs unchanged,
offline, through the plugin's `--vendor-sandbox-inprocess`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.reference import reference_models_dir

SANDBOX_SUITE = """
from sp_api.api import Reports, VendorOrders


def test_get_report():
    assert Reports().get_report("ID323").payload["reportId"] == "ReportId1"


def test_get_purchase_order():
    assert VendorOrders().get_purchase_order("4Z32PABC").payload["purchaseOrderNumber"] == "4Z32PABC"


def test_create_report():
    created = Reports().create_report(
        reportType="GET_MERCHANT_LISTINGS_ALL_DATA",
        dataStartTime="2024-03-10T20:11:24.000Z",
        marketplaceIds=["A1PA6795UKMFR9", "ATVPDKIKX0DER"],
    )
    assert created.payload["reportId"] == "ID323"
"""

DEMO_ENVIRONMENT = {
    "AWS_ENV": "SANDBOX",
    "SP_API_REFRESH_TOKEN": "Atzr|IwEBvsdemo-acme-na-demo-integration-0000000000000000000000000001",
    "LWA_APP_ID": "amzn1.application-oa2-client.vsdemo0000000000000000000000001",
    "LWA_CLIENT_SECRET": "amzn1.oa2-cs.v1.vsdemo000000000000000000000000000000000000000000000000000000000001",
}


def _run_suite(tmp_path: Path, models: Path) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sandbox_suite.py").write_text(textwrap.dedent(SANDBOX_SUITE), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--vendor-sandbox-inprocess"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, **DEMO_ENVIRONMENT, "VENDOR_SANDBOX_MODELS_DIR": str(models)},
    )


def test_an_existing_sandbox_suite_passes_unchanged_through_the_plugin(tmp_path: Path) -> None:
    result = _run_suite(tmp_path, reference_models_dir())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    assert "conformance: 3 call(s) to 3 operation(s), 0 violation(s)" in result.stdout


def test_without_the_models_the_suite_is_told_how_to_get_them(tmp_path: Path) -> None:
    result = _run_suite(tmp_path, tmp_path / "no-models-here")
    assert result.returncode == 1
    assert "3 failed" in result.stdout
    assert "Static sandbox mode needs Amazon's official models" in result.stdout
