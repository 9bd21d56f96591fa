"""The outer interface other tools rely on: `vendor-sandbox serve | accounts | contracts`."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.reference import reference_models_dir

REPOSITORY = Path(__file__).resolve().parents[2]


def _command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "mockserver", *arguments]


@contextmanager
def serving(*arguments: str, cwd: Path | None = None) -> Iterator[str]:
    """Start `vendor-sandbox serve` on a free port and yield the base URL it prints when ready."""
    with subprocess.Popen(
        _command("serve", "--port", "0", *arguments),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd or REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            assert match, f"no base URL printed: {line!r} {process.stderr.read() if process.stderr else ''}"
            yield match.group(1)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _token(base_url: str, account: dict[str, str]) -> str:
    response = requests.post(
        f"{base_url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": account["refresh_token"],
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _accounts() -> list[dict[str, str]]:
    output = subprocess.run(
        _command("accounts", "--json", "--data-dir", "/nonexistent/ignored"),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY,
    ).stdout
    return list(json.loads(output))


def test_accounts_json_lists_the_demo_accounts_with_credentials() -> None:
    accounts = _accounts()
    for item in accounts:
        assert {
            "name",
            "client_id",
            "client_secret",
            "refresh_token",
            "read_only",
            "marketplace_ids",
            "vendor_codes",
            "region",
        } <= set(item)
    writable = [item for item in accounts if not item["read_only"]]
    assert {item["region"] for item in writable} >= {"na", "eu"}
    assert len({code for item in writable for code in item["vendor_codes"]}) >= 2
    assert any(item["read_only"] for item in accounts)


def test_serve_prints_the_base_url_creates_the_data_dir_and_is_healthy(tmp_path: Path) -> None:
    data_dir = tmp_path / "does" / "not" / "exist"
    with serving("--host", "127.0.0.1", "--data-dir", str(data_dir)) as base_url:
        response = requests.get(f"{base_url}/_sandbox/health", timeout=10)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert data_dir.is_dir()


def test_serve_accepts_odd_host_headers(tmp_path: Path) -> None:
    account = _accounts()[0]
    with serving("--data-dir", str(tmp_path)) as base_url:
        token = _token(base_url, account)
        port = base_url.rsplit(":", 1)[1]
        response = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            headers={"x-amz-access-token": token, "Host": f"27.0.0.1:{port}"},
            timeout=10,
        )
        assert response.status_code == 200


def test_accepted_state_survives_a_restart(tmp_path: Path) -> None:
    """A token issued before a restart still works after it, on the SQLite store."""
    account = _accounts()[0]
    with serving("--data-dir", str(tmp_path)) as base_url:
        token = _token(base_url, account)
    with serving("--data-dir", str(tmp_path)) as base_url:
        response = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            headers={"x-amz-access-token": token},
            timeout=10,
        )
        assert response.status_code == 200, response.text


def test_memory_store_forgets_on_restart(tmp_path: Path) -> None:
    account = _accounts()[0]
    with serving("--data-dir", str(tmp_path), "--store", "memory") as base_url:
        token = _token(base_url, account)
    with serving("--data-dir", str(tmp_path), "--store", "memory") as base_url:
        response = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            headers={"x-amz-access-token": token},
            timeout=10,
        )
        assert response.status_code == 403


def test_serve_static_mode_from_official_models(tmp_path: Path) -> None:
    account = _accounts()[0]
    with serving(
        "--data-dir", str(tmp_path), "--mode", "static", "--contracts", str(reference_models_dir())
    ) as url:
        response = requests.get(
            f"{url}/reports/2021-06-30/reports/ID323",
            headers={"x-amz-access-token": _token(url, account)},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["reportId"] == "ReportId1"


def test_static_mode_without_models_says_how_to_get_them(tmp_path: Path) -> None:
    result = subprocess.run(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path), "--mode", "static"),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPOSITORY,
    )
    assert result.returncode == 2
    assert "vendor-sandbox contracts fetch" in result.stderr
    assert "--contracts" in result.stderr


def test_several_workers_are_refused_honestly(tmp_path: Path) -> None:
    result = subprocess.run(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path), "--workers", "4"),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPOSITORY,
    )
    assert result.returncode == 2
    assert "--workers" in result.stderr


def test_serve_from_a_directory_of_official_models_in_dynamic_mode(tmp_path: Path) -> None:
    account = _accounts()[0]
    with serving("--data-dir", str(tmp_path), "--contracts", str(reference_models_dir())) as url:
        response = requests.get(
            f"{url}/vendor/orders/v1/purchaseOrders",
            headers={"x-amz-access-token": _token(url, account)},
            timeout=10,
        )
        assert response.status_code == 200
        assert "payload" in response.json()


def test_startup_is_quick(tmp_path: Path) -> None:
    """Not a timing assertion: only that serving starts at all within a generous bound."""
    started = time.monotonic()
    with serving("--data-dir", str(tmp_path)) as base_url:
        assert requests.get(f"{base_url}/_sandbox/health", timeout=10).status_code == 200
    assert time.monotonic() - started < 60
