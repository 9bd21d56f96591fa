"""The seeded Retail Procurement world: per vendor account, purchase orders of every type over the account's
catalogue (domain/catalogue.py), deterministic from the seed (same seed and anchor time, same data).

The bulk (purchase orders by the hundred thousand) comes from a seeded `random.Random`, drawn with `random()`
(the cheapest draw) from pools built once per vendor code. The parties and prices of a purchase order are
those pools' own dicts, shared by every PO of the vendor code: a stored document is never changed in place
(`RetailWorld` changes private copies and stores those), so sharing is safe and cheap.
"""

from __future__ import annotations

import random
import string
from datetime import datetime
from typing import Any

from mockserver.accounts import VendorAccount
from mockserver.domain.catalogue import (
    MARKETPLACES,
    Product,
    VendorCodeContext,
    catalogue_rows,
    vendor_code_contexts,
)
from mockserver.domain.clock import iso_seconds

PURCHASE_ORDER_TYPES = ("RegularOrder", "ConsignedOrder", "NewProductIntroduction", "RushOrder")
_ALPHANUMERIC = string.ascii_uppercase + string.digits
_DEAL_CODES = ("PRIMEDAY", "BLACKFRIDAY", "SPRING-DEAL", "LIGHTNING-42")
_PAIRS = tuple(a + b for a in _ALPHANUMERIC for b in _ALPHANUMERIC)  # 1,296 two-character blocks
_SEQUENCES = tuple(str(number) for number in range(64))
_PAYMENT_METHODS = ("PaidByBuyer", "FOBPortOfCall", "PrepaidBySeller")
_INCOTERMS = ("FreeOnBoard", "ExWorks", "FreeCarrier")
_PORTS = ("USLGB", "USNYC", "DEHAM", "GBFXT")
_DAY = 86400


class WorldBuilder:
    """Deterministic data for one account: `rng` and the Fakers are seeded from (seed, account name)."""

    def __init__(self, seed: int, account: VendorAccount, used_numbers: set[str]) -> None:
        self.account = account
        self.rng = random.Random(f"{seed}:{account.name}")
        self.used_numbers = used_numbers
        self.contexts = vendor_code_contexts(seed, account, self.rng)

    def purchase_order_number(self) -> str:
        getrandbits = self.rng.getrandbits
        while True:
            bits = getrandbits(44)
            number = (
                _PAIRS[bits % 1296]
                + _PAIRS[bits // 1296 % 1296]
                + _PAIRS[bits // 1679616 % 1296]
                + _PAIRS[bits // 2176782336 % 1296]
            )
            if number not in self.used_numbers and not number.isdigit():
                self.used_numbers.add(number)
                return number

    def purchase_order(self, created: datetime, po_type: str | None = None) -> dict[str, Any]:
        """A New purchase order placed at `created`: the document Amazon's getPurchaseOrder answers."""
        return self.purchase_order_at(int(created.timestamp()), po_type)

    def purchase_order_at(self, created: int, po_type: str | None = None) -> dict[str, Any]:
        """`purchase_order()` at a POSIX timestamp (whole seconds)."""
        random = self.rng.random
        contexts = self.contexts
        context = contexts[int(random() * len(contexts))]
        if po_type is None:
            draw = random()  # RegularOrder 70 %, the other three 10 % each
            po_type = PURCHASE_ORDER_TYPES[0 if draw < 0.7 else 1 if draw < 0.8 else 2 if draw < 0.9 else 3]
        rush = po_type == "RushOrder"
        centre = int(random() * len(context.ship_to))
        imported = po_type == "RegularOrder" and random() < 0.1
        catalogue = context.catalogue
        prices = context.prices
        size = len(catalogue)
        chosen: list[int] = []
        for _ in range(min(size, 1 + int(random() * 5))):  # 1 to 5 distinct products
            index = int(random() * size)
            while index in chosen:
                index = int(random() * size)
            chosen.append(index)
        items = []
        for sequence, index in enumerate(chosen, start=1):
            product = catalogue[index]
            net_cost, list_price = prices[index]
            if product.case_size > 1 and random() < 0.5:
                quantity = {
                    "amount": 1 + int(random() * 20),
                    "unitOfMeasure": "Cases",
                    "unitSize": product.case_size,
                }
            else:
                quantity = {"amount": 1 + int(random() * 120), "unitOfMeasure": "Eaches", "unitSize": 1}
            items.append(
                {
                    "itemSequenceNumber": _SEQUENCES[sequence],
                    "amazonProductIdentifier": product.asin,
                    "vendorProductIdentifier": product.sku,
                    "orderedQuantity": quantity,
                    "isBackOrderAllowed": not rush and random() < 0.6,
                    "netCost": net_cost,
                    "listPrice": list_price,
                }
            )
        window_start = created + _DAY * (2 if rush else 3 + int(random() * 8))
        window_end = window_start + _DAY * (2 + int(random() * 6))
        placed = iso_seconds(created)
        details: dict[str, Any] = {
            "purchaseOrderDate": placed,
            "purchaseOrderStateChangedDate": placed,
            "purchaseOrderType": po_type,
            "paymentMethod": "Consignment" if po_type == "ConsignedOrder" else "Invoice",
            "buyingParty": context.buying_parties[centre],
            "sellingParty": context.selling_party,
            "shipToParty": context.ship_to[centre],
            "billToParty": context.bill_to,
            "items": items,
        }
        window = f"{iso_seconds(window_start)}--{iso_seconds(window_end)}"
        if imported or po_type == "ConsignedOrder":
            details["shipWindow"] = window
        else:
            details["deliveryWindow"] = window
        if imported:
            details["importDetails"] = {
                "methodOfPayment": _PAYMENT_METHODS[int(random() * 3)],
                "internationalCommercialTerms": _INCOTERMS[int(random() * 3)],
                "portOfDelivery": _PORTS[int(random() * 4)],
                "shippingInstructions": "Consolidate with other POs of the same week.",
            }
        if (po_type == "RegularOrder" or rush) and random() < 0.15:
            details["dealCode"] = _DEAL_CODES[int(random() * 4)]
        return {
            "purchaseOrderNumber": self.purchase_order_number(),
            "purchaseOrderState": "New",
            "orderDetails": details,
        }

    def catalogue(self) -> list[dict[str, Any]]:
        return catalogue_rows(self.contexts)


__all__ = ["MARKETPLACES", "PURCHASE_ORDER_TYPES", "Product", "VendorCodeContext", "WorldBuilder"]
