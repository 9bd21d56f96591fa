"""SP-API calls bypass Flask's dispatch; Flask's own routes (LWA, consent, admin) stay with Flask."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockserver.app import SpApiDispatch
from mockserver.pipeline.gateway import ANSWER_HEADER, Call, HandlerResult
from mockserver.testing.server import RunningEmulator, start_emulator

PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"


@pytest.fixture
def own_emulator(tmp_path: Path) -> Iterator[RunningEmulator]:
    running = start_emulator(data_dir=tmp_path / "data", store="memory", rate_scale=1000.0)
    yield running
    running.stop()


def test_the_app_dispatches_through_the_sp_api_shortcut(emulator: RunningEmulator) -> None:
    dispatch = emulator.app.wsgi_app
    assert isinstance(dispatch, SpApiDispatch)
    assert "/_sandbox/" in dispatch.flask_prefixes
    assert "/auth/o2/token" in dispatch.flask_prefixes
    assert "/apps/authorize/consent" in dispatch.flask_prefixes
    assert not any(prefix in ("", "/") for prefix in dispatch.flask_prefixes), (
        "SP-API paths never reach Flask"
    )


@pytest.mark.parametrize(
    ("path", "status"), [("/_sandbox/health", 200), ("/_sandbox/no-such-admin-call", 404)]
)
def test_admin_paths_reach_flask(emulator: RunningEmulator, path: str, status: int) -> None:
    response = requests.get(f"{emulator.base_url}{path}", timeout=10)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert ANSWER_HEADER not in response.headers


@pytest.mark.parametrize("path", ["/_sandbox", "/", "/auth/o2/tokenx", "/vendor/orders/v1/nothing-here"])
def test_other_paths_reach_the_gateway(emulator: RunningEmulator, path: str) -> None:
    """Routing is the gateway's first stage: an unknown path is Amazon's 404, token or not."""
    response = requests.get(f"{emulator.base_url}{path}", timeout=10)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NotFound"
    assert response.headers[ANSWER_HEADER] == "error:route"
    assert "x-amzn-RequestId" in response.headers


def test_lwa_still_answers_through_flask(emulator: RunningEmulator) -> None:
    response = requests.post(
        f"{emulator.base_url}/auth/o2/token", data={"grant_type": "nonsense"}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_failure_outside_the_gateways_own_guard_is_amazons_500(
    own_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    gateway = own_emulator.sandbox.gateway

    def broken_respond(*args: object, **kwargs: object) -> None:
        raise RuntimeError("respond broke")

    monkeypatch.setattr(gateway, "_respond", broken_respond)
    with caplog.at_level(logging.ERROR, logger="mockserver.app"):
        response = own_emulator.session().get(f"{own_emulator.base_url}{PURCHASE_ORDERS}", timeout=10)
    assert response.status_code == 500
    assert response.json()["errors"][0]["code"] == "InternalFailure"
    assert "Traceback" not in response.text
    assert "respond broke" in caplog.text


def test_an_answer_outside_the_contract_is_noted_in_the_journal(
    own_emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The emulator checks its own answers against the contract and says so when one does not fit."""

    def misshapen(call: Call) -> HandlerResult:
        return HandlerResult(200, {"payload": {"orders": "not a list"}}, "stateful")

    own_emulator.sandbox.handlers["vendor/orders/v1#getPurchaseOrders"] = misshapen
    with caplog.at_level(logging.WARNING, logger="mockserver.pipeline.gateway"):
        response = own_emulator.session().get(f"{own_emulator.base_url}{PURCHASE_ORDERS}", timeout=10)
    assert response.status_code == 200
    request_id = response.headers["x-amzn-RequestId"]
    entries = requests.get(f"{own_emulator.base_url}/_sandbox/journal", timeout=10).json()["entries"]
    entry = next(item for item in entries if item["request_id"] == request_id)
    assert any(
        "response violates the contract" in note and "payload.orders" in note for note in entry["notes"]
    )
    assert "outside its contract" in caplog.text


def test_a_conforming_answer_carries_no_note(own_emulator: RunningEmulator) -> None:
    response = own_emulator.session().get(f"{own_emulator.base_url}{PURCHASE_ORDERS}?limit=5", timeout=10)
    assert response.status_code == 200
    request_id = response.headers["x-amzn-RequestId"]
    entries = requests.get(f"{own_emulator.base_url}/_sandbox/journal", timeout=10).json()["entries"]
    entry = next(item for item in entries if item["request_id"] == request_id)
    assert entry["notes"] == []


def _served(app: object, environ: dict[str, object]) -> tuple[str, list[tuple[str, str]], bytes]:
    captured: list[object] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        captured[:] = [status, headers]

    body = b"".join(app(environ, start_response))  # type: ignore[operator]
    return str(captured[0]), list(captured[1]), body  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "body", "with_token", "status"),
    [
        ("GET", f"{PURCHASE_ORDERS}?limit=2", b"", True, 200),
        ("HEAD", f"{PURCHASE_ORDERS}?limit=2", b"", True, 405),
        ("POST", "/vendor/orders/v1/acknowledgements", b'{"acknowledgements": []}', True, 202),
        ("POST", "/vendor/orders/v1/acknowledgements", b'{"acknowledgements": "none"}', True, 400),
        ("POST", "/vendor/orders/v1/acknowledgements", b"{not json", True, 400),
        ("GET", PURCHASE_ORDERS, b"", False, 403),
        ("GET", "/vendor/orders/v1/nothing-here", b"", False, 404),
        ("DELETE", PURCHASE_ORDERS, b"", True, 405),
    ],
)
def test_a_direct_answer_is_what_werkzeugs_response_sends(
    emulator: RunningEmulator, method: str, path: str, body: bytes, with_token: bool, status: int
) -> None:
    """The SP-API shortcut writes answers straight to the server: the same status line, headers (in order)
    and body as the Response the gateway builds for Flask's catch-all, but for the request id."""
    from io import BytesIO

    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    from tests.server.cli_support import accounts, token_for

    account = next(item for item in accounts() if item["name"] == "acme-na")
    headers = {"Content-Type": "application/json"}
    if with_token:
        headers["x-amz-access-token"] = token_for(emulator.base_url, account)

    def environ() -> dict[str, object]:
        built = EnvironBuilder(path=path, method=method, data=body, headers=headers).get_environ()
        built["wsgi.input"] = BytesIO(body)
        return built

    direct = _served(emulator.app.wsgi_app, environ())
    gateway = emulator.sandbox.gateway
    through_response = _served(gateway(Request(environ())), environ())
    assert direct[0] == through_response[0]
    assert int(direct[0].split()[0]) == status

    def comparable(served: tuple[str, list[tuple[str, str]], bytes]) -> tuple[object, ...]:
        names = [name for name, _ in served[1]]
        values = [value for name, value in served[1] if name != "x-amzn-RequestId"]
        # Ids are new on every call (the request's, a transaction's): the rest is compared byte for byte.
        return names, values, re.sub(rb"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", b"<id>", served[2])

    assert comparable(direct) == comparable(through_response)
    if method == "HEAD":
        assert direct[2] == b""
