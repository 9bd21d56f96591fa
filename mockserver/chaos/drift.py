"""Drift: an answer changed the way Amazon's model changes change it, and nothing else. No Flask here.

Each drift kind takes a valid answer and its contract schema and returns the drifted answer, the changes it
made (JSON-Patch-like operations, in order, so that applying them to the original answer gives exactly the
drifted one) and the loosening of the contract that the drifted answer needs (by property name):

- `extra_fields`: `fields` (name -> value; default one property, `name`, with a drawn value) added to every
  object of the answer, open or closed (`closed: false`: open ones only). Declares: those names allowed on
  every object.
- `omit_optional`: optional properties dropped: the named `fields`, or every optional value that is not an
  object or an array; a `share` of them. Declares nothing.
- `deprecated_removed`: the named `fields` removed wherever they appear, required or not. Declares: those
  names no longer required.
- `new_enum_value`: an enum property (`fields`, or one drawn) carries `value`, which its enum lacks.
  Declares: that value allowed in the enums of those properties.
- `reordered`: arrays permuted (`arrays`), object keys reversed (`keys`). Declares nothing.
- `nulls`: optional properties present as `null`: the named `fields`, or every optional value that is not an
  object or an array; a `share` of them. Declares: those properties nullable.

Unless named, objects, arrays and the paging token (`keep`, default `DEFAULT_KEEP`) are left alone by
`omit_optional` and `nulls`: without them an answer says something else (no order details, no orders, no
next page), not the same in a new shape.

Change operations: `add`, `remove`, `replace` (RFC 6902, `path` a JSON Pointer), `reorder` (an array's new
order as indexes into the old one) and `reverse_keys` (an object's keys in reverse order). Paths refer to the
answer as it is when the operation is applied, and operations apply in the order given. The input answer is
never modified (stateful handlers share their documents).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = Any
Definitions = Mapping[str, Any]
Path = tuple[str | int, ...]

# Keys whose absence or null would change what an answer means, not only its shape: the envelope and paging.
DEFAULT_KEEP = ("payload", "errors", "pagination", "nextToken")
DEFAULT_EXTRA_FIELD = "driftAddedField"
EXTRA_VALUES: tuple[Any, ...] = ("added later", 42, True, {"addedLater": "nested"}, ["added", "later"])


class DriftError(ValueError):
    """Drift parameters that cannot be used."""


@dataclass
class Loosening:
    """How far the contract must be loosened for a drifted answer: every part by property name."""

    extra_properties: set[str] = field(default_factory=set)
    not_required: set[str] = field(default_factory=set)
    nullable: set[str] = field(default_factory=set)
    enum_values: dict[str, set[str]] = field(default_factory=dict)

    def merge(self, other: Loosening) -> None:
        self.extra_properties |= other.extra_properties
        self.not_required |= other.not_required
        self.nullable |= other.nullable
        for name, values in other.enum_values.items():
            self.enum_values.setdefault(name, set()).update(values)

    def __bool__(self) -> bool:
        return bool(self.extra_properties or self.not_required or self.nullable or self.enum_values)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if self.extra_properties:
            data["extra_properties"] = sorted(self.extra_properties)
        if self.not_required:
            data["not_required"] = sorted(self.not_required)
        if self.nullable:
            data["nullable"] = sorted(self.nullable)
        if self.enum_values:
            data["enum_values"] = {name: sorted(values) for name, values in sorted(self.enum_values.items())}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Loosening:
        return cls(
            set(data.get("extra_properties", ())),
            set(data.get("not_required", ())),
            set(data.get("nullable", ())),
            {name: set(values) for name, values in (data.get("enum_values") or {}).items()},
        )


@dataclass
class DriftOutcome:
    """A drifted answer, the changes that made it from the original and the contract loosening it needs."""

    body: JSON
    changes: list[dict[str, Any]]
    loosening: Loosening


# -- schemas ------------------------------------------------------------------------------------------------


def resolve(schema: Any, definitions: Definitions) -> dict[str, Any]:
    """The schema a `$ref` chain ends at (`#/$defs/Name`); `{}` for anything unknown."""
    hops = 0
    while isinstance(schema, Mapping) and "$ref" in schema and hops < 64:
        schema = definitions.get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
        hops += 1
    return dict(schema) if isinstance(schema, Mapping) else {}


def _is_object(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "object" or "properties" in schema


def _child_schema(schema: Mapping[str, Any], key: str) -> Any:
    properties = schema.get("properties") or {}
    if key in properties:
        return properties[key]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, Mapping) else None


def _optional(schema: Mapping[str, Any], key: str) -> bool:
    return key in (schema.get("properties") or {}) and key not in (schema.get("required") or ())


def pointer(path: Path) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


@dataclass
class _Drift:
    """One drift being applied: the working copy, its schema, the random source, what was changed."""

    definitions: Definitions
    params: Mapping[str, Any]
    rng: random.Random
    changes: list[dict[str, Any]] = field(default_factory=list)
    loosening: Loosening = field(default_factory=Loosening)

    def objects(
        self, value: Any, schema: Any, path: Path = ()
    ) -> Iterable[tuple[Path, dict[str, Any], dict]]:
        """Every object of the answer that has a schema, with its resolved schema, parents first."""
        resolved = resolve(schema, self.definitions)
        if isinstance(value, dict) and _is_object(resolved):
            yield path, value, resolved
            for key in list(value):
                child = _child_schema(resolved, key)
                if child is not None and key in value:
                    yield from self.objects(value[key], child, (*path, key))
        elif isinstance(value, list) and isinstance(resolved.get("items"), Mapping):
            for index, item in enumerate(value):
                yield from self.objects(item, resolved["items"], (*path, index))

    def chance(self, share: float) -> bool:
        return share >= 1.0 or self.rng.random() < share


# -- parameters ---------------------------------------------------------------------------------------------


def _names(params: Mapping[str, Any], name: str = "fields") -> list[str] | None:
    value = params.get(name)
    if value is None and name == "fields" and "field" in params:
        value = params["field"]
    if value is None:
        return None
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) and item for item in value):
        raise DriftError(f"{name} must be a property name or a list of them")
    return list(value)


def _share(params: Mapping[str, Any]) -> float:
    value = params.get("share", 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DriftError("share must be a number from 0 to 1")
    share = float(value)
    if not 0.0 <= share <= 1.0:
        raise DriftError("share must be a number from 0 to 1")
    return share


def _flag(params: Mapping[str, Any], name: str, default: bool) -> bool:
    value = params.get(name, default)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _keep(params: Mapping[str, Any]) -> set[str]:
    keep = _names(params, "keep")
    return set(DEFAULT_KEEP if keep is None else keep)


# -- the kinds ----------------------------------------------------------------------------------------------

Apply = Callable[[_Drift, JSON, Any], JSON]
Check = Callable[[Mapping[str, Any]], None]


@dataclass(frozen=True)
class DriftKind:
    """A registered drift kind: its name, how it changes an answer, and the check of its parameters."""

    name: str
    apply: Apply
    check: Check


DRIFTS: dict[str, DriftKind] = {}


def register_drift(name: str, check: Check | None = None) -> Callable[[Apply], Apply]:
    """Register a drift kind: `apply(drift, body, schema)` changes the working copy, recording its changes."""

    def decorate(apply: Apply) -> Apply:
        DRIFTS[name] = DriftKind(name, apply, check or (lambda params: None))
        return apply

    return decorate


def _check_extra(params: Mapping[str, Any]) -> None:
    fields = params.get("fields")
    if fields is not None and (
        not isinstance(fields, Mapping) or not all(isinstance(k, str) for k in fields)
    ):
        raise DriftError("fields must be a mapping of property name to value")
    if "name" in params and not (isinstance(params["name"], str) and params["name"]):
        raise DriftError("name must be a property name")


@register_drift("extra_fields", _check_extra)
def _extra_fields(drift: _Drift, body: JSON, schema: Any) -> JSON:
    fields = drift.params.get("fields")
    if fields is None:
        value = drift.params["value"] if "value" in drift.params else drift.rng.choice(EXTRA_VALUES)
        fields = {str(drift.params.get("name", DEFAULT_EXTRA_FIELD)): value}
    closed_too = _flag(drift.params, "closed", True)
    for path, value, resolved in list(drift.objects(body, schema)):
        declared = resolved.get("properties") or {}
        if (
            not closed_too
            and "additionalProperties" in resolved
            and resolved["additionalProperties"] is not True
        ):
            continue
        for name, extra in fields.items():
            if name in value or name in declared:
                continue
            value[name] = copy.deepcopy(extra)
            drift.changes.append({"op": "add", "path": pointer((*path, name)), "value": copy.deepcopy(extra)})
            drift.loosening.extra_properties.add(name)
    return body


def _check_optional(params: Mapping[str, Any]) -> None:
    _names(params)
    _names(params, "keep")
    _share(params)


def _drop_or_null(drift: _Drift, body: JSON, schema: Any, replace_by_null: bool) -> JSON:
    named = _names(drift.params)
    keep = set() if named is not None else _keep(drift.params)
    share = _share(drift.params)

    def visit(value: Any, node_schema: Any, path: Path) -> None:
        resolved = resolve(node_schema, drift.definitions)
        if isinstance(value, dict) and _is_object(resolved):
            for key in list(value):
                if named is not None:
                    chosen = key in named
                else:
                    declared = resolve((resolved.get("properties") or {}).get(key), drift.definitions)
                    chosen = key not in keep and declared.get("type") not in ("array", "object")
                if chosen and _optional(resolved, key) and value[key] is not None and drift.chance(share):
                    if replace_by_null:
                        value[key] = None
                        drift.changes.append({"op": "replace", "path": pointer((*path, key)), "value": None})
                        drift.loosening.nullable.add(key)
                    else:
                        del value[key]
                        drift.changes.append({"op": "remove", "path": pointer((*path, key))})
                    continue
                child = _child_schema(resolved, key)
                if child is not None:
                    visit(value[key], child, (*path, key))
        elif isinstance(value, list) and isinstance(resolved.get("items"), Mapping):
            for index, item in enumerate(value):
                visit(item, resolved["items"], (*path, index))

    visit(body, schema, ())
    return body


@register_drift("omit_optional", _check_optional)
def _omit_optional(drift: _Drift, body: JSON, schema: Any) -> JSON:
    return _drop_or_null(drift, body, schema, replace_by_null=False)


@register_drift("nulls", _check_optional)
def _nulls(drift: _Drift, body: JSON, schema: Any) -> JSON:
    return _drop_or_null(drift, body, schema, replace_by_null=True)


def _check_removed(params: Mapping[str, Any]) -> None:
    if not _names(params):
        raise DriftError("deprecated_removed needs `fields` (or `field`): the deprecated property names")


@register_drift("deprecated_removed", _check_removed)
def _deprecated_removed(drift: _Drift, body: JSON, schema: Any) -> JSON:
    names = set(_names(drift.params) or ())
    drift.loosening.not_required |= names  # declared whether or not this answer carries them

    def visit(value: Any, node_schema: Any, path: Path) -> None:
        resolved = resolve(node_schema, drift.definitions)
        if isinstance(value, dict) and _is_object(resolved):
            properties = resolved.get("properties") or {}
            for key in list(value):
                if key in names and key in properties:
                    del value[key]
                    drift.changes.append({"op": "remove", "path": pointer((*path, key))})
                    continue
                child = _child_schema(resolved, key)
                if child is not None:
                    visit(value[key], child, (*path, key))
        elif isinstance(value, list) and isinstance(resolved.get("items"), Mapping):
            for index, item in enumerate(value):
                visit(item, resolved["items"], (*path, index))

    visit(body, schema, ())
    return body


def _string_enum(schema: Mapping[str, Any]) -> list[str] | None:
    values = schema.get("enum")
    if isinstance(values, list) and values and all(isinstance(item, str) for item in values):
        return values
    return None


def _fits(value: str, schema: Mapping[str, Any]) -> bool:
    """Whether `value` satisfies the schema's constraints other than its enum."""
    import re

    if schema.get("type") not in (None, "string"):
        return False
    if "maxLength" in schema and len(value) > int(schema["maxLength"]):
        return False
    if "minLength" in schema and len(value) < int(schema["minLength"]):
        return False
    pattern = schema.get("pattern")
    return not (isinstance(pattern, str) and re.search(pattern, value) is None)


def _new_value(enum: list[str], chosen: str | None) -> str:
    if chosen is not None:
        return chosen
    if all(item.upper() == item for item in enum):
        return "NEWLY_ADDED_VALUE"
    return "NewlyAddedValue"


def _check_enum(params: Mapping[str, Any]) -> None:
    _names(params)
    _share(params)
    if "value" in params and not (isinstance(params["value"], str) and params["value"]):
        raise DriftError("value must be a non-empty string")


def _enum_sites(drift: _Drift, value: Any, schema: Any, name: str | None, path: Path) -> Iterable[Any]:
    """(path, property name, value, resolved schema) of every string in the answer whose schema is an enum."""
    resolved = resolve(schema, drift.definitions)
    if isinstance(value, str) and name is not None and _string_enum(resolved):
        yield path, name, value, resolved
    elif isinstance(value, dict) and _is_object(resolved):
        for key in list(value):
            child = _child_schema(resolved, key)
            if child is not None:
                yield from _enum_sites(drift, value[key], child, key, (*path, key))
    elif isinstance(value, list) and isinstance(resolved.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from _enum_sites(drift, item, resolved["items"], name, (*path, index))


@register_drift("new_enum_value", _check_enum)
def _new_enum_value(drift: _Drift, body: JSON, schema: Any) -> JSON:
    sites = list(_enum_sites(drift, body, schema, None, ()))
    chosen = drift.params.get("value")

    def changeable(current: str, resolved: Mapping[str, Any]) -> str | None:
        enum = _string_enum(resolved) or []
        new = _new_value(enum, chosen)
        return None if new in enum or new == current or not _fits(new, resolved) else new

    named = _names(drift.params)
    if named is None:
        present = sorted({name for _, name, current, resolved in sites if changeable(current, resolved)})
        named = [drift.rng.choice(present)] if present else []
    share = _share(drift.params)
    for path, name, current, resolved in sites:
        new = changeable(current, resolved) if name in named else None
        if new is None or not drift.chance(share):
            continue
        parent: Any = body
        for part in path[:-1]:
            parent = parent[part]
        parent[path[-1]] = new
        drift.changes.append({"op": "replace", "path": pointer(path), "value": new})
        drift.loosening.enum_values.setdefault(name, set()).add(new)
    return body


def _check_reordered(params: Mapping[str, Any]) -> None:
    for name in ("arrays", "keys"):
        if name in params and not isinstance(params[name], bool | str | int):
            raise DriftError(f"{name} must be true or false")


@register_drift("reordered", _check_reordered)
def _reordered(drift: _Drift, body: JSON, schema: Any) -> JSON:
    arrays, keys = _flag(drift.params, "arrays", True), _flag(drift.params, "keys", True)

    def visit(value: Any, node_schema: Any, path: Path) -> Any:
        # Children first, so that every recorded path is still valid when its operation is applied.
        resolved = resolve(node_schema, drift.definitions)
        if isinstance(value, dict) and _is_object(resolved):
            for key in list(value):
                child = _child_schema(resolved, key)
                if child is not None:
                    value[key] = visit(value[key], child, (*path, key))
            if keys and len(value) > 1:
                drift.changes.append({"op": "reverse_keys", "path": pointer(path)})
                return dict(reversed(list(value.items())))
        elif isinstance(value, list) and isinstance(resolved.get("items"), Mapping):
            for index, item in enumerate(value):
                value[index] = visit(item, resolved["items"], (*path, index))
            if arrays and len(value) > 1:
                order = list(range(len(value)))
                drift.rng.shuffle(order)
                if order == sorted(order):
                    order = order[1:] + order[:1]
                drift.changes.append({"op": "reorder", "path": pointer(path), "order": order})
                return [value[index] for index in order]
        return value

    return visit(body, schema, ())


# -- applying and checking ----------------------------------------------------------------------------------


def _fresh(value: JSON) -> JSON:
    """A copy in which no object appears twice. `copy.deepcopy` keeps shared objects shared (a handler may
    put one party object in several orders), and a change made once would then show up in two places."""
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    return value


def check_drift(kind: str, params: Mapping[str, Any]) -> None:
    """Raise DriftError unless `kind` with `params` can be applied."""
    if kind not in DRIFTS:
        raise DriftError(f"unknown drift {kind!r}; known: {', '.join(sorted(DRIFTS))}")
    DRIFTS[kind].check(params)


def apply_drift(
    kind: str, params: Mapping[str, Any], seed: int, body: JSON, schema: Any, definitions: Definitions
) -> DriftOutcome:
    """The answer drifted by `kind`, its changes and its loosening; `body` itself is left as it was."""
    check_drift(kind, params)
    drift = _Drift(definitions, params, random.Random(seed))
    drifted = DRIFTS[kind].apply(drift, _fresh(body), schema)
    return DriftOutcome(drifted, drift.changes, drift.loosening)


def apply_changes(body: JSON, changes: Iterable[Mapping[str, Any]]) -> JSON:
    """The answer with recorded changes applied (a copy): how the journal's record can be checked."""
    result = _fresh(body)

    def split(path: str) -> list[str]:
        return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]

    def locate(root: Any, parts: list[str]) -> Any:
        for part in parts:
            root = root[int(part)] if isinstance(root, list) else root[part]
        return root

    def place(root: Any, parts: list[str], value: Any) -> Any:
        if not parts:
            return value
        parent = locate(root, parts[:-1])
        if isinstance(parent, list):
            parent[int(parts[-1])] = value
        else:
            parent[parts[-1]] = value
        return root

    for change in changes:
        parts = split(str(change["path"]))
        operation = change["op"]
        if operation in ("add", "replace"):
            result = place(result, parts, _fresh(change["value"]))
        elif operation == "remove":
            parent = locate(result, parts[:-1])
            del parent[int(parts[-1]) if isinstance(parent, list) else parts[-1]]
        elif operation == "reorder":
            current = locate(result, parts)
            result = place(result, parts, [current[index] for index in change["order"]])
        elif operation == "reverse_keys":
            current = locate(result, parts)
            result = place(result, parts, dict(reversed(list(current.items()))))
        else:
            raise DriftError(f"unknown change operation {operation!r}")
    return result


def loosen(schema: Any, definitions: Definitions, loosening: Loosening) -> dict[str, Any]:
    """A self-contained JSON Schema (`$defs` included): the contract loosened exactly as declared."""

    def local(prop: Any, name: str) -> Any:
        if name in loosening.enum_values:
            resolved = resolve(prop, definitions)
            added = sorted(loosening.enum_values[name])
            if _string_enum(resolved):
                prop = {**resolved, "enum": [*resolved["enum"], *added]}
            elif isinstance(resolved.get("items"), Mapping):
                items = resolve(resolved["items"], definitions)
                if _string_enum(items):
                    prop = {**resolved, "items": {**items, "enum": [*items["enum"], *added]}}
        prop = walk(prop)
        if name in loosening.nullable:
            prop = {"anyOf": [prop, {"type": "null"}]}
        return prop

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, Mapping):
            return node
        result = {key: walk(value) for key, value in node.items() if key not in ("properties", "required")}
        if "properties" in node or node.get("type") == "object":
            properties = {name: local(prop, name) for name, prop in (node.get("properties") or {}).items()}
            for name in sorted(loosening.extra_properties):
                properties.setdefault(name, {})
            result["properties"] = properties
            required = [name for name in node.get("required") or () if name not in loosening.not_required]
            if required:
                result["required"] = required
        return result

    return {**walk(schema), "$defs": {name: walk(value) for name, value in definitions.items()}}


def changed_fields(changes: Iterable[Mapping[str, Any]]) -> list[str]:
    """The property names an answer's changes touched (added, removed, replaced)."""
    names = set()
    for change in changes:
        if change["op"] in ("add", "remove", "replace"):
            last = str(change["path"]).rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~")
            if not last.isdigit():
                names.add(last)
    return sorted(names)


__all__ = [
    "DEFAULT_KEEP",
    "DRIFTS",
    "DriftError",
    "DriftKind",
    "DriftOutcome",
    "Loosening",
    "apply_changes",
    "apply_drift",
    "changed_fields",
    "check_drift",
    "loosen",
    "pointer",
    "register_drift",
    "resolve",
]
