"""The inspector: web pages at /_sandbox/ui over the admin API, for people debugging an integration.

Server-side templates (shipped in the package, no build step) draw each page and what does not change while
it is open (accounts, rule books, the fault actions); a small plain script (static/inspector.js, no CDN: this
tool runs offline) reads the same `/_sandbox/` JSON any client can read and keeps the page live. Nothing here
reaches the state by another way.

Access: the same admin token as `/_sandbox/`. A browser cannot send a bearer token on navigation, so the
login page trades the token for a cookie (control/guard.py): HttpOnly, SameSite=Strict, scoped to
/_sandbox/, holding an HMAC of the token rather than the token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from mockserver import __version__
from mockserver.chaos.actions import ACTIONS
from mockserver.control.guard import INSPECTOR_COOKIE, inspector_cookie_value, token_matches
from mockserver.control.world import rule_books

if TYPE_CHECKING:
    from mockserver.app import Sandbox

UI_PREFIX = "/_sandbox/ui"
PAGES = (
    ("journal", "Journal"),
    ("world", "World"),
    ("clock", "Clock"),
    ("faults", "Faults"),
    ("reports", "Reports"),
    ("snapshots", "Snapshots"),
    ("accounts", "Accounts"),
    ("rules", "Rules"),
)


def create_inspector_blueprint(sandbox: Sandbox) -> Blueprint:
    blueprint = Blueprint(
        "inspector",
        __name__,
        url_prefix=UI_PREFIX,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    settings = sandbox.settings
    accounts = sandbox.accounts

    def account_choices() -> list[dict[str, Any]]:
        return [
            {"name": vendor.name, "region": vendor.region.upper(), "read_only": vendor.read_only}
            for vendor in accounts.accounts.values()
        ]

    def selected_account() -> str:
        chosen = request.args.get("account", "")
        if chosen in accounts.accounts:
            return chosen
        writable = [vendor.name for vendor in accounts.accounts.values() if not vendor.read_only]
        return writable[0] if writable else next(iter(accounts.accounts))

    def page(template: str, name: str, **context: Any) -> str:
        account = selected_account()
        vendor = accounts.accounts[account]
        return render_template(
            template,
            page=name,
            pages=PAGES,
            version=__version__,
            mode=settings.mode,
            region=settings.region.upper(),
            store=settings.store,
            accounts=account_choices(),
            account=account,
            account_region=vendor.region.upper(),
            account_kind="read-only" if vendor.read_only else "writable",
            guarded=settings.admin_token is not None,
            **context,
        )

    @blueprint.get("/")
    @blueprint.get("/journal")
    def journal() -> ResponseReturnValue:
        return page("journal.html", "journal")

    @blueprint.get("/exchange/<request_id>")
    def exchange(request_id: str) -> ResponseReturnValue:
        return page("exchange.html", "journal", request_id=request_id)

    @blueprint.get("/world")
    def world() -> ResponseReturnValue:
        return page("world.html", "world")

    @blueprint.get("/world/<account>/<kind>/<identifier>")
    def record(account: str, kind: str, identifier: str) -> ResponseReturnValue:
        if kind not in ("purchase-orders", "transactions", "df-orders") or account not in accounts.accounts:
            return page("missing.html", "world", what=f"{kind}/{identifier}"), 404
        return page("record.html", "world", record_account=account, kind=kind, identifier=identifier)

    @blueprint.get("/clock")
    def clock() -> ResponseReturnValue:
        return page("clock.html", "clock")

    @blueprint.get("/faults")
    def faults() -> ResponseReturnValue:
        operations = sorted(
            {(operation.operation_id, operation.name) for operation in sandbox.registry.operations}
        )
        return page("faults.html", "faults", actions=sorted(ACTIONS), operations=operations)

    @blueprint.get("/reports")
    def reports() -> ResponseReturnValue:
        return page("reports.html", "reports")

    @blueprint.get("/snapshots")
    def snapshots() -> ResponseReturnValue:
        return page("snapshots.html", "snapshots")

    @blueprint.get("/accounts", endpoint="accounts")
    def accounts_page() -> ResponseReturnValue:
        base_url = request.host_url.rstrip("/")
        return page("accounts.html", "accounts", credentials=accounts.describe(), base_url=base_url)

    @blueprint.get("/rules")
    def rules() -> ResponseReturnValue:
        return page("rules.html", "rules", books=rule_books())

    @blueprint.route("/login", methods=["GET", "POST"])
    def login() -> ResponseReturnValue:
        target = _safe_next(request.values.get("next", ""))
        if settings.admin_token is None:
            return redirect(target)
        failed = False
        if request.method == "POST":
            supplied = request.form.get("token", "")
            if token_matches(supplied, settings.admin_token):
                response = redirect(target)
                _set_cookie(response, inspector_cookie_value(settings.admin_token))
                return response
            failed = True
        body = render_template("login.html", version=__version__, failed=failed, next=target)
        return body, 403 if failed else 200

    @blueprint.post("/logout")
    def logout() -> ResponseReturnValue:
        response = redirect(url_for(".login"))
        response.delete_cookie(INSPECTOR_COOKIE, path="/_sandbox/")
        return response

    return blueprint


def _set_cookie(response: Response, value: str) -> None:
    response.set_cookie(
        INSPECTOR_COOKIE, value, httponly=True, samesite="Strict", path="/_sandbox/", secure=request.is_secure
    )


def _safe_next(target: str) -> str:
    """Only a page of the inspector itself: never an open redirect to another site."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(f"{UI_PREFIX}/") or "\\" in target:
        return f"{UI_PREFIX}/"
    return target


__all__ = ["UI_PREFIX", "create_inspector_blueprint"]
