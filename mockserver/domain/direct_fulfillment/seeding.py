"""The DF world's orders over time: each writable account's seeded history (30 days of orders, most shipped,
some cancelled, the newest waiting to be acknowledged), new orders arriving on the sandbox clock, and Amazon
cancelling some of them before they are acknowledged."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from mockserver.domain.clock import iso, iso_seconds, parse_iso
from mockserver.domain.direct_fulfillment.orders import StoredDfOrder, new_track
from mockserver.domain.direct_fulfillment.state import META, DfState
from mockserver.domain.direct_fulfillment.world import CUSTOMER_INVOICE_COUNTRIES, DfWorldBuilder
from mockserver.domain.seeding import Progress, due_slots
from mockserver.store.df_orders import DfOrderRow

ARRIVAL_INTERVAL = 1800.0  # a new order per account every half hour of sandbox time
CANCEL_EVERY = 4  # every fourth arrival slot, Amazon cancels the account's previous order if still NEW
_HOUR = 3600
_DAY = 86400


def tracking_number(ship_method: str, *parts: str) -> str:
    """A carrier tracking number for a package, deterministic from what it is for."""
    digest = int.from_bytes(hashlib.blake2b(":".join(parts).encode(), digest_size=8).digest(), "big")
    if ship_method.startswith("UPS"):
        return f"1Z{digest % 10**16:016d}"
    if ship_method.startswith("AMZL") or ship_method.startswith("ATS"):
        return f"TBA{digest % 10**12:012d}"
    return f"{digest % 10**14:014d}"


def _drawn_tracking_number(ship_method: str, builder: DfWorldBuilder) -> str:
    """A tracking number from the builder's random source (seeding: no hashing per order)."""
    bits = builder.rng.getrandbits(53)
    if ship_method.startswith("UPS"):
        return f"1Z{bits % 10**16:016d}"
    if ship_method.startswith(("AMZL", "ATS")):
        return f"TBA{bits % 10**12:012d}"
    return f"{bits % 10**14:014d}"


def writable(state: DfState) -> list[str]:
    return [account.name for account in state.accounts.accounts.values() if not account.read_only]


def new_order(state: DfState, account: str, document: dict[str, Any], status: str = "NEW") -> StoredDfOrder:
    warehouse = state.builder(account).warehouses[document["orderDetails"]["shipFromParty"]["partyId"]]
    track = new_track(warehouse.country in CUSTOMER_INVOICE_COUNTRIES)
    return StoredDfOrder(account, status, document, track)


def seed_rows(state: DfState, size: int, anchor: datetime, progress: Progress | None) -> Iterator[DfOrderRow]:
    """Every writable account's seeded orders, generated as the table takes them. (A read-only account
    reads; it gets no DF orders, as it gets no submissions.)"""
    now = int(anchor.timestamp())
    for account in writable(state):
        builder = state.builder(account)
        builder.rng = random.Random(f"{state.seed}:{account}:direct-fulfillment")
        random_ = builder.rng.random
        for index in range(size):
            created = now - 600 - int(random_() * (30 * _DAY - 600))
            document = builder.order_at(created)
            if document is None:
                continue
            order = new_order(state, account, document)
            _seed_history(order, builder, random_, created, now)
            yield order.to_row()
            if progress and index and index % 20000 == 0:
                progress(account, index, size)
        if progress:
            progress(account, size, size)


def _seed_history(
    order: StoredDfOrder, builder: DfWorldBuilder, random_: Callable[[], float], created: int, now: int
) -> None:
    """What happened to a seeded order by its age: the newest are NEW, then ACCEPTED, most older ones
    SHIPPED (the oldest also invoiced), some CANCELLED by Amazon or by the vendor."""
    age = now - created
    draw = random_()
    if age < _DAY and draw < 0.8:
        return
    track = order.track
    acknowledged = created + _HOUR * (1 + int(random_() * 6))
    if draw > 0.92:
        by_vendor = draw > 0.96
        at = iso_seconds(min(now, acknowledged))
        track["cancelled"] = {
            "by": "vendor" if by_vendor else "amazon",
            "at": at,
            "code": "03" if by_vendor else None,
        }
        if by_vendor:
            track["acknowledgement"] = {"code": "03", "description": "Canceled out of stock", "at": at}
        order.status = "CANCELLED"
        return
    track["acknowledgement"] = {
        "code": "00",
        "description": "Shipping 100 percent of ordered product",
        "at": iso_seconds(min(now, acknowledged)),
        "vendorOrderNumber": f"V{order.number}",
    }
    order.status = "ACCEPTED"
    if age < 2 * _DAY and draw < 0.9:
        return
    shipped = min(now, acknowledged + _HOUR * (4 + int(random_() * 20)))
    method = order.details["shipmentDetails"]["shipMethod"]
    track["shipment"] = {
        "at": iso_seconds(shipped),
        "status": "SHIPPED",
        "trackingNumbers": [_drawn_tracking_number(method, builder)],
        "ownCarrier": True,
        "items": {item["itemSequenceNumber"]: item["orderedQuantity"]["amount"] for item in order.items},
    }
    order.status = "SHIPPED"
    if age > 14 * _DAY:
        track["invoiced"] = dict(track["shipment"]["items"])
        track["invoiceNumber"] = f"INV-{order.number}"


def arrivals_due(state: DfState, now: datetime) -> bool:
    meta = state.store.get(*META)
    if meta is None:
        return False
    elapsed = (now - parse_iso(meta["anchor"])).total_seconds()
    return bool(due_slots(elapsed, ARRIVAL_INTERVAL, int(meta.get("arrivals", 0))))


def arrivals(state: DfState, now: datetime) -> None:
    """The orders due since the last call, one per writable account per slot (never a SKU its warehouse
    reported at zero); every CANCEL_EVERY-th slot, Amazon cancels the account's previous arrival if NEW."""
    meta = state.store.get(*META)
    if meta is None:
        return
    anchor = parse_iso(meta["anchor"])
    slots = due_slots((now - anchor).total_seconds(), ARRIVAL_INTERVAL, int(meta.get("arrivals", 0)))
    if not slots:
        return
    last: dict[str, str] = dict(meta.get("last") or {})
    for slot in slots:
        at = anchor + timedelta(seconds=slot * ARRIVAL_INTERVAL)
        for account in writable(state):
            builder = state.builder(account)
            builder.rng = random.Random(f"{state.seed}:{account}:df-arrival:{slot}")
            previous = last.get(account)
            if slot % CANCEL_EVERY == 0 and previous:
                cancel_by_amazon(state, account, previous, iso(at))
            warehouses = list(builder.warehouses)
            warehouse = warehouses[int(builder.rng.random() * len(warehouses))]
            document = builder.order_at(
                int(at.timestamp()), warehouse, state.out_of_stock(account, warehouse)
            )
            if document is None:
                continue
            while state.table.get(document["purchaseOrderNumber"]) is not None:
                document["purchaseOrderNumber"] = builder.order_number()
            order = new_order(state, account, document)
            state.table.put(order.to_row())
            last[account] = order.number
    state.store.put(*META, {**meta, "arrivals": slots[-1], "last": last})


def cancel_by_amazon(state: DfState, account: str, number: str, at: str) -> None:
    order = state.load(account, number)
    if order is None or order.status != "NEW":
        return
    order.status = "CANCELLED"
    order.track["cancelled"] = {"by": "amazon", "at": at, "code": None}
    state.table.put(order.to_row())


def place_orders(state: DfState, account: str, warehouse_id: str, count: int, at: datetime) -> list[str]:
    """New orders for one warehouse now (the sandbox test data scenarios): their numbers."""
    builder = state.builder(account)
    numbers = []
    for _ in range(count):
        document = builder.order_at(
            int(at.timestamp()), warehouse_id, state.out_of_stock(account, warehouse_id)
        )
        if document is None:
            document = builder.order_at(int(at.timestamp()), warehouse_id)
        if document is None:
            continue
        while state.table.get(document["purchaseOrderNumber"]) is not None:
            document["purchaseOrderNumber"] = builder.order_number()
        order = new_order(state, account, document)
        state.table.put(order.to_row())
        numbers.append(order.number)
    return numbers
