"""`vendor-sandbox proxy` and `vendor-sandbox replay` as a user runs them: subprocesses on 127.0.0.1 in front
of a second emulator (served in a thread here), driven with real HTTP and python-amazon-sp-api, stopped with
SIGTERM / SIGINT. tests/toolkit/test_proxy.py tests the same Flask apps through Flask's test client."""

from __future__ import annotations

import json
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.testing.inprocess import forget_cached_lwa_tokens
from mockserver.testing.served import VendorSandbox
from tests.server.retail_support import acknowledgement

ROOT = Path(__file__).resolve().parents[2]
ORDERS = "/vendor/orders/v1/purchaseOrders"
TRANSACTIONS = "/vendor/transactions/v1/transactions"


@dataclass
class Command:
    """A `python -m mockserver ...` process that has printed the URL it serves on."""

    process: subprocess.Popen[str]
    url: str
    _stdout: list[str] = field(default_factory=list)

    def stop(self, signum: int) -> tuple[int, str]:
        """Send the signal; the exit status and what the process wrote to stderr."""
        self.process.send_signal(signum)
        try:
            _, stderr = self.process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
            pytest.fail(f"{self.process.args!r} did not stop on signal {signum}: {stderr}")
        return self.process.returncode, stderr


def _ignore_sigint() -> None:
    """As a shell starts a background job (`cmd &`): SIGINT ignored, so Python has no KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _launch(*arguments: str, sigint_ignored: bool = False) -> Command:
    process = subprocess.Popen(
        [sys.executable, "-m", "mockserver", *arguments],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=120)  # a guard against a hang, not a measurement
    except queue.Empty:
        process.kill()
        pytest.fail(f"{arguments} printed nothing: {process.communicate()[1]}")
    if not line:
        pytest.fail(f"{arguments} exited {process.wait()}: {process.communicate()[1]}")
    assert line.startswith("vendor-sandbox "), line
    return Command(process=process, url=line.split(" on ")[-1].strip())


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def target() -> Iterator[VendorSandbox]:
    sandbox = VendorSandbox(rate_limits=False, processing_delay=0)
    yield sandbox
    sandbox.stop()


def _token(url: str, target: VendorSandbox) -> str:
    account = target.credentials()
    response = requests.post(
        f"{url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": account["refresh_token"],
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@dataclass
class Recording:
    """A session through the proxy: the answers it gave, its journal, and how it stopped."""

    answers: list[tuple[str, str, dict[str, Any], Any, int, Any]]  # method, path, query, body, status, JSON
    journal: list[dict[str, Any]]
    conformance: dict[str, Any]
    har: Path
    journal_file: Path
    exit_code: int
    stderr: str
    target_request_ids: set[str]


@pytest.fixture(scope="module")
def recording(target: VendorSandbox, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    directory = tmp_path_factory.mktemp("proxy")
    har = directory / "recording.har"
    target.admin.clear_journal()
    proxy = _launch("proxy", "--target", target.base_url, "--port", "0", "--har", str(har))
    session = requests.Session()
    try:
        session.headers["x-amz-access-token"] = _token(proxy.url, target)
        answers: list[tuple[str, str, dict[str, Any], Any, int, Any]] = []

        def call(method: str, path: str, body: Any = None, **query: Any) -> Any:
            response = session.request(method, f"{proxy.url}{path}", json=body, params=query, timeout=30)
            answers.append((method, path, query, body, response.status_code, response.json()))
            assert response.headers["x-amzn-RequestId"]
            return response

        listed = call("GET", ORDERS, limit=5, purchaseOrderState="New")
        assert listed.status_code == 200, listed.text
        order = next(
            order
            for order in listed.json()["payload"]["orders"]
            if all(item["orderedQuantity"]["amount"] > 0 for item in order["orderDetails"]["items"])
        )
        number = order["purchaseOrderNumber"]
        assert call("GET", f"{ORDERS}/{number}").status_code == 200
        acknowledged = call("POST", "/vendor/orders/v1/acknowledgements", acknowledgement(order))
        assert acknowledged.status_code == 202, acknowledged.text
        transaction_id = acknowledged.json()["payload"]["transactionId"]
        assert call("GET", f"{TRANSACTIONS}/{transaction_id}").status_code == 200
        assert call("GET", ORDERS, limit="many").status_code == 400  # the target's answer, recorded
        journal = requests.get(f"{proxy.url}/_sandbox/journal", timeout=30).json()
        conformance = requests.get(f"{proxy.url}/_sandbox/report/conformance", timeout=30).json()
    finally:
        session.close()
        exit_code, stderr = proxy.stop(signal.SIGTERM)
    journal_file = directory / "journal.json"
    journal_file.write_text(json.dumps(journal), encoding="utf-8")
    return Recording(
        answers=answers,
        journal=journal["entries"],
        conformance=conformance,
        har=har,
        journal_file=journal_file,
        exit_code=exit_code,
        stderr=stderr,
        target_request_ids={entry["request_id"] for entry in target.journal(limit=1000)},
    )


def test_the_proxy_forwards_validates_and_records(recording: Recording) -> None:
    entries = recording.journal
    assert [(entry["method"], entry["operation_id"], entry["status"]) for entry in entries] == [
        ("POST", None, 200),  # the LWA exchange
        ("GET", "getPurchaseOrders", 200),
        ("GET", "getPurchaseOrder", 200),
        ("POST", "submitAcknowledgement", 202),
        ("GET", "getTransaction", 200),
        ("GET", "getPurchaseOrders", 400),
    ]
    # The target answered every SP-API call itself: the proxy kept its request ids.
    assert {entry["request_id"] for entry in entries[1:]} <= recording.target_request_ids
    assert all(entry["answered_by"] == "proxy" for entry in entries[:5])
    assert all(entry["request_headers"]["X-Amz-Access-Token"] == "***" for entry in entries[1:])
    assert "Atzr|" not in json.dumps(entries)
    # The invalid request was forwarded, and recorded as a contract violation.
    assert entries[5]["answered_by"] == "proxy:invalid"
    assert entries[5]["violations"][0]["rule"] == "contract"
    assert not any(entry["violations"] for entry in entries[:5])
    row = next(r for r in recording.conformance["operations"] if r["operation_id"] == "submitAcknowledgement")
    assert row["calls"] == 1 and not row["violations"]


def test_sigterm_stops_the_proxy_cleanly_and_writes_the_har(recording: Recording) -> None:
    assert recording.exit_code == 0, recording.stderr
    assert "Traceback" not in recording.stderr
    assert f"wrote 6 exchange(s) as HAR to {recording.har}" in recording.stderr
    har = json.loads(recording.har.read_text(encoding="utf-8"))
    assert [(entry["request"]["method"], entry["response"]["status"]) for entry in har["log"]["entries"]] == [
        (entry["method"], entry["status"]) for entry in recording.journal
    ]
    assert "Atzr|" not in recording.har.read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", ["har", "journal"])
def test_replay_serves_the_recording_back_and_stops_on_sigint(recording: Recording, kind: str) -> None:
    replay = _launch("replay", str(recording.har if kind == "har" else recording.journal_file), "--port", "0")
    try:
        for method, path, query, body, status, answer in recording.answers:
            response = requests.request(method, f"{replay.url}{path}", json=body, params=query, timeout=30)
            assert (response.status_code, response.json()) == (status, answer), (method, path)
            assert response.headers["x-vendor-sandbox-answer"] == "replay"
        missing = requests.get(f"{replay.url}{ORDERS}/NOT-RECORDED", timeout=30)
        assert missing.status_code == 404
        assert missing.json()["errors"][0]["code"] == "NotFound"
    finally:
        exit_code, stderr = replay.stop(signal.SIGINT)
    assert exit_code == 0, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_proxy_and_replay_started_in_the_background_stop_on_both_signals(
    recording: Recording, tmp_path: Path, signum: int
) -> None:
    """A job started with `&` has SIGINT ignored: both signals still stop it cleanly, the HAR written."""
    har = tmp_path / "background.har"
    proxy = _launch(
        "proxy", "--target", "http://127.0.0.1:9", "--port", "0", "--har", str(har), sigint_ignored=True
    )
    replay = _launch("replay", str(recording.journal_file), "--port", "0", sigint_ignored=True)
    for command in (proxy, replay):
        exit_code, stderr = command.stop(signum)
        assert exit_code == 0, stderr
        assert "Traceback" not in stderr
    assert json.loads(har.read_text(encoding="utf-8"))["log"]["entries"] == []


def test_python_amazon_sp_api_through_the_proxy(target: VendorSandbox) -> None:
    from sp_api.api import VendorOrders
    from sp_api.auth import AccessTokenClient
    from sp_api.base import Marketplaces

    proxy = _launch("proxy", "--target", target.base_url, "--port", "0")
    orders: Any = None
    try:

        class ProxyLwa(AccessTokenClient):
            scheme = "http://"
            host = proxy.url.removeprefix("http://")

        account = target.credentials()
        forget_cached_lwa_tokens()
        orders = VendorOrders(
            Marketplaces.US,
            credentials={
                "refresh_token": account["refresh_token"],
                "lwa_app_id": account["client_id"],
                "lwa_client_secret": account["client_secret"],
            },
            auth_token_client_class=ProxyLwa,
        )
        orders.endpoint = proxy.url
        payload = orders.get_purchase_orders(limit=3).payload
        assert len(payload["orders"]) == 3
        entries = requests.get(f"{proxy.url}/_sandbox/journal", timeout=30).json()["entries"]
    finally:
        if orders is not None:  # the client's httpx connections, closed so that no socket is left open
            orders._transport._client.close()
            orders._auth._transport._client.close()
        exit_code, stderr = proxy.stop(signal.SIGTERM)
        forget_cached_lwa_tokens()
    assert [(entry["path"], entry["status"]) for entry in entries] == [("/auth/o2/token", 200), (ORDERS, 200)]
    assert entries[1]["query"]["limit"] == ["3"] and not entries[1]["violations"]
    assert exit_code == 0 and "Traceback" not in stderr


def test_an_unreachable_target_gets_amazons_503_not_a_stack_trace() -> None:
    closed = f"http://127.0.0.1:{_free_port()}"
    proxy = _launch("proxy", "--target", closed, "--port", "0")
    try:
        response = requests.get(f"{proxy.url}{ORDERS}", headers={"x-amz-access-token": "Atza|x"}, timeout=30)
        entries = requests.get(f"{proxy.url}/_sandbox/journal", timeout=30).json()["entries"]
    finally:
        exit_code, stderr = proxy.stop(signal.SIGINT)
    assert response.status_code == 503
    assert response.headers["x-amzn-RequestId"]
    error = response.json()["errors"][0]
    assert error["code"] == "ServiceUnavailable"
    assert closed in error["details"] and "Traceback" not in response.text
    assert [(entry["operation_id"], entry["status"], entry["answered_by"]) for entry in entries] == [
        ("getPurchaseOrders", 503, "proxy:unreachable")
    ]
    assert exit_code == 0
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["proxy", "--port", "0"], "the following arguments are required: --target"),
        (["proxy", "--target", "sellingpartnerapi-na.amazon.com", "--port", "0"], "must be an http(s) URL"),
        (["proxy", "--target", "http://127.0.0.1:9", "--port", "eighty"], "not a port number: 'eighty'"),
        (
            ["proxy", "--target", "http://127.0.0.1:9", "--port", "70000"],
            "a port is 0 (any free one) to 65535",
        ),
        (
            ["proxy", "--target", "http://127.0.0.1:9", "--port", "0", "--contracts", "/no/dir"],
            "no API contract",
        ),
        (
            ["proxy", "--target", "http://127.0.0.1:9", "--port", "0", "--har", "/no/dir/x.har"],
            "does not exist",
        ),
        (["replay", "--port", "0"], "the following arguments are required: recording"),
        (["replay", "/no/such/recording.har", "--port", "0"], "cannot read the recording"),
    ],
)
def test_bad_flags_exit_2_with_a_clear_message(arguments: list[str], message: str) -> None:
    result = _run(*arguments)
    assert result.returncode == 2, result
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_recording_that_is_not_one_is_refused(tmp_path: Path) -> None:
    not_json = tmp_path / "notes.har"
    not_json.write_text("not JSON", encoding="utf-8")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"items": []}), encoding="utf-8")
    for path, message in (
        (not_json, "is not JSON"),
        (other, "neither a HAR file nor a GET /_sandbox/journal"),
    ):
        result = _run("replay", str(path), "--port", "0")
        assert result.returncode == 2, result
        assert message in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "journal.json"
    empty.write_text(json.dumps({"entries": []}), encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        results = [
            _run("proxy", "--target", "http://127.0.0.1:9", "--port", port),
            _run("replay", str(empty), "--port", port),
        ]
    for result, command in zip(results, ("proxy", "replay"), strict=True):
        assert result.returncode == 2, result
        assert result.stderr.strip() == (
            f"vendor-sandbox {command}: port {port} on 127.0.0.1 is in use: choose another with --port"
        )
