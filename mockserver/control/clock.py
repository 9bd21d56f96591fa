"""`/_sandbox/clock`: read, freeze, unfreeze, set and advance the sandbox clock; the worlds follow. Also what
an account's worlds are made of: its catalogue and its Direct Fulfillment warehouses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver.control.inputs import finite_number, json_object
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
        sandbox.direct_fulfillment.tick()
        return jsonify(clock.describe())

    @blueprint.get("/clock")
    def read_clock() -> ResponseReturnValue:
        return describe()

    @blueprint.post("/clock")
    def change_clock() -> ResponseReturnValue:
        """Body: {"freeze": true|false, "set": ISO 8601, "advance": seconds}; applied in that order."""
        body = json_object("clock request")
        unknown = set(body) - {"freeze", "set", "advance"}
        if unknown:
            return _error(f"Unknown field(s): {', '.join(sorted(unknown))}; use freeze, set, advance.")
        if "freeze" in body and not isinstance(body["freeze"], bool):
            return _error("freeze must be true or false.")
        try:
            # Everything is checked before anything changes: a bad `advance` must not leave `set` applied.
            moment = parse_iso(str(body["set"])) if body.get("set") else None
            seconds = finite_number(body["advance"], "advance") if body.get("advance") is not None else None
            clock.check_change(moment, seconds)
        except ValueError as error:
            return _error(str(error))
        if body.get("freeze") is True:
            clock.freeze()
        if moment is not None:
            clock.set(moment)
        if seconds is not None:
            clock.advance(seconds)
        if body.get("freeze") is False:
            clock.unfreeze()
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
        body = json_object("clock request", required=False)
        seconds = finite_number(body.get("seconds", request.args.get("seconds", 0)), "seconds")
        try:
            clock.check_change(None, seconds)
        except ValueError as error:
            return _error(str(error))
        clock.advance(seconds)
        return describe()

    @blueprint.get("/catalogue/<account>")
    def catalogue(account: str) -> ResponseReturnValue:
        if account not in sandbox.accounts.accounts:
            return jsonify(
                {"errors": [{"code": "NotFound", "message": "No such account.", "details": account}]}
            ), 404
        return jsonify({"account": account, "products": sandbox.retail.catalogue(account)})

    @blueprint.get("/df/warehouses/<account>")
    def warehouses(account: str) -> ResponseReturnValue:
        if account not in sandbox.accounts.accounts:
            return jsonify(
                {"errors": [{"code": "NotFound", "message": "No such account.", "details": account}]}
            ), 404
        return jsonify({"account": account, "warehouses": sandbox.direct_fulfillment.warehouses(account)})

    return blueprint
