"""Authentication through HTTP: `x-amz-access-token` decides who calls, or Amazon's 403 Unauthorized."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

TOKEN_HEADER = "x-amz-access-token"
PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
ACKNOWLEDGEMENTS = "/vendor/orders/v1/acknowledgements"
RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
DF_ORDERS = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
ACCESS_DENIED = "Access to requested resource is denied."
TOKEN_MISSING = "Access token is missing in the request header."
TOKEN_INVALID = "The access token you provided is revoked, malformed or invalid."
TOKEN_EXPIRED = "The access token you provided has expired."
ACKNOWLEDGEMENT = {
    "acknowledgements": [
        {
            "purchaseOrderNumber": "4Z32PABC",
            "sellingParty": {"partyId": "ACME1"},
            "acknowledgementDate": "2024-05-01T10:00:00Z",
            "items": [
                {
                    "itemSequenceNumber": "1",
                    "orderedQuantity": {"amount": 2, "unitOfMeasure": "Eaches"},
                    "itemAcknowledgements": [
                        {"acknowledgementCode": "Accepted", "acknowledgedQuantity": {"amount": 2}}
                    ],
                }
            ],
        }
    ]
}


def unauthorized(details: str = "") -> dict[str, Any]:
    return {"errors": [{"code": "Unauthorized", "message": ACCESS_DENIED, "details": details}]}


def assert_refused(response: requests.Response, details: str = "") -> None:
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    uuid.UUID(response.headers["x-amzn-RequestId"])
    assert "x-amzn-RateLimit-Limit" not in response.headers
    assert response.json() == unauthorized(details)


def new_access_token(
    emulator: RunningEmulator, account: str = "acme-na", application: str = "demo-integration"
) -> str:
    """A token of its own (never the emulator's cached one, which other tests share)."""
    credentials = emulator.account(account, application)
    response = requests.post(
        f"{emulator.base_url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": credentials["refresh_token"],
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def get(emulator: RunningEmulator, path: str, token: str | None, **kwargs: Any) -> requests.Response:
    headers = {} if token is None else {TOKEN_HEADER: token}
    return requests.get(f"{emulator.base_url}{path}", headers=headers, timeout=10, **kwargs)


def create_rdt(emulator: RunningEmulator, token: str, resources: list[dict[str, Any]]) -> str:
    response = requests.post(
        f"{emulator.base_url}{RDT_PATH}",
        headers={TOKEN_HEADER: token},
        json={"restrictedResources": resources},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["restrictedDataToken"].startswith("Atz.sprdt|")
    assert body["expiresIn"] == 3600
    rdt: str = body["restrictedDataToken"]
    return rdt


# -- tokens that are not there or not good -----------------------------------------------------------------


def test_missing_token_is_refused(emulator: RunningEmulator) -> None:
    assert_refused(get(emulator, PURCHASE_ORDERS, None), TOKEN_MISSING)


def test_empty_token_is_refused_as_missing(emulator: RunningEmulator) -> None:
    assert_refused(get(emulator, PURCHASE_ORDERS, ""), TOKEN_MISSING)


def test_unknown_token_is_refused(emulator: RunningEmulator) -> None:
    unknown = "Atza|IwEB" + "A" * 128  # the shape of an LWA access token, never issued
    assert_refused(get(emulator, PURCHASE_ORDERS, unknown), TOKEN_INVALID)


MALFORMED: dict[str, Callable[[str], str]] = {
    "garbage": lambda token: "not-a-token",
    "bearer-prefixed": lambda token: f"Bearer {token}",
    "extra-character": lambda token: token + "x",
    "truncated": lambda token: token[:-1],
    "prefix-only": lambda token: "Atza|IwEB",
    "wrong-prefix": lambda token: "Atzr|" + token.removeprefix("Atza|"),
    "lower-cased": lambda token: token.lower(),
}


@pytest.mark.parametrize("mangle", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_token_is_refused(emulator: RunningEmulator, mangle: Callable[[str], str]) -> None:
    assert_refused(get(emulator, PURCHASE_ORDERS, mangle(emulator.access_token())), TOKEN_INVALID)


def test_refresh_token_is_not_an_access_token(emulator: RunningEmulator) -> None:
    refresh_token = emulator.account("acme-na")["refresh_token"]
    assert_refused(get(emulator, PURCHASE_ORDERS, refresh_token), TOKEN_INVALID)


def test_revoked_token_is_refused(emulator: RunningEmulator) -> None:
    token = new_access_token(emulator)
    assert get(emulator, PURCHASE_ORDERS, token).status_code == 200

    assert emulator.sandbox.tokens.revoke(token)

    assert_refused(get(emulator, PURCHASE_ORDERS, token), TOKEN_INVALID)


@pytest.fixture
def short_lived(tmp_path: Path) -> Iterator[RunningEmulator]:
    running = start_emulator(data_dir=tmp_path / "data", store="memory", token_lifetime=1)
    yield running
    running.stop()


def test_expired_token_is_refused(short_lived: RunningEmulator) -> None:
    token = new_access_token(short_lived)
    assert get(short_lived, PURCHASE_ORDERS, token).status_code == 200

    time.sleep(1.05)

    assert_refused(get(short_lived, PURCHASE_ORDERS, token), TOKEN_EXPIRED)
    # A fresh token from the same refresh token works again.
    assert get(short_lived, PURCHASE_ORDERS, new_access_token(short_lived)).status_code == 200


def test_auth_is_checked_before_the_request_is_validated(emulator: RunningEmulator) -> None:
    # Missing createdAfter/createdBefore would be a 400, but a caller without a token learns nothing.
    assert_refused(get(emulator, DF_ORDERS, None, params={"limit": "abc"}), TOKEN_MISSING)


# -- tokens that are good but do not reach the operation ---------------------------------------------------


def test_grantless_token_is_refused_on_a_vendor_operation(emulator: RunningEmulator) -> None:
    credentials = emulator.account("acme-na")
    response = requests.post(
        f"{emulator.base_url}/auth/o2/token",
        data={
            "grant_type": "client_credentials",
            "scope": "sellingpartnerapi::notifications",
            "client_id": credentials["client_id"],
            "client_secret": credentials["client_secret"],
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    grantless = response.json()["access_token"]
    assert grantless.startswith("Atc|")

    assert_refused(get(emulator, PURCHASE_ORDERS, grantless))
    assert_refused(
        requests.post(
            f"{emulator.base_url}{RDT_PATH}",
            headers={TOKEN_HEADER: grantless},
            json={"restrictedResources": [{"method": "GET", "path": f"{DF_ORDERS}/{{purchaseOrderNumber}}"}]},
            timeout=10,
        )
    )


def df_orders(emulator: RunningEmulator, count: int = 2, account: str = "acme-na") -> list[str]:
    """Numbers of the account's Direct Fulfillment orders (read from the world, not through the API)."""
    from mockserver.store.df_orders import DfOrderQuery

    query = DfOrderQuery(account, "2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z", limit=count)
    return [row.number for row in emulator.sandbox.direct_fulfillment.table.query(query)]


def test_rdt_is_accepted_on_the_operation_it_names(emulator: RunningEmulator) -> None:
    template = f"{DF_ORDERS}/{{purchaseOrderNumber}}"
    rdt = create_rdt(emulator, emulator.access_token(), [{"method": "GET", "path": template}])

    for order in df_orders(emulator):
        response = get(emulator, f"{DF_ORDERS}/{order}", rdt)
        assert response.status_code == 200, response.text
        assert response.headers["x-amzn-RateLimit-Limit"]


def test_rdt_for_a_concrete_path_is_accepted_there_only(emulator: RunningEmulator) -> None:
    first, second = df_orders(emulator)
    rdt = create_rdt(emulator, emulator.access_token(), [{"method": "GET", "path": f"{DF_ORDERS}/{first}"}])

    assert get(emulator, f"{DF_ORDERS}/{first}", rdt).status_code == 200
    assert_refused(get(emulator, f"{DF_ORDERS}/{second}", rdt))


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", PURCHASE_ORDERS, {}),
        (
            "GET",
            DF_ORDERS,
            {"params": {"createdAfter": "2024-01-01T00:00:00Z", "createdBefore": "2024-02-01T00:00:00Z"}},
        ),
        ("GET", "/vendor/directFulfillment/orders/v1/purchaseOrders/PO0001", {}),
        ("POST", "/vendor/directFulfillment/orders/2021-12-28/acknowledgements", {"json": {}}),
    ],
    ids=["other-api", "list-of-the-same-api", "same-operation-other-version", "other-method"],
)
def test_rdt_is_refused_on_another_operation(
    emulator: RunningEmulator, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    rdt = create_rdt(
        emulator, emulator.access_token(), [{"method": "GET", "path": f"{DF_ORDERS}/{{purchaseOrderNumber}}"}]
    )

    response = requests.request(
        method, f"{emulator.base_url}{path}", headers={TOKEN_HEADER: rdt}, timeout=10, **kwargs
    )

    assert_refused(response)


def test_rdt_cannot_create_another_rdt(emulator: RunningEmulator) -> None:
    rdt = create_rdt(emulator, emulator.access_token(), [{"method": "GET", "path": f"{DF_ORDERS}/PO0001"}])

    response = requests.post(
        f"{emulator.base_url}{RDT_PATH}",
        headers={TOKEN_HEADER: rdt},
        json={"restrictedResources": [{"method": "GET", "path": f"{DF_ORDERS}/PO0001"}]},
        timeout=10,
    )

    assert response.status_code == 403
    assert response.json() == unauthorized()


def test_read_only_account_is_refused_a_submission(emulator: RunningEmulator) -> None:
    response = emulator.session("globex-readonly").post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}", json=ACKNOWLEDGEMENT, timeout=10
    )

    assert_refused(response)


def test_read_only_account_may_read(emulator: RunningEmulator) -> None:
    response = emulator.session("globex-readonly").get(f"{emulator.base_url}{PURCHASE_ORDERS}", timeout=10)

    assert response.status_code == 200
    assert "orders" in response.json()["payload"]


REPORT = {"reportType": "GET_VENDOR_SALES_REPORT", "marketplaceIds": ["ATVPDKIKX0DER"]}
SCHEDULE = {**REPORT, "period": "P1D"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/reports/2021-06-30/reports", REPORT),
        ("DELETE", "/reports/2021-06-30/reports/ID1", None),
        ("POST", "/reports/2021-06-30/schedules", SCHEDULE),
        ("DELETE", "/reports/2021-06-30/schedules/ID1", None),
        (
            "POST",
            "/tokens/2021-03-01/restrictedDataToken",
            {
                "restrictedResources": [
                    {
                        "method": "POST",
                        "path": "/vendor/directFulfillment/shipping/2021-12-28/shippingLabels/PO1",
                    }
                ]
            },
        ),
    ],
    ids=["create-report", "cancel-report", "create-schedule", "cancel-schedule", "rdt-for-a-write"],
)
def test_read_only_account_changes_nothing_on_reports_and_tokens(
    emulator: RunningEmulator, method: str, path: str, body: Any
) -> None:
    """Decided as Amazon's roles read: read-only reads (reports, their documents, RDTs for GETs) and changes
    nothing, on any API."""
    response = emulator.session("globex-readonly").request(
        method, emulator.base_url + path, json=body, timeout=10
    )
    if path.startswith("/tokens/"):  # refused by the operation itself, after the usage plan admitted it
        assert response.status_code == 403
        assert response.json() == unauthorized()
    else:
        assert_refused(response)


def test_read_only_account_reads_reports_and_gets_a_token_for_reading(emulator: RunningEmulator) -> None:
    session = emulator.session("globex-readonly")
    listed = session.get(
        emulator.base_url + "/reports/2021-06-30/reports",
        params={"reportTypes": "GET_VENDOR_SALES_REPORT"},
        timeout=10,
    )
    assert listed.status_code == 200
    token = session.post(
        emulator.base_url + "/tokens/2021-03-01/restrictedDataToken",
        json={
            "restrictedResources": [
                {"method": "GET", "path": "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"}
            ]
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    assert token.json()["restrictedDataToken"]


def test_writable_account_may_submit(emulator: RunningEmulator) -> None:
    response = emulator.session("acme-na").post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}", json=ACKNOWLEDGEMENT, timeout=10
    )

    assert response.status_code == 202, response.text
    assert "transactionId" in response.json()["payload"]


def test_token_of_the_second_application_works(emulator: RunningEmulator) -> None:
    token = new_access_token(emulator, "acme-na", "second-integration")
    response = get(emulator, PURCHASE_ORDERS, token)

    assert response.status_code == 200
    found = requests.get(
        f"{emulator.base_url}/_sandbox/journal",
        params={"request_id": response.headers["x-amzn-RequestId"]},
        timeout=10,
    )
    (entry,) = found.json()["entries"]
    assert (entry["account"], entry["application"]) == ("acme-na", "second-integration")


# -- the admin API is not an SP-API surface ----------------------------------------------------------------


def test_admin_health_needs_no_sp_api_token(emulator: RunningEmulator) -> None:
    response = requests.get(f"{emulator.base_url}/_sandbox/health", timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["status"] == "ok"
    assert response.json()["operations"] == 52


def test_admin_health_ignores_an_invalid_sp_api_token(emulator: RunningEmulator) -> None:
    response = requests.get(
        f"{emulator.base_url}/_sandbox/health", headers={TOKEN_HEADER: "not-a-token"}, timeout=10
    )

    assert response.status_code == 200
