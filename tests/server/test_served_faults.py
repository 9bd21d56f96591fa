"""Connection faults on the server `serve` runs (granian), as on the one tests run in a thread (waitress,
tests/server/test_chaos_faults.py): a dropped answer delivers no byte of its body and closes the connection
(granian may have sent the status line and headers by then: it sends them while the body is produced,
where waitress waits for the first byte of the body), a truncated one stops short of its Content-Length (on
granian, sometimes before its first byte), a trickle arrives in timed chunks, a latency fault delays its
answer."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.server.shared_support import ORDERS, Served, serving, session_for

FAULT_HEADER = "x-vendor-sandbox-fault"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    data_dir = tmp_path_factory.mktemp("served-faults")
    with serving("--store", "memory", "--seed-size", "30", "--no-rate-limits", data_dir=data_dir) as running:
        yield running


@pytest.fixture(scope="module")
def session(served: Served) -> requests.Session:
    return session_for(served.url)


def test_a_dropped_answer_closes_the_connection_without_a_body(
    served: Served, session: requests.Session
) -> None:
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)) as raised:
        session.get(f"{served.url}{ORDERS}", headers={FAULT_HEADER: "drop"}, timeout=10)
    assert any(
        text in str(raised.value)
        for text in ("Remote end closed connection without response", "Response ended prematurely")
    )
    host, port = served.url.removeprefix("http://").split(":")
    token = session.headers["x-amz-access-token"]
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            f"GET {ORDERS} HTTP/1.1\r\nHost: {host}\r\nx-amz-access-token: {token!s}\r\n"
            f"{FAULT_HEADER}: drop\r\n\r\n".encode()
        )
        received = b""
        while chunk := raw.recv(65536):  # until the server closes the connection
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert body == b""
    assert received == b"" or head.startswith(b"HTTP/1.1 200 OK")
    # The server goes on answering.
    assert session.get(f"{served.url}{ORDERS}", params={"limit": 1}, timeout=10).status_code == 200


def test_a_truncated_answer_stops_short_of_its_length(served: Served, session: requests.Session) -> None:
    with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)) as raised:
        session.get(f"{served.url}{ORDERS}", headers={FAULT_HEADER: "truncate keep=100"}, timeout=10)
    # At most the first 100 bytes of the body (granian closing the connection while it sends the answer may
    # leave fewer, or none, or not even the headers), never the whole of it.
    error = str(raised.value)
    read = re.search(r"IncompleteRead\((\d+) bytes read", error)
    assert (read is not None and int(read.group(1)) <= 100) or (
        "Remote end closed connection without response" in error
    ), error


def test_a_trickle_arrives_in_timed_chunks(served: Served, session: requests.Session) -> None:
    expected = session.get(f"{served.url}{ORDERS}", params={"limit": 2}, timeout=10).content
    chunk = max(len(expected) // 5, 1)
    started = time.perf_counter()
    response = session.get(
        f"{served.url}{ORDERS}",
        params={"limit": 2},
        headers={FAULT_HEADER: f"trickle chunk_bytes={chunk} interval=0.1"},
        stream=True,
        timeout=10,
    )
    arrivals, body = [], b""
    for piece in response.iter_content(chunk):
        body += piece
        arrivals.append(time.perf_counter() - started)
    assert json.loads(body)["payload"]
    assert len(body) == len(expected)
    assert arrivals[-1] - arrivals[0] >= 0.3


def test_a_latency_fault_delays_its_own_answer(served: Served, session: requests.Session) -> None:
    started = time.perf_counter()
    response = session.get(f"{served.url}{ORDERS}", headers={FAULT_HEADER: "latency seconds=0.5"}, timeout=10)
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.5


@pytest.mark.parametrize("threads", [1, 2])
def test_with_threads_a_latency_fault_holds_up_only_its_own_client(
    tmp_path_factory: pytest.TempPathFactory, threads: int
) -> None:
    """The documented trade-off of `--threads` (README, server.py): a latency fault sleeps on its thread; with
    one thread the other clients of the process wait with it, with two they are answered meanwhile."""
    data_dir = tmp_path_factory.mktemp(f"threads-{threads}")
    options = ("--store", "memory", "--seed-size", "30", "--no-rate-limits", "--threads", str(threads))
    with serving(*options, data_dir=data_dir) as running:
        delayed, other = session_for(running.url), session_for(running.url)
        started = threading.Event()

        def slow_call() -> None:
            started.set()
            delayed.get(f"{running.url}{ORDERS}", headers={FAULT_HEADER: "latency seconds=2"}, timeout=10)

        thread = threading.Thread(target=slow_call)
        thread.start()
        started.wait()
        time.sleep(0.3)  # the delayed call is asleep on its thread by now
        began = time.monotonic()
        assert other.get(f"{running.url}{ORDERS}", params={"limit": 1}, timeout=10).status_code == 200
        waited = time.monotonic() - began
        thread.join()
    if threads == 1:
        assert waited > 1.0, waited
    else:
        assert waited < 1.0, waited
