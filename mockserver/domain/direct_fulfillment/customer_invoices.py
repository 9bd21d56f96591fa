"""getCustomerInvoices and getCustomerInvoice (v1 and 2021-12-28): the invoice the vendor puts in the parcel
where the marketplace requires one (India, as on Amazon), available when the order arrives: a PDF with the
buyer, the items, their taxes and the total."""

from __future__ import annotations

from typing import Any

from mockserver.domain.direct_fulfillment import rendering
from mockserver.domain.direct_fulfillment.orders import StoredDfOrder, limit_of, listing, page
from mockserver.domain.direct_fulfillment.state import DfState
from mockserver.domain.errors import NotFound


def customer_invoice(order: StoredDfOrder) -> dict[str, Any]:
    details = order.details
    ship_to = details["shipToParty"]
    lines = [
        f"Order {details['customerOrderNumber']} of {details['orderDate'][:10]}",
        f"Sold by {details['sellingParty']['partyId']}, shipped from {order.warehouse}",
        f"Bill to: {ship_to.get('name')}, {ship_to.get('city')} {ship_to.get('countryCode')}",
        "",
    ]
    for item in order.items:
        taxes = (item.get("taxDetails") or {}).get("taxLineItem") or []
        tax = taxes[0]["taxAmount"]["amount"] if taxes else "0.00"
        price = item["netPrice"]
        lines.append(
            f"{item['orderedQuantity']['amount']} x {item.get('title')}: "
            f"{price['amount']} {price['currencyCode']} each, tax {tax}"
        )
    total = (details.get("taxTotal") or {}).get("taxLineItem") or []
    if total:
        lines += ["", f"Total tax: {total[0]['taxAmount']['amount']} {total[0]['taxAmount']['currencyCode']}"]
    content = rendering.pdf(f"Tax invoice for order {order.number}", lines)
    return {"purchaseOrderNumber": order.number, "content": rendering.b64(content)}


def get_customer_invoice(state: DfState, account: str, number: str) -> dict[str, Any]:
    order = state.view(account, number)
    if order is None or not order.has_customer_invoice:
        raise NotFound(f"No customer invoice for purchase order {number}.")
    return customer_invoice(order)


def list_customer_invoices(
    state: DfState, account: str, query: dict[str, Any], version: str
) -> dict[str, Any]:
    listing_state = listing(query, f"df-customer-invoices:{version}", account)
    orders, token = page(state.table, listing_state, limit_of(query), customer_invoice=True)
    payload: dict[str, Any] = {"customerInvoices": [customer_invoice(order) for order in orders]}
    if token:
        payload["pagination"] = {"nextToken": token}
    return payload
