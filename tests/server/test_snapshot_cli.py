"""`vendor-sandbox snapshot save|restore|list|delete NAME` against a served emulator, as a user runs them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import requests

from tests.server.cli_support import REPOSITORY, accounts, command, serving, token_for


def snapshot(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command("snapshot", *arguments),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY), **(env or {})},
    )


def test_save_list_restore_and_delete_through_the_command_line(tmp_path: Path) -> None:
    acme = next(item for item in accounts() if item["name"] == "acme-na")
    with serving("--data-dir", str(tmp_path / "data"), "--seed-size", "20", "--admin-token", "s3cret") as url:
        flags = ("--url", url, "--admin-token", "s3cret")
        headers = {"x-amz-access-token": token_for(url, acme)}
        orders = f"{url}/vendor/orders/v1/purchaseOrders"
        first = requests.get(orders, params={"limit": 100}, headers=headers, timeout=10).json()

        saved = snapshot("save", "start", *flags)
        assert saved.returncode == 0, saved.stderr
        assert saved.stdout.startswith("saved snapshot start: 80 purchase orders, 60 DF orders")
        again = snapshot("save", "start", *flags)
        assert again.returncode == 1 and "a snapshot named start exists" in again.stderr
        assert snapshot("save", "start", "--replace", *flags).returncode == 0

        admin = {"Authorization": "Bearer s3cret"}
        requests.post(f"{url}/_sandbox/clock/advance", json={"seconds": 5 * 3600}, headers=admin, timeout=10)
        moved = requests.get(orders, params={"limit": 100}, headers=headers, timeout=10).json()
        assert moved != first

        listed = snapshot("list", *flags)
        assert listed.returncode == 0 and listed.stdout.startswith("start  80 purchase orders")
        restored = snapshot("restore", "start", *flags)
        assert restored.returncode == 0, restored.stderr
        assert requests.get(orders, params={"limit": 100}, headers=headers, timeout=10).json() == first

        # The admin token may come from the environment, as the server's own settings do.
        from_env = snapshot("list", "--url", url, "--json", env={"VENDOR_SANDBOX_ADMIN_TOKEN": "s3cret"})
        assert from_env.returncode == 0, from_env.stderr
        assert '"name": "start"' in from_env.stdout

        assert snapshot("delete", "start", *flags).returncode == 0
        missing = snapshot("restore", "start", *flags)
        assert missing.returncode == 1 and "no snapshot named start" in missing.stderr
        refused = snapshot("list", "--url", url, "--admin-token", "wrong")
        assert refused.returncode == 1 and "admin token" in refused.stderr


def test_bad_names_and_an_absent_emulator_are_one_line_errors(tmp_path: Path) -> None:
    bad = snapshot("save", "../escape", "--url", "http://127.0.0.1:9")
    assert bad.returncode == 2 and "is not a snapshot name" in bad.stderr
    absent = snapshot("list", "--url", "http://127.0.0.1:9")
    assert absent.returncode == 2 and "no answer from http://127.0.0.1:9" in absent.stderr
    assert len(absent.stderr.strip().splitlines()) == 1
