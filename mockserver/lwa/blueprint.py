"""The LWA endpoints of https://api.amazon.com and the website authorization workflow of Vendor Central.

- `POST /auth/o2/token`: the token endpoint. Form-encoded as Amazon's (a JSON body is accepted too); every
  answer, errors included, is JSON with `Cache-Control: no-store`.
- `GET /apps/authorize/consent` and `POST /apps/authorize/confirm`: the consent page a vendor sees, which
  sends the browser back to the application's redirect URI with `spapi_oauth_code`, `state` and
  `selling_partner_id`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from html import escape
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, request, url_for
from werkzeug.exceptions import HTTPException

from mockserver.accounts import AccountDirectory, Application, VendorAccount
from mockserver.ids import unique_id
from mockserver.lwa.tokens import (
    IssuedToken,
    LwaError,
    TokenService,
    malformed_request,
    missing_parameter,
    unsupported_grant_type,
)

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Every method reaches the view, so that a wrong one is answered in JSON rather than Flask's HTML 405.
TOKEN_ENDPOINT_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
TRUE_VALUES = frozenset({"true", "1", "yes"})

Grant = Callable[[TokenService, Mapping[str, str]], IssuedToken]


def create_lwa_blueprint(tokens: TokenService, accounts: AccountDirectory) -> Blueprint:
    blueprint = Blueprint("lwa", __name__)

    @blueprint.route("/auth/o2/token", methods=TOKEN_ENDPOINT_METHODS)
    def token() -> Response:
        if request.method != "POST":
            error = LwaError(405, "invalid_request", f"The request method {request.method} is not supported")
            return _token_endpoint_answer(error.as_response(), error.status, {"Allow": "POST"})
        try:
            issued = _grant(tokens, _token_request_parameters())
        except LwaError as error:
            return _token_endpoint_answer(error.as_response(), error.status, _challenge_for(error))
        return _token_endpoint_answer(issued.as_response(), 200)

    @blueprint.get("/apps/authorize/consent")
    def consent() -> Response:
        arguments = request.args
        try:
            application = _application(accounts, arguments.get("application_id", ""))
            state = _state(arguments)
            redirect_uri = _redirect_uri(application, arguments.get("redirect_uri", ""))
            if arguments.get("auto_confirm", "").lower() in TRUE_VALUES:
                return _authorize(tokens, accounts, application, state, redirect_uri, arguments)
        except ConsentError as error:
            return _error_page(error)
        choices = list(accounts.accounts.values())
        selected = arguments.get("selling_partner_id", "")
        page = _consent_page(application, choices, selected, state, redirect_uri, url_for(".confirm"))
        return _html(page, 200)

    @blueprint.post("/apps/authorize/confirm")
    def confirm() -> Response:
        form = request.form
        try:
            application = _application(accounts, form.get("application_id", ""))
            state = _state(form)
            redirect_uri = _redirect_uri(application, form.get("redirect_uri", ""))
            decision = form.get("decision", "confirm").lower()
            if decision == "cancel":
                return _redirect(redirect_uri, {"error": "access_denied", "state": state})
            if decision != "confirm":
                raise ConsentError(
                    "Unknown decision", f"The decision must be confirm or cancel, not {decision!r}."
                )
            return _authorize(tokens, accounts, application, state, redirect_uri, form)
        except ConsentError as error:
            return _error_page(error)

    return blueprint


# -- the token endpoint ----------------------------------------------------------------------------------


def _grant(tokens: TokenService, parameters: Mapping[str, str]) -> IssuedToken:
    grant_type = parameters.get("grant_type", "")
    if not grant_type:
        raise missing_parameter("grant_type")
    grant = GRANTS.get(grant_type)
    if grant is None:
        raise unsupported_grant_type()
    return grant(tokens, parameters)


def _refresh_token_grant(tokens: TokenService, parameters: Mapping[str, str]) -> IssuedToken:
    return tokens.refresh(
        parameters.get("client_id", ""),
        parameters.get("client_secret", ""),
        parameters.get("refresh_token", ""),
    )


def _client_credentials_grant(tokens: TokenService, parameters: Mapping[str, str]) -> IssuedToken:
    return tokens.grantless(
        parameters.get("client_id", ""), parameters.get("client_secret", ""), parameters.get("scope", "")
    )


def _authorization_code_grant(tokens: TokenService, parameters: Mapping[str, str]) -> IssuedToken:
    return tokens.exchange_code(
        parameters.get("client_id", ""),
        parameters.get("client_secret", ""),
        parameters.get("code", ""),
        parameters.get("redirect_uri") or None,
    )


GRANTS: dict[str, Grant] = {
    "refresh_token": _refresh_token_grant,
    "client_credentials": _client_credentials_grant,
    "authorization_code": _authorization_code_grant,
}


def _token_request_parameters() -> dict[str, str]:
    """The form (or JSON) parameters, with client credentials from HTTP Basic when not in the body."""
    try:
        parameters = _body_parameters()
    except HTTPException as error:  # e.g. a body over the application's MAX_CONTENT_LENGTH
        raise LwaError(error.code or 400, "invalid_request", "Malformed request") from error
    authorization = request.authorization
    if authorization is not None and authorization.type == "basic" and "client_id" not in parameters:
        parameters["client_id"] = unquote_plus(authorization.username or "")
        parameters["client_secret"] = unquote_plus(authorization.password or "")
    return parameters


def _body_parameters() -> dict[str, str]:
    if request.is_json:
        return _json_parameters(request.get_json(silent=True))
    if request.mimetype in FORM_CONTENT_TYPES:
        return request.form.to_dict()
    if not request.mimetype:  # no Content-Type: read the body as a form, as a lenient server would
        return dict(parse_qsl(request.get_data(as_text=True)))
    raise malformed_request()


def _json_parameters(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        raise malformed_request()
    parameters = {str(name): value for name, value in body.items() if value is not None}
    if not all(isinstance(value, str) for value in parameters.values()):
        raise malformed_request()
    return parameters


def _challenge_for(error: LwaError) -> dict[str, str]:
    """RFC 6749 5.2: a client that authenticated with HTTP Basic gets a challenge with its 401."""
    if error.status == 401 and request.authorization is not None:
        return {"WWW-Authenticate": 'Basic realm="api.amazon.com"'}
    return {}


def _token_endpoint_answer(
    body: Mapping[str, Any], status: int, headers: Mapping[str, str] | None = None
) -> Response:
    response = Response(
        json.dumps(body, separators=(",", ":")), status=status, content_type=JSON_CONTENT_TYPE
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["x-amzn-RequestId"] = unique_id()
    response.headers.update(headers or {})
    return response


# -- the website authorization workflow ------------------------------------------------------------------


class ConsentError(Exception):
    """A request the consent flow cannot honour: shown as a 400 page, never redirected."""

    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


def _application(accounts: AccountDirectory, application_id: str) -> Application:
    if not application_id:
        raise ConsentError(
            "Missing application", "The request is missing a required parameter : application_id"
        )
    for application in accounts.applications.values():
        if application.application_id == application_id:
            return application
    raise ConsentError("Unknown application", f"No application has the application ID {application_id!r}.")


def _state(parameters: Mapping[str, str]) -> str:
    state = parameters.get("state", "")
    if not state:
        raise ConsentError("Missing state", "The request is missing a required parameter : state")
    return state


def _redirect_uri(application: Application, requested: str) -> str:
    """The requested redirect URI if registered for the application; by default its first one."""
    if not application.redirect_uris:
        raise ConsentError(
            "No redirect URI", f"The application {application.name} has no registered redirect URI."
        )
    if not requested:
        return application.redirect_uris[0]
    if requested not in application.redirect_uris:
        raise ConsentError(
            "Unregistered redirect URI",
            f"The redirect URI {requested!r} is not registered for the application {application.name}.",
        )
    return requested


def _authorize(
    tokens: TokenService,
    accounts: AccountDirectory,
    application: Application,
    state: str,
    redirect_uri: str,
    parameters: Mapping[str, str],
) -> Response:
    selling_partner_id = parameters.get("selling_partner_id", "")
    account = accounts.account_by_partner_id(selling_partner_id) if selling_partner_id else None
    if account is None:
        raise ConsentError(
            "Unknown vendor account", f"No vendor account has the selling partner ID {selling_partner_id!r}."
        )
    code = tokens.create_authorization_code(application, account, redirect_uri)
    return _redirect(
        redirect_uri, {"state": state, "selling_partner_id": selling_partner_id, "spapi_oauth_code": code}
    )


def _redirect(uri: str, parameters: Mapping[str, str]) -> Response:
    parts = urlsplit(uri)
    query = "&".join(part for part in (parts.query, urlencode(parameters)) if part)
    location = urlunsplit(parts._replace(query=query))
    return Response(status=302, headers={"Location": location, "Cache-Control": "no-store"})


def _html(page: str, status: int) -> Response:
    response = Response(page, status=status, content_type=HTML_CONTENT_TYPE)
    response.headers["Cache-Control"] = "no-store"
    return response


def _error_page(error: ConsentError) -> Response:
    body = f"<h1>{escape(error.title)}</h1>\n<p>{escape(error.message)}</p>"
    return _html(_page(f"400 Bad Request: {error.title}", body), 400)


def _consent_page(
    application: Application,
    accounts: list[VendorAccount],
    selected: str,
    state: str,
    redirect_uri: str,
    action: str,
) -> str:
    hidden = {"application_id": application.application_id, "state": state, "redirect_uri": redirect_uri}
    fields = "\n".join(
        f'<input type="hidden" name="{name}" value="{escape(value)}">' for name, value in hidden.items()
    )
    selected = selected or (accounts[0].selling_partner_id if accounts else "")
    choices = "\n".join(
        _account_choice(account, account.selling_partner_id == selected) for account in accounts
    )
    name = escape(application.name)
    body = f"""<h1>Authorize {name}</h1>
<p><strong>{name}</strong> ({escape(application.application_id)}) asks for access to a vendor account
through the Selling Partner API.</p>
<form method="post" action="{escape(action)}">
{fields}
<fieldset>
<legend>Vendor account</legend>
{choices or "<p>No vendor account is available.</p>"}
</fieldset>
<p>You will be sent back to <code>{escape(redirect_uri)}</code>.</p>
<button type="submit" name="decision" value="confirm"{"" if accounts else " disabled"}>Confirm</button>
<button type="submit" name="decision" value="cancel" formnovalidate>Cancel</button>
</form>"""
    return _page(f"Authorize {application.name}", body)


def _account_choice(account: VendorAccount, checked: bool) -> str:
    details = f"{account.selling_partner_id}, {account.region.upper()}" + (
        ", read-only" if account.read_only else ""
    )
    return (
        f'<label><input type="radio" name="selling_partner_id" value="{escape(account.selling_partner_id)}"'
        f"{' checked' if checked else ''} required> {escape(account.name)} ({escape(details)})</label><br>"
    )


def _page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<style>body {{ font-family: sans-serif; max-width: 40em; margin: 2em auto; }}
fieldset {{ margin: 1em 0; }} button {{ margin-right: 1em; }}</style>
</head>
<body>
{body}
</body>
</html>
"""
