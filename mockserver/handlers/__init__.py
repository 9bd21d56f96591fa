"""Stateful handlers by operation.

An operation without one is answered from its contract, marked generated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.handlers.direct_fulfillment import direct_fulfillment_handlers, is_direct_fulfillment
from mockserver.handlers.reports import API_ID as REPORTS_API
from mockserver.handlers.reports import reports_handlers
from mockserver.handlers.retail import RETAIL_OPERATIONS, retail_handlers
from mockserver.handlers.tokens import restricted_data_token_handler
from mockserver.pipeline.gateway import Handler

if TYPE_CHECKING:
    from mockserver.app import Sandbox


def stateful_handlers(sandbox: Sandbox) -> dict[str, Handler]:
    handlers: dict[str, Handler] = {}
    for operation in sandbox.registry.operations:
        if operation.operation_id == "createRestrictedDataToken":
            handlers[operation.name] = restricted_data_token_handler(sandbox.tokens, sandbox.registry)
    retail = retail_handlers(sandbox.retail)
    direct_fulfillment = direct_fulfillment_handlers(sandbox.direct_fulfillment)
    reports = reports_handlers(sandbox.reports)
    for operation in sandbox.registry.operations:
        api_id = operation.api.api_id
        if (api_id, operation.operation_id) in RETAIL_OPERATIONS:
            handlers[operation.name] = retail[operation.operation_id]
        elif is_direct_fulfillment(api_id) and operation.operation_id in direct_fulfillment:
            handlers[operation.name] = direct_fulfillment[operation.operation_id](api_id)
        elif api_id == REPORTS_API and operation.operation_id in reports:
            handlers[operation.name] = reports[operation.operation_id]
    return handlers
