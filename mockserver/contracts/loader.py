"""Read contract files into `Api`/`Operation` objects.

Two formats are accepted and normalised to the same model: the project's own OpenAPI 3.1 YAML contracts
and Amazon's official Swagger 2.0 JSON models, as they are published.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from mockserver.contracts import model as model_module
from mockserver.contracts.model import (
    BODY_PARAMETER,
    Api,
    Operation,
    Parameter,
    RequestBody,
    Response,
    StaticCase,
    api_id_for_path,
)

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# Keywords that carry facts a validator or a diff cares about; documentation keys are dropped on load.
_SCHEMA_KEYWORDS = frozenset(
    {
        "type",
        "format",
        "enum",
        "const",
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
        "required",
        "properties",
        "additionalProperties",
        "items",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "$ref",
        "default",
        "readOnly",
        "writeOnly",
    }
)
_PARAMETER_SCHEMA_KEYWORDS = _SCHEMA_KEYWORDS - {"$ref", "properties", "required", "additionalProperties"}

_USAGE_PLAN = re.compile(r"\|\s*([0-9]*\.?[0-9]+)\s*\|\s*([0-9]+)\s*\|")


class ContractError(ValueError):
    """A contract file that cannot be read as an API contract."""


def contract_files(directory: Path) -> list[Path]:
    """Every contract file below `directory`, recursively, in a stable order."""
    if directory.is_file():
        return [directory]
    files = [
        path
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.suffix.lower() in {".json", ".yaml", ".yml"}
    ]
    return [path for path in files if _looks_like_contract(path)]


def _looks_like_contract(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return False
    return bool(re.search(r"""["']?(swagger|openapi)["']?\s*:""", head))


def load_operations(directory: Path, *, use_cache: bool = True) -> list[Operation]:
    """All operations of all contract files below `directory`.

    Parsing the YAML is most of the emulator's start-up, so the parsed model is cached on disk, keyed by
    every file's path, size and modification time (and the loader's own source): any edit invalidates it.
    """
    files = contract_files(directory)
    cache = _cache_path(files) if use_cache and files else None
    if cache is not None:
        cached = _read_cache(cache)
        if cached is not None:
            return cached
    operations: list[Operation] = []
    for path in files:
        operations.extend(load_file(path))
    if not operations:
        raise ContractError(f"no API contract (OpenAPI 3 or Swagger 2.0 file) found in {directory}")
    if cache is not None:
        _write_cache(cache, operations)
    return operations


def _cache_directory() -> Path:
    configured = os.environ.get("VENDOR_SANDBOX_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vendor-sandbox"


def _cache_path(files: list[Path]) -> Path | None:
    if os.environ.get("VENDOR_SANDBOX_CONTRACT_CACHE", "1") == "0":
        return None
    fingerprint = hashlib.sha256()
    for path in [Path(__file__), Path(model_module.__file__ or ""), *files]:
        stat = path.stat()
        fingerprint.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return _cache_directory() / f"contracts-{fingerprint.hexdigest()[:32]}.pickle"


def cached_json(path: Path, parse: Callable[[], Any]) -> Any:
    """`parse()` of a file, cached as JSON beside the parsed contracts (keyed by the file's path, size and
    modification time, as they are); a cache that cannot be read or written is parsed around."""
    cache: Path | None = None
    if os.environ.get("VENDOR_SANDBOX_CONTRACT_CACHE", "1") != "0":
        try:
            stat = path.stat()
        except OSError:
            return parse()
        key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:32]
        cache = _cache_directory() / f"file-{key}.json"
        try:
            return json.loads(cache.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    document = parse()
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(json.dumps(document), encoding="utf-8")
            partial.replace(cache)
        except (OSError, TypeError, ValueError):
            pass
    return document


def _read_cache(cache: Path) -> list[Operation] | None:
    try:
        with cache.open("rb") as handle:
            operations = pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError):
        return None
    if isinstance(operations, list) and all(isinstance(item, Operation) for item in operations):
        return operations
    return None


def _write_cache(cache: Path, operations: list[Operation]) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.partial")
        with partial.open("wb") as handle:
            pickle.dump(operations, handle, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(cache)
    except OSError:
        pass  # a read-only home still serves, only slower to start


def load_file(path: Path) -> list[Operation]:
    import yaml  # parsed contracts are cached: a start with the cache imports no YAML parser

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader, where built, starts faster
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.load(text, Loader=loader)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ContractError(f"{path}: not valid {path.suffix[1:].upper()}: {error}") from error
    if not isinstance(document, dict):
        raise ContractError(f"{path}: not an API contract")
    if str(document.get("swagger", "")).startswith("2"):
        return _load_swagger2(path, document)
    if str(document.get("openapi", "")).startswith("3"):
        return _load_openapi3(path, document)
    raise ContractError(f"{path}: neither Swagger 2.0 nor OpenAPI 3")


# --- shared helpers -------------------------------------------------------------------------------------


def _normalise_schema(schema: Any, ref_prefix: str) -> Any:
    """Keep only the keywords that carry facts, and point references at `#/$defs/`."""
    if isinstance(schema, list):
        return [_normalise_schema(item, ref_prefix) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _SCHEMA_KEYWORDS:
            continue
        if key == "$ref":
            if not value.startswith(ref_prefix):
                raise ContractError(f"unsupported reference {value!r}")
            result["$ref"] = "#/$defs/" + value[len(ref_prefix) :]
        elif key == "properties":
            result["properties"] = {name: _normalise_schema(sub, ref_prefix) for name, sub in value.items()}
        elif key in {"items", "additionalProperties", "not"} and isinstance(value, dict):
            result[key] = _normalise_schema(value, ref_prefix)
        elif key in {"allOf", "anyOf", "oneOf"}:
            result[key] = [_normalise_schema(sub, ref_prefix) for sub in value]
        else:
            result[key] = value
    return result


def usage_plan_from_description(description: str) -> tuple[float | None, int | None]:
    """Amazon states each operation's default usage plan as a Markdown table in its description."""
    if "Usage Plan" not in description and "Rate (requests per second)" not in description:
        return None, None
    match = _USAGE_PLAN.search(description)
    if not match:
        return None, None
    return float(match.group(1)), int(match.group(2))


def _iter_operations(document: dict[str, Any]) -> Iterable[tuple[str, str, dict[str, Any], list[Any]]]:
    for path, path_item in (document.get("paths") or {}).items():
        shared = path_item.get("parameters") or []
        for method, operation in path_item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                yield path, method, operation, shared


def _api(path: Path, document: dict[str, Any], official: bool, definitions: dict[str, Any]) -> Api:
    paths = list((document.get("paths") or {}).keys())
    api_id = api_id_for_path(paths[0]) if paths else path.stem
    info = document.get("info") or {}
    return Api(
        api_id=api_id,
        title=str(info.get("title", path.stem)),
        version=str(info.get("version", "")),
        source=path,
        definitions=definitions,
        official=official,
    )


# --- Swagger 2.0 (Amazon's official models) -------------------------------------------------------------


def _load_swagger2(path: Path, document: dict[str, Any]) -> list[Operation]:
    prefix = "#/definitions/"
    definitions = {
        name: _normalise_schema(schema, prefix)
        for name, schema in (document.get("definitions") or {}).items()
    }
    api = _api(path, document, official=True, definitions=definitions)
    operations = []
    for route, method, raw, shared in _iter_operations(document):
        parameters: list[Parameter] = []
        body: RequestBody | None = None
        for raw_parameter in [*shared, *(raw.get("parameters") or [])]:
            location = raw_parameter.get("in")
            if location == "body":
                body = RequestBody(
                    required=bool(raw_parameter.get("required", False)),
                    schema=_normalise_schema(raw_parameter.get("schema") or {}, prefix),
                )
                continue
            schema = {key: value for key, value in raw_parameter.items() if key in _PARAMETER_SCHEMA_KEYWORDS}
            parameters.append(
                Parameter(
                    name=raw_parameter["name"],
                    location=location,
                    required=bool(raw_parameter.get("required", location == "path")),
                    schema=_normalise_schema(schema, prefix),
                )
            )
        responses = {}
        for status, raw_response in (raw.get("responses") or {}).items():
            schema = raw_response.get("schema")
            responses[str(status)] = Response(
                status=str(status),
                schema=_normalise_schema(schema, prefix) if schema is not None else None,
                headers=tuple((raw_response.get("headers") or {}).keys()),
            )
        rate, burst = usage_plan_from_description(str(raw.get("description", "")))
        operations.append(
            Operation(
                api=api,
                operation_id=str(raw.get("operationId", f"{method}{route}")),
                method=method.upper(),
                path=route,
                parameters=tuple(parameters),
                body=body,
                responses=responses,
                rate=rate,
                burst=burst,
                sandbox_only=bool(raw.get("x-amzn-api-sandbox-only", False)),
                static_cases=tuple(_static_cases(raw)),
            )
        )
    return operations


def _static_cases(raw_operation: dict[str, Any]) -> Iterable[StaticCase]:
    order = 0
    for status, raw_response in (raw_operation.get("responses") or {}).items():
        sandbox = raw_response.get("x-amzn-api-sandbox") or {}
        for case in sandbox.get("static") or []:
            request = case.get("request") or {}
            parameters = {
                name: (spec or {}).get("value") if isinstance(spec, dict) else spec
                for name, spec in (request.get("parameters") or {}).items()
            }
            # A parameter named with no value matches any value of it (Amazon's catch-all form).
            for name, spec in (request.get("parameters") or {}).items():
                if isinstance(spec, dict) and "value" not in spec:
                    parameters[name] = _ANY
            yield StaticCase(
                status=int(status),
                parameters=parameters,
                response=case.get("response"),
                order=order,
            )
            order += 1


class _AnyValue:
    """The one catch-all marker; it survives the contract cache's pickling as the same object."""

    def __repr__(self) -> str:
        return "<any>"

    def __reduce__(self) -> str:
        return "ANY_VALUE"


_ANY = _AnyValue()
ANY_VALUE = _ANY


# --- OpenAPI 3.x (the project's own contracts) ----------------------------------------------------------


def _load_openapi3(path: Path, document: dict[str, Any]) -> list[Operation]:
    prefix = "#/components/schemas/"
    components = document.get("components") or {}
    definitions = {
        name: _normalise_schema(schema, prefix) for name, schema in (components.get("schemas") or {}).items()
    }
    api = _api(path, document, official=False, definitions=definitions)
    operations = []
    for route, method, raw, shared in _iter_operations(document):
        parameters = []
        for raw_parameter in [*shared, *(raw.get("parameters") or [])]:
            location = raw_parameter.get("in")
            parameters.append(
                Parameter(
                    name=raw_parameter["name"],
                    location=location,
                    required=bool(raw_parameter.get("required", location == "path")),
                    schema=_normalise_schema(raw_parameter.get("schema") or {}, prefix),
                )
            )
        body = None
        if raw.get("requestBody"):
            request_body = raw["requestBody"]
            content = request_body.get("content") or {}
            media: dict[str, Any] = content.get("application/json") or next(iter(content.values()), {})
            body = RequestBody(
                required=bool(request_body.get("required", False)),
                schema=_normalise_schema(media.get("schema") or {}, prefix),
            )
        responses = {}
        for status, raw_response in (raw.get("responses") or {}).items():
            content = raw_response.get("content") or {}
            response_media = content.get("application/json") or next(iter(content.values()), None)
            schema = response_media.get("schema") if isinstance(response_media, dict) else None
            responses[str(status)] = Response(
                status=str(status),
                schema=_normalise_schema(schema, prefix) if schema is not None else None,
                headers=tuple((raw_response.get("headers") or {}).keys()),
            )
        rate_limit = raw.get("x-rate-limit") or {}
        operations.append(
            Operation(
                api=api,
                operation_id=str(raw.get("operationId", f"{method}{route}")),
                method=method.upper(),
                path=route,
                parameters=tuple(parameters),
                body=body,
                responses=responses,
                rate=float(rate_limit["rate"]) if "rate" in rate_limit else None,
                burst=int(rate_limit["burst"]) if "burst" in rate_limit else None,
                sandbox_only=bool(raw.get("x-sandbox-only", False)),
            )
        )
    return operations


__all__ = [
    "ANY_VALUE",
    "BODY_PARAMETER",
    "ContractError",
    "contract_files",
    "load_file",
    "load_operations",
    "usage_plan_from_description",
]
