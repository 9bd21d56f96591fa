"""SubmitShipmentConfirmations (the ASN) and SubmitShipments, under the shipment rules (`asn-*` in rules.py).
Accepted ASNs join the receiving index (receiving.py): the warehouse receives them on the sandbox clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mockserver.domain.clock import iso, parse_iso
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder, eaches
from mockserver.domain.retail.receiving import index_receipts
from mockserver.domain.retail.rules import violation
from mockserver.domain.retail.state import ASN, SHIPMENTS, RetailState

FUTURE_TOLERANCE = timedelta(hours=24)
RECEIVING_LEAD = timedelta(days=2)

# A shipped line as the documents give it: (label, PO number, ASIN, vendor id, quantity).
ShippedLine = tuple[str, Any, Any, Any, Any]
# A checked line: (PO number, item sequence number, eaches).
CheckedLine = tuple[str, str, int]


def confirm_shipments(state: RetailState, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
    """SubmitShipmentConfirmations' processor: the rules, then accepted ASNs join the receiving index."""
    errors = process_shipment_confirmations(state, account, body, now)
    if errors:
        return errors
    collection = f"{ASN}:{account}"
    due: dict[str, str] = {}
    for confirmation in body.get("shipmentConfirmations") or []:
        identifier = str(confirmation.get("shipmentIdentifier"))
        document = state.store.get(collection, identifier)
        if document is not None and not document.get("received"):
            due[identifier] = document["receiveAt"]
    if due:
        index_receipts(state, account, due)
    return errors


def foreign_selling_party(
    document: dict[str, Any], vendor_codes: set[str], where: str
) -> dict[str, str] | None:
    """The asn-selling-party rule, shared by shipment confirmations and shipments."""
    party = (document.get("sellingParty") or {}).get("partyId")
    if party in vendor_codes:
        return None
    return violation("asn-selling-party", where, f"sellingParty {party} is not a vendor code of the account")


def shipment_lines(
    state: RetailState,
    account: str,
    where: str,
    items: list[ShippedLine],
    ship_to: str | None,
    errors: list[dict[str, str]],
    pos: dict[str, StoredPurchaseOrder],
    prefix: str = "asn",
) -> list[CheckedLine]:
    """Check shipped lines (label, PO number, ASIN, vendor id, quantity): the (PO, item, eaches)."""
    lines: list[CheckedLine] = []
    for label, number, asin, vendor_id, quantity in items:
        if not number:
            errors.append(violation(f"{prefix}-po-reference", f"{where} {label}", "no purchaseOrderNumber"))
            continue
        po = pos.get(number) or state.load(account, number)
        if po is None:
            errors.append(
                violation(
                    f"{prefix}-po-exists", f"{where} {label}", f"no purchase order {number} for this vendor"
                )
            )
            continue
        pos[number] = po
        if po.state == "New" or not any(t["acknowledged"] for t in po.tracking.values()):
            errors.append(
                violation(
                    f"{prefix}-po-acknowledged", f"{where} {label}", f"purchase order {number} is {po.state}"
                )
            )
            continue
        if ship_to is not None and ship_to != po.details["shipToParty"]["partyId"]:
            errors.append(
                violation(
                    f"{prefix}-ship-to",
                    f"{where} {label}",
                    f"shipToParty {ship_to} is not {po.details['shipToParty']['partyId']} "
                    f"of purchase order {number}",
                )
            )
            continue
        if asin is None and vendor_id is None:
            continue  # a container line naming only its PO: the reference is checked, not a quantity
        item = po.find_item(None, asin, vendor_id, by_sequence=False)
        if item is None:
            errors.append(
                violation(
                    f"{prefix}-item-on-po",
                    f"{where} {label}",
                    f"item {asin or vendor_id} is not on purchase order {number}",
                )
            )
            continue
        unit_size = int(item["orderedQuantity"].get("unitSize") or 1)
        lines.append((number, item["itemSequenceNumber"], eaches(quantity, unit_size)))
    return lines


def check_quantities(
    where: str,
    lines: list[CheckedLine],
    pos: dict[str, StoredPurchaseOrder],
    errors: list[dict[str, str]],
    prefix: str = "asn",
) -> None:
    totals: dict[tuple[str, str], int] = {}
    for number, sequence, quantity in lines:
        totals[(number, sequence)] = totals.get((number, sequence), 0) + quantity
    for (number, sequence), quantity in totals.items():
        track = pos[number].tracking[sequence]
        if track["shipped"] + quantity > track["accepted"]:
            errors.append(
                violation(
                    f"{prefix}-quantity-within-accepted",
                    where,
                    f"purchase order {number} item {sequence}: shipped {track['shipped']} + "
                    f"{quantity} eaches exceeds accepted {track['accepted']}",
                )
            )


def process_shipment_confirmations(
    state: RetailState, account: str, body: Any, now: datetime
) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    vendor_codes = state.vendor_codes(account)
    collection = f"{ASN}:{account}"
    pos: dict[str, StoredPurchaseOrder] = {}
    accepted: list[tuple[str, dict[str, Any]]] = []
    seen_ids: set[str] = set()
    for index, confirmation in enumerate(body.get("shipmentConfirmations") or []):
        identifier = str(confirmation.get("shipmentIdentifier"))
        where = f"shipmentConfirmations[{index}] (shipment {identifier})"
        foreign_party = foreign_selling_party(confirmation, vendor_codes, where)
        if foreign_party is not None:
            errors.append(foreign_party)
            continue
        existing = state.store.get(collection, identifier)
        replace = confirmation.get("shipmentConfirmationType") == "Replace"
        if (existing is not None and not replace) or identifier in seen_ids:
            errors.append(
                violation(
                    "asn-unique-shipment-id", where, f"shipmentIdentifier {identifier} was already confirmed"
                )
            )
            continue
        if replace and (existing is None or existing.get("received")):
            errors.append(violation("asn-replace-known", where, f"no open shipment {identifier} to replace"))
            continue
        seen_ids.add(identifier)
        dates = _confirmation_dates(confirmation, now, where, errors)
        if dates is None:
            continue
        shipped, delivery, confirmed = dates
        ship_to = (confirmation.get("shipToParty") or {}).get("partyId")
        if replace and existing is not None:
            for number, sequence, quantity in existing["lines"]:
                po = pos.get(number) or state.load(account, number)
                if po is not None:
                    pos[number] = po
                    po.tracking[sequence]["shipped"] -= quantity
        lines = _confirmation_lines(state, account, confirmation, where, ship_to, errors, pos)
        check_quantities(where, lines, pos, errors)
        for number, sequence, quantity in lines:
            pos[number].tracking[sequence]["shipped"] += quantity
        receive_at = delivery or ((shipped or confirmed) + RECEIVING_LEAD)
        accepted.append(
            (
                identifier,
                {
                    "confirmation": confirmation,
                    "lines": lines,
                    "receiveAt": iso(receive_at),
                    "received": False,
                    "createdAt": iso(now),
                },
            )
        )
    if errors:
        return errors
    for po in pos.values():
        po.updated = max(po.updated, iso(now))
        state.table.put(po.to_row())
    for identifier, document in accepted:
        state.store.put(collection, identifier, document)
    return []


def _confirmation_dates(
    confirmation: dict[str, Any], now: datetime, where: str, errors: list[dict[str, str]]
) -> tuple[datetime | None, datetime | None, datetime] | None:
    """(shipped, estimated delivery, confirmed) under asn-dates-sane; None when they cannot be read or the
    delivery comes before the shipping (a future date is recorded and the ASN still checked)."""
    try:
        shipped = parse_iso(confirmation["shippedDate"]) if confirmation.get("shippedDate") else None
        delivery = (
            parse_iso(confirmation["estimatedDeliveryDate"])
            if confirmation.get("estimatedDeliveryDate")
            else None
        )
        confirmed = parse_iso(confirmation["shipmentConfirmationDate"])
    except (ValueError, KeyError):
        errors.append(violation("asn-dates-sane", where, "a date cannot be read"))
        return None
    if shipped and delivery and delivery < shipped:
        errors.append(violation("asn-dates-sane", where, "estimatedDeliveryDate is before shippedDate"))
        return None
    for name, moment in (("shippedDate", shipped), ("shipmentConfirmationDate", confirmed)):
        if moment is not None and moment > now + FUTURE_TOLERANCE:
            errors.append(violation("asn-dates-sane", where, f"{name} is more than 24 hours in the future"))
    return shipped, delivery, confirmed


def _confirmation_lines(
    state: RetailState,
    account: str,
    confirmation: dict[str, Any],
    where: str,
    ship_to: str | None,
    errors: list[dict[str, str]],
    pos: dict[str, StoredPurchaseOrder],
) -> list[CheckedLine]:
    """The checked lines of an ASN. Where the contract places a PO reference: shipped items' details,
    cartons' and pallets' items (a shipped item without one takes its carton's by `itemReference`)."""
    references: dict[str, str | None] = {}
    for container_name in ("cartons", "pallets"):
        for c_index, container in enumerate(confirmation.get(container_name) or []):
            for i_index, container_item in enumerate(container.get("items") or []):
                number = (container_item.get("itemDetails") or {}).get("purchaseOrderNumber")
                if number:
                    references.setdefault(str(container_item.get("itemReference")), number)
                    shipment_lines(
                        state,
                        account,
                        where,
                        [(f"{container_name}[{c_index}].items[{i_index}]", number, None, None, None)],
                        ship_to,
                        errors,
                        pos,
                    )
    items: list[ShippedLine] = []
    for i_index, item in enumerate(confirmation.get("shippedItems") or []):
        number = (item.get("itemDetails") or {}).get("purchaseOrderNumber") or references.get(
            str(item.get("itemSequenceNumber"))
        )
        items.append(
            (
                f"shippedItems[{i_index}]",
                number,
                item.get("amazonProductIdentifier"),
                item.get("vendorProductIdentifier") or "",
                item.get("shippedQuantity"),
            )
        )
    return shipment_lines(state, account, where, items, ship_to, errors, pos)


def process_shipments(state: RetailState, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    vendor_codes = state.vendor_codes(account)
    collection = f"{SHIPMENTS}:{account}"
    pos: dict[str, StoredPurchaseOrder] = {}
    accepted: list[tuple[str, dict[str, Any]]] = []
    for index, shipment in enumerate(body.get("shipments") or []):
        identifier = str(shipment.get("vendorShipmentIdentifier"))
        where = f"shipments[{index}] (shipment {identifier})"
        foreign_party = foreign_selling_party(shipment, vendor_codes, where)
        if foreign_party is not None:
            errors.append(foreign_party)
            continue
        existing = state.store.get(collection, identifier)
        if shipment.get("transactionType") == "Cancel":
            if existing is None:
                errors.append(violation("asn-replace-known", where, f"no shipment {identifier} to cancel"))
                continue
            accepted.append((identifier, {**existing, "cancelledAt": iso(now)}))
            continue
        if existing is not None:
            errors.append(
                violation(
                    "asn-unique-shipment-id", where, f"vendorShipmentIdentifier {identifier} was already used"
                )
            )
            continue
        try:
            parse_iso(str(shipment.get("transactionDate")))
        except ValueError:
            errors.append(violation("asn-dates-sane", where, "transactionDate cannot be read"))
            continue
        ship_to = (shipment.get("shipToParty") or {}).get("partyId")
        items: list[ShippedLine] = []
        for p_index, purchase_order in enumerate(shipment.get("purchaseOrders") or []):
            number = purchase_order.get("purchaseOrderNumber")
            po_items = purchase_order.get("items") or []
            if not po_items:
                items.append((f"purchaseOrders[{p_index}]", number, None, None, None))
            for i_index, item in enumerate(po_items):
                items.append(
                    (
                        f"purchaseOrders[{p_index}].items[{i_index}]",
                        number,
                        item.get("buyerProductIdentifier"),
                        item.get("vendorProductIdentifier") or "",
                        item.get("shippedQuantity"),
                    )
                )
        lines = shipment_lines(state, account, where, items, ship_to, errors, pos)
        check_quantities(where, lines, pos, errors)
        accepted.append((identifier, {"shipment": shipment, "lines": lines, "createdAt": iso(now)}))
    if errors:
        return errors
    for identifier, document in accepted:
        state.store.put(collection, identifier, document)
    return []
