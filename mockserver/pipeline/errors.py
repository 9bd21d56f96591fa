"""Every error the emulator itself raises: a named constant with Amazon's status, code and message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ACCESS_DENIED = "Access to requested resource is denied."


@dataclass
class SpApiError(Exception):
    """An answer in Amazon's error shape: `{"errors": [{"code", "message", "details"}]}`."""

    status: int
    code: str
    message: str
    details: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    stage: str = "error"

    def body(self) -> dict[str, Any]:
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def missing_token() -> SpApiError:
    return SpApiError(
        403, "Unauthorized", ACCESS_DENIED, "Access token is missing in the request header.", stage="auth"
    )


def invalid_token() -> SpApiError:
    return SpApiError(
        403,
        "Unauthorized",
        ACCESS_DENIED,
        "The access token you provided is revoked, malformed or invalid.",
        stage="auth",
    )


def expired_token() -> SpApiError:
    return SpApiError(
        403, "Unauthorized", ACCESS_DENIED, "The access token you provided has expired.", stage="auth"
    )


def not_authorized() -> SpApiError:
    """A live token whose authority does not reach this operation (role, account kind, region)."""
    return SpApiError(403, "Unauthorized", ACCESS_DENIED, "", stage="auth")


def quota_exceeded() -> SpApiError:
    return SpApiError(
        429, "QuotaExceeded", "You exceeded your quota for the requested resource.", stage="throttle"
    )


def not_found(details: str = "") -> SpApiError:
    return SpApiError(404, "NotFound", "The requested resource was not found.", details, stage="route")


def method_not_allowed(allowed: tuple[str, ...]) -> SpApiError:
    return SpApiError(
        405,
        "MethodNotAllowed",
        "The HTTP method is not allowed for the requested resource.",
        f"Allowed methods: {', '.join(allowed)}.",
        headers={"Allow": ", ".join(allowed)},
        stage="route",
    )


def invalid_input(message: str, details: str = "") -> SpApiError:
    return SpApiError(400, "InvalidInput", message, details, stage="validate")


def unsupported_media_type(content_type: str) -> SpApiError:
    return SpApiError(
        415,
        "UnsupportedMediaType",
        "The request's Content-Type header is invalid.",
        f"Expected application/json, got {content_type or 'no Content-Type'}.",
        stage="validate",
    )


def request_too_large(limit: int) -> SpApiError:
    return SpApiError(
        413,
        "RequestEntityTooLarge",
        "The request size exceeded the maximum accepted size.",
        f"The body may be at most {limit} bytes.",
        stage="validate",
    )


def unmatched_static_case(details: str = "") -> SpApiError:
    return SpApiError(400, "InvalidInput", "Could not match input arguments", details, stage="static")


def internal_failure() -> SpApiError:
    return SpApiError(
        500, "InternalFailure", "We encountered an internal error. Please try again.", stage="internal"
    )
