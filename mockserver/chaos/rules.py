"""Fault rules: which exchanges a rule matches, and on which of its matching calls it fires.

A rule matches when every criterion it names holds (`operation`, `api`, `method`, `path`, `account`,
`application`, `header`); criteria it does not name match anything. `api` is a glob over API ids such as
`vendor/directFulfillment/orders/v1` (`vendor/directFulfillment/*/v1`: every Direct Fulfillment v1 API).
Each matching call is counted (1, 2, ...) and the rule fires when every firing condition it names holds:

- `nth: N` (or a list of N): on the N-th matching call;
- `first: K`: on the first K matching calls;
- `window: {start, end}`: from `start` to `end` seconds after the rule was armed (added, loaded or reset);
- `probability: P`: with probability P, drawn from a random source seeded from `--seed`, the rule's id and
  the call's number (so the decisions depend on nothing but the call's number, whichever process of a
  shared emulator counts the call);
- `times: M`: at most M times in all.

A rule with no firing condition fires on every matching call. The first rule that fires is applied, except
that standing rules (drift, retirement: `actions.STANDING_ACTIONS`) all apply when they fire, beside it.
Nothing here imports Flask.

The rules and their counters live in the runtime (`store/runtime.py`): in memory for a lone process, shared
by every process of `--workers` or of the Redis store, which count one rule's calls together.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.chaos.actions import STANDING_ACTIONS, ActionError, FaultEffect, build_effect, check_action
from mockserver.ids import unique_id
from mockserver.store.runtime import LocalRuntime, Runtime

RULES_VALUE = "chaos.rules"
COUNTERS = "chaos:"

RULE_FIELDS = frozenset(
    {
        "id",
        "description",
        "action",
        "params",
        "operation",
        "api",
        "method",
        "path",
        "account",
        "application",
        "header",
        "endpoint",
        "nth",
        "first",
        "window",
        "probability",
        "times",
    }
)
ENDPOINTS = ("sp-api", "lwa")


class RuleError(ValueError):
    """A rule that cannot be used; the message says which field and why."""


@dataclass(frozen=True)
class FaultContext:
    """What a rule may look at: the exchange, before it is answered."""

    endpoint: str  # "sp-api" | "lwa"
    method: str
    path: str
    headers: Mapping[str, str]  # names lower-cased
    operation_names: tuple[str, ...] = ()  # the operation's name and operationId
    api_names: tuple[str, ...] = ()  # the operation's API id, e.g. vendor/orders/v1
    account_names: tuple[str, ...] = ()  # account name and selling partner id
    application_names: tuple[str, ...] = ()  # application name, client id and application id


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise RuleError(f"{name} must be a string or a list of strings")


def _seed_for(seed: int, rule_id: str) -> int:
    digest = hashlib.sha256(f"{seed}:{rule_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass
class FaultRule:
    """One fault rule: which exchanges it matches, when it fires, the action it takes, and its counters."""

    id: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    endpoint: str = "sp-api"
    operation: tuple[str, ...] = ()
    api: tuple[str, ...] = ()  # glob patterns over API ids
    method: tuple[str, ...] = ()
    path: tuple[str, ...] = ()  # glob patterns (fnmatch)
    account: tuple[str, ...] = ()
    application: tuple[str, ...] = ()
    header: dict[str, str] = field(default_factory=dict)  # name -> value; "*" means present
    nth: tuple[int, ...] = ()
    first: int | None = None
    window: tuple[float, float] | None = None
    probability: float | None = None
    times: int | None = None
    # State: the counters are the runtime's (`matched`, `fired` are what this process saw last)
    matched: int = 0
    fired: int = 0
    armed_at: float = 0.0
    epoch: str = ""  # a new one each time the rule is armed: its counters start again from zero
    _seed: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], rule_id: str) -> FaultRule:
        if not isinstance(data, Mapping):
            raise RuleError("a rule must be a mapping")
        unknown = set(data) - RULE_FIELDS
        if unknown:
            raise RuleError(f"unknown rule field(s): {', '.join(sorted(map(str, unknown)))}")
        action = data.get("action")
        if not isinstance(action, str) or not action:
            raise RuleError("a rule needs an `action`")
        params = data.get("params") or {}
        if not isinstance(params, Mapping):
            raise RuleError("params must be a mapping")
        try:
            check_action(action, params)
        except ActionError as error:
            raise RuleError(str(error)) from error
        endpoint = str(data.get("endpoint") or ("lwa" if action == "lwa_error" else "sp-api"))
        if endpoint not in ENDPOINTS:
            raise RuleError(f"endpoint must be one of {', '.join(ENDPOINTS)}")
        if endpoint == "lwa" and action in STANDING_ACTIONS:
            raise RuleError(
                f"{action} changes SP-API operations' answers; it cannot apply to the LWA endpoint"
            )
        header = data.get("header") or {}
        if not isinstance(header, Mapping):
            raise RuleError("header must be a mapping of header name to value")
        nth_value = data.get("nth")
        if nth_value is not None and not isinstance(nth_value, int | list | tuple):
            raise RuleError("nth must be a positive integer or a list of them")
        nth = (nth_value,) if isinstance(nth_value, int) else tuple(nth_value or ())
        if any(isinstance(item, bool) or not isinstance(item, int) or item < 1 for item in nth):
            raise RuleError("nth must be a positive integer or a list of them")
        first = data.get("first")
        if first is not None and (isinstance(first, bool) or not isinstance(first, int) or first < 0):
            raise RuleError("first must be a non-negative integer")
        times = data.get("times")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
            raise RuleError("times must be a non-negative integer")
        probability = data.get("probability")
        if probability is not None:
            if isinstance(probability, bool) or not isinstance(probability, int | float):
                raise RuleError("probability must be a number")
            probability = float(probability)
            if not 0.0 <= probability <= 1.0:
                raise RuleError("probability must be between 0 and 1")
        window = _window(data.get("window"))
        return cls(
            id=rule_id,
            action=action,
            params=dict(params),
            description=str(data.get("description", "")),
            endpoint=endpoint,
            operation=_strings(data.get("operation"), "operation"),
            api=_strings(data.get("api"), "api"),
            method=tuple(item.upper() for item in _strings(data.get("method"), "method")),
            path=_strings(data.get("path"), "path"),
            account=_strings(data.get("account"), "account"),
            application=_strings(data.get("application"), "application"),
            header={str(name).lower(): str(value) for name, value in header.items()},
            nth=nth,
            first=first,
            window=window,
            probability=probability,
            times=times,
        )

    def arm(self, seed: int, now: float) -> None:
        """Start afresh: counters at zero, window from now, random source from the seed."""
        self.matched = 0
        self.fired = 0
        self.armed_at = now
        self._seed = seed
        self.epoch = unique_id()

    def counter(self, name: str) -> str:
        return f"{COUNTERS}{self.epoch}:{name}"

    def source(self, number: int) -> random.Random:
        """The random source of the rule's `number`-th matching call."""
        return random.Random(f"{_seed_for(self._seed, self.id)}:{number}")

    def matches(self, context: FaultContext) -> bool:
        if context.endpoint != self.endpoint:
            return False
        if self.operation and not set(self.operation) & set(context.operation_names):
            return False
        if self.api and not any(
            fnmatch.fnmatchcase(name, pattern) for pattern in self.api for name in context.api_names
        ):
            return False
        if self.method and context.method.upper() not in self.method:
            return False
        if self.path and not any(fnmatch.fnmatchcase(context.path, pattern) for pattern in self.path):
            return False
        if self.account and not set(self.account) & set(context.account_names):
            return False
        if self.application and not set(self.application) & set(context.application_names):
            return False
        for name, expected in self.header.items():
            actual = context.headers.get(name)
            if actual is None or (expected != "*" and actual != expected):
                return False
        return True

    def decide(self, now: float, runtime: Runtime) -> random.Random | None:
        """Count one matching call and say whether the rule fires on it: the call's random source when it
        does (the effect draws from it), None when it does not."""
        number = int(runtime.add(self.counter("matched")) or 0)
        self.matched = number
        source = self.source(number)
        draw = source.random() if self.probability is not None else 0.0
        fires = (
            (not self.nth or number in self.nth)
            and (self.first is None or number <= self.first)
            and (self.window is None or self.window[0] <= now - self.armed_at < self.window[1])
            and (self.probability is None or draw < self.probability)
        )
        if not fires:
            return None
        fired = runtime.add(self.counter("fired"), below=self.times)
        if fired is None:
            return None
        self.fired = fired
        return source

    def effect(self, source: random.Random) -> FaultEffect:
        return build_effect(self.action, self.params, source)

    def spec(self) -> dict[str, Any]:
        """What the rule was made from (as `from_dict` reads it)."""
        data = self.to_dict()
        data.pop("matched")
        data.pop("fired")
        return data

    @property
    def standing(self) -> bool:
        return self.action in STANDING_ACTIONS

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "action": self.action, "endpoint": self.endpoint}
        if self.params:
            data["params"] = self.params
        if self.description:
            data["description"] = self.description
        for name in ("operation", "api", "method", "path", "account", "application", "nth"):
            value = getattr(self, name)
            if value:
                data[name] = list(value)
        if self.header:
            data["header"] = dict(self.header)
        for name in ("first", "probability", "times"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.window is not None:
            data["window"] = {"start": self.window[0], "end": self.window[1]}
        data["matched"] = self.matched
        data["fired"] = self.fired
        return data


def _window(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        start, end = value.get("start", 0.0), value.get("end", float("inf"))
    elif isinstance(value, list | tuple) and len(value) == 2:
        start, end = value
    else:
        raise RuleError("window must be {start, end} (seconds after the rule is armed)")
    try:
        low, high = float(start), float(end)
    except (TypeError, ValueError) as error:
        raise RuleError("window start and end must be numbers") from error
    if math.isnan(low) or math.isnan(high) or low < 0 or high < low:
        raise RuleError("window needs 0 <= start <= end")
    return (low, high)


class RuleSet:
    """The rules in force, in order; the first rule that fires on an exchange is applied."""

    def __init__(
        self, seed: int = 1, clock: Callable[[], float] = time.monotonic, runtime: Runtime | None = None
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.runtime: Runtime = runtime if runtime is not None else LocalRuntime()
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        if self.runtime.shared:
            self.reload()

    def _new_id(self) -> str:
        taken = {rule.id for rule in self._rules}
        number = len(self._rules)
        while True:
            number += 1
            if f"rule-{number}" not in taken:
                return f"rule-{number}"

    def _save(self) -> None:
        """The rules as every process of a shared emulator reads them (call with the lock held)."""
        if self.runtime.shared:
            self.runtime.set_value(
                RULES_VALUE,
                [
                    {"spec": rule.spec(), "armed_at": rule.armed_at, "epoch": rule.epoch}
                    for rule in self._rules
                ],
            )
            self.runtime.bump()

    def reload(self) -> None:
        """Read the rules another process may have changed."""
        saved = self.runtime.get_value(RULES_VALUE) or []
        rules = []
        for item in saved:
            rule = FaultRule.from_dict(item["spec"], str(item["spec"]["id"]))
            rule._seed = self.seed
            rule.armed_at = float(item["armed_at"])
            rule.epoch = str(item["epoch"])
            rules.append(rule)
        with self._lock:
            self._rules = rules

    def add(self, data: Mapping[str, Any]) -> FaultRule:
        with self._lock:
            rule = self._add(data)
            self._save()
            return rule

    def _add(self, data: Mapping[str, Any]) -> FaultRule:
        rule_id = data.get("id") if isinstance(data, Mapping) else None
        if rule_id is not None and not isinstance(rule_id, str | int):
            raise RuleError("id must be a string")
        rule_id = str(rule_id) if rule_id is not None else self._new_id()
        if any(rule.id == rule_id for rule in self._rules):
            raise RuleError(f"a rule with id {rule_id!r} exists already")
        rule = FaultRule.from_dict(data, rule_id)
        rule.arm(self.seed, self.clock())
        self._rules.append(rule)
        return rule

    def add_all(self, rules: Iterable[Mapping[str, Any]]) -> list[FaultRule]:
        """All or nothing: a plan with one bad rule adds none."""
        with self._lock:
            before = list(self._rules)
            added: list[FaultRule] = []
            for index, data in enumerate(rules):
                try:
                    added.append(self._add(data))
                except RuleError as error:
                    self._rules = before
                    raise RuleError(f"rule {index + 1}: {error}") from error
            self._save()
            return added

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            removed = len(kept) != len(self._rules)
            self._rules = kept
            if removed:
                self._save()
            return removed

    def clear(self) -> None:
        with self._lock:
            self._rules = []
            self._save()
        self.runtime.clear_counters(COUNTERS)

    def rearm(self) -> None:
        with self._lock:
            now = self.clock()
            for rule in self._rules:
                rule.arm(self.seed, now)
            self._save()
        self.runtime.clear_counters(COUNTERS)

    @property
    def count(self) -> int:
        return len(self._rules)

    def rules(self) -> list[FaultRule]:
        with self._lock:
            rules = list(self._rules)
        if self.runtime.shared:  # counted by every process: read the counters, not this process's view
            for rule in rules:
                rule.matched = self.runtime.counter(rule.counter("matched"))
                rule.fired = self.runtime.counter(rule.counter("fired"))
        return rules

    def evaluate(self, context: FaultContext) -> tuple[FaultRule, FaultEffect] | None:
        """Count the exchange for every matching rule; the first that fires gives the effect."""
        return self.evaluate_all(context)[0]

    def evaluate_all(
        self, context: FaultContext, standing_only: bool = False
    ) -> tuple[tuple[FaultRule, FaultEffect] | None, list[tuple[FaultRule, FaultEffect]]]:
        """Count the exchange for every matching rule: the first other rule that fires with its effect, and
        every standing rule that fires with its own (`standing_only`: only standing rules are consulted)."""
        with self._lock:
            rules = list(self._rules)
        now = self.clock()
        chosen: tuple[FaultRule, random.Random] | None = None
        standing: list[tuple[FaultRule, FaultEffect]] = []
        for rule in rules:
            if standing_only and not rule.standing:
                continue
            if not rule.matches(context):
                continue
            source = rule.decide(now, self.runtime)
            if source is None:
                continue
            if rule.standing:
                standing.append((rule, rule.effect(source)))
            elif chosen is None:
                chosen = (rule, source)
        return ((chosen[0], chosen[0].effect(chosen[1])) if chosen is not None else None), standing


__all__ = ["FaultContext", "FaultRule", "RuleError", "RuleSet"]
