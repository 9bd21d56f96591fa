"""GET_VENDOR_SALES_REPORT: units and revenue per period, per ASIN and for the whole catalogue.

Retail counts every sale of the vendor's ASINs (Amazon's retail customers from the sell-through model, and
the Direct Fulfillment orders of the account); Business counts business customers' share of the retail
sales; Fresh the ASINs sold through Amazon Fresh. Ordered units are counted on the day the customer ordered,
shipped units on the day they shipped; revenue and cost of goods are net of customer returns, as Amazon's
are. The SOURCING view has no ordered units or revenue (Amazon's schema: MANUFACTURING only).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mockserver.domain.reports.building import BUSINESS, FRESH, BuildContext, amount
from mockserver.domain.reports.ledger import AsinLedger

_FIELDS = ("orderedUnits", "shippedUnits", "customerReturns")


def _units(ledger: AsinLedger, program: str, start: int, end: int) -> tuple[int, int, int]:
    """(ordered, shipped, returned) units of the ASIN over the days, for the selling program."""
    if program == BUSINESS:
        return (
            ledger.total("business_ordered", start, end),
            ledger.total("business_shipped", start, end),
            ledger.total("business_returns", start, end),
        )
    ordered = ledger.total("retail_ordered", start, end)
    shipped = ledger.total("retail_shipped", start, end)
    returns = ledger.total("returns", start, end)
    if program != FRESH:  # Direct Fulfillment sells through Amazon's retail website, not Fresh
        ordered += ledger.total("df_ordered", start, end)
        shipped += ledger.total("df_shipped", start, end)
    return ordered, shipped, returns


def build_sales(context: BuildContext) -> dict[str, Any] | None:
    options = context.resolved.options
    program, manufacturing = options["sellingProgram"], options["distributorView"] == "MANUFACTURING"
    products = context.products_in(program)
    found = context.periods()
    if not products or not found:
        return None
    currency = context.currency
    last_day = context.resolved.last_day
    assert last_day is not None
    by_asin: list[dict[str, Any]] = []
    aggregates: list[dict[str, Any]] = []
    for first, last, start in found:
        totals = dict.fromkeys(_FIELDS, 0)
        money: dict[str, Decimal] = {
            "orderedRevenue": Decimal(0),
            "shippedRevenue": Decimal(0),
            "shippedCogs": Decimal(0),
        }
        for product in products:
            ordered, shipped, returns = _units(
                context.ledger(product, last_day), program, start, last.toordinal()
            )
            row_money: dict[str, Decimal] = {
                "orderedRevenue": product.price * (ordered - returns),
                "shippedRevenue": product.price * (shipped - returns),
                "shippedCogs": product.net_cost * (shipped - returns),
            }
            row = _row(ordered, shipped, returns, row_money, currency, program, manufacturing)
            by_asin.append(
                {"startDate": first.isoformat(), "endDate": last.isoformat(), "asin": product.asin, **row}
            )
            for name, units in zip(_FIELDS, (ordered, shipped, returns), strict=True):
                totals[name] += units
            for name, value in row_money.items():
                money[name] += _cents(value)
        aggregate = _row(
            totals["orderedUnits"],
            totals["shippedUnits"],
            totals["customerReturns"],
            money,
            currency,
            program,
            manufacturing,
        )
        aggregates.append({"startDate": first.isoformat(), "endDate": last.isoformat(), **aggregate})
    return {
        "reportSpecification": context.resolved.echo,
        "salesAggregate": aggregates,
        "salesByAsin": by_asin,
    }


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


def _row(
    ordered: int,
    shipped: int,
    returns: int,
    money: dict[str, Decimal],
    currency: str,
    program: str,
    manufacturing: bool,
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if program != FRESH:  # Amazon's schema: customerReturns is populated for RETAIL and BUSINESS
        row["customerReturns"] = returns
    if manufacturing:
        row["orderedRevenue"] = amount(money["orderedRevenue"], currency)
        row["orderedUnits"] = ordered
    row["shippedCogs"] = amount(money["shippedCogs"], currency)
    row["shippedRevenue"] = amount(money["shippedRevenue"], currency)
    row["shippedUnits"] = shipped
    return row


__all__ = ["build_sales"]
