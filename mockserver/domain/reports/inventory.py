"""GET_VENDOR_INVENTORY_REPORT: Amazon's stock of the vendor's ASINs per period, per ASIN and for the
catalogue, from each ASIN's ledger: units received (the purchase orders' receipts), units on open purchase
orders, units confirmed against units Amazon asked for, sellable and unsellable units on hand at the end of
the period, aged and excess stock.

Counts (units, costs) add up from the ASINs to the aggregate; rates are computed from the summed counts.
Both distributor views report the same units: the demo vendors make and supply their own products.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mockserver.domain.reports.building import BuildContext, amount, rate
from mockserver.domain.reports.ledger import AsinLedger

AGED_DAYS = 90
HEALTHY_DAYS = 56  # stock beyond eight weeks of expected demand is excess ("unhealthy")


@dataclass
class _Counts:
    received: int = 0
    received_cost: Decimal = Decimal(0)
    lead_days: int = 0
    requested: int = 0
    confirmed: int = 0
    open_purchase_order: int = 0
    shipped: int = 0
    returns: int = 0
    opening: int = 0
    unfilled: int = 0
    on_hand: int = 0
    on_hand_cost: Decimal = Decimal(0)
    unsellable: int = 0
    unsellable_cost: Decimal = Decimal(0)
    aged: int = 0
    aged_cost: Decimal = Decimal(0)
    unhealthy: int = 0
    unhealthy_cost: Decimal = Decimal(0)
    views: int = 0
    views_out_of_stock: int = 0
    days: int = 0
    days_in_stock: int = 0

    def add(self, other: _Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _asin_counts(ledger: AsinLedger, start: int, end: int) -> _Counts:
    cost = ledger.model.net_cost
    counts = _Counts()
    counts.received = ledger.total("received", start, end)
    counts.received_cost = cost * counts.received
    counts.lead_days = ledger.total("received_lead_days", start, end)
    counts.requested = ledger.total("requested", start, end)
    counts.confirmed = ledger.total("confirmed", start, end)
    counts.open_purchase_order = ledger.value("open_purchase_order", end)
    counts.shipped = ledger.total("retail_shipped", start, end)
    counts.returns = ledger.total("returns", start, end)
    counts.opening = ledger.value("on_hand", start - 1)
    counts.unfilled = ledger.value("retail_ordered", end)  # ordered on the last day, shipped the next
    counts.on_hand = ledger.value("on_hand", end)
    counts.on_hand_cost = cost * counts.on_hand
    counts.unsellable = ledger.value("unsellable", end)
    counts.unsellable_cost = cost * counts.unsellable
    recent = ledger.total("received", end - AGED_DAYS + 1, end)
    counts.aged = max(0, counts.on_hand - recent)
    counts.aged_cost = cost * counts.aged
    counts.unhealthy = max(0, counts.on_hand - round(HEALTHY_DAYS * ledger.model.rate))
    counts.unhealthy_cost = cost * counts.unhealthy
    for day in range(start, end + 1):
        views = ledger.value("glance_views", day)
        counts.views += views
        counts.days += 1
        if ledger.value("on_hand", day) > 0:
            counts.days_in_stock += 1
        else:
            counts.views_out_of_stock += views
    return counts


def _fields(counts: _Counts, currency: str, aggregate: bool) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if aggregate:
        if counts.views:
            row["procurableProductOutOfStockRate"] = rate(counts.views_out_of_stock, counts.views)
        if counts.days:
            row["uft"] = rate(counts.days_in_stock, counts.days)
        if counts.confirmed:
            row["receiveFillRate"] = rate(counts.received, counts.confirmed)
    if counts.requested:
        row["vendorConfirmationRate"] = rate(counts.confirmed, counts.requested)
    row["netReceivedInventoryCost"] = amount(counts.received_cost, currency)
    row["netReceivedInventoryUnits"] = counts.received
    row["openPurchaseOrderUnits"] = counts.open_purchase_order
    if counts.received:
        row["averageVendorLeadTimeDays"] = rate(counts.lead_days, counts.received, 1)
    available = counts.opening + counts.received
    if available > 0:
        row["sellThroughRate"] = rate(counts.shipped - counts.returns, available)
    row["unfilledCustomerOrderedUnits"] = counts.unfilled
    row["sellableOnHandInventoryCost"] = amount(counts.on_hand_cost, currency)
    row["sellableOnHandInventoryUnits"] = counts.on_hand
    row["unsellableOnHandInventoryCost"] = amount(counts.unsellable_cost, currency)
    row["unsellableOnHandInventoryUnits"] = counts.unsellable
    row["aged90PlusDaysSellableInventoryCost"] = amount(counts.aged_cost, currency)
    row["aged90PlusDaysSellableInventoryUnits"] = counts.aged
    row["unhealthyInventoryCost"] = amount(counts.unhealthy_cost, currency)
    row["unhealthyInventoryUnits"] = counts.unhealthy
    return row


def build_inventory(context: BuildContext) -> dict[str, Any] | None:
    products = context.products_in(context.resolved.options["sellingProgram"])
    found = context.periods()
    if not products or not found:
        return None
    currency = context.currency
    last_day = context.resolved.last_day
    assert last_day is not None
    by_asin: list[dict[str, Any]] = []
    aggregates: list[dict[str, Any]] = []
    for first, last, start in found:
        total = _Counts()
        for product in products:
            counts = _asin_counts(context.ledger(product, last_day), start, last.toordinal())
            total.add(counts)
            by_asin.append(
                {
                    "startDate": first.isoformat(),
                    "endDate": last.isoformat(),
                    "asin": product.asin,
                    **_fields(counts, currency, aggregate=False),
                }
            )
        aggregates.append(
            {"startDate": first.isoformat(), "endDate": last.isoformat(), **_fields(total, currency, True)}
        )
    return {
        "reportSpecification": context.resolved.echo,
        "inventoryAggregate": aggregates,
        "inventoryByAsin": by_asin,
    }


__all__ = ["build_inventory"]
