"""With --admin-token, every /_sandbox/ call needs it; SP-API tokens never open the admin API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

ADMIN_TOKEN = "local-admin-secret"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("guarded"),
        store="memory",
        rate_scale=100.0,
        admin_token=ADMIN_TOKEN,
    )
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_sandbox/reset"),
        ("GET", "/_sandbox/journal"),
        ("GET", "/_sandbox/clock"),
        ("GET", "/_sandbox/faults"),
        ("GET", "/_sandbox/report/conformance"),
        ("GET", "/_sandbox/no-such-call"),
    ],
)
def test_admin_calls_without_the_admin_token_are_refused(
    guarded: RunningEmulator, method: str, path: str
) -> None:
    response = requests.request(method, guarded.base_url + path, timeout=10)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Unauthorized"


def test_the_health_call_needs_no_admin_token_and_says_nothing_of_the_world(guarded: RunningEmulator) -> None:
    response = requests.get(guarded.base_url + "/_sandbox/health", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body) == {"status", "version", "mode", "region", "store", "operations", "static_cases"}
    # Only reading is open: the same path with another method is still behind the token.
    assert requests.post(guarded.base_url + "/_sandbox/health", timeout=10).status_code == 403


def test_an_sp_api_access_token_does_not_open_the_admin_api(guarded: RunningEmulator) -> None:
    token = guarded.access_token()
    for headers in ({"x-amz-access-token": token}, {"Authorization": f"Bearer {token}"}):
        response = requests.post(guarded.base_url + "/_sandbox/reset", headers=headers, timeout=10)
        assert response.status_code == 403


def test_the_admin_token_opens_the_admin_api(guarded: RunningEmulator) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert requests.get(guarded.base_url + "/_sandbox/health", headers=headers, timeout=10).status_code == 200
    assert requests.post(guarded.base_url + "/_sandbox/reset", headers=headers, timeout=10).status_code == 200


def test_the_sp_api_and_lwa_do_not_need_the_admin_token(guarded: RunningEmulator) -> None:
    response = guarded.session().get(
        guarded.base_url + "/vendor/orders/v1/purchaseOrders", params={"limit": 1}
    )
    assert response.status_code == 200


def test_without_an_admin_token_the_admin_api_is_open(emulator: RunningEmulator) -> None:
    assert requests.get(emulator.base_url + "/_sandbox/health", timeout=10).status_code == 200
