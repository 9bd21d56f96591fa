"""Chaos-testing `python-amazon-sp-api` (pinned in the `test` extra) against a throttle storm.

The README's "Chaos-test your retry logic" section is this file. A throttle storm cuts getPurchaseOrders to 2
requests a second (burst 1) for 1.5 s from the first call. The library's own `throttle_retry` decorator
(exponential backoff: `delay`, then x`rate` each time) rides it out and passes the retry verdict; a hand-made
loop that retries a throttled call at once hammers the storm and fails it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver.testing.chaos import Chaos
from mockserver.testing.server import RunningEmulator, start_emulator

sp_api = pytest.importorskip("sp_api")

from sp_api.api import VendorOrders  # noqa: E402
from sp_api.auth import AccessTokenClient  # noqa: E402
from sp_api.auth import access_token_client as token_module  # noqa: E402
from sp_api.base import Marketplaces, SellingApiRequestThrottledException  # noqa: E402
from sp_api.util import throttle_retry  # noqa: E402

STORM = {
    "rules": [
        {
            "operation": "getPurchaseOrders",
            "nth": 1,
            "action": "throttle_storm",
            "params": {"rate": 2, "burst": 1, "seconds": 1.5},
        }
    ],
    "policy": {"min_backoff": 0.2, "max_attempts": 8, "growth_factor": 1.2},
}


@pytest.fixture
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("chaos-sp-api"), store="memory", rate_scale=1000
    )
    token_module.cache.clear()  # tokens of another emulator instance are unknown to this one
    yield running
    running.stop()
    token_module.cache.clear()


@pytest.fixture
def vendor_orders(emulator: RunningEmulator) -> Iterator[Any]:
    """python-amazon-sp-api pointed at the emulator: its LWA host and its SP-API endpoint."""
    account = emulator.account("acme-na")
    lwa = type("EmulatorLwa", (AccessTokenClient,), {"scheme": "http://", "host": emulator.base_url[7:]})
    client = VendorOrders(
        Marketplaces.US,
        credentials={
            "refresh_token": account["refresh_token"],
            "lwa_app_id": account["client_id"],
            "lwa_client_secret": account["client_secret"],
        },
        auth_token_client_class=lwa,
    )
    client.endpoint = emulator.base_url
    yield client
    client.close()
    client._auth._transport.close()  # the LWA client's own connection pool


@pytest.fixture
def chaos(emulator: RunningEmulator) -> Iterator[Chaos]:
    with Chaos(emulator.base_url) as control:
        control.apply(STORM)
        yield control


def test_throttle_retry_rides_out_a_throttle_storm(vendor_orders: Any, chaos: Chaos) -> None:
    client = vendor_orders

    @throttle_retry(tries=8, delay=0.25, rate=1.5)
    def purchase_orders() -> Any:
        return client.get_purchase_orders(limit=1)

    response = purchase_orders()
    assert response.payload["orders"] is not None or response.payload == {}

    verdict = chaos.verdict()
    verdict.assert_passed()
    (call,) = verdict.client(user_agent="python-sp-api")["evidence"]
    statuses = [attempt["status"] for attempt in call["attempts"]]
    assert statuses[0] == 429 and statuses[-1] == 200


def test_retrying_at_once_hammers_the_storm_and_fails_the_verdict(vendor_orders: Any, chaos: Chaos) -> None:
    client = vendor_orders

    for _ in range(6):  # no backoff at all
        try:
            client.get_purchase_orders(limit=1)
            break
        except SellingApiRequestThrottledException:
            continue

    verdict = chaos.verdict()
    verdict.assert_failed("min_backoff")
    assert len(verdict.client(user_agent="python-sp-api")["evidence"][0]["attempts"]) == 6
