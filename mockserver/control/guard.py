"""The admin API's one gate.

SP-API tokens carry no authority under /_sandbox/; where an admin token is configured, it is required, except
on the health call: a container's healthcheck or a load balancer must be able to ask whether the emulator is
up without holding the secret, and the answer says nothing about the world.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from flask import jsonify, request
from flask.typing import ResponseReturnValue

ADMIN_PREFIX = "/_sandbox/"
OPEN_ADMIN_PATHS = frozenset({"/_sandbox/health"})


def admin_token_gate(admin_token: str | None) -> Callable[[], ResponseReturnValue | None]:
    """A before-request hook: with an admin token set, every admin call must send it as a bearer token."""

    def require_admin_token() -> ResponseReturnValue | None:
        if not admin_token or not request.path.startswith(ADMIN_PREFIX):
            return None
        if request.path in OPEN_ADMIN_PATHS and request.method in ("GET", "HEAD"):
            return None
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(supplied.encode(), admin_token.encode()):
            return None
        body = {
            "errors": [
                {
                    "code": "Unauthorized",
                    "message": "Access to requested resource is denied.",
                    "details": "This admin call needs the admin token: Authorization: Bearer <token>.",
                }
            ]
        }
        return jsonify(body), 403

    return require_admin_token
