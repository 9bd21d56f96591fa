"""Hypothesis strategies for property-testing SP-API client code, from the contracts.

Contract-driven, for any operation (by operationId; `api=` picks a version where the id repeats):

    request_bodies("submitAcknowledgement")               valid request bodies
    request_bodies("submitAcknowledgement", valid=False)  bodies the contract rejects
    responses("getPurchaseOrders")                        valid bodies of the success response
    responses("getPurchaseOrders", valid=False)           bodies that break the response schema

Domain strategies (Vendor Retail documents consistent with each other):

    purchase_orders()                 an Order as getPurchaseOrder returns it
    acknowledgements(order)           an OrderAcknowledgement of that order (same number, items, quantities)
    shipment_confirmations(order)     an ASN (ShipmentConfirmation) shipping what the order asked for
    invoices(order)                   an Invoice of the order's items at their net cost
    retail_documents()                (order, acknowledgement, shipment confirmation, invoice)

Every value is plain JSON (dicts, lists, str, int, bool). Contract values come from the emulator's own
generator (contracts/generate.py: every constraint, pattern and format of the contracts kept) driven by a
Hypothesis-drawn seed, which is fast and shrinks to the minimal instance; invalid ones are valid ones damaged
once (a field removed or given the wrong type) until the contract refuses them.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from mockserver.contracts.model import Operation
from mockserver.testing import require_toolkit

require_toolkit("hypothesis")

from hypothesis import strategies as st  # noqa: E402

_UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


# -- contracts ---------------------------------------------------------------------------------------------


@cache
def _registry(contracts: Path | None) -> Any:
    from mockserver.contracts.registry import DEFAULT_CONTRACTS, OperationRegistry

    return OperationRegistry.from_directory(contracts or DEFAULT_CONTRACTS)


def operation(operation_id: str, api: str | None = None, contracts: Path | None = None) -> Operation:
    """The contract's operation by operationId (and API id, e.g. `vendor/orders/v1`, where it repeats)."""
    found = [
        item
        for item in _registry(contracts).operations
        if item.operation_id == operation_id and (api is None or item.api.api_id == api)
    ]
    if not found:
        raise KeyError(f"no operation {operation_id!r}" + (f" in {api}" if api else ""))
    if len(found) > 1:
        apis = ", ".join(item.api.api_id for item in found)
        raise KeyError(f"{operation_id!r} is in several APIs ({apis}): pass api=")
    return found[0]


@cache
def _validator() -> Any:
    from mockserver.pipeline.validate import RequestValidator

    return RequestValidator(max_body_bytes=10 * 1024 * 1024)


def body_violation(op: Operation, body: Any) -> str | None:
    """What is wrong with a request body against the contract, or None."""
    from mockserver.pipeline.validate import _first_error

    compiled = _validator().compiled(op)
    if compiled.body is None:
        return None
    return _first_error(compiled.body, body, root="body")


def response_violation(op: Operation, body: Any, status: str | None = None) -> str | None:
    """What is wrong with a response body (of `status`, the success status by default), or None."""
    result: str | None = _validator().response_violation(op, status or op.success_status, body)
    return result


def request_bodies(
    operation_id: str, *, valid: bool = True, api: str | None = None, contracts: Path | None = None
) -> st.SearchStrategy[Any]:
    """Request bodies of an operation: valid against its contract, or (valid=False) rejected by it."""
    op = operation(operation_id, api, contracts)
    if op.body is None:
        raise ValueError(f"{operation_id} takes no request body")
    return _bodies_from_model(op, valid)


def _bodies_from_model(op: Operation, valid: bool) -> st.SearchStrategy[Any]:
    from mockserver.contracts.generate import generate_instance

    assert op.body is not None
    schema, definitions = op.body.schema, op.api.definitions
    base = st.builds(
        lambda seed, minimal: generate_instance(schema, definitions, seed=seed, minimal=minimal),
        st.integers(0, 2**32),
        st.booleans(),
    )
    if valid:
        return base
    return _broken(base, lambda body: body_violation(op, body))


def responses(
    operation_id: str,
    status: str | None = None,
    *,
    valid: bool = True,
    api: str | None = None,
    contracts: Path | None = None,
) -> st.SearchStrategy[Any]:
    """Response bodies of an operation (its success status by default): valid, or breaking the schema."""
    from mockserver.contracts.generate import generate_response

    op = operation(operation_id, api, contracts)
    chosen = status or op.success_status
    base = st.integers(0, 2**32).map(lambda seed: generate_response(op, chosen, seed=seed))
    if valid:
        return base
    return _broken(base, lambda body: response_violation(op, body, chosen))


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


_WRONG_TYPES = {str: 12345, int: "not a number", float: "not a number", bool: "yes", dict: [], list: {}}


def _broken(base: st.SearchStrategy[Any], violation: Any) -> st.SearchStrategy[Any]:
    """A valid value damaged once (a field removed, or given the wrong type) until the contract refuses it."""

    @st.composite
    def damaged(draw: st.DrawFn) -> Any:
        value = copy.deepcopy(draw(base))
        paths = _paths(value)
        if not paths or (draw(st.booleans()) and not isinstance(value, dict)):
            return "not a JSON object"
        path = draw(st.sampled_from(paths))
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = _WRONG_TYPES.get(type(parent[path[-1]]), 12345)
        return value

    return damaged().filter(lambda value: violation(value) is not None)


# -- domain: Vendor Retail documents -------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _codes(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=_UPPER_ALNUM, min_size=size, max_size=size)


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"currencyCode": currency, "amount": f"{amount:.2f}"}


@st.composite
def purchase_orders(
    draw: st.DrawFn,
    vendor_codes: tuple[str, ...] = ("ACME1",),
    ship_to: tuple[str, ...] = ("ABE2", "PHX7", "SDF8"),
    currency: str = "USD",
    max_items: int = 5,
) -> dict[str, Any]:
    """A new purchase order (getPurchaseOrder's `Order`) of 1..max_items lines with net costs."""
    ordered_at = _EPOCH + timedelta(minutes=draw(st.integers(0, 60 * 24 * 365 * 8)))
    count = draw(st.integers(1, max_items))
    items = []
    for index in range(count):
        items.append(
            {
                "itemSequenceNumber": str(index + 1),
                "amazonProductIdentifier": "B0" + draw(_codes(8)),
                "vendorProductIdentifier": draw(_codes(10)),
                "orderedQuantity": {
                    "amount": draw(st.integers(1, 500)),
                    "unitOfMeasure": "Eaches",
                    "unitSize": 1,
                },
                "isBackOrderAllowed": draw(st.booleans()),
                "netCost": _money(Decimal(draw(st.integers(1, 100_000))) / 100, currency),
            }
        )
    return {
        "purchaseOrderNumber": draw(_codes(8)),
        "purchaseOrderState": "New",
        "orderDetails": {
            "purchaseOrderDate": _iso(ordered_at),
            "purchaseOrderStateChangedDate": _iso(ordered_at),
            "purchaseOrderType": draw(st.sampled_from(["RegularOrder", "RushOrder"])),
            "paymentMethod": "Invoice",
            "buyingParty": {"partyId": draw(st.sampled_from(ship_to))},
            "sellingParty": {"partyId": draw(st.sampled_from(vendor_codes))},
            "shipToParty": {"partyId": draw(st.sampled_from(ship_to))},
            "billToParty": {"partyId": "AMAZON"},
            "deliveryWindow": f"{_iso(ordered_at + timedelta(days=3))}--"
            f"{_iso(ordered_at + timedelta(days=10))}",
            "items": items,
        },
    }


def _ordered(order: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = order["orderDetails"]["items"]
    return items


def _after(order: dict[str, Any], hours: int) -> str:
    ordered_at = datetime.strptime(order["orderDetails"]["purchaseOrderDate"], "%Y-%m-%dT%H:%M:%SZ")
    return _iso(ordered_at.replace(tzinfo=UTC) + timedelta(hours=hours))


@st.composite
def acknowledgements(draw: st.DrawFn, order: dict[str, Any]) -> dict[str, Any]:
    """An acknowledgement of `order`: each line accepted in full, in part (the rest backordered or
    rejected), or rejected; acknowledged quantities add up to the ordered ones."""
    lines = []
    for item in _ordered(order):
        ordered = item["orderedQuantity"]["amount"]
        accepted = draw(st.integers(0, ordered))
        parts = []
        if accepted:
            parts.append(
                {
                    "acknowledgementCode": "Accepted",
                    "acknowledgedQuantity": {"amount": accepted, "unitOfMeasure": "Eaches", "unitSize": 1},
                    "scheduledShipDate": _after(order, 48),
                    "scheduledDeliveryDate": _after(order, 96),
                }
            )
        if accepted < ordered:
            code = "Backordered" if item["isBackOrderAllowed"] and draw(st.booleans()) else "Rejected"
            rest: dict[str, Any] = {
                "acknowledgementCode": code,
                "acknowledgedQuantity": {
                    "amount": ordered - accepted,
                    "unitOfMeasure": "Eaches",
                    "unitSize": 1,
                },
            }
            if code == "Rejected":
                rest["rejectionReason"] = draw(
                    st.sampled_from(["TemporarilyUnavailable", "InvalidProductIdentifier", "ObsoleteProduct"])
                )
            parts.append(rest)
        lines.append(
            {
                "itemSequenceNumber": item["itemSequenceNumber"],
                "amazonProductIdentifier": item["amazonProductIdentifier"],
                "vendorProductIdentifier": item["vendorProductIdentifier"],
                "orderedQuantity": item["orderedQuantity"],
                "netCost": item["netCost"],
                "itemAcknowledgements": parts,
            }
        )
    return {
        "purchaseOrderNumber": order["purchaseOrderNumber"],
        "sellingParty": order["orderDetails"]["sellingParty"],
        "acknowledgementDate": _after(order, 1),
        "items": lines,
    }


def accepted_quantities(acknowledgement: dict[str, Any]) -> dict[str, int]:
    """Item sequence number -> quantity accepted, from an acknowledgement."""
    return {
        line["itemSequenceNumber"]: sum(
            part["acknowledgedQuantity"]["amount"]
            for part in line["itemAcknowledgements"]
            if part["acknowledgementCode"] == "Accepted"
        )
        for line in acknowledgement["items"]
    }


@st.composite
def shipment_confirmations(
    draw: st.DrawFn, order: dict[str, Any], acknowledgement: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An ASN for `order`: the accepted quantities (all ordered ones without an acknowledgement), from the
    order's vendor to its ship-to party, shipped after the order date."""
    quantities = (
        accepted_quantities(acknowledgement)
        if acknowledgement is not None
        else {item["itemSequenceNumber"]: item["orderedQuantity"]["amount"] for item in _ordered(order)}
    )
    shipped = [
        {
            "itemSequenceNumber": item["itemSequenceNumber"],
            "amazonProductIdentifier": item["amazonProductIdentifier"],
            "vendorProductIdentifier": item["vendorProductIdentifier"],
            "shippedQuantity": {"amount": quantities[item["itemSequenceNumber"]], "unitOfMeasure": "Eaches"},
            "itemDetails": {"purchaseOrderNumber": order["purchaseOrderNumber"]},
        }
        for item in _ordered(order)
        if quantities.get(item["itemSequenceNumber"])
    ]
    details = order["orderDetails"]
    return {
        "shipmentIdentifier": order["purchaseOrderNumber"] + draw(_codes(4)),
        "shipmentConfirmationType": "Original",
        "shipmentType": draw(st.sampled_from(["SmallParcel", "LessThanTruckLoad", "TruckLoad"])),
        "shipmentConfirmationDate": _after(order, 50),
        "shippedDate": _after(order, 48),
        "estimatedDeliveryDate": _after(order, 96),
        "sellingParty": details["sellingParty"],
        "shipFromParty": {"partyId": details["sellingParty"]["partyId"]},
        "shipToParty": details["shipToParty"],
        "shippedItems": shipped,
    }


@st.composite
def invoices(
    draw: st.DrawFn, order: dict[str, Any], shipment: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An invoice of what was shipped (or ordered), at the order's net costs; the total adds up."""
    shipped = (
        {line["itemSequenceNumber"]: line["shippedQuantity"]["amount"] for line in shipment["shippedItems"]}
        if shipment is not None
        else {item["itemSequenceNumber"]: item["orderedQuantity"]["amount"] for item in _ordered(order)}
    )
    currency = _ordered(order)[0]["netCost"]["currencyCode"]
    lines = []
    total = Decimal(0)
    for item in _ordered(order):
        quantity = shipped.get(item["itemSequenceNumber"], 0)
        if not quantity:
            continue
        cost = Decimal(item["netCost"]["amount"])
        total += cost * quantity
        lines.append(
            {
                "itemSequenceNumber": int(item["itemSequenceNumber"]),
                "amazonProductIdentifier": item["amazonProductIdentifier"],
                "vendorProductIdentifier": item["vendorProductIdentifier"],
                "invoicedQuantity": {"amount": quantity, "unitOfMeasure": "Eaches"},
                "netCost": item["netCost"],
                "purchaseOrderNumber": order["purchaseOrderNumber"],
            }
        )
    return {
        "invoiceType": "Invoice",
        "id": "INV-" + draw(_codes(8)),
        "date": _after(order, 52),
        "remitToParty": order["orderDetails"]["sellingParty"],
        "shipToParty": order["orderDetails"]["shipToParty"],
        "billToParty": order["orderDetails"]["billToParty"],
        "invoiceTotal": _money(total, currency),
        "items": lines,
    }


@st.composite
def retail_documents(draw: st.DrawFn, **order_options: Any) -> tuple[dict[str, Any], ...]:
    """(order, acknowledgement, shipment confirmation, invoice), each following from the one before."""
    order = draw(purchase_orders(**order_options))
    acknowledgement = draw(acknowledgements(order))
    shipment = draw(shipment_confirmations(order, acknowledgement))
    invoice = draw(invoices(order, shipment))
    return order, acknowledgement, shipment, invoice


__all__ = [
    "accepted_quantities",
    "acknowledgements",
    "body_violation",
    "invoices",
    "operation",
    "purchase_orders",
    "request_bodies",
    "response_violation",
    "responses",
    "retail_documents",
    "shipment_confirmations",
]
