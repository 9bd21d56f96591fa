"""GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT: Amazon's margin on the vendor's ASINs per period, per ASIN and
for the catalogue: (revenue - cost of goods - Amazon's fulfilment cost) / revenue, over the units shipped
net of returns. Direct Fulfillment units cost Amazon no fulfilment (the vendor ships them). An ASIN or a
period without revenue has no margin and no row.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mockserver.domain.reports.building import BuildContext
from mockserver.domain.reports.demand import FULFILMENT_SHARE

_PLACES = Decimal("0.0001")


def build_margin(context: BuildContext) -> dict[str, Any] | None:
    products = context.products
    found = context.periods()
    if not products or not found:
        return None
    last_day = context.resolved.last_day
    assert last_day is not None
    by_asin: list[dict[str, Any]] = []
    aggregates: list[dict[str, Any]] = []
    for first, last, start in found:
        revenue_total, cost_total = Decimal(0), Decimal(0)
        for product in products:
            ledger = context.ledger(product, last_day)
            end = last.toordinal()
            returns = ledger.total("returns", start, end)
            retail = ledger.total("retail_shipped", start, end) - returns
            units = retail + ledger.total("df_shipped", start, end)
            revenue = product.price * units
            cost = product.net_cost * units + product.price * retail * FULFILMENT_SHARE
            if revenue <= 0:
                continue
            revenue_total += revenue
            cost_total += cost
            by_asin.append(
                {
                    "startDate": first.isoformat(),
                    "endDate": last.isoformat(),
                    "asin": product.asin,
                    "netPureProductMargin": _margin(revenue, cost),
                }
            )
        if revenue_total > 0:
            aggregates.append(
                {
                    "startDate": first.isoformat(),
                    "endDate": last.isoformat(),
                    "netPureProductMargin": _margin(revenue_total, cost_total),
                }
            )
    if not by_asin:
        return None
    return {
        "reportSpecification": context.resolved.echo,
        "netPureProductMarginAggregate": aggregates,
        "netPureProductMarginByAsin": by_asin,
    }


def _margin(revenue: Decimal, cost: Decimal) -> float:
    return float(((revenue - cost) / revenue).quantize(_PLACES))


__all__ = ["build_margin"]
