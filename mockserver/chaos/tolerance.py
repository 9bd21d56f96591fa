"""The tolerance report: did a client keep working after the API drifted under it? Read from the journal.

A client is an application and a user agent (as for the retry verdict). Its evidence is every answer a drift
changed (2xx, at least one change recorded in the journal's `drift`); its calls before the first one are its
baseline. A client no drifted answer reached is listed as not exercised; a report in which no client was
exercised fails: a tolerance verdict needs evidence. Each exercised client is judged:

- `flow_continued`: it made further calls after its first drifted answer, and reached every `expect`ed
  operation with a 2xx after it (a client that gives up the flow fails).
- `well_formed`: no request after the first drifted answer was refused as malformed (400/413/415 of
  validation).
- `no_echo`: no request sent back a property or enum value a drift invented (off with `allow_echo`).
- `no_error_burst`: its share of errors of its own making (4xx but 429, not injected) grew by at most
  `max_error_increase` over its baseline.
- `no_retry_storm`: no drifted 2xx answer was followed by more than `max_repeats_after_200` identical
  requests (or its baseline's repeats, if more) within `repeat_window` s; `polling_operations` (transaction
  status reads) are exempt.

Deprecation notices received and answers of retired operations are counted in the observations. Nothing here
imports Flask.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from mockserver.chaos.clients import Client, clients_of, request_json
from mockserver.journal import JournalEntry

EVIDENCE_LIMIT = 50  # drifted answers shown per client
FOLLOWING_SHOWN = 3  # the client's calls shown after each drifted answer
MALFORMED_STATUSES = frozenset({400, 413, 415})
NO_EVIDENCE = "no drifted answer reached any client: there is nothing to judge (is a drift plan applied?)"


class TolerancePolicyError(ValueError):
    pass


def _names(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return tuple(item.strip() for item in raw.split(",") if item.strip())
    if isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):
        return tuple(raw)
    raise TypeError("expected a list of operation names")


@dataclass(frozen=True)
class TolerancePolicy:
    expect: tuple[str, ...] = ()  # operations the client must still reach (2xx) after the first drift
    max_repeats_after_200: int = 2
    repeat_window: float = 10.0
    polling_operations: tuple[str, ...] = ("getTransaction", "getTransactionStatus")
    max_error_increase: float = 0.1
    allow_echo: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TolerancePolicy:
        known = {item.name for item in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise TolerancePolicyError(f"unknown tolerance policy field(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for name, raw in data.items():
            if raw is None:
                continue
            default = getattr(cls(), name)
            try:
                if isinstance(default, tuple):
                    values[name] = _names(raw)
                elif isinstance(default, bool):
                    values[name] = raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes"}
                elif isinstance(default, int):
                    values[name] = int(raw)
                else:
                    values[name] = float(raw)
            except (TypeError, ValueError) as error:
                raise TolerancePolicyError(f"tolerance policy field {name}: {error}") from error
            if not isinstance(values[name], tuple | bool) and values[name] < 0:
                raise TolerancePolicyError(f"tolerance policy field {name} must not be negative")
        return cls(**values)


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def _identity(entry: JournalEntry) -> tuple[str, ...]:
    body = request_json(entry.request_body)
    return (
        entry.method,
        entry.path,
        json.dumps(entry.query, sort_keys=True),
        json.dumps(body, sort_keys=True, default=str) if body is not None else "",
    )


def _drifts(entry: JournalEntry) -> list[dict[str, Any]]:
    """The drifts that changed this answer, if the client got it (2xx)."""
    if not 200 <= entry.status < 300:
        return []
    return [record for record in entry.drift or () if record.get("changed")]


def _notices(entry: JournalEntry) -> int:
    return sum(1 for record in entry.drift or () if record.get("state") == "deprecated")


def _retired(entry: JournalEntry) -> bool:
    return (entry.fault or {}).get("action") == "retire"


def _own_error(entry: JournalEntry) -> bool:
    """An error of the client's own making: a 4xx the pipeline or the service gave, not a fault or a 429."""
    return 400 <= entry.status < 500 and entry.status != 429 and entry.answered_by.startswith("error:")


def _malformed(entry: JournalEntry) -> bool:
    return entry.answered_by == "error:validate" and entry.status in MALFORMED_STATUSES


def _operation_names(entry: JournalEntry) -> set[str]:
    return {name for name in (entry.operation, entry.operation_id) if name}


def _echoes(body: Any, names: set[str], values: set[str]) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in names:
                    found.append(f"property {key}")
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value in values:
            found.append(f"value {value}")

    walk(body)
    return found


def _at(entry: JournalEntry, origin: float) -> float:
    return round(entry.time - entry.latency_ms / 1000.0 - origin, 4)


def _repeats(entries: list[JournalEntry], index: int, window: float) -> int:
    """How many identical requests followed entry `index` within `window` seconds of its answer."""
    answered = entries[index].time
    identity = _identity(entries[index])
    return sum(
        1
        for later in entries[index + 1 :]
        if later.time - later.latency_ms / 1000.0 - answered <= window and _identity(later) == identity
    )


def _judge(client: Client, policy: TolerancePolicy) -> dict[str, Any]:
    entries = sorted(client.entries, key=lambda item: item.sequence)
    origin = entries[0].time - entries[0].latency_ms / 1000.0
    drifted = [index for index, entry in enumerate(entries) if _drifts(entry)]
    observations: dict[str, Any] = {
        "calls": len(entries),
        "drifted_answers": len(drifted),
        "deprecation_notices": sum(_notices(entry) for entry in entries),
        "retired_answers": sum(1 for entry in entries if _retired(entry)),
    }
    identity = {"application": client.application, "user_agent": client.user_agent}
    if not drifted:
        return {
            **identity,
            "exercised": False,
            "passed": None,
            "checks": [],
            "observations": observations,
            "evidence": [],
        }
    first = drifted[0]
    before, after = entries[:first], entries[first + 1 :]
    actions: dict[str, int] = {}
    for index in drifted:
        for record in _drifts(entries[index]):
            actions[record["action"]] = actions.get(record["action"], 0) + 1
    observations.update({"calls_after_drift": len(after), "drift_actions": actions})
    checks: list[Check] = []

    reached = {name for entry in after if 200 <= entry.status < 300 for name in _operation_names(entry)}
    missing = [name for name in policy.expect if name not in reached]
    if not after:
        continued = Check(
            "flow_continued",
            False,
            f"abandoned: no call after the first drifted answer ({entries[first].operation_id} at "
            f"{_at(entries[first], origin)}s)",
        )
    elif missing:
        continued = Check(
            "flow_continued", False, f"never reached {', '.join(missing)} with a 2xx after the first drift"
        )
    else:
        continued = Check(
            "flow_continued",
            True,
            f"{len(after)} call(s) after the first drifted answer"
            + (f"; reached {', '.join(policy.expect)}" if policy.expect else ""),
        )
    checks.append(continued)

    malformed = [entry for entry in after if _malformed(entry)]
    checks.append(
        Check(
            "well_formed",
            not malformed,
            "; ".join(
                f"{entry.operation_id} refused {entry.status} ({entry.request_id})" for entry in malformed[:5]
            )
            + (f" (and {len(malformed) - 5} more)" if len(malformed) > 5 else "")
            if malformed
            else "every request after the drift was well-formed",
        )
    )

    if not policy.allow_echo:
        names: set[str] = set()
        values: set[str] = set()
        echoed: list[str] = []
        for entry in entries[first:]:
            if entry.request_body is not None and (names or values):
                found = _echoes(request_json(entry.request_body), names, values)
                if found:
                    echoed.append(
                        f"{entry.operation_id} ({entry.request_id}) sent {', '.join(sorted(set(found)))}"
                    )
            for record in _drifts(entry):
                if record["action"] == "extra_fields":
                    names.update(record.get("fields") or ())
                for added in (record.get("loosening") or {}).get("enum_values", {}).values():
                    values.update(added)
        checks.append(
            Check(
                "no_echo",
                not echoed,
                "; ".join(echoed[:5]) if echoed else "sent back nothing a drift invented",
            )
        )

    errors_before = sum(1 for entry in before if _own_error(entry))
    errors_after = sum(1 for entry in after if _own_error(entry))
    share_before = errors_before / len(before) if before else 0.0
    share_after = errors_after / len(after) if after else 0.0
    checks.append(
        Check(
            "no_error_burst",
            share_after - share_before <= policy.max_error_increase,
            f"errors of its own: {errors_after}/{len(after)} after the drift, "
            f"{errors_before}/{len(before)} before",
        )
    )

    polling = set(policy.polling_operations)
    baseline = max(
        (
            _repeats(entries, index, policy.repeat_window)
            for index, entry in enumerate(entries)
            if 200 <= entry.status < 300 and not _drifts(entry) and not (_operation_names(entry) & polling)
        ),
        default=0,
    )
    allowed = max(policy.max_repeats_after_200, baseline)
    storms = [
        (entries[index], repeats)
        for index in drifted
        if not (_operation_names(entries[index]) & polling)
        and (repeats := _repeats(entries, index, policy.repeat_window)) > allowed
    ]
    checks.append(
        Check(
            "no_retry_storm",
            not storms,
            "; ".join(
                f"{entry.operation_id} ({entry.request_id}) sent again {repeats} times within "
                f"{policy.repeat_window}s of a drifted {entry.status}"
                for entry, repeats in storms[:5]
            )
            if storms
            else f"no drifted 2xx answer repeated more than {allowed} time(s)",
        )
    )

    evidence = []
    for index in drifted[:EVIDENCE_LIMIT]:
        entry = entries[index]
        evidence.append(
            {
                "request_id": entry.request_id,
                "operation": entry.operation_id,
                "at": _at(entry, origin),
                "status": entry.status,
                "drift": [
                    {
                        "action": record["action"],
                        "changed": record["changed"],
                        "fields": record.get("fields", []),
                    }
                    for record in _drifts(entry)
                ],
                "next": [
                    {
                        "request_id": later.request_id,
                        "operation": later.operation_id,
                        "at": _at(later, origin),
                        "status": later.status,
                    }
                    for later in entries[index + 1 : index + 1 + FOLLOWING_SHOWN]
                ],
            }
        )
    return {
        **identity,
        "exercised": True,
        "passed": all(check.passed for check in checks),
        "checks": [asdict(check) for check in checks],
        "observations": observations,
        "evidence": evidence,
    }


def tolerance_report(
    entries: Iterable[JournalEntry], policy: TolerancePolicy | None = None
) -> dict[str, Any]:
    policy = policy or TolerancePolicy()
    clients = [_judge(client, policy) for client in clients_of(entries)]
    exercised = [client for client in clients if client["exercised"]]
    return {
        "policy": asdict(policy),
        "passed": bool(exercised) and all(client["passed"] for client in exercised),
        "evidence": bool(exercised),
        "detail": NO_EVIDENCE if not exercised else f"{len(exercised)} client(s) received drifted answers",
        "clients": clients,
    }


def render_text(report: Mapping[str, Any]) -> str:
    lines = [f"tolerance verdict: {'PASS' if report['passed'] else 'FAIL'} ({report['detail']})"]
    for client in report["clients"]:
        agent = client["user_agent"] or "(no user agent)"
        if not client["exercised"]:
            lines.append(f"----  {client['application']}  {agent}: not exercised (no drifted answer)")
            continue
        lines.append(f"{'PASS' if client['passed'] else 'FAIL'}  {client['application']}  {agent}")
        for check in client["checks"]:
            lines.append(f"  [{'ok' if check['passed'] else 'XX'}] {check['name']}: {check['detail']}")
        observed = client["observations"]
        lines.append(
            f"    drifted answers {observed['drifted_answers']} ("
            + ", ".join(f"{name} {count}" for name, count in sorted(observed["drift_actions"].items()))
            + f"); deprecation notices {observed['deprecation_notices']}; "
            f"retired answers {observed['retired_answers']}"
        )
        for item in client["evidence"][:5]:
            following = (
                ", ".join(f"{call['operation']}:{call['status']}" for call in item["next"]) or "nothing"
            )
            lines.append(f"    {item['at']}s {item['operation']} {item['status']} drifted -> {following}")
    return "\n".join(lines)


def junit_xml(report: Mapping[str, Any]) -> str:
    cases: list[str] = []
    failures = 0
    if not report["evidence"]:
        failures += 1
        cases.append(
            '  <testcase classname="vendor-sandbox.tolerance" name="evidence">\n'
            f"    <failure message={quoteattr(report['detail'])}/>\n  </testcase>"
        )
    for client in report["clients"]:
        if not client["exercised"]:
            continue
        classname = quoteattr(f"{client['application']}.{client['user_agent'] or 'no-user-agent'}")
        evidence = escape(json.dumps(client["evidence"][:10], indent=1))
        for check in client["checks"]:
            name = quoteattr(check["name"])
            if check["passed"]:
                cases.append(f"  <testcase classname={classname} name={name}/>")
                continue
            failures += 1
            cases.append(
                f"  <testcase classname={classname} name={name}>\n"
                f"    <failure message={quoteattr(check['detail'])}>{evidence}</failure>\n"
                "  </testcase>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="vendor-sandbox tolerance" tests="{len(cases)}" failures="{failures}">\n'
        + "\n".join(cases)
        + ("\n" if cases else "")
        + "</testsuite>\n"
    )


__all__ = [
    "NO_EVIDENCE",
    "TolerancePolicy",
    "TolerancePolicyError",
    "junit_xml",
    "render_text",
    "tolerance_report",
]
