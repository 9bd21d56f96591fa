"""The warehouse receives accepted shipment confirmations on the sandbox clock, earliest first.

The receiving index holds the shipment confirmations still being received, per account ({identifier:
receiveAt}), and when the earliest of them is due: a tick with nothing due reads one small document, never
the ASNs. It is rebuilt from the ASNs where a store has none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.domain.clock import iso
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder
from mockserver.domain.retail.state import ASN, RECEIVING, RECEIVING_DUE, RetailState


def receipts(state: RetailState, now: datetime) -> None:
    """Receive the shipment confirmations due, earliest first."""
    stamp = iso(now)
    header = receiving_due(state)
    if header.get("next") is None or header["next"] > stamp:
        return
    earliest: str | None = None
    for account in state.accounts.accounts.values():
        document = state.store.get(RECEIVING, account.name)
        pending: dict[str, str] = dict((document or {}).get("pending") or {})
        remaining = dict(pending)
        for identifier, at in sorted(pending.items(), key=lambda entry: (entry[1], entry[0])):
            if at > stamp:
                break
            later = _receive(state, account.name, identifier, stamp)
            if later is None:
                del remaining[identifier]
            else:
                remaining[identifier] = later
        if remaining != pending:
            state.store.put(RECEIVING, account.name, {"pending": remaining})
        if remaining:
            soonest = min(remaining.values())
            earliest = soonest if earliest is None else min(earliest, soonest)
    state.store.put(*RECEIVING_DUE, {"next": earliest})


def due(state: RetailState, now: datetime) -> bool:
    """Whether a shipment confirmation is due to be received."""
    upcoming = receiving_due(state).get("next")
    return upcoming is not None and upcoming <= iso(now)


def receiving_pending(state: RetailState, account: str) -> dict[str, str]:
    """The account's shipment confirmations still to be received, with the time each is due."""
    receiving_due(state)
    document = state.store.get(RECEIVING, account)
    return dict((document or {}).get("pending") or {})


def receiving_due(state: RetailState) -> dict[str, Any]:
    """The index header ({"next": earliest due time or None}); built once from the ASNs when missing (a
    fresh store, or one written before the index existed)."""
    header = state.store.get(*RECEIVING_DUE)
    if header is not None:
        return header
    earliest: str | None = None
    for account in state.accounts.accounts.values():
        pending = {
            key: asn["receiveAt"]
            for key, asn in state.store.scan(f"{ASN}:{account.name}")
            if not asn.get("received")
        }
        state.store.put(RECEIVING, account.name, {"pending": pending})
        if pending:
            soonest = min(pending.values())
            earliest = soonest if earliest is None else min(earliest, soonest)
    header = {"next": earliest}
    state.store.put(*RECEIVING_DUE, header)
    return header


def index_receipts(state: RetailState, account: str, due: dict[str, str]) -> None:
    header = receiving_due(state)
    document = state.store.get(RECEIVING, account) or {}
    pending = {**(document.get("pending") or {}), **due}
    state.store.put(RECEIVING, account, {"pending": pending})
    soonest = min(due.values())
    if header.get("next") is None or soonest < header["next"]:
        state.store.put(*RECEIVING_DUE, {"next": soonest})


def clear_index(state: RetailState) -> None:
    """The index goes with the ASNs it indexes (rebuilt, empty, on the next call)."""
    state.store.clear(RECEIVING)
    state.store.clear(RECEIVING_DUE[0])


def _receive(state: RetailState, account: str, identifier: str, stamp: str) -> str | None:
    """Receive one shipment confirmation if it is due: None once it is received (or gone), else the time
    it is due (its document is the authority: a Replace may have moved it)."""
    collection = f"{ASN}:{account}"
    asn = state.store.get(collection, identifier)
    if asn is None or asn.get("received"):
        return None
    if asn["receiveAt"] > stamp:
        return str(asn["receiveAt"])
    touched: dict[str, StoredPurchaseOrder] = {}
    for number, sequence, quantity in asn["lines"]:
        po = touched.get(number) or state.load(account, number)
        if po is None:
            continue
        touched[number] = po
        track = po.tracking[sequence]
        track["received"] = min(track["shipped"], track["received"] + quantity)
        track["lastReceiveDate"] = asn["receiveAt"]
        po.updated = max(po.updated, asn["receiveAt"])
    for po in touched.values():
        po.close_if_done(asn["receiveAt"])
        state.table.put(po.to_row())
    asn["received"] = True
    state.store.put(collection, identifier, asn)
    return None
