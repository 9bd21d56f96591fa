"""getPackingSlips and getPackingSlip (v1 and 2021-12-28): the packing slips of the orders that require one
(`isPslipRequired`, every gift), available when the order arrives; a PDF with the ship-to address, the items
and the gift message."""

from __future__ import annotations

from typing import Any

from mockserver.domain.direct_fulfillment import rendering
from mockserver.domain.direct_fulfillment.orders import StoredDfOrder, limit_of, listing, page
from mockserver.domain.direct_fulfillment.state import DfState
from mockserver.domain.errors import NotFound


def packing_slip(order: StoredDfOrder) -> dict[str, Any]:
    details = order.details
    ship_to = details["shipToParty"]
    lines = [
        f"Order {details['customerOrderNumber']} of {details['orderDate'][:10]}",
        f"Ship to: {ship_to.get('name')}",
        f"{ship_to.get('addressLine1')}, {ship_to.get('city')} {ship_to.get('postalCode')} "
        f"{ship_to.get('countryCode')}",
        "",
    ]
    for item in order.items:
        lines.append(
            f"{item['orderedQuantity']['amount']} x {item.get('title')} "
            f"({item.get('vendorProductIdentifier')})"
        )
    gift = next((item["giftDetails"] for item in order.items if item.get("giftDetails")), None)
    if gift:
        lines += ["", f"Gift message: {gift.get('giftMessage')}"]
    content = rendering.pdf(f"Packing slip {order.number}", lines)
    return {
        "purchaseOrderNumber": order.number,
        "content": rendering.b64(content),
        "contentType": "application/pdf",
    }


def get_packing_slip(state: DfState, account: str, number: str) -> dict[str, Any]:
    order = state.view(account, number)
    if order is None or not order.has_packing_slip:
        raise NotFound(f"No packing slip for purchase order {number}.")
    return packing_slip(order)


def list_packing_slips(state: DfState, account: str, query: dict[str, Any], version: str) -> dict[str, Any]:
    listing_state = listing(query, f"df-packing-slips:{version}", account)
    orders, token = page(state.table, listing_state, limit_of(query), packing_slip=True)
    payload: dict[str, Any] = {"packingSlips": [packing_slip(order) for order in orders]}
    if token:
        payload["pagination"] = {"nextToken": token}
    return payload
