"""`vendor-sandbox proxy --target URL` and `vendor-sandbox replay FILE`.

The proxy forwards every request to the target (Amazon's production or sandbox endpoint for a user with
access, another emulator in the tests), validates the request and the response against the contracts (never
blocking: what it finds is recorded as violations), and records every exchange in a journal that
`GET /_sandbox/journal`, `GET /_sandbox/journal/har` and `GET /_sandbox/report/conformance` read.

Replay serves a recording (HAR, or the JSON of `GET /_sandbox/journal`) back: a request gets the recorded
response of the same method, path and query (the one with the same body first; repeated requests get the
recorded answers in order, then the last again); anything else gets a 404 in Amazon's shape.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from flask import Flask, Response, jsonify, request

from mockserver.conformance import build_report, junit_xml, render_text
from mockserver.contracts.registry import DEFAULT_CONTRACTS, OperationRegistry, PathMatch, RouteMatch
from mockserver.har import journal_to_har
from mockserver.ids import unique_id
from mockserver.journal import Journal, JournalEntry, redact
from mockserver.pipeline.errors import SpApiError
from mockserver.pipeline.validate import NO_BODY, RequestValidator

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# Not forwarded either way: connection-level headers, and what the HTTP client recomputes.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)


def _violations(
    registry: OperationRegistry, validator: RequestValidator, status: int, body: bytes | None
) -> Any:
    """What is wrong with the request (of flask.request) and with a response, against the contracts
    (`body` None: the response is the proxy's own, not the target's, and is not judged)."""
    found: list[dict[str, str]] = []
    match = registry.match(request.method, request.path)
    if not isinstance(match, RouteMatch):
        if isinstance(match, PathMatch) or request.path.startswith(("/vendor/", "/reports/", "/tokens/")):
            found.append({"rule": "contract", "message": f"No operation at {request.method} {request.path}."})
        return None, found
    operation = match.operation
    try:
        parsed = (
            validator.parse_body(request.get_data(cache=True), request.content_type)
            if operation.body is not None
            else NO_BODY
        )
        validator.validate(operation, match.path_parameters, request.args, request.headers, parsed)
    except SpApiError as error:
        found.append({"rule": "contract", "message": f"{error.message} {error.details}".strip()})
    if body is None:
        return operation, found
    try:
        payload = json.loads(body) if body else None
    except ValueError:
        payload = None
        found.append({"rule": "response-contract", "message": "The response body is not JSON."})
    if payload is not None:
        if str(status) not in operation.responses:
            found.append({"rule": "response-contract", "message": f"Status {status} is not in the contract."})
        else:
            problem = validator.response_violation(operation, str(status), payload)
            if problem:
                found.append({"rule": "response-contract", "message": problem})
    return operation, found


def check_target(target: str) -> None:
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"--target must be an http(s) URL such as https://sellingpartnerapi-na.amazon.com, not {target!r}"
        )


def _recorded_request_body() -> Any:
    """The request body as the journal keeps it: JSON as bytes (redacted when read), forms redacted now."""
    if request.mimetype == "application/x-www-form-urlencoded":
        return redact(request.form.to_dict()) or None
    return request.get_data(cache=True) or None


def _record(
    journal: Journal,
    operation: Any,
    *,
    request_id: str,
    status: int,
    started: float,
    answered_by: str,
    response_body: bytes | None,
    violations: list[dict[str, str]],
) -> None:
    """One journal entry for the exchange of flask.request."""
    journal.record(
        JournalEntry(
            sequence=journal.next_sequence(),
            time=time.time(),
            request_id=request_id,
            method=request.method,
            path=request.path,
            operation=operation.name if operation else None,
            operation_id=operation.operation_id if operation else None,
            account=None,
            application=None,
            status=status,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            answered_by=answered_by,
            request_headers=redact(dict(request.headers)),
            query=redact(request.args.to_dict(flat=False)),
            request_body=_recorded_request_body(),
            response_body=response_body,
            violations=violations,
        )
    )


def create_proxy_app(
    target: str, contracts: Path | None = None, journal_size: int = 10_000, timeout: float = 60.0
) -> Flask:
    """The proxy's Flask app; raises ValueError for a target that is not an http(s) URL and
    ContractError for a contracts directory without contracts."""
    check_target(target)
    registry = OperationRegistry.from_directory(contracts or DEFAULT_CONTRACTS)
    validator = RequestValidator(max_body_bytes=10 * 1024 * 1024)
    journal = Journal(journal_size)
    upstream = requests.Session()
    target = target.rstrip("/")
    app = Flask(__name__)
    app.extensions["vendor_sandbox_proxy"] = journal

    @app.get("/_sandbox/journal")
    def journal_entries() -> Any:
        return jsonify({"entries": [entry.to_dict() for entry in journal.entries()]})

    @app.get("/_sandbox/journal/har")
    def journal_har() -> Any:
        return jsonify(journal_to_har((entry.to_dict() for entry in journal.entries()), target))

    @app.get("/_sandbox/report/conformance")
    def conformance() -> Any:
        report = build_report(journal.entries(), registry.operations)
        if request.args.get("format") == "junit":
            return Response(junit_xml(report), content_type="application/xml")
        if request.args.get("format") == "text":
            return Response(render_text(report) + "\n", content_type="text/plain; charset=utf-8")
        return jsonify(report)

    def forward(path: str = "") -> Response:
        started = time.perf_counter()
        headers = {name: value for name, value in request.headers.items() if name.lower() not in _HOP_BY_HOP}
        try:
            upstream_response = upstream.request(
                request.method,
                f"{target}{request.path}",
                params=list(request.args.items(multi=True)),
                data=request.get_data(cache=True),
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            return unreachable(started, error)
        body = upstream_response.content
        operation, found = _violations(registry, validator, upstream_response.status_code, body)
        request_id = upstream_response.headers.get("x-amzn-RequestId") or unique_id()
        answered_by = "proxy" if not any(item["rule"] == "contract" for item in found) else "proxy:invalid"
        _record(
            journal,
            operation,
            request_id=request_id,
            status=upstream_response.status_code,
            started=started,
            answered_by=answered_by,
            response_body=body or None,
            violations=found,
        )
        response_headers = [
            (name, value)
            for name, value in upstream_response.headers.items()
            if name.lower() not in _HOP_BY_HOP
        ]
        return Response(body, status=upstream_response.status_code, headers=response_headers)

    def unreachable(started: float, error: requests.RequestException) -> Response:
        """The target did not answer: Amazon's 503 shape (every operation lists 503), recorded in the
        journal as the proxy's own answer; the reason in one line, never a stack trace."""
        operation, found = _violations(registry, validator, 503, None)
        request_id = unique_id()
        reason = "timed out" if isinstance(error, requests.Timeout) else "could not be reached"
        body = {
            "errors": [
                {
                    "code": "ServiceUnavailable",
                    "message": "Temporary overloading or maintenance of the server.",
                    "details": f"vendor-sandbox proxy: {target} {reason} ({type(error).__name__}).",
                }
            ]
        }
        encoded = json.dumps(body).encode()
        _record(
            journal,
            operation,
            request_id=request_id,
            status=503,
            started=started,
            answered_by="proxy:unreachable",
            response_body=encoded,
            violations=found,
        )
        return Response(
            encoded,
            status=503,
            content_type="application/json",
            headers={"x-amzn-RequestId": request_id, "x-vendor-sandbox-answer": "proxy:unreachable"},
        )

    app.add_url_rule("/", "forward_root", forward, methods=ALL_METHODS)
    app.add_url_rule("/<path:path>", "forward", forward, methods=ALL_METHODS)
    return app


# -- replay ------------------------------------------------------------------------------------------------


class RecordingError(ValueError):
    """A recording that cannot be read: missing, not JSON, or neither a HAR file nor a journal document."""


def load_recording(path: Path) -> list[dict[str, Any]]:
    """Exchanges of a HAR file or of a journal document: method, path, query, request body, status, body."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RecordingError(f"cannot read the recording {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise RecordingError(f"the recording {path} is not JSON: {error}") from None
    try:
        return _exchanges(document)
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        kind = f"{type(error).__name__} {error}"
        raise RecordingError(
            f"{path} is neither a HAR file nor a GET /_sandbox/journal document ({kind})"
        ) from None


def _exchanges(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict) or not ("log" in document or "entries" in document):
        raise ValueError("no `log` (HAR) or `entries` (journal) at the top")
    exchanges: list[dict[str, Any]] = []
    if "log" in document:
        for entry in document["log"]["entries"]:
            url = urlsplit(entry["request"]["url"])
            content = entry["response"].get("content") or {}
            exchanges.append(
                {
                    "method": entry["request"]["method"],
                    "path": url.path,
                    "query": sorted(parse_qsl(url.query, keep_blank_values=True)),
                    "request_body": _parsed((entry["request"].get("postData") or {}).get("text")),
                    "status": entry["response"]["status"],
                    "body": content.get("text") or "",
                }
            )
        return exchanges
    for entry in document.get("entries", []):
        query = sorted(
            (name, value) for name, values in (entry.get("query") or {}).items() for value in values
        )
        body = entry.get("response_body")
        exchanges.append(
            {
                "method": entry["method"],
                "path": entry["path"],
                "query": query,
                "request_body": entry.get("request_body"),
                "status": entry["status"],
                "body": "" if body is None else body if isinstance(body, str) else json.dumps(body),
            }
        )
    return exchanges


def _parsed(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def create_replay_app(recording: Path | list[dict[str, Any]]) -> Flask:
    exchanges = load_recording(recording) if isinstance(recording, Path) else recording
    served: dict[int, int] = {}
    lock = threading.Lock()
    app = Flask(__name__)

    def replay(path: str = "") -> Response:
        query = sorted(request.args.items(multi=True))
        candidates = [
            index
            for index, item in enumerate(exchanges)
            if item["method"] == request.method and item["path"] == request.path and item["query"] == query
        ]
        if not candidates:
            body = {
                "errors": [
                    {
                        "code": "NotFound",
                        "message": "The requested resource was not found.",
                        "details": f"No recorded exchange for {request.method} {request.path}.",
                    }
                ]
            }
            return Response(json.dumps(body), status=404, content_type="application/json")
        sent = _parsed(request.get_data(as_text=True))
        same_body = [index for index in candidates if exchanges[index]["request_body"] == sent]
        pool = same_body or candidates
        key = pool[0]
        with lock:  # waitress serves from several threads
            position = served.get(key, 0)
            served[key] = position + 1
        chosen = exchanges[pool[min(position, len(pool) - 1)]]
        return Response(
            chosen["body"],
            status=chosen["status"],
            content_type="application/json",
            headers={"x-amzn-RequestId": unique_id(), "x-vendor-sandbox-answer": "replay"},
        )

    app.add_url_rule("/", "replay_root", replay, methods=ALL_METHODS)
    app.add_url_rule("/<path:path>", "replay", replay, methods=ALL_METHODS)
    return app


def _serve(app: Flask, host: str, port: int, what: str) -> None:
    """Serve until SIGINT or SIGTERM (both end the loop the same way, so what follows `run()` happens)."""
    from mockserver.server import bind, on_stop_signals

    server = bind(host, port)
    server.application = app
    shown = host if ":" not in host else f"[{host}]"

    def stop() -> None:
        raise KeyboardInterrupt

    on_stop_signals(stop)
    print(f"vendor-sandbox {what} on http://{shown}:{server.effective_port}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def serve_proxy(
    target: str, *, host: str, port: int, contracts: Path | None = None, har: Path | None = None
) -> int:
    """Raises ValueError (target), ContractError (contracts) or OSError (address in use) before serving."""
    if har is not None and not har.parent.is_dir():
        raise OSError(f"--har {har}: the directory {har.parent} does not exist")
    app = create_proxy_app(target, contracts)
    _serve(app, host, port, f"proxy to {target}")
    if har is not None:
        journal: Journal = app.extensions["vendor_sandbox_proxy"]
        entries = [entry.to_dict() for entry in journal.entries()]
        har.write_text(json.dumps(journal_to_har(entries, target), indent=2), encoding="utf-8")
        print(
            f"vendor-sandbox: wrote {len(entries)} exchange(s) as HAR to {har}", file=sys.stderr, flush=True
        )
    return 0


def serve_replay(recording: Path, *, host: str, port: int) -> int:
    """Raises RecordingError (recording) or OSError (address in use) before serving."""
    _serve(create_replay_app(recording), host, port, f"replay of {recording}")
    return 0


__all__ = [
    "RecordingError",
    "check_target",
    "create_proxy_app",
    "create_replay_app",
    "load_recording",
    "serve_proxy",
    "serve_replay",
]
