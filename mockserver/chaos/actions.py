"""Fault actions: what a fired rule does to an exchange. A registry, so that users add their own.

An action is a function `(params, rng) -> FaultEffect`, registered under a name with `register_action`.
It runs each time its rule fires (the random source is the rule's own, so draws are deterministic under
`--seed`) and describes the damage; `pipeline/faults.py` (SP-API) and the LWA hook carry it out.
Nothing here imports Flask.

Built-in actions:

| action | effect |
|---|---|
| `quota_exceeded` | Amazon's 429 `QuotaExceeded` |
| `internal_failure` | Amazon's 500 `InternalFailure` |
| `service_unavailable` | Amazon's 503 `ServiceUnavailable` |
| `expired_token` | Amazon's 403 "The access token you provided has expired."; the token stays dead |
| `invalid_input` | Amazon's 400 `InvalidInput` with `message` (and `details`) |
| `error` | any status, `code`, `message`, `details`, `headers` in Amazon's shape |
| `lwa_error` | an LWA token-endpoint error: `status`, `error`, `error_description` |
| `latency` | `seconds`, or `distribution: uniform` (`low`, `high`) or `lognormal` (`median`, `sigma`) |
| `drop` | the connection closed without an answer; `after_handle: true` runs the handler first |
| `truncate` | the answer cut after `keep` bytes (or `fraction`), then the connection closed |
| `malformed_json` | the answer's body replaced by broken JSON, status and headers kept |
| `trickle` | the answer sent `chunk_bytes` at a time, `interval` s apart (the rest after `max_seconds`) |
| `throttle_storm` | the operation's usage plan cut to `rate` (`burst`) for `seconds` |
| `extra_fields`, `omit_optional`, `deprecated_removed`, | the answer drifted as Amazon's model changes |
| `new_enum_value`, `reordered`, `nulls` | drift it (`chaos/drift.py`) |
| `retire` | deprecation notices until `date` (sandbox clock), then the answer of a removed version |

Drift and `retire` are *standing* actions: a change of the API rather than a failure of one call, so every
standing rule that fires applies, together with the first other rule that fires.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.chaos.drift import DriftError, check_drift
from mockserver.chaos.retirement import Retirement, RetirementError

ACCESS_DENIED = "Access to requested resource is denied."


class ActionError(ValueError):
    """An action name or parameters that cannot be used."""


@dataclass(frozen=True)
class ErrorAnswer:
    """An answer that replaces the real one: SP-API's `{"errors": [...]}` or LWA's `{"error", ...}`."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Storm:
    """A throttle storm: for `seconds`, the operation is metered at `rate` per second with `burst`."""

    rate: float
    burst: int
    seconds: float


@dataclass(frozen=True)
class DriftSpec:
    """A drift to apply to the answer: its kind, parameters and a seed drawn from the rule's random source."""

    kind: str
    params: Mapping[str, Any]
    seed: int


@dataclass(frozen=True)
class FaultEffect:
    """What happens to the exchange. Several fields may combine (latency before a drop, for instance)."""

    action: str
    delay: float = 0.0  # seconds slept before answering
    error: ErrorAnswer | None = None  # replaces the answer (the handler does not run)
    drop: bool = False  # the connection is closed without any byte of the answer
    after_handle: bool = False  # for `drop`: the handler runs first (the work is done, the answer lost)
    truncate_keep: int | None = None  # bytes of the body sent before the connection is closed
    truncate_fraction: float | None = None
    malformed: bool = False  # the body is replaced by broken JSON
    trickle: tuple[int, float, float] | None = None  # (chunk bytes, seconds between chunks, at most seconds)
    storm: Storm | None = None
    expire_token: bool = False  # the access token stays dead after this answer
    drift: DriftSpec | None = None  # the answer is drifted (a standing action)
    retirement: Retirement | None = None  # the operation is deprecated, then retired (a standing action)

    @property
    def standing(self) -> bool:
        return self.drift is not None or self.retirement is not None

    @property
    def replaces(self) -> bool:
        """Whether the handler is skipped."""
        return self.error is not None or self.storm is not None or (self.drop and not self.after_handle)

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {"action": self.action}
        if self.delay:
            data["delay"] = round(self.delay, 6)
        if self.error is not None:
            data["status"] = self.error.status
        for name in ("drop", "after_handle", "malformed", "expire_token"):
            if getattr(self, name):
                data[name] = True
        if self.truncate_keep is not None:
            data["keep"] = self.truncate_keep
        if self.truncate_fraction is not None:
            data["fraction"] = self.truncate_fraction
        if self.trickle is not None:
            data["chunk_bytes"], data["interval"], data["max_seconds"] = self.trickle
        if self.storm is not None:
            data["storm"] = {
                "rate": self.storm.rate,
                "burst": self.storm.burst,
                "seconds": self.storm.seconds,
            }
        if self.drift is not None and self.drift.params:
            data["params"] = dict(self.drift.params)
        if self.retirement is not None:
            data.update(self.retirement.describe())
        return data


Params = Mapping[str, Any]
Action = Callable[[Params, random.Random], FaultEffect]

ACTIONS: dict[str, Action] = {}
STANDING_ACTIONS: set[str] = set()


def register_action(name: str, *, standing: bool = False) -> Callable[[Action], Action]:
    """Register a fault action under `name` (a later registration replaces an earlier one).

    A standing action (drift, retirement) changes the API rather than failing one call: every standing rule
    that fires applies, beside the first other rule that fires.
    """

    def decorate(action: Action) -> Action:
        ACTIONS[name] = action
        if standing:
            STANDING_ACTIONS.add(name)
        else:
            STANDING_ACTIONS.discard(name)
        return action

    return decorate


def build_effect(name: str, params: Params, rng: random.Random) -> FaultEffect:
    action = ACTIONS.get(name)
    if action is None:
        raise ActionError(f"unknown fault action {name!r}; known: {', '.join(sorted(ACTIONS))}")
    try:
        effect = action(params, rng)
    except ActionError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ActionError(f"bad parameters for fault action {name!r}: {error}") from error
    problem = _unusable(effect)
    if problem is not None:
        raise ActionError(f"bad parameters for fault action {name!r}: {problem}")
    return effect


# Bounds on what any action (a user's own included) may ask of the server: a delay holds a worker thread, and
# an answer's status and headers must be ones HTTP can carry.
MAX_DELAY_SECONDS = 600.0
MAX_STORM_SECONDS = 86_400.0
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def _unusable(effect: FaultEffect) -> str | None:
    """What makes an effect impossible to carry out, or None."""
    durations = [("delay", effect.delay, MAX_DELAY_SECONDS)]
    if effect.trickle is not None:
        chunk, interval, limit = effect.trickle
        if not 1 <= chunk <= 1_048_576:
            return "chunk_bytes must be from 1 to 1048576"
        durations += [("interval", interval, MAX_DELAY_SECONDS), ("max_seconds", limit, MAX_DELAY_SECONDS)]
    if effect.storm is not None:
        if not (math.isfinite(effect.storm.rate) and effect.storm.rate > 0) or effect.storm.burst > 1_000_000:
            return "a storm needs a finite rate above 0 and a burst of at most 1000000"
        durations.append(("seconds", effect.storm.seconds, MAX_STORM_SECONDS))
    for name, value, limit in durations:
        if not (math.isfinite(value) and 0 <= value <= limit):
            return f"{name} must be from 0 to {limit:g} seconds"
    if effect.truncate_keep is not None and effect.truncate_keep < 0:
        return "keep must not be negative"
    if effect.truncate_fraction is not None and not 0 <= effect.truncate_fraction < 1:
        return "fraction must be at least 0 and below 1"
    if effect.error is not None:
        if not 100 <= effect.error.status <= 599:
            return "status must be an HTTP status code (100 to 599)"
        for header_name, header_value in effect.error.headers.items():
            if not _HEADER_NAME.fullmatch(header_name) or not _HEADER_VALUE.fullmatch(header_value):
                return f"header {header_name[:40]!r} is not a valid HTTP header name and value"
    return None


def check_action(name: str, params: Params) -> None:
    """Raise ActionError unless `name` with `params` would build an effect."""
    build_effect(name, params, random.Random(0))


def _number(params: Params, name: str, default: float | None = None, minimum: float = 0.0) -> float:
    value = params.get(name, default)
    if value is None:
        raise ActionError(f"missing parameter {name!r}")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ActionError(f"parameter {name!r} must be a number")
    try:
        number = float(value) if len(str(value)) <= 40 else math.nan
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < minimum:
        raise ActionError(f"parameter {name!r} must be a finite number of at least {minimum}")
    return number


def _flag(params: Params, name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _delay(params: Params) -> float:
    """An optional `delay` (seconds) that any action may carry."""
    return _number(params, "delay", 0.0) if "delay" in params else 0.0


def sp_api_error(
    status: int, code: str, message: str, details: str = "", headers: Mapping[str, str] | None = None
) -> ErrorAnswer:
    return ErrorAnswer(
        status, {"errors": [{"code": code, "message": message, "details": details}]}, dict(headers or {})
    )


def _error_action(name: str, status: int, code: str, message: str) -> Action:
    def action(params: Params, rng: random.Random) -> FaultEffect:
        answer = sp_api_error(
            status, code, str(params.get("message", message)), str(params.get("details", ""))
        )
        return FaultEffect(name, delay=_delay(params), error=answer)

    return action


register_action("quota_exceeded")(
    _error_action(
        "quota_exceeded", 429, "QuotaExceeded", "You exceeded your quota for the requested resource."
    )
)
register_action("internal_failure")(
    _error_action(
        "internal_failure", 500, "InternalFailure", "We encountered an internal error. Please try again."
    )
)
register_action("service_unavailable")(
    _error_action(
        "service_unavailable",
        503,
        "ServiceUnavailable",
        "Temporary overloading or maintenance of the server. Please try again.",
    )
)


@register_action("expired_token")
def _expired_token(params: Params, rng: random.Random) -> FaultEffect:
    answer = sp_api_error(403, "Unauthorized", ACCESS_DENIED, "The access token you provided has expired.")
    return FaultEffect("expired_token", delay=_delay(params), error=answer, expire_token=True)


@register_action("invalid_input")
def _invalid_input(params: Params, rng: random.Random) -> FaultEffect:
    message = params.get("message")
    if not message:
        raise ActionError("invalid_input needs a `message`")
    answer = sp_api_error(400, "InvalidInput", str(message), str(params.get("details", "")))
    return FaultEffect("invalid_input", delay=_delay(params), error=answer)


@register_action("error")
def _error(params: Params, rng: random.Random) -> FaultEffect:
    status = int(_number(params, "status", minimum=100))
    if not 100 <= status <= 599:
        raise ActionError("status must be an HTTP status code")
    headers = params.get("headers") or {}
    if not isinstance(headers, Mapping):
        raise ActionError("headers must be a mapping")
    answer = sp_api_error(
        status,
        str(params.get("code", "InternalFailure")),
        str(params.get("message", "We encountered an internal error. Please try again.")),
        str(params.get("details", "")),
        {str(key): str(value) for key, value in headers.items()},
    )
    return FaultEffect("error", delay=_delay(params), error=answer)


LWA_ERRORS = {
    500: ("server_error", "The authorization server encountered an unexpected condition."),
    503: ("temporarily_unavailable", "The authorization server is temporarily unavailable."),
    400: ("invalid_grant", "The request has an invalid grant parameter : refresh_token"),
    401: ("invalid_client", "Client authentication failed"),
    429: ("server_error", "Rate exceeded"),
}


@register_action("lwa_error")
def _lwa_error(params: Params, rng: random.Random) -> FaultEffect:
    status = int(_number(params, "status", 500, minimum=100))
    default_error, default_description = LWA_ERRORS.get(status, ("server_error", "Internal error"))
    body = {
        "error": str(params.get("error", default_error)),
        "error_description": str(params.get("error_description", default_description)),
    }
    return FaultEffect("lwa_error", delay=_delay(params), error=ErrorAnswer(status, body))


@register_action("latency")
def _latency(params: Params, rng: random.Random) -> FaultEffect:
    distribution = str(params.get("distribution", "fixed"))
    if distribution == "fixed":
        seconds = _number(params, "seconds")
    elif distribution == "uniform":
        low, high = _number(params, "low", 0.0), _number(params, "high")
        if high < low:
            raise ActionError("uniform latency needs low <= high")
        seconds = rng.uniform(low, high)
    elif distribution == "lognormal":
        median = _number(params, "median")
        sigma = _number(params, "sigma", 0.5)
        seconds = median * math.exp(rng.gauss(0.0, sigma)) if median > 0 else 0.0
    else:
        raise ActionError(f"latency distribution must be fixed, uniform or lognormal, not {distribution!r}")
    if "max" in params:
        seconds = min(seconds, _number(params, "max"))
    return FaultEffect("latency", delay=seconds)


@register_action("drop")
def _drop(params: Params, rng: random.Random) -> FaultEffect:
    return FaultEffect("drop", delay=_delay(params), drop=True, after_handle=_flag(params, "after_handle"))


@register_action("truncate")
def _truncate(params: Params, rng: random.Random) -> FaultEffect:
    if "keep" in params:
        return FaultEffect("truncate", delay=_delay(params), truncate_keep=int(_number(params, "keep")))
    fraction = _number(params, "fraction", 0.5)
    if fraction >= 1:
        raise ActionError("fraction must be below 1")
    return FaultEffect("truncate", delay=_delay(params), truncate_fraction=fraction)


@register_action("malformed_json")
def _malformed_json(params: Params, rng: random.Random) -> FaultEffect:
    return FaultEffect("malformed_json", delay=_delay(params), malformed=True)


@register_action("trickle")
def _trickle(params: Params, rng: random.Random) -> FaultEffect:
    chunk = int(_number(params, "chunk_bytes", 16, minimum=1))
    interval = _number(params, "interval", 0.05)
    limit = _number(params, "max_seconds", 10.0)
    return FaultEffect("trickle", delay=_delay(params), trickle=(chunk, interval, limit))


@register_action("throttle_storm")
def _throttle_storm(params: Params, rng: random.Random) -> FaultEffect:
    rate = _number(params, "rate")
    burst = int(_number(params, "burst", 1, minimum=1))
    seconds = _number(params, "seconds")
    return FaultEffect("throttle_storm", storm=Storm(rate, burst, seconds))


def _drift_action(kind: str) -> Action:
    def action(params: Params, rng: random.Random) -> FaultEffect:
        try:
            check_drift(kind, params)
        except DriftError as error:
            raise ActionError(str(error)) from error
        return FaultEffect(kind, drift=DriftSpec(kind, dict(params), rng.getrandbits(64)))

    return action


for _kind in ("extra_fields", "omit_optional", "deprecated_removed", "new_enum_value", "reordered", "nulls"):
    register_action(_kind, standing=True)(_drift_action(_kind))


@register_action("retire", standing=True)
def _retire(params: Params, rng: random.Random) -> FaultEffect:
    try:
        return FaultEffect("retire", retirement=Retirement.from_params(params))
    except RetirementError as error:
        raise ActionError(str(error)) from error


__all__ = [
    "ACTIONS",
    "STANDING_ACTIONS",
    "ActionError",
    "DriftSpec",
    "ErrorAnswer",
    "FaultEffect",
    "Storm",
    "build_effect",
    "check_action",
    "register_action",
    "sp_api_error",
]
