"""Amazon's static sandbox: answer a request with the `x-amzn-api-sandbox` static case it matches.

Each static case of an official model is a request pattern (`StaticCase.parameters`: parameter name, or
"body" for the JSON body, -> the value the case expects, or `loader.ANY_VALUE` for a parameter the case names
without a value) and the answer to give. This module decides which case, if any, a request hits. The rules
follow Amazon's documentation of the static sandbox ("pattern matching ... when the specified parameters are
present"; "send the request with the exact values specified in the model"; the case's parameters are those
needed to match, "not necessarily all the parameters required for a successful response") and were checked
against all 95 static cases of the reference models.

When a case matches
    Every parameter the case names must be present in the request and carry the expected value. Parameters the
    case does not name are ignored: extra parameters never prevent a match, and a case naming no parameter
    (`"parameters": {}`) matches every request of its operation. A parameter named with no value (`ANY_VALUE`,
    Amazon's catch-all form) must be present, with any value; a catch-all body must be present (any JSON,
    `null` included), a request without a body (`NO_BODY`) does not match it.

Which case wins: the most specific one
    Several cases often match one request (the case asking for `nextToken` also matches the case without it;
    the `{}` fallback case matches everything, and in several models it comes *before* the cases it must not
    hide). The winner is the case that names the most parameters; among those, the one with the most concrete
    (non-catch-all) values; then the earlier case in model order. Of the 95 cases, 51 requests (built by
    `case_request`) match more than one case, and for 21 an earlier, less specific case matches too: under
    first-match-in-model-order those 21 would get another case's answer (20 of them could never be reached at
    all). With this rule every case is reached by its own request.

Matching runs on the raw request
    Before, and independently of, any validation: many cases expect values that break their own model
    (malformed dates such as `2019-09-2100:00:00`, `BAD_VALUE` outside an enum, a 202 case whose address lacks
    a required field) and must still be answered. Values are compared, never validated.

How values compare
    * The body compares strictly as JSON, recursively: types must agree (`true` is not `1`, `1` is not
      `1.0`, `"1"` is not `1`), objects compare as key sets with equal values (key order irrelevant), arrays
      element by element in order. Python's `True == 1 == 1.0` equalities never make a match.
    * Path, query and header values arrive as text. A text is decoded into the JSON type of the value the
      case expects, then compared with the same strict equality: a string is taken as sent (case-sensitive,
      so `includeDetails` - declared `type: string, format: boolean` - matches `"true"` only, not `"TRUE"`);
      an integer or number is read with JSON number syntax (`"2"` equals `2`; `"2.0"` is the number `2.0` and
      does not equal `2`; `"02"`, `"+2"`, `" 2"` are not numbers); a boolean is exactly `true` or `false`,
      lower case, as JSON writes it. A text never equals an expected `null`, object or nested array. In the
      reference models the declared type of a parameter and the JSON type of every value its cases expect
      always agree (string/str, integer/int, array/list), so decoding by either is the same; decoding by the
      expected value keeps a case reachable where a model contradicts itself.
    * A parameter declared `type: array` (or whose expected value is a list) is read from every occurrence of
      the query parameter, each split on commas (Swagger 2.0's default `collectionFormat: csv`; the reference
      models declare no other): `?x=a,b` and `?x=a&x=b` are the same list `["a", "b"]`. It equals an expected
      list element by element, in order, with the same length; an expected scalar is a one-element list. An
      empty text adds no element (`?x=` is the empty list). Elements containing commas cannot be sent.
    * A scalar query parameter sent more than once matches only when every occurrence matches.
    * Header names are looked up case-insensitively. A case parameter the operation does not declare is looked
      for in the path, then the query, then the headers.
"""

from __future__ import annotations

import copy
import enum
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockserver.contracts.loader import ANY_VALUE
from mockserver.contracts.model import BODY_PARAMETER, JSON, Operation, Parameter, StaticCase


class _NoBody(enum.Enum):
    NO_BODY = "NO_BODY"

    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY = _NoBody.NO_BODY
"""The `StaticRequest.body` of a request that has no body (distinct from a JSON `null` body)."""


@dataclass(frozen=True)
class StaticRequest:
    """A request as the static sandbox sees it: raw, unvalidated, values as sent."""

    path_parameters: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, list[str]] = field(default_factory=dict)  # every value of each parameter, as sent
    headers: Mapping[str, str] = field(default_factory=dict)  # looked up case-insensitively
    body: Any = NO_BODY  # parsed JSON, or NO_BODY

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


# --- strict JSON equality -------------------------------------------------------------------------------


def json_equal(actual: JSON, expected: JSON) -> bool:
    """JSON equality with strict types, recursively; `ANY_VALUE` anywhere in `expected` matches anything."""
    if expected is ANY_VALUE:
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and actual is expected
    if isinstance(expected, int) or isinstance(actual, int):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, float) and isinstance(expected, float) and actual == expected
    if isinstance(expected, str) or isinstance(actual, str):
        return isinstance(actual, str) and isinstance(expected, str) and actual == expected
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and actual.keys() == expected.keys()
            and all(json_equal(actual[key], expected[key]) for key in expected)
        )
    if _is_array(expected):
        return (
            _is_array(actual)
            and len(actual) == len(expected)
            and all(json_equal(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return False


def _is_array(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


# --- matching -------------------------------------------------------------------------------------------


def match_static_case(operation: Operation, request: StaticRequest) -> StaticCase | None:
    """The static case the sandbox answers `request` with: the most specific matching one, or None."""
    cases = matching_cases(operation, request)
    return cases[0] if cases else None


def matching_cases(operation: Operation, request: StaticRequest) -> list[StaticCase]:
    """Every case `request` matches, the winner first (most parameters, most concrete values, model order)."""
    ranked = [
        (_precedence(case, index), case)
        for index, case in enumerate(operation.static_cases)
        if case_matches(operation, case, request)
    ]
    ranked.sort(key=lambda item: item[0])
    return [case for _, case in ranked]


def specificity(case: StaticCase) -> tuple[int, int]:
    """(parameters the case names, of which with a concrete value): higher is more specific."""
    concrete = sum(1 for value in case.parameters.values() if value is not ANY_VALUE)
    return len(case.parameters), concrete


def _precedence(case: StaticCase, index: int) -> tuple[int, int, int]:
    named, concrete = specificity(case)
    return -named, -concrete, index


def case_matches(operation: Operation, case: StaticCase, request: StaticRequest) -> bool:
    """Whether `request` carries every parameter `case` names, with the value it expects."""
    return all(
        _parameter_matches(operation, name, expected, request) for name, expected in case.parameters.items()
    )


def _is_body(operation: Operation, name: str) -> bool:
    return name == BODY_PARAMETER and operation.parameter(name) is None


def _parameter_matches(operation: Operation, name: str, expected: JSON, request: StaticRequest) -> bool:
    if _is_body(operation, name):
        return request.body is not NO_BODY and json_equal(request.body, expected)
    parameter = operation.parameter(name)
    texts = _texts_of(parameter, name, request)
    if texts is None:
        return False
    if expected is ANY_VALUE:
        return True
    return _texts_match(texts, expected, parameter.schema if parameter else {})


def _texts_of(parameter: Parameter | None, name: str, request: StaticRequest) -> list[str] | None:
    """Every text the request sends for the parameter, or None where it is absent."""
    locations = (parameter.location,) if parameter else ("path", "query", "header")
    for location in locations:
        if location == "path" and name in request.path_parameters:
            return [request.path_parameters[name]]
        if location == "query" and name in request.query:
            values = request.query[name]
            texts = [values] if isinstance(values, str) else list(values)
            if texts:
                return texts
        if location == "header":
            header = request.header(name)
            if header is not None:
                return [header]
    return None


def _texts_match(texts: list[str], expected: JSON, schema: Mapping[str, JSON]) -> bool:
    if _schema_type(schema) == "array" or _is_array(expected):
        items = [item for text in texts if text != "" for item in text.split(",")]
        expected_items = list(expected) if _is_array(expected) else [expected]
        return len(items) == len(expected_items) and all(
            _text_matches(item, wanted) for item, wanted in zip(items, expected_items, strict=True)
        )
    return all(_text_matches(text, expected) for text in texts)


def _schema_type(schema: Mapping[str, JSON]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):  # OpenAPI 3.1 `type: [string, "null"]`
        declared = next((kind for kind in declared if kind != "null"), None)
    return declared if isinstance(declared, str) else None


_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _text_matches(text: str, expected: JSON) -> bool:
    """A text sent in the path, query or a header against one expected value (see the module docstring)."""
    if expected is ANY_VALUE:
        return True
    if isinstance(expected, bool):
        return text in {"true", "false"} and (text == "true") is expected
    if isinstance(expected, int | float):
        number = _JSON_NUMBER.fullmatch(text)
        if number is None:
            return False
        value: JSON = float(text) if number.group(1) or number.group(2) else int(text)
        return json_equal(value, expected)
    if isinstance(expected, str):
        return text == expected
    return False  # null, objects, nested arrays cannot travel as text


# --- the request that hits a case -----------------------------------------------------------------------


def case_request(operation: Operation, case: StaticCase) -> StaticRequest:
    """The request a client sends to hit `case`: it routes back to `case` through `match_static_case`.

    It carries the parameters the case names, as text (arrays comma-joined into one query value), and the
    body the case expects. Like a real client, it also sends every *required* parameter the case leaves open
    (path parameters - the URL needs them -, required query parameters and headers, a required body), with a
    placeholder. Placeholders (and the values of catch-all parameters) are chosen so that no other case of
    the operation expects them: `SandboxPlaceholder`, a date, a number or an enum value no other case names;
    `{}` for a body. Should the required extras ever make the request hit another case (a catch-all case
    naming them), they are left out again, except the path parameters.

    Raises ValueError for a value a client cannot send (a `null`, object or nested array in the path, query
    or a header; an array element containing a comma).
    """
    complete = _build_request(operation, case, fill_required=True)
    if match_static_case(operation, complete) is case:
        return complete
    return _build_request(operation, case, fill_required=False)


def _build_request(operation: Operation, case: StaticCase, *, fill_required: bool) -> StaticRequest:
    others = [other for other in operation.static_cases if other is not case]
    path: dict[str, str] = {}
    query: dict[str, list[str]] = {}
    headers: dict[str, str] = {}
    body: Any = NO_BODY

    def put(location: str, name: str, text: str) -> None:
        if location == "path":
            path[name] = text
        elif location == "header":
            headers[name] = text
        else:
            query[name] = [text]

    for name, expected in case.parameters.items():
        if _is_body(operation, name):
            body = _placeholder_body(others) if expected is ANY_VALUE else copy.deepcopy(expected)
            continue
        parameter = operation.parameter(name)
        schema: Mapping[str, JSON] = parameter.schema if parameter else {}
        if expected is ANY_VALUE:
            text = _placeholder_text(name, schema, others)
        else:
            text = _encode(name, expected, schema)
        put(parameter.location if parameter else "query", name, text)
    for parameter in operation.parameters:
        if parameter.name in case.parameters:
            continue
        if parameter.location == "path" or (fill_required and parameter.required):
            put(
                parameter.location,
                parameter.name,
                _placeholder_text(parameter.name, parameter.schema, others),
            )
    if (
        fill_required
        and body is NO_BODY
        and operation.body is not None
        and operation.body.required
        and BODY_PARAMETER not in case.parameters
    ):
        body = _placeholder_body(others)
    return StaticRequest(path_parameters=path, query=query, headers=headers, body=body)


def _encode(name: str, expected: JSON, schema: Mapping[str, JSON]) -> str:
    if _schema_type(schema) == "array" or _is_array(expected):
        items = [_scalar_text(name, item) for item in (expected if _is_array(expected) else [expected])]
        if any("," in item for item in items):
            raise ValueError(f"{name}: an array element containing a comma cannot be sent: {expected!r}")
        if items == [""]:
            raise ValueError(f"{name}: an array of one empty string cannot be sent")
        return ",".join(items)
    return _scalar_text(name, expected)


def _scalar_text(name: str, value: JSON) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"{name}: {value!r} cannot be sent as a path, query or header value")


def _placeholder_text(name: str, schema: Mapping[str, JSON], others: list[StaticCase]) -> str:
    """A text for `name` that no other case's concrete value for it matches."""
    taken = [
        other.parameters[name]
        for other in others
        if name in other.parameters and other.parameters[name] is not ANY_VALUE
    ]
    for candidate in _candidates(schema):
        if not any(_texts_match([candidate], value, schema) for value in taken):
            return candidate
    raise ValueError(f"{name}: no placeholder value left")  # pragma: no cover - the candidates are endless


def _candidates(schema: Mapping[str, JSON]) -> Iterator[str]:
    kind = _schema_type(schema)
    if kind == "array":
        items = schema.get("items")
        yield from _candidates(items if isinstance(items, Mapping) else {})
        return
    for value in schema.get("enum") or ():
        if isinstance(value, str | int | float):
            yield _scalar_text("enum", value)
    if kind == "boolean" or schema.get("format") == "boolean":
        yield from ("true", "false")
    elif kind in {"integer", "number"}:
        start = schema.get("minimum")
        first = int(start) if isinstance(start, int | float) and not isinstance(start, bool) else 1
        yield from (str(first + step) for step in range(1000))
    elif schema.get("format") == "date-time":
        yield from (f"2000-01-{day:02d}T00:00:00Z" for day in range(1, 29))
    yield "SandboxPlaceholder"
    step = 2
    while True:
        yield f"SandboxPlaceholder{step}"
        step += 1


def _placeholder_body(others: list[StaticCase]) -> JSON:
    taken = [
        other.parameters[BODY_PARAMETER]
        for other in others
        if BODY_PARAMETER in other.parameters and other.parameters[BODY_PARAMETER] is not ANY_VALUE
    ]
    candidate: JSON = {}
    step = 1
    while any(json_equal(candidate, value) for value in taken):
        candidate = {"sandboxPlaceholder": step}
        step += 1
    return candidate


__all__ = [
    "NO_BODY",
    "StaticRequest",
    "case_matches",
    "case_request",
    "json_equal",
    "match_static_case",
    "matching_cases",
    "specificity",
]
