"""Generated instances: valid against every schema of our contracts and of Amazon's models, deterministic,
plausible, and made by a pattern generator that covers every `pattern` the contracts use."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mockserver.contracts import generate as generate_module
from mockserver.contracts.generate import (
    DEFAULT_MAX_DEPTH,
    GenerationError,
    PatternError,
    clear_cache,
    generate_instance,
    generate_response,
    string_matching,
)
from mockserver.contracts.loader import ContractError, contract_files, load_file
from mockserver.contracts.model import Api, Operation, Response
from tests.reference import REPOSITORY_ROOT, find_reference_models, reference_models_dir

CONTRACTS = REPOSITORY_ROOT / "contracts"
FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER
SEEDS: tuple[int | str, ...] = (0, 1, 7, "sandbox")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _errors(schema: Mapping[str, Any], instance: Any) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message[:300]}"
        for error in sorted(validator.iter_errors(instance), key=lambda error: list(error.absolute_path))
    ]


def _assert_valid(schema: Mapping[str, Any], instance: Any, context: str) -> None:
    errors = _errors(schema, instance)
    assert not errors, f"{context}: generated instance is invalid:\n" + "\n".join(errors[:10])


def _document(schema: Mapping[str, Any], definitions: Mapping[str, Any]) -> dict[str, Any]:
    return {**schema, "$defs": dict(definitions)}


def test_the_format_checker_checks_date_times() -> None:
    """The validity tests below mean something for date-times only if the checker really checks them."""
    assert "date-time" in FORMAT_CHECKER.checkers
    assert _errors({"type": "string", "format": "date-time"}, "2026-11-26 10:00")
    assert not _errors({"type": "string", "format": "date-time"}, "2026-11-26T10:00:00Z")


# --- collecting operations ------------------------------------------------------------------------------


@cache
def _project_contracts() -> dict[str, tuple[tuple[Operation, ...], str | None]]:
    """Each contract file by name: its operations, or the reason it does not load (being edited)."""
    loaded: dict[str, tuple[tuple[Operation, ...], str | None]] = {}
    for path in contract_files(CONTRACTS):
        try:
            loaded[path.name] = (tuple(load_file(path)), None)
        except (ContractError, KeyError, TypeError, ValueError, AttributeError) as error:
            loaded[path.name] = ((), f"{type(error).__name__}: {error}")
    return loaded


def _project_cases() -> Iterator[Any]:
    for name, (operations, problem) in _project_contracts().items():
        if problem is not None:
            # Other people edit contracts while these tests run; a broken one is their work in progress.
            # Under CI nothing is in progress: there it is a failure.
            skip = pytest.mark.skip(reason=f"contracts/{name} does not load ({problem})")
            yield pytest.param(name, "", "", marks=() if "CI" in os.environ else (skip,), id=name)
            continue
        for operation in operations:
            for status in operation.responses:
                yield pytest.param(name, operation.operation_id, status, id=f"{operation.name}:{status}")


def _project_operation(contract: str, operation_id: str) -> Operation:
    operations, problem = _project_contracts()[contract]
    if problem is not None:
        pytest.fail(f"contracts/{contract} does not load: {problem}")
    return next(operation for operation in operations if operation.operation_id == operation_id)


@cache
def _official_operations() -> dict[str, Operation]:
    return {
        operation.name: operation
        for path in contract_files(reference_models_dir())
        for operation in load_file(path)
    }


def _official_cases() -> list[tuple[str, str]]:
    """(operation name, status) of every official response; collected only where the models are present."""
    if find_reference_models() is None:
        return [("reference models absent", "")]
    return [
        (operation.name, status)
        for operation in _official_operations().values()
        for status in operation.responses
    ]


def _check_response(operation: Operation, status: str) -> None:
    response = operation.responses[status]
    for seed in SEEDS:
        for minimal in (False, True):
            body = generate_response(operation, status, seed=seed, minimal=minimal)
            if response.schema is None:
                assert body is None
                continue
            context = f"{operation.name} {status} seed={seed!r} minimal={minimal}"
            _assert_valid(operation.schema_document(response.schema), body, context)


# --- every response of every operation ------------------------------------------------------------------


@pytest.mark.parametrize(("contract", "operation_id", "status"), list(_project_cases()))
def test_project_contract_responses_are_valid(contract: str, operation_id: str, status: str) -> None:
    _check_response(_project_operation(contract, operation_id), status)


@pytest.mark.reference
@pytest.mark.parametrize(("operation_name", "status"), _official_cases(), ids=lambda value: str(value))
def test_official_model_responses_are_valid(operation_name: str, status: str) -> None:
    operation = _official_operations()[operation_name]  # skips (fails under CI) where the models are absent
    _check_response(operation, status)


def _request_schemas(operation: Operation) -> Iterator[tuple[str, dict[str, Any]]]:
    if operation.body is not None:
        yield "body", operation.body.schema
    for parameter in operation.parameters:
        yield f"{parameter.location} {parameter.name}", parameter.schema


def _project_operation_ids() -> Iterator[Any]:
    for name, (operations, problem) in _project_contracts().items():
        if problem is not None:
            skip = pytest.mark.skip(reason=f"contracts/{name} does not load ({problem})")
            yield pytest.param(name, "", marks=() if "CI" in os.environ else (skip,), id=name)
        for operation in operations:
            yield pytest.param(name, operation.operation_id, id=operation.name)


@pytest.mark.parametrize(("contract", "operation_id"), list(_project_operation_ids()))
def test_project_request_bodies_and_parameters_are_valid(contract: str, operation_id: str) -> None:
    operation = _project_operation(contract, operation_id)
    for where, schema in _request_schemas(operation):
        for seed in SEEDS:
            instance = generate_instance(schema, operation.api.definitions, seed=seed)
            _assert_valid(operation.schema_document(schema), instance, f"{operation.name} {where}")


@pytest.mark.reference
def test_official_request_bodies_and_parameters_are_valid() -> None:
    for operation in _official_operations().values():
        for where, schema in _request_schemas(operation):
            for seed in SEEDS:
                instance = generate_instance(schema, operation.api.definitions, seed=seed)
                _assert_valid(operation.schema_document(schema), instance, f"{operation.name} {where}")


# --- a Hypothesis property over seeds -------------------------------------------------------------------

# A handful of operations with deep, varied response schemas (enums, date-times, patterns, nested arrays).
PROPERTY_OPERATIONS = (
    ("vendor-orders-v1.yaml", "getPurchaseOrders", "200"),
    ("vendor-orders-v1.yaml", "submitAcknowledgement", "202"),
    ("vendor-df-orders-2021-12-28.yaml", "getOrders", "200"),
    ("vendor-df-shipping-v1.yaml", "getShippingLabel", "200"),
    ("vendor-shipments-v1.yaml", "GetShipmentDetails", "200"),
    ("vendor-transaction-status-v1.yaml", "getTransaction", "400"),
    ("reports-2021-06-30.yaml", "getReports", "200"),
)


@pytest.mark.parametrize(("contract", "operation_id", "status"), PROPERTY_OPERATIONS)
@settings(max_examples=30, deadline=None, database=None)
@given(seed=st.integers(min_value=-(2**63), max_value=2**63) | st.text(max_size=24))
def test_any_seed_gives_a_valid_deterministic_response(
    contract: str, operation_id: str, status: str, seed: int | str
) -> None:
    operations, problem = _project_contracts().get(contract, ((), "absent"))
    if problem is not None:
        pytest.skip(f"contracts/{contract} does not load ({problem})")
    operation = next((op for op in operations if op.operation_id == operation_id), None)
    if operation is None or status not in operation.responses:
        pytest.skip(f"{contract} has no {operation_id} {status} (yet)")
    schema = operation.responses[status].schema
    assert schema is not None
    first = generate_instance(schema, operation.api.definitions, seed=seed)
    _assert_valid(operation.schema_document(schema), first, f"{operation.name} {status} seed={seed!r}")
    assert generate_instance(schema, operation.api.definitions, seed=seed) == first


# --- determinism and caching ----------------------------------------------------------------------------


def _synthetic_operation(responses: dict[str, dict[str, Any] | None]) -> Operation:
    return Operation(
        api=Api(
            api_id="test/v1", title="test", version="v1", source=Path("test.yaml"), definitions=DEFINITIONS
        ),
        operation_id="getThing",
        method="GET",
        path="/test/v1/things",
        parameters=(),
        body=None,
        responses={status: Response(status, schema, ()) for status, schema in responses.items()},
        rate=None,
        burst=None,
    )


DEFINITIONS: dict[str, Any] = {
    "Money": {
        "type": "object",
        "required": ["currencyCode", "amount"],
        "properties": {
            "currencyCode": {"type": "string", "maxLength": 3},
            "amount": {"$ref": "#/$defs/Decimal"},
        },
    },
    "Decimal": {"type": "string"},
    "Party": {
        "type": "object",
        "required": ["partyId"],
        "properties": {
            "partyId": {"type": "string"},
            "countryCode": {"type": "string", "minLength": 2, "maxLength": 2},
            "createdAt": {"type": "string", "format": "date-time"},
        },
    },
    "Thing": {
        "type": "object",
        "required": ["thingId", "state", "price"],
        "properties": {
            "thingId": {"type": "string", "pattern": "^[A-Z0-9]{5,}$"},
            "state": {"type": "string", "enum": ["New", "Shipped", "Closed"]},
            "price": {"$ref": "#/$defs/Money"},
            "owner": {"$ref": "#/$defs/Party"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 5},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        },
    },
    "Error": {
        "type": "object",
        "required": ["code", "message"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "details": {"type": "string"},
        },
    },
    "ThingResponse": {
        "type": "object",
        "properties": {
            "payload": {"type": "array", "items": {"$ref": "#/$defs/Thing"}},
            "errors": {"type": "array", "items": {"$ref": "#/$defs/Error"}},
        },
    },
}
THING_RESPONSE = {"$ref": "#/$defs/ThingResponse"}


def test_same_seed_same_instance_different_seeds_differ() -> None:
    first = generate_instance(THING_RESPONSE, DEFINITIONS, seed=3)
    assert generate_instance(THING_RESPONSE, DEFINITIONS, seed=3) == first
    assert generate_instance(THING_RESPONSE, DEFINITIONS, seed="3") == generate_instance(
        THING_RESPONSE, DEFINITIONS, seed="3"
    )
    variants = {json.dumps(generate_instance(THING_RESPONSE, DEFINITIONS, seed=seed)) for seed in range(10)}
    assert len(variants) > 1


def test_determinism_does_not_depend_on_the_process() -> None:
    """Same output in a fresh interpreter with another hash seed (no set or hash order leaks in)."""
    code = (
        "import json, sys; from mockserver.contracts.generate import generate_instance; "
        "schema, definitions = json.load(sys.stdin); "
        "print(json.dumps([generate_instance(schema, definitions, seed=s) for s in (0, 'x')]))"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONDONTWRITEBYTECODE": "1"}
        completed = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPOSITORY_ROOT,
            env=environment,
            input=json.dumps([THING_RESPONSE, DEFINITIONS]),
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(completed.stdout)
    assert len(outputs) == 1
    assert json.loads(outputs.pop()) == [
        generate_instance(THING_RESPONSE, DEFINITIONS, seed=s) for s in (0, "x")
    ]


def test_generate_response_answers_the_lowest_success_status_by_default() -> None:
    operation = _synthetic_operation(
        {"400": {"$ref": "#/$defs/ThingResponse"}, "202": {"type": "string"}, "200": THING_RESPONSE}
    )
    assert operation.success_status == "200"
    body = generate_response(operation, seed=4)
    assert body == generate_response(operation, "200", seed=4)
    assert isinstance(body, dict) and "payload" in body
    assert isinstance(generate_response(operation, "202"), str)
    assert isinstance(generate_response(operation, 202), str)


def test_generate_response_without_a_body_or_status() -> None:
    operation = _synthetic_operation({"204": None, "404": THING_RESPONSE})
    assert generate_response(operation) is None
    with pytest.raises(GenerationError, match="no 500 response"):
        generate_response(operation, "500")


def test_generate_response_is_cached_but_returns_copies() -> None:
    operation = _synthetic_operation({"200": THING_RESPONSE})
    clear_cache()
    first = generate_response(operation, seed=11)
    first["payload"].clear()
    first["mutated"] = True
    second = generate_response(operation, seed=11)
    assert "mutated" not in second and second["payload"]
    assert second is not generate_response(operation, seed=11)
    clear_cache()
    assert generate_response(operation, seed=11) == second


def test_generate_response_generates_once_per_operation_status_and_seed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    operation = _synthetic_operation({"200": THING_RESPONSE})
    clear_cache()
    calls: list[Any] = []
    real = generate_module._generate

    def counted(*arguments: Any) -> Any:
        calls.append(arguments[2])  # the seed
        return real(*arguments)

    monkeypatch.setattr(generate_module, "_generate", counted)
    answers = [generate_response(operation, seed="warm") for _ in range(200)]
    assert calls == ["warm"], "a cached response was generated again"
    assert all(answer == answers[0] for answer in answers)
    generate_response(operation, seed="other")
    assert calls == ["warm", "other"], "another seed is another response"
    clear_cache()


def test_success_bodies_leave_out_errors_and_error_bodies_the_payload() -> None:
    operation = _synthetic_operation({"200": THING_RESPONSE, "404": THING_RESPONSE, "429": THING_RESPONSE})
    for seed in range(5):
        success = generate_response(operation, seed=seed)
        assert "errors" not in success and "payload" in success
        not_found = generate_response(operation, "404", seed=seed)
        assert "payload" not in not_found
        assert [error["code"] for error in not_found["errors"]] == ["NotFound"] * len(not_found["errors"])
    throttled = generate_response(operation, "429")
    assert throttled["errors"][0]["code"] == "QuotaExceeded"


# --- plausibility ---------------------------------------------------------------------------------------


def test_field_names_give_plausible_values() -> None:
    for seed in range(10):
        thing = generate_instance({"$ref": "#/$defs/Thing"}, DEFINITIONS, seed=seed)
        assert thing["price"]["currencyCode"] == "USD"
        assert re.fullmatch(r"\d+\.\d{2}", thing["price"]["amount"])
        assert thing["owner"]["countryCode"] == "US"
        assert re.fullmatch(r"[A-Z][A-Z0-9]{4,}", thing["owner"]["partyId"])
        assert ISO_UTC.fullmatch(thing["owner"]["createdAt"])
        assert thing["state"] in ("New", "Shipped", "Closed")
        assert 1 <= thing["quantity"] <= 5
        assert 1 <= len(thing["tags"]) <= 2


def test_date_times_are_iso_utc() -> None:
    values = {
        generate_instance({"type": "string", "format": "date-time"}, {}, seed=seed) for seed in range(30)
    }
    assert all(ISO_UTC.fullmatch(value) for value in values)
    assert len(values) > 1
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", generate_instance({"type": "string", "format": "date"}, {}))


def test_minimal_gives_only_required_content() -> None:
    thing = generate_instance({"$ref": "#/$defs/Thing"}, DEFINITIONS, seed=1, minimal=True)
    assert set(thing) == {"thingId", "state", "price"}
    assert set(thing["price"]) == {"currencyCode", "amount"}
    assert thing["state"] == "New"  # the first enum value
    assert generate_instance(THING_RESPONSE, DEFINITIONS, minimal=True) == {}
    full = generate_instance({"$ref": "#/$defs/Thing"}, DEFINITIONS, seed=1)
    assert {"owner", "quantity", "tags"} <= set(full)


# --- keywords -------------------------------------------------------------------------------------------

KEYWORD_SCHEMAS: dict[str, dict[str, Any]] = {
    "integer bounds": {"type": "integer", "minimum": 1, "maximum": 3},
    "integer exclusive": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 2},
    "integer far bounds": {"type": "integer", "minimum": 10**6},
    "integer negative": {"type": "integer", "maximum": -500},
    "integer int64": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 100},
    "integer multiple": {"type": "integer", "multipleOf": 7, "minimum": 200, "maximum": 300},
    "number bounds": {"type": "number", "minimum": 0.5, "maximum": 0.75},
    "number exclusive": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.01},
    "number multiple": {"type": "number", "multipleOf": 0.25, "minimum": 1, "maximum": 2},
    "number point": {"type": "number", "minimum": 3.5, "maximum": 3.5},
    "string lengths": {"type": "string", "minLength": 12, "maxLength": 14},
    "string short": {"type": "string", "maxLength": 1},
    "string pattern and lengths": {
        "type": "string",
        "pattern": "^[a-zA-Z0-9]+$",
        "minLength": 3,
        "maxLength": 4,
    },
    "string format boolean": {"type": "string", "format": "boolean"},
    "string format int64": {"type": "string", "format": "int64"},
    "string formats": {
        "type": "array",
        "items": {
            "anyOf": [
                {"type": "string", "format": name}
                for name in ("date-time", "date", "time", "email", "uuid", "ipv4", "ipv6", "uri")
            ]
        },
        "minItems": 8,
    },
    "enum": {"type": "string", "enum": ["A", "B"]},
    "enum untyped": {"enum": [1, "one", None]},
    "const": {"const": {"nested": [1, 2]}},
    "type list": {"type": ["null", "integer"], "minimum": 5, "maximum": 6},
    "only null": {"type": "null"},
    "boolean": {"type": "boolean"},
    "untyped": {},
    "array bounds": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 5},
    "array none": {"type": "array", "items": {"type": "integer"}, "maxItems": 0},
    "array unique": {"type": "array", "items": {"enum": ["x", "y"]}, "minItems": 2, "uniqueItems": True},
    "map": {"type": "object", "additionalProperties": {"type": "string"}},
    "closed object": {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
        "additionalProperties": False,
    },
    "min properties": {"type": "object", "minProperties": 3, "properties": {"a": {"type": "string"}}},
    "max properties": {
        "type": "object",
        "maxProperties": 1,
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
    },
    "required without properties": {"type": "object", "required": ["x", "y"]},
    "allOf": {
        "allOf": [
            {"$ref": "#/$defs/Money"},
            {"properties": {"amount": {"maxLength": 6}, "note": {"type": "string"}}, "required": ["note"]},
        ]
    },
    "allOf bounds": {"allOf": [{"type": "integer", "minimum": 5}, {"type": "number", "maximum": 6}]},
    "anyOf": {"anyOf": [{"type": "integer", "minimum": 3}, {"$ref": "#/$defs/Money"}]},
    "oneOf": {"oneOf": [{"type": "string", "maxLength": 2}, {"type": "integer", "maximum": -1}]},
    "ref beside keywords": {"$ref": "#/$defs/Decimal", "minLength": 30},
}


@pytest.mark.parametrize("name", sorted(KEYWORD_SCHEMAS))
def test_keywords_are_honoured(name: str) -> None:
    schema = KEYWORD_SCHEMAS[name]
    for seed in range(25):
        for minimal in (False, True):
            instance = generate_instance(schema, DEFINITIONS, seed=seed, minimal=minimal)
            _assert_valid(_document(schema, DEFINITIONS), instance, f"{name} seed={seed} minimal={minimal}")


def test_arrays_have_one_or_two_items_unless_bounded() -> None:
    lengths = {
        len(generate_instance({"type": "array", "items": {"type": "string"}}, {}, seed=seed))
        for seed in range(30)
    }
    assert lengths == {1, 2}
    assert generate_instance({"type": "array", "items": {"type": "string"}}, {}, minimal=True) == []


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "minimum": 5, "maximum": 4},
        {"type": "string", "minLength": 5, "maxLength": 4},
        {"type": "array", "minItems": 3, "maxItems": 2},
        {"type": "string", "pattern": "^[A-Z]{2}$", "minLength": 3},
        {"type": "string", "pattern": "(?=lookahead)"},
        {"type": "object", "required": ["a"], "properties": {"b": {}}, "additionalProperties": False},
        {"type": "array", "items": {"enum": ["only"]}, "minItems": 2, "uniqueItems": True},
        {"$ref": "#/$defs/Missing"},
        {"enum": []},
    ],
    ids=str,
)
def test_unsatisfiable_or_unsupported_schemas_raise(schema: dict[str, Any]) -> None:
    with pytest.raises(GenerationError):
        generate_instance(schema, DEFINITIONS)


# --- recursion ------------------------------------------------------------------------------------------

RECURSIVE: dict[str, Any] = {
    "Node": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "parent": {"$ref": "#/$defs/Node"},
            "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
        },
    },
    "Chain": {
        "type": "object",
        "required": ["id", "rest"],
        "properties": {
            "id": {"type": "integer"},
            "rest": {"type": "array", "items": {"$ref": "#/$defs/Chain"}},
        },
    },
    "Forever": {"type": "object", "required": ["next"], "properties": {"next": {"$ref": "#/$defs/Forever"}}},
    "Mutual": {"type": "object", "properties": {"other": {"$ref": "#/$defs/Other"}}},
    "Other": {"type": "object", "properties": {"mutual": {"$ref": "#/$defs/Mutual"}}},
}


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(item) for item in value), default=0)
    return 0


@pytest.mark.parametrize("name", ["Node", "Chain", "Mutual"])
def test_optional_recursion_stops(name: str) -> None:
    schema = {"$ref": f"#/$defs/{name}"}
    for seed in range(10):
        instance = generate_instance(schema, RECURSIVE, seed=seed)
        _assert_valid(_document(schema, RECURSIVE), instance, f"{name} seed={seed}")
        assert _depth(instance) <= 8


def test_recursion_is_followed_once() -> None:
    node = generate_instance({"$ref": "#/$defs/Node"}, RECURSIVE, seed=0)
    assert set(node["parent"]) == {"name"}  # the nested node has its required content only
    assert all(set(child) == {"name"} for child in node["children"])


def test_required_recursion_still_gives_a_valid_instance() -> None:
    chain = generate_instance({"$ref": "#/$defs/Chain"}, RECURSIVE, seed=2)
    assert isinstance(chain["rest"], list)
    _assert_valid(_document({"$ref": "#/$defs/Chain"}, RECURSIVE), chain, "Chain")


def test_endless_required_recursion_raises() -> None:
    with pytest.raises(GenerationError, match="recursion"):
        generate_instance({"$ref": "#/$defs/Forever"}, RECURSIVE)


def test_max_depth_limits_optional_content() -> None:
    nested: dict[str, Any] = {"type": "string"}
    for level in range(20):
        nested = {"type": "object", "properties": {f"level{level}": nested}}
    # Objects at nesting 0..max_depth-1 get their optional property; the one at max_depth is empty.
    assert _depth(generate_instance(nested, {})) == DEFAULT_MAX_DEPTH + 1
    assert _depth(generate_instance(nested, {}, max_depth=3)) == 4


# --- patterns -------------------------------------------------------------------------------------------

PATTERNS: list[tuple[str, int, int | None]] = [
    (r"^[A-Z0-9]{5,}$", 0, None),
    (r"^[a-zA-Z0-9]+$", 0, None),
    (r"^[a-zA-Z0-9]+$", 20, 20),
    (r"^[a-zA-Z0-9]+$", 1, 2),
    (r"^[A-Z]{2}$", 0, None),
    (r"^\d{3}-\d{2}-\d{4}$", 0, None),
    (r"^(ABC|DEF)[0-9]{2,4}$", 0, None),
    (r"^[A-Z]{3}(?:-[0-9]{1,3})?$", 0, None),
    (r"^[a-z]{2}_[A-Z]{2}$", 0, None),
    (r"^\+?[0-9 ()-]{7,20}$", 0, None),
    (r"^[\w.+-]+@[\w-]+\.[a-z]{2,}$", 0, None),
    (r"^-?(0|[1-9]\d*)(\.\d{1,2})?$", 0, None),
    (r"^[^,;]{3}$", 0, None),
    (r"^\S+$", 0, 8),
    (r"^.{1,5}$", 0, None),
    (r"^(A|BB|CCC)+$", 7, 7),
    (r"^[\x41-\x5A]{3}$", 0, None),
    (r"(?i)^abc$", 0, None),
    (r"^(?P<prefix>[A-Z]{2})\d+$", 0, None),
    (r"^a*b+?c?$", 0, None),
    (r"\bword\b", 0, None),
    (r"[0-9]", 5, 6),  # unanchored: padded to the minimum length
    (r"^[]a-]{2}$", 0, None),
    (r"^$", 0, None),
]


def _patterns_in(schema: Any, found: set[tuple[str, int, int | None]]) -> None:
    if isinstance(schema, dict):
        if isinstance(schema.get("pattern"), str):
            found.add((schema["pattern"], schema.get("minLength", 0), schema.get("maxLength")))
        for key, value in schema.items():
            if key in ("properties", "$defs"):
                for sub in value.values():
                    _patterns_in(sub, found)
            elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
                _patterns_in(value, found)
    elif isinstance(schema, list):
        for item in schema:
            _patterns_in(item, found)


def _contract_patterns(operations: Iterator[Operation]) -> set[tuple[str, int, int | None]]:
    found: set[tuple[str, int, int | None]] = set()
    for operation in operations:
        _patterns_in(list(operation.api.definitions.values()), found)
        for response in operation.responses.values():
            _patterns_in(response.schema, found)
        for _, schema in _request_schemas(operation):
            _patterns_in(schema, found)
    return found


def _project_patterns() -> list[tuple[str, int, int | None]]:
    operations = (op for operations, _ in _project_contracts().values() for op in operations)
    return sorted(_contract_patterns(operations), key=str)


def _check_pattern(pattern: str, min_length: int, max_length: int | None, seed: int | str) -> None:
    value = string_matching(pattern, random.Random(seed), min_length=min_length, max_length=max_length)
    assert re.search(pattern, value), (pattern, value)
    assert len(value) >= min_length and (max_length is None or len(value) <= max_length), (pattern, value)
    schema: dict[str, Any] = {"type": "string", "pattern": pattern, "minLength": min_length}
    if max_length is not None:
        schema["maxLength"] = max_length
    _assert_valid(schema, generate_instance(schema, {}, seed=seed), pattern)


@pytest.mark.parametrize(("pattern", "min_length", "max_length"), PATTERNS, ids=str)
def test_pattern_subset(pattern: str, min_length: int, max_length: int | None) -> None:
    for seed in range(30):
        _check_pattern(pattern, min_length, max_length, seed)


def test_every_project_pattern_is_generated() -> None:
    patterns = _project_patterns()
    assert patterns, "the project's contracts declare patterns; none found"
    for pattern, min_length, max_length in patterns:
        for seed in range(30):
            _check_pattern(pattern, min_length, max_length, seed)


@pytest.mark.reference
def test_every_official_pattern_is_generated() -> None:
    patterns = _contract_patterns(iter(_official_operations().values()))
    assert {pattern for pattern, _, _ in patterns} >= {"^[a-zA-Z0-9]+$", "^[A-Z]{2}$"}
    for pattern, min_length, max_length in sorted(patterns, key=str):
        for seed in range(30):
            _check_pattern(pattern, min_length, max_length, seed)


@settings(max_examples=60, deadline=None, database=None)
@given(
    case=st.sampled_from(PATTERNS),
    seed=st.integers() | st.text(max_size=12),
)
def test_patterns_for_any_seed(case: tuple[str, int, int | None], seed: int | str) -> None:
    _check_pattern(*case, seed)


@pytest.mark.parametrize(
    "pattern",
    ["(?=a)b", "(?<!a)b", r"(a)\1", r"\p{L}+", "[", "a**", "(?x) a", "^[A-Z]{2}$$(?#comment)"],
    ids=str,
)
def test_unsupported_patterns_raise_pattern_error(pattern: str) -> None:
    with pytest.raises(PatternError):
        string_matching(pattern, random.Random(0))


def test_impossible_lengths_raise_pattern_error() -> None:
    with pytest.raises(PatternError, match="no string found"):
        string_matching("^(ab)+$", random.Random(0), min_length=3, max_length=3)
