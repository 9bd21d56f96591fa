"""The one internal model of an API contract, whatever file format it was read from.

Schemas are JSON Schema 2020-12 fragments whose references point at `#/$defs/Name`; the definitions they
refer to live on the operation's `Api`. Nothing downstream of the loader reads a contract file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSON = Any
BODY_PARAMETER = "body"

_VERSION_SEGMENT = re.compile(r"^(v\d+|\d{4}-\d{2}-\d{2})$")


def api_id_for_path(path: str) -> str:
    """The API an operation belongs to, from its path: everything up to the version segment.

    `/vendor/directFulfillment/orders/2021-12-28/purchaseOrders`
    -> `vendor/directFulfillment/orders/2021-12-28`.
    Both Amazon's models and ours agree on paths, so this names an API the same way in both.
    """
    segments = [s for s in path.split("/") if s]
    for index, segment in enumerate(segments):
        if _VERSION_SEGMENT.match(segment):
            return "/".join(segments[: index + 1])
    return "/".join(segments[:2])


@dataclass(frozen=True, slots=True)
class Parameter:
    """A path, query or header parameter of an operation, with its schema."""

    name: str
    location: str  # "path" | "query" | "header"
    required: bool
    schema: dict[str, JSON]


@dataclass(frozen=True, slots=True)
class RequestBody:
    """An operation's JSON request body: its schema and whether it is required."""

    required: bool
    schema: dict[str, JSON]


@dataclass(frozen=True, slots=True)
class StaticCase:
    """One `x-amzn-api-sandbox` static case of an official model: a request pattern and its answer."""

    status: int
    parameters: dict[str, JSON]  # parameter name (or "body") -> expected value
    response: JSON
    order: int  # position in the model, for reporting


@dataclass(frozen=True, slots=True)
class Response:
    """One response an operation documents: its status, body schema (None: no body) and header names."""

    status: str
    schema: dict[str, JSON] | None
    headers: tuple[str, ...]


@dataclass(slots=True)
class Api:
    """One API version's contract: its id, title, source file and schema definitions; `official`: Amazon's."""

    api_id: str
    title: str
    version: str
    source: Path
    definitions: dict[str, JSON] = field(default_factory=dict)
    official: bool = False


@dataclass(slots=True)
class Operation:
    """One operation of an API: its method and path, parameters, body, responses and usage plan."""

    api: Api
    operation_id: str
    method: str  # upper case
    path: str
    parameters: tuple[Parameter, ...]
    body: RequestBody | None
    responses: dict[str, Response]
    rate: float | None
    burst: int | None
    sandbox_only: bool = False
    static_cases: tuple[StaticCase, ...] = ()

    @property
    def name(self) -> str:
        """Unique across all APIs (operationIds repeat between API versions)."""
        return f"{self.api.api_id}#{self.operation_id}"

    @property
    def success_status(self) -> str:
        for status in sorted(self.responses):
            if status.startswith("2"):
                return status
        return "200"

    def parameter(self, name: str) -> Parameter | None:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        return None

    def schema_document(self, schema: dict[str, JSON]) -> dict[str, JSON]:
        """A self-contained JSON Schema: the fragment plus the definitions it may reference."""
        return {**schema, "$defs": self.api.definitions}
