"""What the admin API shows of an account's world (`/_sandbox/world/...`, and so the inspector): purchase
orders by state with their documents and history, shipments and receiving, invoices, transactions with their
errors, Direct Fulfillment orders, and any other collection of the account (reports, as they land).

Plain functions over the `Sandbox`: read through the same store, tables and collection names the domain
uses, never changing anything (no tick: looking must not move the world).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from mockserver.chaos.submissions import submitted_documents
from mockserver.domain.clock import iso_seconds
from mockserver.domain.direct_fulfillment import state as df_state
from mockserver.domain.retail import state as retail_state
from mockserver.store.df_orders import DfOrderQuery, DfOrderRow
from mockserver.store.purchase_orders import PurchaseOrderQuery, PurchaseOrderRow

if TYPE_CHECKING:
    from mockserver.app import Sandbox
    from mockserver.domain.transactions import TransactionLog

PO_STATES = ("New", "Acknowledged", "Closed")
DF_STATUSES = ("NEW", "ACCEPTED", "SHIPPED", "CANCELLED")
COUNT_CAP = 1000  # counts by state stop here ("1000+"): a summary must stay quick at 100,000 orders
_END = "\uffff"
# The collections of an account the summary names; any other `<collection>:<account>` is listed as found.
KNOWN_COLLECTIONS = (
    retail_state.ASN,
    retail_state.SHIPMENTS,
    retail_state.INVOICES,
    df_state.LABELS,
    df_state.CONTAINER_LABELS,
    df_state.INVOICES,
)


def account_profile(sandbox: Sandbox, account: str) -> dict[str, Any]:
    vendor = sandbox.accounts.accounts[account]
    return {
        "name": vendor.name,
        "region": vendor.region,
        "read_only": vendor.read_only,
        "selling_partner_id": vendor.selling_partner_id,
        "vendor_codes": list(vendor.vendor_codes),
        "marketplace_ids": list(vendor.marketplace_ids),
    }


def _capped(rows: list[Any]) -> dict[str, Any]:
    return {"count": min(len(rows), COUNT_CAP), "more": len(rows) > COUNT_CAP}


def world_summary(sandbox: Sandbox, account: str) -> dict[str, Any]:
    store = sandbox.store
    purchase_orders = {
        state: _capped(
            sandbox.purchase_orders.query(
                PurchaseOrderQuery(account=account, state=state, limit=COUNT_CAP + 1)
            )
        )
        for state in PO_STATES
    }
    df_orders = {
        status: _capped(
            sandbox.df_orders.query(
                DfOrderQuery(
                    account, created_after="", created_before=_END, status=status, limit=COUNT_CAP + 1
                )
            )
        )
        for status in DF_STATUSES
    }
    receiving = store.get(retail_state.RECEIVING, account) or {}
    return {
        "account": account_profile(sandbox, account),
        "clock": sandbox.clock.describe(),
        "purchase_orders": {"total": sandbox.purchase_orders.count(account), "by_state": purchase_orders},
        "shipment_confirmations": store.count(f"{retail_state.ASN}:{account}"),
        "receiving": len(receiving.get("pending") or {}),
        "shipments": store.count(f"{retail_state.SHIPMENTS}:{account}"),
        "invoices": store.count(f"{retail_state.INVOICES}:{account}"),
        "transactions": {
            family: _status_counts(log, account) for family, log in _transaction_logs(sandbox).items()
        },
        "df_orders": {"total": sandbox.df_orders.count(account), "by_status": df_orders},
        "df_labels": store.count(f"{df_state.LABELS}:{account}"),
        "df_invoices": store.count(f"{df_state.INVOICES}:{account}"),
        "other_collections": other_collections(sandbox, account),
    }


def other_collections(sandbox: Sandbox, account: str) -> list[dict[str, Any]]:
    """The account's collections the summary does not name (another family's documents, reports...)."""
    suffix = f":{account}"
    known = {f"{name}{suffix}" for name in KNOWN_COLLECTIONS}
    return [
        {"collection": name, "count": sandbox.store.count(name)}
        for name in sandbox.store.collections()
        if name.endswith(suffix) and name not in known
    ]


def collection_documents(sandbox: Sandbox, account: str, collection: str, limit: int) -> list[dict[str, Any]]:
    """The documents of one of the account's collections (`<collection>:<account>`), by key."""
    found = []
    for key, document in sandbox.store.scan(f"{collection}:{account}"):
        found.append({"key": key, "document": document})
        if len(found) >= limit:
            break
    return found


# Purchase orders ------------------------------------------------------------------------------------------
def _cursor(key: tuple[str, str] | None) -> str | None:
    return None if key is None else f"{key[0]}|{key[1]}"


def parse_cursor(text: str | None) -> tuple[str, str] | None:
    if not text:
        return None
    created, _, number = text.partition("|")
    if not created or not number:
        raise ValueError("after must be a cursor this API returned (created|number)")
    return created, number


def _po_summary(row: PurchaseOrderRow) -> dict[str, Any]:
    details = row.document["order"]["orderDetails"]
    return {
        "number": row.number,
        "state": row.state,
        "type": details.get("purchaseOrderType"),
        "created": row.created,
        "updated": row.updated,
        "changed": row.changed,
        "vendor_code": row.vendor_code,
        "ship_to": row.ship_to,
        "items": len(details.get("items") or []),
        "confirmation": [status for status in row.confirmation.split(",") if status],
        "receiving": [status for status in row.receiving.split(",") if status],
        "window": details.get("shipWindow") or details.get("deliveryWindow"),
    }


def purchase_order_page(
    sandbox: Sandbox, account: str, state: str | None, limit: int, after: tuple[str, str] | None
) -> dict[str, Any]:
    """Newest first."""
    rows = sandbox.purchase_orders.query(
        PurchaseOrderQuery(account=account, state=state, limit=limit + 1, descending=True, after=after)
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "purchase_orders": [_po_summary(row) for row in rows],
        "next": _cursor(rows[-1].sort_key) if more and rows else None,
    }


def purchase_order_detail(sandbox: Sandbox, account: str, number: str) -> dict[str, Any] | None:
    row = sandbox.purchase_orders.get(number)
    if row is None or row.account != account:
        return None
    store = sandbox.store
    confirmations = _documents_on(store.scan(f"{retail_state.ASN}:{account}"), number)
    shipments = _documents_on(store.scan(f"{retail_state.SHIPMENTS}:{account}"), number)
    invoices = _documents_on(store.scan(f"{retail_state.INVOICES}:{account}"), number)
    transactions = [
        item
        for item in account_transactions(sandbox, account, family="retail")
        if _mentions(item.pop("body", None), number)
    ]
    return {
        **_po_summary(row),
        "order": row.document["order"],
        "tracking": row.document["tracking"],
        "documents": {
            "shipment_confirmations": confirmations,
            "shipments": shipments,
            "invoices": invoices,
        },
        "transactions": transactions,
        "history": _po_history(row, confirmations, invoices),
    }


def _documents_on(documents: Iterable[tuple[str, dict[str, Any]]], number: str) -> list[dict[str, Any]]:
    """The documents with a line on purchase order `number` (lines: [number, item sequence, eaches])."""
    return [
        {"identifier": key, **document}
        for key, document in documents
        if any(line[0] == number for line in document.get("lines") or [])
    ]


def _po_history(
    row: PurchaseOrderRow, confirmations: list[dict[str, Any]], invoices: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """What happened to the PO, on the sandbox clock, oldest first."""
    details = row.document["order"]["orderDetails"]
    events: list[tuple[str, str]] = [(row.created, f"created ({details.get('purchaseOrderType')})")]
    for sequence, track in sorted(row.document["tracking"].items()):
        if track.get("acknowledgedAt"):
            events.append(
                (
                    track["acknowledgedAt"],
                    f"item {sequence} acknowledged: {track['accepted']} accepted, "
                    f"{track['rejected']} rejected",
                )
            )
        if track.get("cancelledAt"):
            events.append((track["cancelledAt"], f"item {sequence}: Amazon cancelled {track['cancelled']}"))
        if track.get("lastReceiveDate"):
            events.append(
                (
                    track["lastReceiveDate"],
                    f"item {sequence} received: {track['received']} of {track['shipped']}",
                )
            )
    for confirmation in confirmations:
        events.append(
            (confirmation.get("createdAt", ""), f"shipment confirmation {confirmation['identifier']}")
        )
    for invoice in invoices:
        kind = (invoice.get("invoice") or {}).get("invoiceType", "Invoice")
        events.append((invoice.get("createdAt", ""), f"{kind} {invoice['identifier']}"))
    if details.get("purchaseOrderChangedDate"):
        events.append((details["purchaseOrderChangedDate"], "changed by Amazon"))
    if details.get("purchaseOrderStateChangedDate"):
        events.append((details["purchaseOrderStateChangedDate"], f"now {row.state}"))
    return [{"at": at, "event": event} for at, event in sorted(events) if at]


def _mentions(body: Any, number: str) -> bool:
    """Whether a submitted body names purchase order `number` anywhere."""
    if isinstance(body, dict):
        if body.get("purchaseOrderNumber") == number:
            return True
        return any(_mentions(value, number) for value in body.values())
    if isinstance(body, list):
        return any(_mentions(value, number) for value in body)
    return False


# Transactions ---------------------------------------------------------------------------------------------
def _transaction_logs(sandbox: Sandbox) -> dict[str, TransactionLog]:
    return {
        "retail": sandbox.retail.transactions,
        "direct_fulfillment": sandbox.direct_fulfillment.transactions,
    }


def _status_counts(log: TransactionLog, account: str) -> dict[str, int]:
    counts = {"Processing": 0, "Success": 0, "Failure": 0}
    for _, document in log.store.scan(log.collection):
        if document.get("account") == account:
            status = str(document.get("status"))
            counts[status] = counts.get(status, 0) + 1
    return counts


def _transaction(family: str, transaction_id: str, document: dict[str, Any]) -> dict[str, Any]:
    errors = list(document.get("errors") or [])
    submitted = document.get("submitted_at")
    return {
        "transaction_id": transaction_id,
        "family": family,
        "kind": document.get("kind"),
        "status": document.get("status"),
        "submitted": iso_seconds(int(submitted)) if isinstance(submitted, int | float) else None,
        "documents": submitted_documents(None, "", document.get("body")),
        "errors": errors,
        "rules": broken_rules(errors),
        "duplicate_of": document.get("duplicate_of"),
        "body": document.get("body"),
        "result": document.get("result"),
    }


def broken_rules(errors: Iterable[dict[str, Any]]) -> list[str]:
    """The rules named in a Failure's errors (details "<document>: rule <name>: <what>")."""
    rules = []
    for error in errors:
        details = str(error.get("details") or "")
        if ": rule " in details:
            rules.append(details.split(": rule ", 1)[1].split(":", 1)[0])
        elif error.get("code") == "DUPLICATE_TRANSACTION" and "rule duplicate-submission" in details:
            rules.append("duplicate-submission")
    return rules


def account_transactions(
    sandbox: Sandbox, account: str, *, family: str | None = None, status: str | None = None
) -> Iterator[dict[str, Any]]:
    """The account's transactions, newest first (by the moment each was submitted), bodies included."""
    found: list[tuple[float, dict[str, Any]]] = []
    for name, log in _transaction_logs(sandbox).items():
        if family is not None and name != family:
            continue
        for transaction_id, document in log.store.scan(log.collection):
            if document.get("account") != account:
                continue
            if status is not None and document.get("status") != status:
                continue
            submitted_at = document.get("submitted_at")
            moment = float(submitted_at) if isinstance(submitted_at, int | float) else 0.0
            found.append((moment, _transaction(name, transaction_id, document)))
    found.sort(key=lambda pair: pair[0], reverse=True)
    for _, item in found:
        yield item


def transaction_detail(sandbox: Sandbox, account: str, transaction_id: str) -> dict[str, Any] | None:
    for name, log in _transaction_logs(sandbox).items():
        document = log.store.get(log.collection, transaction_id)
        if document is not None and document.get("account") == account:
            return _transaction(name, transaction_id, document)
    return None


# Shipments, receiving and invoices ------------------------------------------------------------------------
def shipments(sandbox: Sandbox, account: str, limit: int) -> dict[str, Any]:
    store = sandbox.store
    pending = (store.get(retail_state.RECEIVING, account) or {}).get("pending") or {}
    confirmations = [
        {
            "identifier": key,
            "created": document.get("createdAt"),
            "receive_at": document.get("receiveAt"),
            "received": bool(document.get("received")),
            "receiving": key in pending,
            "type": (document.get("confirmation") or {}).get("shipmentConfirmationType"),
            "purchase_orders": sorted({line[0] for line in document.get("lines") or []}),
            "confirmation": document.get("confirmation"),
        }
        for key, document in store.scan(f"{retail_state.ASN}:{account}")
    ]
    submitted = [
        {
            "identifier": key,
            "created": document.get("createdAt"),
            "cancelled": document.get("cancelledAt"),
            "purchase_orders": sorted({line[0] for line in document.get("lines") or []}),
            "shipment": document.get("shipment"),
        }
        for key, document in store.scan(f"{retail_state.SHIPMENTS}:{account}")
    ]
    confirmations.sort(key=lambda item: item["created"] or "", reverse=True)
    submitted.sort(key=lambda item: item["created"] or "", reverse=True)
    return {"shipment_confirmations": confirmations[:limit], "shipments": submitted[:limit]}


def invoices(sandbox: Sandbox, account: str, limit: int) -> list[dict[str, Any]]:
    found = [
        {
            "identifier": key,
            "created": document.get("createdAt"),
            "type": (document.get("invoice") or {}).get("invoiceType"),
            "total": (document.get("invoice") or {}).get("invoiceTotal"),
            "purchase_orders": sorted({line[0] for line in document.get("lines") or []}),
            "invoice": document.get("invoice"),
        }
        for key, document in sandbox.store.scan(f"{retail_state.INVOICES}:{account}")
    ]
    found.sort(key=lambda item: item["created"] or "", reverse=True)
    return found[:limit]


# Direct Fulfillment orders ---------------------------------------------------------------------------------
def _df_summary(row: DfOrderRow) -> dict[str, Any]:
    details = (row.document.get("order") or {}).get("orderDetails") or {}
    return {
        "number": row.number,
        "status": row.status,
        "created": row.created,
        "ship_from": row.ship_from,
        "packing_slip": row.packing_slip,
        "customer_invoice": row.customer_invoice,
        "items": len(details.get("items") or []),
        "ship_method": (details.get("shipmentDetails") or {}).get("shipMethod"),
    }


def df_order_page(
    sandbox: Sandbox, account: str, status: str | None, limit: int, after: tuple[str, str] | None
) -> dict[str, Any]:
    rows = sandbox.df_orders.query(
        DfOrderQuery(
            account,
            created_after="",
            created_before=_END,
            status=status,
            limit=limit + 1,
            descending=True,
            after=after,
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "df_orders": [_df_summary(row) for row in rows],
        "next": _cursor(rows[-1].sort_key) if more and rows else None,
    }


def df_order_detail(sandbox: Sandbox, account: str, number: str) -> dict[str, Any] | None:
    row = sandbox.df_orders.get(number)
    if row is None or row.account != account:
        return None
    label = sandbox.store.get(f"{df_state.LABELS}:{account}", number)
    invoices = [
        {"identifier": key, **document}
        for key, document in sandbox.store.scan(f"{df_state.INVOICES}:{account}")
        if _mentions(document, number)
    ]
    transactions = [
        item
        for item in account_transactions(sandbox, account, family="direct_fulfillment")
        if _mentions(item.pop("body", None), number)
    ]
    return {
        **_df_summary(row),
        "order": row.document.get("order"),
        "track": row.document.get("track"),
        "label": label,
        "invoices": invoices,
        "transactions": transactions,
    }


__all__ = [
    "account_profile",
    "account_transactions",
    "broken_rules",
    "collection_documents",
    "df_order_detail",
    "df_order_page",
    "invoices",
    "other_collections",
    "parse_cursor",
    "purchase_order_detail",
    "purchase_order_page",
    "shipments",
    "transaction_detail",
    "world_summary",
]
