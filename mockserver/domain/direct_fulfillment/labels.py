"""Shipping labels: submitShippingLabelRequest (asynchronous: the label is then served by getShippingLabel
and getShippingLabels), createShippingLabels (2021-12-28, synchronous, one order) and createContainerLabel
(a pallet of labelled packages), under the `df-label-*` and `df-container-*` rules. Labels are issued only
for accepted orders; their content is a real PNG or ZPL document in the warehouse's label format."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.domain.clock import iso
from mockserver.domain.direct_fulfillment import rendering
from mockserver.domain.direct_fulfillment.acknowledgements import check_parties, item_quantity
from mockserver.domain.direct_fulfillment.orders import StoredDfOrder, limit_of, listing
from mockserver.domain.direct_fulfillment.rules import violation
from mockserver.domain.direct_fulfillment.seeding import tracking_number
from mockserver.domain.direct_fulfillment.state import CONTAINER_LABELS, LABELS, DfState
from mockserver.domain.errors import InvalidInput, NotFound
from mockserver.domain.paging import encode_token, invalid_next_token


def process_label_requests(state: DfState, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
    """submitShippingLabelRequest's processor: every request checked, then every label issued."""
    errors: list[dict[str, str]] = []
    issued: list[tuple[StoredDfOrder, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, request in enumerate(body.get("shippingLabelRequests") or []):
        number = str(request.get("purchaseOrderNumber"))
        where = f"shippingLabelRequests[{index}] (purchase order {number})"
        order = _checked_order(state, account, number, request, where, errors)
        if order is None:
            continue
        if number in seen:
            errors.append(
                violation("df-label-accepted", where, f"purchase order {number} is requested twice")
            )
            continue
        seen.add(number)
        issued.append((order, _label(state, account, order, request.get("containers") or [], now)))
    if errors:
        return errors
    for order, label in issued:
        _store(state, account, order, label)
    return []


def create_shipping_labels(
    state: DfState, account: str, number: str, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """createShippingLabels: the label at once, or the first broken rule as a 400 (an unknown order: 404)."""
    if state.view(account, number) is None:
        raise NotFound(f"No purchase order {number}.")
    errors: list[dict[str, str]] = []
    order = _checked_order(state, account, number, body, f"purchase order {number}", errors)
    if order is None:
        raise rule_error(errors[0])
    label = _label(state, account, order, body.get("containers") or [], now)
    _store(state, account, order, label)
    return public(label)


def rule_error(error: dict[str, str]) -> InvalidInput:
    """A synchronous operation's answer to a broken rule: 400 with the rule's message and details."""
    return InvalidInput(error["details"], error["message"])


def _checked_order(
    state: DfState,
    account: str,
    number: str,
    request: dict[str, Any],
    where: str,
    errors: list[dict[str, str]],
) -> StoredDfOrder | None:
    order = state.load(account, number)
    if order is None:
        errors.append(violation("df-order-exists", where, f"no purchase order {number} for this vendor"))
        return None
    if not check_parties(state, account, order, request, where, errors):
        return None
    if order.status != "ACCEPTED":
        errors.append(violation("df-label-accepted", where, f"purchase order {number} is {order.status}"))
        return None
    packed: dict[str, int] = {}
    for c_index, container in enumerate(request.get("containers") or []):
        for p_index, line in enumerate(container.get("packedItems") or []):
            line_where = f"{where} containers[{c_index}].packedItems[{p_index}]"
            item = order.item(
                line.get("itemSequenceNumber"),
                line.get("buyerProductIdentifier"),
                line.get("vendorProductIdentifier"),
            )
            if item is None:
                errors.append(
                    violation(
                        "df-label-packed-items",
                        line_where,
                        f"item {line.get('itemSequenceNumber')} is not on the order",
                    )
                )
                return None
            sequence = item["itemSequenceNumber"]
            packed[sequence] = packed.get(sequence, 0) + item_quantity(line, "packedQuantity")
            if packed[sequence] > item_quantity(item, "orderedQuantity"):
                errors.append(
                    violation(
                        "df-label-packed-items",
                        line_where,
                        f"item {sequence}: {packed[sequence]} packed, "
                        f"{item_quantity(item, 'orderedQuantity')} ordered",
                    )
                )
                return None
    return order


def _label(
    state: DfState, account: str, order: StoredDfOrder, containers: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    warehouse = state.builder(account).warehouses[order.warehouse]
    method = order.details["shipmentDetails"]["shipMethod"]
    method_name = dict(warehouse.ship_methods).get(method, method)
    ship_to = order.details["shipToParty"]
    packages = []
    for package in range(1, max(1, len(containers)) + 1):
        identifier = f"{package:03d}"
        tracking = tracking_number(method, account, order.number, "label", identifier)
        lines = [
            method_name,
            f"PO {order.number} package {identifier} of {max(1, len(containers))}",
            f"FROM {warehouse.address['name']}, {warehouse.address['city']}",
            f"TO {ship_to.get('name')}, {ship_to.get('addressLine1')}",
            f"{ship_to.get('city')} {ship_to.get('stateOrRegion')} {ship_to.get('postalCode')} "
            f"{ship_to.get('countryCode')}",
        ]
        packages.append(
            {
                "packageIdentifier": identifier,
                "trackingNumber": tracking,
                "shipMethod": method,
                "shipMethodName": method_name,
                "content": rendering.b64(rendering.label(warehouse.label_format, tracking, lines)),
            }
        )
    return {
        "purchaseOrderNumber": order.number,
        "sellingParty": {"partyId": order.vendor_code},
        "shipFromParty": {"partyId": order.warehouse},
        "labelFormat": warehouse.label_format,
        "labelData": packages,
        "createdAt": iso(now),
    }


def _store(state: DfState, account: str, order: StoredDfOrder, label: dict[str, Any]) -> None:
    order.track["label"] = {
        "createdAt": label["createdAt"],
        "trackingNumbers": [package["trackingNumber"] for package in label["labelData"]],
    }
    state.table.put(order.to_row())
    state.store.put(f"{LABELS}:{account}", order.number, label)


def public(label: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in label.items() if key != "createdAt"}


def get_shipping_label(state: DfState, account: str, number: str) -> dict[str, Any]:
    label = state.store.get(f"{LABELS}:{account}", number)
    if label is None:
        raise NotFound(f"No shipping label for purchase order {number}.")
    return public(label)


def list_shipping_labels(state: DfState, account: str, query: dict[str, Any], version: str) -> dict[str, Any]:
    listing_state = listing(query, f"df-labels:{version}", account, max_window=None)
    labels = [
        label
        for _, label in state.store.scan(f"{LABELS}:{account}")
        if listing_state["createdAfter"] < label["createdAt"] < listing_state["createdBefore"]
        and listing_state.get("shipFromPartyId") in (None, label["shipFromParty"]["partyId"])
    ]
    page, token = keyset_in_memory(
        labels,
        lambda label: [label["createdAt"], label["purchaseOrderNumber"]],
        listing_state,
        limit_of(query),
    )
    payload: dict[str, Any] = {"shippingLabels": [public(label) for label in page]}
    if token:
        payload["pagination"] = {"nextToken": token}
    return payload


def keyset_in_memory(
    items: list[dict[str, Any]], key: Any, state: dict[str, Any], limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of documents decided in memory (a few per account), after the key the state carries."""
    descending = state.get("sortOrder") == "DESC"
    items = sorted(items, key=key, reverse=descending)
    after = state.get("after")
    if after is not None:
        if not isinstance(after, list):
            raise invalid_next_token()
        items = [item for item in items if (key(item) < after if descending else key(item) > after)]
    if len(items) <= limit:
        return items, None
    page = items[:limit]
    return page, encode_token({**state, "after": key(page[-1])})


def create_container_label(
    state: DfState, account: str, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """createContainerLabel: a pallet label for packages shipped on Amazon's labels from one warehouse."""
    warehouse = state.warehouse(account, (body.get("shipFromParty") or {}).get("partyId"))
    selling = (body.get("sellingParty") or {}).get("partyId")
    if warehouse is None:
        raise rule_error(
            violation(
                "df-ship-from-party", "containerLabel", "shipFromParty is not a warehouse of the vendor"
            )
        )
    if selling != warehouse.vendor_code:
        raise rule_error(
            violation(
                "df-selling-party", "containerLabel", f"sellingParty {selling} is not {warehouse.vendor_code}"
            )
        )
    labelled = {
        package["trackingNumber"]
        for _, label in state.store.scan(f"{LABELS}:{account}")
        if label["shipFromParty"]["partyId"] == warehouse.warehouse_id
        for package in label["labelData"]
    }
    packages = [str(package.get("packageTrackingNumber")) for package in body.get("packages") or []]
    unknown = [number for number in packages if number not in labelled]
    if unknown or not packages:
        detail = (
            f"{', '.join(unknown)} not on a label of {warehouse.warehouse_id}" if unknown else "no packages"
        )
        raise rule_error(violation("df-container-packages", "containerLabel", detail))
    container = str(body.get("vendorContainerId"))
    tracking = tracking_number("CONTAINER", account, warehouse.warehouse_id, container)
    lines = [f"Pallet {container}", f"{len(packages)} packages", f"FROM {warehouse.address['name']}"]
    label = {
        "containerTrackingNumber": tracking,
        "content": rendering.b64(rendering.label_png(tracking, lines)),
        "format": "PNG",
    }
    state.store.put(
        f"{CONTAINER_LABELS}:{account}",
        container,
        {**label, "packages": packages, "carrierId": body.get("carrierId"), "createdAt": iso(now)},
    )
    return {"containerLabel": label}


__all__ = ["create_container_label", "create_shipping_labels", "process_label_requests"]
