"""Fault plans: a YAML or JSON document of rules (and, optionally, the retry policy to judge clients by).

```yaml
rules:
  - id: storm
    operation: getPurchaseOrders
    nth: 1
    action: throttle_storm
    params: {rate: 0.5, burst: 1, seconds: 3}
  - operation: submitAcknowledgement
    first: 2
    action: service_unavailable
policy:
  max_attempts: 5
  min_backoff: 0.1
```

A bare list is read as the rules. The per-request header `x-vendor-sandbox-fault` takes one action:
`quota_exceeded`, `latency seconds=0.2`, `drop after_handle=true`, or a JSON object
`{"action": "latency", "seconds": 0.2}`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mockserver import wire
from mockserver.chaos.rules import RuleError

FAULT_HEADER = "x-vendor-sandbox-fault"


class PlanError(ValueError):
    """A plan file that cannot be read or used."""


@dataclass
class FaultPlan:
    """A fault plan as read: its rules (plain mappings, checked when loaded) and the retry policy, if any."""

    rules: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)


def parse_plan(document: Any) -> FaultPlan:
    if document is None:
        return FaultPlan()
    if isinstance(document, list):
        document = {"rules": document}
    if not isinstance(document, Mapping):
        raise PlanError("a fault plan is a mapping with `rules` (and `policy`), or a list of rules")
    unknown = set(document) - {"rules", "policy"}
    if unknown:
        raise PlanError(f"unknown plan field(s): {', '.join(sorted(map(str, unknown)))}")
    rules = document.get("rules") or []
    policy = document.get("policy") or {}
    if not isinstance(rules, list) or not all(isinstance(rule, Mapping) for rule in rules):
        raise PlanError("`rules` must be a list of mappings")
    if not isinstance(policy, Mapping):
        raise PlanError("`policy` must be a mapping")
    return FaultPlan([_plain(dict(rule)) for rule in rules], dict(policy))


def _plain(value: Any) -> Any:
    """YAML reads `2027-06-30` as a date: plans keep ISO 8601 text, as JSON plans and the admin API do."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


PLAN_SUFFIXES = (".yaml", ".yml", ".json")


def resolve_plan(path: Path | str, plans_dir: Path) -> Path:
    """A plan file, or the name of a plan shipped in `plans_dir` (`drift` is fixtures/plans/drift.yaml)."""
    path = Path(path)
    if path.exists() or path.suffix or len(path.parts) != 1:
        return path
    for suffix in PLAN_SUFFIXES:
        shipped = plans_dir / f"{path.name}{suffix}"
        if shipped.is_file():
            return shipped
    known = sorted(item.stem for item in plans_dir.glob("*") if item.suffix in PLAN_SUFFIXES)
    raise PlanError(
        f"no fault plan {str(path)!r}: not a file, nor a plan shipped with vendor-sandbox"
        + (f" ({', '.join(known)})" if known else "")
    )


def load_plan(path: Path) -> FaultPlan:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PlanError(f"cannot read fault plan {path}: {error}") from error
    import yaml  # only for a plan file: the emulator starts without it

    try:
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise PlanError(f"fault plan {path} is not valid {path.suffix or 'YAML'}: {error}") from error
    return parse_plan(document)


def _scalar(text: str) -> Any:
    try:
        return wire.loads_input(text)
    except wire.InvalidJson:
        return text


def parse_fault_header(value: str) -> tuple[str, dict[str, Any]]:
    """`action key=value ...` or a JSON object with `action`: the action name and its parameters."""
    value = value.strip()
    if not value:
        raise RuleError(f"{FAULT_HEADER} is empty")
    if value.startswith("{"):
        try:
            document = wire.loads_input(value)
        except wire.InvalidJson as error:
            raise RuleError(f"{FAULT_HEADER} is not usable JSON: {error}") from error
        if not isinstance(document, dict) or not isinstance(document.get("action"), str):
            raise RuleError(f"{FAULT_HEADER} JSON needs an `action`")
        action = document.pop("action")
        return action, dict(document.pop("params", None) or document)
    action, *pairs = value.replace(";", " ").split()
    params: dict[str, Any] = {}
    for pair in pairs:
        name, separator, raw = pair.partition("=")
        if not separator or not name:
            raise RuleError(f"{FAULT_HEADER}: expected name=value, got {pair!r}")
        params[name] = _scalar(raw)
    return action, params


__all__ = [
    "FAULT_HEADER",
    "FaultPlan",
    "PlanError",
    "load_plan",
    "parse_fault_header",
    "parse_plan",
    "resolve_plan",
]
