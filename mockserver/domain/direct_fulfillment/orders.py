"""A Direct Fulfillment order as stored (Amazon's Order document, version-neutral, and what happened to it
since), its view in each API version, and the reads: getOrders and getOrder in v1 and 2021-12-28.

v1 and 2021-12-28 serve the same orders; 2021-12-28 adds `orderStatus` (NEW, ACCEPTED, SHIPPED, CANCELLED),
v1 has none. Listings need a creation window of at most 7 days (Amazon's limit for DF listings) and page
with a nextToken that carries the listing's filters and the last key returned (domain/paging.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mockserver.domain.clock import iso, parse_iso
from mockserver.domain.errors import InvalidInput, NotFound
from mockserver.domain.paging import invalid_next_token, keyset_page, listing_state
from mockserver.store.base import copy_document
from mockserver.store.df_orders import DfOrderQuery, DfOrderRow, DfOrderTable

V1 = "v1"
V2021 = "2021-12-28"
STATUSES = ("NEW", "ACCEPTED", "SHIPPED", "CANCELLED")
MAX_WINDOW = timedelta(days=7)
DEFAULT_LIMIT = 100
_INVALID_MESSAGE = "The input you have submitted is not valid. Please check your input and try again."


def new_track(customer_invoice: bool) -> dict[str, Any]:
    return {
        "acknowledgement": None,  # {"code", "description", "at", "vendorOrderNumber"}
        "label": None,  # the shipping label Amazon issued: {"createdAt", "trackingNumbers": [...]}
        "shipment": None,  # {"at", "status", "trackingNumbers", "ownCarrier", "items": {sequence: eaches}}
        "statusUpdates": [],
        "invoiced": {},  # {sequence: eaches}
        "cancelled": None,  # {"by": "amazon" | "vendor", "at", "code"}
        "customerInvoice": customer_invoice,
    }


@dataclass
class StoredDfOrder:
    """A Direct Fulfillment order as stored: Amazon's Order document, its status and its `track` since."""

    account: str
    status: str
    order: dict[str, Any]
    track: dict[str, Any]

    @property
    def number(self) -> str:
        return str(self.order["purchaseOrderNumber"])

    @property
    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = self.order["orderDetails"]
        return details

    @property
    def vendor_code(self) -> str:
        return str(self.details["sellingParty"]["partyId"])

    @property
    def warehouse(self) -> str:
        return str(self.details["shipFromParty"]["partyId"])

    @property
    def created(self) -> str:
        return str(self.details["orderDate"])

    @property
    def items(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.details["items"]
        return items

    @property
    def has_packing_slip(self) -> bool:
        return bool(self.details["shipmentDetails"].get("isPslipRequired")) and self.status != "CANCELLED"

    @property
    def has_customer_invoice(self) -> bool:
        return bool(self.track.get("customerInvoice")) and self.status != "CANCELLED"

    def item(self, sequence: Any, asin: Any = None, sku: Any = None) -> dict[str, Any] | None:
        """The order item a document line names: by sequence number, else by ASIN or vendor SKU."""
        if sequence is not None:
            for item in self.items:
                if item["itemSequenceNumber"] == str(sequence):
                    return item
            return None
        for item in self.items:
            if (asin and item.get("buyerProductIdentifier") == asin) or (
                sku and item.get("vendorProductIdentifier") == sku
            ):
                return item
        return None

    # Persistence -------------------------------------------------------------------------------------
    def to_row(self) -> DfOrderRow:
        """The row to store; its document holds this order's own dicts (not copies)."""
        return DfOrderRow(
            self.account,
            self.number,
            self.created,
            self.status,
            self.warehouse,
            self.has_packing_slip,
            self.has_customer_invoice,
            {"order": self.order, "track": self.track, "status": self.status},
        )

    @classmethod
    def from_row(cls, row: DfOrderRow) -> StoredDfOrder:
        """A read-only view of a stored row (its dicts are the table's own)."""
        return cls(row.account, row.status, row.document["order"], row.document["track"])

    @classmethod
    def editable(cls, row: DfOrderRow) -> StoredDfOrder:
        """A private copy, to change and store anew."""
        document = copy_document(row.document)
        return cls(row.account, row.status, document["order"], document["track"])

    # Views -------------------------------------------------------------------------------------------
    def view(self, version: str, include_details: bool = True) -> dict[str, Any]:
        if not include_details:
            return {"purchaseOrderNumber": self.number}
        if version == V1:
            return self.order
        return {
            "purchaseOrderNumber": self.number,
            "orderDetails": {**self.details, "orderStatus": self.status},
        }


def load(table: DfOrderTable, account: str, number: str) -> StoredDfOrder | None:
    """The account's order as a private copy (another account's is indistinguishable from none)."""
    row = table.get(number)
    if row is None or row.account != account:
        return None
    return StoredDfOrder.editable(row)


def view(table: DfOrderTable, account: str, number: str) -> StoredDfOrder | None:
    row = table.get(number)
    if row is None or row.account != account:
        return None
    return StoredDfOrder.from_row(row)


def get_order(table: DfOrderTable, account: str, number: str, version: str) -> dict[str, Any]:
    order = view(table, account, number)
    if order is None:
        raise NotFound(f"No purchase order {number}.")
    return order.view(version)


def invalid(details: str) -> InvalidInput:
    return InvalidInput(details, _INVALID_MESSAGE)


def creation_window(query: dict[str, Any], max_window: timedelta | None = MAX_WINDOW) -> tuple[str, str]:
    """createdAfter and createdBefore as fixed-width UTC text: both given, in order, and (for the listings
    Amazon limits so) at most 7 days apart."""
    try:
        after = parse_iso(str(query["createdAfter"]))
        before = parse_iso(str(query["createdBefore"]))
    except (KeyError, ValueError) as error:
        raise invalid("createdAfter and createdBefore must both be ISO 8601 date-times.") from error
    if before <= after:
        raise invalid("createdBefore must be later than createdAfter.")
    if max_window is not None and before - after > max_window:
        raise invalid("The range between createdAfter and createdBefore must not be more than 7 days.")
    return iso(after), iso(before)


def listing(
    query: dict[str, Any],
    kind: str,
    account: str,
    extra: tuple[str, ...] = (),
    max_window: timedelta | None = MAX_WINDOW,
) -> dict[str, Any]:
    """A listing's filters with its window checked; a nextToken carries them (the first page's window)."""
    carried = listing_state(query.get("nextToken"), kind, account)
    if carried is not None:
        return carried
    after, before = creation_window(query, max_window)
    state: dict[str, Any] = {"kind": kind, "account": account, "createdAfter": after, "createdBefore": before}
    for name in ("shipFromPartyId", "sortOrder", *extra):
        if query.get(name) not in (None, ""):
            state[name] = str(query[name])
    return state


def page(
    table: DfOrderTable,
    state: dict[str, Any],
    limit: int,
    *,
    status: str | None = None,
    packing_slip: bool | None = None,
    customer_invoice: bool | None = None,
) -> tuple[list[StoredDfOrder], str | None]:
    after = state.get("after")
    try:
        query = DfOrderQuery(
            account=str(state["account"]),
            created_after=str(state["createdAfter"]),
            created_before=str(state["createdBefore"]),
            limit=limit + 1,
            descending=state.get("sortOrder") == "DESC",
            after=(str(after[0]), str(after[1])) if after else None,
            status=status,
            ship_from=state.get("shipFromPartyId"),
            packing_slip=packing_slip,
            customer_invoice=customer_invoice,
        )
    except (TypeError, IndexError, KeyError) as error:
        raise invalid_next_token() from error
    rows, token = keyset_page(table.query(query), limit, _sort_key, state)
    return [StoredDfOrder.from_row(row) for row in rows], token


def _sort_key(row: DfOrderRow) -> tuple[str, str]:
    return row.sort_key


def limit_of(query: dict[str, Any]) -> int:
    return int(query.get("limit") or DEFAULT_LIMIT)


def list_orders(table: DfOrderTable, account: str, query: dict[str, Any], version: str) -> dict[str, Any]:
    state = listing(query, f"df-orders:{version}", account, extra=("status", "includeDetails"))
    orders, token = page(table, state, limit_of(query), status=state.get("status"))
    include = str(state.get("includeDetails", "true")).lower() != "false"
    payload: dict[str, Any] = {"orders": [order.view(version, include) for order in orders]}
    if token:
        payload["pagination"] = {"nextToken": token}
    return payload
