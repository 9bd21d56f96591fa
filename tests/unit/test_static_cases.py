"""The static-sandbox matcher: synthetic cases for each rule, then all cases of Amazon's official models."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from mockserver.contracts.loader import ANY_VALUE, load_operations
from mockserver.contracts.model import Api, Operation, Parameter, RequestBody, StaticCase
from mockserver.sandbox.static_cases import (
    NO_BODY,
    StaticRequest,
    case_matches,
    case_request,
    json_equal,
    match_static_case,
    matching_cases,
)
from tests.reference import find_reference_models, reference_models_dir

# --- synthetic operations -------------------------------------------------------------------------------


def _operation(
    cases: list[dict[str, Any]],
    parameters: tuple[Parameter, ...] = (),
    body: bool = False,
) -> Operation:
    return Operation(
        api=Api(api_id="test/v1", title="test", version="v1", source=Path("test.json")),
        operation_id="testOperation",
        method="POST" if body else "GET",
        path="/test/v1/things/{thingId}",
        parameters=parameters,
        body=RequestBody(required=True, schema={"type": "object"}) if body else None,
        responses={},
        rate=None,
        burst=None,
        static_cases=tuple(
            StaticCase(status=200 + index, parameters=case, response={"case": index}, order=index)
            for index, case in enumerate(cases)
        ),
    )


THING_ID = Parameter("thingId", "path", True, {"type": "string"})
LIMIT = Parameter("limit", "query", False, {"type": "integer", "minimum": 1})
RATIO = Parameter("ratio", "query", False, {"type": "number"})
FLAG = Parameter("flag", "query", False, {"type": "boolean"})
DETAILS = Parameter("includeDetails", "query", False, {"type": "string", "format": "boolean"})
TYPES = Parameter("types", "query", False, {"type": "array", "items": {"type": "string"}})
TOKEN = Parameter("nextToken", "query", False, {"type": "string"})
TRACE = Parameter("X-Trace-Id", "header", False, {"type": "string"})
ALL_PARAMETERS = (THING_ID, LIMIT, RATIO, FLAG, DETAILS, TYPES, TOKEN, TRACE)


def _query(**values: str | list[str]) -> StaticRequest:
    return StaticRequest(
        path_parameters={"thingId": "T1"},
        query={name: [value] if isinstance(value, str) else value for name, value in values.items()},
        headers={},
    )


def _status(operation: Operation, request: StaticRequest) -> int | None:
    case = match_static_case(operation, request)
    return None if case is None else case.status


# --- strict JSON ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        (True, True, True),
        (1, True, False),
        (True, 1, False),
        (0, False, False),
        (1, 1, True),
        (1.0, 1, False),
        (1, 1.0, False),
        (1.5, 1.5, True),
        ("1", 1, False),
        (None, None, True),
        (None, False, False),
        ({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}, True),
        ({"a": 1}, {"a": 1, "b": None}, False),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        ({"a": [{"b": True}]}, {"a": [{"b": 1}]}, False),
        ([], {}, False),
        ({"a": "x"}, {"a": ANY_VALUE}, True),
    ],
)
def test_json_equality_is_type_strict_and_recursive(actual: Any, expected: Any, equal: bool) -> None:
    assert json_equal(actual, expected) is equal


def test_body_true_does_not_match_one_nor_one_point_zero() -> None:
    operation = _operation([{"body": {"flag": True, "count": 1}}], body=True)
    assert _status(operation, StaticRequest(body={"count": 1, "flag": True})) == 200
    assert _status(operation, StaticRequest(body={"count": 1, "flag": 1})) is None
    assert _status(operation, StaticRequest(body={"count": 1.0, "flag": True})) is None
    assert _status(operation, StaticRequest(body={"count": True, "flag": True})) is None


# --- catch-alls and specificity -------------------------------------------------------------------------


def test_catch_all_body_needs_a_body_of_any_value() -> None:
    operation = _operation([{"body": ANY_VALUE}], body=True)
    bodies: list[Any] = [{}, {"anything": [1, 2]}, [], "text", 0, None]
    for body in bodies:
        assert _status(operation, StaticRequest(body=body)) == 200, body
    assert _status(operation, StaticRequest()) is None
    assert _status(operation, StaticRequest(body=NO_BODY)) is None


def test_concrete_body_beats_catch_all_body_whatever_the_order() -> None:
    operation = _operation([{"body": ANY_VALUE}, {"body": {"id": "X"}}], body=True)
    assert _status(operation, StaticRequest(body={"id": "X"})) == 201
    assert _status(operation, StaticRequest(body={"id": "Y"})) == 200


def test_concrete_parameter_beats_catch_all_body_of_equal_specificity() -> None:
    operation = _operation([{"body": ANY_VALUE}, {"thingId": "BAD"}], parameters=(THING_ID,), body=True)
    assert _status(operation, StaticRequest({"thingId": "BAD"}, body={"any": 1})) == 201
    assert _status(operation, StaticRequest({"thingId": "OK"}, body={"any": 1})) == 200
    assert _status(operation, StaticRequest({"thingId": "OK"})) is None


def test_catch_all_parameter_needs_the_parameter() -> None:
    operation = _operation([{"nextToken": ANY_VALUE}], parameters=ALL_PARAMETERS)
    assert _status(operation, _query(nextToken="abc")) == 200
    assert _status(operation, _query(nextToken="")) == 200
    assert _status(operation, _query()) is None
    assert _status(operation, StaticRequest(query={"nextToken": []})) is None


def test_most_specific_case_wins_over_an_earlier_one() -> None:
    operation = _operation(
        [{}, {"limit": 2}, {"limit": 2, "nextToken": "N"}, {"limit": 2, "nextToken": ANY_VALUE}],
        parameters=ALL_PARAMETERS,
    )
    assert _status(operation, _query()) == 200
    assert _status(operation, _query(limit="2")) == 201
    assert _status(operation, _query(limit="2", nextToken="N")) == 202
    assert _status(operation, _query(limit="2", nextToken="other")) == 203
    assert _status(operation, _query(limit="3", nextToken="N")) == 200
    assert [case.status for case in matching_cases(operation, _query(limit="2", nextToken="N"))] == [
        202,
        203,
        201,
        200,
    ]


def test_model_order_breaks_ties() -> None:
    operation = _operation([{"limit": 2}, {"nextToken": "N"}], parameters=ALL_PARAMETERS)
    assert _status(operation, _query(limit="2", nextToken="N")) == 200


def test_extra_parameters_do_not_prevent_a_match() -> None:
    operation = _operation([{"limit": 2}], parameters=ALL_PARAMETERS)
    request = StaticRequest(
        path_parameters={"thingId": "T9"},
        query={"limit": ["2"], "nextToken": ["x"], "unknown": ["y"]},
        headers={"X-Trace-Id": "t"},
    )
    assert _status(operation, request) == 200


def test_a_request_matching_no_case_gets_none() -> None:
    operation = _operation([{"limit": 2}, {"thingId": "T2"}], parameters=ALL_PARAMETERS)
    assert match_static_case(operation, _query(limit="3")) is None
    assert match_static_case(_operation([]), _query()) is None


# --- text values: path, query, headers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "sent", "matches"),
    [
        ("limit", 2, "2", True),
        ("limit", 2, "2.0", False),
        ("limit", 2, "02", False),
        ("limit", 2, "+2", False),
        ("limit", 2, " 2", False),
        ("limit", 2, "two", False),
        ("ratio", 1.5, "1.5", True),
        ("ratio", 1.5, "1.50", True),
        ("ratio", 1.0, "1", False),
        ("flag", True, "true", True),
        ("flag", True, "True", False),
        ("flag", True, "1", False),
        ("flag", False, "false", True),
        ("includeDetails", "true", "true", True),
        ("includeDetails", "true", "TRUE", False),
        ("nextToken", "MDAwMDAwMDAwMQ==", "MDAwMDAwMDAwMQ==", True),
        ("nextToken", "abc", "ABC", False),
        ("types", ["A", "B"], "A,B", True),
        ("types", ["A", "B"], "B,A", False),
        ("types", ["A", "B"], "A", False),
        ("types", ["A", "B"], "A,B,C", False),
        ("types", "A", "A", True),
    ],
)
def test_text_values_compare_by_type(name: str, expected: Any, sent: str, matches: bool) -> None:
    operation = _operation([{name: expected}], parameters=ALL_PARAMETERS)
    assert (_status(operation, _query(**{name: sent})) == 200) is matches


def test_arrays_arrive_comma_separated_or_repeated() -> None:
    operation = _operation([{"types": ["A", "B", "C"]}], parameters=ALL_PARAMETERS)
    for sent in (["A,B,C"], ["A", "B", "C"], ["A,B", "C"], ["A", "", "B,C"]):
        assert _status(operation, _query(types=sent)) == 200, sent
    assert _status(operation, _query(types=["C", "B", "A"])) is None


def test_a_repeated_scalar_matches_only_when_every_value_does() -> None:
    operation = _operation([{"limit": 2}], parameters=ALL_PARAMETERS)
    assert _status(operation, _query(limit=["2", "2"])) == 200
    assert _status(operation, _query(limit=["2", "3"])) is None


def test_path_and_header_values() -> None:
    operation = _operation([{"thingId": "T2", "X-Trace-Id": "abc"}], parameters=ALL_PARAMETERS)
    assert _status(operation, StaticRequest({"thingId": "T2"}, headers={"x-trace-id": "abc"})) == 200
    assert _status(operation, StaticRequest({"thingId": "T2"}, headers={"X-TRACE-ID": "abc"})) == 200
    assert _status(operation, StaticRequest({"thingId": "T2"}, headers={"X-Trace-Id": "ABC"})) is None
    assert _status(operation, StaticRequest({"thingId": "t2"}, headers={"X-Trace-Id": "abc"})) is None
    # A header named by the case does not match the same name sent in the query.
    assert _status(operation, StaticRequest({"thingId": "T2"}, query={"X-Trace-Id": ["abc"]})) is None


def test_case_request_of_synthetic_cases_routes_back() -> None:
    operation = _operation(
        [
            {},
            {"body": ANY_VALUE},
            {"body": {}},
            {"flag": True, "ratio": 2.5, "types": ["A", "B"], "X-Trace-Id": "t"},
            {"limit": ANY_VALUE},
            {"limit": 1},
        ],
        parameters=ALL_PARAMETERS,
        body=True,
    )
    for case in operation.static_cases:
        request = case_request(operation, case)
        assert match_static_case(operation, request) is case, (case, request)
    assert case_request(operation, operation.static_cases[1]).body not in ({}, NO_BODY)
    rich = case_request(operation, operation.static_cases[3])
    assert rich.query == {"flag": ["true"], "ratio": ["2.5"], "types": ["A,B"]}
    assert rich.headers == {"X-Trace-Id": "t"}


@pytest.mark.parametrize("value", [None, {"a": 1}, [["nested"]], ["a,b"]])
def test_case_request_refuses_values_a_client_cannot_send(value: Any) -> None:
    operation = _operation([{"nextToken": value}], parameters=ALL_PARAMETERS)
    with pytest.raises(ValueError):
        case_request(operation, operation.static_cases[0])


# --- Amazon's official models ---------------------------------------------------------------------------


@cache
def _official_operations() -> dict[str, Operation]:
    return {operation.name: operation for operation in load_operations(reference_models_dir())}


def _official(name: str) -> Operation:
    return _official_operations()[name]


def _case_ids() -> list[tuple[str, int]]:
    """(operation name, case index) of every official case; collected only where the models are present."""
    if find_reference_models() is None:
        return [("reference models absent", -1)]
    return [
        (operation.name, index)
        for operation in _official_operations().values()
        for index in range(len(operation.static_cases))
    ]


@pytest.mark.reference
@pytest.mark.parametrize(("operation_name", "index"), _case_ids(), ids=str)
def test_every_official_case_is_reached_by_its_own_request(operation_name: str, index: int) -> None:
    operation = _official(operation_name)  # skips (fails under CI) where the models are absent
    case = operation.static_cases[index]
    request = case_request(operation, case)
    matched = match_static_case(operation, request)
    assert matched is case
    assert (matched.status, matched.response) == (case.status, case.response)


@pytest.mark.reference
def test_official_cases_need_the_most_specific_rule() -> None:
    """Pinned to the reference copy: 95 cases; 51 requests match several; 21 also an earlier case."""
    total = several = earlier = 0
    for operation in _official_operations().values():
        for index, case in enumerate(operation.static_cases):
            request = case_request(operation, case)
            matches = [
                i for i, other in enumerate(operation.static_cases) if case_matches(operation, other, request)
            ]
            total += 1
            several += len(matches) > 1
            earlier += min(matches) < index
            assert match_static_case(operation, request) is case
    assert (total, several, earlier) == (95, 51, 21)


@pytest.mark.reference
def test_specific_case_beats_an_earlier_catch_all_in_get_orders() -> None:
    operation = _official("vendor/directFulfillment/orders/v1#getOrders")
    fallback, bad_dates = operation.static_cases[4], operation.static_cases[5]
    assert fallback.parameters == {} and fallback.status == 200
    request = StaticRequest(
        path_parameters={},
        query={"createdBefore": ["2021-01-2100:00:00"], "createdAfter": ["2021-02-20T14:00:00"]},
        headers={},
    )
    assert [case.order for case in matching_cases(operation, request)] == [5, 4]
    assert match_static_case(operation, request) is bad_dates
    assert bad_dates.status == 400

    # The nextToken page also matches the first page's case, which comes first in the model.
    first_page, next_page = operation.static_cases[0], operation.static_cases[1]
    query = {
        "createdBefore": ["2020-02-20T00:00:00-08:00"],
        "createdAfter": ["2020-02-15T14:00:00-08:00"],
        "includeDetails": ["true"],
        "limit": ["2"],
        "sortOrder": ["DESC"],
    }
    assert match_static_case(operation, StaticRequest({}, query, {})) is first_page
    paged = StaticRequest({}, {**query, "nextToken": ["MDAwMDAwMDAwMQ=="]}, {})
    assert matching_cases(operation, paged) == [next_page, first_page, fallback]
    # Extra parameters the case does not name do not prevent the match.
    extra = StaticRequest({}, {**query, "shipFromPartyId": ["ABC"], "status": ["NEW"]}, {"x-amz-date": "x"})
    assert match_static_case(operation, extra) is first_page
    # `includeDetails` is a string: "TRUE" is not the "true" the case expects, so the fallback answers.
    shouted = StaticRequest({}, {**query, "includeDetails": ["TRUE"]}, {})
    assert match_static_case(operation, shouted) is fallback


@pytest.mark.reference
def test_concrete_path_beats_catch_all_body_in_submit_inventory_update() -> None:
    operation = _official("vendor/directFulfillment/inventory/v1#submitInventoryUpdate")
    catch_all, bad_warehouse = operation.static_cases[1], operation.static_cases[2]
    assert catch_all.parameters == {"body": ANY_VALUE}
    request = StaticRequest({"warehouseId": "DUMMYCODE"}, {}, {}, body={"inventory": {}})
    assert matching_cases(operation, request) == [bad_warehouse, catch_all]
    assert match_static_case(operation, StaticRequest({"warehouseId": "W1"}, {}, {}, body={})) is catch_all
    assert match_static_case(operation, StaticRequest({"warehouseId": "W1"}, {}, {})) is None


@pytest.mark.reference
def test_official_body_compares_with_strict_json_types() -> None:
    operation = _official("vendor/directFulfillment/inventory/v1#submitInventoryUpdate")
    exact, catch_all = operation.static_cases[0], operation.static_cases[1]
    request = case_request(operation, exact)
    assert match_static_case(operation, request) is exact
    body = request.body
    assert body["inventory"]["isFullUpdate"] is False
    body["inventory"]["isFullUpdate"] = 0  # the request is a copy: the model's case is untouched
    assert match_static_case(operation, request) is catch_all
    body["inventory"]["isFullUpdate"] = False
    body["inventory"]["items"][0]["availableQuantity"]["amount"] = 10.0
    assert match_static_case(operation, request) is catch_all
    body["inventory"]["items"][0]["availableQuantity"]["amount"] = 10
    body["inventory"] = dict(reversed(list(body["inventory"].items())))  # key order is irrelevant
    assert match_static_case(operation, request) is exact


@pytest.mark.reference
def test_official_array_query_parameter_comma_joined_or_repeated() -> None:
    operation = _official("reports/2021-06-30#getReports")
    ok, bad = operation.static_cases
    joined = case_request(operation, ok)
    assert joined.query["reportTypes"] == ["FEE_DISCOUNTS_REPORT,GET_AFN_INVENTORY_DATA"]
    repeated = StaticRequest(
        {},
        {
            "reportTypes": ["FEE_DISCOUNTS_REPORT", "GET_AFN_INVENTORY_DATA"],
            "processingStatuses": ["IN_QUEUE", "IN_PROGRESS"],
        },
        {},
    )
    assert match_static_case(operation, repeated) is ok
    assert match_static_case(operation, case_request(operation, bad)) is bad
    reordered = StaticRequest({}, {**repeated.query, "processingStatuses": ["IN_PROGRESS,IN_QUEUE"]}, {})
    assert match_static_case(operation, reordered) is None


@pytest.mark.reference
def test_official_request_matching_no_case() -> None:
    get_report = _official("reports/2021-06-30#getReport")
    assert match_static_case(get_report, StaticRequest({"reportId": "unknown"}, {}, {})) is None
    cancel_report = _official("reports/2021-06-30#cancelReport")
    fallback = match_static_case(cancel_report, StaticRequest({"reportId": "unknown"}, {}, {}))
    assert fallback is not None and fallback.status == 400
    ok = match_static_case(cancel_report, StaticRequest({"reportId": "ID"}, {}, {}))
    assert ok is not None and ok.status == 200 and ok.response is None
