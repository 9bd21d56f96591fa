"""What the Retail and Direct Fulfillment worlds say about an account's ASINs, day by day: units Amazon asked
for and the vendor confirmed (purchase orders), units received (shipment confirmations received by the
warehouse, and the seeded history's receipts), and units Amazon's customers ordered and the vendor shipped
on Direct Fulfillment orders. The reports read these as they are at processing time, so a report agrees with
the purchase orders, shipments and DF orders of the same account.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from mockserver.domain.clock import parse_iso
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder
from mockserver.domain.retail.state import ASN
from mockserver.store import Store
from mockserver.store.df_orders import DfOrderQuery, DfOrderTable
from mockserver.store.purchase_orders import PurchaseOrderQuery, PurchaseOrderTable

PAGE = 1000
Daily = dict[str, dict[int, int]]  # ASIN -> day (date ordinal) -> units


def _daily() -> Daily:
    return defaultdict(lambda: defaultdict(int))


@dataclass
class WorldFacts:
    received: Daily = field(default_factory=_daily)
    received_lead_days: Daily = field(default_factory=_daily)  # units x days from PO date to receipt
    accepted: Daily = field(default_factory=_daily)  # units the vendor confirmed, by acknowledgement day
    requested: Daily = field(default_factory=_daily)  # units Amazon asked for, by PO day
    confirmed: Daily = field(default_factory=_daily)  # of those, units confirmed, by PO day
    df_ordered: Daily = field(default_factory=_daily)
    df_ordered_hours: dict[str, dict[tuple[int, int], int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    df_shipped: Daily = field(default_factory=_daily)
    deal_asins: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # PO dealCode -> ASINs


def _day(stamp: str) -> date:
    return parse_iso(stamp).date()


def read_facts(
    store: Store, purchase_orders: PurchaseOrderTable, df_orders: DfOrderTable, account: str
) -> WorldFacts:
    facts = WorldFacts()
    asn_receipts = _asn_receipts(store, account)
    after: tuple[str, str] | None = None
    while True:
        rows = purchase_orders.query(PurchaseOrderQuery(account=account, limit=PAGE, after=after))
        for row in rows:
            _purchase_order(facts, StoredPurchaseOrder.from_row(row), asn_receipts)
        if len(rows) < PAGE:
            break
        after = rows[-1].sort_key
    _df_orders(facts, df_orders, account)
    return facts


def _asn_receipts(store: Store, account: str) -> dict[tuple[str, str], list[tuple[date, int]]]:
    """(PO number, item sequence) -> [(day received, eaches)] of the shipment confirmations received."""
    receipts: dict[tuple[str, str], list[tuple[date, int]]] = defaultdict(list)
    for _, asn in store.scan(f"{ASN}:{account}"):
        if not asn.get("received"):
            continue
        day = _day(str(asn["receiveAt"]))
        for number, sequence, quantity in asn.get("lines") or []:
            receipts[(str(number), str(sequence))].append((day, int(quantity)))
    return receipts


def _purchase_order(
    facts: WorldFacts, po: StoredPurchaseOrder, asn_receipts: dict[tuple[str, str], list[tuple[date, int]]]
) -> None:
    details = po.details
    placed = _day(details["purchaseOrderDate"])
    deal = details.get("dealCode")
    for item in details["items"]:
        asin = item.get("amazonProductIdentifier")
        track = po.tracking.get(item["itemSequenceNumber"])
        if not asin or track is None:
            continue
        if deal:
            facts.deal_asins[str(deal)].add(asin)
        facts.requested[asin][placed.toordinal()] += int(track["ordered"])
        if track["acknowledged"]:
            facts.confirmed[asin][placed.toordinal()] += int(track["accepted"])
            if track["acknowledgedAt"]:
                facts.accepted[asin][_day(track["acknowledgedAt"]).toordinal()] += int(track["accepted"])
        received = int(track["received"])
        if received <= 0:
            continue
        # Receipts of shipment confirmations on the day each was received; the seeded history (received
        # without a shipment confirmation) on the item's last receive date.
        events = list(asn_receipts.get((po.number, item["itemSequenceNumber"]), ()))
        counted = min(received, sum(quantity for _, quantity in events))
        if received > counted and track["lastReceiveDate"]:
            events.append((_day(track["lastReceiveDate"]), received - counted))
        left = received
        for day, quantity in sorted(events):
            units = min(quantity, left)
            if units <= 0:
                break
            left -= units
            facts.received[asin][day.toordinal()] += units
            facts.received_lead_days[asin][day.toordinal()] += units * max(0, (day - placed).days)


def _df_orders(facts: WorldFacts, table: DfOrderTable, account: str) -> None:
    after: tuple[str, str] | None = None
    while True:
        rows = table.query(
            DfOrderQuery(
                account=account,
                created_after="0000-00-00T00:00:00Z",
                created_before="9999-12-31T23:59:59Z",
                limit=PAGE,
                after=after,
            )
        )
        for row in rows:
            order = row.document["order"]
            track = row.document["track"]
            placed = parse_iso(order["orderDetails"]["orderDate"])
            by_sequence: dict[str, str] = {}
            for item in order["orderDetails"]["items"]:
                asin = item.get("buyerProductIdentifier")
                if not asin:
                    continue
                by_sequence[item["itemSequenceNumber"]] = asin
                units = int((item.get("orderedQuantity") or {}).get("amount") or 0)
                facts.df_ordered[asin][placed.date().toordinal()] += units
                facts.df_ordered_hours[asin][(placed.date().toordinal(), placed.hour)] += units
            shipment = track.get("shipment")
            if shipment and row.status == "SHIPPED":
                shipped_day = _day(str(shipment["at"])).toordinal()
                for sequence, units in (shipment.get("items") or {}).items():
                    asin = by_sequence.get(str(sequence))
                    if asin:
                        facts.df_shipped[asin][shipped_day] += int(units)
        if len(rows) < PAGE:
            break
        after = rows[-1].sort_key


__all__ = ["WorldFacts", "read_facts"]
