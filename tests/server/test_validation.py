"""Request validation through HTTP: Amazon's 400/413/415 for what breaks the contract, and tolerance of what
real clients send."""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

DF_ORDERS = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
ACKNOWLEDGEMENTS = "/vendor/orders/v1/acknowledgements"
CREATED = {"createdAfter": "2024-05-01T00:00:00Z", "createdBefore": "2024-05-08T00:00:00Z"}
ACKNOWLEDGEMENT: dict[str, Any] = {
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


def error_body(code: str, message: str, details: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message, "details": details}]}


def invalid_parameter(name: str, details: str) -> dict[str, Any]:
    return error_body("InvalidInput", f"Invalid value for parameter '{name}'.", details)


def invalid_body(details: str) -> dict[str, Any]:
    return error_body("InvalidInput", "Invalid request body.", details)


def assert_error(response: requests.Response, status: int, body: dict[str, Any]) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    uuid.UUID(response.headers["x-amzn-RequestId"])
    assert response.json() == body


def acknowledgement(**changes: Any) -> dict[str, Any]:
    """The valid acknowledgement with changes at paths joined by `__` (`a__0__b`); None deletes the key."""
    body = copy.deepcopy(ACKNOWLEDGEMENT)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target: Any = body
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return body


@pytest.fixture(scope="module")
def session(emulator: RunningEmulator) -> requests.Session:
    return emulator.session()


# -- parameters ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["createdAfter", "createdBefore"])
def test_missing_required_query_parameter(
    emulator: RunningEmulator, session: requests.Session, missing: str
) -> None:
    params = {name: value for name, value in CREATED.items() if name != missing}

    response = session.get(f"{emulator.base_url}{DF_ORDERS}", params=params, timeout=10)

    assert_error(
        response,
        400,
        error_body(
            "InvalidInput",
            f"Missing required parameter '{missing}'.",
            f"The query parameter '{missing}' is required.",
        ),
    )


def test_empty_required_query_parameter_is_still_validated(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    response = session.get(
        f"{emulator.base_url}{DF_ORDERS}", params={**CREATED, "createdAfter": ""}, timeout=10
    )

    assert_error(
        response,
        400,
        invalid_parameter("createdAfter", 'query parameter \'createdAfter\': "" is not a "date-time"'),
    )


@pytest.mark.parametrize(
    ("params", "name", "details"),
    [
        ({"limit": "abc"}, "limit", 'query parameter \'limit\': "abc" is not of type "integer"'),
        ({"limit": "1.5"}, "limit", 'query parameter \'limit\': "1.5" is not of type "integer"'),
        ({"limit": "101"}, "limit", "query parameter 'limit': 101 is greater than the maximum of 100"),
        ({"limit": "0"}, "limit", "query parameter 'limit': 0 is less than the minimum of 1"),
        (
            {"sortOrder": "UP"},
            "sortOrder",
            'query parameter \'sortOrder\': "UP" is not one of "ASC" or "DESC"',
        ),
        (
            {"sortOrder": "asc"},
            "sortOrder",
            'query parameter \'sortOrder\': "asc" is not one of "ASC" or "DESC"',
        ),
        (
            {"createdAfter": "yesterday"},
            "createdAfter",
            'query parameter \'createdAfter\': "yesterday" is not a "date-time"',
        ),
        (
            {"createdBefore": "2024-13-01T00:00:00Z"},
            "createdBefore",
            'query parameter \'createdBefore\': "2024-13-01T00:00:00Z" is not a "date-time"',
        ),
        (
            {"createdBefore": "01/05/2024"},
            "createdBefore",
            'query parameter \'createdBefore\': "01/05/2024" is not a "date-time"',
        ),
        (
            {"includeDetails": "yes"},
            "includeDetails",
            'query parameter \'includeDetails\': "yes" is not a "boolean"',
        ),
    ],
    ids=[
        "not-an-integer",
        "a-fraction-for-an-integer",
        "above-maximum",
        "below-minimum",
        "not-in-enum",
        "enum-is-case-sensitive",
        "not-a-date-time",
        "impossible-month",
        "us-date",
        "not-a-boolean",
    ],
)
def test_invalid_query_parameter(
    emulator: RunningEmulator, session: requests.Session, params: dict[str, str], name: str, details: str
) -> None:
    response = session.get(f"{emulator.base_url}{DF_ORDERS}", params={**CREATED, **params}, timeout=10)

    assert_error(response, 400, invalid_parameter(name, details))


def test_invalid_query_parameter_on_an_operation_without_required_ones(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    response = session.get(
        f"{emulator.base_url}{PURCHASE_ORDERS}", params={"purchaseOrderState": "Open"}, timeout=10
    )

    assert_error(
        response,
        400,
        invalid_parameter(
            "purchaseOrderState",
            'query parameter \'purchaseOrderState\': "Open" is not one of "New", "Acknowledged" or "Closed"',
        ),
    )


# -- bodies -------------------------------------------------------------------------------------------------


def test_missing_required_body(emulator: RunningEmulator, session: requests.Session) -> None:
    response = session.post(f"{emulator.base_url}{ACKNOWLEDGEMENTS}", timeout=10)

    assert_error(
        response, 400, error_body("InvalidInput", "The request body is required.", "Send a JSON body.")
    )


def test_empty_body_with_json_content_type_is_a_missing_body(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    response = session.post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}",
        data=b"  ",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert_error(
        response, 400, error_body("InvalidInput", "The request body is required.", "Send a JSON body.")
    )


@pytest.mark.parametrize(
    ("changes", "details"),
    [
        (
            {"acknowledgements__0__purchaseOrderNumber": None},
            'body.acknowledgements[0]: "purchaseOrderNumber" is a required property',
        ),
        (
            {"acknowledgements__0__sellingParty__partyId": None},
            'body.acknowledgements[0].sellingParty: "partyId" is a required property',
        ),
        (
            {"acknowledgements__0__items__0__itemAcknowledgements__0__acknowledgementCode": None},
            "body.acknowledgements[0].items[0].itemAcknowledgements[0]: "
            '"acknowledgementCode" is a required property',
        ),
    ],
    ids=["top-level-item", "nested-object", "deep-array-item"],
)
def test_body_missing_a_required_field_names_it(
    emulator: RunningEmulator, session: requests.Session, changes: dict[str, Any], details: str
) -> None:
    response = session.post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}", json=acknowledgement(**changes), timeout=10
    )

    assert_error(response, 400, invalid_body(details))


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"acknowledgements": "4Z32PABC"}, 'body.acknowledgements: "4Z32PABC" is not of type "array"'),
        (
            acknowledgement(acknowledgements__0__items__0__orderedQuantity__amount="2"),
            'body.acknowledgements[0].items[0].orderedQuantity.amount: "2" is not of type "integer"',
        ),
        (
            acknowledgement(acknowledgements__0__purchaseOrderNumber=12345),
            'body.acknowledgements[0].purchaseOrderNumber: 12345 is not of type "string"',
        ),
        (["4Z32PABC"], 'body: ["4Z32PABC"] is not of type "object"'),
    ],
    ids=["array-expected", "integer-expected", "string-expected", "object-expected"],
)
def test_body_with_a_wrong_type(
    emulator: RunningEmulator, session: requests.Session, body: Any, details: str
) -> None:
    response = session.post(f"{emulator.base_url}{ACKNOWLEDGEMENTS}", json=body, timeout=10)

    assert_error(response, 400, invalid_body(details))


@pytest.mark.parametrize(
    ("changes", "details"),
    [
        (
            {"acknowledgements__0__items__0__itemAcknowledgements__0__acknowledgementCode": "Maybe"},
            "body.acknowledgements[0].items[0].itemAcknowledgements[0].acknowledgementCode: "
            '"Maybe" is not one of "Accepted", "Backordered" or "Rejected"',
        ),
        (
            {"acknowledgements__0__items__0__orderedQuantity__unitOfMeasure": "Pallets"},
            "body.acknowledgements[0].items[0].orderedQuantity.unitOfMeasure: "
            '"Pallets" is not one of "Cases" or "Eaches"',
        ),
    ],
)
def test_body_with_an_enum_violation(
    emulator: RunningEmulator, session: requests.Session, changes: dict[str, Any], details: str
) -> None:
    response = session.post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}", json=acknowledgement(**changes), timeout=10
    )

    assert_error(response, 400, invalid_body(details))


def test_body_with_a_malformed_date_time(emulator: RunningEmulator, session: requests.Session) -> None:
    body = acknowledgement(acknowledgements__0__acknowledgementDate="2024-05-01")

    response = session.post(f"{emulator.base_url}{ACKNOWLEDGEMENTS}", json=body, timeout=10)

    assert_error(
        response,
        400,
        invalid_body('body.acknowledgements[0].acknowledgementDate: "2024-05-01" is not a "date-time"'),
    )


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_non_json_content_type_is_415(
    emulator: RunningEmulator, session: requests.Session, content_type: str
) -> None:
    response = session.post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}",
        data=json.dumps(ACKNOWLEDGEMENT),
        headers={"Content-Type": content_type},
        timeout=10,
    )

    assert_error(
        response,
        415,
        error_body(
            "UnsupportedMediaType",
            "The request's Content-Type header is invalid.",
            f"Expected application/json, got {content_type}.",
        ),
    )


def test_non_json_body_without_content_type_is_415(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    response = session.post(f"{emulator.base_url}{ACKNOWLEDGEMENTS}", data=b"acknowledgements=1", timeout=10)

    assert "Content-Type" not in response.request.headers
    assert_error(
        response,
        415,
        error_body(
            "UnsupportedMediaType",
            "The request's Content-Type header is invalid.",
            "Expected application/json, got no Content-Type.",
        ),
    )


@pytest.mark.parametrize(
    ("raw", "details"),
    [
        (
            b"{acknowledgements",
            "JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        (b'{"acknowledgements": []', "JSONDecodeError: Expecting ',' delimiter: line 1 column 24 (char 23)"),
        (
            b'{"purchaseOrderNumber": "\xc3\x28"}',
            "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xc3 in position 25: "
            "invalid continuation byte",
        ),
    ],
    ids=["unquoted-name", "unterminated", "not-utf8"],
)
def test_malformed_json_is_400(
    emulator: RunningEmulator, session: requests.Session, raw: bytes, details: str
) -> None:
    response = session.post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}",
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert_error(response, 400, error_body("InvalidInput", "The request body is not valid JSON.", details))


@pytest.fixture(scope="module")
def small_bodies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    data_dir: Path = tmp_path_factory.mktemp("small-bodies")
    running = start_emulator(data_dir=data_dir, store="memory", max_body_bytes=256)
    yield running
    running.stop()


def test_body_over_the_limit_is_413(small_bodies: RunningEmulator) -> None:
    body = acknowledgement(acknowledgements__0__purchaseOrderNumber="X" * 300)

    response = small_bodies.session().post(
        f"{small_bodies.base_url}{ACKNOWLEDGEMENTS}", json=body, timeout=10
    )

    assert_error(
        response,
        413,
        error_body(
            "RequestEntityTooLarge",
            "The request size exceeded the maximum accepted size.",
            "The body may be at most 256 bytes.",
        ),
    )


def test_body_within_the_limit_is_served(small_bodies: RunningEmulator) -> None:
    body: dict[str, Any] = {"acknowledgements": []}
    assert len(json.dumps(body)) <= 256

    response = small_bodies.session().post(
        f"{small_bodies.base_url}{ACKNOWLEDGEMENTS}", json=body, timeout=10
    )

    assert response.status_code == 202


def test_body_over_the_limit_is_413_even_when_malformed(small_bodies: RunningEmulator) -> None:
    response = small_bodies.session().post(
        f"{small_bodies.base_url}{ACKNOWLEDGEMENTS}",
        data=b"{" * 257,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 413


# -- what real clients send ---------------------------------------------------------------------------------


def test_valid_acknowledgement_is_accepted(emulator: RunningEmulator, session: requests.Session) -> None:
    response = session.post(f"{emulator.base_url}{ACKNOWLEDGEMENTS}", json=ACKNOWLEDGEMENT, timeout=10)

    assert response.status_code == 202, response.text
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "extra",
    [
        {"MarketplaceId": "ATVPDKIKX0DER"},
        {"marketplace_ids": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2"},
        {"MarketplaceIds": ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]},
        {"unknownFlag": "", "version": "2021-12-28"},
    ],
)
def test_extra_query_parameters_are_ignored(
    emulator: RunningEmulator, session: requests.Session, extra: dict[str, Any]
) -> None:
    response = session.get(f"{emulator.base_url}{DF_ORDERS}", params={**CREATED, **extra}, timeout=10)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("value", [True, False, "true", "false", "TRUE"])
def test_include_details_accepts_booleans_as_python_clients_write_them(
    emulator: RunningEmulator, session: requests.Session, value: bool | str
) -> None:
    for path, params in ((DF_ORDERS, CREATED), (PURCHASE_ORDERS, {})):
        response = session.get(
            f"{emulator.base_url}{path}", params={**params, "includeDetails": value}, timeout=10
        )
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "created_after",
    [
        dt.datetime(2024, 5, 1, 8, 30, 15, 123456, tzinfo=dt.UTC).isoformat(),  # microseconds, +00:00
        dt.datetime(2024, 5, 1, 8, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=-7))).isoformat(),
        dt.datetime(2024, 5, 1, 8, 30, 15).isoformat(),  # naive
        dt.datetime(2024, 5, 1, 8, 30, 15, 120000, tzinfo=dt.UTC).isoformat(timespec="milliseconds"),
        "2024-05-01T08:30:15.123Z",
        "2024-05-01T08:30:15Z",
        "2024-05-01T08:30Z",
    ],
)
def test_date_times_as_clients_write_them_are_accepted(
    emulator: RunningEmulator, session: requests.Session, created_after: str
) -> None:
    params = {"createdAfter": created_after, "createdBefore": "2024-05-08T00:00:00+00:00"}

    response = session.get(f"{emulator.base_url}{DF_ORDERS}", params=params, timeout=10)

    assert response.status_code == 200, response.text


def test_unescaped_plus_of_an_offset_is_tolerated(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    # A client that builds the query string by hand sends `+00:00` unescaped, which decodes as a space.
    query = "createdAfter=2024-05-01T00:00:00+00:00&createdBefore=2024-05-08T00:00:00Z"
    url = f"{emulator.base_url}{DF_ORDERS}?{query}"

    response = session.get(url, timeout=10)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "body", [None, b"", b"{not json", b"\xff\xfe"], ids=["no-body", "empty", "junk", "binary"]
)
def test_json_content_type_on_a_get_is_ignored_and_its_body_never_parsed(
    emulator: RunningEmulator, session: requests.Session, body: bytes | None
) -> None:
    response = session.get(
        f"{emulator.base_url}{PURCHASE_ORDERS}",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 200, response.text


def test_non_json_content_type_on_a_get_is_ignored(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    response = session.get(
        f"{emulator.base_url}{PURCHASE_ORDERS}",
        data=b"a=1",
        headers={"Content-Type": "text/plain"},
        timeout=10,
    )

    assert response.status_code == 200, response.text


def test_extra_top_level_body_properties_are_accepted(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    body = {**ACKNOWLEDGEMENT, "marketplaceId": "ATVPDKIKX0DER", "clientReference": {"batch": 7}}

    response = session.post(f"{emulator.base_url}{ACKNOWLEDGEMENTS}", json=body, timeout=10)

    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"]
)
def test_json_content_type_with_parameters_or_other_case_is_accepted(
    emulator: RunningEmulator, session: requests.Session, content_type: str
) -> None:
    response = session.post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}",
        data=json.dumps(ACKNOWLEDGEMENT).encode(),
        headers={"Content-Type": content_type},
        timeout=10,
    )

    assert response.status_code == 202, response.text


def test_json_body_without_content_type_is_accepted(
    emulator: RunningEmulator, session: requests.Session
) -> None:
    response = session.post(
        f"{emulator.base_url}{ACKNOWLEDGEMENTS}", data=json.dumps(ACKNOWLEDGEMENT), timeout=10
    )

    assert "Content-Type" not in response.request.headers
    assert response.status_code == 202, response.text
