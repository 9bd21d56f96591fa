"""submitAcknowledgement: the vendor accepts, backorders or rejects each item of a purchase order, under the
acknowledgement rules (`ack-*` in rules.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.domain.clock import iso
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder, eaches
from mockserver.domain.retail.rules import violation
from mockserver.domain.retail.state import RetailState


def process_acknowledgements(
    state: RetailState, account: str, body: Any, now: datetime
) -> list[dict[str, str]]:
    """The acknowledgements of one submission: all applied, or none when any breaks a rule."""
    errors: list[dict[str, str]] = []
    vendor_codes = state.vendor_codes(account)
    changed: dict[str, StoredPurchaseOrder] = {}
    stamp = iso(now)
    for index, ack in enumerate(body.get("acknowledgements") or []):
        number = str(ack.get("purchaseOrderNumber"))
        where = f"acknowledgements[{index}] (purchase order {number})"
        po = changed.get(number) or state.load(account, number)
        if po is None:
            errors.append(violation("ack-po-exists", where, f"no purchase order {number} for this vendor"))
            continue
        party = (ack.get("sellingParty") or {}).get("partyId")
        if party != po.vendor_code or party not in vendor_codes:
            errors.append(
                violation("ack-selling-party", where, f"sellingParty {party} is not {po.vendor_code}")
            )
            continue
        if po.state == "Closed":
            errors.append(violation("ack-po-open", where, "the purchase order is Closed"))
            continue
        updates = _item_updates(po, ack, where, errors)
        if updates is None:
            continue
        for sequence, (accepted, rejected) in updates.items():
            track = po.tracking[sequence]
            if track["shipped"] > accepted:
                accepted = track["shipped"]
            track.update(accepted=accepted, rejected=rejected, acknowledged=True, acknowledgedAt=stamp)
        po.set_state("Acknowledged", stamp)
        po.close_if_done(stamp)
        changed[number] = po
    if errors:
        return errors
    for po in changed.values():
        state.table.put(po.to_row())
    return []


def _item_updates(
    po: StoredPurchaseOrder, ack: dict[str, Any], where: str, errors: list[dict[str, str]]
) -> dict[str, tuple[int, int]] | None:
    """(accepted + backordered, rejected) eaches per acknowledged item; None when the acknowledgement as a
    whole is refused (ack-all-items)."""
    seen: set[str] = set()
    updates: dict[str, tuple[int, int]] = {}
    for line, ack_item in enumerate(ack.get("items") or []):
        line_where = f"{where} items[{line}]"
        item = po.find_item(
            ack_item.get("itemSequenceNumber"),
            ack_item.get("amazonProductIdentifier"),
            ack_item.get("vendorProductIdentifier"),
        )
        if item is None:
            errors.append(violation("ack-item-on-po", line_where, "no such item on the purchase order"))
            continue
        sequence = item["itemSequenceNumber"]
        seen.add(sequence)
        unit_size = int(item["orderedQuantity"].get("unitSize") or 1)
        ordered = eaches(ack_item.get("orderedQuantity"), unit_size)
        expected = po.open_quantity(sequence)
        if ordered != eaches(item["orderedQuantity"]) and ordered != expected:
            errors.append(
                violation(
                    "ack-ordered-quantity",
                    line_where,
                    f"orderedQuantity is {ordered} eaches, the purchase order has {expected}",
                )
            )
            continue
        accepted = rejected = backordered = 0
        for acknowledgement in ack_item.get("itemAcknowledgements") or []:
            quantity = eaches(acknowledgement.get("acknowledgedQuantity"), unit_size)
            code = acknowledgement.get("acknowledgementCode")
            if code == "Rejected":
                rejected += quantity
            elif code == "Backordered":
                backordered += quantity
            else:
                accepted += quantity
        if backordered and not item.get("isBackOrderAllowed"):
            errors.append(violation("ack-backorder-allowed", line_where, "isBackOrderAllowed is false"))
            continue
        if accepted + backordered + rejected != expected:
            errors.append(
                violation(
                    "ack-quantities-add-up",
                    line_where,
                    f"accepted {accepted} + backordered {backordered} + rejected {rejected} eaches "
                    f"is not the ordered {expected}",
                )
            )
            continue
        updates[sequence] = (accepted + backordered, rejected)
    missing = sorted(set(po.tracking) - seen, key=lambda s: (len(s), s))
    if missing and (ack.get("items") or []):
        errors.append(violation("ack-all-items", where, f"items {', '.join(missing)} not acknowledged"))
        return None
    if not ack.get("items"):
        errors.append(violation("ack-all-items", where, "the acknowledgement has no items"))
        return None
    return updates
