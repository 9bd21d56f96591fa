"""Admin call for drift (issue 15): the tolerance report, beside the retry verdict of `control/faults.py`.

`GET /_sandbox/report/tolerance` (JSON; `?format=text` or `?format=junit`): per client, whether it kept
working after drifted answers, with the evidence. Tolerance policy fields are query parameters (`expect` a
comma-separated list of operations); `since` (epoch seconds) or `after` (journal sequence) judge part of the
journal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver.control.inputs import REPORT_FILTERS, journal_window, report_answer

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def create_tolerance_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("tolerance", __name__, url_prefix="/_sandbox")

    @blueprint.get("/report/tolerance")
    def tolerance() -> ResponseReturnValue:
        # Imported when a report is asked for: the checks and their XML are not the server's start-up's.
        from mockserver.chaos.tolerance import (
            TolerancePolicy,
            TolerancePolicyError,
            junit_xml,
            render_text,
            tolerance_report,
        )

        arguments = request.args
        try:
            policy = TolerancePolicy.from_mapping(
                {name: value for name, value in arguments.items() if name not in REPORT_FILTERS}
            )
        except TolerancePolicyError as error:
            body = {
                "code": "InvalidInput",
                "message": "Invalid tolerance report request.",
                "details": str(error),
            }
            return jsonify({"errors": [body]}), 400
        entries = journal_window(sandbox.journal, "tolerance report request")
        return report_answer(tolerance_report(entries, policy), render_text, junit_xml)

    return blueprint


__all__ = ["create_tolerance_blueprint"]
