"""Tokens API: createRestrictedDataToken issues an RDT that authorizes the named restricted operations."""

from __future__ import annotations

from typing import Any, Protocol

from mockserver.contracts.registry import OperationRegistry, RouteMatch
from mockserver.pipeline import errors
from mockserver.pipeline.gateway import Call, Handler, HandlerResult
from mockserver.pipeline.strict import is_restricted

_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH"}
# Amazon's answers to a request it cannot issue an RDT for (developers' reports of the service).
NO_RESOURCES = "Empty target resource argument found"
NO_ACCESS = "Application do not have access to some or all requested resource"


class RestrictedDataTokenIssuer(Protocol):
    def issue_restricted_data_token(
        self, parent: Any, restricted_resources: list[dict[str, Any]], lifetime: int = 3600
    ) -> Any: ...


def restricted_data_token_handler(tokens: RestrictedDataTokenIssuer, registry: OperationRegistry) -> Handler:
    """createRestrictedDataToken: an RDT for restricted operations only, each named by its method and its
    path, generic (`.../purchaseOrders/{purchaseOrderNumber}`) or specific (`.../purchaseOrders/2JK3S9VC`)."""

    def restricted(method: str, path: str) -> bool:
        match = registry.match(method, path)
        return isinstance(match, RouteMatch) and is_restricted(match.operation)

    def create_restricted_data_token(call: Call) -> HandlerResult:
        if call.principal.token_kind != "access":
            # An RDT cannot mint another RDT.
            raise errors.not_authorized()
        resources: list[dict[str, Any]] = call.request.body.get("restrictedResources") or []
        if not resources:
            raise errors.invalid_input(NO_RESOURCES, "body.restrictedResources: empty")
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
            if not restricted(str(resource["method"]).upper(), str(resource["path"])):
                raise errors.invalid_input(
                    NO_ACCESS,
                    f"body.restrictedResources[{index}]: {resource['method']} {resource['path']} is not a "
                    "restricted operation",
                )
        issued = tokens.issue_restricted_data_token(call.principal.token, resources)
        return HandlerResult(
            200, {"restrictedDataToken": issued.access_token, "expiresIn": int(issued.expires_in)}
        )

    return create_restricted_data_token
