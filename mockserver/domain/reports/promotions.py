"""GET_PROMOTION_PERFORMANCE_REPORT: the vendor's promotions whose start date falls in the requested range,
with units sold, revenue, the vendor's funding and detail-page views for each product.

The promotions are the deals the world's purchase orders carry (`dealCode`: Prime Day, Black Friday, the
spring deal, the monthly lightning deals), for each vendor code of the marketplace over the account's
history. A promotion's products are the ASINs Amazon ordered under its deal code, else a few drawn from the
seed; its units are a share of those ASINs' orders during its hours (the real-time sales of the ledgers).
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from mockserver.domain.reports.building import BuildContext, money
from mockserver.domain.reports.coupons import stamp, vendor_code_products
from mockserver.domain.reports.demand import HOUR_WEIGHTS, ProductModel, number, split_by_hour, uniforms
from mockserver.domain.reports.ledger import AsinLedger
from mockserver.domain.reports.real_time import ordered_in_hour

_HOUR = timedelta(hours=1)
# (deal code on the purchase orders, promotion type, name, first start of each year's event)
_EVENTS = (
    (
        "SPRING-DEAL",
        "PRICE_DISCOUNT",
        "Spring deal",
        lambda year: datetime(year, 3, 20, 8, tzinfo=UTC),
        7 * 24,
    ),
    ("PRIMEDAY", "BEST_DEAL", "Prime Day", lambda year: datetime(year, 7, 12, 8, tzinfo=UTC), 48),
    ("BLACKFRIDAY", "BEST_DEAL", "Black Friday week", lambda year: datetime(year, 11, 24, 8, tzinfo=UTC), 96),
)
_DISCOUNTS = {"PRICE_DISCOUNT": (10, 10), "BEST_DEAL": (20, 15), "LIGHTNING_DEAL": (25, 15)}  # low, range (%)


def build_promotions(context: BuildContext) -> dict[str, Any] | None:
    resolved = context.resolved
    assert resolved.range_from is not None and resolved.range_to is not None
    now = resolved.now
    found: list[dict[str, Any]] = []
    for vendor_code, products in vendor_code_products(context).items():
        for promotion in _promotions(context, vendor_code, products):
            created = promotion["start"] - timedelta(days=21)
            if created > now or not resolved.range_from <= promotion["start"] <= resolved.range_to:
                continue
            found.append(_document(context, promotion, created))
    if not found:
        return None
    found.sort(key=lambda item: (item["startDateTime"], item["promotionId"]))
    return {"reportSpecification": resolved.echo, "promotions": found}


def _promotions(
    context: BuildContext, vendor_code: str, products: list[ProductModel]
) -> list[dict[str, Any]]:
    first, last = context.history_start, context.resolved.now.date() + timedelta(days=60)
    found: list[dict[str, Any]] = []
    for year in range(first.year, last.year + 1):
        for code, kind, name, start_of, hours in _EVENTS:
            found.append(
                _promotion(
                    context, vendor_code, products, code, kind, f"{name} {year}", start_of(year), hours
                )
            )
        for month in range(1, 13):
            u = uniforms(context.seed, context.account, vendor_code, "lightning", year, month)
            start = datetime(year, month, 1 + int(u[0] * 27), 14, tzinfo=UTC)
            found.append(
                _promotion(
                    context,
                    vendor_code,
                    products,
                    "LIGHTNING-42",
                    "LIGHTNING_DEAL",
                    f"Lightning deal {year}-{month:02d}",
                    start,
                    12,
                )
            )
    return [item for item in found if first <= item["start"].date() <= last]


def _promotion(
    context: BuildContext,
    vendor_code: str,
    products: list[ProductModel],
    code: str,
    kind: str,
    name: str,
    start: datetime,
    hours: int,
) -> dict[str, Any]:
    key = (context.seed, context.account, vendor_code, code, start.isoformat())
    u = uniforms(*key)
    on_purchase_orders = sorted(context.facts.deal_asins.get(code, set()))
    chosen = [product for product in products if product.asin in on_purchase_orders][:6]
    if not chosen:
        picks = sorted({int(u[index] * len(products)) for index in range(2 + int(u[0] * 3))})
        chosen = [products[index] for index in picks]
    low, spread = _DISCOUNTS[kind]
    return {
        "id": number(*key, "promotion", digits=11),
        "mapping": str(uuid.UUID(hex=number(*key, "mapping", digits=32)[:32].rjust(32, "0"))),
        "funding": number(*key, "funding", digits=8),
        "name": f"{name}: save on {chosen[0].title}"[:100],
        "vendorCode": vendor_code,
        "marketplaceId": products[0].marketplace_id,
        "type": kind,
        "start": start,
        "end": start + timedelta(hours=hours) - timedelta(seconds=1),
        "discount": Decimal(low + int(u[8] * spread)) / 100,
        "share": 0.35 + 0.25 * u[9],
        "channel": "AUTOMATED" if kind == "LIGHTNING_DEAL" else "SELF-SERVICE",
        "products": chosen,
    }


def _views_in_hour(ledger: AsinLedger, hour: datetime) -> int:
    day = hour.date().toordinal()
    index = day - ledger.first
    return split_by_hour(ledger.value("glance_views", day), ledger.days.view_phase[index], HOUR_WEIGHTS)[
        hour.hour
    ]


def _document(context: BuildContext, promotion: dict[str, Any], created: datetime) -> dict[str, Any]:
    now = context.resolved.now
    currency = context.currency
    history = datetime.combine(context.history_start, datetime.min.time(), UTC)
    products: list[dict[str, Any]] = []
    for product in promotion["products"]:
        ledger = context.ledger(product, context.resolved.today)
        ordered = views = 0
        hour = max(promotion["start"].replace(minute=0, second=0), history)
        while hour <= promotion["end"] and hour + _HOUR <= now:
            ordered += ordered_in_hour(ledger, hour)
            views += _views_in_hour(ledger, hour)
            hour += _HOUR
        units = math.floor(ordered * promotion["share"])
        deal_price = money(product.price * (1 - promotion["discount"]))
        products.append(
            {
                "asin": product.asin,
                "productName": product.title,
                "productGlanceViews": views,
                "productUnitsSold": units,
                "productAmountSpent": float(money((product.price - deal_price) * units)),
                "productAmountSpentCurrencyCode": currency,
                "productRevenue": float(money(deal_price * units)),
                "productRevenueCurrencyCode": currency,
            }
        )
    spent = sum((Decimal(str(item["productAmountSpent"])) for item in products), Decimal(0))
    revenue = sum((Decimal(str(item["productRevenue"])) for item in products), Decimal(0))
    return {
        "promotionId": promotion["id"],
        "promotionsApiMappingId": promotion["mapping"],
        "promotionName": promotion["name"],
        "vendorCode": promotion["vendorCode"],
        "unitsSold": sum(item["productUnitsSold"] for item in products),
        "amountSpent": float(money(spent)),
        "amountSpentCurrencyCode": currency,
        "revenue": float(money(revenue)),
        "revenueCurrencyCode": currency,
        "startDateTime": stamp(promotion["start"]),
        "endDateTime": stamp(promotion["end"]),
        "type": promotion["type"],
        "status": "APPROVED",
        "creationChannel": promotion["channel"],
        "marketplaceId": promotion["marketplaceId"],
        "fundingAgreementId": promotion["funding"],
        "glanceViews": sum(item["productGlanceViews"] for item in products),
        "createdDateTime": stamp(created),
        "lastUpdatedDateTime": stamp(max(created, min(now, promotion["end"]))),
        "includedProducts": products,
    }


__all__ = ["build_promotions"]
