"""Admin calls that show an account's world (control/world_view.py), the demo accounts and the rule books:
what the inspector reads, as JSON anyone can read.

- `GET /_sandbox/accounts`: the demo accounts with their credentials (as `vendor-sandbox accounts --json`).
- `GET /_sandbox/rules`: every business rule, by family (the rules a Failure's errors name).
- `GET /_sandbox/world/<account>`: counts of everything (POs by state, shipments, receiving, invoices,
  transactions by status, DF orders by status, other collections such as reports).
- `GET /_sandbox/world/<account>/purchase-orders[?state=&limit=&after=]`, `.../purchase-orders/<number>`
  (the order, its items' tracking, its documents, transactions and history).
- `GET /_sandbox/world/<account>/transactions[?family=&status=&limit=]`, `.../transactions/<id>`.
- `GET /_sandbox/world/<account>/shipments`, `.../invoices`, `.../df-orders[?status=&limit=&after=]`,
  `.../df-orders/<number>`, `.../collections/<collection>`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver.control import world_view
from mockserver.control.inputs import AdminInputError, int_arg
from mockserver.domain.rules import BOOKS

if TYPE_CHECKING:
    from mockserver.app import Sandbox

DEFAULT_PAGE = 50
MAX_PAGE = 500
WHAT = "world request"


def _not_found(details: str) -> ResponseReturnValue:
    body = {
        "errors": [
            {"code": "NotFound", "message": "The requested resource was not found.", "details": details}
        ]
    }
    return jsonify(body), 404


def _limit() -> int:
    limit = int_arg("limit", minimum=1, maximum=MAX_PAGE, what=WHAT)
    return DEFAULT_PAGE if limit is None else limit


def _after() -> tuple[str, str] | None:
    try:
        return world_view.parse_cursor(request.args.get("after"))
    except ValueError as error:
        raise AdminInputError(f"Invalid {WHAT}.", str(error)) from None


def _choice(name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise AdminInputError(
            f"Invalid {WHAT}.", f"{name} must be one of {', '.join(allowed)}, not {value[:40]!r}."
        )
    return value


def rule_books() -> list[dict[str, Any]]:
    return [
        {
            "family": book.family or "other",
            "rules": [
                {"name": rule.name, "code": rule.code, "message": rule.message, "applies_to": rule.applies_to}
                for rule in book.rules.values()
            ],
        }
        for book in BOOKS
    ]


def create_world_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint("world", __name__, url_prefix="/_sandbox")

    def known(account: str) -> bool:
        return account in sandbox.accounts.accounts

    def of_known_account(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        """A view of one account's world: 404 for an account the emulator does not have."""

        @functools.wraps(view)
        def checked(account: str, **arguments: str) -> ResponseReturnValue:
            if not known(account):
                return _not_found(f"No account {account}.")
            return view(account, **arguments)

        return checked

    @blueprint.get("/accounts")
    def accounts() -> ResponseReturnValue:
        return jsonify({"accounts": sandbox.accounts.describe()})

    @blueprint.get("/rules")
    def rules() -> ResponseReturnValue:
        return jsonify({"families": rule_books()})

    @blueprint.get("/world/<account>")
    @of_known_account
    def summary(account: str) -> ResponseReturnValue:
        return jsonify(world_view.world_summary(sandbox, account))

    @blueprint.get("/world/<account>/purchase-orders")
    @of_known_account
    def purchase_orders(account: str) -> ResponseReturnValue:
        state = _choice("state", world_view.PO_STATES)
        return jsonify(world_view.purchase_order_page(sandbox, account, state, _limit(), _after()))

    @blueprint.get("/world/<account>/purchase-orders/<number>")
    def purchase_order(account: str, number: str) -> ResponseReturnValue:
        found = world_view.purchase_order_detail(sandbox, account, number) if known(account) else None
        if found is None:
            return _not_found(f"No purchase order {number} of account {account}.")
        return jsonify(found)

    @blueprint.get("/world/<account>/transactions")
    @of_known_account
    def transactions(account: str) -> ResponseReturnValue:
        family = _choice("family", ("retail", "direct_fulfillment"))
        status = _choice("status", ("Processing", "Success", "Failure"))
        limit = _limit()
        found = []
        for item in world_view.account_transactions(sandbox, account, family=family, status=status):
            item.pop("body", None)
            item.pop("result", None)
            found.append(item)
            if len(found) >= limit:
                break
        return jsonify({"transactions": found})

    @blueprint.get("/world/<account>/transactions/<transaction_id>")
    def transaction(account: str, transaction_id: str) -> ResponseReturnValue:
        found = world_view.transaction_detail(sandbox, account, transaction_id) if known(account) else None
        if found is None:
            return _not_found(f"No transaction {transaction_id} of account {account}.")
        return jsonify(found)

    @blueprint.get("/world/<account>/shipments")
    @of_known_account
    def shipments(account: str) -> ResponseReturnValue:
        return jsonify(world_view.shipments(sandbox, account, _limit()))

    @blueprint.get("/world/<account>/invoices")
    @of_known_account
    def invoices(account: str) -> ResponseReturnValue:
        return jsonify({"invoices": world_view.invoices(sandbox, account, _limit())})

    @blueprint.get("/world/<account>/df-orders")
    @of_known_account
    def df_orders(account: str) -> ResponseReturnValue:
        status = _choice("status", world_view.DF_STATUSES)
        return jsonify(world_view.df_order_page(sandbox, account, status, _limit(), _after()))

    @blueprint.get("/world/<account>/df-orders/<number>")
    def df_order(account: str, number: str) -> ResponseReturnValue:
        found = world_view.df_order_detail(sandbox, account, number) if known(account) else None
        if found is None:
            return _not_found(f"No Direct Fulfillment order {number} of account {account}.")
        return jsonify(found)

    @blueprint.get("/world/<account>/collections/<collection>")
    @of_known_account
    def collection(account: str, collection: str) -> ResponseReturnValue:
        documents = world_view.collection_documents(sandbox, account, collection, _limit())
        return jsonify({"collection": collection, "documents": documents})

    return blueprint


__all__ = ["create_world_blueprint", "rule_books"]
