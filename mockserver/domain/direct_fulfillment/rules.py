"""The business rules of Direct Fulfillment, each with a name: the Direct Fulfillment table of docs/RULES.md.

As in Retail, a submission that breaks a rule is answered 202 and its transaction (getTransactionStatus, in
either version) ends Failure with one error per violation. createShippingLabels and createContainerLabel are
synchronous: a broken rule is their 400 answer, with the same code, message and details.
"""

from __future__ import annotations

from mockserver.domain.rules import Rule, RuleBook

BOOK = RuleBook("direct_fulfillment")
RULES: dict[str, Rule] = BOOK.rules
_rule = BOOK.define
violation = BOOK.violation

# Every document that names an order
_rule("df-order-exists", "INVALID_PURCHASE_ORDER_NUMBER", "Invalid purchase order number.", "any")
_rule(
    "df-selling-party",
    "INVALID_SELLING_PARTY",
    "The selling party is not the vendor code of the order or warehouse.",
    "any",
)
_rule(
    "df-ship-from-party",
    "INVALID_SHIP_FROM_PARTY",
    "The ship-from party is not the warehouse of the order, or not a warehouse of the vendor.",
    "any",
)
# Acknowledgements (submitAcknowledgement)
_rule(
    "df-ack-open", "ORDER_CANCELLED", "The order is cancelled and cannot be acknowledged.", "acknowledgement"
)
_rule("df-ack-once", "ORDER_ALREADY_ACKNOWLEDGED", "The order was already acknowledged.", "acknowledgement")
_rule(
    "df-ack-known-code",
    "INVALID_ACKNOWLEDGEMENT_CODE",
    "The acknowledgement code is not one of 00, 02, 03.",
    "acknowledgement",
)
_rule("df-ack-item-on-order", "INVALID_ITEM", "The item is not on the order.", "acknowledgement")
_rule(
    "df-ack-all-items",
    "MISSING_ITEM_ACKNOWLEDGEMENT",
    "Every line item of the order must be acknowledged.",
    "acknowledgement",
)
_rule(
    "df-ack-quantity",
    "ACKNOWLEDGED_QUANTITY_MISMATCH",
    "The acknowledged quantity must be the ordered quantity: an order is accepted or rejected whole.",
    "acknowledgement",
)
_rule(
    "df-ack-out-of-stock",
    "INVALID_OUT_OF_STOCK",
    "The warehouse reported enough stock of every item: the order cannot be rejected as out of stock.",
    "acknowledgement",
)
# Shipping labels (submitShippingLabelRequest, createShippingLabels)
_rule(
    "df-label-accepted",
    "ORDER_NOT_ACCEPTED",
    "Shipping labels are issued only for accepted orders not shipped yet.",
    "shipping label",
)
_rule(
    "df-label-packed-items",
    "INVALID_PACKED_ITEM",
    "A packed item is not on the order, or more is packed than was ordered.",
    "shipping label",
)
# Container labels (createContainerLabel)
_rule(
    "df-container-packages",
    "INVALID_PACKAGE_TRACKING_NUMBER",
    "A package tracking number is not one of a shipping label of this warehouse.",
    "container label",
)
# Shipment confirmations (submitShipmentConfirmations)
_rule(
    "df-ship-accepted",
    "ORDER_NOT_ACCEPTED",
    "Only accepted orders can be confirmed as shipped.",
    "shipment confirmation",
)
_rule(
    "df-ship-once",
    "ORDER_ALREADY_SHIPPED",
    "The order was already confirmed as shipped.",
    "shipment confirmation",
)
_rule(
    "df-ship-items",
    "SHIPPED_QUANTITY_MISMATCH",
    "Every item must be shipped in its ordered quantity: partial shipments are not accepted.",
    "shipment confirmation",
)
_rule(
    "df-ship-label-tracking",
    "TRACKING_NUMBER_MISMATCH",
    "The order has an Amazon shipping label: its packages must carry the label's tracking numbers.",
    "shipment confirmation",
)
_rule(
    "df-ship-date",
    "INVALID_SHIPPED_DATE",
    "The shipped date must not be before the order date nor in the future.",
    "shipment confirmation",
)
# Shipment status updates (submitShipmentStatusUpdates)
_rule(
    "df-status-own-carrier",
    "NOT_VENDOR_OWN_CARRIER",
    "Status updates are for orders shipped with the vendor's own carrier (no Amazon label).",
    "shipment status update",
)
_rule(
    "df-status-tracking",
    "INVALID_TRACKING_NUMBER",
    "The tracking number is not one the shipment confirmation gave.",
    "shipment status update",
)
# Invoices (Direct Fulfillment Payments submitInvoice)
_rule(
    "df-invoice-unique-number", "DUPLICATE_INVOICE_NUMBER", "The invoice number was already used.", "invoice"
)
_rule(
    "df-invoice-remit-to",
    "INVALID_REMIT_TO_PARTY",
    "The remit-to party is not a vendor code of the account.",
    "invoice",
)
_rule(
    "df-invoice-shipped", "ORDER_NOT_SHIPPED", "Only orders confirmed as shipped can be invoiced.", "invoice"
)
_rule("df-invoice-item-on-order", "INVALID_ITEM", "The item is not on the order.", "invoice")
_rule(
    "df-invoice-quantity",
    "INVOICED_QUANTITY_EXCEEDS_SHIPPED",
    "The invoiced quantity (all invoices of the item) exceeds the shipped quantity.",
    "invoice",
)
_rule("df-invoice-currency", "CURRENCY_MISMATCH", "The currency does not match the order.", "invoice")
_rule(
    "df-invoice-net-cost",
    "NET_COST_MISMATCH",
    "The net cost does not match the order's net price.",
    "invoice",
)
_rule("df-invoice-tax", "TAX_MISMATCH", "The item taxes do not match the order's taxes.", "invoice")
_rule("df-invoice-not-zero", "ZERO_INVOICE_TOTAL", "An invoice total cannot be zero.", "invoice")
_rule(
    "df-invoice-total",
    "INVOICE_TOTAL_MISMATCH",
    "The invoice total does not equal the items plus taxes and charges.",
    "invoice",
)
# Inventory (submitInventoryUpdate)
_rule("df-inventory-item", "INVALID_ITEM", "The item is not in the vendor's catalogue.", "inventory")
_rule("df-inventory-quantity", "INVALID_QUANTITY", "An available quantity cannot be negative.", "inventory")
# Sandbox test data (generateOrderScenarios)
_rule(
    "df-scenario-parties",
    "INVALID_PARTY",
    "The selling party and ship-from party must be a vendor code and one of its warehouses of the account.",
    "order scenario",
)
# Every submission
_rule("duplicate-submission", "DUPLICATE_TRANSACTION", "The submission repeats an earlier one.", "any")


__all__ = ["RULES", "Rule", "violation"]
