"""A report request, checked twice as Amazon checks it: at once (createReport answers 400 for an unknown
report type, a marketplace that is not the seller's, a range that ends before it starts), then when the
report is processed, by the rules of its type (options, dates, windows), where a broken rule ends the report
FATAL with its errorDetails. `resolve` is that second check: what the report covers, or the rule it breaks.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mockserver.accounts import VendorAccount
from mockserver.domain.catalogue import marketplace_of
from mockserver.domain.clock import parse_iso
from mockserver.domain.errors import InvalidInput
from mockserver.domain.reports import periods
from mockserver.domain.reports.report_types import (
    HOURS,
    NONE,
    OPTIONS,
    PERIOD,
    REAL_TIME_INVENTORY,
    REAL_TIME_SALES,
    REAL_TIME_TRAFFIC,
    REPORT_TYPES,
    ReportType,
)
from mockserver.domain.reports.rules import ReportRuleError

REAL_TIME_LOOKBACK = timedelta(days=30)
REAL_TIME_INVENTORY_LOOKBACK = timedelta(hours=168)
REAL_TIME_INVENTORY_SPAN = timedelta(hours=24)
REAL_TIME_TRAFFIC_DELAY = timedelta(minutes=60)
START_DATE_LOOKBACK = timedelta(days=730)  # coupon and promotion reports: start dates up to two years back
_DATE_PREFIX = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})")
_HOUR = timedelta(hours=1)


def _time(text: str, what: str) -> datetime:
    try:
        return parse_iso(text)
    except (ValueError, OverflowError):
        raise InvalidInput(f"{what}: {text!r} is not an ISO 8601 date-time") from None


def type_and_marketplaces(account: VendorAccount, body: dict[str, Any]) -> tuple[str, list[str]]:
    """A report's (or a schedule's) type and marketplaces, or 400 as Amazon answers a wrong one at once."""
    report_type = str(body.get("reportType") or "")
    if report_type not in REPORT_TYPES:
        raise InvalidInput(
            f"The emulator serves the vendor report types: {', '.join(REPORT_TYPES)}.",
            f"Invalid Report Type {report_type}",
        )
    marketplaces = [str(item) for item in body.get("marketplaceIds") or []]
    check_marketplaces(account, marketplaces)
    return report_type, marketplaces


def accept_request(account: VendorAccount, body: dict[str, Any]) -> dict[str, Any]:
    """The request as stored with the report, or 400 for what Amazon refuses at once."""
    report_type, marketplaces = type_and_marketplaces(account, body)
    request: dict[str, Any] = {"reportType": report_type, "marketplaceIds": marketplaces}
    options = body.get("reportOptions")
    if isinstance(options, dict):
        request["reportOptions"] = {str(key): str(value) for key, value in options.items()}
    start = body.get("dataStartTime")
    end = body.get("dataEndTime")
    if start is not None:
        request["dataStartTime"] = str(start)
    if end is not None:
        request["dataEndTime"] = str(end)
    if start is not None and end is not None:
        if _time(str(start), "dataStartTime") > _time(str(end), "dataEndTime"):
            raise InvalidInput(
                f"rule report-dates-ordered: dataStartTime {start} is after dataEndTime {end}",
                "dataStartTime is after dataEndTime",
            )
    else:
        for name, value in (("dataStartTime", start), ("dataEndTime", end)):
            if value is not None:
                _time(str(value), name)
    return request


def check_marketplaces(account: VendorAccount, marketplaces: list[str]) -> None:
    foreign = [marketplace for marketplace in marketplaces if marketplace not in account.marketplace_ids]
    if foreign:
        raise InvalidInput(
            f"rule report-marketplace-own: marketplaceIds {', '.join(foreign)} "
            f"{'is' if len(foreign) == 1 else 'are'} not a marketplace of this selling partner "
            f"({', '.join(account.marketplace_ids)})"
        )


@dataclass(frozen=True)
class Resolved:
    """What a report covers once its request passed the rules of its type."""

    report_type: ReportType
    marketplace_id: str
    currency: str
    options: dict[str, str]  # the type's options, with defaults filled in
    now: datetime  # the report's creation time: "now" for its windows
    first_day: date | None = None  # period reports: the days covered
    last_day: date | None = None
    first_hour: datetime | None = None  # hourly reports: the whole hours covered, [first, end)
    end_hour: datetime | None = None
    range_from: datetime | None = None  # coupons, promotions: the start-date range
    range_to: datetime | None = None
    echo: dict[str, Any] = field(default_factory=dict)  # the reportSpecification of the document

    @property
    def today(self) -> date:
        return self.now.date()


def resolve(request: dict[str, Any], now: datetime) -> Resolved:
    """The report's coverage, or ReportRuleError naming the rule its request breaks."""
    report_type = REPORT_TYPES[request["reportType"]]
    marketplaces = list(request.get("marketplaceIds") or [])
    if len(marketplaces) != 1:
        raise ReportRuleError(
            "report-one-marketplace",
            f"This report type accepts exactly one marketplaceId; the request names {len(marketplaces)} "
            f"({', '.join(marketplaces)}). Request one report per marketplace.",
        )
    marketplace = marketplaces[0]
    currency = marketplace_of(marketplace)[0]
    given: dict[str, str] = dict(request.get("reportOptions") or {})
    options = _options(report_type, given, currency)
    start_text = request.get("dataStartTime")
    end_text = request.get("dataEndTime")
    base = Resolved(report_type, marketplace, currency, options, now)
    if report_type.dates == NONE:
        if start_text is not None or end_text is not None:
            raise ReportRuleError(
                "report-no-dates",
                f"{report_type.name} forecasts from the date of the request and takes no date range: leave "
                "out dataStartTime and dataEndTime, and try again.",
            )
        return _with_echo(base, request)
    if report_type.dates == OPTIONS:
        return _with_echo(_option_range(base), request)
    if start_text is None or end_text is None:
        raise ReportRuleError(
            "report-dates-required",
            f"{report_type.name} requires dataStartTime and dataEndTime: provide the range to report on, "
            "and try again.",
        )
    if report_type.dates == PERIOD:
        return _with_echo(_period_range(base, str(start_text), str(end_text)), request)
    if report_type.dates == HOURS:
        return _with_echo(_hour_range(base, str(start_text), str(end_text)), request)
    raise AssertionError(report_type.dates)


def _options(report_type: ReportType, given: dict[str, str], currency: str) -> dict[str, str]:
    missing = [name for name in report_type.required_options if not given.get(name)]
    if missing:
        raise ReportRuleError(
            "report-options-required",
            f"This report type requires the {', '.join(missing)} reportOption to be specified. Please review "
            "the document for this report type on GitHub, provide a value for this reportOption in your "
            "request, and try again.",
        )
    options: dict[str, str] = {}
    for option in report_type.options:
        value = given.get(option.name)
        if option.kind == "currency":
            value = value or currency
            if value != currency:
                raise ReportRuleError(
                    "report-currency",
                    f"The reportOption currencyCode {value} is not the currency of the marketplace "
                    f"({currency}). Provide {currency}, or leave currencyCode out, and try again.",
                )
        if value is None:
            continue
        if option.values and value not in option.values:
            raise ReportRuleError(
                "report-option-values",
                f"The reportOption {option.name} has an invalid value {value}. Valid values for this report "
                f"type are: {', '.join(option.values)}. Please review the document for this report type on "
                "GitHub, provide a valid value in your request, and try again.",
            )
        options[option.name] = value
    return options


def day_of(text: str) -> date:
    """The date of a dataStartTime or dataEndTime as written: the time component is ignored."""
    match = _DATE_PREFIX.match(text)
    if match is None:
        raise ValueError(text)
    return date(int(match[1]), int(match[2]), int(match[3]))


def _period_range(base: Resolved, start_text: str, end_text: str) -> Resolved:
    period = base.options["reportPeriod"]
    first, last = day_of(start_text), day_of(end_text)
    if period != periods.DAY and (
        periods.period_start(first, period) != first or periods.period_end(last, period) != last
    ):
        raise ReportRuleError(
            "report-period-aligned",
            f"For reportPeriod {period}, dataStartTime must be {periods.FIRST_DAY_NAMES[period]} and "
            f"dataEndTime {periods.LAST_DAY_NAMES[period]}; the request asks from {first.isoformat()} "
            f"({first:%A}) to {last.isoformat()} ({last:%A}).",
        )
    today = base.today
    if last >= today:
        raise ReportRuleError(
            "report-period-ended",
            f"dataEndTime {last.isoformat()} has not ended yet (today is {today.isoformat()}): data is "
            "available for whole days that have ended. Request a range that ends before today.",
        )
    earliest = periods.shift_periods(today, period, -periods.MAX_LOOKBACK[period])
    if first < earliest:
        raise ReportRuleError(
            "report-lookback",
            f"dataStartTime {first.isoformat()} is beyond the maximum lookback of "
            f"{periods.MAX_LOOKBACK[period]} {periods.UNIT_NAMES[period]} for reportPeriod {period}: the "
            f"earliest start is {earliest.isoformat()}.",
        )
    spanned = periods.count_periods(first, last, period)
    if spanned > periods.MAX_PERIODS[period]:
        raise ReportRuleError(
            "report-max-periods",
            f"The requested range spans {spanned} {periods.UNIT_NAMES[period]}; reportPeriod {period} allows "
            f"at most {periods.MAX_PERIODS[period]} {periods.UNIT_NAMES[period]} per request.",
        )
    return _replace(base, first_day=first, last_day=last)


def _hour_range(base: Resolved, start_text: str, end_text: str) -> Resolved:
    start, end, now = parse_iso(start_text), parse_iso(end_text), base.now
    name = base.report_type.name

    def refuse(why: str) -> ReportRuleError:
        return ReportRuleError("report-real-time-window", f"{name}: {why}")

    if end > now:
        raise refuse(f"dataEndTime {_stamp(end)} is in the future (now is {_stamp(now)}).")
    if base.report_type is REAL_TIME_INVENTORY:
        if start < now - REAL_TIME_INVENTORY_LOOKBACK:
            raise refuse(f"dataStartTime {_stamp(start)} is more than 168 hours before the request.")
        if end - start > REAL_TIME_INVENTORY_SPAN:
            raise refuse("dataEndTime is more than 24 hours after dataStartTime.")
    elif start < now - REAL_TIME_LOOKBACK:
        raise refuse(f"dataStartTime {_stamp(start)} is more than 30 days before the request.")
    if base.report_type is REAL_TIME_TRAFFIC and end > now - REAL_TIME_TRAFFIC_DELAY:
        raise refuse(f"dataEndTime {_stamp(end)} must be at least 60 minutes before the request.")
    first = start.replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += _HOUR
    last = end.replace(minute=0, second=0, microsecond=0)
    return _replace(base, first_hour=first, end_hour=max(first, last))


def _option_range(base: Resolved) -> Resolved:
    names = base.report_type.required_options
    values: list[datetime] = []
    for name in names:
        text = base.options[name]
        try:
            values.append(parse_iso(text))
        except (ValueError, OverflowError):
            raise ReportRuleError(
                "report-start-date-range", f"The reportOption {name} {text!r} is not an ISO 8601 date-time."
            ) from None
    low, high = values
    if low > high:
        raise ReportRuleError(
            "report-start-date-range",
            f"The reportOption {names[0]} is after {names[1]}: swap them, and try again.",
        )
    if low < base.now - START_DATE_LOOKBACK:
        raise ReportRuleError(
            "report-start-date-range",
            f"The reportOption {names[0]} {_stamp(low)} is more than two years before the request: this "
            "report supports start dates up to two years before the current date.",
        )
    return _replace(base, range_from=low, range_to=high)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _replace(base: Resolved, **changes: Any) -> Resolved:
    return dataclasses.replace(base, **changes)


def _with_echo(resolved: Resolved, request: dict[str, Any]) -> Resolved:
    """The document's reportSpecification: the request as Amazon's documents echo it for the type."""
    report_type = resolved.report_type
    echo: dict[str, Any] = {"reportType": report_type.name}
    if report_type.dates in (PERIOD, NONE, OPTIONS) or report_type is REAL_TIME_SALES:
        echo["reportOptions"] = dict(resolved.options)
    if report_type.dates in (PERIOD, NONE):
        echo["lastUpdatedDate"] = resolved.today.isoformat()
    if resolved.first_day is not None and resolved.last_day is not None:
        echo["dataStartTime"] = resolved.first_day.isoformat()
        echo["dataEndTime"] = resolved.last_day.isoformat()
    if report_type.dates == HOURS:
        echo["dataStartTime"] = _stamp(parse_iso(str(request["dataStartTime"])))
        echo["dataEndTime"] = _stamp(parse_iso(str(request["dataEndTime"])))
    echo["marketplaceIds"] = [resolved.marketplace_id]
    return _replace(resolved, echo=echo)


__all__ = ["Resolved", "accept_request", "check_marketplaces", "day_of", "resolve"]
