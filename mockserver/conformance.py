"""The conformance report of a client, built from the journal: per operation, the calls made and the
violations (each rule with a count and one example request), and the operations never exercised.

Violations come from three places: what strict mode recorded on an exchange (`entry.violations`), and, in
every mode, requests the contract rejected (`answered_by == "error:validate"`: rule `contract`) and calls to a
path or method no contract defines (`answered_by == "error:route"`, or a proxy's `contract` violation on an
exchange with no operation: rule `undefined-operation`, listed by method and path under `undefined`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from mockserver.contracts.model import Operation
from mockserver.journal import JournalEntry

CONTRACT_RULE = "contract"
UNDEFINED_RULE = "undefined-operation"


def _example(entry: JournalEntry) -> dict[str, Any]:
    data = entry.to_dict()
    return {
        "request_id": entry.request_id,
        "method": entry.method,
        "path": entry.path,
        "query": data["query"],
        "body": data["request_body"],
        "status": entry.status,
    }


def _contract_message(entry: JournalEntry) -> str:
    body = entry.to_dict()["response_body"]
    try:
        error = body["errors"][0]
        return f"{error['message']} {error.get('details', '')}".strip()
    except (KeyError, IndexError, TypeError):
        return "The request does not conform to the contract."


def entry_violations(entry: JournalEntry) -> list[dict[str, str]]:
    found = list(entry.violations)
    if entry.answered_by == "error:validate" and not any(item["rule"] == CONTRACT_RULE for item in found):
        found.append({"rule": CONTRACT_RULE, "message": _contract_message(entry)})
    return found


def _undefined_message(entry: JournalEntry) -> str | None:
    """Why a call that reached no operation is a violation, or None where it is none (LWA, admin calls)."""
    if entry.answered_by == "error:route":
        return f"No operation of the contracts at {entry.method} {entry.path}."
    for item in entry.violations:
        if item["rule"] in (CONTRACT_RULE, UNDEFINED_RULE):
            return str(item["message"])
    return None


def _count_undefined(undefined: dict[tuple[str, str], dict[str, Any]], entry: JournalEntry) -> None:
    message = _undefined_message(entry)
    if message is None:
        return
    row = undefined.get((entry.method, entry.path))
    if row is None:
        row = undefined[(entry.method, entry.path)] = {
            "rule": UNDEFINED_RULE,
            "method": entry.method,
            "path": entry.path,
            "calls": 0,
            "statuses": {},
            "message": message,
            "example": _example(entry),
        }
    row["calls"] += 1
    row["statuses"][str(entry.status)] = row["statuses"].get(str(entry.status), 0) + 1


def build_report(entries: Iterable[JournalEntry], operations: Iterable[Operation]) -> dict[str, Any]:
    rows: dict[str, dict[str, Any]] = {}
    undefined: dict[tuple[str, str], dict[str, Any]] = {}
    known: dict[str, Operation] = {operation.name: operation for operation in operations}
    for entry in entries:
        if entry.operation is None:
            _count_undefined(undefined, entry)
            continue
        row = rows.get(entry.operation)
        if row is None:
            row = rows[entry.operation] = _row(
                entry.operation, entry.operation_id, known.get(entry.operation)
            )
        row["calls"] += 1
        row["statuses"][str(entry.status)] = row["statuses"].get(str(entry.status), 0) + 1
        for item in entry_violations(entry):
            rule = row["_rules"].get(item["rule"])
            if rule is None:
                rule = row["_rules"][item["rule"]] = {
                    "rule": item["rule"],
                    "count": 0,
                    "message": item["message"],
                    "example": _example(entry),
                }
            rule["count"] += 1
    return _finish(rows, known, list(undefined.values()))


def _row(name: str, operation_id: str | None, operation: Operation | None) -> dict[str, Any]:
    return {
        "operation": name,
        "operation_id": operation_id,
        "method": operation.method if operation else None,
        "path": operation.path if operation else None,
        "calls": 0,
        "statuses": {},
        "_rules": {},
    }


def _finish(
    rows: dict[str, dict[str, Any]], known: dict[str, Operation], undefined: list[dict[str, Any]]
) -> dict[str, Any]:
    operations = []
    for name in sorted(rows):
        row = dict(rows[name])
        row["violations"] = sorted(row.pop("_rules").values(), key=lambda item: item["rule"])
        operations.append(row)
    never = [
        {"operation": name, "operation_id": op.operation_id, "method": op.method, "path": op.path}
        for name, op in sorted(known.items())
        if name not in rows
    ]
    return _totals(operations, never, undefined)


def _totals(
    operations: list[dict[str, Any]], never: list[dict[str, Any]], undefined: list[dict[str, Any]]
) -> dict[str, Any]:
    undefined = sorted(undefined, key=lambda row: (row["path"], row["method"]))
    violation_count = sum(item["count"] for row in operations for item in row["violations"])
    violation_count += sum(row["calls"] for row in undefined)
    return {
        "operations": operations,
        "undefined": undefined,
        "never_exercised": never,
        "calls": sum(row["calls"] for row in operations) + sum(row["calls"] for row in undefined),
        "violation_count": violation_count,
        "conforms": violation_count == 0,
    }


def merge_reports(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One report from several (one per emulator of a test session)."""
    rows: dict[str, dict[str, Any]] = {}
    undefined: dict[tuple[str, str], dict[str, Any]] = {}
    never: dict[str, dict[str, Any]] | None = None
    for report in reports:
        for item in report.get("undefined", []):
            merged_path = undefined.setdefault(
                (item["method"], item["path"]), {**item, "calls": 0, "statuses": {}}
            )
            merged_path["calls"] += item["calls"]
            for status, count in item["statuses"].items():
                merged_path["statuses"][status] = merged_path["statuses"].get(status, 0) + count
        for row in report["operations"]:
            merged = rows.setdefault(row["operation"], {**row, "calls": 0, "statuses": {}, "_rules": {}})
            merged["calls"] += row["calls"]
            for status, count in row["statuses"].items():
                merged["statuses"][status] = merged["statuses"].get(status, 0) + count
            for item in row["violations"]:
                rule = merged["_rules"].setdefault(item["rule"], {**item, "count": 0})
                rule["count"] += item["count"]
        names = {item["operation"]: item for item in report["never_exercised"]}
        never = names if never is None else {name: item for name, item in never.items() if name in names}
    operations = []
    for name in sorted(rows):
        row = dict(rows[name])
        row.pop("violations", None)
        row["violations"] = sorted(row.pop("_rules").values(), key=lambda item: item["rule"])
        operations.append(row)
    never_list = [item for name, item in sorted((never or {}).items()) if name not in rows]
    return _totals(operations, never_list, list(undefined.values()))


def render_text(report: dict[str, Any]) -> str:
    lines = [
        f"conformance: {report['calls']} call(s) to {len(report['operations'])} operation(s), "
        f"{report['violation_count']} violation(s), {len(report['never_exercised'])} operation(s) "
        "never exercised"
    ]
    for row in report.get("undefined", []):
        lines.append(
            f"  FAIL {'(no operation)':<36} {row['calls']:>5} call(s)  {row['method']} {row['path']}"
        )
        lines.append(f"       {row['rule']} x{row['calls']}: {row['message']}")
    for row in report["operations"]:
        mark = "FAIL" if row["violations"] else "ok  "
        lines.append(f"  {mark} {row['operation_id']:<36} {row['calls']:>5} call(s)  {row['operation']}")
        for item in row["violations"]:
            example = item["example"]
            lines.append(f"       {item['rule']} x{item['count']}: {item['message']}")
            query = "&".join(f"{key}={value}" for key, values in example["query"].items() for value in values)
            lines.append(
                f"         e.g. {example['method']} {example['path']}{'?' + query if query else ''} "
                f"-> {example['status']} (request id {example['request_id']})"
            )
    return "\n".join(lines)


def junit_xml(report: dict[str, Any], suite: str = "vendor-sandbox conformance") -> str:
    """One test case per operation exercised (a failure per violated rule); never-exercised ones skipped."""
    from xml.etree import ElementTree  # with the first report asked for as XML, not with the server

    root = ElementTree.Element("testsuites")
    undefined = report.get("undefined", [])
    cases = len(report["operations"]) + len(report["never_exercised"]) + len(undefined)
    failures = sum(1 for row in report["operations"] if row["violations"]) + len(undefined)
    element = ElementTree.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(cases),
        failures=str(failures),
        errors="0",
        skipped=str(len(report["never_exercised"])),
    )
    for row in report["operations"]:
        case = ElementTree.SubElement(
            element, "testcase", classname=row["operation"].split("#")[0], name=str(row["operation_id"])
        )
        for item in row["violations"]:
            failure = ElementTree.SubElement(
                case, "failure", type=item["rule"], message=f"{item['rule']}: {item['message']}"
            )
            failure.text = json.dumps(item["example"], indent=2)
    for row in undefined:
        case = ElementTree.SubElement(
            element, "testcase", classname="undefined-operation", name=f"{row['method']} {row['path']}"
        )
        failure = ElementTree.SubElement(
            case, "failure", type=row["rule"], message=f"{row['rule']}: {row['message']}"
        )
        failure.text = json.dumps(row["example"], indent=2)
    for item in report["never_exercised"]:
        case = ElementTree.SubElement(
            element, "testcase", classname=item["operation"].split("#")[0], name=str(item["operation_id"])
        )
        ElementTree.SubElement(case, "skipped", message="never exercised")
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True)


__all__ = ["build_report", "entry_violations", "junit_xml", "merge_reports", "render_text"]
