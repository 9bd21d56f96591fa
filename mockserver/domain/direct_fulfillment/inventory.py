"""submitInventoryUpdate: the stock a warehouse has of each SKU. It shapes what Amazon orders (no new order
for a SKU at zero or obsolete) and what an out-of-stock acknowledgement may claim. A full update replaces
the warehouse's stock (SKUs not listed are at zero); a partial one changes the SKUs it lists."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.domain.clock import iso
from mockserver.domain.direct_fulfillment.rules import violation
from mockserver.domain.direct_fulfillment.state import INVENTORY, DfState


def process_inventory_update(state: DfState, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
    """The processor; the body carries the warehouse of the path as `warehouseId` (see `submission`)."""
    errors: list[dict[str, str]] = []
    warehouse_id = str(body.get("warehouseId"))
    inventory = body.get("inventory") or {}
    where = f"inventory (warehouse {warehouse_id})"
    warehouse = state.warehouse(account, warehouse_id)
    if warehouse is None:
        return [violation("df-ship-from-party", where, f"{warehouse_id} is not a warehouse of the vendor")]
    selling = (inventory.get("sellingParty") or {}).get("partyId")
    if selling != warehouse.vendor_code:
        return [
            violation("df-selling-party", where, f"sellingParty {selling} is not {warehouse.vendor_code}")
        ]
    stamp = iso(now)
    updates: dict[str, dict[str, Any]] = {}
    for index, item in enumerate(inventory.get("items") or []):
        item_where = f"{where} items[{index}]"
        product = state.product(
            account,
            warehouse.vendor_code,
            item.get("buyerProductIdentifier"),
            item.get("vendorProductIdentifier"),
        )
        if product is None:
            errors.append(
                violation(
                    "df-inventory-item",
                    item_where,
                    f"{item.get('vendorProductIdentifier') or item.get('buyerProductIdentifier')} is not "
                    f"in the catalogue of {warehouse.vendor_code}",
                )
            )
            continue
        available = int((item.get("availableQuantity") or {}).get("amount") or 0)
        if available < 0:
            errors.append(violation("df-inventory-quantity", item_where, f"availableQuantity is {available}"))
            continue
        updates[product.sku] = {"available": available, "obsolete": bool(item.get("isObsolete")), "at": stamp}
    if errors:
        return errors
    key = f"{account}:{warehouse_id}"
    if inventory.get("isFullUpdate"):
        items = {
            sku: {"available": 0, "obsolete": False, "at": stamp}
            for sku in state.builder(account).products[warehouse.vendor_code]
        }
    else:
        items = dict((state.store.get(INVENTORY, key) or {}).get("items") or {})
    items.update(updates)
    state.store.put(INVENTORY, key, {"items": items, "updatedAt": stamp})
    return []


def submission(warehouse_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """What is recorded of a submitInventoryUpdate call: the body with the warehouse of its path (a body
    identical for two warehouses is two submissions, not a duplicate)."""
    return {**body, "warehouseId": warehouse_id}


def stock(state: DfState, account: str) -> dict[str, Any]:
    """Every warehouse's reported stock, for the admin API."""
    return {
        warehouse.warehouse_id: state.stock(account, warehouse.warehouse_id)
        for warehouse in state.warehouses(account)
    }
