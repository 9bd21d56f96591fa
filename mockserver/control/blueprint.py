"""The admin API under /_sandbox/: health, reset, journal, operations. Not an SP-API surface.

SP-API access tokens carry no authority here; where `admin_token` is configured, every admin call must send
`Authorization: Bearer <admin token>`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver import __version__
from mockserver.control.inputs import AdminInputError, float_arg, int_arg
from mockserver.control.journal_view import summary

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def _error(status: int, code: str, message: str, details: str = "") -> ResponseReturnValue:
    return jsonify({"errors": [{"code": code, "message": message, "details": details}]}), status


JOURNAL_PAGE_LIMIT = 100_000
DEFAULT_JOURNAL_PAGE = 100


def _limit() -> int:
    """The newest `limit` entries (default 100); 0 means all of them."""
    limit = int_arg("limit", minimum=0, maximum=JOURNAL_PAGE_LIMIT, what="journal filter")
    return DEFAULT_JOURNAL_PAGE if limit is None else limit


def _status_filter() -> tuple[int | None, int | None]:
    """`status`: an exact status (0 to 999), or a class such as 4xx; (status, class)."""
    raw = request.args.get("status", "").strip().lower()
    if len(raw) == 3 and raw[0] in "012345" and raw[1:] == "xx":
        return None, int(raw[0])
    if raw == "":
        return None, None
    return int_arg("status", minimum=0, maximum=999, what="journal filter"), None


def create_control_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("control", __name__, url_prefix="/_sandbox")

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
        """503 when the store cannot be read: a damaged data directory must not pass for a healthy one."""
        problem = sandbox.store_problem()
        status = "ok" if problem is None else "damaged"
        store: dict[str, str] = {"kind": sandbox.store_description, "status": status}
        if problem is not None:
            store["problem"] = problem
        body = {
            "status": status,
            "version": __version__,
            "mode": sandbox.settings.mode,
            "region": sandbox.settings.region,
            "store": store,
            "operations": len(sandbox.registry.operations),
            "static_cases": sandbox.static_case_count,
        }
        return jsonify(body), 200 if problem is None else 503

    @blueprint.post("/reset")
    def reset() -> ResponseReturnValue:
        sandbox.reset()
        return jsonify({"status": "reset"})

    @blueprint.get("/journal")
    def journal() -> ResponseReturnValue:
        """Filters: operation, account, application, status (200, or a class: 4xx), answered_by, request_id,
        since/until (epoch seconds), after (sequence), limit; `view=summary` leaves bodies and headers out."""
        status, status_class = _status_filter()
        view = request.args.get("view", "full")
        if view not in ("full", "summary"):
            raise AdminInputError(
                "Invalid journal filter.", f"view must be full or summary, not {view[:40]!r}."
            )
        entries = sandbox.journal.query(
            operation=request.args.get("operation") or None,
            account=request.args.get("account") or None,
            application=request.args.get("application") or None,
            status=status,
            status_class=status_class,
            answered_by=request.args.get("answered_by") or None,
            request_id=request.args.get("request_id"),
            since=float_arg("since", what="journal filter"),
            until=float_arg("until", what="journal filter"),
            after_sequence=int_arg("after", minimum=0, maximum=2**62, what="journal filter"),
            limit=_limit(),
        )
        if view == "summary":
            return jsonify({"entries": [summary(entry) for entry in entries]})
        return jsonify({"entries": [entry.to_dict() for entry in entries]})

    @blueprint.get("/journal/stats")
    def journal_stats() -> ResponseReturnValue:
        """How full the journal is: entries and bytes kept, against its bounds (settings)."""
        journal = sandbox.journal
        return jsonify(
            {
                "entries": len(journal),
                "bytes": journal.bytes,
                "max_entries": journal.size,
                "max_bytes": journal.max_bytes,
            }
        )

    @blueprint.delete("/journal")
    def clear_journal() -> ResponseReturnValue:
        sandbox.journal.clear()
        return jsonify({"status": "cleared"})

    @blueprint.get("/operations")
    def operations() -> ResponseReturnValue:
        return jsonify({"operations": sandbox.coverage()})

    return blueprint
