"""Admin calls for chaos (issue 5): the fault rules in force and the retry verdict.

- `GET /_sandbox/faults`: the rules (how often each matched and fired), active throttle storms, the policy.
- `POST /_sandbox/faults`: one rule, a list of rules, or a plan `{"rules": [...], "policy": {...}}` (all or
  nothing).
- `DELETE /_sandbox/faults`: remove every rule (and end storms); `DELETE /_sandbox/faults/<id>`: one rule.
- `GET /_sandbox/report/retries`: the per-client retry verdict (`?format=junit|text`; policy fields as query
  parameters override the plan's; `since` (epoch seconds) or `after` (journal sequence) judge part of it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver.chaos.plan import PlanError, parse_plan
from mockserver.chaos.rules import RuleError
from mockserver.control.inputs import REPORT_FILTERS, journal_window, json_body, report_answer

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def _error(status: int, code: str, message: str, details: str = "") -> ResponseReturnValue:
    return jsonify({"errors": [{"code": code, "message": message, "details": details}]}), status


def create_faults_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("faults", __name__, url_prefix="/_sandbox")
    chaos = sandbox.chaos

    def listing() -> dict[str, Any]:
        return {
            "rules": [rule.to_dict() for rule in chaos.rules.rules()],
            "storms": chaos.storms(),
            "policy": chaos.policy,
            "seed": chaos.seed,
        }

    @blueprint.get("/faults")
    def list_faults() -> ResponseReturnValue:
        return jsonify(listing())

    @blueprint.post("/faults")
    def add_faults() -> ResponseReturnValue:
        # The verdict's module is imported where it is used: the emulator starts without it.
        from mockserver.chaos.verdict import PolicyError, RetryPolicy

        document = json_body("fault rules")
        if isinstance(document, dict) and "action" in document:
            document = [document]
        try:
            plan = parse_plan(document)
            if plan.policy:
                RetryPolicy.from_mapping(plan.policy)
            added = chaos.rules.add_all(plan.rules)
        except (PlanError, RuleError, PolicyError) as error:
            return _error(400, "InvalidInput", "Invalid fault rules.", str(error))
        if plan.policy:
            chaos.policy = plan.policy
        return jsonify({"added": [rule.to_dict() for rule in added], **listing()}), 201

    @blueprint.delete("/faults")
    def clear_faults() -> ResponseReturnValue:
        chaos.clear()
        return jsonify({"status": "cleared"})

    @blueprint.delete("/faults/<rule_id>")
    def remove_fault(rule_id: str) -> ResponseReturnValue:
        if not chaos.rules.remove(rule_id):
            details = f"No fault rule {rule_id}."
            return _error(404, "NotFound", "The requested resource was not found.", details)
        return jsonify({"status": "removed", "id": rule_id})

    @blueprint.get("/report/retries")
    def retries() -> ResponseReturnValue:
        from mockserver.chaos.verdict import PolicyError, RetryPolicy, junit_xml, render_text, retry_report

        arguments = request.args
        try:
            overrides = {name: value for name, value in arguments.items() if name not in REPORT_FILTERS}
            policy = RetryPolicy.from_mapping({**chaos.policy, **overrides})
        except PolicyError as error:
            return _error(400, "InvalidInput", "Invalid retry report request.", str(error))
        entries = journal_window(sandbox.journal, "retry report request")
        return report_answer(retry_report(entries, policy), render_text, junit_xml)

    return blueprint
