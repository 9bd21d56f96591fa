"""Running `vendor-sandbox` as a user does: a subprocess on 127.0.0.1, its printed URL, a token."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

REPOSITORY = Path(__file__).resolve().parents[2]


def command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "mockserver", *arguments]


@contextmanager
def serving(*arguments: str, cwd: Path | None = None) -> Iterator[str]:
    """Start `vendor-sandbox serve` on a free port and yield the base URL it prints when ready."""
    with subprocess.Popen(
        command("serve", "--port", "0", *arguments),
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


def token_for(base_url: str, account: dict[str, str]) -> str:
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


def accounts() -> list[dict[str, str]]:
    output = subprocess.run(
        command("accounts", "--json", "--data-dir", "/nonexistent/ignored"),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPOSITORY,
    ).stdout
    return list(json.loads(output))
