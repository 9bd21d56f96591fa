"""The seeded Retail Procurement world: per vendor account, a catalogue (SKU <-> GTIN <-> ASIN) and purchase
orders of every type, deterministic from the seed (same seed and anchor time, same data).

Faker draws the slow, human-looking parts once per account (fulfilment-centre addresses, vendor names,
product titles); the bulk (purchase orders by the hundred thousand) comes from a seeded `random.Random`.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from faker import Faker

from mockserver.accounts import VendorAccount
from mockserver.domain.clock import iso

PURCHASE_ORDER_TYPES = ("RegularOrder", "ConsignedOrder", "NewProductIntroduction", "RushOrder")

# marketplace -> (currency, Faker locale, country, fulfilment centres)
MARKETPLACES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "ATVPDKIKX0DER": ("USD", "en_US", "US", ("ABE8", "PHX6", "ONT8", "TEB9", "BFI4")),
    "A2EUQ1WTGCTBG2": ("CAD", "en_CA", "CA", ("YYZ4", "YVR2")),
    "A1AM78C64UM0Y8": ("MXN", "es_MX", "MX", ("MEX1",)),
    "A1PA6795UKMFR9": ("EUR", "de_DE", "DE", ("FRA7", "DTM2", "MUC3")),
    "A1F83G8C2ARO7P": ("GBP", "en_GB", "GB", ("LTN1", "BHX4")),
    "A13V1IB3VIYZZH": ("EUR", "fr_FR", "FR", ("ORY1", "LYS1")),
    "APJ6JRA9NG5V4": ("EUR", "it_IT", "IT", ("MXP5",)),
    "A1RKKUPIHCS9HS": ("EUR", "es_ES", "ES", ("MAD4",)),
    "A1VC38T7YXB528": ("JPY", "ja_JP", "JP", ("NRT1",)),
}
_DEFAULT_MARKETPLACE = "ATVPDKIKX0DER"
_ALPHANUMERIC = string.ascii_uppercase + string.digits
_TYPE_WEIGHTS = (70, 80, 90, 100)
_DEAL_CODES = ("PRIMEDAY", "BLACKFRIDAY", "SPRING-DEAL", "LIGHTNING-42")


@dataclass(frozen=True)
class Product:
    sku: str
    gtin: str
    asin: str
    title: str
    net_cost: Decimal  # per each, in the marketplace currency
    list_price: Decimal
    case_size: int

    @cached_property
    def net_cost_text(self) -> str:
        return _money(self.net_cost)

    @cached_property
    def list_price_text(self) -> str:
        return _money(self.list_price)


@dataclass(frozen=True)
class VendorCodeContext:
    vendor_code: str
    marketplace_id: str
    currency: str
    country: str
    ship_to: tuple[dict[str, Any], ...]  # PartyIdentification of each fulfilment centre
    catalogue: tuple[Product, ...]
    vendor_address: dict[str, Any]


def _check_digit(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def _gtin(rng: random.Random, country: str) -> str:
    body = "".join(rng.choice(string.digits) for _ in range(11 if country in ("US", "CA") else 12))
    # UPC-A (12 digits) in North America, EAN-13 with a European prefix elsewhere.
    body = "0" + body[1:] if country in ("US", "CA") else "40" + body[2:]
    return body + _check_digit(body)


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class WorldBuilder:
    """Deterministic data for one account: `rng` and `faker` are seeded from (seed, account name)."""

    def __init__(self, seed: int, account: VendorAccount, used_numbers: set[str]) -> None:
        self.account = account
        self.rng = random.Random(f"{seed}:{account.name}")
        self.faker = Faker("en_US")
        self.faker.seed_instance(f"{seed}:{account.name}")
        self.used_numbers = used_numbers
        self.contexts = [
            self._vendor_code_context(index, code) for index, code in enumerate(account.vendor_codes)
        ]

    def _vendor_code_context(self, index: int, vendor_code: str) -> VendorCodeContext:
        marketplaces = self.account.marketplace_ids or (_DEFAULT_MARKETPLACE,)
        marketplace_id = marketplaces[min(index, len(marketplaces) - 1)]
        currency, locale, country, centres = MARKETPLACES.get(
            marketplace_id, MARKETPLACES[_DEFAULT_MARKETPLACE]
        )
        local = Faker(locale)
        local.seed_instance(f"{self.rng.random()}")
        ship_to = tuple(
            {
                "partyId": centre,
                "address": {
                    "name": f"Amazon {centre}",
                    "addressLine1": local.street_address(),
                    "city": local.city(),
                    "postalCode": local.postcode(),
                    "countryCode": country,
                },
            }
            for centre in centres
        )
        catalogue = []
        for number in range(40):
            cost = Decimal(self.rng.randrange(150, 25000)) / 100
            catalogue.append(
                Product(
                    sku=f"{vendor_code}-{number + 1:04d}",
                    gtin=_gtin(self.rng, country),
                    asin="B0" + "".join(self.rng.choice(_ALPHANUMERIC) for _ in range(8)),
                    title=self.faker.catch_phrase(),
                    net_cost=cost,
                    list_price=(cost * Decimal("1.6")).quantize(Decimal("0.01")),
                    case_size=self.rng.choice((1, 4, 6, 12, 24)),
                )
            )
        vendor_address = {
            "name": self.faker.company(),
            "addressLine1": local.street_address(),
            "city": local.city(),
            "postalCode": local.postcode(),
            "countryCode": country,
        }
        return VendorCodeContext(
            vendor_code, marketplace_id, currency, country, ship_to, tuple(catalogue), vendor_address
        )

    def purchase_order_number(self) -> str:
        while True:
            bits = self.rng.getrandbits(48)
            number = "".join(_ALPHANUMERIC[(bits >> shift) % 36] for shift in range(0, 48, 6))
            if number not in self.used_numbers and not number.isdigit():
                self.used_numbers.add(number)
                return number

    def purchase_order(self, created: datetime, po_type: str | None = None) -> dict[str, Any]:
        """A New purchase order placed at `created`: the document Amazon's getPurchaseOrder answers."""
        rng = self.rng
        context = rng.choice(self.contexts)
        po_type = po_type or rng.choices(PURCHASE_ORDER_TYPES, cum_weights=_TYPE_WEIGHTS)[0]
        ship_to = rng.choice(context.ship_to)
        imported = po_type == "RegularOrder" and rng.random() < 0.1
        items = []
        for sequence, product in enumerate(rng.sample(context.catalogue, 1 + int(rng.random() * 5)), start=1):
            by_case = product.case_size > 1 and rng.random() < 0.5
            amount = 1 + int(rng.random() * (20 if by_case else 120))
            quantity: dict[str, Any] = {"amount": amount, "unitOfMeasure": "Cases" if by_case else "Eaches"}
            quantity["unitSize"] = product.case_size if by_case else 1
            items.append(
                {
                    "itemSequenceNumber": str(sequence),
                    "amazonProductIdentifier": product.asin,
                    "vendorProductIdentifier": product.sku,
                    "orderedQuantity": quantity,
                    "isBackOrderAllowed": po_type != "RushOrder" and rng.random() < 0.6,
                    "netCost": {"currencyCode": context.currency, "amount": product.net_cost_text},
                    "listPrice": {"currencyCode": context.currency, "amount": product.list_price_text},
                }
            )
        lead = timedelta(days=2 if po_type == "RushOrder" else 3 + int(rng.random() * 8))
        window_start = created + lead
        window_end = window_start + timedelta(days=2 + int(rng.random() * 6))
        details: dict[str, Any] = {
            "purchaseOrderDate": iso(created),
            "purchaseOrderStateChangedDate": iso(created),
            "purchaseOrderType": po_type,
            "paymentMethod": "Consignment" if po_type == "ConsignedOrder" else "Invoice",
            "buyingParty": {
                "partyId": ship_to["partyId"],
                "address": {**ship_to["address"], "name": f"Amazon.com Services ({ship_to['partyId']})"},
            },
            "sellingParty": {"partyId": context.vendor_code},
            "shipToParty": ship_to,
            "billToParty": {
                "partyId": "AMZN" + context.country,
                "address": {
                    "name": "Amazon Accounts Payable",
                    "addressLine1": "P.O. Box 80387",
                    "city": "Seattle",
                    "postalCode": "98108",
                    "countryCode": context.country,
                },
            },
            "items": items,
        }
        if context.country in ("DE", "FR", "GB", "IT", "ES"):
            details["billToParty"]["taxInfo"] = {
                "taxRegistrationType": "VAT",
                "taxRegistrationNumber": f"{context.country}{rng.randint(100000000, 999999999)}",
            }
        if imported or po_type == "ConsignedOrder":
            details["shipWindow"] = f"{iso(window_start)}--{iso(window_end)}"
        else:
            details["deliveryWindow"] = f"{iso(window_start)}--{iso(window_end)}"
        if imported:
            details["importDetails"] = {
                "methodOfPayment": rng.choice(("PaidByBuyer", "FOBPortOfCall", "PrepaidBySeller")),
                "internationalCommercialTerms": rng.choice(("FreeOnBoard", "ExWorks", "FreeCarrier")),
                "portOfDelivery": rng.choice(("USLGB", "USNYC", "DEHAM", "GBFXT")),
                "shippingInstructions": "Consolidate with other POs of the same week.",
            }
        if po_type in ("RegularOrder", "RushOrder") and rng.random() < 0.15:
            details["dealCode"] = rng.choice(_DEAL_CODES)
        return {
            "purchaseOrderNumber": self.purchase_order_number(),
            "purchaseOrderState": "New",
            "orderDetails": details,
        }

    def catalogue(self) -> list[dict[str, Any]]:
        return [
            {
                "vendorCode": context.vendor_code,
                "marketplaceId": context.marketplace_id,
                "sku": product.sku,
                "gtin": product.gtin,
                "asin": product.asin,
                "title": product.title,
                "netCost": {"currencyCode": context.currency, "amount": _money(product.net_cost)},
                "caseSize": product.case_size,
            }
            for context in self.contexts
            for product in context.catalogue
        ]
