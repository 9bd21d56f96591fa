"""The chaos engine: the rules in force, the throttle storms under way and the tokens a fault has expired.

`decide(context, token)` says what happens to one exchange, in this order: a token expired by an earlier fault
stays expired; the per-request header `x-vendor-sandbox-fault`; the rules, first firing one wins; then an
operation under a throttle storm is metered at the storm's rate. Standing rules (drift, retirement) that fire
all ride along in `Decision.standing`, whatever else was decided (with the header, only standing rules are
consulted). Nothing here imports Flask.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockserver.chaos.actions import ActionError, FaultEffect, Storm, build_effect, sp_api_error
from mockserver.chaos.plan import FAULT_HEADER, FaultPlan, PlanError, parse_fault_header
from mockserver.chaos.rules import FaultContext, RuleError, RuleSet

QUOTA_EXCEEDED_MESSAGE = "You exceeded your quota for the requested resource."


@dataclass
class Decision:
    """What the engine decided for one exchange; `effect` None means: answer normally."""

    effect: FaultEffect | None
    source: str  # "rule" | "header" | "expired-token" | "storm"
    rule_id: str | None = None
    storm_rate: float | None = None  # the usage plan advertised while a storm lasts
    storm_burst: int | None = None
    # Standing effects (drift, retirement) that apply besides: (rule id or None for the header, effect)
    standing: list[tuple[str | None, FaultEffect]] = field(default_factory=list)

    def mark(self) -> dict[str, Any]:
        """The journal's record of the fault."""
        data: dict[str, Any] = {"source": self.source}
        if self.rule_id is not None:
            data["rule"] = self.rule_id
        if self.effect is not None:
            data.update(self.effect.describe())
        if self.storm_rate is not None:
            data["storm_rate"] = self.storm_rate
        return data


@dataclass
class _StormBucket:
    tokens: float
    updated: float


@dataclass
class _StormState:
    storm: Storm
    until: float
    buckets: dict[tuple[str, str], _StormBucket] = field(default_factory=dict)


def token_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class ChaosEngine:
    def __init__(self, seed: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.seed = seed
        self.clock = clock
        self.rules = RuleSet(seed, clock)
        self.policy: dict[str, Any] = {}
        self._storms: dict[str, _StormState] = {}
        self._dead_tokens: set[str] = set()
        self._header_rng = random.Random(seed)
        self._lock = threading.Lock()

    # -- configuration -----------------------------------------------------------------------------------

    def load(self, plan: FaultPlan) -> None:
        try:
            self.rules.add_all(plan.rules)
        except RuleError as error:
            raise PlanError(f"fault plan: {error}") from error
        if plan.policy:
            self.policy = dict(plan.policy)

    def reset(self) -> None:
        """Rules re-armed (counters, windows, random sources from the start); storms and dead tokens gone."""
        self.rules.rearm()
        with self._lock:
            self._storms.clear()
            self._dead_tokens.clear()
            self._header_rng = random.Random(self.seed)

    def clear(self) -> None:
        self.rules.clear()
        with self._lock:
            self._storms.clear()
            self._dead_tokens.clear()

    def storms(self) -> list[dict[str, Any]]:
        now = self.clock()
        with self._lock:
            return [
                {
                    "operation": operation,
                    "rate": state.storm.rate,
                    "burst": state.storm.burst,
                    "remaining_seconds": round(state.until - now, 3),
                }
                for operation, state in self._storms.items()
                if state.until > now
            ]

    # -- deciding ----------------------------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """No rule, storm or expired token: only the per-request header can inject a fault."""
        return not (self.rules.count or self._storms or self._dead_tokens)

    def decide(self, context: FaultContext, token: str | None = None) -> Decision | None:
        if token and self._is_dead(token):
            effect = build_effect("expired_token", {}, self._header_rng)
            return Decision(effect, "expired-token")
        fired, standing = self._decide_rules(context)
        decision = self._transient(context, token, fired)
        if standing:
            decision = decision or Decision(None, "rule")
            decision.standing = standing
        return decision

    def _transient(self, context: FaultContext, token: str | None, fired: Decision | None) -> Decision | None:
        operation = context.operation_names[0] if context.operation_names else None
        if fired is not None and fired.effect is not None:
            effect = fired.effect
            if effect.expire_token and token:
                self._kill(token)
            if effect.storm is not None and operation is not None:
                self._start_storm(operation, effect.storm)
                return self._storm_meter(context, operation, fired)
            return fired
        if operation is not None:
            return self._storm_meter(context, operation, None)
        return None

    def _decide_rules(
        self, context: FaultContext
    ) -> tuple[Decision | None, list[tuple[str | None, FaultEffect]]]:
        """The header's or the first firing rule's fault, and the standing effects that fire beside it."""
        header = context.headers.get(FAULT_HEADER)
        if header is not None:
            try:
                action, params = parse_fault_header(header)
                with self._lock:
                    effect = build_effect(action, params, self._header_rng)
            except (RuleError, ActionError) as error:
                raise RuleError(str(error)) from error
            _, rules = self.rules.evaluate_all(context, standing_only=True)
            standing: list[tuple[str | None, FaultEffect]] = [(rule.id, item) for rule, item in rules]
            if effect.standing:
                return None, [(None, effect), *standing]
            return Decision(effect, "header"), standing
        chosen, rules = self.rules.evaluate_all(context)
        standing = [(rule.id, item) for rule, item in rules]
        return (Decision(chosen[1], "rule", chosen[0].id) if chosen is not None else None), standing

    def _is_dead(self, token: str) -> bool:
        with self._lock:
            return token_fingerprint(token) in self._dead_tokens

    def _kill(self, token: str) -> None:
        with self._lock:
            self._dead_tokens.add(token_fingerprint(token))

    def _start_storm(self, operation: str, storm: Storm) -> None:
        with self._lock:
            self._storms[operation] = _StormState(storm, self.clock() + storm.seconds)

    def _storm_meter(self, context: FaultContext, operation: str, fired: Decision | None) -> Decision | None:
        """Under a storm, the operation is metered at the storm's rate; the bucket starts empty."""
        now = self.clock()
        with self._lock:
            state = self._storms.get(operation)
            if state is None:
                return fired
            if state.until <= now:
                del self._storms[operation]
                return fired
            storm = state.storm
            key = (
                context.account_names[0] if context.account_names else "",
                context.application_names[0] if context.application_names else "",
            )
            bucket = state.buckets.get(key)
            if bucket is None:
                bucket = state.buckets[key] = _StormBucket(0.0, now)
            else:
                bucket.tokens = min(float(storm.burst), bucket.tokens + (now - bucket.updated) * storm.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return Decision(None, "storm", fired.rule_id if fired else None, storm.rate, storm.burst)
        effect = FaultEffect(
            "throttle_storm", error=sp_api_error(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE), storm=storm
        )
        return Decision(effect, "storm", fired.rule_id if fired else None, storm.rate, storm.burst)


__all__ = ["ChaosEngine", "Decision", "token_fingerprint"]
