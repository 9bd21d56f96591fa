"""GET_COUPON_PERFORMANCE_REPORT: the vendor's coupon campaigns whose start date falls in the requested range,
with each coupon's clips, redemptions, discount and budget.

Campaigns are drawn from the seed, one most months for each vendor code of the marketplace, over the
account's history; a coupon's redemptions are a share of the retail orders of its ASINs on the days it ran
(from the ledgers, so coupons agree with the sales report), until its budget is spent. Each redemption
costs the discount and Amazon's redemption fee.
"""

from __future__ import annotations

import math
import string
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from mockserver.domain.reports.building import BuildContext, money
from mockserver.domain.reports.demand import ProductModel, uniforms

_ALPHANUMERIC = string.ascii_uppercase + string.digits
REDEMPTION_FEE = Decimal("0.60")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def identifier(*key: Any, length: int) -> str:
    draws = uniforms(*key)
    return "".join(_ALPHANUMERIC[int(draws[index % 16] * 36 + index) % 36] for index in range(length))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def vendor_code_products(context: BuildContext) -> dict[str, list[ProductModel]]:
    grouped: dict[str, list[ProductModel]] = {}
    for product in context.products:
        grouped.setdefault(product.vendor_code, []).append(product)
    return grouped


def months(first: date, last: date) -> list[tuple[int, int]]:
    found = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        found.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def build_coupons(context: BuildContext) -> dict[str, Any] | None:
    resolved = context.resolved
    assert resolved.range_from is not None and resolved.range_to is not None
    now = resolved.now
    campaigns: list[dict[str, Any]] = []
    for vendor_code, products in vendor_code_products(context).items():
        for year, month in months(context.history_start, now.date()):
            campaign = _campaign(context, vendor_code, products, year, month)
            if campaign is None:
                continue
            started = min(coupon["start"] for coupon in campaign["coupons"])
            if resolved.range_from <= started <= resolved.range_to:
                campaigns.append(_document(context, campaign))
    if not campaigns:
        return None
    campaigns.sort(key=lambda item: (item["creationDateTime"], item["campaignId"]))
    return {"reportSpecification": resolved.echo, "campaigns": campaigns}


def _campaign(
    context: BuildContext, vendor_code: str, products: list[ProductModel], year: int, month: int
) -> dict[str, Any] | None:
    u = uniforms(context.seed, context.account, vendor_code, "coupons", year, month)
    if u[0] >= 0.6:
        return None
    start = datetime(year, month, 1 + int(u[1] * 27), 8, tzinfo=UTC)
    created = start - timedelta(days=7 + int(u[2] * 14))
    if start.date() < context.history_start or created > context.resolved.now:
        return None
    campaign_id = "AMZ" + identifier(context.seed, context.account, vendor_code, year, month, length=10)
    coupons = []
    for number in range(2 if u[3] < 0.4 else 1):
        c = uniforms(campaign_id, number)
        coupon_start = start + timedelta(days=2 * number)
        chosen = sorted({int(c[i] * len(products)) for i in range(1 + int(c[0] * 3))})
        percent = c[4] < 0.6
        coupons.append(
            {
                "id": identifier(campaign_id, number, "coupon", length=14),
                "start": coupon_start,
                "end": coupon_start + timedelta(days=3 + int(c[5] * 12)) - timedelta(seconds=1),
                "products": [products[index] for index in chosen],
                "percent": percent,
                "discount": Decimal(5 * (1 + int(c[6] * 6)))
                if percent
                else Decimal(100 + int(c[6] * 900)) / 100,
                "uptake": 0.1 + 0.2 * c[7],
                "budget": Decimal(500 + 50 * int(c[8] * 90)),
                "oncePerCustomer": c[9] < 0.7,
            }
        )
    return {
        "id": campaign_id,
        "vendorCode": vendor_code,
        "marketplaceId": products[0].marketplace_id,
        "name": f"{_MONTH_NAMES[month - 1]} {year} savings",
        "created": created,
        "shared": u[4] < 0.5,
        "subscribeAndSave": u[5] < 0.1,
        "coupons": coupons,
    }


def _document(context: BuildContext, campaign: dict[str, Any]) -> dict[str, Any]:
    now = context.resolved.now
    currency = context.currency
    shared = campaign["shared"]
    coupons: list[dict[str, Any]] = []
    for coupon in campaign["coupons"]:
        coupons.append(_coupon(context, coupon, shared, currency))
    clips = sum(item["clips"] for item in coupons)
    redemptions = sum(item["redemptions"] for item in coupons)
    last_change = max(coupon["end"] for coupon in campaign["coupons"])
    document: dict[str, Any] = {
        "campaignId": campaign["id"],
        "campaignName": campaign["name"],
        "vendorCode": campaign["vendorCode"],
        "marketplaceId": campaign["marketplaceId"],
        "creationDateTime": stamp(campaign["created"]),
        "lastUpdatedDateTime": stamp(max(campaign["created"], min(now, last_change))),
        "isSubscribeAndSave": campaign["subscribeAndSave"],
        "budgetType": "SHARED_BUDGET" if shared else "PER_INDIVIDUAL_COUPON",
        "totalClips": clips,
        "totalRedemptions": redemptions,
        "currencyCode": currency,
    }
    if shared:
        budget = sum((coupon["budget"] for coupon in campaign["coupons"]), Decimal(0))
        spent = sum((Decimal(str(item["budgetSpent"])) for item in coupons), Decimal(0))
        document["totalBudget"] = float(budget)
        document["totalBudgetSpent"] = float(money(spent))
        document["totalBudgetRemaining"] = float(money(budget - spent))
        for item in coupons:
            item["budgetPercentageUsed"] = round(item["budgetSpent"] / float(budget) * 100, 2)
    document["coupons"] = coupons
    return document


def _coupon(context: BuildContext, coupon: dict[str, Any], shared: bool, currency: str) -> dict[str, Any]:
    """A coupon's figures, day by day while it ran (days that have ended), until its budget is spent."""
    today = context.resolved.today
    budget: Decimal = coupon["budget"]
    spent, discount_total = Decimal(0), Decimal(0)
    clips = redemptions = 0
    day = coupon["start"].date()
    while day <= coupon["end"].date() and day < today:
        for product in coupon["products"]:
            ledger = context.ledger(product, today)
            ordered = ledger.value("retail_ordered", day.toordinal())
            u = uniforms(coupon["id"], product.asin, day.toordinal())
            used = math.floor(ordered * coupon["uptake"] + u[0])
            per_unit = product.price * coupon["discount"] / 100 if coupon["percent"] else coupon["discount"]
            per_unit = min(money(per_unit), product.price)
            cost = per_unit + REDEMPTION_FEE
            used = min(used, int((budget - spent) // cost)) if cost > 0 else used
            spent += cost * used
            discount_total += per_unit * used
            redemptions += used
            views = ledger.value("glance_views", day.toordinal())
            clips += used + math.floor(views * 0.02 * (0.5 + u[1]))
        day += timedelta(days=1)
    document: dict[str, Any] = {
        "couponId": coupon["id"],
        "name": f"Save {coupon['discount']:g}{'%' if coupon['percent'] else ' ' + currency} on "
        f"{coupon['products'][0].title}"[:100],
        "websiteMessage": f"Save on {coupon['products'][0].title}"[:80],
        "startDateTime": stamp(coupon["start"]),
        "endDateTime": stamp(coupon["end"]),
        "isOncePerCustomer": coupon["oncePerCustomer"],
        "customerSegment": "All (Default)",
        "clips": clips,
        "redemptions": redemptions,
    }
    if not shared:
        document["budget"] = float(budget)
    document["totalDiscount"] = float(money(discount_total))
    document["budgetSpent"] = float(money(spent))
    if not shared:
        document["budgetRemaining"] = float(money(budget - spent))
    document["budgetPercentageUsed"] = round(float(spent / budget * 100), 2)
    document["asins"] = [
        {
            "asin": product.asin,
            "discountType": "PERCENT_OFF_LIST_PRICE" if coupon["percent"] else "AMOUNT_OFF_LIST_PRICE",
            "discountAmount": float(coupon["discount"]),
        }
        for product in coupon["products"]
    ]
    return document


__all__ = ["build_coupons", "identifier", "months", "stamp", "vendor_code_products"]
