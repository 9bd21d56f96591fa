"""The admin API under /_sandbox/: health, reset, journal, operations. Not an SP-API surface.

SP-API access tokens carry no authority here; where `admin_token` is configured, every admin call must send
`Authorization: Bearer <admin token>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver.ids import unique_id

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def _error(status: int, code: str, message: str, details: str = "") -> ResponseReturnValue:
    return jsonify({"errors": [{"code": code, "message": message, "details": details}]}), status


def _int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    return int(value)


def _float_arg(name: str) -> float | None:
    value = request.args.get(name)
    if value is None:
        return None
    return float(value)


def create_control_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("control", __name__, url_prefix="/_sandbox")

    @blueprint.after_request
    def request_id(response: Response) -> Response:
        response.headers.setdefault("x-amzn-RequestId", unique_id())
        return response

    @blueprint.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown_admin_call(unknown: str) -> ResponseReturnValue:
        """A known admin path with the wrong method is 405; anything else under /_sandbox/ is 404."""
        own = [rule for rule in current_app.url_map.iter_rules() if rule.rule == request.path]
        allowed = sorted(
            {method for rule in own for method in rule.methods or () if method not in {"HEAD", "OPTIONS"}}
        )
        if allowed:
            response = jsonify(
                {
                    "errors": [
                        {
                            "code": "MethodNotAllowed",
                            "message": "The HTTP method is not allowed for the requested resource.",
                            "details": f"Allowed methods: {', '.join(allowed)}.",
                        }
                    ]
                }
            )
            response.headers["Allow"] = ", ".join(allowed)
            return response, 405
        return _error(
            404, "NotFound", "The requested resource was not found.", f"No admin call at {request.path}."
        )

    @blueprint.get("/health")
    def health() -> ResponseReturnValue:
        return jsonify(
            {
                "status": "ok",
                "mode": sandbox.settings.mode,
                "region": sandbox.settings.region,
                "store": sandbox.settings.store,
                "operations": len(sandbox.registry.operations),
                "static_cases": sandbox.static_case_count,
            }
        )

    @blueprint.post("/reset")
    def reset() -> ResponseReturnValue:
        sandbox.reset()
        return jsonify({"status": "reset"})

    @blueprint.get("/journal")
    def journal() -> ResponseReturnValue:
        try:
            entries = sandbox.journal.query(
                operation=request.args.get("operation"),
                account=request.args.get("account"),
                application=request.args.get("application"),
                status=_int_arg("status"),
                answered_by=request.args.get("answered_by"),
                request_id=request.args.get("request_id"),
                since=_float_arg("since"),
                after_sequence=_int_arg("after"),
                limit=_int_arg("limit") or 100,
            )
        except ValueError as error:
            return _error(400, "InvalidInput", "Invalid journal filter.", str(error))
        return jsonify({"entries": [entry.to_dict() for entry in entries]})

    @blueprint.delete("/journal")
    def clear_journal() -> ResponseReturnValue:
        sandbox.journal.clear()
        return jsonify({"status": "cleared"})

    @blueprint.get("/operations")
    def operations() -> ResponseReturnValue:
        return jsonify({"operations": sandbox.coverage()})

    @blueprint.errorhandler(Exception)
    def failure(error: Exception) -> ResponseReturnValue:
        return _error(
            500, "InternalFailure", "We encountered an internal error. Please try again.", str(error)
        )

    return blueprint
