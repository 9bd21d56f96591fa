"""GET_VENDOR_TRAFFIC_REPORT: detail-page views (glance views) per period, per ASIN and for the catalogue:
the sell-through model's shoppers, and the views that ended in the account's Direct Fulfillment orders."""

from __future__ import annotations

from typing import Any

from mockserver.domain.reports.building import BuildContext


def build_traffic(context: BuildContext) -> dict[str, Any] | None:
    products = context.products
    found = context.periods()
    if not products or not found:
        return None
    last_day = context.resolved.last_day
    assert last_day is not None
    by_asin: list[dict[str, Any]] = []
    aggregates: list[dict[str, Any]] = []
    for first, last, start in found:
        total = 0
        for product in products:
            views = context.ledger(product, last_day).total("glance_views", start, last.toordinal())
            total += views
            by_asin.append(
                {
                    "startDate": first.isoformat(),
                    "endDate": last.isoformat(),
                    "asin": product.asin,
                    "glanceViews": views,
                }
            )
        aggregates.append({"startDate": first.isoformat(), "endDate": last.isoformat(), "glanceViews": total})
    return {
        "reportSpecification": context.resolved.echo,
        "trafficAggregate": aggregates,
        "trafficByAsin": by_asin,
    }


__all__ = ["build_traffic"]
