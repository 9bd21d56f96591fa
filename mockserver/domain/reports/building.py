"""What every report document builder works with: the resolved request, the marketplace's ASINs with their
sell-through model, the worlds' facts and the ledgers, and Amazon's amount and rate formats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mockserver.domain.reports import periods
from mockserver.domain.reports.demand import ProductModel
from mockserver.domain.reports.facts import WorldFacts
from mockserver.domain.reports.ledger import AsinLedger, build_ledger
from mockserver.domain.reports.specification import Resolved

CENT = Decimal("0.01")
FRESH = "FRESH"
BUSINESS = "BUSINESS"


@dataclass
class BuildContext:
    seed: int
    account: str
    resolved: Resolved
    products: list[ProductModel]  # the ASINs of the report's marketplace, in catalogue order
    facts: WorldFacts
    history_start: date
    era: date
    # Ledgers depend on the ASIN, the last day and the facts only: reports decided together share them.
    _ledgers: dict[tuple[str, date], AsinLedger] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.resolved.currency

    def products_in(self, program: str | None) -> list[ProductModel]:
        """The ASINs a selling program reports: Amazon Fresh the ASINs sold through Fresh, Retail (all of
        the vendor's sales) and Business (business customers' share of them) every ASIN."""
        if program == FRESH:
            return [product for product in self.products if product.fresh]
        return list(self.products)

    def periods(self) -> list[tuple[date, date, int]]:
        """The report's periods that hold data, as (first day, last day, first day with data as an
        ordinal): a period before the account's history is left out, one it begins in is counted from it."""
        resolved = self.resolved
        assert resolved.first_day is not None and resolved.last_day is not None
        found = []
        start = self.history_start.toordinal()
        for first, last in periods.periods_between(
            resolved.first_day, resolved.last_day, resolved.options["reportPeriod"]
        ):
            if last.toordinal() >= start:
                found.append((first, last, max(first.toordinal(), start)))
        return found

    def ledger(self, product: ProductModel, last_day: date) -> AsinLedger:
        key = (product.asin, last_day)
        found = self._ledgers.get(key)
        if found is None:
            found = self._ledgers[key] = build_ledger(
                self.seed, self.account, product, self.facts, self.history_start, self.era, last_day
            )
        return found


# A builder: the report document, or None when there is nothing to report (the report ends CANCELLED).
Builder = Callable[[BuildContext], dict[str, Any] | None]


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def amount(value: Decimal, currency: str) -> dict[str, Any]:
    return {"amount": float(money(value)), "currencyCode": currency}


def rate(numerator: float, denominator: float, places: int = 4) -> float:
    return round(numerator / denominator, places)


__all__ = ["BUSINESS", "FRESH", "BuildContext", "Builder", "amount", "money", "rate"]
