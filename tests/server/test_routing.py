"""Routing through HTTP: which operation a method and path reach, and what any Host header selects."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
NOT_FOUND_MESSAGE = "The requested resource was not found."
METHOD_NOT_ALLOWED_MESSAGE = "The HTTP method is not allowed for the requested resource."
ACCESS_DENIED = {
    "errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]
}


def error_body(code: str, message: str, details: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def assert_json_with_request_id(response: requests.Response) -> None:
    assert response.headers["Content-Type"] == "application/json"
    uuid.UUID(response.headers["x-amzn-RequestId"])


def journaled_operation(emulator: RunningEmulator, response: requests.Response) -> str | None:
    request_id = response.headers["x-amzn-RequestId"]
    found = requests.get(
        f"{emulator.base_url}/_sandbox/journal", params={"request_id": request_id}, timeout=10
    )
    (entry,) = found.json()["entries"]
    operation: str | None = entry["operation"]
    return operation


# -- unknown paths and methods ----------------------------------------------------------------------------


def test_unknown_path_answers_404_not_found_in_json(emulator: RunningEmulator) -> None:
    response = emulator.session().get(f"{emulator.base_url}/vendor/nothing/v1/things", timeout=10)

    assert response.status_code == 404
    assert_json_with_request_id(response)
    assert response.json() == error_body(
        "NotFound", NOT_FOUND_MESSAGE, "No operation at GET /vendor/nothing/v1/things."
    )


def test_unknown_path_answers_404_before_any_token_is_asked_for(emulator: RunningEmulator) -> None:
    response = requests.post(f"{emulator.base_url}/vendor/orders/v2/purchaseOrders", timeout=10)

    assert response.status_code == 404
    assert response.json() == error_body(
        "NotFound", NOT_FOUND_MESSAGE, "No operation at POST /vendor/orders/v2/purchaseOrders."
    )


def test_path_longer_than_any_operation_answers_404(emulator: RunningEmulator) -> None:
    path = f"{PURCHASE_ORDERS}/PO1/items/extra"
    response = emulator.session().get(f"{emulator.base_url}{path}", timeout=10)

    assert response.status_code == 404
    assert response.json() == error_body("NotFound", NOT_FOUND_MESSAGE, f"No operation at GET {path}.")


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_root_path_answers_404_in_json(emulator: RunningEmulator, method: str) -> None:
    response = requests.request(method, f"{emulator.base_url}/", timeout=10)

    assert response.status_code == 404
    assert_json_with_request_id(response)
    assert response.json() == error_body("NotFound", NOT_FOUND_MESSAGE, f"No operation at {method} /.")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", PURCHASE_ORDERS, "GET"),
        ("POST", PURCHASE_ORDERS, "GET"),
        ("GET", "/vendor/orders/v1/acknowledgements", "POST"),
        ("PUT", "/vendor/directFulfillment/shipping/2021-12-28/shippingLabels", "GET, POST"),
        ("PATCH", "/reports/2021-06-30/reports/REPORT1", "DELETE, GET"),
    ],
)
def test_wrong_method_on_a_known_path_answers_405_with_allow(
    emulator: RunningEmulator, method: str, path: str, allowed: str
) -> None:
    response = emulator.session().request(method, f"{emulator.base_url}{path}", timeout=10)

    assert response.status_code == 405
    assert_json_with_request_id(response)
    assert response.headers["Allow"] == allowed
    assert response.json() == error_body(
        "MethodNotAllowed", METHOD_NOT_ALLOWED_MESSAGE, f"Allowed methods: {allowed}."
    )


def test_wrong_method_answers_405_before_any_token_is_asked_for(emulator: RunningEmulator) -> None:
    response = requests.delete(f"{emulator.base_url}{PURCHASE_ORDERS}", timeout=10)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


# -- which operation a path reaches ----------------------------------------------------------------------


def test_path_template_reaches_its_operation(emulator: RunningEmulator) -> None:
    response = emulator.session().get(f"{emulator.base_url}{PURCHASE_ORDERS}/4Z32PABC", timeout=10)

    assert response.status_code == 200
    assert journaled_operation(emulator, response) == "vendor/orders/v1#getPurchaseOrder"


def test_path_sharing_a_prefix_reaches_its_own_operation(emulator: RunningEmulator) -> None:
    # purchaseOrdersStatus is neither purchaseOrders nor purchaseOrders/{purchaseOrderNumber}.
    response = emulator.session().get(
        f"{emulator.base_url}/vendor/orders/v1/purchaseOrdersStatus", timeout=10
    )

    assert response.status_code == 200
    assert journaled_operation(emulator, response) == "vendor/orders/v1#getPurchaseOrdersStatus"


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        (f"{PURCHASE_ORDERS}/", "vendor/orders/v1#getPurchaseOrders"),
        (f"{PURCHASE_ORDERS}/4Z32PABC/", "vendor/orders/v1#getPurchaseOrder"),
    ],
)
def test_trailing_slash_reaches_the_same_operation(
    emulator: RunningEmulator, path: str, operation: str
) -> None:
    response = emulator.session().get(f"{emulator.base_url}{path}", timeout=10)

    assert response.status_code == 200
    assert journaled_operation(emulator, response) == operation


# A contract where a template and a literal compete for the same path; the template comes first in the file.
COMPETING_ROUTES = textwrap.dedent(
    """\
    openapi: 3.1.0
    info: {title: Routing probe, version: v1}
    paths:
      /probe/v1/items/{itemId}:
        get:
          operationId: getItem
          x-rate-limit: {rate: 10, burst: 10}
          parameters:
            - {name: itemId, in: path, required: true, schema: {type: string}}
          responses:
            '200':
              description: An item.
              content:
                application/json:
                  schema: {type: object, required: [kind], properties: {kind: {enum: [item]}}}
      /probe/v1/items/special:
        get:
          operationId: getSpecialItem
          x-rate-limit: {rate: 10, burst: 10}
          responses:
            '200':
              description: The special item.
              content:
                application/json:
                  schema: {type: object, required: [kind], properties: {kind: {enum: [special]}}}
    """
)


@pytest.fixture(scope="module")
def probe_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    contracts = tmp_path_factory.mktemp("probe-contracts")
    (contracts / "probe-v1.yaml").write_text(COMPETING_ROUTES, encoding="utf-8")
    data_dir: Path = tmp_path_factory.mktemp("probe-data")
    running = start_emulator(data_dir=data_dir, store="memory", contracts_dir=contracts)
    yield running
    running.stop()


@pytest.mark.parametrize(
    ("path", "kind", "operation"),
    [
        ("/probe/v1/items/special", "special", "probe/v1#getSpecialItem"),
        ("/probe/v1/items/special/", "special", "probe/v1#getSpecialItem"),
        ("/probe/v1/items/ordinary", "item", "probe/v1#getItem"),
        ("/probe/v1/items/specials", "item", "probe/v1#getItem"),
    ],
)
def test_literal_segment_is_preferred_over_a_template(
    probe_emulator: RunningEmulator, path: str, kind: str, operation: str
) -> None:
    response = probe_emulator.session().get(f"{probe_emulator.base_url}{path}", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"kind": kind}
    assert journaled_operation(probe_emulator, response) == operation


# -- the Host header ----------------------------------------------------------------------------------------


def _port(emulator: RunningEmulator) -> int:
    port = urlsplit(emulator.base_url).port
    assert port is not None
    return port


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:{port}",
        "localhost",
        "localhost:{port}",
        "[::1]:{port}",
        "vendor-sandbox.internal:8443",
        "sellingpartnerapi-na.amazon.com",
        "sellingpartnerapi-na.amazon.com:443",
        "SellingPartnerAPI-NA.Amazon.com",
    ],
)
def test_any_host_header_is_served(emulator: RunningEmulator, host: str) -> None:
    response = emulator.session().get(
        f"{emulator.base_url}{PURCHASE_ORDERS}",
        headers={"Host": host.format(port=_port(emulator))},
        timeout=10,
    )

    assert response.status_code == 200
    assert_json_with_request_id(response)
    assert "orders" in response.json()["payload"]


def test_sandbox_host_selects_static_mode_which_needs_the_official_models(emulator: RunningEmulator) -> None:
    assert emulator.sandbox.static_registry is None, "this server must run without Amazon's official models"

    response = emulator.session().get(
        f"{emulator.base_url}{PURCHASE_ORDERS}",
        headers={"Host": "sandbox.sellingpartnerapi-na.amazon.com"},
        timeout=10,
    )

    assert response.status_code == 400
    assert_json_with_request_id(response)
    assert response.json() == error_body(
        "InvalidInput", "Could not match input arguments", emulator.sandbox.static_models_missing
    )
    assert "vendor-sandbox contracts fetch" in response.json()["errors"][0]["details"]


def test_same_request_without_sandbox_host_is_answered_dynamically(emulator: RunningEmulator) -> None:
    response = emulator.session().get(
        f"{emulator.base_url}{PURCHASE_ORDERS}",
        headers={"Host": "sellingpartnerapi-na.amazon.com"},
        timeout=10,
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("host", "account"),
    [
        ("sellingpartnerapi-eu.amazon.com", "acme-na"),
        ("sellingpartnerapi-fe.amazon.com", "acme-na"),
        ("sellingpartnerapi-na.amazon.com", "nordwind-eu"),
        ("sandbox.sellingpartnerapi-eu.amazon.com", "acme-na"),
    ],
)
def test_regional_host_refuses_an_account_of_another_region(
    emulator: RunningEmulator, host: str, account: str
) -> None:
    response = emulator.session(account).get(
        f"{emulator.base_url}{PURCHASE_ORDERS}", headers={"Host": host}, timeout=10
    )

    assert response.status_code == 403
    assert_json_with_request_id(response)
    assert response.json() == ACCESS_DENIED


@pytest.mark.parametrize(
    ("host", "account"),
    [("sellingpartnerapi-eu.amazon.com", "nordwind-eu"), ("sellingpartnerapi-na.amazon.com", "acme-na")],
)
def test_regional_host_serves_an_account_of_its_region(
    emulator: RunningEmulator, host: str, account: str
) -> None:
    response = emulator.session(account).get(
        f"{emulator.base_url}{PURCHASE_ORDERS}", headers={"Host": host}, timeout=10
    )

    assert response.status_code == 200


def test_admin_path_with_the_wrong_method_is_405_with_allow(emulator: RunningEmulator) -> None:
    response = requests.get(f"{emulator.base_url}/_sandbox/reset", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert response.json()["errors"][0]["code"] == "MethodNotAllowed"


def test_unknown_admin_path_is_a_json_404_with_a_request_id(emulator: RunningEmulator) -> None:
    response = requests.get(f"{emulator.base_url}/_sandbox/no-such-call", timeout=10)
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NotFound"
    assert response.headers["x-amzn-RequestId"]


def test_admin_successes_carry_a_request_id(emulator: RunningEmulator) -> None:
    response = requests.get(f"{emulator.base_url}/_sandbox/health", timeout=10)
    assert response.status_code == 200
    assert response.headers["x-amzn-RequestId"]
