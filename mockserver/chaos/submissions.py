"""What a submission does, in Amazon's terms: the business documents it submits.

The duplicate check of the retry verdict compares these, not bodies: a client that re-sends the
acknowledgement of the same purchase order after a dropped answer, with a new `acknowledgementDate`, has
submitted that acknowledgement twice even though no two bodies are equal.
"""

from __future__ import annotations

from typing import Any

# A body's collection of documents -> the fields that together name one document. A document is named by the
# fields it has (Retail invoices have `id`, Direct Fulfillment invoices `invoiceNumber`).
DOCUMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "acknowledgements": ("purchaseOrderNumber",),  # Retail
    "orderAcknowledgements": ("purchaseOrderNumber",),  # Direct Fulfillment
    # Retail ASNs (an `Original` and its `Replace` are two documents) and DF confirmations (per order)
    "shipmentConfirmations": ("shipmentIdentifier", "shipmentConfirmationType", "purchaseOrderNumber"),
    "shipments": ("vendorShipmentIdentifier", "transactionType"),
    "invoices": ("id", "invoiceType", "invoiceNumber"),
    "shippingLabelRequests": ("purchaseOrderNumber",),
    "shipmentStatusUpdates": ("purchaseOrderNumber", "statusUpdateDetails.statusCode"),
}
# Submissions named otherwise: one label per purchase order (in the path), one label per container.
PATH_DOCUMENTS = frozenset({"createShippingLabels"})
BODY_DOCUMENTS = {"createContainerLabel": ("vendorContainerId",)}


def _field(document: dict[str, Any], dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _named(document: Any, fields: tuple[str, ...]) -> str | None:
    if not isinstance(document, dict):
        return None
    values = [(name, _field(document, name)) for name in fields]
    present = [f"{name}={value}" for name, value in values if isinstance(value, str | int) and value != ""]
    return ",".join(present) if present else None


def submitted_documents(operation_id: str | None, path: str, body: Any) -> list[str]:
    """The documents a submission submits, each as one string naming it; empty for calls that submit no
    business document (reports, tokens, inventory levels, test scenarios: sending those twice is harmless)."""
    if operation_id in PATH_DOCUMENTS:
        return [f"{operation_id}:{path}"]
    named = BODY_DOCUMENTS.get(operation_id or "")
    if named is not None:
        name = _named(body, named)
        return [f"{operation_id}:{name}"] if name else []
    if not isinstance(body, dict):
        return []
    documents = []
    for collection, fields in DOCUMENT_FIELDS.items():
        items = body.get(collection)
        if not isinstance(items, list):
            continue
        for item in items:
            name = _named(item, fields)
            if name is not None:
                documents.append(f"{collection}:{name}")
    return documents


__all__ = ["DOCUMENT_FIELDS", "submitted_documents"]
