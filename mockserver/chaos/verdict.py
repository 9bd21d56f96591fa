"""The verdict on a client's retry logic, read from the journal (which records every exchange).

A client is an application and a user agent. Its attempts are grouped into calls: an attempt identical to an
earlier one (method, path, query, body) that follows that one's failure within `retry_window` seconds is a
retry of the same call. A failure is an answer the client could not use: a 429, a 5xx, a dropped or truncated
connection, malformed JSON, or a 403 for an expired token. Each client is judged against a policy:

| check | passes when |
|---|---|
| `max_attempts` | no call took more than `max_attempts` attempts |
| `min_backoff` | each retry waited `min_backoff` s after its failure (`min_wait_after_throttle` after 429) |
| `growth` | the client's waits grow: the trend of log(wait) over the retry position, fitted within each call
  and pooled over its calls, is at least `growth_factor ** (1 - jitter_tolerance)` per retry (jitter is
  tolerated around a growing trend, never instead of one: a fixed interval is x1.00 and fails) |
| `throttle_respected` | after its first 429 on an operation and a success, at most `max_throttled_share` of
  its further calls to it were throttled |
| `token_refreshed` | it never used again a token it had been told had expired |
| `no_duplicate_submissions` | no business document (the acknowledgement of a PO, an ASN, an invoice...) was
  accepted twice, whatever else changed in the body (submissions.py) |
| `jitter` (only with `require_jitter`) | waits at the same retry position vary between calls |

Waits are measured from the end of the failed answer to the start of the next attempt (journal time minus
latency), so injected latency does not count as the client's backoff. Nothing here imports Flask.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from mockserver.chaos.clients import Client, clients_of, request_json
from mockserver.chaos.submissions import submitted_documents
from mockserver.journal import JournalEntry

RETRYABLE_STATUSES = frozenset({0, 429, 500, 502, 503, 504})
DAMAGING_FAULTS = frozenset({"drop", "truncate", "malformed_json"})
SUBMISSION_METHODS = frozenset({"POST"})
EVIDENCE_LIMIT = 50  # calls shown per client


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    min_backoff: float = 0.1
    growth_factor: float = 1.5
    jitter_tolerance: float = 0.5
    min_wait_after_throttle: float | None = None  # default: min_backoff
    max_throttled_share: float = 0.5
    no_duplicate_submissions: bool = True
    require_jitter: bool = False
    retry_window: float = 60.0

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RetryPolicy:
        known = {item.name: item for item in fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise PolicyError(f"unknown policy field(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, raw in data.items():
            if raw is None:
                continue
            default = getattr(cls(), name)
            try:
                if isinstance(default, bool):
                    values[name] = raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes"}
                elif isinstance(default, int):
                    values[name] = int(raw)
                else:
                    values[name] = float(raw)
                    if not math.isfinite(values[name]):
                        raise ValueError(f"{raw!r} is not a finite number")
            except (TypeError, ValueError, OverflowError) as error:
                raise PolicyError(f"policy field {name}: {error}") from error
        return cls(**values)

    def __post_init__(self) -> None:
        if not 0 <= self.jitter_tolerance < 1:
            raise PolicyError("jitter_tolerance must be at least 0 and less than 1")
        if self.max_attempts < 1 or self.min_backoff < 0 or self.growth_factor < 0:
            raise PolicyError("max_attempts must be at least 1; min_backoff and growth_factor not negative")

    @property
    def required_growth(self) -> float:
        """The growth per retry the waits' trend must reach: more than x1 whenever growth_factor is."""
        return float(self.growth_factor ** (1 - self.jitter_tolerance))

    @property
    def throttle_wait(self) -> float:
        return self.min_backoff if self.min_wait_after_throttle is None else self.min_wait_after_throttle


@dataclass
class Attempt:
    sequence: int
    request_id: str
    start: float
    end: float
    status: int
    fault: str | None
    failed: bool
    expired_token: bool

    def evidence(self, origin: float) -> dict[str, Any]:
        data: dict[str, Any] = {
            "request_id": self.request_id,
            "at": round(self.start - origin, 4),
            "status": self.status,
        }
        if self.fault:
            data["fault"] = self.fault
        return data


@dataclass
class CallChain:
    operation: str
    method: str
    path: str
    attempts: list[Attempt] = field(default_factory=list)

    def waits(self) -> list[tuple[float, Attempt]]:
        """(seconds waited, the failed attempt it followed), for each retry."""
        return [
            (round(later.start - earlier.end, 4), earlier)
            for earlier, later in zip(self.attempts, self.attempts[1:], strict=False)
        ]

    def backoff_waits(self) -> list[float]:
        return [wait for wait, failed in self.waits() if not failed.expired_token]


@dataclass
class Check:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _body_key(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes | bytearray):
        try:
            return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return body.decode("utf-8", errors="replace")
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)


def _attempt(entry: JournalEntry) -> Attempt:
    fault = entry.fault or {}
    action = fault.get("action")
    expired = action == "expired_token" or (
        entry.status == 403 and "expired" in json.dumps(entry.response_body, default=str)
    )
    failed = entry.status in RETRYABLE_STATUSES or action in DAMAGING_FAULTS or expired
    start = entry.time - entry.latency_ms / 1000.0
    return Attempt(entry.sequence, entry.request_id, start, entry.time, entry.status, action, failed, expired)


def _accepted(entry: JournalEntry) -> bool:
    """The handler ran and accepted the submission (its answer may still have been lost to a fault)."""
    answered = entry.answered_by
    return 200 <= entry.status < 300 and not answered.startswith(("fault:", "error:"))


def _chains(entries: list[JournalEntry], window: float) -> list[CallChain]:
    chains: list[CallChain] = []
    open_chains: dict[tuple[str, ...], CallChain] = {}
    for entry in entries:
        key = (
            entry.method,
            entry.path,
            json.dumps(entry.query, sort_keys=True),
            _body_key(entry.request_body),
        )
        attempt = _attempt(entry)
        chain = open_chains.get(key)
        if chain is None or attempt.start - chain.attempts[-1].end > window:
            chain = CallChain(entry.operation or "", entry.method, entry.path)
            chains.append(chain)
        chain.attempts.append(attempt)
        if attempt.failed:
            open_chains[key] = chain
        else:
            open_chains.pop(key, None)
    return chains


MIN_MEASURED_WAIT = 0.001  # an immediate retry counts as 1 ms, so its logarithm exists


def _growth(chains: Iterable[CallChain]) -> float | None:
    """Growth per retry of the waits: exp of the least-squares slope of log(wait) over the retry position,
    within each call (so calls of different base waits compare) and pooled over the calls. None when no call
    waited twice."""
    spread = covariance = 0.0
    for chain in chains:
        waits = chain.backoff_waits()
        if len(waits) < 2:
            continue
        logs = [math.log(max(wait, MIN_MEASURED_WAIT)) for wait in waits]
        centre = (len(waits) - 1) / 2
        mean = sum(logs) / len(logs)
        spread += sum((position - centre) ** 2 for position in range(len(waits)))
        covariance += sum((position - centre) * (value - mean) for position, value in enumerate(logs))
    return math.exp(covariance / spread) if spread else None


def _jitter(chains: list[CallChain]) -> bool | None:
    """Whether waits at the same retry position differ between calls (or ratios within a call differ)."""
    by_position: dict[int, list[float]] = {}
    for chain in chains:
        for position, wait in enumerate(chain.backoff_waits()):
            by_position.setdefault(position, []).append(wait)
    samples = [values for values in by_position.values() if len(values) >= 2]
    if samples:
        return any(
            statistics.pstdev(values) > 0.02 * max(statistics.mean(values), 1e-9) for values in samples
        )
    for chain in chains:
        waits = chain.backoff_waits()
        ratios = [b / a for a, b in itertools.pairwise(waits) if a > 0]
        if len(ratios) >= 2:
            return statistics.pstdev(ratios) > 0.02 * statistics.mean(ratios)
    return None


def _duplicates_check(entries: list[JournalEntry]) -> Check:
    """No business document accepted twice: judged by what the submissions submitted (submissions.py)."""
    accepted: dict[tuple[str, str], list[JournalEntry]] = {}
    for entry in entries:
        if entry.method not in SUBMISSION_METHODS or not _accepted(entry):
            continue
        body = request_json(entry.request_body)
        for document in dict.fromkeys(submitted_documents(entry.operation_id, entry.path, body)):
            accepted.setdefault((entry.account or "", document), []).append(entry)
    duplicates = {key: found for key, found in accepted.items() if len(found) > 1}
    return Check(
        "no_duplicate_submissions",
        not duplicates,
        "; ".join(
            f"{found[0].operation_id or found[0].operation} accepted {document} {len(found)} times "
            f"(request ids {', '.join(item.request_id for item in found)})"
            for (_, document), found in list(duplicates.items())[:5]
        )
        + (f" (and {len(duplicates) - 5} more)" if len(duplicates) > 5 else "")
        if duplicates
        else "no business document accepted twice",
    )


def _judge(client: Client, policy: RetryPolicy) -> dict[str, Any]:
    entries = sorted(client.entries, key=lambda item: item.sequence)
    chains = _chains(entries, policy.retry_window)
    retried = [chain for chain in chains if len(chain.attempts) > 1 or chain.attempts[0].failed]
    origin = entries[0].time - entries[0].latency_ms / 1000.0 if entries else 0.0
    checks: list[Check] = []

    longest = max((len(chain.attempts) for chain in chains), default=0)
    over = [chain for chain in chains if len(chain.attempts) > policy.max_attempts]
    checks.append(
        Check(
            "max_attempts",
            not over,
            f"most attempts for one call: {longest} (limit {policy.max_attempts})"
            + (f"; {len(over)} call(s) over the limit" if over else ""),
        )
    )

    short: list[str] = []
    for chain in chains:
        for wait, failed in chain.waits():
            if failed.expired_token:
                continue
            needed = policy.throttle_wait if failed.status == 429 else policy.min_backoff
            if wait < needed:
                short.append(f"{chain.operation} waited {wait:.3f}s after {failed.status} (needs {needed}s)")
    checks.append(
        Check(
            "min_backoff",
            not short,
            "; ".join(short[:5]) + (f" (and {len(short) - 5} more)" if len(short) > 5 else "")
            if short
            else f"every retry waited at least {policy.min_backoff}s",
        )
    )

    required = policy.required_growth
    growth = _growth(chains)
    per_call = [found for found in (_growth([chain]) for chain in chains) if found is not None]
    grows = growth is None or growth >= required
    checks.append(
        Check(
            "growth",
            grows,
            (
                f"waits grow x{growth:.2f} per retry (trend over {len(per_call)} call(s): "
                + ", ".join(f"x{found:.2f}" for found in per_call[:10])
                + f"); needs at least x{required:.2f}"
                if growth is not None
                else "no call retried twice: growth not measurable"
            ),
        )
    )

    throttle_notes: list[str] = []
    throttle_ok = True
    for operation in sorted({entry.operation or "" for entry in entries if entry.status == 429}):
        calls = [entry for entry in entries if entry.operation == operation]
        first_429 = next(index for index, entry in enumerate(calls) if entry.status == 429)
        recovered = next(
            (index for index in range(first_429, len(calls)) if 200 <= calls[index].status < 300), None
        )
        later = calls[recovered + 1 :] if recovered is not None else []
        throttled = sum(1 for entry in later if entry.status == 429)
        share = throttled / len(later) if later else 0.0
        if share > policy.max_throttled_share:
            throttle_ok = False
        throttle_notes.append(f"{operation}: {throttled}/{len(later)} throttled after recovering")
    checks.append(
        Check(
            "throttle_respected",
            throttle_ok,
            "; ".join(throttle_notes) if throttle_notes else "never throttled",
        )
    )

    reused = [entry for entry in entries if (entry.fault or {}).get("source") == "expired-token"]
    checks.append(
        Check(
            "token_refreshed",
            not reused,
            f"used an expired token again {len(reused)} time(s)" if reused else "no expired token used again",
        )
    )

    if policy.no_duplicate_submissions:
        checks.append(_duplicates_check(entries))

    jitter = _jitter(chains)
    if policy.require_jitter:
        checks.append(
            Check(
                "jitter",
                jitter is not False,
                {True: "waits vary", False: "waits are identical", None: "not measurable"}[jitter],
            )
        )
    return {
        "application": client.application,
        "user_agent": client.user_agent,
        "passed": all(check.passed for check in checks),
        "checks": [check.to_dict() for check in checks],
        "observations": {
            "attempts": len(entries),
            "calls": len(chains),
            "retried_calls": sum(1 for chain in chains if len(chain.attempts) > 1),
            "exponential": growth is not None and grows and growth > 1,
            "jitter": jitter,
        },
        "evidence": [
            {
                "operation": chain.operation,
                "method": chain.method,
                "path": chain.path,
                "attempts": [attempt.evidence(origin) for attempt in chain.attempts],
                "waits": [wait for wait, _ in chain.waits()],
            }
            for chain in retried[:EVIDENCE_LIMIT]
        ],
    }


def retry_report(entries: Iterable[JournalEntry], policy: RetryPolicy | None = None) -> dict[str, Any]:
    policy = policy or RetryPolicy()
    clients = [_judge(client, policy) for client in clients_of(entries)]
    return {
        "policy": asdict(policy),
        "passed": all(client["passed"] for client in clients),
        "clients": clients,
    }


def render_text(report: Mapping[str, Any]) -> str:
    lines = [f"retry verdict: {'PASS' if report['passed'] else 'FAIL'} ({len(report['clients'])} client(s))"]
    for client in report["clients"]:
        verdict = "PASS" if client["passed"] else "FAIL"
        lines.append(f"{verdict}  {client['application']}  {client['user_agent'] or '(no user agent)'}")
        for check in client["checks"]:
            lines.append(f"  [{'ok' if check['passed'] else 'XX'}] {check['name']}: {check['detail']}")
        for call in client["evidence"][:5]:
            moments = ", ".join(
                f"{attempt['at']}s:{attempt['status']}"
                + (f"({attempt['fault']})" if "fault" in attempt else "")
                for attempt in call["attempts"]
            )
            lines.append(f"    {call['method']} {call['path']}: {moments}")
    return "\n".join(lines)


def junit_xml(report: Mapping[str, Any]) -> str:
    cases: list[str] = []
    failures = 0
    for client in report["clients"]:
        classname = f"{client['application']}.{client['user_agent'] or 'no-user-agent'}"
        evidence = json.dumps(client["evidence"][:10], indent=1)
        for check in client["checks"]:
            name = quoteattr(check["name"])
            if check["passed"]:
                cases.append(f"  <testcase classname={quoteattr(classname)} name={name}/>")
                continue
            failures += 1
            cases.append(
                f"  <testcase classname={quoteattr(classname)} name={name}>\n"
                f"    <failure message={quoteattr(check['detail'])}>{escape(evidence)}</failure>\n"
                "  </testcase>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="vendor-sandbox retries" tests="{len(cases)}" failures="{failures}">\n'
        + "\n".join(cases)
        + ("\n" if cases else "")
        + "</testsuite>\n"
    )


__all__ = ["PolicyError", "RetryPolicy", "junit_xml", "render_text", "retry_report"]
