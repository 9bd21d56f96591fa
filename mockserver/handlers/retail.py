"""Retail Procurement handlers (Vendor Orders, Shipments, Invoices, Transaction Status): thin, stateful.

Each reads the validated request, calls the RetailWorld and shapes Amazon's payload; the domain's errors are
turned into Amazon's error answers in one place (handlers/common.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.domain.retail.service import RetailWorld
from mockserver.handlers.common import account_of as account
from mockserver.handlers.common import json_body
from mockserver.handlers.common import stateful as _stateful
from mockserver.pipeline.gateway import Call, Handler

# (api id, operationId) -> handler factory
RETAIL_OPERATIONS = {
    ("vendor/orders/v1", "getPurchaseOrders"),
    ("vendor/orders/v1", "getPurchaseOrder"),
    ("vendor/orders/v1", "getPurchaseOrdersStatus"),
    ("vendor/orders/v1", "submitAcknowledgement"),
    ("vendor/shipping/v1", "SubmitShipmentConfirmations"),
    ("vendor/shipping/v1", "SubmitShipments"),
    ("vendor/shipping/v1", "GetShipmentDetails"),
    ("vendor/shipping/v1", "GetShipmentLabels"),
    ("vendor/payments/v1", "submitInvoices"),
    ("vendor/transactions/v1", "getTransaction"),
}

_SUBMISSION_KINDS = {
    "submitAcknowledgement": "acknowledgement",
    "SubmitShipmentConfirmations": "shipmentConfirmation",
    "SubmitShipments": "shipment",
    "submitInvoices": "invoice",
}


def retail_handlers(world: RetailWorld) -> dict[str, Handler]:
    """Handlers by operationId."""

    def get_purchase_orders(call: Call) -> tuple[int, Any]:
        return 200, world.list_purchase_orders(account(call), call.request.query)

    def get_purchase_order(call: Call) -> tuple[int, Any]:
        return 200, world.get_purchase_order(account(call), str(call.request.path["purchaseOrderNumber"]))

    def get_purchase_orders_status(call: Call) -> tuple[int, Any]:
        return 200, world.list_purchase_order_statuses(account(call), call.request.query)

    def get_shipment_details(call: Call) -> tuple[int, Any]:
        return 200, world.shipment_details(account(call), call.request.query)

    def get_shipment_labels(call: Call) -> tuple[int, Any]:
        return 200, world.shipment_labels(account(call), call.request.query)

    def get_transaction(call: Call) -> tuple[int, Any]:
        return 200, world.transaction_status(account(call), str(call.request.path["transactionId"]))

    def submission(kind: str) -> Callable[[Call], tuple[int, Any]]:
        def submit(call: Call) -> tuple[int, Any]:
            return 202, {"transactionId": world.submit(account(call), kind, json_body(call))}

        return submit

    handlers: dict[str, Handler] = {
        "getPurchaseOrders": _stateful(get_purchase_orders),
        "getPurchaseOrder": _stateful(get_purchase_order),
        "getPurchaseOrdersStatus": _stateful(get_purchase_orders_status),
        "GetShipmentDetails": _stateful(get_shipment_details),
        "GetShipmentLabels": _stateful(get_shipment_labels),
        "getTransaction": _stateful(get_transaction),
    }
    for operation_id, kind in _SUBMISSION_KINDS.items():
        handlers[operation_id] = _stateful(submission(kind))
    return handlers
