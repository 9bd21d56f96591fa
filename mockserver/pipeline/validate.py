"""Validation of parameters and JSON bodies against an operation's contract, with Amazon's 400/413/415."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from mockserver import wire
from mockserver.contracts.model import Operation, Parameter
from mockserver.pipeline import errors

NO_BODY: Any = object()

# ISO 8601 as clients send it: `Z`, an offset such as `+00:00`, or no zone; optional fractions of a second.
# A `+` decoded from an unescaped query string arrives as a space, so a space before the offset is tolerated.
# Month, day, hour and minute ranges are in the pattern itself: the validator calls the check for every
# date-time in every answer, so it is one regular-expression call.
_DATE_TIME = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[Tt ](?:[01]\d|2[0-3]):[0-5]\d"
    r"(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+\- ]\d{2}(?::?\d{2})?)?"
)
_BOOLEAN = re.compile(r"true|false", re.IGNORECASE)


def is_date_time(value: str) -> bool:
    return _DATE_TIME.fullmatch(value) is not None


def is_boolean(value: str) -> bool:
    return _BOOLEAN.fullmatch(value) is not None


FORMATS = {"date-time": is_date_time, "boolean": is_boolean}


@dataclass(frozen=True, slots=True)
class ValidatedRequest:
    """A request's parameters (path, query, header) and body, checked against the contract and typed."""

    path: dict[str, Any]
    query: dict[str, Any]
    headers: dict[str, Any]
    body: Any


class _CompiledOperation:
    def __init__(self, operation: Operation) -> None:
        self.parameters = [
            (parameter, _validator(operation, parameter.schema)) for parameter in operation.parameters
        ]
        self.body = _validator(operation, operation.body.schema) if operation.body else None
        self.responses = {
            status: _validator(operation, response.schema)
            for status, response in operation.responses.items()
            if response.schema is not None
        }


def _validator(operation: Operation, schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator(
        operation.schema_document(schema), validate_formats=True, formats=FORMATS
    )


class RequestValidator:
    def __init__(self, max_body_bytes: int) -> None:
        self.max_body_bytes = max_body_bytes
        self._compiled: dict[str, _CompiledOperation] = {}
        self._lock = threading.Lock()

    def compiled(self, operation: Operation) -> _CompiledOperation:
        compiled = self._compiled.get(operation.name)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.get(operation.name)
                if compiled is None:
                    compiled = self._compiled[operation.name] = _CompiledOperation(operation)
        return compiled

    def validate(
        self,
        operation: Operation,
        path_parameters: Mapping[str, str],
        query: Any,  # a MultiDict: getlist(name)
        headers: Any,  # Werkzeug Headers or any mapping: get(name)
        body: Any,
    ) -> ValidatedRequest:
        compiled = self.compiled(operation)
        validated: dict[str, dict[str, Any]] = {"path": {}, "query": {}, "header": {}}
        for parameter, validator in compiled.parameters:
            raw = _raw_value(parameter, path_parameters, query, headers)
            if raw is None:
                if parameter.required:
                    raise errors.invalid_input(
                        f"Missing required parameter '{parameter.name}'.",
                        f"The {parameter.location} parameter '{parameter.name}' is required.",
                    )
                continue
            value = _coerce(parameter, raw)
            error = _first_error(validator, value)
            if error is not None:
                raise errors.invalid_input(
                    f"Invalid value for parameter '{parameter.name}'.",
                    f"{parameter.location} parameter '{parameter.name}': {error}",
                )
            validated[parameter.location][parameter.name] = value
        if compiled.body is not None and operation.body is not None:
            if body is NO_BODY:
                if operation.body.required:
                    raise errors.invalid_input("The request body is required.", "Send a JSON body.")
            else:
                error = _first_error(compiled.body, body, root="body")
                if error is not None:
                    raise errors.invalid_input("Invalid request body.", error)
        return ValidatedRequest(validated["path"], validated["query"], validated["header"], body)

    def response_violation(self, operation: Operation, status: str, payload: Any) -> str | None:
        """What is wrong with a response against the contract, or None; the emulator's own check."""
        validator = self.compiled(operation).responses.get(status)
        if validator is None:
            return None
        return _first_error(validator, payload, root="response")

    def parse_body(self, raw: bytes, content_type: str | None) -> Any:
        if len(raw) > self.max_body_bytes:
            raise errors.request_too_large(self.max_body_bytes)
        if not raw.strip():
            return NO_BODY
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        is_json_type = media_type == "application/json" or media_type.endswith("+json")
        if media_type and not is_json_type:
            raise errors.unsupported_media_type(content_type or "")
        try:
            return wire.loads_input(raw)
        except wire.InvalidJson as error:
            if not media_type:
                raise errors.unsupported_media_type("") from error
            raise errors.invalid_input("The request body is not valid JSON.", str(error)) from error


def _raw_value(
    parameter: Parameter, path: Mapping[str, str], query: Any, headers: Any
) -> str | list[str] | None:
    if parameter.location == "path":
        return path.get(parameter.name)
    if parameter.location == "query":
        values = query.getlist(parameter.name)
        if not values:
            return None
        return values if parameter.schema.get("type") == "array" else values[-1]
    if parameter.location == "header":
        return headers.get(parameter.name)
    return None


def _coerce(parameter: Parameter, raw: str | list[str]) -> Any:
    """Query, path and header values arrive as text; give them the type the contract declares."""
    schema = parameter.schema
    if schema.get("type") == "array":
        values = raw if isinstance(raw, list) else [raw]
        # `form` style, `explode: false`: `a=x,,y` is three items and `a=` one empty item (OpenAPI's
        # serialization of `[""]`); dropping empty items would turn schema-valid values into `[]`.
        items = [item for value in values for item in value.split(",")]
        item_type = (schema.get("items") or {}).get("type")
        return [_scalar(item, item_type) for item in items]
    text = raw[-1] if isinstance(raw, list) else raw
    return _scalar(text, schema.get("type"))


def _scalar(text: str, declared_type: Any) -> Any:
    if declared_type == "integer":
        try:
            return int(text)
        except ValueError:
            return text  # the schema check then names the wrong type
    if declared_type == "number":
        try:
            return float(text)
        except ValueError:
            return text
    if declared_type == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _first_error(validator: Any, instance: Any, root: str = "") -> str | None:
    if validator.is_valid(instance):  # the common case, without building any error objects
        return None
    for error in validator.iter_errors(instance):
        location = _location(root, list(error.instance_path))
        return f"{location}: {error.message}" if location else str(error.message)
    return None


def _location(root: str, path: list[Any]) -> str:
    text = root
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
