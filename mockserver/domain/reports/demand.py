"""The seeded sell-through model behind the vendor reports: per ASIN, how many units Amazon's customers order
each day, how often they look at the detail page, return, buy as businesses; calibrated once per account to
what Amazon bought of the ASIN on the seeded purchase orders (Amazon orders what sells), and kept in the
store (state.py).

Every draw is a pure function of (seed, account, ASIN, day): a day's numbers never depend on which report
asked first or how far back it reached, so the same report over the same state is the same document, and
any day of the two years is computed alone.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from mockserver.domain.catalogue import VendorCodeContext

# Customers shop more at the weekend (Monday first, as date.weekday() counts).
WEEKDAY_FACTORS = (0.94, 0.93, 0.95, 0.97, 1.02, 1.09, 1.10)
# Within a day (UTC hours): quiet at night, busiest in the evening; normalised where used.
HOUR_WEIGHTS = (
    1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.7, 1.0, 1.3, 1.5, 1.6, 1.6,
    1.7, 1.7, 1.6, 1.6, 1.7, 1.9, 2.1, 2.3, 2.4, 2.2, 1.8, 1.4,
)  # fmt: skip
MIN_RATE = 0.3  # units a day: an ASIN Amazon never bought on a seeded PO still sells a little
CALIBRATION_SHARE = 0.95  # customers buy a little less than Amazon orders (Amazon holds some stock)
FULFILMENT_SHARE = Decimal("0.10")  # Amazon's cost of fulfilling a retail order, as a share of revenue


@dataclass(frozen=True)
class ProductModel:
    """One ASIN's parameters: its catalogue facts and how it sells."""

    asin: str
    sku: str
    title: str
    vendor_code: str
    marketplace_id: str
    currency: str
    net_cost: Decimal  # what Amazon pays the vendor, per each
    price: Decimal  # what Amazon's customers pay, per each
    rate: float  # mean units ordered a day (before weekday and season)
    conversion: float  # share of detail-page views that end in an order
    return_rate: float
    business_share: float  # share of units bought by Amazon Business customers
    fresh: bool  # sold through Amazon Fresh too

    def expected_units(self, day: date) -> float:
        return self.rate * WEEKDAY_FACTORS[day.weekday()] * season(day)


def season(day: date) -> float:
    """Holiday shopping in November and December, Prime Day in mid-July."""
    doy = day.timetuple().tm_yday
    holiday = math.exp(-(((doy - 345) / 22.0) ** 2))
    prime_day = math.exp(-(((doy - 193) / 2.5) ** 2))
    return 1.0 + 0.55 * holiday + 0.8 * prime_day


def uniforms(*key: Any) -> tuple[float, ...]:
    """Sixteen uniform draws in [0, 1) from a key: the same key, the same draws, on any machine."""
    digest = hashlib.blake2b(":".join(str(part) for part in key).encode(), digest_size=32).digest()
    return tuple(int.from_bytes(digest[i : i + 2], "big") / 65536.0 for i in range(0, 32, 2))


def number(*key: Any, digits: int) -> str:
    """A decimal identifier of `digits` digits (no leading zero) from a key."""
    digest = hashlib.blake2b(":".join(str(part) for part in key).encode(), digest_size=16).digest()
    low = 10 ** (digits - 1)
    return str(low + int.from_bytes(digest, "big") % (9 * low))


def calibrate(
    seed: int, account: str, contexts: list[VendorCodeContext], ordered_eaches: dict[str, int], span_days: int
) -> dict[str, dict[str, Any]]:
    """Each catalogue ASIN's stored parameters: its daily rate from the eaches Amazon ordered of it on the
    seeded purchase orders over `span_days`, the rest drawn from the seed."""
    models: dict[str, dict[str, Any]] = {}
    for context in contexts:
        for product in context.catalogue:
            draws = uniforms(seed, account, product.asin, "model")
            bought = ordered_eaches.get(product.asin, 0)
            rate = bought / max(span_days, 30) * CALIBRATION_SHARE if bought else 0.0
            models[product.asin] = {
                "rate": round(max(rate, MIN_RATE + 0.7 * draws[0]), 3),
                "conversion": round(0.04 + 0.11 * draws[1], 4),
                "priceFactor": round(0.82 + 0.16 * draws[2], 4),
                "returnRate": round(0.02 + 0.05 * draws[3], 4),
                "businessShare": round(0.05 + 0.15 * draws[4], 4),
                "fresh": draws[5] < 0.15,
            }
    return models


def product_models(
    contexts: list[VendorCodeContext], stored: dict[str, dict[str, Any]]
) -> list[ProductModel]:
    """The account's ASINs with their stored parameters, in catalogue order."""
    found: list[ProductModel] = []
    for context in contexts:
        for product in context.catalogue:
            parameters = stored.get(product.asin)
            if parameters is None:
                continue
            price = (product.list_price * Decimal(str(parameters["priceFactor"]))).quantize(Decimal("0.01"))
            found.append(
                ProductModel(
                    asin=product.asin,
                    sku=product.sku,
                    title=product.title,
                    vendor_code=context.vendor_code,
                    marketplace_id=context.marketplace_id,
                    currency=context.currency,
                    net_cost=product.net_cost,
                    price=price,
                    rate=float(parameters["rate"]),
                    conversion=float(parameters["conversion"]),
                    return_rate=float(parameters["returnRate"]),
                    business_share=float(parameters["businessShare"]),
                    fresh=bool(parameters["fresh"]),
                )
            )
    return found


def split_by_hour(total: int, phase: float, weights: tuple[float, ...] = HOUR_WEIGHTS) -> list[int]:
    """`total` units spread over the 24 hours of a day by the weights, deterministically: the hours add up
    to the day exactly (cumulative rounding with a per-day phase)."""
    if total <= 0:
        return [0] * len(weights)
    whole = sum(weights)
    counts: list[int] = []
    cumulative = 0.0
    previous = math.floor(phase)
    for weight in weights:
        cumulative += weight
        current = math.floor(total * cumulative / whole + phase)
        counts.append(current - previous)
        previous = current
    counts[-1] += total - sum(counts)  # float rounding at the end of the day
    return counts


__all__ = [
    "FULFILMENT_SHARE",
    "HOUR_WEIGHTS",
    "ProductModel",
    "calibrate",
    "number",
    "product_models",
    "season",
    "split_by_hour",
    "uniforms",
]
