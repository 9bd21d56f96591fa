"""Each ASIN's day-by-day ledger: the seeded sell-through model (demand.py) joined with what the worlds did
(facts.py). Retail customers' orders, shipments, returns and detail-page views come from the model; Direct
Fulfillment orders add their units as sales; Amazon's stock moves with the units it receives (the purchase
orders' receipts) and the units it ships to customers.

Before the account's purchase-order history (the `era`: the first day the seeded world received anything)
Amazon replenishes every Monday with what it shipped the week before, on a purchase order placed the Monday
before, so the two years before the world's documents read as one continuous history.

The model's part of a ledger is a pure function of (seed, account, ASIN, day), so it is kept per process
(`_MODEL_DAYS`) and only extended as later days are asked for: a cache, never state.
"""

from __future__ import annotations

import math
import threading
from array import array
from dataclasses import dataclass, field
from datetime import date

from mockserver.domain.reports.demand import ProductModel, uniforms
from mockserver.domain.reports.facts import WorldFacts

OPENING_STOCK_DAYS = 42  # Amazon's stock of an ASIN when its history starts, in days of demand
DAMAGED_SHARE = 0.3  # customer returns that come back unsellable
UNSELLABLE_DAYS = 30  # unsellable units stay on hand this long before they are disposed of
LOOKBEHIND = 16  # days before the history's start the model is drawn (returns lag shipments by 14 days)
_MONDAY = 0
_SERIES = (
    "retail_ordered",
    "retail_shipped",
    "returns",
    "damaged",
    "model_views",
    "business_ordered",
    "business_shipped",
    "business_returns",
)


@dataclass
class ModelDays:
    """The model's numbers of one ASIN from day `first` (an ordinal) on, one array per series."""

    first: int
    retail_ordered: array = field(default_factory=lambda: array("l"))
    retail_shipped: array = field(default_factory=lambda: array("l"))
    returns: array = field(default_factory=lambda: array("l"))
    damaged: array = field(default_factory=lambda: array("l"))
    model_views: array = field(default_factory=lambda: array("l"))
    business_ordered: array = field(default_factory=lambda: array("l"))
    business_shipped: array = field(default_factory=lambda: array("l"))
    business_returns: array = field(default_factory=lambda: array("l"))
    order_phase: array = field(default_factory=lambda: array("d"))  # spreads a day's orders over its hours
    view_phase: array = field(default_factory=lambda: array("d"))

    @property
    def last(self) -> int:
        return self.first + len(self.retail_ordered) - 1

    def extend_to(self, seed: int, account: str, model: ProductModel, last: int) -> None:
        retail_ordered = self.retail_ordered
        for ordinal in range(self.last + 1, last + 1):
            index = ordinal - self.first
            u = uniforms(seed, account, model.asin, ordinal)
            expected = model.expected_units(date.fromordinal(ordinal))
            ordered = math.floor(expected * (0.6 + 0.8 * u[0]) + u[1])
            shipped = retail_ordered[index - 1] if index >= 1 else ordered
            returned_from = retail_ordered[index - 15] if index >= 15 else ordered
            returns = math.floor(returned_from * model.return_rate + u[2])
            business = math.floor(ordered * model.business_share + u[5])
            retail_ordered.append(ordered)
            self.retail_shipped.append(shipped)
            self.returns.append(returns)
            self.damaged.append(math.floor(returns * DAMAGED_SHARE + u[7]))
            self.model_views.append(
                math.floor(ordered / model.conversion * (0.8 + 0.4 * u[3]) + expected * (1 + 2 * u[4]))
            )
            self.business_ordered.append(business)
            self.business_shipped.append(self.business_ordered[index - 1] if index >= 1 else business)
            self.business_returns.append(min(returns, math.floor(returns * model.business_share + u[6])))
            self.order_phase.append(u[8])
            self.view_phase.append(u[9])


_MODEL_DAYS: dict[tuple[int, str, ProductModel, int], ModelDays] = {}
_MODEL_DAYS_LOCK = threading.Lock()
_MODEL_DAYS_KEPT = 4096  # ASINs kept; far more than the demo accounts have


def model_days(seed: int, account: str, model: ProductModel, first: int, last: int) -> ModelDays:
    key = (seed, account, model, first)
    with _MODEL_DAYS_LOCK:
        days = _MODEL_DAYS.get(key)
        if days is None:
            if len(_MODEL_DAYS) >= _MODEL_DAYS_KEPT:
                _MODEL_DAYS.clear()
            days = _MODEL_DAYS[key] = ModelDays(first)
        if days.last < last:
            days.extend_to(seed, account, model, last)
        return days


@dataclass
class AsinLedger:
    """One ASIN's numbers, each indexed by (date ordinal - `first`)."""

    model: ProductModel
    first: int
    last: int
    days: ModelDays
    df_ordered: dict[int, int]
    df_ordered_hours: dict[tuple[int, int], int]
    df_shipped: dict[int, int]
    glance_views: list[int] = field(default_factory=list)
    received: list[int] = field(default_factory=list)
    received_lead_days: list[int] = field(default_factory=list)
    requested: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    on_hand: list[int] = field(default_factory=list)  # sellable, at the end of the day
    unsellable: list[int] = field(default_factory=list)
    open_purchase_order: list[int] = field(default_factory=list)

    def series(self, name: str) -> array | list[int]:
        if name in _SERIES:
            values: array = getattr(self.days, name)
            return values
        own: list[int] = getattr(self, name)
        return own

    def value(self, name: str, day: int) -> int:
        if name in ("df_ordered", "df_shipped"):
            return int(getattr(self, name).get(day, 0))
        index = day - self.first
        values = self.series(name)
        return int(values[index]) if 0 <= index <= self.last - self.first else 0

    def total(self, name: str, start: int, end: int) -> int:
        """The sum of a series over the days from `start` to `end` (ordinals, both included)."""
        end = min(end, self.last)
        if name in ("df_ordered", "df_shipped"):
            found: dict[int, int] = getattr(self, name)
            return sum(units for day, units in found.items() if start <= day <= end)
        values = self.series(name)
        low = max(start - self.first, 0)
        high = end - self.first + 1
        return int(sum(values[low:high])) if high > low else 0


def build_ledger(
    seed: int,
    account: str,
    model: ProductModel,
    facts: WorldFacts,
    history_start: date,
    era: date,
    last_day: date,
) -> AsinLedger:
    """The ASIN's ledger from `LOOKBEHIND` days before the history's start to `last_day`."""
    first = history_start.toordinal() - LOOKBEHIND
    last = max(last_day.toordinal(), first)
    days = model_days(seed, account, model, first, last)
    asin = model.asin
    ledger = AsinLedger(
        model,
        first,
        last,
        days,
        dict(facts.df_ordered.get(asin, {})),
        dict(facts.df_ordered_hours.get(asin, {})),
        dict(facts.df_shipped.get(asin, {})),
    )
    views = days.model_views
    ledger.glance_views = [
        views[ordinal - first] + math.ceil(ledger.df_ordered.get(ordinal, 0) / model.conversion)
        for ordinal in range(first, last + 1)
    ]
    _stock(ledger, facts, history_start.toordinal(), era.toordinal())
    return ledger


def _stock(ledger: AsinLedger, facts: WorldFacts, start: int, era: int) -> None:
    """Receipts, purchase orders and stock from the history's start (before it: the opening stock)."""
    first, last = ledger.first, ledger.last
    size = last - first + 1
    received = [0] * size
    lead_days = [0] * size
    requested = [0] * size
    confirmed = [0] * size
    opening = round(OPENING_STOCK_DAYS * ledger.model.rate)
    on_hand = [opening] * size
    unsellable = [0] * size
    open_po = [0] * size
    asin = ledger.model.asin
    actual_received = facts.received.get(asin, {})
    actual_lead = facts.received_lead_days.get(asin, {})
    actual_requested = facts.requested.get(asin, {})
    actual_confirmed = facts.confirmed.get(asin, {})
    # Open purchase-order units from the world: confirmed units less units received, from the first
    # purchase order on record up to each day.
    changes: dict[int, int] = {}
    for day, units in facts.accepted.get(asin, {}).items():
        changes[day] = changes.get(day, 0) + units
    for day, units in actual_received.items():
        changes[day] = changes.get(day, 0) - units
    open_actual = sum(units for day, units in changes.items() if day < start)
    shipped = ledger.days.retail_shipped
    returns_series = ledger.days.returns
    damaged_series = ledger.days.damaged

    def weekly_replenishment(monday: int) -> int:
        """What Amazon receives on a Monday before the era: the units it shipped the week before."""
        low = max(monday - 7 - first, 0)
        high = min(monday - first, size)
        return int(sum(shipped[low:high]))

    stock = opening
    disposed = 0  # damaged units older than UNSELLABLE_DAYS, gone from the unsellable stock
    damaged_to_date = 0
    for ordinal in range(start, last + 1):
        index = ordinal - first
        weekday = (ordinal - 1) % 7  # date.fromordinal(1) is a Monday
        if ordinal < era:
            if weekday == _MONDAY:
                units = weekly_replenishment(ordinal)
                received[index] = units
                lead_days[index] = units * 7
                placed = index - 7
                if placed >= start - first:
                    requested[placed] += units
                    confirmed[placed] += units
            # Open: the purchase order placed last Monday (or today), received next Monday.
            open_po[index] = weekly_replenishment(ordinal + ((7 - weekday) % 7 or 7))
        else:
            received[index] = actual_received.get(ordinal, 0)
            lead_days[index] = actual_lead.get(ordinal, 0)
            requested[index] = actual_requested.get(ordinal, 0)
            confirmed[index] = actual_confirmed.get(ordinal, 0)
        open_actual += changes.get(ordinal, 0)
        if ordinal >= era:
            open_po[index] = open_actual
        stock += received[index] - shipped[index] + returns_series[index] - damaged_series[index]
        on_hand[index] = stock
        damaged_to_date += damaged_series[index]
        if index - UNSELLABLE_DAYS >= start - first:
            disposed += damaged_series[index - UNSELLABLE_DAYS]
        unsellable[index] = damaged_to_date - disposed
    ledger.received = received
    ledger.received_lead_days = lead_days
    ledger.requested = requested
    ledger.confirmed = confirmed
    ledger.on_hand = on_hand
    ledger.unsellable = unsellable
    ledger.open_purchase_order = open_po


__all__ = ["AsinLedger", "ModelDays", "build_ledger", "model_days"]
