"""submitInvoices: invoices and credit notes, under the invoice rules (`invoice-*`, `credit-note-*` in
rules.py)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from mockserver.domain.clock import iso
from mockserver.domain.money import decimal
from mockserver.domain.retail.purchase_orders import StoredPurchaseOrder, eaches
from mockserver.domain.retail.rules import violation
from mockserver.domain.retail.state import INVOICES, RetailState

MONEY_TOLERANCE = Decimal("0.01")
# The creditNoteDetails references of Amazon's model, one of which every credit note item must give.
CREDIT_NOTE_REFERENCES = (
    "referenceInvoiceNumber",
    "returnsReferenceNumber",
    "coopReferenceNumber",
    "debitNoteNumber",
)
Line = tuple[str, str, int]  # (PO number, item sequence number, eaches)


def _amount(money: Any) -> Decimal:
    return decimal((money or {}).get("amount")) or Decimal(0)


def process_invoices(state: RetailState, account: str, body: Any, now: datetime) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    vendor_codes = state.vendor_codes(account)
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
        if state.store.get(collection, identifier) is not None or identifier in seen:
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
            found, referenced = _referenced_invoice(
                state, collection, invoice, where, accepted, referenced_invoices, errors
            )
            if not found:
                continue
        priced = _priced_lines(state, account, invoice, where, is_invoice, referenced, pos, errors)
        lines, total = priced
        currency = (invoice.get("invoiceTotal") or {}).get("currencyCode")
        for tax in invoice.get("taxDetails") or []:
            total += _amount(tax.get("taxAmount"))
        for charge in invoice.get("chargeDetails") or []:
            total += _amount(charge.get("chargeAmount"))
            for tax in charge.get("taxDetails") or []:
                total += _amount(tax.get("taxAmount"))
        for allowance in invoice.get("allowanceDetails") or []:
            total -= _amount(allowance.get("allowanceAmount"))
        stated = decimal((invoice.get("invoiceTotal") or {}).get("amount"))
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
            if _credit_within_invoiced(where, lines, pos, referenced, errors):
                accepted[identifier] = {"invoice": invoice, "lines": lines, "createdAt": iso(now)}
            continue
        if _invoiced_within_accepted(where, lines, pos, errors):
            for number, sequence, quantity in lines:
                pos[number].tracking[sequence]["invoiced"] += quantity
            accepted[identifier] = {"invoice": invoice, "lines": lines, "createdAt": iso(now)}
    if errors:
        return errors
    stamp = iso(now)
    for po in pos.values():
        po.updated = max(po.updated, stamp)
        po.close_if_done(stamp)
        state.table.put(po.to_row())
    for identifier, document in referenced_invoices.items():
        state.store.put(collection, identifier, document)
    for identifier, document in accepted.items():
        state.store.put(collection, identifier, document)
    return []


def _priced_lines(
    state: RetailState,
    account: str,
    invoice: dict[str, Any],
    where: str,
    is_invoice: bool,
    referenced: dict[str, Any] | None,
    pos: dict[str, StoredPurchaseOrder],
    errors: list[dict[str, str]],
) -> tuple[list[Line], Decimal]:
    """The items' lines (PO, item, eaches) and their total (net cost x eaches, taxes, charges, less
    allowances), each item checked against its PO."""
    total = Decimal(0)
    lines: list[Line] = []
    for i_index, item in enumerate(invoice.get("items") or []):
        line_where = f"{where} items[{i_index}]"
        unit_cost = _amount(item.get("netCost"))
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
            po = pos.get(number) or state.load(account, number)
            if po is None:
                errors.append(
                    violation("invoice-po-exists", line_where, f"no purchase order {number} for this vendor")
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
                    violation("invoice-item-on-po", line_where, f"the item is not on purchase order {number}")
                )
                continue
            unit_size = int(
                (item.get("invoicedQuantity") or {}).get("unitSize")
                or po_item["orderedQuantity"].get("unitSize")
                or 1
            )
            po_cost = decimal(po_item["netCost"]["amount"]) or Decimal(0)
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
            total += _amount(tax.get("taxAmount"))
        for charge in item.get("chargeDetails") or []:
            total += _amount(charge.get("chargeAmount"))
        for allowance in item.get("allowanceDetails") or []:
            total -= _amount(allowance.get("allowanceAmount"))
        if number and po_item is not None:
            lines.append((number, po_item["itemSequenceNumber"], quantity))
    return lines, total


def _invoiced_within_accepted(
    where: str, lines: list[Line], pos: dict[str, StoredPurchaseOrder], errors: list[dict[str, str]]
) -> bool:
    """The invoice-quantity-within-accepted rule."""
    totals: dict[tuple[str, str], int] = {}
    for number, sequence, quantity in lines:
        totals[(number, sequence)] = totals.get((number, sequence), 0) + quantity
    within = True
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
            within = False
    return within


def _referenced_invoice(
    state: RetailState,
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
        document = state.store.get(collection, number)
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
    where: str,
    lines: list[Line],
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
                    f"purchase order {number} item {sequence}: credited {quantity} eaches is not positive",
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
