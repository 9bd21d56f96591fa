"""`GET /metrics`: the emulator's Prometheus metrics (mockserver/metrics.py), and the count of LWA grants.

Behind the same admin token as `/_sandbox/` where one is set (Prometheus sends it with `authorization:` in
its scrape config): the metrics name the accounts and how busy each is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

if TYPE_CHECKING:
    from mockserver.app import Sandbox
    from mockserver.metrics import SandboxMetrics

METRICS_PATH = "/metrics"


def create_metrics_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("metrics", __name__)

    @blueprint.get(METRICS_PATH)
    def metrics() -> ResponseReturnValue:
        body, content_type = sandbox.metrics.exposition(request.headers.get("Accept"))
        return Response(body, content_type=content_type)

    return blueprint


def count_lwa_grants(view: Callable[..., Any], metrics: SandboxMetrics) -> Callable[..., Any]:
    """The LWA token view, counting each answer by grant type and status (inside the fault wrapper: what
    the endpoint itself answered)."""

    def token_endpoint(*args: Any, **kwargs: Any) -> Any:
        response = view(*args, **kwargs)
        grant_type = request.form.get("grant_type", "") if request.mimetype else ""
        if not grant_type and request.is_json:
            body = request.get_json(silent=True)
            grant_type = str(body.get("grant_type", "")) if isinstance(body, dict) else ""
        status = getattr(response, "status_code", 200)
        metrics.observe_grant(grant_type, int(status))
        return response

    return token_endpoint


__all__ = ["METRICS_PATH", "count_lwa_grants", "create_metrics_blueprint"]
