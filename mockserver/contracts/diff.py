"""Compare two sets of contracts fact by fact.

A fact is something a client depends on: an operation at a method and path, its operationId, each parameter
and where it goes, schemas (types, formats, enums, patterns, lengths, bounds, required fields, properties),
response codes and headers, and the usage plan. Descriptions and examples are not facts.
Definitions are compared once each by name; operations refer to them by name, so one changed field is one
line of output, not one per operation that reaches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.contracts.loader import load_operations
from mockserver.contracts.model import Operation

Facts = dict[str, Any]

_SCALAR_FACTS = (
    "type",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "const",
    "default",
)


@dataclass(frozen=True, slots=True)
class Difference:
    api: str
    where: str
    kind: str  # "added" | "removed" | "changed"
    ours: Any
    theirs: Any

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.api}: {self.where}: only in ours ({_show(self.ours)})"
        if self.kind == "removed":
            return f"{self.api}: {self.where}: missing from ours (official: {_show(self.theirs)})"
        return f"{self.api}: {self.where}: ours {_show(self.ours)}, official {_show(self.theirs)}"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def schema_facts(schema: Any, prefix: str, facts: Facts) -> None:
    """Flatten one schema into `prefix.keyword -> value` facts, leaving references unexpanded."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        facts[f"{prefix} $ref"] = schema["$ref"].rsplit("/", 1)[-1]
    for keyword in _SCALAR_FACTS:
        if keyword in schema:
            value = schema[keyword]
            facts[f"{prefix} {keyword}"] = tuple(value) if isinstance(value, list) else value
    if "enum" in schema:
        facts[f"{prefix} enum"] = tuple(schema["enum"])
    required = set(schema.get("required") or ())
    for name, sub in (schema.get("properties") or {}).items():
        facts[f"{prefix}.{name}"] = "required" if name in required else "optional"
        schema_facts(sub, f"{prefix}.{name}", facts)
    for name in sorted(required - set(schema.get("properties") or {})):
        facts[f"{prefix}.{name}"] = "required (no property)"
    if "items" in schema:
        schema_facts(schema["items"], f"{prefix}[]", facts)
    if "additionalProperties" in schema:
        additional = schema["additionalProperties"]
        if isinstance(additional, dict):
            facts[f"{prefix} additionalProperties"] = "schema"
            schema_facts(additional, f"{prefix}{{*}}", facts)
        else:
            facts[f"{prefix} additionalProperties"] = bool(additional)
    for combinator in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(schema.get(combinator) or ()):
            schema_facts(sub, f"{prefix} {combinator}[{index}]", facts)


def operation_facts(operation: Operation) -> Facts:
    label = f"{operation.method} {operation.path}"
    facts: Facts = {
        f"{label}": "present",
        f"{label} operationId": operation.operation_id,
        f"{label} rate": operation.rate,
        f"{label} burst": operation.burst,
        f"{label} sandbox-only": operation.sandbox_only,
    }
    for parameter in operation.parameters:
        where = f"{label} {parameter.location} parameter {parameter.name}"
        facts[where] = "required" if parameter.required else "optional"
        schema_facts(parameter.schema, where, facts)
    if operation.body is not None:
        where = f"{label} request body"
        facts[where] = "required" if operation.body.required else "optional"
        schema_facts(operation.body.schema, where, facts)
    for status, response in operation.responses.items():
        where = f"{label} response {status}"
        facts[where] = "present"
        for header in response.headers:
            facts[f"{where} header {header}"] = "present"
        schema_facts(response.schema or {}, where, facts)
    return facts


def api_facts(operations: list[Operation]) -> dict[str, Facts]:
    """Facts per API id: its operations and its definitions."""
    by_api: dict[str, Facts] = {}
    seen_definitions: set[tuple[str, int]] = set()
    for operation in operations:
        facts = by_api.setdefault(operation.api.api_id, {})
        facts.update(operation_facts(operation))
        key = (operation.api.api_id, id(operation.api))
        if key in seen_definitions:
            continue
        seen_definitions.add(key)
        for name, schema in operation.api.definitions.items():
            facts[f"schema {name}"] = "present"
            schema_facts(schema, f"schema {name}", facts)
    return by_api


def compare(ours: list[Operation], theirs: list[Operation]) -> list[Difference]:
    ours_by_api = api_facts(ours)
    theirs_by_api = api_facts(theirs)
    differences: list[Difference] = []
    for api in sorted(set(ours_by_api) | set(theirs_by_api)):
        if api not in theirs_by_api:
            differences.append(Difference(api, "API", "added", "present", None))
            continue
        if api not in ours_by_api:
            differences.append(Difference(api, "API", "removed", None, "present"))
            continue
        differences.extend(_compare_facts(api, ours_by_api[api], theirs_by_api[api]))
    return differences


def _compare_facts(api: str, ours: Facts, theirs: Facts) -> Iterator[Difference]:
    for where in sorted(set(ours) | set(theirs)):
        if where not in theirs:
            if not _covered(where, ours, theirs):
                yield Difference(api, where, "added", ours[where], None)
        elif where not in ours:
            if not _covered(where, theirs, ours):
                yield Difference(api, where, "removed", None, theirs[where])
        elif ours[where] != theirs[where]:
            yield Difference(api, where, "changed", ours[where], theirs[where])


def _covered(where: str, present: Facts, other: Facts) -> bool:
    """A fact under a field that the other side lacks altogether is reported once, at the field."""
    parent = where
    while True:
        cut = max(parent.rfind("."), parent.rfind(" "), parent.rfind("["))
        if cut <= 0:
            return False
        parent = parent[:cut]
        if parent in present and parent not in other:
            return True


def diff_directories(ours: Path, theirs: Path) -> list[Difference]:
    return compare(load_operations(ours), load_operations(theirs))
