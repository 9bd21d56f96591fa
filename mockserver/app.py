"""create_app(settings): the only place where the pieces are wired together."""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.routing import PathConverter, Rule
from werkzeug.wrappers import Request

from mockserver import wire
from mockserver.accounts import AccountDirectory, load_accounts
from mockserver.chaos.engine import ChaosEngine
from mockserver.chaos.plan import load_plan, resolve_plan
from mockserver.contracts.loader import ContractError
from mockserver.contracts.model import Operation
from mockserver.contracts.registry import OperationRegistry
from mockserver.control.blueprint import create_control_blueprint
from mockserver.control.clock import create_clock_blueprint
from mockserver.control.faults import create_faults_blueprint
from mockserver.control.guard import admin_token_gate
from mockserver.control.inputs import AdminInputError
from mockserver.control.metrics import count_lwa_grants, create_metrics_blueprint
from mockserver.control.reports import create_reports_blueprint
from mockserver.control.snapshots import create_snapshots_blueprint
from mockserver.control.tolerance import create_tolerance_blueprint
from mockserver.control.world import create_world_blueprint
from mockserver.domain.clock import SandboxClock
from mockserver.domain.direct_fulfillment.service import DirectFulfillmentWorld
from mockserver.domain.reports.service import ReportsWorld
from mockserver.domain.retail.service import RetailWorld
from mockserver.downloads import create_downloads_blueprint
from mockserver.handlers import stateful_handlers
from mockserver.ids import unique_id
from mockserver.inspector import create_inspector_blueprint
from mockserver.journal import Journal, SharedJournal
from mockserver.lwa.blueprint import create_lwa_blueprint
from mockserver.lwa.tokens import TokenService
from mockserver.metrics import SandboxMetrics
from mockserver.pipeline.direct_answer import DirectAnswer
from mockserver.pipeline.errors import SpApiError, internal_failure, method_not_allowed, not_found
from mockserver.pipeline.faults import FaultStage, wrap_lwa_view
from mockserver.pipeline.gateway import Gateway, HandlerResult
from mockserver.pipeline.host import endpoint_for_host
from mockserver.pipeline.strict import StrictChecker
from mockserver.pipeline.throttle import Throttle
from mockserver.pipeline.validate import NO_BODY, RequestValidator
from mockserver.settings import Settings, load_settings
from mockserver.store import Runtime, Store, open_runtime, open_store
from mockserver.store.base import StoreCorruption
from mockserver.store.df_orders import open_df_order_table
from mockserver.store.purchase_orders import open_purchase_order_table
from mockserver.store.redis.connection import describe_url

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
STATIC_MODELS_MISSING = (
    "Static sandbox mode needs Amazon's official models, which carry the static cases: run "
    "`vendor-sandbox contracts fetch` once (they are kept in the user cache, where the server and the pytest "
    "plugin look), or point `--models-dir` / VENDOR_SANDBOX_MODELS_DIR at the models/ folder of Amazon's "
    "selling-partner-api-models repository."
)


class Sandbox:
    """Everything one emulator instance holds; the admin API and the CLI reach state through it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store_failure: str | None = None
        self.registry = OperationRegistry.from_directory(settings.contracts_dir)
        self.static_registry = self._static_registry()
        self.accounts: AccountDirectory = load_accounts(settings.fixtures_dir)
        self.store: Store = open_store(
            settings.store, settings.data_dir, shared=settings.workers > 1, fsync=settings.fsync
        )
        # Journal, buckets, chaos: this process's memory, or shared with the other workers / replicas.
        self.runtime: Runtime = open_runtime(settings.store, settings.data_dir, workers=settings.workers)
        shared = self.runtime.shared
        self._generation = self.runtime.generation()
        wall_clock = time.time if shared else time.monotonic  # processes on several hosts share wall time
        self.tokens = TokenService(
            self.store,
            self.accounts,
            settings.token_lifetime,
            on_revoke=self.runtime.bump if shared else None,
        )
        self.throttle = Throttle(
            scale=settings.rate_scale,
            enabled=settings.rate_limits,
            default_rate=settings.default_rate,
            default_burst=settings.default_burst,
            overrides=self.accounts.usage_plans,
            clock=wall_clock,
            runtime=self.runtime,
        )
        self.validator = RequestValidator(settings.max_body_bytes)
        self.journal: Journal = (
            SharedJournal(self.runtime, settings.journal_size, settings.journal_bytes)
            if shared
            else Journal(settings.journal_size, settings.journal_bytes)
        )
        self.chaos = ChaosEngine(settings.seed, clock=wall_clock, runtime=self.runtime)
        if settings.faults_file is not None:
            self._load_fault_plan(resolve_plan(settings.faults_file, settings.fixtures_dir / "plans"))
        self.strict = StrictChecker(settings.strict, runtime=self.runtime)
        self.clock = SandboxClock(self.store, on_change=self.runtime.bump if shared else None)
        self.purchase_orders = open_purchase_order_table(
            settings.store, settings.data_dir, fsync=settings.fsync
        )
        self.retail = RetailWorld(
            self.accounts,
            self.store,
            self.purchase_orders,
            self.clock,
            seed=settings.seed,
            seed_size=settings.seed_size,
            processing_delay=settings.processing_delay,
        )
        self.retail.ensure_seeded(progress=_seed_progress)
        self.df_orders = open_df_order_table(settings.store, settings.data_dir, fsync=settings.fsync)
        self.direct_fulfillment = DirectFulfillmentWorld(
            self.accounts,
            self.store,
            self.df_orders,
            self.clock,
            seed=settings.seed,
            seed_size=settings.seed_size,
            processing_delay=settings.processing_delay,
        )
        self.direct_fulfillment.ensure_seeded(progress=_seed_progress)
        self.reports = ReportsWorld(
            self.accounts,
            self.store,
            self.purchase_orders,
            self.df_orders,
            self.clock,
            seed=settings.seed,
            processing_time=settings.report_processing_time,
            worlds_up_to_date=self._worlds_up_to_date,
        )
        self.reports.ensure_seeded()
        self.handlers = stateful_handlers(self)
        self._generated_answers: dict[str, tuple[int, Any, bytes, bool]] = {}
        self.gateway = Gateway(
            registry=self.registry,
            tokens=self.tokens,
            throttle=self.throttle,
            validator=self.validator,
            journal=self.journal,
            handlers=self.handlers,
            generated=self._generated,
            default_mode=settings.mode,
            static_registry=self.static_registry,
            static_answer=self._static_answer,
            static_unavailable=self.static_models_missing,
            validate_responses=settings.validate_responses,
            strict=self.strict,
            faults=FaultStage(self.chaos, self.clock.timestamp),
            internal_failure_seen=self._note_store_failure,
            origin_of=self.public_origin,
            sync=self.sync if shared else None,
        )
        self.metrics = SandboxMetrics.attach(self)

    def public_origin(self, request: Request) -> str:
        """Where the emulator's own URLs point (report documents): the configured public URL; Amazon's host
        (in-process mode intercepts it); the address the server listens on; else the request's Host. The
        Host is the last resort because clients that override their endpoint send odd ones
        (python-amazon-sp-api sends `27.0.0.1:8000` for `http://127.0.0.1:8000`)."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        host = request.headers.get("Host", "")
        if endpoint_for_host(host, self.settings.mode).region is not None:
            return f"https://{host}"
        bound = self.settings.host
        if bound not in ("", "0.0.0.0", "::", "[::]"):
            port = request.environ.get("SERVER_PORT") or str(self.settings.port)
            name = f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound
            return f"{request.scheme}://{name}:{port}"
        return str(request.host_url).rstrip("/")

    def _worlds_up_to_date(self) -> None:
        self.retail.tick()
        self.direct_fulfillment.tick()

    def _load_fault_plan(self, path: Any) -> None:
        """The plan of `--faults`, once for every process sharing the runtime (each worker or replica
        starts with the same file; the first one loads it)."""
        plan = load_plan(path)
        if not self.runtime.shared:
            self.chaos.load(plan)
            return
        marker = "chaos.plan:" + hashlib.sha256(repr((plan.rules, plan.policy)).encode()).hexdigest()[:16]
        if self.runtime.add(marker) == 1:
            self.chaos.load(plan)

    def sync(self) -> None:
        """Where processes share the runtime: read again what another process changed through the admin API
        (clock, fault rules, strict mode, revoked tokens). One read of the generation per request."""
        generation = self.runtime.generation()
        if generation != self._generation:
            self._generation = generation
            self.clock.reload()
            self.chaos.reload()
            self.strict.reload()
            self.tokens.forget_cached()
            self.retail.forget_cached()
            self.direct_fulfillment.forget_cached()

    def sync_quietly(self) -> None:
        """`sync` for the admin API and LWA: a store that cannot be read now is the health call's to report
        (503), not a failure of every admin call before it is even made."""
        try:
            self.sync()
        except Exception:
            log.warning("cannot read the shared runtime", exc_info=True)

    def _static_registry(self) -> OperationRegistry | None:
        if any(operation.static_cases for operation in self.registry.operations):
            return self.registry
        models = self.settings.official_models_dir
        if models.is_dir():
            try:
                return OperationRegistry.from_directory(models)
            except ContractError:
                if self.settings.mode == "static":
                    raise
                log.warning("ignoring unreadable official models in %s", models)
        if self.settings.mode == "static":
            raise ContractError(self.static_models_missing)
        return None

    @property
    def static_models_missing(self) -> str:
        return f"{STATIC_MODELS_MISSING} (Looked in {self.settings.official_models_dir}.)"

    @property
    def static_case_count(self) -> int:
        if self.static_registry is None:
            return 0
        return sum(len(operation.static_cases) for operation in self.static_registry.operations)

    def _generated(self, operation: Operation) -> HandlerResult:
        """The same generated answer for an operation every time: generated, serialised and checked once."""
        cached = self._generated_answers.get(operation.name)
        if cached is None:
            from mockserver.contracts.generate import generate_response  # with the first generated answer

            status = operation.success_status
            payload = generate_response(operation, status, seed=self.settings.seed)
            body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
            conforms = self.validator.response_violation(operation, status, payload) is None
            cached = self._generated_answers[operation.name] = (int(status), payload, body, conforms)
        status_code, payload, body, conforms = cached
        return HandlerResult(status_code, payload, "generated", body=body, conforms=conforms)

    def _static_answer(
        self, operation: Operation, flask_request: Request, path: dict[str, str], body: Any
    ) -> HandlerResult | None:
        from mockserver.sandbox import static_cases  # with the first call in static mode

        case = static_cases.match_static_case(
            operation,
            static_cases.StaticRequest(
                path_parameters=path,
                query=flask_request.args.to_dict(flat=False),
                headers=dict(flask_request.headers),
                body=static_cases.NO_BODY if body is NO_BODY else body,
            ),
        )
        if case is None:
            return None
        return HandlerResult(case.status, case.response, "static-case")

    def coverage(self) -> list[dict[str, Any]]:
        """How each operation is answered: the coverage table of the docs, generated from the code."""
        return [
            {
                "api": operation.api.api_id,
                "operation_id": operation.operation_id,
                "method": operation.method,
                "path": operation.path,
                "answered_by": "stateful" if operation.name in self.handlers else "generated",
                "static_cases": len(operation.static_cases),
                "rate": operation.rate,
                "burst": operation.burst,
            }
            for operation in self.registry.operations
        ]

    def _note_store_failure(self, error: Exception) -> None:
        """A call failed because the store could not be read: the health call says so from now on."""
        if isinstance(error, StoreCorruption | sqlite3.DatabaseError):
            self._store_failure = f"{type(error).__name__}: {error}"

    @property
    def store_description(self) -> str:
        """The store as the health call names it: sqlite, memory, or the Redis URL without its password."""
        return describe_url(self.settings.store)

    def store_problem(self) -> str | None:
        """What makes the store unusable now (for the health call), or None."""
        return (
            self._store_failure
            or self.store.problem()
            or self.purchase_orders.problem()
            or self.df_orders.problem()
            or self.runtime.problem()
        )

    def reset(self) -> None:
        """Back to the seeded state: journal and usage-plan buckets emptied, issued tokens kept."""
        self.journal.clear()
        self.throttle.reset()
        self.clock.reset()
        self.retail.reset()
        self.direct_fulfillment.reset()
        self.reports.reset()
        self.strict.reset()
        self.chaos.reset()
        self.gateway.response_checks.reset()
        self._store_failure = None
        if self.runtime.shared:
            self.runtime.bump()

    def close(self) -> None:
        self.purchase_orders.close()
        self.df_orders.close()
        self.store.close()
        self.runtime.close()


def _seed_progress(account: str, done: int, total: int) -> None:
    """Seeding a large world takes a while: say how far it got."""
    if total >= 10_000:
        print(f"vendor-sandbox: seeding orders of {account}: {done} of {total}", file=sys.stderr)


def _json_error(error: SpApiError, request_id: str | None = None) -> Response:
    headers = {"x-amzn-RequestId": request_id or unique_id(), **error.headers}
    return Response(
        json.dumps(error.body()), status=error.status, headers=headers, content_type="application/json"
    )


class InputJsonProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies as every other input is read (wire.loads_input): too deep a body,
    or an integer too long to convert, is a ValueError that `get_json` handles, never a RecursionError."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return wire.loads_input(s)


class _LazyBuilderRule(Rule):
    """Werkzeug compiles two URL-builder functions per rule (through `ast`) as the rule is added: about 35 ms
    of a start-up that should take 300. The emulator builds URLs from few of its rules (`url_for`), so each
    builder is compiled the first time it is used."""

    def _compile_builder(self, append_unknown: bool = True) -> Any:
        compiled: list[Any] = []

        def build(rule: Rule, *args: Any, **values: Any) -> Any:
            if not compiled:
                compiled.append(Rule._compile_builder(rule, append_unknown))
            return compiled[0](rule, *args, **values)

        return build


class _AnyPathConverter(PathConverter):
    """Werkzeug's `path`, but `.` also matches a newline: a path parameter may hold `%0A` once decoded,
    and such a request must still reach the gateway (routing, auth, validation) rather than Flask's 404."""

    regex = "(?s:[^/].*?)"


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    settings = (settings or load_settings()).with_overrides(**overrides).validated()
    sandbox = Sandbox(settings)
    app = Flask(__name__)
    app.url_rule_class = _LazyBuilderRule
    app.json = InputJsonProvider(app)
    # Never SERVER_NAME: any Host header must be served.
    app.config.update(MAX_CONTENT_LENGTH=None, JSON_SORT_KEYS=False)
    app.extensions["vendor_sandbox"] = sandbox

    app.before_request(admin_token_gate(settings.admin_token))
    if sandbox.runtime.shared:
        app.before_request(sandbox.sync_quietly)

    @app.after_request
    def request_id(response: Response) -> Response:
        """Every answer carries a request id, as Amazon's do: LWA, consent and admin calls too."""
        response.headers.setdefault("x-amzn-RequestId", unique_id())
        return response

    app.register_blueprint(create_lwa_blueprint(sandbox.tokens, sandbox.accounts))
    app.view_functions["lwa.token"] = wrap_lwa_view(
        count_lwa_grants(app.view_functions["lwa.token"], sandbox.metrics),
        sandbox.chaos,
        sandbox.accounts,
        sandbox.journal,
    )
    app.register_blueprint(create_control_blueprint(sandbox))
    app.register_blueprint(create_clock_blueprint(sandbox))
    app.register_blueprint(create_reports_blueprint(sandbox))
    app.register_blueprint(create_faults_blueprint(sandbox))
    app.register_blueprint(create_tolerance_blueprint(sandbox))
    app.register_blueprint(create_metrics_blueprint(sandbox))
    app.register_blueprint(create_snapshots_blueprint(sandbox))
    app.register_blueprint(create_world_blueprint(sandbox))
    app.register_blueprint(create_inspector_blueprint(sandbox))
    app.register_blueprint(create_downloads_blueprint(sandbox))

    def sp_api(path: str = "") -> ResponseReturnValue:
        return sandbox.gateway(request)

    app.add_url_rule("/", "sp_api_root", sp_api, methods=ALL_METHODS)
    app.url_map.converters["anypath"] = _AnyPathConverter
    app.add_url_rule("/<anypath:path>", "sp_api", sp_api, methods=ALL_METHODS)

    @app.errorhandler(AdminInputError)
    def admin_input_error(error: AdminInputError) -> Response:
        return Response(
            json.dumps(error.body()),
            status=400,
            headers={"x-amzn-RequestId": unique_id()},
            content_type="application/json",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code == 405:
            allowed = tuple(getattr(error, "valid_methods", None) or ())
            return _json_error(method_not_allowed(allowed))
        if error.code == 404:
            return _json_error(not_found(f"No resource at {request.method} {request.path}."))
        status = error.code or 500
        return _json_error(SpApiError(status, error.name.replace(" ", ""), error.description or error.name))

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("internal failure on %s %s", request.method, request.path)
        return _json_error(internal_failure())

    app.wsgi_app = SpApiDispatch(app.wsgi_app, sandbox.gateway, _flask_prefixes(app))  # type: ignore[method-assign]
    return app


def _flask_prefixes(app: Flask) -> tuple[str, ...]:
    """Where Flask's own routes begin (LWA, consent, admin API); every other path is an SP-API call."""
    catch_all = {"sp_api", "sp_api_root", "static"}
    return tuple(
        sorted(
            {
                rule.rule.split("<", 1)[0]
                for rule in app.url_map.iter_rules()
                if rule.endpoint not in catch_all
            }
        )
    )


class SpApiDispatch:
    """SP-API calls go straight to the gateway, everything else through Flask.

    The gateway needs none of what Flask adds (URL rules, request context, before-request hooks, error
    handlers: it answers every failure itself), and Flask's dispatch alone costs about a third of a bare
    answer's time on waitress. Paths under Flask's own routes still reach Flask, whose catch-all rule sends
    anything it does not know on to the same gateway.
    """

    def __init__(self, flask_app: WSGIApplication, gateway: Gateway, flask_prefixes: tuple[str, ...]) -> None:
        self.flask_app = flask_app
        self.gateway = gateway
        self.flask_prefixes = flask_prefixes

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path.startswith(self.flask_prefixes):
            return self.flask_app(environ, start_response)
        request = Request(environ)
        response: WSGIApplication | DirectAnswer
        try:
            response = self.gateway.wsgi(request)
        except Exception:  # the gateway answers its own failures; this is the last line of defence
            log.exception("internal failure on %s %s", request.method, request.path)
            response = _json_error(internal_failure())
        return response(environ, start_response)


def sandbox_of(app: Flask) -> Sandbox:
    sandbox: Sandbox = app.extensions["vendor_sandbox"]
    return sandbox


__all__ = ["Sandbox", "create_app", "sandbox_of"]
