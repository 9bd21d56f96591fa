"""Admin call for drift (issue 15): the tolerance report, beside the retry verdict of `control/faults.py`.

`GET /_sandbox/report/tolerance` (JSON; `?format=text` or `?format=junit`): per client, whether it kept
working after drifted answers, with the evidence. Tolerance policy fields are query parameters (`expect` a
comma-separated list of operations); `since` (epoch seconds) or `after` (journal sequence) judge part of the
journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver.chaos.tolerance import (
    TolerancePolicy,
    TolerancePolicyError,
    junit_xml,
    render_text,
    tolerance_report,
)

if TYPE_CHECKING:
    from mockserver.app import Sandbox

REPORT_FILTERS = frozenset({"format", "since", "after"})


def create_tolerance_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("tolerance", __name__, url_prefix="/_sandbox")

    @blueprint.get("/report/tolerance")
    def tolerance() -> ResponseReturnValue:
        arguments = request.args
        try:
            policy = TolerancePolicy.from_mapping(
                {name: value for name, value in arguments.items() if name not in REPORT_FILTERS}
            )
            since = float(arguments["since"]) if "since" in arguments else None
            after = int(arguments["after"]) if "after" in arguments else None
        except (TolerancePolicyError, ValueError) as error:
            body = {
                "code": "InvalidInput",
                "message": "Invalid tolerance report request.",
                "details": str(error),
            }
            return jsonify({"errors": [body]}), 400
        entries = [
            entry
            for entry in sandbox.journal.entries()
            if (since is None or entry.time >= since) and (after is None or entry.sequence > after)
        ]
        report = tolerance_report(entries, policy)
        output = arguments.get("format", "json")
        if output == "junit":
            return Response(junit_xml(report), content_type="application/xml")
        if output == "text":
            return Response(render_text(report) + "\n", content_type="text/plain; charset=utf-8")
        return jsonify(report)

    return blueprint


__all__ = ["create_tolerance_blueprint"]
