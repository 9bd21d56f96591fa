"""Direct Fulfillment handlers (Orders, Shipping, Payments, Inventory, Transactions, Sandbox Test Data), both
API versions: thin, stateful. v1 answers in Amazon's `{"payload": ...}` envelope; 2021-12-28 and the sandbox
test data API answer bare, as their models say."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockserver.domain.direct_fulfillment import inventory
from mockserver.domain.direct_fulfillment.orders import V1
from mockserver.domain.direct_fulfillment.service import KINDS, DirectFulfillmentWorld
from mockserver.handlers.common import account_of, json_body, stateful
from mockserver.pipeline.gateway import Call, Handler

API_PREFIX = "vendor/directFulfillment/"
_SANDBOX_API = "vendor/directFulfillment/sandbox/2021-10-28"


def _version(call: Call) -> str:
    return call.operation.api.api_id.rsplit("/", 1)[1]


def _path(call: Call, name: str) -> str:
    return str(call.request.path[name])


def direct_fulfillment_handlers(world: DirectFulfillmentWorld) -> dict[str, Callable[[str], Handler]]:
    """Handler factories by operationId; each takes the API id (its version decides the envelope)."""

    def get_orders(call: Call) -> tuple[int, Any]:
        return 200, world.get_orders(account_of(call), call.request.query, _version(call))

    def get_order(call: Call) -> tuple[int, Any]:
        return 200, world.get_order(account_of(call), _path(call, "purchaseOrderNumber"), _version(call))

    def transaction_status(call: Call) -> tuple[int, Any]:
        return 200, world.transaction_status(account_of(call), _path(call, "transactionId"), _version(call))

    def shipping_labels(call: Call) -> tuple[int, Any]:
        return 200, world.shipping_labels(account_of(call), call.request.query, _version(call))

    def shipping_label(call: Call) -> tuple[int, Any]:
        return 200, world.shipping_label(account_of(call), _path(call, "purchaseOrderNumber"))

    def create_shipping_labels(call: Call) -> tuple[int, Any]:
        number = _path(call, "purchaseOrderNumber")
        return 200, world.create_shipping_labels(account_of(call), number, json_body(call))

    def create_container_label(call: Call) -> tuple[int, Any]:
        return 200, world.create_container_label(account_of(call), json_body(call))

    def packing_slips(call: Call) -> tuple[int, Any]:
        return 200, world.packing_slips(account_of(call), call.request.query, _version(call))

    def packing_slip(call: Call) -> tuple[int, Any]:
        return 200, world.packing_slip(account_of(call), _path(call, "purchaseOrderNumber"))

    def customer_invoices(call: Call) -> tuple[int, Any]:
        return 200, world.customer_invoices(account_of(call), call.request.query, _version(call))

    def customer_invoice(call: Call) -> tuple[int, Any]:
        return 200, world.customer_invoice(account_of(call), _path(call, "purchaseOrderNumber"))

    def generate_order_scenarios(call: Call) -> tuple[int, Any]:
        return 202, {"transactionId": world.generate_order_scenarios(account_of(call), json_body(call))}

    def order_scenarios(call: Call) -> tuple[int, Any]:
        return 200, world.order_scenarios(account_of(call), _path(call, "transactionId"))

    def submission(operation_id: str) -> Callable[[Call], tuple[int, Any]]:
        def submit(call: Call) -> tuple[int, Any]:
            body = json_body(call)
            if operation_id == "submitInventoryUpdate":
                body = inventory.submission(_path(call, "warehouseId"), body)
            return 202, {"transactionId": world.submit(account_of(call), operation_id, body)}

        return submit

    answers: dict[str, Callable[[Call], tuple[int, Any]]] = {
        "getOrders": get_orders,
        "getOrder": get_order,
        "getTransactionStatus": transaction_status,
        "getShippingLabels": shipping_labels,
        "getShippingLabel": shipping_label,
        "createShippingLabels": create_shipping_labels,
        "createContainerLabel": create_container_label,
        "getPackingSlips": packing_slips,
        "getPackingSlip": packing_slip,
        "getCustomerInvoices": customer_invoices,
        "getCustomerInvoice": customer_invoice,
        "generateOrderScenarios": generate_order_scenarios,
        "getOrderScenarios": order_scenarios,
        **{operation_id: submission(operation_id) for operation_id in KINDS},
    }

    def factory(operation_id: str) -> Callable[[str], Handler]:
        def for_api(api_id: str) -> Handler:
            envelope = api_id.rsplit("/", 1)[1] == V1 and api_id != _SANDBOX_API
            return stateful(answers[operation_id], envelope=envelope)

        return for_api

    return {operation_id: factory(operation_id) for operation_id in answers}


def is_direct_fulfillment(api_id: str) -> bool:
    return api_id.startswith(API_PREFIX)
