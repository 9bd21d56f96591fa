"""The calendar of the vendor reports: days, Sunday-to-Saturday weeks, calendar months, quarters (January,
April, July, October) and years, as Amazon's vendor reports count them (its schemas: "dataStartTime must be a
Sunday for the WEEK reportPeriod"), with each period's lookback and span limits."""

from __future__ import annotations

from datetime import date, timedelta

DAY = "DAY"
WEEK = "WEEK"
MONTH = "MONTH"
QUARTER = "QUARTER"
YEAR = "YEAR"
PERIODS = (DAY, WEEK, MONTH, QUARTER, YEAR)

# Amazon's documented windows of the vendor analytics reports, per reportPeriod: how far back dataStartTime
# may lie (counted in periods back from the current one) and how many periods one request may span.
MAX_LOOKBACK = {DAY: 1460, WEEK: 208, MONTH: 48, QUARTER: 16, YEAR: 4}
MAX_PERIODS = {DAY: 15, WEEK: 7, MONTH: 15, QUARTER: 4, YEAR: 2}
UNIT_NAMES = {DAY: "days", WEEK: "weeks", MONTH: "months", QUARTER: "quarters", YEAR: "years"}
FIRST_DAY_NAMES = {
    WEEK: "a Sunday",
    MONTH: "the first day of a month",
    QUARTER: "the first day of a quarter (January, April, July or October 1)",
    YEAR: "January 1",
}
LAST_DAY_NAMES = {
    WEEK: "a Saturday",
    MONTH: "the last day of a month",
    QUARTER: "the last day of a quarter (March 31, June 30, September 30 or December 31)",
    YEAR: "December 31",
}


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _from_month_index(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def period_start(day: date, period: str) -> date:
    """The first day of the period holding `day`."""
    if period == DAY:
        return day
    if period == WEEK:
        return day - timedelta(days=(day.weekday() + 1) % 7)  # weekday(): Monday 0 ... Sunday 6
    if period == MONTH:
        return day.replace(day=1)
    if period == QUARTER:
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    if period == YEAR:
        return date(day.year, 1, 1)
    raise ValueError(f"unknown report period {period!r}")


def next_period_start(day: date, period: str) -> date:
    """The first day of the period after the one holding `day`."""
    start = period_start(day, period)
    if period == DAY:
        return start + timedelta(days=1)
    if period == WEEK:
        return start + timedelta(days=7)
    months = {MONTH: 1, QUARTER: 3, YEAR: 12}[period]
    return _from_month_index(_month_index(start) + months)


def period_end(day: date, period: str) -> date:
    """The last day of the period holding `day`."""
    return next_period_start(day, period) - timedelta(days=1)


def shift_periods(day: date, period: str, count: int) -> date:
    """The first day of the period `count` periods after (negative: before) the one holding `day`."""
    start = period_start(day, period)
    if period == DAY:
        return start + timedelta(days=count)
    if period == WEEK:
        return start + timedelta(days=7 * count)
    months = {MONTH: 1, QUARTER: 3, YEAR: 12}[period]
    return _from_month_index(_month_index(start) + months * count)


def periods_between(start: date, end: date, period: str) -> list[tuple[date, date]]:
    """The periods from the one holding `start` to the one holding `end`, as (first day, last day)."""
    found: list[tuple[date, date]] = []
    current = period_start(start, period)
    while current <= end:
        following = next_period_start(current, period)
        found.append((current, following - timedelta(days=1)))
        current = following
    return found


def count_periods(start: date, end: date, period: str) -> int:
    if period == DAY:
        return (end - start).days + 1
    if period == WEEK:
        return (period_start(end, WEEK) - period_start(start, WEEK)).days // 7 + 1
    months = {MONTH: 1, QUARTER: 3, YEAR: 12}[period]
    return (_month_index(period_start(end, period)) - _month_index(period_start(start, period))) // months + 1


def last_ended_period(today: date, period: str) -> tuple[date, date]:
    """The most recent whole period that ended before `today` (a scheduled report's range)."""
    end = period_start(today, period) - timedelta(days=1)
    return period_start(end, period), end


__all__ = [
    "DAY",
    "MAX_LOOKBACK",
    "MAX_PERIODS",
    "MONTH",
    "PERIODS",
    "QUARTER",
    "WEEK",
    "YEAR",
    "count_periods",
    "last_ended_period",
    "next_period_start",
    "period_end",
    "period_start",
    "periods_between",
    "shift_periods",
]
