"""Direct Fulfillment Payments submitInvoice: the vendor bills Amazon for shipped orders, under the
`df-invoice-*` rules: unique invoice numbers, only confirmed shipments, net costs, taxes and totals
consistent with the order, no zero invoices."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from mockserver.domain.clock import iso
from mockserver.domain.direct_fulfillment.acknowledgements import item_quantity
from mockserver.domain.direct_fulfillment.orders import StoredDfOrder
from mockserver.domain.direct_fulfillment.rules import violation
from mockserver.domain.direct_fulfillment.state import INVOICES, DfState
from mockserver.domain.money import decimal

CENT = Decimal("0.01")


def _amount(money: Any) -> Decimal:
    return decimal((money or {}).get("amount")) or Decimal(0)


def _taxes(details: Any) -> Decimal:
    return sum((_amount(tax.get("taxAmount")) for tax in details or []), Decimal(0))


def _order_tax(item: dict[str, Any]) -> Decimal:
    lines = (item.get("taxDetails") or {}).get("taxLineItem") or []
    return sum((_amount(line.get("taxAmount")) for line in lines), Decimal(0))


class _Invoice:
    """One invoice being checked: its lines, what they add up to, the orders they touch."""

    def __init__(self) -> None:
        self.net = Decimal(0)
        self.item_taxes = Decimal(0)
        self.expected_taxes = Decimal(0)
        self.charges = Decimal(0)
        self.items_with_taxes = 0
        self.quantities: dict[tuple[str, str], int] = {}


def process_invoices(state: DfState, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    collection = f"{INVOICES}:{account}"
    vendor_codes = state.vendor_codes(account)
    orders: dict[str, StoredDfOrder] = {}
    accepted: dict[str, dict[str, Any]] = {}
    for index, invoice in enumerate(body.get("invoices") or []):
        identifier = str(invoice.get("invoiceNumber"))
        where = f"invoices[{index}] (invoice {identifier})"
        if identifier in accepted or state.store.get(collection, identifier) is not None:
            errors.append(
                violation("df-invoice-unique-number", where, f"invoice number {identifier} was already used")
            )
            continue
        remit_to = (invoice.get("remitToParty") or {}).get("partyId")
        if remit_to not in vendor_codes:
            errors.append(
                violation(
                    "df-invoice-remit-to",
                    where,
                    f"remitToParty {remit_to} is not a vendor code of the account",
                )
            )
            continue
        checked = _check_items(state, account, invoice, where, orders, errors)
        if checked is None:
            continue
        if not checked.items_with_taxes and invoice.get("taxTotals"):
            taxes = _taxes(invoice.get("taxTotals"))
        else:
            taxes = checked.item_taxes
        tolerance = CENT * max(1, len(invoice.get("items") or []))
        if abs(taxes - checked.expected_taxes) > tolerance:
            errors.append(
                violation(
                    "df-invoice-tax",
                    where,
                    f"taxes {taxes} are not the order's {checked.expected_taxes} for what is invoiced",
                )
            )
            continue
        charges = checked.charges
        for charge in invoice.get("chargeDetails") or []:
            charges += _amount(charge.get("chargeAmount")) + _taxes(charge.get("taxDetails"))
        stated = decimal((invoice.get("invoiceTotal") or {}).get("amount"))
        if stated is None or stated == 0:
            errors.append(violation("df-invoice-not-zero", where, f"invoiceTotal is {stated}"))
            continue
        total = checked.net + taxes + charges
        if abs(stated - total) > tolerance:
            errors.append(
                violation("df-invoice-total", where, f"invoiceTotal {stated} is not {total.quantize(CENT)}")
            )
            continue
        for (number, sequence), quantity in checked.quantities.items():
            invoiced = orders[number].track.setdefault("invoiced", {})
            invoiced[sequence] = int(invoiced.get(sequence, 0)) + quantity
        accepted[identifier] = {
            "invoice": invoice,
            "createdAt": iso(now),
            "orders": sorted({n for n, _ in checked.quantities}),
        }
    if errors:
        return errors
    for order in orders.values():
        state.table.put(order.to_row())
    for identifier, document in accepted.items():
        state.store.put(collection, identifier, document)
    return []


def _check_items(
    state: DfState,
    account: str,
    invoice: dict[str, Any],
    where: str,
    orders: dict[str, StoredDfOrder],
    errors: list[dict[str, str]],
) -> _Invoice | None:
    checked = _Invoice()
    ship_from = (invoice.get("shipFromParty") or {}).get("partyId")
    for line_index, line in enumerate(invoice.get("items") or []):
        line_where = f"{where} items[{line_index}]"
        number = str(line.get("purchaseOrderNumber"))
        order = orders.get(number) or state.load(account, number)
        if order is None:
            errors.append(
                violation("df-order-exists", line_where, f"no purchase order {number} for this vendor")
            )
            return None
        orders[number] = order
        if ship_from != order.warehouse:
            errors.append(
                violation(
                    "df-ship-from-party",
                    line_where,
                    f"shipFromParty {ship_from} is not the order's {order.warehouse}",
                )
            )
            return None
        shipment = order.track.get("shipment")
        if order.status != "SHIPPED" or shipment is None:
            errors.append(
                violation("df-invoice-shipped", line_where, f"purchase order {number} is {order.status}")
            )
            return None
        item = order.item(line.get("itemSequenceNumber"))
        asin, sku = line.get("buyerProductIdentifier"), line.get("vendorProductIdentifier")
        if (
            item is None
            or (asin and asin != item.get("buyerProductIdentifier"))
            or (sku and sku != item.get("vendorProductIdentifier"))
        ):
            errors.append(
                violation(
                    "df-invoice-item-on-order",
                    line_where,
                    f"item {line.get('itemSequenceNumber')} is not on purchase order {number}",
                )
            )
            return None
        sequence = item["itemSequenceNumber"]
        price = item["netPrice"]
        cost = line.get("netCost") or {}
        if cost.get("currencyCode") != price.get("currencyCode"):
            errors.append(
                violation(
                    "df-invoice-currency",
                    line_where,
                    f"{cost.get('currencyCode')} is not {price.get('currencyCode')}",
                )
            )
            return None
        unit = _amount(cost)
        if abs(unit - _amount(price)) > CENT:
            errors.append(
                violation(
                    "df-invoice-net-cost",
                    line_where,
                    f"netCost {unit} is not the order's net price {price.get('amount')}",
                )
            )
            return None
        quantity = item_quantity(line, "invoicedQuantity")
        key = (number, sequence)
        shipped = int((shipment.get("items") or {}).get(sequence, 0))
        already = int((order.track.get("invoiced") or {}).get(sequence, 0))
        if quantity <= 0 or already + checked.quantities.get(key, 0) + quantity > shipped:
            errors.append(
                violation(
                    "df-invoice-quantity",
                    line_where,
                    f"item {sequence}: invoiced {already + checked.quantities.get(key, 0)} + {quantity} "
                    f"of {shipped} shipped",
                )
            )
            return None
        checked.quantities[key] = checked.quantities.get(key, 0) + quantity
        checked.net += unit * quantity
        ordered = max(1, item_quantity(item, "orderedQuantity"))
        checked.expected_taxes += (_order_tax(item) * quantity / ordered).quantize(CENT)
        if line.get("taxDetails"):
            checked.items_with_taxes += 1
            checked.item_taxes += _taxes(line.get("taxDetails"))
        for charge in line.get("chargeDetails") or []:
            checked.charges += _amount(charge.get("chargeAmount")) + _taxes(charge.get("taxDetails"))
    if not checked.quantities:
        errors.append(violation("df-invoice-not-zero", where, "the invoice has no items"))
        return None
    return checked
