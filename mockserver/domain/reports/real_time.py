"""The real-time vendor reports, hour by hour for each ASIN of the marketplace: ordered units and revenue
(GET_VENDOR_REAL_TIME_SALES_REPORT), detail-page views (GET_VENDOR_REAL_TIME_TRAFFIC_REPORT) and units on
hand (GET_VENDOR_REAL_TIME_INVENTORY_REPORT), for every whole hour of the requested range.

A day's retail orders and views are spread over its hours (more in the evening, fewer at night) so that the
hours add up to the day of the daily reports; Direct Fulfillment orders count in the hour they were placed.
Units on hand move through the day from the previous day's close to the day's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from mockserver.domain.reports.building import BuildContext, money
from mockserver.domain.reports.demand import split_by_hour
from mockserver.domain.reports.ledger import AsinLedger

_HOUR = timedelta(hours=1)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hours(context: BuildContext) -> Iterator[datetime]:
    resolved = context.resolved
    assert resolved.first_hour is not None and resolved.end_hour is not None
    hour = resolved.first_hour
    history = context.history_start.toordinal()
    while hour < resolved.end_hour:
        if hour.date().toordinal() >= history:
            yield hour
        hour += _HOUR


def _hourly(
    context: BuildContext, measure: Callable[[AsinLedger, datetime], dict[str, Any]]
) -> dict[str, Any] | None:
    hours = list(_hours(context))
    if not hours or not context.products:
        return None
    last_day = hours[-1].date()
    rows = []
    for hour in hours:
        for product in context.products:
            ledger = context.ledger(product, last_day)
            rows.append(
                {
                    "startTime": _stamp(hour),
                    "endTime": _stamp(hour + _HOUR),
                    "asin": product.asin,
                    **measure(ledger, hour),
                }
            )
    return {"reportSpecification": context.resolved.echo, "reportData": rows}


def ordered_in_hour(ledger: AsinLedger, hour: datetime) -> int:
    day = hour.date().toordinal()
    index = day - ledger.first
    retail = split_by_hour(ledger.value("retail_ordered", day), ledger.days.order_phase[index])[hour.hour]
    return retail + ledger.df_ordered_hours.get((day, hour.hour), 0)


def build_real_time_sales(context: BuildContext) -> dict[str, Any] | None:
    def measure(ledger: AsinLedger, hour: datetime) -> dict[str, Any]:
        units = ordered_in_hour(ledger, hour)
        return {"orderedUnits": units, "orderedRevenue": float(money(ledger.model.price * Decimal(units)))}

    return _hourly(context, measure)


def build_real_time_traffic(context: BuildContext) -> dict[str, Any] | None:
    def measure(ledger: AsinLedger, hour: datetime) -> dict[str, Any]:
        day = hour.date().toordinal()
        index = day - ledger.first
        views = split_by_hour(ledger.value("glance_views", day), ledger.days.view_phase[index])
        return {"glanceViews": views[hour.hour]}

    return _hourly(context, measure)


def build_real_time_inventory(context: BuildContext) -> dict[str, Any] | None:
    def measure(ledger: AsinLedger, hour: datetime) -> dict[str, Any]:
        day = hour.date().toordinal()
        before, after = ledger.value("on_hand", day - 1), ledger.value("on_hand", day)
        level = before + (after - before) * (hour.hour + 1) / 24
        return {"highlyAvailableInventory": max(0, round(level))}

    return _hourly(context, measure)


__all__ = [
    "build_real_time_inventory",
    "build_real_time_sales",
    "build_real_time_traffic",
    "ordered_in_hour",
]
