"""The seeded Retail Procurement world: per vendor account, a catalogue (SKU <-> GTIN <-> ASIN) and purchase
orders of every type, deterministic from the seed (same seed and anchor time, same data).

Faker draws the slow, human-looking parts once per account (fulfilment-centre addresses, vendor names,
product titles); the bulk (purchase orders by the hundred thousand) comes from a seeded `random.Random`,
drawn with `random()` (the cheapest draw) from pools built once per vendor code. The parties and prices of a
purchase order are those pools' own dicts, shared by every PO of the vendor code: a stored document is never
changed in place (`RetailWorld` changes private copies and stores those), so sharing is safe and cheap.
"""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from faker import Faker

from mockserver.accounts import VendorAccount
from mockserver.domain.clock import iso_seconds

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
_DEAL_CODES = ("PRIMEDAY", "BLACKFRIDAY", "SPRING-DEAL", "LIGHTNING-42")
_PAIRS = tuple(a + b for a in _ALPHANUMERIC for b in _ALPHANUMERIC)  # 1,296 two-character blocks
_SEQUENCES = tuple(str(number) for number in range(64))
_PAYMENT_METHODS = ("PaidByBuyer", "FOBPortOfCall", "PrepaidBySeller")
_INCOTERMS = ("FreeOnBoard", "ExWorks", "FreeCarrier")
_PORTS = ("USLGB", "USNYC", "DEHAM", "GBFXT")
_VAT_COUNTRIES = ("DE", "FR", "GB", "IT", "ES")
_DAY = 86400


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
    # Pools every purchase order of this vendor code shares (see the module docstring).
    buying_parties: tuple[dict[str, Any], ...]  # per fulfilment centre, as ship_to
    selling_party: dict[str, Any]
    bill_to: dict[str, Any]
    prices: tuple[tuple[dict[str, Any], dict[str, Any]], ...]  # (netCost, listPrice) per catalogue product


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


# Making a Faker costs some 40 ms (it scans its provider modules for the locale), more than seeding a few
# hundred purchase orders: builders borrow one per (role, locale) and seed it before drawing, which gives
# the same data as a fresh instance. The lock keeps one builder's draws from interleaving with another's.
_FAKERS: dict[tuple[str, str], Faker] = {}
# Only the providers the world draws from (addresses, company names and catch phrases, and the person names
# their formats use): the same draws as with all of Faker's providers, without loading two dozen others.
_FAKER_PROVIDERS = ["faker.providers.address", "faker.providers.company", "faker.providers.person"]
_FAKERS_LOCK = threading.Lock()


@contextmanager
def _borrowed_fakers() -> Iterator[Any]:
    def faker(role: str, locale: str, seed: str) -> Faker:
        instance = _FAKERS.get((role, locale))
        if instance is None:
            instance = _FAKERS[(role, locale)] = Faker(locale, providers=_FAKER_PROVIDERS)
        instance.seed_instance(seed)
        return instance

    with _FAKERS_LOCK:
        yield faker


class WorldBuilder:
    """Deterministic data for one account: `rng` and the Fakers are seeded from (seed, account name)."""

    def __init__(self, seed: int, account: VendorAccount, used_numbers: set[str]) -> None:
        self.account = account
        self.rng = random.Random(f"{seed}:{account.name}")
        self.used_numbers = used_numbers
        with _borrowed_fakers() as faker:
            names = faker("names", "en_US", f"{seed}:{account.name}")
            self.contexts = [
                self._vendor_code_context(index, code, names, faker)
                for index, code in enumerate(account.vendor_codes)
            ]

    def _vendor_code_context(
        self, index: int, vendor_code: str, names: Faker, faker: Any
    ) -> VendorCodeContext:
        marketplaces = self.account.marketplace_ids or (_DEFAULT_MARKETPLACE,)
        marketplace_id = marketplaces[min(index, len(marketplaces) - 1)]
        currency, locale, country, centres = MARKETPLACES.get(
            marketplace_id, MARKETPLACES[_DEFAULT_MARKETPLACE]
        )
        local = faker("addresses", locale, f"{self.rng.random()}")
        ship_to: tuple[dict[str, Any], ...] = tuple(
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
                    title=names.catch_phrase(),
                    net_cost=cost,
                    list_price=(cost * Decimal("1.6")).quantize(Decimal("0.01")),
                    case_size=self.rng.choice((1, 4, 6, 12, 24)),
                )
            )
        vendor_address = {
            "name": names.company(),
            "addressLine1": local.street_address(),
            "city": local.city(),
            "postalCode": local.postcode(),
            "countryCode": country,
        }
        bill_to: dict[str, Any] = {
            "partyId": "AMZN" + country,
            "address": {
                "name": "Amazon Accounts Payable",
                "addressLine1": "P.O. Box 80387",
                "city": "Seattle",
                "postalCode": "98108",
                "countryCode": country,
            },
        }
        if country in _VAT_COUNTRIES:  # Amazon's VAT registration in the country
            bill_to["taxInfo"] = {
                "taxRegistrationType": "VAT",
                "taxRegistrationNumber": f"{country}{self.rng.randint(100000000, 999999999)}",
            }
        return VendorCodeContext(
            vendor_code=vendor_code,
            marketplace_id=marketplace_id,
            currency=currency,
            country=country,
            ship_to=ship_to,
            catalogue=tuple(catalogue),
            vendor_address=vendor_address,
            buying_parties=tuple(
                {
                    "partyId": centre["partyId"],
                    "address": {**centre["address"], "name": f"Amazon.com Services ({centre['partyId']})"},
                }
                for centre in ship_to
            ),
            selling_party={"partyId": vendor_code},
            bill_to=bill_to,
            prices=tuple(
                (
                    {"currencyCode": currency, "amount": product.net_cost_text},
                    {"currencyCode": currency, "amount": product.list_price_text},
                )
                for product in catalogue
            ),
        )

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
