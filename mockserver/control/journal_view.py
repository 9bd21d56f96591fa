"""The journal as the inspector lists it (`GET /_sandbox/journal?view=summary`): each exchange without its
bodies and headers (a page of 100 purchase orders is ~170 KB: a live list polled every second must not carry
them), with what a person scans a list for: the fault applied, the rules a request broke, and, for a
transaction's status or a submission's answer, the transaction and how it ended."""

from __future__ import annotations

from typing import Any

from mockserver import wire
from mockserver.control.world_view import broken_rules
from mockserver.journal import JournalEntry

# A transaction's status is looked for in answers up to this size (a status answer is well under 4 KB).
TRANSACTION_BODY_LIMIT = 64 * 1024


def _transaction(entry: JournalEntry) -> dict[str, Any] | None:
    body = entry.response_body
    if not isinstance(body, bytes | bytearray) or len(body) > TRANSACTION_BODY_LIMIT:
        return None
    if b'"transactionStatus"' not in body and b'"transactionId"' not in body:
        return None
    try:
        document = wire.loads(bytes(body))
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    inner = document.get("payload")
    payload: dict[str, Any] = inner if isinstance(inner, dict) else document
    status = payload.get("transactionStatus")
    if isinstance(status, dict):
        errors = status.get("errors")
        if isinstance(errors, dict):  # Direct Fulfillment 2021-12-28: {"errors": [...]}
            errors = errors.get("errors")
        listed = [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []
        return {
            "id": status.get("transactionId"),
            "status": status.get("status"),
            "rules": broken_rules(listed),
        }
    if isinstance(payload.get("transactionId"), str):
        return {"id": payload["transactionId"], "status": "submitted", "rules": []}
    return None


def summary(entry: JournalEntry) -> dict[str, Any]:
    return {
        "sequence": entry.sequence,
        "time": entry.time,
        "request_id": entry.request_id,
        "method": entry.method,
        "path": entry.path,
        "operation": entry.operation,
        "operation_id": entry.operation_id,
        "account": entry.account,
        "application": entry.application,
        "status": entry.status,
        "latency_ms": entry.latency_ms,
        "answered_by": entry.answered_by,
        "fault": (entry.fault or {}).get("action"),
        "violations": sorted({item["rule"] for item in entry.violations}),
        "notes": len(entry.notes),
        "transaction": _transaction(entry),
    }


__all__ = ["summary"]
