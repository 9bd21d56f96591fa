"""Who may see and change Direct Fulfillment state: restricted data tokens as Amazon documents them, accounts
kept apart, read-only accounts refused submissions, transactions of one family unknown to the other; and what
survives a restart, and what chaos and the journal do to DF calls."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.pipeline.strict import is_restricted
from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server.df_support import (
    INVOICES,
    PROCESSING_DELAY,
    SCENARIOS,
    TOKEN_HEADER,
    V1,
    V2021,
    Flow,
    acknowledgement,
    acknowledgements_path,
    df_emulator,
    inventory_path,
    orders_path,
    payload,
    shipping_path,
    transaction_path,
    window,
)

RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
UNAUTHORIZED = {
    "errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}]
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from df_emulator(tmp_path_factory, "df-access", seed_size=150)


@pytest.fixture(scope="module")
def flow(emulator: RunningEmulator) -> Flow:
    return Flow(emulator)


def rdt(emulator: RunningEmulator, resources: list[dict[str, str]], account: str = "acme-na") -> str:
    response = requests.post(
        f"{emulator.base_url}{RDT_PATH}",
        headers={TOKEN_HEADER: emulator.access_token(account)},
        json={"restrictedResources": resources},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["restrictedDataToken"]
    return token


def call(emulator: RunningEmulator, method: str, path: str, token: str, **kwargs: Any) -> requests.Response:
    return requests.request(
        method, f"{emulator.base_url}{path}", headers={TOKEN_HEADER: token}, timeout=10, **kwargs
    )


# -- restricted data tokens ----------------------------------------------------------------------------------


def _restricted_calls(emulator: RunningEmulator, number: str) -> list[tuple[str, str, dict[str, Any]]]:
    calls = []
    for operation in emulator.sandbox.registry.operations:
        if not is_restricted(operation):
            continue
        path = operation.path.replace("{purchaseOrderNumber}", number)
        kwargs: dict[str, Any] = {"params": window(emulator)} if "{" not in operation.path else {}
        if operation.method == "POST":
            kwargs = {"json": {"sellingParty": {"partyId": "ACME1"}, "shipFromParty": {"partyId": "ACME1W1"}}}
        calls.append((operation.method, path, kwargs))
    return calls


def test_every_restricted_operation_refuses_an_access_token_and_takes_an_rdt(
    emulator: RunningEmulator, flow: Flow
) -> None:
    number = flow.new_order()["purchaseOrderNumber"]
    calls = _restricted_calls(emulator, number)
    token = emulator.restricted_data_token()

    # getOrders and getOrder in both versions; the six reads of shipping in both; createShippingLabels.
    assert len(calls) == 17
    for method, path, kwargs in calls:
        refused = call(emulator, method, path, emulator.access_token(), **kwargs)
        assert (refused.status_code, refused.json()) == (403, UNAUTHORIZED), path
        answered = call(emulator, method, path, token, **kwargs)
        assert answered.status_code in (200, 400, 404), (path, answered.text)  # answered, whatever the state
        assert answered.headers["x-vendor-sandbox-answer"] in ("stateful", "error:handle"), path


def test_an_rdt_works_only_for_what_it_names(emulator: RunningEmulator, flow: Flow) -> None:
    number = flow.new_order()["purchaseOrderNumber"]
    token = rdt(emulator, [{"method": "GET", "path": f"{orders_path(V2021)}/{number}"}])

    assert call(emulator, "GET", f"{orders_path(V2021)}/{number}", token).status_code == 200
    for path in (f"{orders_path(V1)}/{number}", f"{shipping_path(V2021, 'packingSlips')}/{number}"):
        assert call(emulator, "GET", path, token).json() == UNAUTHORIZED
    listing = call(emulator, "GET", orders_path(V2021), token, params=window(emulator))
    assert listing.status_code == 403
    submission = call(emulator, "POST", acknowledgements_path(V2021), token, json={})
    assert submission.status_code == 403  # an RDT is no access token


def test_an_rdt_is_its_accounts_own(emulator: RunningEmulator, flow: Flow) -> None:
    number = flow.new_order()["purchaseOrderNumber"]
    generic = [{"method": "GET", "path": f"{orders_path(V2021)}/{{purchaseOrderNumber}}"}]
    nordwind = rdt(emulator, generic, "nordwind-eu")

    other = call(emulator, "GET", f"{orders_path(V2021)}/{number}", nordwind)

    assert other.status_code == 404  # another account's order is no order of this one
    assert other.json()["errors"][0]["code"] == "NotFound"


def test_an_expired_rdt_is_refused(emulator: RunningEmulator, flow: Flow) -> None:
    number = flow.new_order()["purchaseOrderNumber"]
    tokens = emulator.sandbox.tokens
    parent = tokens.lookup(emulator.access_token())
    assert parent is not None
    resources = [{"method": "GET", "path": f"{orders_path(V2021)}/{number}"}]
    short = tokens.issue_restricted_data_token(parent, resources, lifetime=1).access_token

    assert call(emulator, "GET", f"{orders_path(V2021)}/{number}", short).status_code == 200
    time.sleep(1.05)
    expired = call(emulator, "GET", f"{orders_path(V2021)}/{number}", short)

    assert expired.status_code == 403
    assert expired.json()["errors"][0]["details"] == "The access token you provided has expired."


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ([], "Empty target resource argument found"),
        ([{"method": "GET", "path": "/vendor/orders/v1/purchaseOrders"}], "Application do not have access"),
        ([{"method": "POST", "path": orders_path(V2021)}], "Application do not have access"),
        ([{"method": "GET", "path": "/orders/v0/orders"}], "Application do not have access"),
    ],
    ids=["none", "not-restricted", "wrong-method", "not-served"],
)
def test_an_rdt_is_refused_for_what_is_not_restricted(
    emulator: RunningEmulator, resources: list[dict[str, str]], message: str
) -> None:
    response = call(
        emulator, "POST", RDT_PATH, emulator.access_token(), json={"restrictedResources": resources}
    )

    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == "InvalidInput" and error["message"].startswith(message)


# -- accounts apart, read-only refused, families apart -------------------------------------------------------


def test_another_account_sees_nothing_and_changes_nothing(emulator: RunningEmulator, flow: Flow) -> None:
    order, _ = flow.labelled_order()
    number = order["purchaseOrderNumber"]
    nordwind = Flow(emulator, "nordwind-eu")

    listed = {
        o["purchaseOrderNumber"]
        for o in nordwind.session.get(
            nordwind.url(orders_path(V2021)), params={**window(emulator), "limit": 100}, timeout=10
        ).json()["orders"]
    }
    read = nordwind.session.get(nordwind.url(f"{orders_path(V2021)}/{number}"), timeout=10)
    label = nordwind.session.get(nordwind.url(shipping_path(V2021, f"shippingLabels/{number}")), timeout=10)
    status = nordwind.submit(acknowledgements_path(V2021), acknowledgement(order, vendorOrderNumber="THEIRS"))

    assert number not in listed
    assert read.status_code == 404 and label.status_code == 404
    assert status["status"] == "Failure"
    assert status["errors"]["errors"][0]["code"] == "INVALID_PURCHASE_ORDER_NUMBER"
    acme_transaction = flow.session.post(flow.url(acknowledgements_path(V2021)), json={}, timeout=10).json()
    other = nordwind.session.get(
        nordwind.url(transaction_path(V2021, acme_transaction["transactionId"])), timeout=10
    )
    assert other.status_code == 404


def test_a_read_only_account_reads_but_cannot_submit(emulator: RunningEmulator) -> None:
    globex = emulator.session("globex-readonly")
    orders = globex.get(f"{emulator.base_url}{orders_path(V2021)}", params=window(emulator), timeout=10)
    assert orders.status_code == 200 and orders.json()["orders"] == []  # it drop-ships nothing
    submissions = [
        acknowledgements_path(V1),
        acknowledgements_path(V2021),
        shipping_path(V1, "shippingLabels"),
        shipping_path(V2021, "shipmentConfirmations"),
        shipping_path(V2021, "shipmentStatusUpdates"),
        shipping_path(V2021, "containerLabel"),
        shipping_path(V2021, "shippingLabels/ABC123"),
        INVOICES,
        inventory_path("GLBX1W1"),
        SCENARIOS,
    ]
    for path in submissions:
        response = globex.post(f"{emulator.base_url}{path}", json={}, timeout=10)
        assert (response.status_code, response.json()) == (403, UNAUTHORIZED), path


def test_transactions_of_one_family_are_unknown_to_the_other(emulator: RunningEmulator, flow: Flow) -> None:
    df = flow.session.post(flow.url(acknowledgements_path(V1)), json={}, timeout=10).json()["payload"][
        "transactionId"
    ]
    retail = flow.session.post(
        flow.url("/vendor/orders/v1/acknowledgements"), json={"acknowledgements": []}, timeout=10
    ).json()["payload"]["transactionId"]
    scenario = flow.session.post(
        flow.url(SCENARIOS),
        json={"orders": [{"sellingParty": {"partyId": "ACME1"}, "shipFromParty": {"partyId": "ACME1W1"}}]},
        timeout=10,
    ).json()["transactionId"]

    assert (
        flow.session.get(flow.url(f"/vendor/transactions/v1/transactions/{df}"), timeout=10).status_code
        == 404
    )
    for version in (V1, V2021):
        assert flow.session.get(flow.url(transaction_path(version, retail)), timeout=10).status_code == 404
        assert flow.session.get(flow.url(transaction_path(version, scenario)), timeout=10).status_code == 404
        assert flow.session.get(flow.url(transaction_path(version, df)), timeout=10).status_code == 200
    sandbox_read = f"/vendor/directFulfillment/sandbox/2021-10-28/transactions/{df}"
    assert flow.session.get(flow.url(sandbox_read), timeout=10).status_code == 404


# -- strict mode, chaos and the journal ----------------------------------------------------------------------


def test_strict_mode_records_the_token_kind_violation(emulator: RunningEmulator) -> None:
    requests.put(f"{emulator.base_url}/_sandbox/strict", json={"enabled": True}, timeout=10)
    try:
        response = call(emulator, "GET", orders_path(V2021), emulator.access_token(), params=window(emulator))
    finally:
        requests.put(f"{emulator.base_url}/_sandbox/strict", json={"enabled": False}, timeout=10)

    assert response.status_code == 403
    assert response.headers["x-vendor-sandbox-violations"] == "token-kind"


def test_chaos_rules_and_the_journal_work_on_direct_fulfillment(
    emulator: RunningEmulator, flow: Flow
) -> None:
    base = emulator.base_url
    requests.delete(f"{base}/_sandbox/journal", timeout=10)
    rule = {"operation": "getOrders", "first": 1, "action": "service_unavailable"}
    assert requests.post(f"{base}/_sandbox/faults", json=rule, timeout=10).status_code in (200, 201)
    try:
        faulted = flow.session.get(flow.url(orders_path(V2021)), params=window(emulator), timeout=10)
        retried = flow.session.get(flow.url(orders_path(V2021)), params=window(emulator), timeout=10)
    finally:
        requests.delete(f"{base}/_sandbox/faults", timeout=10)
    order = flow.new_order()
    submitted = flow.session.post(
        flow.url(acknowledgements_path(V2021)), json=acknowledgement(order), timeout=10
    )

    assert faulted.status_code == 503 and retried.status_code == 200
    entries = requests.get(f"{base}/_sandbox/journal", params={"account": "acme-na"}, timeout=10).json()[
        "entries"
    ]
    by_operation = {(entry["operation"], entry["answered_by"]) for entry in entries}
    assert (
        "vendor/directFulfillment/orders/2021-12-28#getOrders",
        "fault:service_unavailable",
    ) in by_operation
    assert ("vendor/directFulfillment/orders/2021-12-28#getOrders", "stateful") in by_operation
    journaled = next(
        entry for entry in entries if entry["request_id"] == submitted.headers["x-amzn-RequestId"]
    )
    assert journaled["answered_by"] == "stateful" and journaled["status"] == 202
    assert (
        journaled["request_body"]["orderAcknowledgements"][0]["purchaseOrderNumber"]
        == order["purchaseOrderNumber"]
    )


def test_a_blind_resend_after_a_dropped_answer_is_a_duplicate(emulator: RunningEmulator, flow: Flow) -> None:
    order = flow.new_order()
    body = acknowledgement(order)
    header = {"x-vendor-sandbox-fault": "drop after_handle=true"}
    with pytest.raises(requests.ConnectionError):
        flow.session.post(flow.url(acknowledgements_path(V2021)), json=body, headers=header, timeout=10)

    status = flow.submit(acknowledgements_path(V2021), body)

    assert status["status"] == "Failure"
    assert status["errors"]["errors"][0]["code"] == "DUPLICATE_TRANSACTION"
    assert flow.order(order["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "ACCEPTED"  # the first


# -- restarts ------------------------------------------------------------------------------------------------


def test_a_restart_loses_nothing_answered_202(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = start_emulator(
        data_dir=data, store="sqlite", rate_scale=1000.0, processing_delay=30.0, seed_size=300
    )
    try:
        flow = Flow(first)
        order = flow.new_order()
        response = flow.session.post(
            flow.url(acknowledgements_path(V2021)), json=acknowledgement(order), timeout=10
        )
        assert response.status_code == 202
        transaction_id = response.json()["transactionId"]
        still = flow.session.get(flow.url(transaction_path(V2021, transaction_id)), timeout=10)
        assert still.json()["transactionStatus"]["status"] == "Processing"
    finally:
        first.stop()

    second = start_emulator(
        data_dir=data, store="sqlite", rate_scale=1000.0, processing_delay=PROCESSING_DELAY, seed_size=300
    )
    try:
        flow = Flow(second)
        deadline = time.monotonic() + 5
        while True:
            status = payload(flow.session.get(flow.url(transaction_path(V1, transaction_id)), timeout=10), V1)
            if status["transactionStatus"]["status"] != "Processing" or time.monotonic() > deadline:
                break
            time.sleep(PROCESSING_DELAY)
        assert status["transactionStatus"]["status"] == "Success"
        assert flow.order(order["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "ACCEPTED"
        assert flow.request_label(order)["status"] == "Success"
    finally:
        second.stop()

    third = start_emulator(data_dir=data, store="sqlite", rate_scale=1000.0, seed_size=300)
    try:
        flow = Flow(third)
        assert flow.label(order)["purchaseOrderNumber"] == order["purchaseOrderNumber"]
        assert flow.order(order["purchaseOrderNumber"])["orderDetails"]["orderStatus"] == "ACCEPTED"
    finally:
        third.stop()
