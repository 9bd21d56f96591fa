"""The journal as HAR 1.2 (HTTP Archive), for browsers' and proxies' tools; and back, for replay."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from mockserver import __version__

HAR_VERSION = "1.2"


def _text(body: Any) -> str | None:
    if body is None:
        return None
    return body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))


def journal_to_har(
    entries: Iterable[dict[str, Any]], base_url: str = "http://vendor-sandbox"
) -> dict[str, Any]:
    """Each journal entry (`JournalEntry.to_dict()`) becomes one HAR entry; secrets stay redacted."""
    har_entries = []
    for entry in entries:
        query = entry.get("query") or {}
        pairs = [(name, value) for name, values in query.items() for value in values]
        request_body = _text(entry.get("request_body"))
        response_body = _text(entry.get("response_body")) or ""
        url = f"{base_url}{entry['path']}" + (f"?{urlencode(pairs)}" if pairs else "")
        request: dict[str, Any] = {
            "method": entry["method"],
            "url": url,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": [
                {"name": k, "value": str(v)} for k, v in (entry.get("request_headers") or {}).items()
            ],
            "queryString": [{"name": name, "value": value} for name, value in pairs],
            "headersSize": -1,
            "bodySize": len(request_body.encode()) if request_body else 0,
        }
        if request_body is not None:
            request["postData"] = {"mimeType": "application/json", "text": request_body}
        har_entries.append(
            {
                "startedDateTime": datetime.fromtimestamp(entry["time"], UTC).isoformat(),
                "time": entry.get("latency_ms", 0),
                "request": request,
                "response": {
                    "status": entry["status"],
                    "statusText": "",
                    "httpVersion": "HTTP/1.1",
                    "cookies": [],
                    "headers": [
                        {"name": "x-amzn-RequestId", "value": entry["request_id"]},
                        {"name": "Content-Type", "value": "application/json"},
                    ],
                    "content": {
                        "size": len(response_body.encode()),
                        "mimeType": "application/json",
                        "text": response_body,
                    },
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": len(response_body.encode()),
                },
                "cache": {},
                "timings": {"send": 0, "wait": entry.get("latency_ms", 0), "receive": 0},
                "comment": json.dumps(
                    {
                        "operation": entry.get("operation"),
                        "answered_by": entry.get("answered_by"),
                        "violations": entry.get("violations") or [],
                    }
                ),
            }
        )
    return {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": "vendor-sandbox", "version": __version__},
            "entries": har_entries,
        }
    }


__all__ = ["journal_to_har"]
