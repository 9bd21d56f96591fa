"""`/_sandbox/clock`: read, freeze, unfreeze, set and advance the sandbox clock; the Retail world follows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver.domain.clock import parse_iso

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def _error(details: str) -> ResponseReturnValue:
    return jsonify(
        {"errors": [{"code": "InvalidInput", "message": "Invalid clock request.", "details": details}]}
    ), 400


def create_clock_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("sandbox_clock", __name__, url_prefix="/_sandbox")
    clock = sandbox.clock

    def describe() -> ResponseReturnValue:
        sandbox.retail.tick()
        return jsonify(clock.describe())

    @blueprint.get("/clock")
    def read_clock() -> ResponseReturnValue:
        return describe()

    @blueprint.post("/clock")
    def change_clock() -> ResponseReturnValue:
        """Body: {"freeze": true|false, "set": ISO 8601, "advance": seconds}; applied in that order."""
        body = request.get_json(silent=True) or {}
        if not isinstance(body, dict):
            return _error("Send a JSON object.")
        try:
            if body.get("freeze") is True:
                clock.freeze()
            if body.get("set"):
                clock.set(parse_iso(str(body["set"])))
            if body.get("advance") is not None:
                clock.advance(float(body["advance"]))
            if body.get("freeze") is False:
                clock.unfreeze()
        except (TypeError, ValueError) as error:
            return _error(str(error))
        return describe()

    @blueprint.post("/clock/freeze")
    def freeze() -> ResponseReturnValue:
        clock.freeze()
        return describe()

    @blueprint.post("/clock/unfreeze")
    def unfreeze() -> ResponseReturnValue:
        clock.unfreeze()
        return describe()

    @blueprint.post("/clock/advance")
    def advance() -> ResponseReturnValue:
        body = request.get_json(silent=True) or {}
        try:
            clock.advance(float(body.get("seconds", request.args.get("seconds", 0))))
        except (TypeError, ValueError, AttributeError) as error:
            return _error(str(error))
        return describe()

    @blueprint.get("/catalogue/<account>")
    def catalogue(account: str) -> ResponseReturnValue:
        if account not in sandbox.accounts.accounts:
            return jsonify(
                {"errors": [{"code": "NotFound", "message": "No such account.", "details": account}]}
            ), 404
        return jsonify({"account": account, "products": sandbox.retail.catalogue(account)})

    return blueprint
