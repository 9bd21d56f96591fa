"""Idle and slow connections cannot lock other clients out of `vendor-sandbox serve`."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.server.cli_support import accounts, serving, token_for

IDLE_CONNECTIONS = 500


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    with serving("--data-dir", str(tmp_path), "--store", "memory", "--no-rate-limits") as base_url:
        yield base_url


def _open(base_url: str, count: int, first_bytes: bytes = b"") -> list[socket.socket]:
    host, port = base_url.removeprefix("http://").split(":")
    opened = []
    for _ in range(count):
        connection = socket.create_connection((host, int(port)), timeout=10)
        if first_bytes:
            connection.sendall(first_bytes)
        opened.append(connection)
    return opened


def test_500_idle_connections_do_not_lock_out_a_normal_client(served: str) -> None:
    token = token_for(served, next(item for item in accounts() if item["name"] == "acme-na"))
    idle = _open(served, IDLE_CONNECTIONS)
    # Slow clients too: a request line and part of the headers, then nothing.
    slow = _open(served, 50, b"GET /vendor/orders/v1/purchaseOrders HTTP/1.1\r\nHost: x\r\nx-amz-")
    try:
        started = time.monotonic()
        for _ in range(20):
            response = requests.get(
                f"{served}/vendor/orders/v1/purchaseOrders",
                params={"limit": 2},
                headers={"x-amz-access-token": token},
                timeout=10,
            )
            assert response.status_code == 200, response.text
        assert time.monotonic() - started < 60  # a guard against a hang, not a measurement
        assert requests.get(f"{served}/_sandbox/health", timeout=10).status_code == 200
    finally:
        for connection in idle + slow:
            connection.close()
