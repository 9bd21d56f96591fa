"""Each account's catalogue and parties per vendor code, shared by the Retail and Direct Fulfillment worlds:
SKU <-> GTIN <-> ASIN with net costs and list prices in the marketplace currency, the fulfilment centres of
the marketplace, the vendor's address and Amazon's bill-to party. Deterministic: the same random source
gives the same catalogue (both families build it from the account's own seeded source, in the same order).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mockserver.accounts import VendorAccount
from mockserver.domain.seeding import borrowed_fakers

if TYPE_CHECKING:
    from faker import Faker

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
    "A21TJRUUN4KGV": ("INR", "en_IN", "IN", ("BOM5", "DEL4")),
}
_DEFAULT_MARKETPLACE = "ATVPDKIKX0DER"
_ALPHANUMERIC = string.ascii_uppercase + string.digits
_VAT_COUNTRIES = ("DE", "FR", "GB", "IT", "ES")


@dataclass(frozen=True)
class Product:
    """A catalogue product of a vendor code: SKU, GTIN, ASIN, title, net cost, list price and case size."""

    sku: str
    gtin: str
    asin: str
    title: str
    net_cost: Decimal  # per each, in the marketplace currency
    list_price: Decimal
    case_size: int

    @cached_property
    def net_cost_text(self) -> str:
        return money_text(self.net_cost)

    @cached_property
    def list_price_text(self) -> str:
        return money_text(self.list_price)


@dataclass(frozen=True)
class VendorCodeContext:
    """One vendor code of an account: its marketplace and currency, catalogue, address and parties."""

    vendor_code: str
    marketplace_id: str
    currency: str
    country: str
    ship_to: tuple[dict[str, Any], ...]  # PartyIdentification of each fulfilment centre
    catalogue: tuple[Product, ...]
    vendor_address: dict[str, Any]
    # Shared by every document of this vendor code: a stored document is never changed in place (the worlds
    # change private copies and store those), so sharing these dicts is safe and cheap.
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


def money_text(value: Decimal) -> str:
    """Amazon's decimal text of an amount: two places."""
    return f"{value.quantize(Decimal('0.01'))}"


def vendor_code_context(
    rng: random.Random, account: VendorAccount, index: int, vendor_code: str, names: Faker, faker: Any
) -> VendorCodeContext:
    marketplaces = account.marketplace_ids or (_DEFAULT_MARKETPLACE,)
    marketplace_id = marketplaces[min(index, len(marketplaces) - 1)]
    currency, locale, country, centres = MARKETPLACES.get(marketplace_id, MARKETPLACES[_DEFAULT_MARKETPLACE])
    local = faker("addresses", locale, f"{rng.random()}")
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
        cost = Decimal(rng.randrange(150, 25000)) / 100
        catalogue.append(
            Product(
                sku=f"{vendor_code}-{number + 1:04d}",
                gtin=_gtin(rng, country),
                asin="B0" + "".join(rng.choice(_ALPHANUMERIC) for _ in range(8)),
                title=names.catch_phrase(),
                net_cost=cost,
                list_price=(cost * Decimal("1.6")).quantize(Decimal("0.01")),
                case_size=rng.choice((1, 4, 6, 12, 24)),
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
            "taxRegistrationNumber": f"{country}{rng.randint(100000000, 999999999)}",
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


def vendor_code_contexts(seed: int, account: VendorAccount, rng: random.Random) -> list[VendorCodeContext]:
    """The account's vendor codes, each with its catalogue and parties, drawn from `rng` (seeded from the
    seed and the account by the caller) and the account's Fakers."""
    with borrowed_fakers() as faker:
        names = faker("names", "en_US", f"{seed}:{account.name}")
        return [
            vendor_code_context(rng, account, index, code, names, faker)
            for index, code in enumerate(account.vendor_codes)
        ]


def marketplace_of(marketplace_id: str) -> tuple[str, str, str, tuple[str, ...]]:
    """(currency, Faker locale, country, fulfilment centres) of a marketplace; the US for one not listed."""
    return MARKETPLACES.get(marketplace_id, MARKETPLACES[_DEFAULT_MARKETPLACE])


def catalogue_rows(contexts: list[VendorCodeContext]) -> list[dict[str, Any]]:
    """The catalogue as `/_sandbox/catalogue/<account>` shows it."""
    return [
        {
            "vendorCode": context.vendor_code,
            "marketplaceId": context.marketplace_id,
            "sku": product.sku,
            "gtin": product.gtin,
            "asin": product.asin,
            "title": product.title,
            "netCost": {"currencyCode": context.currency, "amount": money_text(product.net_cost)},
            "caseSize": product.case_size,
        }
        for context in contexts
        for product in context.catalogue
    ]
