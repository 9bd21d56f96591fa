"""The faults stage: chaos rules may replace or damage an answer (after validate, before handle).

`before_handle` asks the chaos engine about the exchange, sleeps any latency and, for an action that replaces
the answer (an Amazon error, a throttle storm's 429, a drop before the handler), returns the result to send.
`damage` then works at the connection level on the response the gateway built:

- a drop closes the connection without one byte of the answer's body. The response's body iterator raises
  waitress's `ClientDisconnected` before anything is written: waitress then sends nothing (no 500 page, as for
  other exceptions) and closes the socket, so the client sees the connection closed with no answer; granian
  (`serve`) sends the status line and headers while the body is produced, then closes without a body;
- a truncated answer sends the headers (with the full `Content-Length`) and part of the body, then closes
  (granian, racing the body, sometimes closes before the first byte);
- a trickle sends the body a few bytes at a time, waking waitress's loop after each chunk so each one leaves
  at once (waitress otherwise holds small writes until its loop wakes);
- malformed JSON replaces the body by broken JSON with a consistent `Content-Length`.

Standing actions ride along (`reshape`, on the answer the handler gave): drift changes the answer as Amazon's
model changes would (`chaos/drift.py`), recording each change in the journal (`drift`) and naming the drift
in `x-vendor-sandbox-drift`; a retirement adds its deprecation notice before its date on the sandbox clock,
and from that date `before_handle` answers as Amazon answers a removed version (`chaos/retirement.py`).

The LWA token endpoint gets the same actions through `wrap_lwa_view`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from flask import request as current_request
from werkzeug.wrappers import Request, Response

from mockserver import wire
from mockserver.accounts import AccountDirectory
from mockserver.chaos.actions import ACCESS_DENIED, FaultEffect, sp_api_error
from mockserver.chaos.drift import apply_drift, changed_fields
from mockserver.chaos.engine import ChaosEngine, Decision
from mockserver.chaos.plan import FAULT_HEADER
from mockserver.chaos.retirement import RETIRED_DETAILS
from mockserver.chaos.rules import FaultContext, RuleError
from mockserver.ids import unique_id
from mockserver.journal import Journal, JournalEntry, redact
from mockserver.pipeline import errors
from mockserver.pipeline.auth import TOKEN_HEADER
from mockserver.pipeline.throttle import UsagePlan

if TYPE_CHECKING:
    from mockserver.pipeline.gateway import HandlerResult

log = logging.getLogger(__name__)

NO_ANSWER = 0  # the journal's status of an exchange whose connection was dropped before any answer
MALFORMED_JSON = b'{"payload": {"orders": [{"purchaseOrderNumber": "'
LWA_CONTENT_TYPE = "application/json;charset=UTF-8"
DRIFT_HEADER = "x-vendor-sandbox-drift"  # the drift actions that changed this answer, comma-separated
JOURNAL_CHANGES_LIMIT = 200  # changes kept per drift in the journal (the count is always exact)


class ConnectionDropped(ConnectionAbortedError):
    """Raised from a response body to make the server close the connection."""


@functools.cache
def _dropped_under_waitress(client_disconnected: type[Exception]) -> type[ConnectionDropped]:
    """ConnectionDropped that is also waitress's "client gone", on which it closes the socket and writes
    nothing more (on any other exception it sends a 500 page)."""
    return type("ConnectionDropped", (ConnectionDropped, client_disconnected), {})


def _connection_dropped(message: str) -> ConnectionDropped:
    """The exception that drops the connection on the server in use. Where waitress serves, it has imported
    its channel; `serve` (granian) never imports waitress, which would add 6 ms to its start-up."""
    channel = sys.modules.get("waitress.channel")
    client_disconnected = getattr(channel, "ClientDisconnected", None)
    if client_disconnected is None:
        return ConnectionDropped(message)
    return _dropped_under_waitress(client_disconnected)(message)


def _sleep(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


class FaultStage:
    def __init__(self, engine: ChaosEngine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock  # the sandbox clock (epoch seconds): retirement dates are read on it

    def before_handle(self, request: Request, exchange: Any) -> HandlerResult | None:
        """The HandlerResult replacing the answer, or None to let the handler answer."""
        from mockserver.pipeline.gateway import HandlerResult

        if self.engine.idle and FAULT_HEADER not in request.headers:
            return None  # the common case, at the cost of two reads
        operation, principal = exchange.operation, exchange.principal
        context = FaultContext(
            endpoint="sp-api",
            method=request.method,
            path=request.path,
            headers={name.lower(): value for name, value in request.headers.items()},
            operation_names=(operation.name, operation.operation_id) if operation else (),
            api_names=(operation.api.api_id,) if operation else (),
            account_names=(principal.account.name, principal.account.selling_partner_id) if principal else (),
            application_names=(
                (
                    principal.application.name,
                    principal.application.client_id,
                    principal.application.application_id,
                )
                if principal
                else ()
            ),
        )
        try:
            decision = self.engine.decide(context, request.headers.get(TOKEN_HEADER))
        except RuleError as error:
            raise errors.invalid_input("Invalid fault header.", str(error)) from error
        if decision is None:
            return None
        if decision.standing:
            exchange.standing = decision.standing
            retired = self._retired(decision.standing)
            if retired is not None:
                return self._retired_answer(exchange, *retired)
        if decision.storm_rate is not None and exchange.plan is not None:
            exchange.plan = UsagePlan(decision.storm_rate, decision.storm_burst or 1)
        effect = decision.effect
        if effect is None:
            return None
        exchange.fault = decision
        _sleep(effect.delay)
        if effect.error is not None:
            answer = effect.error
            return HandlerResult(answer.status, answer.body, f"fault:{effect.action}", dict(answer.headers))
        if effect.drop and not effect.after_handle:
            return HandlerResult(NO_ANSWER, None, f"fault:{effect.action}")
        return None

    def _retired(
        self, standing: list[tuple[str | None, FaultEffect]]
    ) -> tuple[str | None, FaultEffect] | None:
        now = self.clock()
        for rule_id, effect in standing:
            if effect.retirement is not None and effect.retirement.state(now) == "retired":
                return rule_id, effect
        return None

    def _retired_answer(self, exchange: Any, rule_id: str | None, effect: FaultEffect) -> HandlerResult:
        from mockserver.pipeline.gateway import HandlerResult

        answer = sp_api_error(403, "Unauthorized", ACCESS_DENIED, RETIRED_DETAILS)
        exchange.fault = Decision(
            dataclasses.replace(effect, error=answer), "header" if rule_id is None else "rule", rule_id
        )
        exchange.standing = []  # a removed version answers nothing else
        exchange.plan = None  # ... and advertises no usage plan
        assert effect.retirement is not None
        exchange.notes.append(f"retired: {effect.retirement.notice()}")
        return HandlerResult(answer.status, answer.body, "fault:retire")

    def reshape(self, exchange: Any, result: HandlerResult) -> HandlerResult:
        """The handler's answer with the standing effects applied: deprecation notices, then drift."""
        from mockserver.pipeline.gateway import HandlerResult

        if not exchange.standing or result.status == NO_ANSWER:
            return result
        headers = dict(result.headers)
        records: list[dict[str, Any]] = []
        payload = result.payload
        if payload is None and result.body:
            payload = wire.loads(result.body)
        operation = exchange.operation
        declared = operation.responses.get(str(result.status)) if operation is not None else None
        schema = declared.schema if declared is not None else None
        # An answer a fault replaced is the fault's own; drift changes what the service answered.
        drifts = payload is not None and schema is not None and not result.answered_by.startswith("fault:")
        drifted: list[str] = []
        for rule_id, effect in exchange.standing:
            mark: dict[str, Any] = {
                "source": "header" if rule_id is None else "rule",
                "action": effect.action,
            }
            if rule_id is not None:
                mark["rule"] = rule_id
            if effect.retirement is not None:
                if effect.retirement.state(self.clock()) == "deprecated":
                    headers.update(effect.retirement.notice_headers())
                    exchange.notes.append(f"deprecation notice: {effect.retirement.notice()}")
                    records.append({**mark, "state": "deprecated", **effect.retirement.describe()})
                continue
            if effect.drift is None:
                continue
            if not drifts:
                records.append({**mark, "changed": 0, "skipped": "no answer of the service to drift"})
                continue
            assert operation is not None
            spec = effect.drift
            outcome = apply_drift(
                spec.kind, spec.params, spec.seed, payload, schema, operation.api.definitions
            )
            payload = outcome.body
            records.append(
                {
                    **mark,
                    "params": dict(spec.params),
                    "changed": len(outcome.changes),
                    "fields": changed_fields(outcome.changes),
                    "loosening": outcome.loosening.to_dict(),
                    "changes": outcome.changes[:JOURNAL_CHANGES_LIMIT],
                    "truncated": len(outcome.changes) > JOURNAL_CHANGES_LIMIT,
                }
            )
            if outcome.changes:
                drifted.append(effect.action)
        exchange.drift = records or None
        if not drifted:
            return dataclasses.replace(result, headers=headers)
        headers[DRIFT_HEADER] = ",".join(drifted)
        return HandlerResult(result.status, payload, result.answered_by, headers)

    def damage(self, request: Request, exchange: Any, response: Response) -> Response:
        decision: Decision | None = exchange.fault
        if decision is None or decision.effect is None:
            return response
        return damage_response(request, decision.effect, response)


def _wake_server(request: Request) -> Callable[[], None]:
    """A callable that wakes waitress's loop so a small write leaves now; a no-op on another server."""
    check = request.environ.get("waitress.client_disconnected")
    channel = getattr(check, "__self__", None)
    server = getattr(channel, "server", None)
    pull = getattr(server, "pull_trigger", None)
    return pull if callable(pull) else (lambda: None)


def _dropped(prefix: bytes = b"") -> Iterator[bytes]:
    if prefix:
        yield prefix
    raise _connection_dropped("connection dropped by a fault rule")


def _trickled(
    body: bytes, chunk: int, interval: float, limit: float, wake: Callable[[], None]
) -> Iterator[bytes]:
    deadline = time.monotonic() + limit
    for start in range(0, len(body), chunk):
        if start:
            wake()
            if time.monotonic() >= deadline:
                yield body[start:]
                return
            time.sleep(interval)
        yield body[start : start + chunk]


def damage_response(request: Request, effect: FaultEffect, response: Response) -> Response:
    if effect.drop:
        return Response(_dropped(), status=200, direct_passthrough=True)
    if (
        effect.truncate_keep is None
        and effect.truncate_fraction is None
        and not (effect.malformed or effect.trickle)
    ):
        return response
    body = response.get_data()
    headers = {name: value for name, value in response.headers.items() if name.lower() != "content-length"}
    if effect.malformed:
        return Response(MALFORMED_JSON, status=response.status_code, headers=headers)
    if effect.trickle is not None:
        chunk, interval, limit = effect.trickle
        damaged = Response(
            _trickled(body, chunk, interval, limit, _wake_server(request)),
            status=response.status_code,
            headers=headers,
            direct_passthrough=True,
        )
        damaged.headers["Content-Length"] = str(len(body))
        return damaged
    keep = effect.truncate_keep
    if keep is None:
        keep = int(len(body) * (effect.truncate_fraction or 0.0))
    keep = min(keep, max(len(body) - 1, 0))
    damaged = Response(
        _dropped(body[:keep]), status=response.status_code, headers=headers, direct_passthrough=True
    )
    damaged.headers["Content-Length"] = str(len(body))
    return damaged


def wrap_lwa_view(
    view: Callable[..., Any], engine: ChaosEngine, accounts: AccountDirectory, journal: Journal
) -> Callable[..., Any]:
    """The LWA token endpoint with fault rules (`endpoint: lwa`); faulted exchanges go to the journal."""

    def token_endpoint(*args: Any, **kwargs: Any) -> Any:
        request = current_request
        if engine.idle and FAULT_HEADER not in request.headers:
            return view(*args, **kwargs)
        started = time.perf_counter()
        client_id = request.form.get("client_id", "") if request.mimetype else ""
        application = accounts.application_by_client_id(client_id) if client_id else None
        context = FaultContext(
            endpoint="lwa",
            method=request.method,
            path=request.path,
            headers={name.lower(): value for name, value in request.headers.items()},
            application_names=(
                (application.name, application.client_id, application.application_id)
                if application
                else (client_id,)
            ),
        )
        try:
            decision = engine.decide(context)
        except RuleError:
            decision = None
        if decision is None or decision.effect is None:
            return view(*args, **kwargs)
        effect = decision.effect
        _sleep(effect.delay)
        request_id = unique_id()
        if effect.error is not None:
            answer = effect.error
            response = Response(json.dumps(answer.body), status=answer.status, content_type=LWA_CONTENT_TYPE)
            response.headers.update({"Cache-Control": "no-store", "x-amzn-RequestId": request_id})
            response.headers.update(answer.headers)
            status = answer.status
        elif effect.drop and not effect.after_handle:
            response, status = Response(status=200), NO_ANSWER
        else:
            response = view(*args, **kwargs)
            status = response.status_code
        journal.record(
            JournalEntry(
                sequence=journal.next_sequence(),
                time=time.time(),
                request_id=response.headers.get("x-amzn-RequestId", request_id),
                method=request.method,
                path=request.path,
                operation=None,
                operation_id=None,
                account=None,
                application=application.name if application else None,
                status=status,
                latency_ms=round((time.perf_counter() - started) * 1000, 3),
                answered_by=f"fault:{effect.action}",
                request_headers=redact(dict(request.headers)),
                request_body=redact(request.form.to_dict()) if request.mimetype else None,
                notes=[f"fault injected: {effect.action}"],
                fault=decision.mark(),
            )
        )
        return damage_response(request, effect, response)

    return token_endpoint


__all__ = ["DRIFT_HEADER", "NO_ANSWER", "ConnectionDropped", "FaultStage", "damage_response", "wrap_lwa_view"]
