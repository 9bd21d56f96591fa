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
    """An operation's path template, prepared for matching request paths."""

    operation: Operation
    # Segment by segment: the literal text, or None for a whole-segment {parameter} (any non-empty text);
    # a template with a parameter inside a segment ("{id}.json") is matched by `pattern` instead.
    segments: tuple[str | None, ...] | None
    names: tuple[str, ...]  # the parameters, in path order
    pattern: re.Pattern[str] | None
    literal_segments: int
    segment_count: int


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """The operation a method and path route to, with the values of its path parameters."""

    operation: Operation
    path_parameters: dict[str, str]


@dataclass(frozen=True, slots=True)
class PathMatch:
    """A path that exists, with the methods it allows (for Amazon's answer to a wrong method)."""

    allowed_methods: tuple[str, ...]


_WHOLE_PARAMETER = re.compile(r"^\{([^}]+)\}$")


def _route(operation: Operation) -> Route:
    """Whole-segment templates (every path of Amazon's Vendor APIs) are matched segment by segment, which
    costs neither a regular expression compiled at start-up nor one run per request."""
    template = operation.path
    segments = [segment for segment in template.split("/") if segment]
    names = tuple(re.findall(r"\{([^}]+)\}", template))
    literal = sum(1 for segment in segments if "{" not in segment)
    if all("{" not in segment or _WHOLE_PARAMETER.match(segment) for segment in segments):
        plain = tuple(None if "{" in segment else segment for segment in segments)
        return Route(operation, plain, names, None, literal, len(segments))
    pattern, literal, count = _compile(template)
    return Route(operation, None, names, pattern, literal, count)


def _path_segments(path: str) -> list[str] | None:
    """The segments of a request path as the templates' patterns read it ("^/a/b/?$"): one trailing slash
    allowed; None for a path that cannot match any template."""
    if not path.startswith("/"):
        return None
    parts = path[1:].split("/")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return parts


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
        routes = [_route(operation) for operation in operations]
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
        parts = _path_segments(path)
        segment_count = len([segment for segment in path.split("/") if segment])
        allowed: list[str] = []
        for route in self._routes_by_length.get(segment_count, ()):
            values: list[str] | None
            if route.segments is not None:
                if parts is None or len(parts) != len(route.segments):
                    continue
                values = []
                for part, literal in zip(parts, route.segments, strict=True):
                    if literal is None:
                        if not part:
                            values = None
                            break
                        values.append(part)
                    elif part != literal:
                        values = None
                        break
                if values is None:
                    continue
            else:
                assert route.pattern is not None
                found = route.pattern.match(path)
                if not found:
                    continue
                groups = found.groupdict()
                values = [groups[_group(name)] for name in route.names]
            if route.operation.method == method:
                return RouteMatch(route.operation, dict(zip(route.names, values, strict=True)))
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
