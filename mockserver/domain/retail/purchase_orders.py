"""A purchase order as stored: Amazon's Order document plus what happened to each item since (acknowledged,
shipped, received, invoiced, cancelled quantities, in eaches), and the views the operations answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.store.base import copy_document
from mockserver.store.purchase_orders import PurchaseOrderRow


def eaches(quantity: dict[str, Any] | None, default_unit_size: int = 1) -> int:
    """An ItemQuantity in eaches: cases count as amount x unit size."""
    if not quantity:
        return 0
    amount = int(quantity.get("amount") or 0)
    if quantity.get("unitOfMeasure") == "Cases":
        return amount * int(quantity.get("unitSize") or default_unit_size or 1)
    return amount


def _confirmation_status(track: dict[str, Any]) -> str:
    if not track["acknowledged"]:
        return "UNCONFIRMED"
    accepted = track["accepted"]
    if accepted <= 0:
        return "REJECTED"
    if accepted >= int(track["ordered"]) - int(track["cancelled"]):
        return "ACCEPTED"
    return "PARTIALLY_ACCEPTED"


def _receive_status(track: dict[str, Any]) -> str:
    received = track["received"]
    if received <= 0:
        return "NOT_RECEIVED"
    if received >= track["accepted"]:
        return "RECEIVED"
    return "PARTIALLY_RECEIVED"


def _statuses(present: set[str]) -> str:
    """The statuses present as a row column: ",A,B," in name order."""
    if len(present) == 1:
        return f",{next(iter(present))},"
    return "," + ",".join(sorted(present)) + ","


def new_tracking(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tracking: dict[str, dict[str, Any]] = {}
    for item in order["orderDetails"]["items"]:
        quantity = item["orderedQuantity"]
        tracking[item["itemSequenceNumber"]] = {
            "ordered": eaches(quantity),
            "cancelled": 0,
            "accepted": 0,
            "rejected": 0,
            "acknowledged": False,
            "acknowledgedAt": None,
            "shipped": 0,
            "received": 0,
            "lastReceiveDate": None,
            "invoiced": 0,
            "cancelledAt": None,
        }
    return tracking


@dataclass
class StoredPurchaseOrder:
    """A purchase order as stored: Amazon's Order document, each item's tracked quantities, last update."""

    account: str
    order: dict[str, Any]
    tracking: dict[str, dict[str, Any]]
    updated: str

    @property
    def number(self) -> str:
        return str(self.order["purchaseOrderNumber"])

    @property
    def state(self) -> str:
        return str(self.order["purchaseOrderState"])

    @property
    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = self.order["orderDetails"]
        return details

    @property
    def vendor_code(self) -> str:
        return str(self.details["sellingParty"]["partyId"])

    def item(self, sequence: str) -> dict[str, Any] | None:
        for item in self.details["items"]:
            if item["itemSequenceNumber"] == sequence:
                return dict(item)
        return None

    def find_item(
        self, sequence: str | None, asin: str | None, vendor_id: str | None, by_sequence: bool = True
    ) -> dict[str, Any] | None:
        """The PO item a document line refers to: by product identifiers, else by sequence number."""
        for item in self.details["items"]:
            if asin and item.get("amazonProductIdentifier") == asin:
                return dict(item)
            if vendor_id and item.get("vendorProductIdentifier") == vendor_id:
                return dict(item)
        if by_sequence and sequence is not None and not asin and not vendor_id:
            return self.item(str(sequence))
        return None

    def open_quantity(self, sequence: str) -> int:
        track = self.tracking[sequence]
        return int(track["ordered"]) - int(track["cancelled"])

    def confirmation_status(self, sequence: str) -> str:
        return _confirmation_status(self.tracking[sequence])

    def receive_status(self, sequence: str) -> str:
        return _receive_status(self.tracking[sequence])

    def should_close(self) -> bool:
        """Closed when cancelled (nothing left open) or every accepted quantity is received and invoiced."""
        if all(self.open_quantity(sequence) <= 0 for sequence in self.tracking):
            return True
        if not all(track["acknowledged"] for track in self.tracking.values()):
            return False
        return all(
            track["received"] >= track["accepted"] and track["invoiced"] >= track["accepted"]
            for track in self.tracking.values()
        )

    def set_state(self, state: str, at: str) -> None:
        if self.order["purchaseOrderState"] != state:
            self.order["purchaseOrderState"] = state
            self.details["purchaseOrderStateChangedDate"] = at
        self.updated = max(self.updated, at)

    def close_if_done(self, at: str) -> None:
        if self.state != "Closed" and self.should_close():
            self.set_state("Closed", at)

    # Persistence -----------------------------------------------------------------------------------
    def to_row(self) -> PurchaseOrderRow:
        """The row to store; its document holds this PO's `order` and `tracking` themselves (not copies):
        once stored, neither may be changed in place. (Written for speed: seeding calls it 100,000 times.)"""
        order = self.order
        details = order["orderDetails"]
        has_cancelled = False
        confirmation: set[str] = set()
        receiving: set[str] = set()
        for track in self.tracking.values():
            if track["cancelled"] > 0:
                has_cancelled = True
            confirmation.add(_confirmation_status(track))
            receiving.add(_receive_status(track))
        return PurchaseOrderRow(
            self.account,
            str(order["purchaseOrderNumber"]),
            details["purchaseOrderDate"],
            self.updated,
            str(order["purchaseOrderState"]),
            str(details["sellingParty"]["partyId"]),
            details["shipToParty"]["partyId"],
            details.get("purchaseOrderChangedDate"),
            "purchaseOrderChangedDate" in details,
            has_cancelled,
            _statuses(confirmation),
            _statuses(receiving),
            {"order": order, "tracking": self.tracking, "updated": self.updated},
        )

    @classmethod
    def from_row(cls, row: PurchaseOrderRow) -> StoredPurchaseOrder:
        """A read-only view of a stored row: its dicts are the table's own (shared by every reader), so
        nothing may change them. To change a PO, take `editable()`."""
        document = row.document
        return cls(row.account, document["order"], document["tracking"], document["updated"])

    @classmethod
    def editable(cls, row: PurchaseOrderRow) -> StoredPurchaseOrder:
        """A private copy of a stored row, to change and store anew (`table.put(po.to_row())`)."""
        document = copy_document(row.document)
        return cls(row.account, document["order"], document["tracking"], document["updated"])

    # Views -----------------------------------------------------------------------------------------
    def order_view(self, include_details: bool = True) -> dict[str, Any]:
        if not include_details:
            return {"purchaseOrderNumber": self.number, "purchaseOrderState": self.state}
        return self.order

    def status_view(self) -> dict[str, Any]:
        details = self.details
        item_status = []
        for item in details["items"]:
            sequence = item["itemSequenceNumber"]
            track = self.tracking[sequence]
            unit_size = int(item["orderedQuantity"].get("unitSize") or 1)
            by_case = item["orderedQuantity"].get("unitOfMeasure") == "Cases"
            original = {
                "amount": track["ordered"] // unit_size if by_case else track["ordered"],
                "unitOfMeasure": item["orderedQuantity"].get("unitOfMeasure", "Eaches"),
                "unitSize": unit_size,
            }
            ordered: dict[str, Any] = {"orderedQuantity": dict(item["orderedQuantity"])}
            if track["cancelled"]:
                ordered["orderedQuantityDetails"] = [
                    {
                        "updatedDate": track["cancelledAt"] or details["purchaseOrderDate"],
                        "orderedQuantity": original,
                        "cancelledQuantity": {
                            "amount": track["cancelled"],
                            "unitOfMeasure": "Eaches",
                            "unitSize": 1,
                        },
                    }
                ]
            acknowledgement: dict[str, Any] = {"confirmationStatus": self.confirmation_status(sequence)}
            if track["acknowledged"]:
                accepted = {"amount": track["accepted"], "unitOfMeasure": "Eaches", "unitSize": 1}
                rejected = {"amount": track["rejected"], "unitOfMeasure": "Eaches", "unitSize": 1}
                acknowledgement.update(
                    acceptedQuantity=accepted,
                    rejectedQuantity=rejected,
                    acknowledgementStatusDetails=[
                        {
                            "acknowledgementDate": track["acknowledgedAt"],
                            "acceptedQuantity": accepted,
                            "rejectedQuantity": rejected,
                        }
                    ],
                )
            receiving: dict[str, Any] = {
                "receiveStatus": self.receive_status(sequence),
                "receivedQuantity": {"amount": track["received"], "unitOfMeasure": "Eaches", "unitSize": 1},
            }
            if track["lastReceiveDate"]:
                receiving["lastReceiveDate"] = track["lastReceiveDate"]
            entry: dict[str, Any] = {
                "itemSequenceNumber": sequence,
                "buyerProductIdentifier": item.get("amazonProductIdentifier"),
                "vendorProductIdentifier": item.get("vendorProductIdentifier"),
                "netCost": item.get("netCost"),
                "listPrice": item.get("listPrice"),
                "orderedQuantity": ordered,
                "acknowledgementStatus": acknowledgement,
                "receivingStatus": receiving,
            }
            item_status.append({key: value for key, value in entry.items() if value is not None})
        return {
            "purchaseOrderNumber": self.number,
            "purchaseOrderStatus": "CLOSED" if self.state == "Closed" else "OPEN",
            "purchaseOrderDate": details["purchaseOrderDate"],
            "lastUpdatedDate": self.updated,
            "sellingParty": details["sellingParty"],
            "shipToParty": details["shipToParty"],
            "itemStatus": item_status,
        }
