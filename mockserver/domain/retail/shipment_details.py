"""GetShipmentDetails: the account's ASNs and shipments as Amazon shows them, with their progress on the
sandbox clock (a shipment: Created -> TransportationRequested -> CarrierAssigned -> Shipped)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mockserver.domain.clock import iso, parse_iso
from mockserver.domain.errors import InvalidInput
from mockserver.domain.paging import page_after
from mockserver.domain.retail.state import ASN, SHIPMENTS, RetailState

_DATE_FILTERS: dict[str, Any] = {
    "created": "shipmentCreateDate",
    "shipmentConfirmed": "shipmentConfirmDate",
    "packageLabelCreated": "packageLabelCreateDate",
    "shipped": ("transportationDetails", "shippedDate"),
    "estimatedDelivery": ("transportationDetails", "estimatedDeliveryDate"),
    "shipmentDelivery": ("transportationDetails", "shipmentDeliveryDate"),
}


def shipment_views(
    state: RetailState, account: str, now: datetime, only: str | None = None
) -> list[dict[str, Any]]:
    """The account's ASNs and shipments as GetShipmentDetails shows them; `only` one identifier: read by
    key, no scan."""
    views = []
    stamp = iso(now)
    for identifier, document in _documents(state, f"{ASN}:{account}", only):
        views.append(_confirmation_view(identifier, document, stamp))
    for identifier, document in _documents(state, f"{SHIPMENTS}:{account}", only):
        views.append(_shipment_view(identifier, document, now))
    return views


def _confirmation_view(identifier: str, document: dict[str, Any], stamp: str) -> dict[str, Any]:
    confirmation = document["confirmation"]
    purchase_orders: dict[str, list[dict[str, Any]]] = {}
    for number, sequence, quantity in document["lines"]:
        purchase_orders.setdefault(number, []).append(
            {
                "itemSequenceNumber": sequence,
                "shippedQuantity": {"amount": quantity, "unitOfMeasure": "Eaches", "unitSize": 1},
            }
        )
    transport: dict[str, Any] = {}
    if confirmation.get("shippedDate"):
        transport["shippedDate"] = iso(parse_iso(confirmation["shippedDate"]))
    if confirmation.get("estimatedDeliveryDate"):
        transport["estimatedDeliveryDate"] = iso(parse_iso(confirmation["estimatedDeliveryDate"]))
    if document["receiveAt"] <= stamp:
        transport["shipmentDeliveryDate"] = document["receiveAt"]
    view = {
        "vendorShipmentIdentifier": identifier,
        "transactionType": "New",
        "transactionDate": document["createdAt"],
        "currentShipmentStatus": "Shipped",
        "currentshipmentStatusDate": document["createdAt"],
        "shipmentStatusDetails": [{"shipmentStatus": "Shipped", "shipmentStatusDate": document["createdAt"]}],
        "shipmentCreateDate": document["createdAt"],
        "shipmentConfirmDate": document["createdAt"],
        "sellingParty": {"partyId": confirmation["sellingParty"]["partyId"]},
        "shipFromParty": {"partyId": confirmation["shipFromParty"]["partyId"]},
        "shipToParty": {"partyId": confirmation["shipToParty"]["partyId"]},
        "purchaseOrders": [
            {"purchaseOrderNumber": n, "items": items} for n, items in purchase_orders.items()
        ],
        "transportationDetails": transport,
    }
    if confirmation.get("amazonReferenceNumber"):
        view["buyerReferenceNumber"] = str(confirmation["amazonReferenceNumber"])
    return view


def _shipment_view(identifier: str, document: dict[str, Any], now: datetime) -> dict[str, Any]:
    shipment = document["shipment"]
    created = parse_iso(document["createdAt"])
    steps = [
        ("Created", created),
        ("TransportationRequested", created + timedelta(hours=1)),
        ("CarrierAssigned", created + timedelta(hours=2)),
        ("Shipped", created + timedelta(hours=24)),
    ]
    reached = [(status, at) for status, at in steps if at <= now] or steps[:1]
    view = {
        "vendorShipmentIdentifier": identifier,
        "transactionType": "Cancel" if document.get("cancelledAt") else "New",
        "transactionDate": iso(parse_iso(shipment["transactionDate"])),
        "currentShipmentStatus": reached[-1][0],
        "currentshipmentStatusDate": iso(reached[-1][1]),
        "shipmentStatusDetails": [{"shipmentStatus": s, "shipmentStatusDate": iso(at)} for s, at in reached],
        "shipmentCreateDate": document["createdAt"],
        "sellingParty": {"partyId": shipment["sellingParty"]["partyId"]},
        "shipFromParty": {"partyId": shipment["shipFromParty"]["partyId"]},
        "shipToParty": {"partyId": shipment["shipToParty"]["partyId"]},
        "purchaseOrders": shipment.get("purchaseOrders") or [],
    }
    if len(reached) >= 3:
        view["packageLabelCreateDate"] = iso(reached[2][1])
    if shipment.get("buyerReferenceNumber"):
        view["buyerReferenceNumber"] = shipment["buyerReferenceNumber"]
    return view


def shipment_details(
    state: RetailState, account: str, query: dict[str, Any], now: datetime
) -> dict[str, Any]:
    only = query.get("vendorShipmentIdentifier")
    views = shipment_views(state, account, now, str(only) if only else None)

    def value(view: dict[str, Any], path: Any) -> str | None:
        if isinstance(path, tuple):
            return (view.get(path[0]) or {}).get(path[1])
        return view.get(path)

    bounds: list[tuple[Any, bool, str]] = []  # read once (and only when there is a view to filter)
    for prefix, path in _DATE_FILTERS.items() if views else ():
        for suffix, above in (("After", True), ("Before", False)):
            bound = query.get(prefix + suffix)
            if not bound:
                continue
            try:
                bounds.append((path, above, iso(parse_iso(bound))))
            except ValueError as error:
                raise InvalidInput(f"Invalid date: {error}.") from error
    selected = []
    for view in views:
        keep = True
        for path, above, bound_text in bounds:
            found = value(view, path)
            if found is None or (found <= bound_text if above else found >= bound_text):
                keep = False
        for name in ("vendorShipmentIdentifier", "buyerReferenceNumber", "currentShipmentStatus"):
            if query.get(name) and view.get(name) != query[name]:
                keep = False
        if (
            query.get("sellerWarehouseCode")
            and view["shipFromParty"]["partyId"] != query["sellerWarehouseCode"]
        ):
            keep = False
        if query.get("buyerWarehouseCode") and view["shipToParty"]["partyId"] != query["buyerWarehouseCode"]:
            keep = False
        if keep:
            selected.append(view)
    selected.sort(
        key=lambda v: (v["shipmentCreateDate"], v["vendorShipmentIdentifier"]),
        reverse=query.get("sortOrder") == "DESC",
    )
    shipments, token = page_after(
        selected,
        int(query.get("limit") or 50),
        lambda view: [view["shipmentCreateDate"], view["vendorShipmentIdentifier"]],
        query.get("nextToken"),
    )
    payload: dict[str, Any] = {"shipments": shipments}
    if token:
        payload["pagination"] = {"nextToken": token}
    return payload


def _documents(state: RetailState, collection: str, only: str | None) -> list[tuple[str, dict[str, Any]]]:
    """A collection's shipment documents, or only the one with that identifier (a read by key)."""
    if only is None:
        return list(state.store.scan(collection))
    document = state.store.get(collection, only)
    return [] if document is None else [(only, document)]
