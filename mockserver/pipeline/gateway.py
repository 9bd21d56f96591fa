"""The request pipeline for SP-API operations: one straight line, one stage per module.

route -> authenticate -> throttle -> (static case) -> validate -> handle -> respond
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from mockserver import wire
from mockserver.contracts.model import Operation
from mockserver.contracts.registry import OperationRegistry, PathMatch, RouteMatch
from mockserver.ids import unique_id
from mockserver.journal import Journal, JournalEntry, redact
from mockserver.pipeline import errors
from mockserver.pipeline.auth import TOKEN_HEADER, Principal, TokenLookup, authenticate
from mockserver.pipeline.direct_answer import DirectAnswer, direct_answer
from mockserver.pipeline.faults import FaultStage
from mockserver.pipeline.host import EndpointChoice, endpoint_for_host
from mockserver.pipeline.response_check import ResponseCheckPolicy
from mockserver.pipeline.strict import StrictChecker, Violation, is_restricted
from mockserver.pipeline.throttle import Throttle, UsagePlan
from mockserver.pipeline.validate import NO_BODY, RequestValidator, ValidatedRequest

log = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json"
# How the emulator answered (stateful, generated, static-case, error:<stage>): honest about generated bodies.
ANSWER_HEADER = "x-vendor-sandbox-answer"
# Strict mode: the rules a request broke, comma-separated (also in the journal and the conformance report).
VIOLATIONS_HEADER = "x-vendor-sandbox-violations"


@dataclass
class Call:
    """What a handler receives: the validated request and who made it."""

    operation: Operation
    principal: Principal
    request: ValidatedRequest
    request_id: str
    origin: str = ""  # where the emulator's own URLs (report documents) point: see Sandbox.public_origin


@dataclass
class HandlerResult:
    """A handler's answer: status, payload, how it was answered, and any headers of its own."""

    status: int
    payload: Any
    answered_by: str = "stateful"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # the payload already serialised, where the handler has it
    conforms: bool = False  # already known to be valid against the contract (checked once, then cached)


Handler = Callable[[Call], HandlerResult]
StaticAnswer = Callable[[Operation, Request, dict[str, str], Any], HandlerResult | None]


@dataclass
class Exchange:
    """One SP-API request on its way through the pipeline: what each stage found, for answer and journal."""

    request_id: str
    started: float
    operation: Operation | None = None
    principal: Principal | None = None
    plan: UsagePlan | None = None
    body: Any = NO_BODY
    notes: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    fault: Any = None  # chaos: the engine's Decision when a fault rule fired (pipeline/faults.py)
    standing: list[Any] = field(default_factory=list)  # chaos: drift and retirement effects that apply
    drift: list[dict[str, Any]] | None = None  # chaos: what the standing effects did, for the journal


class Gateway:
    def __init__(
        self,
        *,
        registry: OperationRegistry,
        tokens: TokenLookup,
        throttle: Throttle,
        validator: RequestValidator,
        journal: Journal,
        handlers: dict[str, Handler],
        generated: Callable[[Operation], HandlerResult],
        default_mode: str,
        static_registry: OperationRegistry | None,
        static_answer: StaticAnswer | None,
        static_unavailable: str,
        validate_responses: bool,
        strict: StrictChecker | None = None,
        faults: FaultStage | None = None,
        response_checks: ResponseCheckPolicy | None = None,
        internal_failure_seen: Callable[[Exception], None] | None = None,
        origin_of: Callable[[Request], str] | None = None,
        sync: Callable[[], None] | None = None,
    ) -> None:
        self.registry = registry
        self.tokens = tokens
        self.throttle = throttle
        self.validator = validator
        self.journal = journal
        self.handlers = handlers
        self.generated = generated
        self.default_mode = default_mode
        self.static_registry = static_registry
        self.static_answer = static_answer
        self.static_unavailable = static_unavailable
        self.validate_responses = validate_responses
        self.strict = strict
        self.faults = faults
        self.response_checks = response_checks or ResponseCheckPolicy()
        self.internal_failure_seen = internal_failure_seen
        self.origin_of = origin_of or (lambda request: request.host_url.rstrip("/"))
        self.sync = sync  # several processes: read what another one changed, before anything else

    def __call__(self, request: Request) -> Response:
        answer = self._answer(request, direct=False)
        assert isinstance(answer, Response)
        return answer

    def wsgi(self, request: Request) -> Response | DirectAnswer:
        """The answer as a WSGI application: written straight to the server where Werkzeug's Response would
        add nothing (`direct_answer.py`), else that Response."""
        return self._answer(request, direct=True)

    def _answer(self, request: Request, direct: bool) -> Response | DirectAnswer:
        exchange = Exchange(request_id=unique_id(), started=time.perf_counter())
        try:
            if self.sync is not None:
                self.sync()
            result = self._run(request, exchange)
        except errors.SpApiError as error:
            result = HandlerResult(error.status, error.body(), f"error:{error.stage}", dict(error.headers))
        except Exception as error:  # the emulator's own fault: still Amazon's shape, and never a stack trace
            log.exception("internal failure answering %s %s", request.method, request.path)
            if self.internal_failure_seen is not None:
                self.internal_failure_seen(error)
            failure = errors.internal_failure()
            result = HandlerResult(failure.status, failure.body(), "error:internal")
        return self._respond(request, exchange, result, direct)

    def _run(self, request: Request, exchange: Exchange) -> HandlerResult:
        endpoint = endpoint_for_host(request.headers.get("Host", ""), self.default_mode)
        static = endpoint.mode == "static"
        registry = self.registry
        if static and self.static_registry is not None:
            registry = self.static_registry
        match = registry.match(request.method, request.path)
        if isinstance(match, PathMatch):
            raise errors.method_not_allowed(match.allowed_methods)
        if not isinstance(match, RouteMatch):
            raise errors.not_found(f"No operation at {request.method} {request.path}.")
        operation = exchange.operation = match.operation
        principal = exchange.principal = authenticate(
            request.headers.get(TOKEN_HEADER), operation, self.tokens, endpoint.region, request.path
        )
        strict = self.strict if self.strict is not None and self.strict.enabled else None
        if strict is not None:
            strict.check_token_kind(operation, principal.token_kind, exchange.violations)
        if not static and principal.token_kind != "rdt" and is_restricted(operation):
            # Amazon refuses personal data to an LWA access token: a restricted data token is needed.
            raise errors.not_authorized()
        plan_key = (operation.name, principal.account.selling_partner_id, principal.application.client_id)
        try:
            exchange.plan = self.throttle.take(operation, plan_key[1], plan_key[2])
        except errors.SpApiError:
            if strict is not None:
                strict.throttled(plan_key, exchange.violations)
            raise
        if strict is not None:
            strict.admitted(plan_key)
        if operation.body is not None:
            exchange.body = self.validator.parse_body(request.get_data(cache=True), request.content_type)
        if static:
            return self._static(operation, request, match.path_parameters, exchange.body)
        validated = self.validator.validate(
            operation, match.path_parameters, request.args, request.headers, exchange.body
        )
        if strict is not None:
            strict.check_request(
                operation,
                principal.account.name,
                principal.account.marketplace_ids,
                request.args,
                match.path_parameters,
                None if exchange.body is NO_BODY else exchange.body,
                exchange.violations,
            )
        if self.faults is not None:
            faulted = self.faults.before_handle(request, exchange)
            if faulted is not None:
                return faulted
        handler = self.handlers.get(operation.name)
        call = Call(operation, principal, validated, exchange.request_id, self.origin_of(request))
        if handler is None:
            return self.generated(operation)
        return handler(call)

    def _static(
        self, operation: Operation, request: Request, path: dict[str, str], body: Any
    ) -> HandlerResult:
        if self.static_answer is None or self.static_registry is None:
            raise errors.unmatched_static_case(self.static_unavailable)
        answer = self.static_answer(operation, request, path, body)
        if answer is None:
            raise errors.unmatched_static_case()
        return answer

    def _respond(
        self, request: Request, exchange: Exchange, result: HandlerResult, direct: bool = False
    ) -> Response | DirectAnswer:
        strict = self.strict
        if (
            strict is not None
            and strict.enabled
            and exchange.principal is not None
            and exchange.operation is not None
            and 200 <= result.status < 300
        ):
            strict.observe_response(exchange.operation, exchange.principal.account.name, result.payload)
        operation = exchange.operation
        if (
            self.validate_responses
            and not result.conforms
            and operation is not None
            and result.payload is not None
            and self.response_checks.should_check(operation.name, result.status)
        ):
            violation = self.validator.response_violation(operation, str(result.status), result.payload)
            self.response_checks.checked(operation.name, result.status, violation is None)
            if violation:
                exchange.notes.append(f"response violates the contract: {violation}")
                log.warning(
                    "%s answered %s outside its contract: %s", operation.name, result.status, violation
                )
        if self.faults is not None and exchange.standing:
            # After the self-check: a drifted answer differs from the contract on purpose.
            result = self.faults.reshape(exchange, result)
        headers = {
            "x-amzn-RequestId": exchange.request_id,
            ANSWER_HEADER: result.answered_by,
            **result.headers,
        }
        if exchange.plan is not None and result.status != 429:
            headers["x-amzn-RateLimit-Limit"] = exchange.plan.header
        if exchange.violations:
            headers[VIOLATIONS_HEADER] = ",".join(sorted({item["rule"] for item in exchange.violations}))
        body = result.body
        if body is None:
            payload = result.payload
            body = b"" if payload is None else wire.dumps(payload)
        answered: dict[str, str] | None = None
        if exchange.fault is None:  # as dict(response.headers) would give them, for a tenth of its cost
            answered = {
                **{name: value if isinstance(value, str) else str(value) for name, value in headers.items()},
                "Content-Type": JSON_CONTENT_TYPE,
                "Content-Length": str(len(body)),
            }
            answer = direct_answer(result.status, answered, body) if direct else None
            if answer is not None:
                self._record(request, exchange, result, body, answered)
                return answer
        response = Response(body, status=result.status, headers=headers, content_type=JSON_CONTENT_TYPE)
        if answered is None:
            if self.faults is not None:
                response = self.faults.damage(request, exchange, response)
            answered = dict(response.headers)  # a fault may have changed them
        self._record(request, exchange, result, body, answered)
        return response

    def _record(
        self,
        request: Request,
        exchange: Exchange,
        result: HandlerResult,
        body: bytes,
        response_headers: dict[str, str],
    ) -> None:
        principal = exchange.principal
        operation = exchange.operation
        self.journal.record(
            JournalEntry(
                sequence=self.journal.next_sequence(),
                time=time.time(),
                request_id=exchange.request_id,
                method=request.method,
                path=request.path,
                operation=operation.name if operation else None,
                operation_id=operation.operation_id if operation else None,
                account=principal.account.name if principal else None,
                application=principal.application.name if principal else None,
                status=result.status,
                latency_ms=round((time.perf_counter() - exchange.started) * 1000, 3),
                answered_by=result.answered_by,
                request_headers=redact(dict(request.headers)),
                query=redact(request.args.to_dict(flat=False)),
                # Bodies are kept as the bytes that crossed the wire; parsed and redacted when read.
                request_body=None if exchange.body is NO_BODY else request.get_data(cache=True),
                response_body=body or None,
                response_headers=response_headers,
                notes=exchange.notes,
                violations=exchange.violations,
                fault=exchange.fault.mark() if exchange.fault is not None else None,
                drift=exchange.drift,
            )
        )


__all__ = ["Call", "EndpointChoice", "Gateway", "Handler", "HandlerResult"]
