"""The vendor report types the emulator serves, with Amazon's report options for each: which are required,
which values they take, and how the type takes its date range.

- `period`: dataStartTime and dataEndTime are days (the time is ignored), read by `reportPeriod`.
- `hours`: dataStartTime and dataEndTime are date-times; the report covers the whole hours between them.
- `none`: no date range (the forecast looks ahead from the report's creation).
- `options`: the range is in the report options (the start dates of coupon campaigns, of promotions).
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.domain.reports.periods import PERIODS

PERIOD = "period"
HOURS = "hours"
NONE = "none"
OPTIONS = "options"

DISTRIBUTOR_VIEWS = ("MANUFACTURING", "SOURCING")
SALES_PROGRAMS = ("RETAIL", "BUSINESS", "FRESH")
STOCK_PROGRAMS = ("RETAIL", "FRESH")


@dataclass(frozen=True)
class Option:
    """A report option of a report type: its name, the values Amazon takes, and whether it is required."""

    name: str
    values: tuple[str, ...] = ()  # the values Amazon takes; empty: see `kind`
    required: bool = True
    kind: str = "enum"  # enum | currency | date-time


@dataclass(frozen=True)
class ReportType:
    """A vendor report type: its name, its document's schema, how it takes its date range, its options."""

    name: str
    schema: str  # Amazon's JSON schema of the document (schemas/reports/<schema>.json)
    dates: str
    options: tuple[Option, ...] = ()

    @property
    def required_options(self) -> tuple[str, ...]:
        return tuple(option.name for option in self.options if option.required)


_PERIOD = Option("reportPeriod", PERIODS)
_VIEW = Option("distributorView", DISTRIBUTOR_VIEWS)

SALES = ReportType(
    "GET_VENDOR_SALES_REPORT",
    "vendorSalesReport",
    PERIOD,
    (_PERIOD, _VIEW, Option("sellingProgram", SALES_PROGRAMS)),
)
INVENTORY = ReportType(
    "GET_VENDOR_INVENTORY_REPORT",
    "vendorInventoryReport",
    PERIOD,
    (_PERIOD, _VIEW, Option("sellingProgram", STOCK_PROGRAMS)),
)
TRAFFIC = ReportType("GET_VENDOR_TRAFFIC_REPORT", "vendorTrafficReport", PERIOD, (_PERIOD,))
MARGIN = ReportType(
    "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT", "vendorNetPureProductMarginReport", PERIOD, (_PERIOD,)
)
FORECASTING = ReportType(
    "GET_VENDOR_FORECASTING_REPORT",
    "vendorForecastingReport",
    NONE,
    (Option("sellingProgram", STOCK_PROGRAMS),),
)
REAL_TIME_SALES = ReportType(
    "GET_VENDOR_REAL_TIME_SALES_REPORT",
    "vendorRealTimeSalesReport",
    HOURS,
    (Option("currencyCode", required=False, kind="currency"),),
)
REAL_TIME_INVENTORY = ReportType(
    "GET_VENDOR_REAL_TIME_INVENTORY_REPORT", "vendorRealTimeInventoryReport", HOURS
)
REAL_TIME_TRAFFIC = ReportType("GET_VENDOR_REAL_TIME_TRAFFIC_REPORT", "vendorRealTimeTrafficReport", HOURS)
COUPONS = ReportType(
    "GET_COUPON_PERFORMANCE_REPORT",
    "vendorCouponReport",
    OPTIONS,
    (
        Option("campaignStartDateFrom", kind="date-time"),
        Option("campaignStartDateTo", kind="date-time"),
    ),
)
PROMOTIONS = ReportType(
    "GET_PROMOTION_PERFORMANCE_REPORT",
    "promotionReport",
    OPTIONS,
    (
        Option("promotionStartDateFrom", kind="date-time"),
        Option("promotionStartDateTo", kind="date-time"),
    ),
)

REPORT_TYPES: dict[str, ReportType] = {
    report_type.name: report_type
    for report_type in (
        SALES,
        INVENTORY,
        TRAFFIC,
        MARGIN,
        FORECASTING,
        REAL_TIME_SALES,
        REAL_TIME_INVENTORY,
        REAL_TIME_TRAFFIC,
        COUPONS,
        PROMOTIONS,
    )
}

__all__ = [
    "COUPONS",
    "FORECASTING",
    "HOURS",
    "INVENTORY",
    "MARGIN",
    "NONE",
    "OPTIONS",
    "PERIOD",
    "PROMOTIONS",
    "REAL_TIME_INVENTORY",
    "REAL_TIME_SALES",
    "REAL_TIME_TRAFFIC",
    "REPORT_TYPES",
    "SALES",
    "TRAFFIC",
    "Option",
    "ReportType",
]
