"""submitAcknowledgement (v1 and 2021-12-28): the vendor accepts an order whole (code 00) or cancels it
(02: missing or invalid SKU, 03: out of stock), under the `df-ack-*` rules. An accepted order takes its items
out of the warehouse's reported stock; a cancelled one is CANCELLED."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.domain.clock import iso
from mockserver.domain.direct_fulfillment.orders import StoredDfOrder
from mockserver.domain.direct_fulfillment.rules import violation
from mockserver.domain.direct_fulfillment.state import INVENTORY, DfState

# The codes of Amazon's DF use case guide that the emulator's vendor agreement uses.
ACKNOWLEDGEMENT_CODES = {
    "00": "Shipping 100 percent of ordered product",
    "02": "Canceled due to missing/invalid SKU",
    "03": "Canceled out of stock",
}
ACCEPTED = "00"
OUT_OF_STOCK = "03"


def check_parties(
    state: DfState,
    account: str,
    order: StoredDfOrder,
    document: dict[str, Any],
    where: str,
    errors: list[dict[str, str]],
) -> bool:
    """The df-selling-party and df-ship-from-party rules for a document about one order."""
    selling = (document.get("sellingParty") or {}).get("partyId")
    if selling != order.vendor_code or selling not in state.vendor_codes(account):
        errors.append(
            violation("df-selling-party", where, f"sellingParty {selling} is not {order.vendor_code}")
        )
        return False
    ship_from = (document.get("shipFromParty") or {}).get("partyId")
    if ship_from != order.warehouse:
        errors.append(
            violation(
                "df-ship-from-party", where, f"shipFromParty {ship_from} is not the order's {order.warehouse}"
            )
        )
        return False
    return True


def item_quantity(line: dict[str, Any], field: str) -> int:
    return int((line.get(field) or {}).get("amount") or 0)


def process_acknowledgements(state: DfState, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    changed: dict[str, StoredDfOrder] = {}
    stamp = iso(now)
    for index, ack in enumerate(body.get("orderAcknowledgements") or []):
        number = str(ack.get("purchaseOrderNumber"))
        where = f"orderAcknowledgements[{index}] (purchase order {number})"
        order = state.load(account, number)
        if order is None:
            errors.append(violation("df-order-exists", where, f"no purchase order {number} for this vendor"))
            continue
        if not check_parties(state, account, order, ack, where, errors):
            continue
        if number in changed or order.track.get("acknowledgement") is not None:
            errors.append(
                violation("df-ack-once", where, f"purchase order {number} was already acknowledged")
            )
            continue
        if order.status == "CANCELLED":
            errors.append(violation("df-ack-open", where, f"purchase order {number} was cancelled by Amazon"))
            continue
        code = str((ack.get("acknowledgementStatus") or {}).get("code"))
        if code not in ACKNOWLEDGEMENT_CODES:
            errors.append(
                violation("df-ack-known-code", where, f"acknowledgement code {code!r} is not known")
            )
            continue
        if not _items_acknowledged(order, ack, where, errors):
            continue
        if code == OUT_OF_STOCK and not _short_of_stock(state, account, order):
            errors.append(
                violation(
                    "df-ack-out-of-stock",
                    where,
                    f"warehouse {order.warehouse} reported enough stock of every item of {number}",
                )
            )
            continue
        order.track["acknowledgement"] = {
            "code": code,
            "description": str(
                (ack.get("acknowledgementStatus") or {}).get("description") or ACKNOWLEDGEMENT_CODES[code]
            ),
            "at": stamp,
            "vendorOrderNumber": ack.get("vendorOrderNumber"),
        }
        if code == ACCEPTED:
            order.status = "ACCEPTED"
        else:
            order.status = "CANCELLED"
            order.track["cancelled"] = {"by": "vendor", "at": stamp, "code": code}
        changed[number] = order
    if errors:
        return errors
    for order in changed.values():
        state.table.put(order.to_row())
        if order.status == "ACCEPTED":
            _take_stock(state, account, order, stamp)
    return []


def _items_acknowledged(
    order: StoredDfOrder, ack: dict[str, Any], where: str, errors: list[dict[str, str]]
) -> bool:
    """df-ack-item-on-order, df-ack-all-items and df-ack-quantity: every line item once, in full."""
    seen: set[str] = set()
    good = True
    for line_index, line in enumerate(ack.get("itemAcknowledgements") or []):
        line_where = f"{where} itemAcknowledgements[{line_index}]"
        item = order.item(line.get("itemSequenceNumber"))
        asin, sku = line.get("buyerProductIdentifier"), line.get("vendorProductIdentifier")
        if (
            item is None
            or (asin and item.get("buyerProductIdentifier") != asin)
            or (sku and item.get("vendorProductIdentifier") != sku)
        ):
            errors.append(
                violation(
                    "df-ack-item-on-order",
                    line_where,
                    f"item {line.get('itemSequenceNumber')} is not on the order",
                )
            )
            good = False
            continue
        sequence = item["itemSequenceNumber"]
        ordered = item_quantity(item, "orderedQuantity")
        acknowledged = item_quantity(line, "acknowledgedQuantity")
        if sequence in seen or acknowledged != ordered:
            errors.append(
                violation(
                    "df-ack-quantity",
                    line_where,
                    f"item {sequence}: acknowledged {acknowledged} (in all) of {ordered} ordered",
                )
            )
            good = False
        seen.add(sequence)
    missing = [item["itemSequenceNumber"] for item in order.items if item["itemSequenceNumber"] not in seen]
    if good and missing:
        errors.append(violation("df-ack-all-items", where, f"items {', '.join(missing)} not acknowledged"))
        good = False
    return good


def _short_of_stock(state: DfState, account: str, order: StoredDfOrder) -> bool:
    """An out-of-stock claim holds when an item's reported stock is below its ordered quantity, or when the
    warehouse never reported the item (the vendor's word is taken)."""
    stock = state.stock(account, order.warehouse)
    for item in order.items:
        entry = stock.get(str(item.get("vendorProductIdentifier")))
        if entry is None or entry.get("obsolete"):
            return True
        if int(entry.get("available", 0)) < item_quantity(item, "orderedQuantity"):
            return True
    return False


def _take_stock(state: DfState, account: str, order: StoredDfOrder, stamp: str) -> None:
    """An accepted order's items leave the warehouse's reported stock (where it reported any)."""
    key = f"{account}:{order.warehouse}"
    document = state.store.get(INVENTORY, key)
    if not document:
        return
    items = dict(document.get("items") or {})
    touched = False
    for item in order.items:
        sku = item.get("vendorProductIdentifier")
        entry = items.get(sku)
        if entry is None:
            continue
        available = max(0, int(entry.get("available", 0)) - item_quantity(item, "orderedQuantity"))
        items[sku] = {**entry, "available": available, "at": stamp}
        touched = True
    if touched:
        state.store.put(INVENTORY, key, {**document, "items": items})
