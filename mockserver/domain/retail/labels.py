"""GetShipmentLabels: the transport labels of the account's shipments once a carrier is assigned."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from mockserver.domain.clock import iso, parse_iso
from mockserver.domain.errors import InvalidInput
from mockserver.domain.paging import page_after
from mockserver.domain.retail.shipment_details import shipment_views
from mockserver.domain.retail.state import RetailState


def shipment_labels(state: RetailState, account: str, query: dict[str, Any], now: datetime) -> dict[str, Any]:
    labels = []
    for view in shipment_views(state, account, now):
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
        labels.append(_label(view, identifier, created))
    labels.sort(key=lambda v: (v["labelCreateDateTime"], v["_id"]), reverse=query.get("sortOrder") == "DESC")
    page, token = page_after(
        labels,
        int(query.get("limit") or 50),
        lambda label: [label["labelCreateDateTime"], label["_id"]],
        query.get("nextToken"),
    )
    payload: dict[str, Any] = {
        "transportLabels": [{k: v for k, v in label.items() if k != "_id"} for label in page]
    }
    if token:
        payload["pagination"] = {"nextToken": token}
    return payload


def _label(view: dict[str, Any], identifier: str, created: str) -> dict[str, Any]:
    tracking = "1Z" + str(abs(hash(identifier)) % 10**16).zfill(16)
    label: dict[str, Any] = {
        "_id": identifier,
        "labelCreateDateTime": created,
        "shipmentInformation": {
            "vendorDetails": {"sellingParty": view["sellingParty"], "vendorShipmentIdentifier": identifier},
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
    return label
