"""The Retail world's purchase orders over time: the seeded history of each account, the New POs arriving
every hour of sandbox time, and Amazon cancelling an item of some of them."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from mockserver.accounts import VendorAccount
from mockserver.domain.clock import iso, iso_seconds, parse_iso
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder, new_tracking
from mockserver.domain.retail.state import META, RetailState
from mockserver.domain.retail.world import WorldBuilder
from mockserver.domain.seeding import Progress, due_slots
from mockserver.store.purchase_orders import PurchaseOrderRow

# The PO number of Amazon's documentation examples: a New PO of the first writable account, so that examples
# copied from Amazon's docs (and the README) find a purchase order.
EXAMPLE_PURCHASE_ORDER = "4Z32PABC"


def seed_rows(
    state: RetailState, seed: int, size: int, anchor: datetime, progress: Progress | None
) -> Iterator[PurchaseOrderRow]:
    """Every account's seeded rows, generated as the table takes them."""
    used: set[str] = {EXAMPLE_PURCHASE_ORDER}
    accounts = state.accounts.accounts.values()
    example_account = next((a for a in accounts if not a.read_only), None)
    for account in accounts:
        rows = _seed_account(account, WorldBuilder(seed, account, used), size, anchor, progress)
        if account is example_account:
            first = next(rows, None)
            if first is not None:
                yield _renumbered(first, EXAMPLE_PURCHASE_ORDER)
        yield from rows
        if progress:
            progress(account.name, size, size)


def _renumbered(row: PurchaseOrderRow, number: str) -> PurchaseOrderRow:
    po = StoredPurchaseOrder.from_row(row)  # a row not stored yet: its document is still the seeder's
    po.order["purchaseOrderNumber"] = number
    return po.to_row()


def _seed_account(
    account: VendorAccount, builder: WorldBuilder, size: int, anchor: datetime, progress: Progress | None
) -> Iterator[PurchaseOrderRow]:
    """The account's seeded rows, as they are generated. Times are POSIX seconds (no datetime arithmetic)
    and draws are `random()`: at 100,000 POs the seeding is mostly this loop."""
    random_ = builder.rng.random
    new_count = min(size, max(25, size * 3 // 10))
    now = int(anchor.timestamp())
    for index in range(size):
        if index < new_count:  # New, placed 1 hour to 6 days ago; some changed by Amazon since
            created = now - 3600 - int(random_() * (6 * 86400 - 3600 + 1))
        else:  # older, 7 to 90 days ago
            created = now - 7 * 86400 - int(random_() * (83 * 86400 + 1))
        order = builder.purchase_order_at(created)
        details = order["orderDetails"]
        po = StoredPurchaseOrder(account.name, order, new_tracking(order), details["purchaseOrderDate"])
        if index >= new_count:
            _seed_history(po, random_, created, now)
        elif random_() < 0.12 and len(details["items"]) > 1:
            changed = created + 60 + int(random_() * (max(61, now - created) - 59))
            cancel_item(po, details["items"][-1]["itemSequenceNumber"], iso_seconds(changed))
        yield po.to_row()
        if progress and index and index % 20000 == 0:
            progress(account.name, index, size)


def _seed_history(po: StoredPurchaseOrder, random_: Callable[[], float], created: int, anchor: int) -> None:
    """An older PO: acknowledged (all or half accepted); the oldest also received and invoiced."""
    acknowledged_at = iso_seconds(created + 3600 * (2 + int(random_() * 47)))
    if random_() < 0.03:
        for item in po.details["items"]:
            cancel_item(po, item["itemSequenceNumber"], acknowledged_at)
        po.close_if_done(acknowledged_at)
        return
    old = (anchor - created) // 86400 > 30
    for track in po.tracking.values():
        ordered = track["ordered"]
        accepted = ordered if random_() < 0.85 else ordered // 2
        track["acknowledged"] = True
        track["acknowledgedAt"] = acknowledged_at
        track["accepted"], track["rejected"] = accepted, ordered - accepted
        if old:
            track["shipped"] = track["received"] = track["invoiced"] = accepted
            track["lastReceiveDate"] = iso_seconds(created + 86400 * (8 + int(random_() * 13)))
    po.set_state("Acknowledged", acknowledged_at)
    if old:  # every accepted each received and invoiced: done (what close_if_done would find)
        po.set_state("Closed", iso_seconds(created + 25 * 86400))


def cancel_item(po: StoredPurchaseOrder, sequence: str, at: str) -> None:
    """Amazon cancels what is still open of an item (quantity zero on the order)."""
    track = po.tracking[sequence]
    track["cancelled"] = track["ordered"] - track["accepted"] if track["acknowledged"] else track["ordered"]
    track["cancelledAt"] = at
    for item in po.details["items"]:
        if item["itemSequenceNumber"] == sequence:
            item["orderedQuantity"] = {**item["orderedQuantity"], "amount": 0}
    po.details["purchaseOrderChangedDate"] = at
    po.updated = max(po.updated, at)


def arrivals(
    state: RetailState,
    seed: int,
    interval: float,
    builder: Callable[[VendorAccount], WorldBuilder],
    now: datetime,
) -> None:
    """The New POs due since the last call, one per account per slot; every third slot Amazon changes the
    account's previous arrival."""
    meta = state.store.get(*META)
    if meta is None:
        return
    anchor = parse_iso(meta["anchor"])
    slots = due_slots((now - anchor).total_seconds(), interval, int(meta.get("arrivals", 0)))
    if not slots:
        return
    last: dict[str, str] = dict(meta.get("last") or {})
    for slot in slots:
        at = anchor + timedelta(seconds=slot * interval)
        for account in state.accounts.accounts.values():
            account_builder = builder(account)
            account_builder.rng = random.Random(f"{seed}:{account.name}:arrival:{slot}")
            previous = last.get(account.name)
            if slot % 3 == 0 and previous:
                _change_arrival(state, previous, iso(at))
            order = account_builder.purchase_order(at)
            while state.table.get(order["purchaseOrderNumber"]) is not None:
                order["purchaseOrderNumber"] = account_builder.purchase_order_number()
            po = StoredPurchaseOrder(account.name, order, new_tracking(order), iso(at))
            state.table.put(po.to_row())
            last[account.name] = po.number
    state.store.put(*META, {**meta, "arrivals": slots[-1], "last": last})


def _change_arrival(state: RetailState, number: str, at: str) -> None:
    """Amazon changes a New PO: the last item is cancelled (quantity zero)."""
    row = state.table.get(number)
    if row is None:
        return
    po = StoredPurchaseOrder.editable(row)
    if po.state != "New" or len(po.details["items"]) < 2:
        return
    cancel_item(po, po.details["items"][-1]["itemSequenceNumber"], at)
    state.table.put(po.to_row())
