"""GET_VENDOR_FORECASTING_REPORT: Amazon's forecast of customer demand for each ASIN, week by week (Sunday to
Saturday) for the 26 weeks from the current one: the sell-through model's expected units (weekday and season
included) plus the ASIN's recent Direct Fulfillment rate, with p70/p80/p90 levels that widen with the
horizon. Fresh forecasts the ASINs sold through Amazon Fresh.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from mockserver.domain.reports import periods
from mockserver.domain.reports.building import BuildContext

WEEKS = 26
RECENT_DAYS = 28  # the Direct Fulfillment rate is read from the last four weeks
Z_SCORES = {"p70ForecastUnits": 0.5244, "p80ForecastUnits": 0.8416, "p90ForecastUnits": 1.2816}


def build_forecast(context: BuildContext) -> dict[str, Any] | None:
    products = context.products_in(context.resolved.options["sellingProgram"])
    if not products:
        return None
    today = context.resolved.today
    generated = periods.period_start(today, periods.WEEK)
    recent_from = (today - timedelta(days=RECENT_DAYS)).toordinal()
    rows: list[dict[str, Any]] = []
    for product in products:
        direct = context.facts.df_ordered.get(product.asin, {})
        df_rate = sum(units for day, units in direct.items() if recent_from <= day < today.toordinal())
        df_rate_per_day = df_rate / RECENT_DAYS
        for week in range(WEEKS):
            start = generated + timedelta(days=7 * week)
            end = start + timedelta(days=6)
            mean = (
                sum(product.expected_units(start + timedelta(days=offset)) for offset in range(7))
                + 7 * df_rate_per_day
            )
            spread = math.sqrt(mean) * (1 + 0.04 * week)
            row: dict[str, Any] = {
                "forecastGenerationDate": generated.isoformat(),
                "asin": product.asin,
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
                "meanForecastUnits": round(mean, 1),
            }
            for name, z in Z_SCORES.items():
                row[name] = round(mean + z * spread, 1)
            rows.append(row)
    return {"reportSpecification": context.resolved.echo, "forecastByAsin": rows}


__all__ = ["WEEKS", "build_forecast"]
