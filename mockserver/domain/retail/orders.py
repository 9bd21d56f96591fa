"""Reading purchase orders: getPurchaseOrders, getPurchaseOrdersStatus and getPurchaseOrder, with every filter
and stable nextToken paging (domain/paging.py) over the purchase-order table."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from mockserver.domain.clock import iso, parse_iso
from mockserver.domain.errors import InvalidInput, NotFound
from mockserver.domain.paging import invalid_next_token, keyset_page, listing_state
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder
from mockserver.domain.retail.state import RetailState
from mockserver.store.purchase_orders import PurchaseOrderQuery, PurchaseOrderRow

DEFAULT_WINDOW = timedelta(days=7)


def get_purchase_order(state: RetailState, account: str, number: str) -> dict[str, Any]:
    po = state.view(account, number)
    if po is None:
        raise NotFound(f"No purchase order {number}.")
    return po.order_view()


def list_purchase_orders(
    state: RetailState, account: str, query: dict[str, Any], now: datetime
) -> dict[str, Any]:
    listing = _listing(account, query, "orders", now)
    limit = int(query.get("limit") or listing.get("limit") or 100)
    pos, token = _page(state, _query(account, listing, limit), listing, limit)
    include = str(listing.get("includeDetails", "true")).lower() != "false"
    payload: dict[str, Any] = {"orders": [po.order_view(include) for po in pos]}
    if token:
        payload["pagination"] = {"nextToken": token}
    return payload


def list_purchase_order_statuses(
    state: RetailState, account: str, query: dict[str, Any], now: datetime
) -> dict[str, Any]:
    listing = _listing(account, query, "status", now)
    limit = int(query.get("limit") or listing.get("limit") or 100)
    pos, token = _page(state, _query(account, listing, limit), listing, limit)
    payload: dict[str, Any] = {"ordersStatus": [po.status_view() for po in pos]}
    if token:
        payload["pagination"] = {"nextToken": token}
    return payload


def _page(
    state: RetailState, query: PurchaseOrderQuery, listing: dict[str, Any], limit: int
) -> tuple[list[StoredPurchaseOrder], str | None]:
    rows, token = keyset_page(state.table.query(query), limit, _sort_key, listing)
    return [StoredPurchaseOrder.from_row(row) for row in rows], token


def _sort_key(row: PurchaseOrderRow) -> tuple[str, str]:
    return row.sort_key


def window(
    filters: dict[str, Any], after: str, before: str, now: datetime, default: bool
) -> tuple[str | None, str | None]:
    """A listing's date window as fixed-width UTC text; with `default`, the last 7 days up to now."""
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
        raise InvalidInput(f"{before} must be later than {after}.", f"{before} must be later than {after}.")
    return low_text, high_text


def _listing(account: str, query: dict[str, Any], kind: str, now: datetime) -> dict[str, Any]:
    """The filters of a listing, with defaults resolved; a nextToken carries them, so every page of one
    listing reads the same window (new POs arriving meanwhile never shift a page)."""
    carried = listing_state(query.get("nextToken"), kind, account)
    if carried is not None:
        return carried
    state = {key: value for key, value in query.items() if key not in ("nextToken", "limit")}
    state.update(kind=kind, account=account)
    if kind == "orders":
        dated = any(query.get(name) for name in ("changedAfter", "changedBefore"))
        low, high = window(query, "createdAfter", "createdBefore", now, default=not dated)
        state["createdAfter"], state["createdBefore"] = low, high
        state["changedAfter"], state["changedBefore"] = window(
            query, "changedAfter", "changedBefore", now, default=False
        )
    else:
        dated = any(query.get(name) for name in ("updatedAfter", "updatedBefore", "purchaseOrderNumber"))
        state["createdAfter"], state["createdBefore"] = window(
            query, "createdAfter", "createdBefore", now, default=not dated
        )
        state["updatedAfter"], state["updatedBefore"] = window(
            query, "updatedAfter", "updatedBefore", now, default=False
        )
    return state


def _query(account: str, state: dict[str, Any], limit: int) -> PurchaseOrderQuery:
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
        raise invalid_next_token() from error
