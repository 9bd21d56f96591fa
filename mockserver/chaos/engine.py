"""The chaos engine: the rules in force, the throttle storms under way and the tokens a fault has expired.

`decide(context, token)` says what happens to one exchange, in this order: a token expired by an earlier fault
stays expired; the per-request header `x-vendor-sandbox-fault`; the rules, first firing one wins; then an
operation under a throttle storm is metered at the storm's rate. Standing rules (drift, retirement) that fire
all ride along in `Decision.standing`, whatever else was decided (with the header, only standing rules are
consulted). Nothing here imports Flask.

Rules, storms, dead tokens and the policy live in the runtime (`store/runtime.py`), so every process of a
shared emulator applies the same ones; each process keeps a copy, read again when the runtime's generation
changes (`reload`).
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
from mockserver.store.runtime import LocalRuntime, Runtime

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
class _StormState:
    """A throttle storm under way on one operation, and when it ends (on the engine's clock)."""

    storm: Storm
    until: float


POLICY_VALUE = "chaos.policy"
STORMS = "chaos.storm:"
DEAD_TOKENS = "chaos.dead:"
STORM_BUCKETS = "storm:"


def token_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


class ChaosEngine:
    def __init__(
        self, seed: int = 1, clock: Callable[[], float] = time.monotonic, runtime: Runtime | None = None
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.runtime: Runtime = runtime if runtime is not None else LocalRuntime()
        self.rules = RuleSet(seed, clock, self.runtime)
        self._policy: dict[str, Any] = {}
        self._storms: dict[str, _StormState] = {}
        self._dead_tokens: set[str] = set()
        self._header_rng = random.Random(seed)
        self._lock = threading.Lock()
        if self.runtime.shared:
            self.reload()

    @property
    def policy(self) -> dict[str, Any]:
        return self._policy

    @policy.setter
    def policy(self, policy: dict[str, Any]) -> None:
        self._policy = dict(policy)
        if self.runtime.shared:
            self.runtime.set_value(POLICY_VALUE, self._policy)
            self.runtime.bump()

    def reload(self) -> None:
        """Read what another process of a shared emulator may have changed."""
        self.rules.reload()
        runtime = self.runtime
        storms = {
            name[len(STORMS) :]: _StormState(
                Storm(float(value["rate"]), int(value["burst"]), float(value["seconds"])),
                float(value["until"]),
            )
            for name, value in runtime.values(STORMS).items()
        }
        dead = {name[len(DEAD_TOKENS) :] for name in runtime.values(DEAD_TOKENS)}
        with self._lock:
            self._policy = dict(runtime.get_value(POLICY_VALUE) or {})
            self._storms = storms
            self._dead_tokens = dead

    def _changed(self) -> None:
        if self.runtime.shared:
            self.runtime.bump()

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
        self._forget_storms_and_tokens()

    def clear(self) -> None:
        self.rules.clear()
        with self._lock:
            self._storms.clear()
            self._dead_tokens.clear()
        self._forget_storms_and_tokens()

    def _forget_storms_and_tokens(self) -> None:
        self.runtime.delete_values(STORMS)
        self.runtime.delete_values(DEAD_TOKENS)
        self.runtime.clear_buckets(STORM_BUCKETS)
        self._changed()

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
        fingerprint = token_fingerprint(token)
        with self._lock:
            self._dead_tokens.add(fingerprint)
        if self.runtime.shared:
            self.runtime.set_value(DEAD_TOKENS + fingerprint, True)
            self.runtime.bump()

    def _start_storm(self, operation: str, storm: Storm) -> None:
        until = self.clock() + storm.seconds
        with self._lock:
            self._storms[operation] = _StormState(storm, until)
        self.runtime.clear_buckets(f"{STORM_BUCKETS}{operation}|")
        if self.runtime.shared:
            self.runtime.set_value(
                STORMS + operation,
                {"rate": storm.rate, "burst": storm.burst, "seconds": storm.seconds, "until": until},
            )
            self.runtime.bump()

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
        bucket = (
            f"{STORM_BUCKETS}{operation}|{context.account_names[0] if context.account_names else ''}|"
            f"{context.application_names[0] if context.application_names else ''}"
        )
        if self.runtime.take(bucket, storm.rate, storm.burst, now, 0.0):
            return Decision(None, "storm", fired.rule_id if fired else None, storm.rate, storm.burst)
        effect = FaultEffect(
            "throttle_storm", error=sp_api_error(429, "QuotaExceeded", QUOTA_EXCEEDED_MESSAGE), storm=storm
        )
        return Decision(effect, "storm", fired.rule_id if fired else None, storm.rate, storm.burst)


__all__ = ["ChaosEngine", "Decision", "token_fingerprint"]
