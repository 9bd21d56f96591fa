"""Amazon's two Python clients against drift: what each tolerates and what breaks it (the README's table).

Each test runs the same order flow a vendor's system runs (list New purchase orders, read one, acknowledge
it, poll the transaction) with one client, under one drift rule (the shipped plan's own parameters) or the
whole shipped plan, and asserts both how far the flow got and the tolerance verdict. The acknowledgement is
built from the purchase order's known fields, one by one, as a careful integration builds it, so what is
judged is the client library, not the test's own code.

Found (python-amazon-sp-api 2.1.35, amzn-sp-api 1.13.0):
- python-amazon-sp-api hands the JSON over as dicts: every drift reaches the caller's code unchanged, and the
  library itself never fails on it. Its Direct Fulfillment clients default to v1 (`version=` not given), so
  when Amazon retires v1 they get 403 until `version="2021-12-28"` is passed.
- amzn-sp-api deserialises into generated models with client-side validation on: unknown properties are
  dropped silently, order and nulls of optional fields are fine, but an enum value it does not know or a
  required field that is gone raises `ValueError` while parsing the answer: the flow stops there.
"""

from __future__ import annotations

import gc
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mockserver.chaos.plan import load_plan
from mockserver.testing.drift import DriftControl
from mockserver.testing.server import RunningEmulator, start_emulator

sp_api = pytest.importorskip("sp_api")
spapi = pytest.importorskip("spapi")

from sp_api.api import (  # noqa: E402
    Tokens,
    VendorDirectFulfillmentOrders,
    VendorOrders,
    VendorTransactionStatus,
)
from sp_api.auth import AccessTokenClient  # noqa: E402
from sp_api.auth import access_token_client as token_module  # noqa: E402
from sp_api.base import Marketplaces, SellingApiForbiddenException  # noqa: E402
from spapi import VendorOrdersApi, VendorTransactionApi  # noqa: E402
from spapi.auth.credentials import SPAPIConfig  # noqa: E402
from spapi.client import SPAPIClient  # noqa: E402
from spapi.rest import ApiException  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_PLAN = {"rules": load_plan(REPOSITORY / "fixtures" / "plans" / "drift.yaml").rules}
FLOW = ["submitAcknowledgement", "getTransaction"]  # what the flow must still reach after a drift
DF_WINDOW = {"createdAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-01-02T00:00:00Z"}


def shipped_rule(action: str) -> dict[str, Any]:
    """The shipped plan's rule for `action`, made to fire on every call (no probability)."""
    (rule,) = [rule for rule in SHIPPED_PLAN["rules"] if rule["action"] == action]
    return {key: value for key, value in rule.items() if key not in ("probability", "id", "description")}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("drift-clients"),
        store="memory",
        rate_scale=1000.0,
        processing_delay=0.05,
        seed_size=80,
        seed=11,
    )
    token_module.cache.clear()
    yield running
    for close in _CLOSE:
        close()
    _CLOSE.clear()
    gc.collect()  # any socket left open surfaces here, in this module, not in a later test
    running.stop()
    token_module.cache.clear()


_CLOSE: list[Callable[[], None]] = []
_TAKEN: set[str] = set()


@pytest.fixture
def control(emulator: RunningEmulator) -> Iterator[DriftControl]:
    with DriftControl(emulator.base_url) as drift:
        yield drift
        drift.clear()


# -- the flow, as a vendor's system runs it -----------------------------------------------------------------


def _quantity(quantity: dict[str, Any]) -> dict[str, Any]:
    return {
        key: quantity[key] for key in ("amount", "unitOfMeasure", "unitSize") if quantity.get(key) is not None
    }


def acknowledgement_of(order: dict[str, Any]) -> dict[str, Any]:
    """The acknowledgement built from the known fields of the order, one by one."""
    details = order["orderDetails"]
    items = []
    for item in details["items"]:
        line = {
            "itemSequenceNumber": item["itemSequenceNumber"],
            "orderedQuantity": _quantity(item["orderedQuantity"]),
            "itemAcknowledgements": [
                {
                    "acknowledgementCode": "Accepted",
                    "acknowledgedQuantity": _quantity(item["orderedQuantity"]),
                }
            ],
        }
        for key in ("amazonProductIdentifier", "vendorProductIdentifier"):
            if item.get(key):
                line[key] = item[key]
        if item.get("netCost"):
            line["netCost"] = {key: item["netCost"][key] for key in ("currencyCode", "amount")}
        items.append(line)
    return {
        "acknowledgements": [
            {
                "purchaseOrderNumber": order["purchaseOrderNumber"],
                "sellingParty": {"partyId": details["sellingParty"]["partyId"]},
                "acknowledgementDate": "2026-01-01T00:00:00Z",
                "items": items,
            }
        ]
    }


def _pick(orders: list[dict[str, Any]]) -> dict[str, Any]:
    for order in orders:
        number = order["purchaseOrderNumber"]
        if number not in _TAKEN and all(
            (item.get("orderedQuantity") or {}).get("amount") for item in order["orderDetails"]["items"]
        ):
            _TAKEN.add(number)
            return order
    raise AssertionError("no New purchase order left")


@dataclass
class Outcome:
    reached: list[str]
    error: BaseException | None = None

    @property
    def completed(self) -> bool:
        return self.error is None


def _flow(steps: list[tuple[str, Callable[[Any], Any]]]) -> Outcome:
    outcome, value = Outcome([]), None
    for name, step in steps:
        try:
            value = step(value)
        except Exception as error:  # the integration's job stops here, as it would in production
            outcome.error = error
            return outcome
        outcome.reached.append(name)
    return outcome


def python_sp_api(emulator: RunningEmulator, api: type[Any], **options: Any) -> Any:
    account = emulator.account("acme-na")
    lwa = type("EmulatorLwa", (AccessTokenClient,), {"scheme": "http://", "host": emulator.base_url[7:]})
    client = api(
        Marketplaces.US,
        credentials={
            "refresh_token": account["refresh_token"],
            "lwa_app_id": account["client_id"],
            "lwa_client_secret": account["client_secret"],
        },
        auth_token_client_class=lwa,
        **options,
    )
    client.endpoint = emulator.base_url
    _CLOSE.append(client._transport._client.close)
    _CLOSE.append(client._auth._transport._client.close)
    return client


def flow_with_python_amazon_sp_api(emulator: RunningEmulator) -> Outcome:
    orders = python_sp_api(emulator, VendorOrders)
    transactions = python_sp_api(emulator, VendorTransactionStatus)

    def poll(transaction_id: str) -> str:
        for _ in range(100):
            status: str = transactions.get_transaction(transaction_id).payload["transactionStatus"]["status"]
            if status != "Processing":
                return status
            time.sleep(0.05)
        raise AssertionError("still Processing")

    return _flow(
        [
            ("getPurchaseOrders", lambda _: orders.get_purchase_orders(purchaseOrderState="New", limit=20)),
            (
                "getPurchaseOrder",
                lambda listing: (
                    orders.get_purchase_order(_pick(listing.payload["orders"])["purchaseOrderNumber"]).payload
                ),
            ),
            (
                "submitAcknowledgement",
                lambda order: orders.submit_acknowledgement(**acknowledgement_of(order)),
            ),
            ("getTransaction", lambda submitted: poll(submitted.payload["transactionId"])),
        ]
    )


def flow_with_amzn_sp_api(emulator: RunningEmulator) -> Outcome:
    account = emulator.account("acme-na")
    config = SPAPIConfig(
        client_id=account["client_id"],
        client_secret=account["client_secret"],
        refresh_token=account["refresh_token"],
        region="NA",
    )
    sdk = SPAPIClient(config, oauth_endpoint=f"{emulator.base_url}/auth/o2/token", endpoint=emulator.base_url)
    _CLOSE.append(sdk.api_client.rest_client.pool_manager.clear)
    orders, transactions = VendorOrdersApi(sdk.api_client), VendorTransactionApi(sdk.api_client)

    def listing(_: Any) -> list[dict[str, Any]]:
        answer = orders.get_purchase_orders(purchase_order_state="New", limit=20)
        return [sdk.api_client.sanitize_for_serialization(order) for order in answer.payload.orders]

    def poll(transaction_id: str) -> str:
        for _ in range(100):
            status: str = transactions.get_transaction(transaction_id).payload.transaction_status.status
            if status != "Processing":
                return status
            time.sleep(0.05)
        raise AssertionError("still Processing")

    return _flow(
        [
            ("getPurchaseOrders", listing),
            (
                "getPurchaseOrder",
                lambda found: sdk.api_client.sanitize_for_serialization(
                    orders.get_purchase_order(_pick(found)["purchaseOrderNumber"]).payload
                ),
            ),
            ("submitAcknowledgement", lambda order: orders.submit_acknowledgement(acknowledgement_of(order))),
            ("getTransaction", lambda submitted: poll(submitted.payload.transaction_id)),
        ]
    )


CLIENTS = {
    "python-amazon-sp-api": flow_with_python_amazon_sp_api,
    "amzn-sp-api": flow_with_amzn_sp_api,
}
COMPLETED = ["getPurchaseOrders", "getPurchaseOrder", "submitAcknowledgement", "getTransaction"]

# What each client does under each drift of the shipped plan: None when the whole flow completes, else the
# error the client raises (type and a fragment of its message) on the first call.
EXPECTED: dict[tuple[str, str], tuple[type[BaseException], str] | None] = {
    ("python-amazon-sp-api", "extra_fields"): None,
    ("python-amazon-sp-api", "omit_optional"): None,
    ("python-amazon-sp-api", "deprecated_removed"): None,
    ("python-amazon-sp-api", "new_enum_value"): None,
    ("python-amazon-sp-api", "reordered"): None,
    ("python-amazon-sp-api", "nulls"): None,
    ("amzn-sp-api", "extra_fields"): None,
    ("amzn-sp-api", "omit_optional"): None,
    ("amzn-sp-api", "deprecated_removed"): (ValueError, "`is_back_order_allowed`, must not be `None`"),
    ("amzn-sp-api", "new_enum_value"): (ValueError, "`purchase_order_type` (ReplenishmentOrder)"),
    ("amzn-sp-api", "reordered"): None,
    ("amzn-sp-api", "nulls"): None,
}


@pytest.mark.parametrize(("client", "action"), sorted(EXPECTED))
def test_each_client_against_each_drift_of_the_shipped_plan(
    emulator: RunningEmulator, control: DriftControl, client: str, action: str
) -> None:
    control.apply({"rules": [shipped_rule(action)]}, tolerance={"expect": FLOW})
    outcome = CLIENTS[client](emulator)
    expected = EXPECTED[(client, action)]
    verdict = control.tolerance()
    if expected is None:
        assert outcome.completed, f"{client} broke under {action}: {outcome.error!r}"
        assert outcome.reached == COMPLETED
        verdict.assert_passed()
        assert verdict.clients[0]["observations"]["drift_actions"][action] >= 1
    else:
        kind, fragment = expected
        assert isinstance(outcome.error, kind) and fragment in str(outcome.error), repr(outcome.error)
        assert outcome.reached == []  # it could not read the listing
        verdict.assert_failed("flow_continued")
    assert control.verdict().passed  # nothing here for the retry verdict to object to


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_each_client_against_the_whole_shipped_plan(
    emulator: RunningEmulator, control: DriftControl, client: str
) -> None:
    control.apply("drift", tolerance={"expect": FLOW})
    outcome = CLIENTS[client](emulator)
    verdict = control.tolerance()
    if client == "python-amazon-sp-api":
        assert outcome.completed, repr(outcome.error)
        verdict.assert_passed()
    else:  # the deprecated field is gone from every listing
        assert isinstance(outcome.error, ValueError)
        verdict.assert_failed("flow_continued")


def test_the_readme_says_what_each_client_tolerates_and_what_breaks_it() -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    for action in sorted({action for _, action in EXPECTED}):
        row = re.search(rf"^\| `{action}` \|(.+)\|$", readme, re.MULTILINE)
        assert row, f"README has no row for {action}"
        cells = [cell.strip() for cell in row.group(1).split("|")]
        for cell, client in zip(cells, ("python-amazon-sp-api", "amzn-sp-api"), strict=False):
            word = "tolerates" if EXPECTED[(client, action)] is None else "breaks"
            assert cell.startswith(word), f"README says {cell!r} for {client} under {action}"


@pytest.mark.parametrize("action", ["new_enum_value", "deprecated_removed"])
def test_amzn_sp_api_tolerates_what_broke_it_with_client_side_validation_off(
    emulator: RunningEmulator, control: DriftControl, action: str
) -> None:
    from spapi.configuration import Configuration

    control.apply({"rules": [shipped_rule(action)]}, tolerance={"expect": FLOW})
    relaxed = Configuration()
    relaxed.client_side_validation = False
    previous = Configuration._default
    Configuration.set_default(relaxed)  # the models read it from the default configuration
    try:
        outcome = flow_with_amzn_sp_api(emulator)
    finally:
        Configuration._default = previous
    assert outcome.completed, repr(outcome.error)
    control.tolerance().assert_passed()


# -- retirement ---------------------------------------------------------------------------------------------


def _retirement_rules() -> list[dict[str, Any]]:
    return [rule for rule in SHIPPED_PLAN["rules"] if rule["action"] == "retire"]


def test_python_amazon_sp_api_direct_fulfillment_defaults_to_v1_and_meets_its_retirement(
    emulator: RunningEmulator, control: DriftControl
) -> None:
    control.apply({"rules": _retirement_rules()})
    control._call("POST", "/clock", {"freeze": True, "set": "2026-12-01T00:00:00Z"})
    try:
        # Direct Fulfillment orders are personal data: the client reads them with a restricted data token.
        rdt = (
            python_sp_api(emulator, Tokens)
            .create_restricted_data_token(
                restrictedResources=[
                    {"method": "GET", "path": "/vendor/directFulfillment/orders/v1/purchaseOrders"},
                    {"method": "GET", "path": "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"},
                ]
            )
            .payload["restrictedDataToken"]
        )
        default = python_sp_api(emulator, VendorDirectFulfillmentOrders, restricted_data_token=rdt)  # v1
        deprecated = default.get_orders(**DF_WINDOW)
        assert deprecated.headers["Deprecation"] == "@1780272000"  # the notice reaches the caller's hands
        assert deprecated.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"

        control._call("POST", "/clock", {"set": "2027-06-30T00:00:00Z"})
        with pytest.raises(SellingApiForbiddenException) as retired:
            default.get_orders(**DF_WINDOW)
        assert retired.value.code == 403
        assert retired.value.error[0]["message"] == "Access to requested resource is denied."

        current = python_sp_api(
            emulator, VendorDirectFulfillmentOrders, version="2021-12-28", restricted_data_token=rdt
        )
        assert current.get_orders(**DF_WINDOW).payload is not None
    finally:
        control._call("POST", "/clock", {"freeze": False})
        control._call("POST", "/reset")


def test_amzn_sp_api_gets_the_removed_versions_403_as_an_api_exception(
    emulator: RunningEmulator, control: DriftControl
) -> None:
    control.apply(
        {"rules": [{"operation": "getPurchaseOrders", "action": "retire", "params": {"date": "2020-01-01"}}]}
    )
    outcome = flow_with_amzn_sp_api(emulator)
    assert isinstance(outcome.error, ApiException) and outcome.error.status == 403
    journal = control.journal()
    assert journal[-1]["answered_by"] == "fault:retire"
    assert control.tolerance().report["clients"][0]["observations"]["retired_answers"] == 1
