"""Processing a report: the rules of its type decide whether it can be made (FATAL with errorDetails when
not), then its builder makes the document from the account's history and the worlds' facts as they are now
(CANCELLED when there is nothing to report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from mockserver.domain.reports import report_types as types
from mockserver.domain.reports.building import BuildContext, Builder
from mockserver.domain.reports.coupons import build_coupons
from mockserver.domain.reports.facts import WorldFacts, read_facts
from mockserver.domain.reports.forecasting import build_forecast
from mockserver.domain.reports.inventory import build_inventory
from mockserver.domain.reports.ledger import AsinLedger
from mockserver.domain.reports.margin import build_margin
from mockserver.domain.reports.promotions import build_promotions
from mockserver.domain.reports.real_time import (
    build_real_time_inventory,
    build_real_time_sales,
    build_real_time_traffic,
)
from mockserver.domain.reports.rules import CANCELLED, DONE, FATAL, ReportRuleError
from mockserver.domain.reports.sales import build_sales
from mockserver.domain.reports.specification import resolve
from mockserver.domain.reports.state import ReportsState
from mockserver.domain.reports.traffic import build_traffic

BUILDERS: dict[str, Builder] = {
    types.SALES.name: build_sales,
    types.INVENTORY.name: build_inventory,
    types.TRAFFIC.name: build_traffic,
    types.MARGIN.name: build_margin,
    types.FORECASTING.name: build_forecast,
    types.REAL_TIME_SALES.name: build_real_time_sales,
    types.REAL_TIME_TRAFFIC.name: build_real_time_traffic,
    types.REAL_TIME_INVENTORY.name: build_real_time_inventory,
    types.COUPONS.name: build_coupons,
    types.PROMOTIONS.name: build_promotions,
}


@dataclass(frozen=True)
class Outcome:
    status: str  # DONE | FATAL | CANCELLED
    document: dict[str, Any] | None  # the report document (DONE), or {"errorDetails": ...} (FATAL)
    rule: str | None = None  # the rule that ended it FATAL or CANCELLED


class Batch:
    """What the reports decided in one call share: the account's history, the worlds' facts as they are
    now, and the ASIN ledgers made from them (a schedule catching up decides many reports at once)."""

    def __init__(self, state: ReportsState, account: str) -> None:
        self.state = state
        self.account = account
        self._facts: WorldFacts | None = None
        self.ledgers: dict[tuple[str, date], AsinLedger] = {}

    @property
    def facts(self) -> WorldFacts:
        if self._facts is None:
            state = self.state
            self._facts = read_facts(state.store, state.purchase_orders, state.df_orders, self.account)
        return self._facts


def produce(
    state: ReportsState, account: str, request: dict[str, Any], created: datetime, batch: Batch | None = None
) -> Outcome:
    try:
        resolved = resolve(request, created)
    except ReportRuleError as error:
        return Outcome(FATAL, {"errorDetails": error.details}, error.rule)
    batch = batch or Batch(state, account)
    history = state.history(account)
    context = BuildContext(
        seed=state.seed,
        account=account,
        resolved=resolved,
        products=history.marketplace(resolved.marketplace_id),
        facts=batch.facts,
        history_start=history.history_start,
        era=history.era,
        _ledgers=batch.ledgers,
    )
    document = BUILDERS[resolved.report_type.name](context)
    if document is None:
        return Outcome(CANCELLED, None, "report-no-data")
    return Outcome(DONE, document)


__all__ = ["BUILDERS", "CANCELLED", "DONE", "FATAL", "Batch", "Outcome", "produce"]
