"""Several emulator processes over one store, as a user starts them: `vendor-sandbox serve` subprocesses on
127.0.0.1 (replicas on their own ports, or one `serve --workers N`), with their process ids."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.server.cli_support import REPOSITORY, accounts, token_for

ORDERS = "/vendor/orders/v1/purchaseOrders"
ACK = "/vendor/orders/v1/acknowledgements"
TRANSACTIONS = "/vendor/transactions/v1/transactions"


@dataclass
class Served:
    url: str
    process: subprocess.Popen[str]

    def workers_up(self, count: int, timeout: float = 15.0) -> list[int]:
        """The worker processes once there are `count` (the first one ready announces the server, while
        granian may still be forking the others)."""
        deadline = time.monotonic() + timeout
        found = self.workers()
        while len(found) < count and time.monotonic() < deadline:
            time.sleep(0.05)
            found = self.workers()
        return found

    def workers(self) -> list[int]:
        """The worker processes of this `serve` (granian forks them from it)."""
        found = []
        for child in _children(self.process.pid):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"resource_tracker" not in command:
                found.append(child)
        return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children += [int(item) for item in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


@contextmanager
def serving(*arguments: str, data_dir: Path) -> Iterator[Served]:
    """`vendor-sandbox serve --port 0 ...` until the block ends (SIGTERM, then SIGKILL)."""
    with subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--data-dir", str(data_dir), *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            assert match, f"no base URL printed: {line!r} {process.stderr.read() if process.stderr else ''}"
            yield Served(match.group(1), process)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def session_for(url: str, name: str = "acme-na") -> requests.Session:
    account = next(item for item in accounts() if item["name"] == name)
    session = requests.Session()
    session.headers["x-amz-access-token"] = token_for(url, account)
    return session


def acknowledgement(order: dict[str, Any], date: str = "2026-03-01T10:00:00Z") -> dict[str, Any]:
    return {
        "acknowledgements": [
            {
                "purchaseOrderNumber": order["purchaseOrderNumber"],
                "sellingParty": order["orderDetails"]["sellingParty"],
                "acknowledgementDate": date,
                "items": [
                    {
                        "itemSequenceNumber": item["itemSequenceNumber"],
                        "amazonProductIdentifier": item["amazonProductIdentifier"],
                        "vendorProductIdentifier": item["vendorProductIdentifier"],
                        "orderedQuantity": item["orderedQuantity"],
                        "itemAcknowledgements": [
                            {
                                "acknowledgementCode": "Accepted",
                                "acknowledgedQuantity": item["orderedQuantity"],
                            }
                        ],
                    }
                    for item in order["orderDetails"]["items"]
                ],
            }
        ]
    }


def transaction_status(session: requests.Session, url: str, transaction_id: str) -> str:
    response = session.get(f"{url}{TRANSACTIONS}/{transaction_id}", timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["payload"]["transactionStatus"]["status"])


def wait_until_decided(session: requests.Session, url: str, transaction_id: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = transaction_status(session, url, transaction_id)
        if status != "Processing" or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def retrying(call: Any, attempts: int = 50, pause: float = 0.1) -> Any:
    """A call repeated while the emulator cannot reach its store (a Redis restarting: 500s, then answers)."""
    last: Any = None
    for _ in range(attempts):
        try:
            last = call()
            if getattr(last, "status_code", 200) < 500:
                return last
        except requests.RequestException as error:
            last = error
        time.sleep(pause)
    raise AssertionError(f"still failing after {attempts} attempts: {last}")
