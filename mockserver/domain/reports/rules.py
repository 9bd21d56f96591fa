"""The rules of the Reports API and the vendor report types, each with a name: the reports table of
docs/RULES.md.

A request the service can refuse at once is answered `400 InvalidInput` (code `InvalidInput`). A report whose
options or dates break a rule of its type is accepted (202) and ends `FATAL`, its report document holding
Amazon's `{"errorDetails": "..."}`; a report with nothing to report ends `CANCELLED` without a document, as
Amazon's do. The `code` of each rule says which of the three it is.
"""

from __future__ import annotations

from mockserver.domain.rules import Rule, RuleBook

INVALID_INPUT = "InvalidInput"
DONE = "DONE"  # with FATAL and CANCELLED, the statuses a processed report ends in
FATAL = "FATAL"
CANCELLED = "CANCELLED"

BOOK = RuleBook()
RULES: dict[str, Rule] = BOOK.rules
_rule = BOOK.define

# Answered at once: 400 InvalidInput
_rule("report-type-known", INVALID_INPUT, "Invalid Report Type {reportType}", "createReport")
_rule(
    "report-marketplace-own",
    INVALID_INPUT,
    "Invalid input.",
    "createReport, createReportSchedule",
)
_rule("report-dates-ordered", INVALID_INPUT, "dataStartTime is after dataEndTime", "createReport")
_rule("report-cancel-in-queue", INVALID_INPUT, "Invalid input.", "cancelReport")
_rule("reports-filter-required", INVALID_INPUT, "Invalid input.", "getReports")
_rule("reports-next-token-alone", INVALID_INPUT, "Invalid input.", "getReports")
_rule("reports-created-window", INVALID_INPUT, "Invalid input.", "getReports")
_rule("schedule-next-creation-time", INVALID_INPUT, "Invalid input.", "createReportSchedule")
# Accepted, then FATAL with an errorDetails document
_rule("report-one-marketplace", FATAL, "This report type accepts one marketplaceId.", "vendor reports")
_rule(
    "report-options-required",
    FATAL,
    "This report type requires the {options} reportOption to be specified. Please review the document for "
    "this report type on GitHub, provide a value for this reportOption in your request, and try again.",
    "vendor reports",
)
_rule("report-option-values", FATAL, "The value of a reportOption is not valid.", "vendor reports")
_rule("report-dates-required", FATAL, "This report type requires dataStartTime and dataEndTime.", "dated")
_rule("report-no-dates", FATAL, "This report type takes no dataStartTime or dataEndTime.", "forecasting")
_rule("report-period-aligned", FATAL, "The dates do not bound whole periods.", "period reports")
_rule("report-period-ended", FATAL, "The requested period has not ended.", "period reports")
_rule("report-lookback", FATAL, "dataStartTime is beyond the maximum lookback.", "period reports")
_rule("report-max-periods", FATAL, "The requested range spans too many periods.", "period reports")
_rule("report-real-time-window", FATAL, "The requested hours are outside the report's window.", "real time")
_rule("report-currency", FATAL, "currencyCode is not the marketplace's currency.", "real-time sales")
_rule("report-start-date-range", FATAL, "The start-date range is not valid.", "coupon, promotion")
# Accepted, then CANCELLED without a document
_rule("report-no-data", CANCELLED, "There is no data to report.", "vendor reports")


class ReportRuleError(Exception):
    """A FATAL rule broken by a report: its document's errorDetails."""

    def __init__(self, rule: str, details: str) -> None:
        super().__init__(details)
        if rule not in RULES:
            raise ValueError(f"unknown report rule {rule}")
        self.rule = rule
        self.details = details


__all__ = ["CANCELLED", "FATAL", "INVALID_INPUT", "RULES", "ReportRuleError"]
