"""The admin API's one gate.

SP-API tokens carry no authority under /_sandbox/; where an admin token is configured, it is required, except
on the health call: a container's healthcheck or a load balancer must be able to ask whether the emulator is
up without holding the secret, and the answer says nothing about the world. `/metrics` is behind the same
token (it names the accounts and how busy each is).

The inspector (/_sandbox/ui) is a browser's way in: its login page trades the admin token for a cookie that
holds an HMAC of the token. The cookie opens the same calls as the token; a call that changes anything must
then also carry the inspector's `X-Requested-With` header, which another site's page cannot send without
this server's consent (no CORS here), on top of the cookie being SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from urllib.parse import quote

from flask import jsonify, redirect, request
from flask.typing import ResponseReturnValue

ADMIN_PREFIX = "/_sandbox/"
METRICS_PATH = "/metrics"
OPEN_ADMIN_PATHS = frozenset({"/_sandbox/health"})
INSPECTOR_PREFIX = "/_sandbox/ui"
INSPECTOR_LOGIN = "/_sandbox/ui/login"
INSPECTOR_LOGOUT = "/_sandbox/ui/logout"  # forgetting the cookie needs no authority
INSPECTOR_STATIC = "/_sandbox/ui/static/"
INSPECTOR_COOKIE = "vendor_sandbox_admin"
INSPECTOR_HEADER = "X-Requested-With"
INSPECTOR_HEADER_VALUE = "vendor-sandbox-inspector"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_matches(supplied: str, admin_token: str) -> bool:
    return hmac.compare_digest(supplied.encode(), admin_token.encode())


def inspector_cookie_value(admin_token: str) -> str:
    """What the inspector's cookie holds: derived from the token, so the cookie jar never holds the token."""
    return hmac.new(admin_token.encode(), b"vendor-sandbox inspector session", hashlib.sha256).hexdigest()


def _refused(details: str) -> ResponseReturnValue:
    body = {
        "errors": [
            {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": details}
        ]
    }
    return jsonify(body), 403


def admin_token_gate(admin_token: str | None) -> Callable[[], ResponseReturnValue | None]:
    """A before-request hook: with an admin token set, every admin call must send it as a bearer token (or,
    from the inspector, its cookie)."""

    def require_admin_token() -> ResponseReturnValue | None:
        path = request.path
        if not admin_token or not (path.startswith(ADMIN_PREFIX) or path == METRICS_PATH):
            return None
        if path in OPEN_ADMIN_PATHS and request.method in ("GET", "HEAD"):
            return None
        if path in (INSPECTOR_LOGIN, INSPECTOR_LOGOUT) or path.startswith(INSPECTOR_STATIC):
            return None
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token_matches(supplied, admin_token):
            return None
        cookie = request.cookies.get(INSPECTOR_COOKIE, "")
        if cookie and hmac.compare_digest(cookie.encode(), inspector_cookie_value(admin_token).encode()):
            if (
                request.method in SAFE_METHODS
                or request.headers.get(INSPECTOR_HEADER) == INSPECTOR_HEADER_VALUE
            ):
                return None
            return _refused(
                f"A change from the inspector must carry {INSPECTOR_HEADER}: {INSPECTOR_HEADER_VALUE}."
            )
        if path == INSPECTOR_PREFIX or path.startswith(f"{INSPECTOR_PREFIX}/"):
            # A person opening a page: the login page, then back here.
            target = request.full_path if request.query_string else path
            return redirect(f"{INSPECTOR_LOGIN}?next={quote(target)}")
        return _refused("This admin call needs the admin token: Authorization: Bearer <token>.")

    return require_admin_token
