"""submitShipmentConfirmations and submitShipmentStatusUpdates (v1 and 2021-12-28), under the `df-ship-*` and
`df-status-*` rules. An accepted order ships whole, on the tracking numbers of its Amazon label if it has
one, else with the vendor's own carrier (VOC), whose carrier scans are then sent as status updates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mockserver.domain.clock import iso, parse_iso
from mockserver.domain.direct_fulfillment.acknowledgements import check_parties, item_quantity
from mockserver.domain.direct_fulfillment.orders import StoredDfOrder
from mockserver.domain.direct_fulfillment.rules import violation
from mockserver.domain.direct_fulfillment.state import DfState

FUTURE_TOLERANCE = timedelta(hours=1)  # clocks differ: "cannot be in the future", within an hour
STATUS_UPDATES_KEPT = 50


def process_shipment_confirmations(
    state: DfState, account: str, body: Any, now: datetime
) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    changed: dict[str, StoredDfOrder] = {}
    for index, confirmation in enumerate(body.get("shipmentConfirmations") or []):
        number = str(confirmation.get("purchaseOrderNumber"))
        where = f"shipmentConfirmations[{index}] (purchase order {number})"
        order = state.load(account, number)
        if order is None:
            errors.append(violation("df-order-exists", where, f"no purchase order {number} for this vendor"))
            continue
        if not check_parties(state, account, order, confirmation, where, errors):
            continue
        if number in changed or order.track.get("shipment") is not None:
            errors.append(violation("df-ship-once", where, f"purchase order {number} was already confirmed"))
            continue
        if order.status != "ACCEPTED":
            errors.append(violation("df-ship-accepted", where, f"purchase order {number} is {order.status}"))
            continue
        details = confirmation.get("shipmentDetails") or {}
        shipped = _shipped_date(order, details, now, where, errors)
        if shipped is None:
            continue
        if details.get("shipmentStatus") == "FLOOR_DENIAL":  # the vendor cannot ship it after all
            order.status = "CANCELLED"
            order.track["cancelled"] = {"by": "vendor", "at": iso(shipped), "code": "FLOOR_DENIAL"}
            changed[number] = order
            continue
        items = _shipped_items(order, confirmation, where, errors)
        if items is None:
            continue
        tracking = [
            str(container["trackingNumber"])
            for container in confirmation.get("containers") or []
            if container.get("trackingNumber")
        ]
        label = order.track.get("label")
        if label is not None:
            foreign = [number for number in tracking if number not in label["trackingNumbers"]]
            if foreign or not tracking:
                detail = (
                    f"tracking numbers {', '.join(foreign)} are not the label's"
                    if foreign
                    else "no container carries the label's tracking number"
                )
                errors.append(violation("df-ship-label-tracking", where, detail))
                continue
        order.status = "SHIPPED"
        order.track["shipment"] = {
            "at": iso(shipped),
            "status": "SHIPPED",
            "trackingNumbers": tracking,
            "ownCarrier": label is None,
            "items": items,
            "vendorOrderNumber": details.get("vendorOrderNumber"),
        }
        changed[number] = order
    if errors:
        return errors
    for order in changed.values():
        state.table.put(order.to_row())
    return []


def _shipped_date(
    order: StoredDfOrder, details: dict[str, Any], now: datetime, where: str, errors: list[dict[str, str]]
) -> datetime | None:
    try:
        shipped = parse_iso(str(details.get("shippedDate")))
    except ValueError:
        errors.append(violation("df-ship-date", where, "shippedDate cannot be read"))
        return None
    if shipped < parse_iso(order.created):
        errors.append(
            violation("df-ship-date", where, f"shippedDate {iso(shipped)} is before the order date")
        )
        return None
    if shipped > now + FUTURE_TOLERANCE:
        errors.append(violation("df-ship-date", where, f"shippedDate {iso(shipped)} is in the future"))
        return None
    return shipped


def _shipped_items(
    order: StoredDfOrder, confirmation: dict[str, Any], where: str, errors: list[dict[str, str]]
) -> dict[str, int] | None:
    """{sequence: eaches} when every item ships in its ordered quantity (df-ship-items)."""
    shipped: dict[str, int] = {}
    for line_index, line in enumerate(confirmation.get("items") or []):
        item = order.item(
            line.get("itemSequenceNumber"),
            line.get("buyerProductIdentifier"),
            line.get("vendorProductIdentifier"),
        )
        if item is None:
            errors.append(
                violation(
                    "df-ship-items",
                    f"{where} items[{line_index}]",
                    f"item {line.get('itemSequenceNumber')} is not on the order",
                )
            )
            return None
        sequence = item["itemSequenceNumber"]
        shipped[sequence] = shipped.get(sequence, 0) + item_quantity(line, "shippedQuantity")
    wrong = [
        f"item {item['itemSequenceNumber']}: shipped {shipped.get(item['itemSequenceNumber'], 0)} of "
        f"{item_quantity(item, 'orderedQuantity')} ordered"
        for item in order.items
        if shipped.get(item["itemSequenceNumber"], 0) != item_quantity(item, "orderedQuantity")
    ]
    if wrong:
        errors.append(violation("df-ship-items", where, "; ".join(wrong)))
        return None
    return shipped


def process_status_updates(state: DfState, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    changed: dict[str, StoredDfOrder] = {}
    for index, update in enumerate(body.get("shipmentStatusUpdates") or []):
        number = str(update.get("purchaseOrderNumber"))
        where = f"shipmentStatusUpdates[{index}] (purchase order {number})"
        order = changed.get(number) or state.load(account, number)
        if order is None:
            errors.append(violation("df-order-exists", where, f"no purchase order {number} for this vendor"))
            continue
        if not check_parties(state, account, order, update, where, errors):
            continue
        shipment = order.track.get("shipment")
        if shipment is None or order.status != "SHIPPED" or not shipment.get("ownCarrier"):
            why = "it has not shipped" if shipment is None else "it shipped on an Amazon label"
            errors.append(violation("df-status-own-carrier", where, f"purchase order {number}: {why}"))
            continue
        details = update.get("statusUpdateDetails") or {}
        tracking = str(details.get("trackingNumber"))
        if tracking not in shipment.get("trackingNumbers", []):
            errors.append(
                violation(
                    "df-status-tracking", where, f"trackingNumber {tracking} is not one of the shipment's"
                )
            )
            continue
        updates = order.track.setdefault("statusUpdates", [])
        updates.append(
            {
                "trackingNumber": tracking,
                "statusCode": details.get("statusCode"),
                "reasonCode": details.get("reasonCode"),
                "statusDateTime": details.get("statusDateTime"),
                "receivedAt": iso(now),
            }
        )
        del updates[:-STATUS_UPDATES_KEPT]
        changed[number] = order
    if errors:
        return errors
    for order in changed.values():
        state.table.put(order.to_row())
    return []
