"""Tokens API: createRestrictedDataToken issues an RDT that authorizes the named restricted operations."""

from __future__ import annotations

from typing import Any, Protocol

from mockserver.pipeline import errors
from mockserver.pipeline.gateway import Call, Handler, HandlerResult

_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH"}


class RestrictedDataTokenIssuer(Protocol):
    def issue_restricted_data_token(
        self, parent: Any, restricted_resources: list[dict[str, Any]], lifetime: int = 3600
    ) -> Any: ...


def restricted_data_token_handler(tokens: RestrictedDataTokenIssuer) -> Handler:
    def create_restricted_data_token(call: Call) -> HandlerResult:
        if call.principal.token_kind != "access":
            # An RDT cannot mint another RDT.
            raise errors.not_authorized()
        resources: list[dict[str, Any]] = call.request.body.get("restrictedResources") or []
        if call.principal.account.read_only and any(
            str(resource.get("method", "")).upper() != "GET" for resource in resources
        ):
            # A read-only account reads restricted data; it gets no token for changing anything.
            raise errors.not_authorized()
        for index, resource in enumerate(resources):
            if str(resource.get("method", "")).upper() not in _METHODS:
                raise errors.invalid_input(
                    "Invalid request body.", f"body.restrictedResources[{index}].method: unsupported method"
                )
            if not str(resource.get("path", "")).startswith("/"):
                raise errors.invalid_input(
                    "Invalid request body.", f"body.restrictedResources[{index}].path: must start with '/'"
                )
        issued = tokens.issue_restricted_data_token(call.principal.token, resources)
        return HandlerResult(
            200, {"restrictedDataToken": issued.access_token, "expiresIn": int(issued.expires_in)}
        )

    return create_restricted_data_token
