"""The operation registry: built once at start, it routes a method and path to an `Operation`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mockserver.contracts.loader import load_operations
from mockserver.contracts.model import Operation
from mockserver.resources import shipped_data_or_expected

DEFAULT_CONTRACTS = shipped_data_or_expected("contracts")


@dataclass(frozen=True, slots=True)
class Route:
    operation: Operation
    pattern: re.Pattern[str]
    literal_segments: int
    segment_count: int


@dataclass(frozen=True, slots=True)
class RouteMatch:
    operation: Operation
    path_parameters: dict[str, str]


@dataclass(frozen=True, slots=True)
class PathMatch:
    """A path that exists, with the methods it allows (for Amazon's answer to a wrong method)."""

    allowed_methods: tuple[str, ...]


def _compile(template: str) -> tuple[re.Pattern[str], int, int]:
    segments = [segment for segment in template.split("/") if segment]
    parts = []
    literal = 0
    for segment in segments:
        names = re.findall(r"\{([^}]+)\}", segment)
        if not names:
            literal += 1
            parts.append(re.escape(segment))
            continue
        pattern = re.escape(segment)
        for name in names:
            pattern = pattern.replace(re.escape("{" + name + "}"), f"(?P<{_group(name)}>[^/]+)")
        parts.append(pattern)
    return re.compile("^/" + "/".join(parts) + "/?$"), literal, len(segments)


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)


class OperationRegistry:
    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations
        routes = []
        for operation in operations:
            pattern, literal, count = _compile(operation.path)
            routes.append(Route(operation, pattern, literal, count))
        # A literal segment beats a template at the same place: most literal routes are tried first.
        routes.sort(key=lambda route: (-route.literal_segments, route.operation.path))
        self._routes_by_length: dict[int, list[Route]] = {}
        for route in routes:
            self._routes_by_length.setdefault(route.segment_count, []).append(route)
        self.by_name = {operation.name: operation for operation in operations}

    @classmethod
    def from_directory(cls, directory: Path | None = None) -> OperationRegistry:
        return cls(load_operations(directory or DEFAULT_CONTRACTS))

    def match(self, method: str, path: str) -> RouteMatch | PathMatch | None:
        segment_count = len([segment for segment in path.split("/") if segment])
        allowed: list[str] = []
        for route in self._routes_by_length.get(segment_count, ()):
            found = route.pattern.match(path)
            if not found:
                continue
            if route.operation.method == method:
                names = {_group(name): name for name in re.findall(r"\{([^}]+)\}", route.operation.path)}
                return RouteMatch(
                    route.operation, {names[key]: value for key, value in found.groupdict().items()}
                )
            allowed.append(route.operation.method)
        if allowed:
            return PathMatch(tuple(sorted(set(allowed))))
        return None

    def find(self, operation_id: str, api_version: str | None = None) -> Operation:
        """Look an operation up by operationId (and API version where the id repeats)."""
        candidates = [
            operation
            for operation in self.operations
            if operation.operation_id == operation_id
            and (api_version is None or operation.api.version == api_version)
        ]
        if not candidates:
            raise KeyError(operation_id)
        return candidates[0]
