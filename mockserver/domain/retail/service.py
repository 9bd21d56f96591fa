"""The Retail Procurement world of one emulator: seeding, time moving, queries and the processing of every
submission (acknowledgements, shipment confirmations, shipments, invoices) under the rules of rules.py."""

from __future__ import annotations

import base64
import gc
import json
import random
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from mockserver.accounts import AccountDirectory, VendorAccount
from mockserver.domain.clock import SandboxClock, iso, iso_seconds, parse_iso
from mockserver.domain.errors import InvalidInput, NotFound
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder, eaches, new_tracking
from mockserver.domain.retail.rules import violation
from mockserver.domain.retail.world import WorldBuilder
from mockserver.domain.transactions import TransactionLog
from mockserver.store import Store
from mockserver.store.purchase_orders import PurchaseOrderQuery, PurchaseOrderRow, PurchaseOrderTable

META = ("retail", "world")
ASN = "retail.shipment-confirmations"
SHIPMENTS = "retail.shipments"
INVOICES = "retail.invoices"
DEFAULT_WINDOW = timedelta(days=7)
FUTURE_TOLERANCE = timedelta(hours=24)
RECEIVING_LEAD = timedelta(days=2)
ARRIVAL_CATCH_UP = 500  # at most this many arrival slots are generated at once (a clock jumped by years)
MONEY_TOLERANCE = Decimal("0.01")
# The PO number of Amazon's documentation examples: a New PO of the first writable account, so that examples
# copied from Amazon's docs (and the README) find a purchase order.
EXAMPLE_PURCHASE_ORDER = "4Z32PABC"

Progress = Callable[[str, int, int], None]


def _decimal(text: Any) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeError) as error:
        raise InvalidInput("The nextToken is invalid.", "Invalid nextToken.") from error
    if not isinstance(state, dict):
        raise InvalidInput("The nextToken is invalid.", "Invalid nextToken.")
    return state


class RetailWorld:
    def __init__(
        self,
        accounts: AccountDirectory,
        store: Store,
        table: PurchaseOrderTable,
        clock: SandboxClock,
        *,
        seed: int,
        seed_size: int,
        processing_delay: float,
        arrival_interval: float = 3600.0,
    ) -> None:
        self.accounts = accounts
        self.store = store
        self.table = table
        self.clock = clock
        self.seed = seed
        self.seed_size = seed_size
        self.arrival_interval = arrival_interval
        self._lock = threading.RLock()
        self.transactions = TransactionLog(store, processing_delay, clock.now)
        self.transactions.processors.update(
            {
                "acknowledgement": self._process_acknowledgements,
                "shipmentConfirmation": self._confirm_shipments,
                "shipment": self._process_shipments,
                "invoice": self._process_invoices,
            }
        )
        self._builders: dict[str, WorldBuilder] = {}

    # Seeding ---------------------------------------------------------------------------------------
    def ensure_seeded(self, progress: Progress | None = None) -> None:
        meta = self.store.get(*META)
        if meta is None or meta.get("seed") != self.seed or meta.get("size") != self.seed_size:
            self.seed_world(progress)

    def seed_world(self, progress: Progress | None = None) -> None:
        with self._lock:
            self.table.clear()
            for collection in (ASN, SHIPMENTS, INVOICES):
                for account in self.accounts.accounts.values():
                    self.store.clear(f"{collection}:{account.name}")
            # The receiving index goes with the ASNs it indexes (rebuilt, empty, on the next call).
            self.store.clear(RECEIVING)
            self.store.clear(RECEIVING_DUE[0])
            self.transactions.reset()
            anchor = self.clock.now().replace(minute=0, second=0, microsecond=0)
            # One bulk load of every account's rows, generated as the table takes them. The cyclic garbage
            # collector is held meanwhile: millions of new dicts (and no cycles) would set it off again and
            # again, each time walking the whole growing world (a quarter of the seeding time).
            collecting = gc.isenabled()
            gc.disable()
            try:
                self.table.put_many(self._seed_rows(anchor, progress))
            finally:
                if collecting:
                    gc.enable()
            self.store.put(
                *META,
                {"seed": self.seed, "size": self.seed_size, "anchor": iso(anchor), "arrivals": 0, "last": {}},
            )
            self._builders.clear()

    def _seed_rows(self, anchor: datetime, progress: Progress | None) -> Iterator[PurchaseOrderRow]:
        used: set[str] = {EXAMPLE_PURCHASE_ORDER}
        example_account = next((a for a in self.accounts.accounts.values() if not a.read_only), None)
        for account in self.accounts.accounts.values():
            rows = self._seed_account(account, WorldBuilder(self.seed, account, used), anchor, progress)
            if account is example_account:
                first = next(rows, None)
                if first is not None:
                    yield self._renumbered(first, EXAMPLE_PURCHASE_ORDER)
            yield from rows
            if progress:
                progress(account.name, self.seed_size, self.seed_size)

    @staticmethod
    def _renumbered(row: PurchaseOrderRow, number: str) -> PurchaseOrderRow:
        po = StoredPurchaseOrder.from_row(row)  # a row not stored yet: its document is still the seeder's
        po.order["purchaseOrderNumber"] = number
        return po.to_row()

    def _seed_account(
        self, account: VendorAccount, builder: WorldBuilder, anchor: datetime, progress: Progress | None
    ) -> Iterator[PurchaseOrderRow]:
        """The account's seeded rows, as they are generated. Times are POSIX seconds (no datetime arithmetic)
        and draws are `random()`: at 100,000 POs the seeding is mostly this loop."""
        random_ = builder.rng.random
        size = self.seed_size
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
                self._seed_history(po, random_, created, now)
            elif random_() < 0.12 and len(details["items"]) > 1:
                changed = created + 60 + int(random_() * (max(61, now - created) - 59))
                self._cancel_item(po, details["items"][-1]["itemSequenceNumber"], iso_seconds(changed))
            yield po.to_row()
            if progress and index and index % 20000 == 0:
                progress(account.name, index, size)

    def _seed_history(
        self, po: StoredPurchaseOrder, random_: Callable[[], float], created: int, anchor: int
    ) -> None:
        """An older PO: acknowledged (all or half accepted); the oldest also received and invoiced."""
        acknowledged_at = iso_seconds(created + 3600 * (2 + int(random_() * 47)))
        if random_() < 0.03:
            for item in po.details["items"]:
                self._cancel_item(po, item["itemSequenceNumber"], acknowledged_at)
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

    def _cancel_item(self, po: StoredPurchaseOrder, sequence: str, at: str) -> None:
        track = po.tracking[sequence]
        track["cancelled"] = (
            track["ordered"] - track["accepted"] if track["acknowledged"] else track["ordered"]
        )
        track["cancelledAt"] = at
        for item in po.details["items"]:
            if item["itemSequenceNumber"] == sequence:
                item["orderedQuantity"] = {**item["orderedQuantity"], "amount": 0}
        po.details["purchaseOrderChangedDate"] = at
        po.updated = max(po.updated, at)

    # Time moving -----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Bring the world up to the clock: arrivals and changes of POs, warehouse receipts, transactions."""
        with self._lock:
            now = self.clock.now()
            self._arrivals(now)
            self._receipts(now)
            self.transactions.settle()

    def _builder(self, account: VendorAccount) -> WorldBuilder:
        builder = self._builders.get(account.name)
        if builder is None:
            builder = self._builders[account.name] = WorldBuilder(self.seed, account, set())
        return builder

    def _arrivals(self, now: datetime) -> None:
        meta = self.store.get(*META)
        if meta is None:
            return
        anchor = parse_iso(meta["anchor"])
        due = int((now - anchor).total_seconds() // self.arrival_interval)
        done = int(meta.get("arrivals", 0))
        if due <= done:
            return
        done = max(done, due - ARRIVAL_CATCH_UP)
        last: dict[str, str] = dict(meta.get("last") or {})
        for slot in range(done + 1, due + 1):
            at = anchor + timedelta(seconds=slot * self.arrival_interval)
            for account in self.accounts.accounts.values():
                builder = self._builder(account)
                builder.rng = random.Random(f"{self.seed}:{account.name}:arrival:{slot}")
                previous = last.get(account.name)
                if slot % 3 == 0 and previous:
                    self._change_arrival(previous, iso(at))
                order = builder.purchase_order(at)
                while self.table.get(order["purchaseOrderNumber"]) is not None:
                    order["purchaseOrderNumber"] = builder.purchase_order_number()
                po = StoredPurchaseOrder(account.name, order, new_tracking(order), iso(at))
                self.table.put(po.to_row())
                last[account.name] = po.number
        self.store.put(*META, {**meta, "arrivals": due, "last": last})

    def _change_arrival(self, number: str, at: str) -> None:
        """Amazon changes a New PO: the last item is cancelled (quantity zero)."""
        row = self.table.get(number)
        if row is None:
            return
        po = StoredPurchaseOrder.editable(row)
        if po.state != "New" or len(po.details["items"]) < 2:
            return
        self._cancel_item(po, po.details["items"][-1]["itemSequenceNumber"], at)
        self.table.put(po.to_row())

    def _receipts(self, now: datetime) -> None:
        """The warehouse receives the shipment confirmations due, earliest first. The receiving index says
        when the next one is due, so a tick with nothing due reads one small document and no ASN."""
        stamp = iso(now)
        header = self._receiving_due()
        if header.get("next") is None or header["next"] > stamp:
            return
        earliest: str | None = None
        for account in self.accounts.accounts.values():
            document = self.store.get(RECEIVING, account.name)
            pending: dict[str, str] = dict((document or {}).get("pending") or {})
            remaining = dict(pending)
            for identifier, at in sorted(pending.items(), key=lambda entry: (entry[1], entry[0])):
                if at > stamp:
                    break
                later = self._receive(account.name, identifier, stamp)
                if later is None:
                    del remaining[identifier]
                else:
                    remaining[identifier] = later
            if remaining != pending:
                self.store.put(RECEIVING, account.name, {"pending": remaining})
            if remaining:
                soonest = min(remaining.values())
                earliest = soonest if earliest is None else min(earliest, soonest)
        self.store.put(*RECEIVING_DUE, {"next": earliest})

    # Reads -----------------------------------------------------------------------------------------
    def _load(self, account: str, number: str) -> StoredPurchaseOrder | None:
        """The account's PO as a private copy, for the submissions to change (they change it before they know
        whether the whole submission is accepted: the stored PO must not change with it)."""
        row = self.table.get(number)
        if row is None or row.account != account:
            return None
        return StoredPurchaseOrder.editable(row)

    def _view(self, account: str, number: str) -> StoredPurchaseOrder | None:
        """The account's PO, read-only: the table's own document (no copy), for answers that only read it."""
        row = self.table.get(number)
        if row is None or row.account != account:
            return None
        return StoredPurchaseOrder.from_row(row)

    def get_purchase_order(self, account: str, number: str) -> dict[str, Any]:
        self.tick()
        po = self._view(account, number)
        if po is None:
            raise NotFound(f"No purchase order {number}.")
        return po.order_view()

    def _page(
        self, query: PurchaseOrderQuery, token_state: dict[str, Any]
    ) -> tuple[list[StoredPurchaseOrder], str | None]:
        rows = self.table.query(query)
        more = len(rows) > query.limit - 1 and len(rows) == query.limit
        rows = rows[: query.limit - 1] if more else rows
        token = None
        if more:
            token = encode_token({**token_state, "after": list(rows[-1].sort_key)})
        return [StoredPurchaseOrder.from_row(row) for row in rows], token

    def _window(
        self, filters: dict[str, Any], after: str, before: str, now: datetime, default: bool
    ) -> tuple[str | None, str | None]:
        low = filters.get(after)
        high = filters.get(before)
        try:
            low_text = iso(parse_iso(low)) if low else None
            high_text = iso(parse_iso(high)) if high else None
        except ValueError as error:
            raise InvalidInput(f"Invalid date: {error}.") from error
        if default and low_text is None:
            low_text = iso(now - DEFAULT_WINDOW)
        if default and high_text is None:
            high_text = iso(now + timedelta(seconds=1))
        if low_text and high_text and low_text >= high_text:
            raise InvalidInput(
                f"{before} must be later than {after}.", f"{before} must be later than {after}."
            )
        return low_text, high_text

    def list_purchase_orders(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        state = self._list_state(account, query, "orders")
        limit = int(query.get("limit") or state.get("limit") or 100)
        q = self._query(account, state, limit)
        pos, token = self._page(q, state)
        include = str(state.get("includeDetails", "true")).lower() != "false"
        payload: dict[str, Any] = {"orders": [po.order_view(include) for po in pos]}
        if token:
            payload["pagination"] = {"nextToken": token}
        return payload

    def list_purchase_order_statuses(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        state = self._list_state(account, query, "status")
        limit = int(query.get("limit") or state.get("limit") or 100)
        q = self._query(account, state, limit)
        pos, token = self._page(q, state)
        payload: dict[str, Any] = {"ordersStatus": [po.status_view() for po in pos]}
        if token:
            payload["pagination"] = {"nextToken": token}
        return payload

    def _list_state(self, account: str, query: dict[str, Any], kind: str) -> dict[str, Any]:
        """The filters of a listing, with defaults resolved; a nextToken carries them, so every page of one
        listing reads the same window (new POs arriving meanwhile never shift a page)."""
        token = query.get("nextToken")
        if token:
            state = decode_token(str(token))
            if state.get("kind") != kind or state.get("account") != account:
                raise InvalidInput("The nextToken is invalid.", "Invalid nextToken.")
            return state
        now = self.clock.now()
        state = {key: value for key, value in query.items() if key not in ("nextToken", "limit")}
        state.update(kind=kind, account=account)
        if kind == "orders":
            dated = any(query.get(name) for name in ("changedAfter", "changedBefore"))
            low, high = self._window(query, "createdAfter", "createdBefore", now, default=not dated)
            state["createdAfter"], state["createdBefore"] = low, high
            state["changedAfter"], state["changedBefore"] = self._window(
                query, "changedAfter", "changedBefore", now, default=False
            )
        else:
            dated = any(query.get(name) for name in ("updatedAfter", "updatedBefore", "purchaseOrderNumber"))
            state["createdAfter"], state["createdBefore"] = self._window(
                query, "createdAfter", "createdBefore", now, default=not dated
            )
            state["updatedAfter"], state["updatedBefore"] = self._window(
                query, "updatedAfter", "updatedBefore", now, default=False
            )
        return state

    def _query(self, account: str, state: dict[str, Any], limit: int) -> PurchaseOrderQuery:
        after = state.get("after")
        is_changed = str(state.get("isPOChanged", "")).lower() == "true" or None
        open_only = None
        if state.get("purchaseOrderStatus") in ("OPEN", "CLOSED"):
            open_only = state["purchaseOrderStatus"] == "OPEN"
        try:
            return PurchaseOrderQuery(
                account=account,
                limit=limit + 1,
                descending=state.get("sortOrder") == "DESC",
                after=(str(after[0]), str(after[1])) if after else None,
                created_after=state.get("createdAfter"),
                created_before=state.get("createdBefore"),
                changed_after=state.get("changedAfter"),
                changed_before=state.get("changedBefore"),
                updated_after=state.get("updatedAfter"),
                updated_before=state.get("updatedBefore"),
                state=state.get("purchaseOrderState"),
                open_only=open_only,
                vendor_code=state.get("orderingVendorCode"),
                ship_to=state.get("shipToPartyId"),
                number=state.get("purchaseOrderNumber"),
                is_changed=is_changed,
                has_cancelled=True if state.get("poItemState") == "Cancelled" else None,
                confirmation=state.get("itemConfirmationStatus"),
                receiving=state.get("itemReceiveStatus"),
            )
        except (TypeError, IndexError, KeyError) as error:
            raise InvalidInput("The nextToken is invalid.", "Invalid nextToken.") from error

    # Submissions -----------------------------------------------------------------------------------
    def submit(self, account: str, kind: str, body: Any) -> str:
        with self._lock:
            self.tick()
            return self.transactions.submit(account, kind, body)

    def transaction_status(self, account: str, transaction_id: str) -> dict[str, Any]:
        self.tick()
        return self.transactions.status(account, transaction_id).to_payload()

    def _account(self, name: str) -> VendorAccount:
        return self.accounts.accounts[name]

    def _process_acknowledgements(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        errors: list[dict[str, str]] = []
        vendor_codes = set(self._account(account).vendor_codes)
        changed: dict[str, StoredPurchaseOrder] = {}
        stamp = iso(now)
        for index, ack in enumerate(body.get("acknowledgements") or []):
            number = str(ack.get("purchaseOrderNumber"))
            where = f"acknowledgements[{index}] (purchase order {number})"
            po = changed.get(number) or self._load(account, number)
            if po is None:
                errors.append(
                    violation("ack-po-exists", where, f"no purchase order {number} for this vendor")
                )
                continue
            party = (ack.get("sellingParty") or {}).get("partyId")
            if party != po.vendor_code or party not in vendor_codes:
                errors.append(
                    violation("ack-selling-party", where, f"sellingParty {party} is not {po.vendor_code}")
                )
                continue
            if po.state == "Closed":
                errors.append(violation("ack-po-open", where, "the purchase order is Closed"))
                continue
            seen: set[str] = set()
            updates: dict[str, tuple[int, int]] = {}
            for line, ack_item in enumerate(ack.get("items") or []):
                line_where = f"{where} items[{line}]"
                item = po.find_item(
                    ack_item.get("itemSequenceNumber"),
                    ack_item.get("amazonProductIdentifier"),
                    ack_item.get("vendorProductIdentifier"),
                )
                if item is None:
                    errors.append(
                        violation("ack-item-on-po", line_where, "no such item on the purchase order")
                    )
                    continue
                sequence = item["itemSequenceNumber"]
                seen.add(sequence)
                unit_size = int(item["orderedQuantity"].get("unitSize") or 1)
                ordered = eaches(ack_item.get("orderedQuantity"), unit_size)
                expected = po.open_quantity(sequence)
                if ordered != eaches(item["orderedQuantity"]) and ordered != expected:
                    errors.append(
                        violation(
                            "ack-ordered-quantity",
                            line_where,
                            f"orderedQuantity is {ordered} eaches, the purchase order has {expected}",
                        )
                    )
                    continue
                accepted = rejected = backordered = 0
                for acknowledgement in ack_item.get("itemAcknowledgements") or []:
                    quantity = eaches(acknowledgement.get("acknowledgedQuantity"), unit_size)
                    code = acknowledgement.get("acknowledgementCode")
                    if code == "Rejected":
                        rejected += quantity
                    elif code == "Backordered":
                        backordered += quantity
                    else:
                        accepted += quantity
                if backordered and not item.get("isBackOrderAllowed"):
                    errors.append(
                        violation("ack-backorder-allowed", line_where, "isBackOrderAllowed is false")
                    )
                    continue
                if accepted + backordered + rejected != expected:
                    errors.append(
                        violation(
                            "ack-quantities-add-up",
                            line_where,
                            f"accepted {accepted} + backordered {backordered} + rejected {rejected} eaches "
                            f"is not the ordered {expected}",
                        )
                    )
                    continue
                updates[sequence] = (accepted + backordered, rejected)
            missing = sorted(set(po.tracking) - seen, key=lambda s: (len(s), s))
            if missing and (ack.get("items") or []):
                errors.append(
                    violation("ack-all-items", where, f"items {', '.join(missing)} not acknowledged")
                )
                continue
            if not ack.get("items"):
                errors.append(violation("ack-all-items", where, "the acknowledgement has no items"))
                continue
            for sequence, (accepted, rejected) in updates.items():
                track = po.tracking[sequence]
                if track["shipped"] > accepted:
                    accepted = track["shipped"]
                track.update(accepted=accepted, rejected=rejected, acknowledged=True, acknowledgedAt=stamp)
            po.set_state("Acknowledged", stamp)
            po.close_if_done(stamp)
            changed[number] = po
        if errors:
            return errors
        for po in changed.values():
            self.table.put(po.to_row())
        return []

    def _shipment_lines(
        self,
        account: str,
        where: str,
        items: list[tuple[str, Any, Any, Any, Any]],
        ship_to: str | None,
        errors: list[dict[str, str]],
        pos: dict[str, StoredPurchaseOrder],
        prefix: str = "asn",
    ) -> list[tuple[str, str, int]]:
        """Check shipped lines (label, PO number, ASIN, vendor id, quantity): the (PO, item, eaches)."""
        lines: list[tuple[str, str, int]] = []
        for label, number, asin, vendor_id, quantity in items:
            if not number:
                errors.append(
                    violation(f"{prefix}-po-reference", f"{where} {label}", "no purchaseOrderNumber")
                )
                continue
            po = pos.get(number) or self._load(account, number)
            if po is None:
                errors.append(
                    violation(
                        f"{prefix}-po-exists",
                        f"{where} {label}",
                        f"no purchase order {number} for this vendor",
                    )
                )
                continue
            pos[number] = po
            if po.state == "New" or not any(t["acknowledged"] for t in po.tracking.values()):
                errors.append(
                    violation(
                        f"{prefix}-po-acknowledged",
                        f"{where} {label}",
                        f"purchase order {number} is {po.state}",
                    )
                )
                continue
            if ship_to is not None and ship_to != po.details["shipToParty"]["partyId"]:
                errors.append(
                    violation(
                        f"{prefix}-ship-to",
                        f"{where} {label}",
                        f"shipToParty {ship_to} is not {po.details['shipToParty']['partyId']} "
                        f"of purchase order {number}",
                    )
                )
                continue
            if asin is None and vendor_id is None:
                continue  # a container line naming only its PO: the reference is checked, not a quantity
            item = po.find_item(None, asin, vendor_id, by_sequence=False)
            if item is None:
                errors.append(
                    violation(
                        f"{prefix}-item-on-po",
                        f"{where} {label}",
                        f"item {asin or vendor_id} is not on purchase order {number}",
                    )
                )
                continue
            unit_size = int(item["orderedQuantity"].get("unitSize") or 1)
            lines.append((number, item["itemSequenceNumber"], eaches(quantity, unit_size)))
        return lines

    def _check_quantities(
        self,
        where: str,
        lines: list[tuple[str, str, int]],
        pos: dict[str, StoredPurchaseOrder],
        errors: list[dict[str, str]],
        prefix: str = "asn",
    ) -> None:
        totals: dict[tuple[str, str], int] = {}
        for number, sequence, quantity in lines:
            totals[(number, sequence)] = totals.get((number, sequence), 0) + quantity
        for (number, sequence), quantity in totals.items():
            track = pos[number].tracking[sequence]
            if track["shipped"] + quantity > track["accepted"]:
                errors.append(
                    violation(
                        f"{prefix}-quantity-within-accepted",
                        where,
                        f"purchase order {number} item {sequence}: shipped {track['shipped']} + "
                        f"{quantity} eaches exceeds accepted {track['accepted']}",
                    )
                )

    def _process_shipment_confirmations(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        errors: list[dict[str, str]] = []
        vendor_codes = set(self._account(account).vendor_codes)
        collection = f"{ASN}:{account}"
        pos: dict[str, StoredPurchaseOrder] = {}
        accepted: list[tuple[str, dict[str, Any], list[tuple[str, str, int]]]] = []
        seen_ids: set[str] = set()
        for index, confirmation in enumerate(body.get("shipmentConfirmations") or []):
            identifier = str(confirmation.get("shipmentIdentifier"))
            where = f"shipmentConfirmations[{index}] (shipment {identifier})"
            foreign_party = _foreign_selling_party(confirmation, vendor_codes, where)
            if foreign_party is not None:
                errors.append(foreign_party)
                continue
            existing = self.store.get(collection, identifier)
            replace = confirmation.get("shipmentConfirmationType") == "Replace"
            if (existing is not None and not replace) or identifier in seen_ids:
                errors.append(
                    violation(
                        "asn-unique-shipment-id",
                        where,
                        f"shipmentIdentifier {identifier} was already confirmed",
                    )
                )
                continue
            if replace and (existing is None or existing.get("received")):
                errors.append(
                    violation("asn-replace-known", where, f"no open shipment {identifier} to replace")
                )
                continue
            seen_ids.add(identifier)
            try:
                shipped = parse_iso(confirmation["shippedDate"]) if confirmation.get("shippedDate") else None
                delivery = (
                    parse_iso(confirmation["estimatedDeliveryDate"])
                    if confirmation.get("estimatedDeliveryDate")
                    else None
                )
                confirmed = parse_iso(confirmation["shipmentConfirmationDate"])
            except (ValueError, KeyError):
                errors.append(violation("asn-dates-sane", where, "a date cannot be read"))
                continue
            if shipped and delivery and delivery < shipped:
                errors.append(
                    violation("asn-dates-sane", where, "estimatedDeliveryDate is before shippedDate")
                )
                continue
            for name, moment in (("shippedDate", shipped), ("shipmentConfirmationDate", confirmed)):
                if moment is not None and moment > now + FUTURE_TOLERANCE:
                    errors.append(
                        violation("asn-dates-sane", where, f"{name} is more than 24 hours in the future")
                    )
            ship_to = (confirmation.get("shipToParty") or {}).get("partyId")
            if replace and existing is not None:
                for number, sequence, quantity in existing["lines"]:
                    po = pos.get(number) or self._load(account, number)
                    if po is not None:
                        pos[number] = po
                        po.tracking[sequence]["shipped"] -= quantity
            # Where the contract places a PO reference: shipped items' details, cartons' and pallets' items.
            references: dict[str, str | None] = {}
            for container_name in ("cartons", "pallets"):
                for c_index, container in enumerate(confirmation.get(container_name) or []):
                    for i_index, container_item in enumerate(container.get("items") or []):
                        number = (container_item.get("itemDetails") or {}).get("purchaseOrderNumber")
                        if number:
                            references.setdefault(str(container_item.get("itemReference")), number)
                            self._shipment_lines(
                                account,
                                where,
                                [(f"{container_name}[{c_index}].items[{i_index}]", number, None, None, None)],
                                ship_to,
                                errors,
                                pos,
                            )
            items = []
            for i_index, item in enumerate(confirmation.get("shippedItems") or []):
                number = (item.get("itemDetails") or {}).get("purchaseOrderNumber") or references.get(
                    str(item.get("itemSequenceNumber"))
                )
                items.append(
                    (
                        f"shippedItems[{i_index}]",
                        number,
                        item.get("amazonProductIdentifier"),
                        item.get("vendorProductIdentifier") or "",
                        item.get("shippedQuantity"),
                    )
                )
            lines = self._shipment_lines(account, where, items, ship_to, errors, pos)
            self._check_quantities(where, lines, pos, errors)
            for number, sequence, quantity in lines:
                pos[number].tracking[sequence]["shipped"] += quantity
            receive_at = delivery or ((shipped or confirmed) + RECEIVING_LEAD)
            accepted.append(
                (
                    identifier,
                    {
                        "confirmation": confirmation,
                        "lines": lines,
                        "receiveAt": iso(receive_at),
                        "received": False,
                        "createdAt": iso(now),
                    },
                    lines,
                )
            )
        if errors:
            return errors
        for po in pos.values():
            po.updated = max(po.updated, iso(now))
            self.table.put(po.to_row())
        for identifier, document, _ in accepted:
            self.store.put(collection, identifier, document)
        return []

    def _process_shipments(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        errors: list[dict[str, str]] = []
        vendor_codes = set(self._account(account).vendor_codes)
        collection = f"{SHIPMENTS}:{account}"
        pos: dict[str, StoredPurchaseOrder] = {}
        accepted: list[tuple[str, dict[str, Any]]] = []
        for index, shipment in enumerate(body.get("shipments") or []):
            identifier = str(shipment.get("vendorShipmentIdentifier"))
            where = f"shipments[{index}] (shipment {identifier})"
            foreign_party = _foreign_selling_party(shipment, vendor_codes, where)
            if foreign_party is not None:
                errors.append(foreign_party)
                continue
            existing = self.store.get(collection, identifier)
            if shipment.get("transactionType") == "Cancel":
                if existing is None:
                    errors.append(
                        violation("asn-replace-known", where, f"no shipment {identifier} to cancel")
                    )
                    continue
                accepted.append((identifier, {**existing, "cancelledAt": iso(now)}))
                continue
            if existing is not None:
                errors.append(
                    violation(
                        "asn-unique-shipment-id",
                        where,
                        f"vendorShipmentIdentifier {identifier} was already used",
                    )
                )
                continue
            try:
                parse_iso(str(shipment.get("transactionDate")))
            except ValueError:
                errors.append(violation("asn-dates-sane", where, "transactionDate cannot be read"))
                continue
            ship_to = (shipment.get("shipToParty") or {}).get("partyId")
            items: list[tuple[str, Any, Any, Any, Any]] = []
            for p_index, purchase_order in enumerate(shipment.get("purchaseOrders") or []):
                number = purchase_order.get("purchaseOrderNumber")
                po_items = purchase_order.get("items") or []
                if not po_items:
                    items.append((f"purchaseOrders[{p_index}]", number, None, None, None))
                for i_index, item in enumerate(po_items):
                    items.append(
                        (
                            f"purchaseOrders[{p_index}].items[{i_index}]",
                            number,
                            item.get("buyerProductIdentifier"),
                            item.get("vendorProductIdentifier") or "",
                            item.get("shippedQuantity"),
                        )
                    )
            lines = self._shipment_lines(account, where, items, ship_to, errors, pos)
            self._check_quantities(where, lines, pos, errors)
            accepted.append((identifier, {"shipment": shipment, "lines": lines, "createdAt": iso(now)}))
        if errors:
            return errors
        for identifier, document in accepted:
            self.store.put(collection, identifier, document)
        return []

    def _process_invoices(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        errors: list[dict[str, str]] = []
        vendor_codes = set(self._account(account).vendor_codes)
        collection = f"{INVOICES}:{account}"
        pos: dict[str, StoredPurchaseOrder] = {}
        # Accepted documents by number (a credit note may reference an invoice of the same submission), and
        # earlier invoices a credit note of this submission references (their credited quantities change).
        accepted: dict[str, dict[str, Any]] = {}
        referenced_invoices: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        for index, invoice in enumerate(body.get("invoices") or []):
            identifier = str(invoice.get("id"))
            where = f"invoices[{index}] ({invoice.get('invoiceType')} {identifier})"
            if self.store.get(collection, identifier) is not None or identifier in seen:
                errors.append(
                    violation("invoice-unique-number", where, f"invoice number {identifier} was already used")
                )
                continue
            seen.add(identifier)
            party = (invoice.get("remitToParty") or {}).get("partyId")
            if party not in vendor_codes:
                errors.append(
                    violation(
                        "invoice-remit-to", where, f"remitToParty {party} is not a vendor code of the account"
                    )
                )
                continue
            is_invoice = invoice.get("invoiceType") != "CreditNote"
            referenced: dict[str, Any] | None = None
            if not is_invoice:
                found, referenced = self._referenced_invoice(
                    collection, invoice, where, accepted, referenced_invoices, errors
                )
                if not found:
                    continue
            currency = (invoice.get("invoiceTotal") or {}).get("currencyCode")
            total = Decimal(0)
            lines: list[tuple[str, str, int]] = []
            for i_index, item in enumerate(invoice.get("items") or []):
                line_where = f"{where} items[{i_index}]"
                unit_cost = _decimal((item.get("netCost") or {}).get("amount")) or Decimal(0)
                number = item.get("purchaseOrderNumber")
                po_item = None
                unit_size = int((item.get("invoicedQuantity") or {}).get("unitSize") or 1)
                if not is_invoice:
                    if not _credit_note_references(item):
                        errors.append(
                            violation(
                                "credit-note-reference",
                                line_where,
                                "creditNoteDetails has none of " + ", ".join(CREDIT_NOTE_REFERENCES),
                            )
                        )
                        continue
                    if not number and referenced is not None:
                        number = _invoiced_purchase_order(referenced, item)
                        if number is None:
                            errors.append(
                                violation(
                                    "credit-note-quantity-within-invoiced",
                                    line_where,
                                    f"item {_item_label(item)} is not on invoice "
                                    f"{referenced['invoice'].get('id')}: invoiced 0 eaches",
                                )
                            )
                            continue
                if number:
                    po = pos.get(number) or self._load(account, number)
                    if po is None:
                        errors.append(
                            violation(
                                "invoice-po-exists", line_where, f"no purchase order {number} for this vendor"
                            )
                        )
                        continue
                    pos[number] = po
                    po_item = po.find_item(
                        None,
                        item.get("amazonProductIdentifier"),
                        item.get("vendorProductIdentifier"),
                        by_sequence=False,
                    )
                    if po_item is None:
                        errors.append(
                            violation(
                                "invoice-item-on-po",
                                line_where,
                                f"the item is not on purchase order {number}",
                            )
                        )
                        continue
                    unit_size = int(
                        (item.get("invoicedQuantity") or {}).get("unitSize")
                        or po_item["orderedQuantity"].get("unitSize")
                        or 1
                    )
                    po_cost = _decimal(po_item["netCost"]["amount"]) or Decimal(0)
                    if (item.get("netCost") or {}).get("currencyCode") != po_item["netCost"]["currencyCode"]:
                        errors.append(
                            violation(
                                "invoice-currency",
                                line_where,
                                f"{(item.get('netCost') or {}).get('currencyCode')} is not "
                                f"{po_item['netCost']['currencyCode']}",
                            )
                        )
                        continue
                    if abs(unit_cost - po_cost) > MONEY_TOLERANCE:
                        errors.append(
                            violation(
                                "invoice-net-cost",
                                line_where,
                                f"netCost {unit_cost} per each is not the purchase order's {po_cost}",
                            )
                        )
                        continue
                elif is_invoice:
                    errors.append(violation("invoice-po-exists", line_where, "no purchaseOrderNumber"))
                    continue
                quantity = eaches(item.get("invoicedQuantity"), unit_size)
                total += unit_cost * quantity
                for tax in item.get("taxDetails") or []:
                    total += _decimal((tax.get("taxAmount") or {}).get("amount")) or Decimal(0)
                for charge in item.get("chargeDetails") or []:
                    total += _decimal((charge.get("chargeAmount") or {}).get("amount")) or Decimal(0)
                for allowance in item.get("allowanceDetails") or []:
                    total -= _decimal((allowance.get("allowanceAmount") or {}).get("amount")) or Decimal(0)
                if number and po_item is not None:
                    lines.append((number, po_item["itemSequenceNumber"], quantity))
            for tax in invoice.get("taxDetails") or []:
                total += _decimal((tax.get("taxAmount") or {}).get("amount")) or Decimal(0)
            for charge in invoice.get("chargeDetails") or []:
                total += _decimal((charge.get("chargeAmount") or {}).get("amount")) or Decimal(0)
                for tax in charge.get("taxDetails") or []:
                    total += _decimal((tax.get("taxAmount") or {}).get("amount")) or Decimal(0)
            for allowance in invoice.get("allowanceDetails") or []:
                total -= _decimal((allowance.get("allowanceAmount") or {}).get("amount")) or Decimal(0)
            stated = _decimal((invoice.get("invoiceTotal") or {}).get("amount"))
            lines_count = max(1, len(invoice.get("items") or []))
            if stated is None or abs(stated - total) > MONEY_TOLERANCE * lines_count:
                errors.append(
                    violation(
                        "invoice-total",
                        where,
                        f"invoiceTotal {stated} {currency or ''} is not {total.quantize(Decimal('0.01'))}",
                    )
                )
                continue
            if not is_invoice:
                if self._credit_within_invoiced(where, lines, pos, referenced, errors):
                    accepted[identifier] = {"invoice": invoice, "lines": lines, "createdAt": iso(now)}
                continue
            totals: dict[tuple[str, str], int] = {}
            for number, sequence, quantity in lines:
                totals[(number, sequence)] = totals.get((number, sequence), 0) + quantity
            over = False
            for (number, sequence), quantity in totals.items():
                track = pos[number].tracking[sequence]
                if track["invoiced"] + quantity > track["accepted"]:
                    errors.append(
                        violation(
                            "invoice-quantity-within-accepted",
                            where,
                            f"purchase order {number} item {sequence}: invoiced {track['invoiced']} + "
                            f"{quantity} eaches exceeds accepted {track['accepted']}",
                        )
                    )
                    over = True
            if over:
                continue
            for number, sequence, quantity in lines:
                pos[number].tracking[sequence]["invoiced"] += quantity
            accepted[identifier] = {"invoice": invoice, "lines": lines, "createdAt": iso(now)}
        if errors:
            return errors
        stamp = iso(now)
        for po in pos.values():
            po.updated = max(po.updated, stamp)
            po.close_if_done(stamp)
            self.table.put(po.to_row())
        for identifier, document in referenced_invoices.items():
            self.store.put(collection, identifier, document)
        for identifier, document in accepted.items():
            self.store.put(collection, identifier, document)
        return []

    # Shipments reads -------------------------------------------------------------------------------
    def _shipment_views(self, account: str, now: datetime, only: str | None = None) -> list[dict[str, Any]]:
        """The account's ASNs and shipments as GetShipmentDetails shows them; `only` one identifier: read by
        key, no scan."""
        views = []
        stamp = iso(now)
        for identifier, document in self._shipment_documents(f"{ASN}:{account}", only):
            confirmation = document["confirmation"]
            purchase_orders: dict[str, list[dict[str, Any]]] = {}
            for number, sequence, quantity in document["lines"]:
                purchase_orders.setdefault(number, []).append(
                    {
                        "itemSequenceNumber": sequence,
                        "shippedQuantity": {"amount": quantity, "unitOfMeasure": "Eaches", "unitSize": 1},
                    }
                )
            transport: dict[str, Any] = {}
            if confirmation.get("shippedDate"):
                transport["shippedDate"] = iso(parse_iso(confirmation["shippedDate"]))
            if confirmation.get("estimatedDeliveryDate"):
                transport["estimatedDeliveryDate"] = iso(parse_iso(confirmation["estimatedDeliveryDate"]))
            if document["receiveAt"] <= stamp:
                transport["shipmentDeliveryDate"] = document["receiveAt"]
            view = {
                "vendorShipmentIdentifier": identifier,
                "transactionType": "New",
                "transactionDate": document["createdAt"],
                "currentShipmentStatus": "Shipped",
                "currentshipmentStatusDate": document["createdAt"],
                "shipmentStatusDetails": [
                    {"shipmentStatus": "Shipped", "shipmentStatusDate": document["createdAt"]}
                ],
                "shipmentCreateDate": document["createdAt"],
                "shipmentConfirmDate": document["createdAt"],
                "sellingParty": {"partyId": confirmation["sellingParty"]["partyId"]},
                "shipFromParty": {"partyId": confirmation["shipFromParty"]["partyId"]},
                "shipToParty": {"partyId": confirmation["shipToParty"]["partyId"]},
                "purchaseOrders": [
                    {"purchaseOrderNumber": n, "items": items} for n, items in purchase_orders.items()
                ],
                "transportationDetails": transport,
            }
            if confirmation.get("amazonReferenceNumber"):
                view["buyerReferenceNumber"] = str(confirmation["amazonReferenceNumber"])
            views.append(view)
        for identifier, document in self._shipment_documents(f"{SHIPMENTS}:{account}", only):
            shipment = document["shipment"]
            created = parse_iso(document["createdAt"])
            steps = [
                ("Created", created),
                ("TransportationRequested", created + timedelta(hours=1)),
                ("CarrierAssigned", created + timedelta(hours=2)),
                ("Shipped", created + timedelta(hours=24)),
            ]
            reached = [(status, at) for status, at in steps if at <= now] or steps[:1]
            view = {
                "vendorShipmentIdentifier": identifier,
                "transactionType": "Cancel" if document.get("cancelledAt") else "New",
                "transactionDate": iso(parse_iso(shipment["transactionDate"])),
                "currentShipmentStatus": reached[-1][0],
                "currentshipmentStatusDate": iso(reached[-1][1]),
                "shipmentStatusDetails": [
                    {"shipmentStatus": s, "shipmentStatusDate": iso(at)} for s, at in reached
                ],
                "shipmentCreateDate": document["createdAt"],
                "sellingParty": {"partyId": shipment["sellingParty"]["partyId"]},
                "shipFromParty": {"partyId": shipment["shipFromParty"]["partyId"]},
                "shipToParty": {"partyId": shipment["shipToParty"]["partyId"]},
                "purchaseOrders": shipment.get("purchaseOrders") or [],
            }
            if len(reached) >= 3:
                view["packageLabelCreateDate"] = iso(reached[2][1])
            if shipment.get("buyerReferenceNumber"):
                view["buyerReferenceNumber"] = shipment["buyerReferenceNumber"]
            views.append(view)
        return views

    def shipment_details(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        now = self.clock.now()
        only = query.get("vendorShipmentIdentifier")
        views = self._shipment_views(account, now, str(only) if only else None)
        date_filters = {
            "created": "shipmentCreateDate",
            "shipmentConfirmed": "shipmentConfirmDate",
            "packageLabelCreated": "packageLabelCreateDate",
            "shipped": ("transportationDetails", "shippedDate"),
            "estimatedDelivery": ("transportationDetails", "estimatedDeliveryDate"),
            "shipmentDelivery": ("transportationDetails", "shipmentDeliveryDate"),
        }

        def value(view: dict[str, Any], path: Any) -> str | None:
            if isinstance(path, tuple):
                return (view.get(path[0]) or {}).get(path[1])
            return view.get(path)

        bounds: list[tuple[Any, bool, str]] = []  # read once (and only when there is a view to filter)
        for prefix, path in date_filters.items() if views else ():
            for suffix, above in (("After", True), ("Before", False)):
                bound = query.get(prefix + suffix)
                if not bound:
                    continue
                try:
                    bounds.append((path, above, iso(parse_iso(bound))))
                except ValueError as error:
                    raise InvalidInput(f"Invalid date: {error}.") from error
        selected = []
        for view in views:
            keep = True
            for path, above, bound_text in bounds:
                found = value(view, path)
                if found is None or (found <= bound_text if above else found >= bound_text):
                    keep = False
            for name, field in (
                ("vendorShipmentIdentifier", "vendorShipmentIdentifier"),
                ("buyerReferenceNumber", "buyerReferenceNumber"),
                ("currentShipmentStatus", "currentShipmentStatus"),
            ):
                if query.get(name) and view.get(field) != query[name]:
                    keep = False
            if (
                query.get("sellerWarehouseCode")
                and view["shipFromParty"]["partyId"] != query["sellerWarehouseCode"]
            ):
                keep = False
            if (
                query.get("buyerWarehouseCode")
                and view["shipToParty"]["partyId"] != query["buyerWarehouseCode"]
            ):
                keep = False
            if keep:
                selected.append(view)
        selected.sort(
            key=lambda v: (v["shipmentCreateDate"], v["vendorShipmentIdentifier"]),
            reverse=query.get("sortOrder") == "DESC",
        )
        shipments, token = self._offset_page(selected, query, 50)
        payload: dict[str, Any] = {"shipments": shipments}
        if token:
            payload["pagination"] = {"nextToken": token}
        return payload

    def _offset_page(
        self, items: list[dict[str, Any]], query: dict[str, Any], default_limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Paging by the last returned (date, identifier): a new shipment never shifts a later page."""
        limit = int(query.get("limit") or default_limit)
        start = 0
        if query.get("nextToken"):
            state = decode_token(str(query["nextToken"]))
            last = state.get("after")
            if not isinstance(last, list):
                raise InvalidInput("The nextToken is invalid.", "Invalid nextToken.")
            keys = [
                [
                    item.get("shipmentCreateDate") or item.get("labelCreateDateTime"),
                    item.get("_id") or item.get("vendorShipmentIdentifier"),
                ]
                for item in items
            ]
            start = next((i + 1 for i, key in enumerate(keys) if key == last), len(items))
        page = items[start : start + limit]
        token = None
        if start + limit < len(items) and page:
            tail = page[-1]
            token = encode_token(
                {
                    "after": [
                        tail.get("shipmentCreateDate") or tail.get("labelCreateDateTime"),
                        tail.get("_id") or tail.get("vendorShipmentIdentifier"),
                    ]
                }
            )
        return [{k: v for k, v in item.items() if k != "_id"} for item in page], token

    def shipment_labels(self, account: str, query: dict[str, Any]) -> dict[str, Any]:
        self.tick()
        now = self.clock.now()
        labels = []
        for view in self._shipment_views(account, now):
            created = view.get("packageLabelCreateDate")
            if created is None or view["transactionType"] == "Cancel":
                continue
            identifier = view["vendorShipmentIdentifier"]
            if query.get("vendorShipmentIdentifier") and identifier != query["vendorShipmentIdentifier"]:
                continue
            if (
                query.get("buyerReferenceNumber")
                and view.get("buyerReferenceNumber") != query["buyerReferenceNumber"]
            ):
                continue
            if (
                query.get("sellerWarehouseCode")
                and view["shipFromParty"]["partyId"] != query["sellerWarehouseCode"]
            ):
                continue
            try:
                if query.get("labelCreatedAfter") and created <= iso(parse_iso(query["labelCreatedAfter"])):
                    continue
                if query.get("labelCreatedBefore") and created >= iso(parse_iso(query["labelCreatedBefore"])):
                    continue
            except ValueError as error:
                raise InvalidInput(f"Invalid date: {error}.") from error
            tracking = "1Z" + str(abs(hash(identifier)) % 10**16).zfill(16)
            label = {
                "_id": identifier,
                "labelCreateDateTime": created,
                "shipmentInformation": {
                    "vendorDetails": {
                        "sellingParty": view["sellingParty"],
                        "vendorShipmentIdentifier": identifier,
                    },
                    "shipToParty": view["shipToParty"],
                    "shipFromParty": view["shipFromParty"],
                    "warehouseId": view["shipFromParty"]["partyId"],
                    "masterTrackingId": tracking,
                    "totalLabelCount": 1,
                    "shipMode": "SmallParcel",
                },
                "labelData": [
                    {
                        "labelSequenceNumber": 1,
                        "labelFormat": "PDF",
                        "carrierCode": "UPSN",
                        "trackingId": tracking,
                        "label": base64.b64encode(f"%PDF-1.4 label {identifier}".encode()).decode(),
                    }
                ],
            }
            if view.get("buyerReferenceNumber"):
                label["shipmentInformation"]["buyerReferenceNumber"] = view["buyerReferenceNumber"]
            labels.append(label)
        labels.sort(
            key=lambda v: (v["labelCreateDateTime"], v["_id"]), reverse=query.get("sortOrder") == "DESC"
        )
        page, token = self._offset_page(labels, query, 50)
        payload: dict[str, Any] = {"transportLabels": page}
        if token:
            payload["pagination"] = {"nextToken": token}
        return payload

    # Admin -----------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.seed_world()

    def catalogue(self, account: str) -> list[dict[str, Any]]:
        return self._builder(self._account(account)).catalogue()

    # Credit notes ----------------------------------------------------------------------------------
    def _referenced_invoice(
        self,
        collection: str,
        invoice: dict[str, Any],
        where: str,
        batch: dict[str, dict[str, Any]],
        loaded: dict[str, dict[str, Any]],
        errors: list[dict[str, str]],
    ) -> tuple[bool, dict[str, Any] | None]:
        """The credit-note-invoice-exists rule: the one invoice a credit note's items reference, if any (an
        earlier Invoice of the account, or one of the same submission); False when the rule is broken."""
        numbers = sorted(
            {
                str(reference)
                for item in invoice.get("items") or []
                if (reference := (item.get("creditNoteDetails") or {}).get("referenceInvoiceNumber"))
            }
        )
        if not numbers:
            return True, None
        if len(numbers) > 1:
            errors.append(
                violation(
                    "credit-note-invoice-exists",
                    where,
                    f"referenceInvoiceNumber names {', '.join(numbers)}: one invoice only per credit note",
                )
            )
            return False, None
        number = numbers[0]
        document = batch.get(number) or loaded.get(number)
        if document is None:
            document = self.store.get(collection, number)
            if document is not None:
                loaded[number] = document
        if document is None or document["invoice"].get("invoiceType") == "CreditNote":
            errors.append(
                violation(
                    "credit-note-invoice-exists",
                    where,
                    f"referenceInvoiceNumber {number} is not an invoice of this vendor",
                )
            )
            return False, None
        return True, document

    def _credit_within_invoiced(
        self,
        where: str,
        lines: list[tuple[str, str, int]],
        pos: dict[str, StoredPurchaseOrder],
        referenced: dict[str, Any] | None,
        errors: list[dict[str, str]],
    ) -> bool:
        """The credit-note-quantity-within-invoiced rule; when it holds, the credited quantities are booked on
        the purchase orders (and on the referenced invoice)."""
        totals: dict[tuple[str, str], int] = {}
        broken = False
        for number, sequence, quantity in lines:
            totals[(number, sequence)] = totals.get((number, sequence), 0) + quantity
            if quantity <= 0:
                errors.append(
                    violation(
                        "credit-note-quantity-within-invoiced",
                        where,
                        f"purchase order {number} item {sequence}: credited {quantity} eaches is not "
                        "positive",
                    )
                )
                broken = True
        if broken:
            return False
        on_invoice: dict[tuple[str, str], int] = {}
        if referenced is not None:
            for number, sequence, quantity in referenced["lines"]:
                on_invoice[(number, sequence)] = on_invoice.get((number, sequence), 0) + quantity
        for (number, sequence), quantity in totals.items():
            track = pos[number].tracking[sequence]
            credited = int(track.get("credited", 0))
            label = f"purchase order {number} item {sequence}"
            if credited + quantity > track["invoiced"]:
                detail = f"credited {credited} + {quantity} eaches exceeds invoiced {track['invoiced']}"
            elif referenced is not None:
                key = f"{number}/{sequence}"
                already = int((referenced.get("credited") or {}).get(key, 0))
                limit = on_invoice.get((number, sequence), 0)
                if already + quantity <= limit:
                    continue
                detail = (
                    f"credited {already} + {quantity} eaches exceeds the {limit} invoiced on invoice "
                    f"{referenced['invoice'].get('id')}"
                )
            else:
                continue
            errors.append(violation("credit-note-quantity-within-invoiced", where, f"{label}: {detail}"))
            broken = True
        if broken:
            return False
        for (number, sequence), quantity in totals.items():
            track = pos[number].tracking[sequence]
            track["credited"] = int(track.get("credited", 0)) + quantity
            if referenced is not None:
                credited_on_invoice = referenced.setdefault("credited", {})
                key = f"{number}/{sequence}"
                credited_on_invoice[key] = int(credited_on_invoice.get(key, 0)) + quantity
        return True

    def _shipment_documents(self, collection: str, only: str | None) -> list[tuple[str, dict[str, Any]]]:
        """A collection's shipment documents, or only the one with that identifier (a read by key)."""
        if only is None:
            return list(self.store.scan(collection))
        document = self.store.get(collection, only)
        return [] if document is None else [(only, document)]

    # Receiving index -------------------------------------------------------------------------------
    # The shipment confirmations still being received, per account ({identifier: receiveAt}), and when the
    # earliest of them is due: a tick with nothing due reads one small document, never the ASNs.
    def _confirm_shipments(self, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
        """SubmitShipmentConfirmations' processor: the rules, then accepted ASNs join the receiving index."""
        errors = self._process_shipment_confirmations(account, body, now)
        if errors:
            return errors
        collection = f"{ASN}:{account}"
        due: dict[str, str] = {}
        for confirmation in body.get("shipmentConfirmations") or []:
            identifier = str(confirmation.get("shipmentIdentifier"))
            document = self.store.get(collection, identifier)
            if document is not None and not document.get("received"):
                due[identifier] = document["receiveAt"]
        if due:
            self._index_receipts(account, due)
        return errors

    def receiving_pending(self, account: str) -> dict[str, str]:
        """The account's shipment confirmations still to be received, with the time each is due."""
        self._receiving_due()
        document = self.store.get(RECEIVING, account)
        return dict((document or {}).get("pending") or {})

    def _receiving_due(self) -> dict[str, Any]:
        """The index header ({"next": earliest due time or None}); built once from the ASNs when missing (a
        fresh store, or one written before the index existed)."""
        header = self.store.get(*RECEIVING_DUE)
        if header is not None:
            return header
        earliest: str | None = None
        for account in self.accounts.accounts.values():
            pending = {
                key: asn["receiveAt"]
                for key, asn in self.store.scan(f"{ASN}:{account.name}")
                if not asn.get("received")
            }
            self.store.put(RECEIVING, account.name, {"pending": pending})
            if pending:
                soonest = min(pending.values())
                earliest = soonest if earliest is None else min(earliest, soonest)
        header = {"next": earliest}
        self.store.put(*RECEIVING_DUE, header)
        return header

    def _index_receipts(self, account: str, due: dict[str, str]) -> None:
        header = self._receiving_due()
        document = self.store.get(RECEIVING, account) or {}
        pending = {**(document.get("pending") or {}), **due}
        self.store.put(RECEIVING, account, {"pending": pending})
        soonest = min(due.values())
        if header.get("next") is None or soonest < header["next"]:
            self.store.put(*RECEIVING_DUE, {"next": soonest})

    def _receive(self, account: str, identifier: str, stamp: str) -> str | None:
        """Receive one shipment confirmation if it is due: None once it is received (or gone), else the time
        it is due (its document is the authority: a Replace may have moved it)."""
        collection = f"{ASN}:{account}"
        asn = self.store.get(collection, identifier)
        if asn is None or asn.get("received"):
            return None
        if asn["receiveAt"] > stamp:
            return str(asn["receiveAt"])
        touched: dict[str, StoredPurchaseOrder] = {}
        for number, sequence, quantity in asn["lines"]:
            po = touched.get(number) or self._load(account, number)
            if po is None:
                continue
            touched[number] = po
            track = po.tracking[sequence]
            track["received"] = min(track["shipped"], track["received"] + quantity)
            track["lastReceiveDate"] = asn["receiveAt"]
            po.updated = max(po.updated, asn["receiveAt"])
        for po in touched.values():
            po.close_if_done(asn["receiveAt"])
            self.table.put(po.to_row())
        asn["received"] = True
        self.store.put(collection, identifier, asn)
        return None


def _foreign_selling_party(
    document: dict[str, Any], vendor_codes: set[str], where: str
) -> dict[str, str] | None:
    """The asn-selling-party rule, shared by shipment confirmations and shipments."""
    party = (document.get("sellingParty") or {}).get("partyId")
    if party in vendor_codes:
        return None
    return violation("asn-selling-party", where, f"sellingParty {party} is not a vendor code of the account")


# Receiving index: the pending shipment confirmations per account, and when the next one is due.
RECEIVING = "retail.receiving"
RECEIVING_DUE = ("retail.receiving-due", "next")
# The creditNoteDetails references of Amazon's model, one of which every credit note item must give.
CREDIT_NOTE_REFERENCES = (
    "referenceInvoiceNumber",
    "returnsReferenceNumber",
    "coopReferenceNumber",
    "debitNoteNumber",
)


def _credit_note_references(item: dict[str, Any]) -> bool:
    """The credit-note-reference rule for one item."""
    details = item.get("creditNoteDetails") or {}
    return any(details.get(name) for name in CREDIT_NOTE_REFERENCES)


def _item_label(item: dict[str, Any]) -> str:
    return str(item.get("amazonProductIdentifier") or item.get("vendorProductIdentifier"))


def _invoiced_purchase_order(referenced: dict[str, Any], item: dict[str, Any]) -> str | None:
    """The PO under which the referenced invoice billed the item (by ASIN, else vendor SKU), if it did."""
    for field in ("amazonProductIdentifier", "vendorProductIdentifier"):
        wanted = item.get(field)
        if not wanted:
            continue
        for line in referenced["invoice"].get("items") or []:
            if line.get(field) == wanted and line.get("purchaseOrderNumber"):
                return str(line["purchaseOrderNumber"])
    return None
