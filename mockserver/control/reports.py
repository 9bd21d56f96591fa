"""Admin calls of the contract-testing toolkit: the conformance report, strict mode on/off, HAR export.

`GET /_sandbox/report/conformance` (JSON; `?format=junit` for JUnit XML, `?format=text` for the summary;
`?application=`/`?account=` for one client's exchanges),
`GET|PUT /_sandbox/strict` (`{"enabled": true}`), `GET /_sandbox/journal/har` (the journal as HAR 1.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver.conformance import build_report, junit_xml, render_text
from mockserver.control.inputs import json_object, report_answer

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def _error(status: int, code: str, message: str, details: str = "") -> ResponseReturnValue:
    return jsonify({"errors": [{"code": code, "message": message, "details": details}]}), status


def create_reports_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("reports", __name__, url_prefix="/_sandbox")

    @blueprint.get("/report/conformance")
    def conformance() -> ResponseReturnValue:
        """`?application=` and `?account=` narrow the report to one client's exchanges."""
        application = request.args.get("application") or None
        account = request.args.get("account") or None
        entries = [
            entry
            for entry in sandbox.journal.entries()
            if (application is None or entry.application == application)
            and (account is None or entry.account == account)
        ]
        return report_answer(build_report(entries, sandbox.registry.operations), render_text, junit_xml)

    @blueprint.get("/strict")
    def strict_state() -> ResponseReturnValue:
        return jsonify({"enabled": sandbox.strict.enabled})

    @blueprint.put("/strict")
    def set_strict() -> ResponseReturnValue:
        body = json_object("strict mode request")
        if not isinstance(body.get("enabled"), bool):
            return _error(400, "InvalidInput", 'Send {"enabled": true|false}.')
        sandbox.strict.enabled = body["enabled"]
        return jsonify({"enabled": sandbox.strict.enabled})

    @blueprint.get("/journal/har")
    def har() -> ResponseReturnValue:
        from mockserver.har import journal_to_har

        return jsonify(journal_to_har(entry.to_dict() for entry in sandbox.journal.entries()))

    return blueprint


__all__ = ["create_reports_blueprint"]
