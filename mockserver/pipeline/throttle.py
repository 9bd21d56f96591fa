"""Usage plans: a token bucket per (operation, selling partner, application), as Amazon meters them.

The buckets live in the runtime (`store/runtime.py`): in memory for a lone process, shared by every process
of `--workers` or of the Redis store, so that they meter one usage plan between them, not one each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from mockserver.accounts import UsagePlanOverride
from mockserver.contracts.model import Operation
from mockserver.pipeline.errors import quota_exceeded
from mockserver.store.runtime import LocalRuntime, Runtime

BUCKETS = "plan:"


@dataclass(frozen=True, slots=True)
class UsagePlan:
    """An operation's usage plan: its rate and burst; `header` is its x-amzn-RateLimit-Limit value."""

    rate: float  # requests per second
    burst: int

    @property
    def header(self) -> str:
        return repr(float(self.rate))


class Throttle:
    def __init__(
        self,
        *,
        scale: float = 1.0,
        enabled: bool = True,
        default_rate: float = 10.0,
        default_burst: int = 10,
        overrides: list[UsagePlanOverride] | None = None,
        clock: Callable[[], float] = time.monotonic,
        runtime: Runtime | None = None,
    ) -> None:
        self.scale = scale
        self.enabled = enabled
        self.default = UsagePlan(default_rate, default_burst)
        self.overrides = list(overrides or ())
        self.clock = clock
        self.runtime: Runtime = runtime if runtime is not None else LocalRuntime()
        self._plans: dict[tuple[str, str], UsagePlan] = {}
        self._lock = threading.Lock()

    def plan_for(self, operation: Operation, account: str) -> UsagePlan:
        key = (operation.name, account)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._resolve(operation, account)
            self._plans[key] = plan
        return plan

    def _resolve(self, operation: Operation, account: str) -> UsagePlan:
        base = UsagePlan(operation.rate, operation.burst or 1) if operation.rate is not None else self.default
        chosen = base
        # An account-specific override beats an operation-wide one.
        for override in sorted(self.overrides, key=lambda item: item.account is not None):
            if override.operation not in (operation.operation_id, operation.name):
                continue
            if override.account not in (None, account):
                continue
            chosen = UsagePlan(override.rate, override.burst)
        return UsagePlan(chosen.rate * self.scale, max(1, round(chosen.burst * self.scale)))

    def set_override(self, override: UsagePlanOverride) -> None:
        with self._lock:
            self.overrides.append(override)
            self._plans.clear()
        self.runtime.clear_buckets(BUCKETS)

    def reset(self) -> None:
        self.runtime.clear_buckets(BUCKETS)

    def take(self, operation: Operation, account: str, application: str) -> UsagePlan:
        """Spend one request of the plan, or raise Amazon's 429; a refused call spends nothing."""
        plan = self.plan_for(operation, account)
        if not self.enabled:
            return plan
        bucket = f"{BUCKETS}{operation.name}|{account}|{application}"
        if not self.runtime.take(bucket, plan.rate, plan.burst, self.clock(), plan.burst):
            raise quota_exceeded()
        return plan
