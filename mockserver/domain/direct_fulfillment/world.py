"""The seeded Direct Fulfillment world of one account: its warehouses (ship-from parties) per vendor code and
the orders Amazon's customers place, drop-shipped from them. Deterministic from the seed.

Items come from the account's catalogue (domain/catalogue.py, the same as Retail's), ship-to addresses from
Faker in the marketplace's locale: a pool drawn once per vendor code, shared by the orders (a stored document
is never changed in place, so sharing is safe). Amounts are whole cents (no Decimal on the hot path): seeding
100,000 orders per account is mostly `order_at`.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any

from mockserver.accounts import VendorAccount
from mockserver.domain.catalogue import Product, VendorCodeContext, marketplace_of, vendor_code_contexts
from mockserver.domain.clock import iso_seconds
from mockserver.domain.seeding import borrowed_fakers

_ALPHANUMERIC = string.ascii_uppercase + string.digits
_PAIRS = tuple(a + b for a in _ALPHANUMERIC for b in _ALPHANUMERIC)
_DIGITS = tuple(str(digit) for digit in range(1, 10))
_SEQUENCES = tuple(str(number) for number in range(16))
_HOUR = 3600
_DAY = 86400
ADDRESS_POOL = 64  # customer addresses drawn per vendor code
WAREHOUSES_PER_VENDOR_CODE = 2
# Marketplaces whose customers receive an invoice from the vendor (Amazon's customer invoices: India).
CUSTOMER_INVOICE_COUNTRIES = frozenset({"IN"})

# country -> ((ship method code, name), ...): Amazon's ship method codes are vendor specific; these are the
# emulator's, one of each carrier the marketplace's DF vendors use.
SHIP_METHODS: dict[str, tuple[tuple[str, str], ...]] = {
    "US": (
        ("UPS_GR_RES", "UPS Ground Residential"),
        ("UPS_2ND", "UPS 2nd Day Air"),
        ("FEDEX_HOME", "FedEx Home Delivery"),
        ("AMZL_US_STD", "Amazon Logistics Standard"),
    ),
    "CA": (("CANPAR_GR", "Canpar Ground"), ("AMZL_CA_STD", "Amazon Logistics Standard")),
    "MX": (("ESTAFETA_STD", "Estafeta Estandar"), ("AMZL_MX_STD", "Amazon Logistics Standard")),
    "DE": (("DHL_PAKET", "DHL Paket"), ("DPD_CLASSIC", "DPD Classic"), ("AMZL_DE_STD", "Amazon Logistics")),
    "GB": (("RM_TRACKED_48", "Royal Mail Tracked 48"), ("DPD_UK_NEXT_DAY", "DPD Next Day")),
    "FR": (("COLISSIMO", "Colissimo"), ("CHRONOPOST_13", "Chronopost 13")),
    "IT": (("BRT_STD", "BRT Standard"),),
    "ES": (("SEUR_24", "SEUR 24"),),
    "JP": (("YAMATO_STD", "Yamato Transport"),),
    "IN": (("ATS_STD", "Amazon Transportation Services"), ("BLUEDART_SURFACE", "Blue Dart Surface")),
}
# country -> (tax type of the orders API, rate in basis points)
TAXES: dict[str, tuple[str, int]] = {
    "US": ("CONSUMPTION", 825),
    "CA": ("GST", 500),
    "MX": ("VAT", 1600),
    "DE": ("MwSt.", 1900),
    "GB": ("VAT", 2000),
    "FR": ("TVA", 2000),
    "IT": ("VAT", 2200),
    "ES": ("VAT", 2100),
    "JP": ("CONSUMPTION", 1000),
    "IN": ("GST", 1800),
}
_GIFT_MESSAGES = (
    "Happy birthday! Love, Sam",
    "Congratulations on the new home.",
    "Merry Christmas from all of us.",
    "Thank you for everything.",
)
_MESSAGE_TO_CUSTOMER = "Thank you for your order. Items may arrive in separate packages."


def cents_text(cents: int) -> str:
    """Amazon's decimal text of an amount in cents."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Warehouse:
    """A vendor warehouse (a DF ship-from party) of one vendor code, its label format and ship methods."""

    warehouse_id: str
    vendor_code: str
    account: str
    marketplace_id: str
    currency: str
    country: str
    address: dict[str, Any]
    label_format: str  # PNG | ZPL: the format Amazon's labels for this warehouse come in
    ship_methods: tuple[tuple[str, str], ...]

    def describe(self) -> dict[str, Any]:
        return {
            "warehouseId": self.warehouse_id,
            "vendorCode": self.vendor_code,
            "marketplaceId": self.marketplace_id,
            "currency": self.currency,
            "labelFormat": self.label_format,
            "shipMethods": [code for code, _ in self.ship_methods],
            "address": self.address,
            "customerInvoices": self.country in CUSTOMER_INVOICE_COUNTRIES,
        }


@dataclass(frozen=True)
class _VendorCodePools:
    """What one vendor code's DF orders are drawn from: warehouses, addresses, parties, tax and prices."""

    context: VendorCodeContext
    warehouses: tuple[Warehouse, ...]
    ship_to: tuple[dict[str, Any], ...]
    selling_party: dict[str, Any]
    bill_to: dict[str, Any]
    tax_type: str
    tax_rate: int  # basis points
    cents: tuple[int, ...]  # net cost per catalogue product, in cents
    # (product index, quantity, sequence) -> (the order item, its tax in cents): built once, shared by the
    # orders (never changed in place), so that seeding builds few dicts.
    items: dict[tuple[int, int, int], tuple[dict[str, Any], int]] = field(default_factory=dict)


def _address(local: Any, name: str, country: str) -> dict[str, Any]:
    state_or_region = local.city()
    for provider in ("state_abbr", "province_abbr", "state", "province", "region", "administrative_unit"):
        draw = getattr(local, provider, None)
        if draw is not None:
            state_or_region = draw()
            break
    return {
        "name": name,
        "addressLine1": local.street_address(),
        "city": local.city(),
        "stateOrRegion": state_or_region,
        "postalCode": local.postcode(),
        "countryCode": country,
        "phone": local.numerify("+## ### ### ####"),
    }


def _order_item(
    pools: _VendorCodePools, index: int, quantity: int, sequence: int
) -> tuple[dict[str, Any], int]:
    """An order line of the catalogue product, and its tax in cents."""
    product = pools.context.catalogue[index]
    currency = pools.context.currency
    price = pools.cents[index]
    tax = (price * quantity * pools.tax_rate + 5000) // 10000
    item = {
        "itemSequenceNumber": _SEQUENCES[sequence],
        "buyerProductIdentifier": product.asin,
        "vendorProductIdentifier": product.sku,
        "title": product.title,
        "orderedQuantity": {"amount": quantity, "unitOfMeasure": "Each"},
        "netPrice": {"currencyCode": currency, "amount": cents_text(price)},
        "taxDetails": {
            "taxLineItem": [
                {
                    "taxRate": f"{pools.tax_rate / 100:.2f}",
                    "taxAmount": {"currencyCode": currency, "amount": cents_text(tax)},
                    "taxableAmount": {"currencyCode": currency, "amount": cents_text(price * quantity)},
                    "type": pools.tax_type,
                }
            ]
        },
        "totalPrice": {"currencyCode": currency, "amount": cents_text(price * quantity)},
    }
    return item, tax


class DfWorldBuilder:
    """Deterministic DF data for one account: warehouses, customers and orders, from (seed, account)."""

    def __init__(self, seed: int, account: VendorAccount) -> None:
        self.account = account
        # The catalogue as Retail draws it: the same random source, the same products.
        catalogue_rng = random.Random(f"{seed}:{account.name}")
        contexts = vendor_code_contexts(seed, account, catalogue_rng)
        self.rng = random.Random(f"{seed}:{account.name}:direct-fulfillment")
        self.pools: list[_VendorCodePools] = []
        with borrowed_fakers() as faker:
            for context in contexts:
                self.pools.append(self._pools(seed, account, context, faker))
        self.warehouses: dict[str, Warehouse] = {
            warehouse.warehouse_id: warehouse for pools in self.pools for warehouse in pools.warehouses
        }
        self.products: dict[str, dict[str, Product]] = {
            pools.context.vendor_code: {product.sku: product for product in pools.context.catalogue}
            for pools in self.pools
        }

    def _pools(
        self, seed: int, account: VendorAccount, context: VendorCodeContext, faker: Any
    ) -> _VendorCodePools:
        _, locale, country, _ = marketplace_of(context.marketplace_id)
        people = faker("df-customers", locale, f"{seed}:{account.name}:{context.vendor_code}")
        warehouses = tuple(
            Warehouse(
                warehouse_id=f"{context.vendor_code}W{number}",
                vendor_code=context.vendor_code,
                account=account.name,
                marketplace_id=context.marketplace_id,
                currency=context.currency,
                country=country,
                address=_address(people, f"{context.vendor_address['name']} warehouse {number}", country),
                label_format="PNG" if number % 2 else "ZPL",
                ship_methods=SHIP_METHODS.get(country, SHIP_METHODS["US"]),
            )
            for number in range(1, WAREHOUSES_PER_VENDOR_CODE + 1)
        )
        ship_to = tuple(_address(people, people.name(), country) for _ in range(ADDRESS_POOL))
        tax_type, tax_rate = TAXES.get(country, TAXES["US"])
        bill_to = {"partyId": context.bill_to["partyId"]}
        if "taxInfo" in context.bill_to:
            bill_to["taxInfo"] = context.bill_to["taxInfo"]
        return _VendorCodePools(
            context=context,
            warehouses=warehouses,
            ship_to=ship_to,
            selling_party={"partyId": context.vendor_code},
            bill_to=bill_to,
            tax_type=tax_type,
            tax_rate=tax_rate,
            cents=tuple(int(product.net_cost * 100) for product in context.catalogue),
        )

    # Numbers -----------------------------------------------------------------------------------------
    def order_number(self) -> str:
        bits = self.rng.getrandbits(48)
        return (
            _DIGITS[bits % 9]
            + _ALPHANUMERIC[bits // 9 % 36]
            + _PAIRS[bits // 324 % 1296]
            + _PAIRS[bits // 419904 % 1296]
            + _PAIRS[bits // 544195584 % 1296]
        )

    def customer_order_number(self) -> str:
        bits = self.rng.getrandbits(50)
        return f"{100 + bits % 900}-{bits // 900 % 10_000_000:07d}-{bits // 9_000_000_000 % 10_000_000:07d}"

    # Orders ------------------------------------------------------------------------------------------
    def warehouse_pools(self, warehouse_id: str) -> tuple[_VendorCodePools, Warehouse] | None:
        for pools in self.pools:
            for warehouse in pools.warehouses:
                if warehouse.warehouse_id == warehouse_id:
                    return pools, warehouse
        return None

    def order_at(
        self,
        created: int,
        warehouse_id: str | None = None,
        out_of_stock: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        """An order placed at `created` (POSIX seconds): Amazon's Order document, version-neutral (no
        orderStatus). `out_of_stock` SKUs are not ordered; None when nothing in the catalogue is left."""
        random_ = self.rng.random
        if warehouse_id is None:
            pools = self.pools[int(random_() * len(self.pools))]
            warehouse = pools.warehouses[int(random_() * len(pools.warehouses))]
        else:
            found = self.warehouse_pools(warehouse_id)
            if found is None:
                return None
            pools, warehouse = found
        catalogue = pools.context.catalogue
        size = len(catalogue)
        chosen: list[int] = []
        for _ in range(1 + int(random_() * random_() * 3)):  # mostly one item, up to three
            for _attempt in range(8):
                index = int(random_() * size)
                if index not in chosen and catalogue[index].sku not in out_of_stock:
                    chosen.append(index)
                    break
        if not chosen:
            return None
        currency = warehouse.currency
        is_gift = random_() < 0.1
        items = []
        total_tax = 0
        cache = pools.items
        for sequence, index in enumerate(chosen, start=1):
            quantity = 1 + int(random_() * random_() * 4)
            cached = cache.get((index, quantity, sequence))
            if cached is None:
                cached = cache[(index, quantity, sequence)] = _order_item(pools, index, quantity, sequence)
            item, tax = cached
            total_tax += tax
            if is_gift:
                item = {
                    **item,
                    "giftDetails": {
                        "giftMessage": _GIFT_MESSAGES[int(random_() * len(_GIFT_MESSAGES))],
                        "giftWrapId": "WRAP-" + _PAIRS[int(random_() * 1296)],
                    },
                }
            items.append(item)
        method = warehouse.ship_methods[int(random_() * len(warehouse.ship_methods))][0]
        priority = random_() < 0.1
        ship_by = created + _DAY * (1 if priority else 2) + int(random_() * 4) * _HOUR
        details: dict[str, Any] = {
            "customerOrderNumber": self.customer_order_number(),
            "orderDate": iso_seconds(created),
            "shipmentDetails": {
                "isPriorityShipment": priority,
                "isScheduledDeliveryShipment": False,
                "isPslipRequired": is_gift or random_() < 0.25,
                "isGift": is_gift,
                "shipMethod": method,
                "shipmentDates": {
                    "requiredShipDate": iso_seconds(ship_by),
                    "promisedDeliveryDate": iso_seconds(ship_by + _DAY * (1 if priority else 3)),
                },
                "messageToCustomer": _MESSAGE_TO_CUSTOMER,
            },
            "taxTotal": {
                "taxLineItem": [
                    {
                        "taxAmount": {"currencyCode": currency, "amount": cents_text(total_tax)},
                        "type": "TOTAL",
                    }
                ]
            },
            "sellingParty": pools.selling_party,
            "shipFromParty": {"partyId": warehouse.warehouse_id},
            "shipToParty": pools.ship_to[int(random_() * len(pools.ship_to))],
            "billToParty": pools.bill_to,
            "items": items,
        }
        return {"purchaseOrderNumber": self.order_number(), "orderDetails": details}
