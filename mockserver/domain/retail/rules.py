"""The business rules of Retail Procurement, each with a name: the rules table of docs/RULES.md.

A submission that breaks a rule is still answered 202; its transaction ends Failure with one error per
violation, in Amazon's shape (`code`, `message`, `details`), the details naming the document and the rule.
"""

from __future__ import annotations

from mockserver.domain.rules import Rule, RuleBook

BOOK = RuleBook("retail")
RULES: dict[str, Rule] = BOOK.rules
_rule = BOOK.define
violation = BOOK.violation


# Acknowledgements (submitAcknowledgement)
_rule("ack-po-exists", "INVALID_PURCHASE_ORDER_NUMBER", "Invalid purchase order number.", "acknowledgement")
_rule(
    "ack-selling-party",
    "INVALID_SELLING_PARTY",
    "The selling party does not own the purchase order.",
    "acknowledgement",
)
_rule("ack-po-open", "PURCHASE_ORDER_CLOSED", "The purchase order is closed.", "acknowledgement")
_rule("ack-item-on-po", "INVALID_ITEM", "The item is not on the purchase order.", "acknowledgement")
_rule(
    "ack-all-items",
    "MISSING_ITEM_ACKNOWLEDGEMENT",
    "Every item of the PO must be acknowledged.",
    "acknowledgement",
)
_rule(
    "ack-ordered-quantity",
    "ORDERED_QUANTITY_MISMATCH",
    "The ordered quantity does not match the purchase order.",
    "acknowledgement",
)
_rule(
    "ack-quantities-add-up",
    "ACKNOWLEDGED_QUANTITY_MISMATCH",
    "Accepted, backordered and rejected quantities must add up to the ordered quantity.",
    "acknowledgement",
)
_rule(
    "ack-backorder-allowed", "BACKORDER_NOT_ALLOWED", "The item does not allow backorders.", "acknowledgement"
)
# Shipment confirmations (SubmitShipmentConfirmations, the ASN) and shipments (SubmitShipments)
_rule(
    "asn-selling-party",
    "INVALID_SELLING_PARTY",
    "The selling party is not a vendor code of the account.",
    "shipment",
)
_rule(
    "asn-unique-shipment-id",
    "DUPLICATE_SHIPMENT_IDENTIFIER",
    "The shipment identifier was already used by this vendor.",
    "shipment",
)
_rule(
    "asn-replace-known",
    "INVALID_SHIPMENT_IDENTIFIER",
    "There is no shipment with this identifier to replace or cancel.",
    "shipment",
)
_rule(
    "asn-po-reference",
    "MISSING_PURCHASE_ORDER_NUMBER",
    "The shipped item references no purchase order.",
    "shipment",
)
_rule("asn-po-exists", "INVALID_PURCHASE_ORDER_NUMBER", "Invalid purchase order number.", "shipment")
_rule(
    "asn-po-acknowledged",
    "PURCHASE_ORDER_NOT_ACKNOWLEDGED",
    "The purchase order must be acknowledged before it is shipped.",
    "shipment",
)
_rule("asn-item-on-po", "INVALID_ITEM", "The item is not on the purchase order.", "shipment")
_rule(
    "asn-quantity-within-accepted",
    "SHIPPED_QUANTITY_EXCEEDS_ACCEPTED",
    "The shipped quantity exceeds the accepted quantity.",
    "shipment",
)
_rule(
    "asn-ship-to",
    "SHIP_TO_PARTY_MISMATCH",
    "The ship-to party does not match the purchase order.",
    "shipment",
)
_rule("asn-dates-sane", "INVALID_DATE", "The shipment dates are not consistent.", "shipment")
# Invoices (submitInvoices)
_rule("invoice-unique-number", "DUPLICATE_INVOICE_NUMBER", "The invoice number was already used.", "invoice")
_rule(
    "invoice-remit-to",
    "INVALID_REMIT_TO_PARTY",
    "The remit-to party is not a vendor code of the account.",
    "invoice",
)
_rule("invoice-po-exists", "INVALID_PURCHASE_ORDER_NUMBER", "Invalid purchase order number.", "invoice")
_rule("invoice-item-on-po", "INVALID_ITEM", "The item is not on the purchase order.", "invoice")
_rule("invoice-currency", "CURRENCY_MISMATCH", "The currency does not match the purchase order.", "invoice")
_rule("invoice-net-cost", "NET_COST_MISMATCH", "The net cost does not match the purchase order.", "invoice")
_rule(
    "invoice-quantity-within-accepted",
    "INVOICED_QUANTITY_EXCEEDS_ACCEPTED",
    "The invoiced quantity exceeds the accepted quantity.",
    "invoice",
)
_rule(
    "invoice-total",
    "INVOICE_TOTAL_MISMATCH",
    "The invoice total does not equal the items plus charges and taxes less allowances.",
    "invoice",
)
# Credit notes (submitInvoices, invoiceType CreditNote): besides the invoice rules above
_rule(
    "credit-note-reference",
    "MISSING_CREDIT_NOTE_REFERENCE",
    "The credit note item names no invoice, returns notice, COOP agreement or debit note.",
    "credit note",
)
_rule(
    "credit-note-invoice-exists",
    "INVALID_REFERENCE_INVOICE_NUMBER",
    "The referenced invoice is not an invoice of this vendor.",
    "credit note",
)
_rule(
    "credit-note-quantity-within-invoiced",
    "CREDITED_QUANTITY_EXCEEDS_INVOICED",
    "The credited quantity exceeds the invoiced quantity.",
    "credit note",
)
# Every submission
_rule("duplicate-submission", "DUPLICATE_TRANSACTION", "The submission repeats an earlier one.", "any")


__all__ = ["RULES", "Rule", "violation"]
