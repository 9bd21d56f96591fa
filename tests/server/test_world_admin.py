"""The admin API the inspector reads: an account's world, its transactions with the rules they broke, the
journal's summary view and filters, the demo accounts and the rule books; wrong accounts, numbers and
filters answered in Amazon's shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator
from tests.server import retail_support
from tests.server.df_support import Flow


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    yield from retail_support.retail_emulator(tmp_path_factory, "world-admin", seed_size=40)


@pytest.fixture(scope="module")
def story(emulator: RunningEmulator) -> dict[str, Any]:
    """An acknowledged, shipped, received and invoiced PO; a broken acknowledgement; a shipped DF order."""
    session = emulator.session()
    order = retail_support.new_purchase_order(emulator, session)
    number = order["purchaseOrderNumber"]
    broken = retail_support.acknowledgement(order, sellingParty={"partyId": "NOT-OURS"})
    failure = retail_support.post(emulator, session, retail_support.ACK, broken).json()["payload"]
    assert (
        retail_support.wait_for_transaction(emulator, session, failure["transactionId"])["status"]
        == "Failure"
    )
    ack = retail_support.acknowledgement(order)
    assert retail_support.submit(emulator, session, retail_support.ACK, ack)["status"] == "Success"
    asn = retail_support.shipment_confirmation(order, f"ASN-{number}")
    assert retail_support.submit(emulator, session, retail_support.ASN, asn)["status"] == "Success"
    requests.post(f"{emulator.base_url}/_sandbox/clock/advance", json={"seconds": 3 * 86400}, timeout=10)
    invoice = retail_support.invoice(order, f"INV-{number}")
    assert retail_support.submit(emulator, session, retail_support.INVOICES, invoice)["status"] == "Success"
    flow = Flow(emulator)
    df_order = flow.shipped_order()
    return {
        "number": number,
        "failure": failure["transactionId"],
        "df_number": df_order["purchaseOrderNumber"],
    }


def admin(emulator: RunningEmulator, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{emulator.base_url}/_sandbox{path}", params=params, timeout=10)


def test_the_summary_counts_the_accounts_world(emulator: RunningEmulator, story: dict[str, Any]) -> None:
    summary = admin(emulator, "/world/acme-na").json()
    assert summary["account"]["name"] == "acme-na" and summary["account"]["region"] == "na"
    by_state = summary["purchase_orders"]["by_state"]
    total = sum(item["count"] for item in by_state.values())
    assert total == summary["purchase_orders"]["total"] == emulator.sandbox.purchase_orders.count("acme-na")
    assert summary["shipment_confirmations"] == 1 and summary["invoices"] == 1
    assert summary["transactions"]["retail"]["Failure"] == 1
    assert summary["transactions"]["retail"]["Success"] == 3
    assert summary["df_orders"]["total"] == emulator.sandbox.df_orders.count("acme-na")
    assert summary["df_labels"] >= 1
    # Another account's world is its own.
    other = admin(emulator, "/world/nordwind-eu").json()
    assert other["transactions"]["retail"] == {"Processing": 0, "Success": 0, "Failure": 0}


def test_a_purchase_order_with_its_documents_transactions_and_history(
    emulator: RunningEmulator, story: dict[str, Any]
) -> None:
    number = story["number"]
    found = admin(emulator, f"/world/acme-na/purchase-orders/{number}").json()
    assert found["number"] == number and found["state"] in {"Acknowledged", "Closed"}
    assert [item["identifier"] for item in found["documents"]["shipment_confirmations"]] == [f"ASN-{number}"]
    assert [item["identifier"] for item in found["documents"]["invoices"]] == [f"INV-{number}"]
    assert [item["status"] for item in found["transactions"]] == ["Success", "Success", "Success", "Failure"]
    assert found["transactions"][-1]["rules"] == ["ack-selling-party"]
    events = [item["event"] for item in found["history"]]
    assert any(event.startswith("created (") for event in events)
    assert any("acknowledged" in event for event in events)
    assert any(event == f"shipment confirmation ASN-{number}" for event in events)
    assert any("received" in event for event in events)
    assert any(event == f"Invoice INV-{number}" for event in events)
    assert [item["at"] for item in found["history"]] == sorted(item["at"] for item in found["history"])


def test_transactions_name_the_rules_a_failure_broke(
    emulator: RunningEmulator, story: dict[str, Any]
) -> None:
    failures = admin(emulator, "/world/acme-na/transactions", status="Failure").json()["transactions"]
    assert [item["transaction_id"] for item in failures] == [story["failure"]]
    assert failures[0]["rules"] == ["ack-selling-party"] and "body" not in failures[0]
    detail = admin(emulator, f"/world/acme-na/transactions/{story['failure']}").json()
    assert detail["body"]["acknowledgements"][0]["sellingParty"] == {"partyId": "NOT-OURS"}
    assert detail["documents"] == [f"acknowledgements:purchaseOrderNumber={story['number']}"]
    # Another account cannot see it, as on the SP-API.
    assert admin(emulator, f"/world/nordwind-eu/transactions/{story['failure']}").status_code == 404


def test_pages_of_purchase_orders_never_skip_or_repeat(
    emulator: RunningEmulator, story: dict[str, Any]
) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = admin(
            emulator, "/world/acme-na/purchase-orders", limit=7, **({"after": after} if after else {})
        )
        body = page.json()
        seen += [item["number"] for item in body["purchase_orders"]]
        after = body["next"]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == emulator.sandbox.purchase_orders.count("acme-na")
    closed = admin(emulator, "/world/acme-na/purchase-orders", state="Closed", limit=500).json()
    assert {item["state"] for item in closed["purchase_orders"]} <= {"Closed"}


def test_shipments_invoices_and_df_orders(emulator: RunningEmulator, story: dict[str, Any]) -> None:
    shipments = admin(emulator, "/world/acme-na/shipments").json()
    confirmation = shipments["shipment_confirmations"][0]
    assert confirmation["identifier"] == f"ASN-{story['number']}" and confirmation["received"] is True
    assert confirmation["purchase_orders"] == [story["number"]]
    invoices = admin(emulator, "/world/acme-na/invoices").json()["invoices"]
    assert invoices[0]["identifier"] == f"INV-{story['number']}" and invoices[0]["type"] == "Invoice"
    df = admin(emulator, f"/world/acme-na/df-orders/{story['df_number']}").json()
    assert df["status"] == "SHIPPED" and df["label"] is not None
    assert {item["kind"] for item in df["transactions"]} >= {"df.acknowledgement", "df.shipmentConfirmation"}
    shipped = admin(emulator, "/world/acme-na/df-orders", status="SHIPPED", limit=500).json()["df_orders"]
    assert story["df_number"] in {item["number"] for item in shipped}


def test_another_collection_of_the_account_is_listed_and_readable(emulator: RunningEmulator) -> None:
    """Documents a later family keeps per account (reports...) show without the inspector knowing them."""
    emulator.sandbox.store.put("reports.documents:acme-na", "R-1", {"reportType": "GET_VENDOR_SALES_REPORT"})
    try:
        summary = admin(emulator, "/world/acme-na").json()
        assert {"collection": "reports.documents:acme-na", "count": 1} in summary["other_collections"]
        documents = admin(emulator, "/world/acme-na/collections/reports.documents").json()["documents"]
        assert documents == [{"key": "R-1", "document": {"reportType": "GET_VENDOR_SALES_REPORT"}}]
        assert admin(emulator, "/world/nordwind-eu").json()["other_collections"] == []
    finally:
        emulator.sandbox.store.clear("reports.documents:acme-na")


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/world/nobody", {}, 404),
        ("/world/acme-na/purchase-orders/NOT-A-PO", {}, 404),
        ("/world/acme-na/df-orders/NOT-AN-ORDER", {}, 404),
        ("/world/acme-na/transactions/none", {}, 404),
        ("/world/acme-na/purchase-orders", {"state": "Shipped"}, 400),
        ("/world/acme-na/purchase-orders", {"limit": "0"}, 400),
        ("/world/acme-na/purchase-orders", {"limit": "many"}, 400),
        ("/world/acme-na/purchase-orders", {"after": "garbage"}, 400),
        ("/world/acme-na/transactions", {"status": "Done"}, 400),
        ("/world/acme-na/df-orders", {"status": "new"}, 400),
        ("/journal", {"status": "4yy"}, 400),
        ("/journal", {"view": "everything"}, 400),
        ("/journal", {"until": "soon"}, 400),
    ],
)
def test_wrong_accounts_numbers_and_filters(
    emulator: RunningEmulator, path: str, params: dict[str, str], status: int
) -> None:
    response = admin(emulator, path, **params)
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["code"] == ("NotFound" if status == 404 else "InvalidInput")
    assert error["details"]


def test_another_accounts_purchase_order_is_not_found_in_this_world(
    emulator: RunningEmulator, story: dict[str, Any]
) -> None:
    assert admin(emulator, f"/world/nordwind-eu/purchase-orders/{story['number']}").status_code == 404


def test_the_journal_summary_lists_outcomes_without_bodies(
    emulator: RunningEmulator, story: dict[str, Any]
) -> None:
    entries = admin(emulator, "/journal", view="summary", operation="getTransaction", limit=0).json()[
        "entries"
    ]
    failed = [entry for entry in entries if (entry["transaction"] or {}).get("status") == "Failure"]
    assert failed and failed[0]["transaction"] == {
        "id": story["failure"],
        "status": "Failure",
        "rules": ["ack-selling-party"],
    }
    assert "response_body" not in failed[0] and "request_headers" not in failed[0]
    submissions = admin(emulator, "/journal", view="summary", operation="submitAcknowledgement").json()[
        "entries"
    ]
    assert {entry["transaction"]["status"] for entry in submissions} == {"submitted"}


def test_the_journal_filters_by_status_class_and_time(
    emulator: RunningEmulator, story: dict[str, Any]
) -> None:
    session = emulator.session()
    before = time.time()
    session.get(f"{emulator.base_url}{retail_support.ORDERS}/purchaseOrders/NOT-A-PO", timeout=10)
    four = admin(emulator, "/journal", status="4xx", since=str(before), view="summary").json()["entries"]
    assert [entry["status"] for entry in four] == [404]
    assert admin(emulator, "/journal", status="4xx", until=str(before - 3600)).json()["entries"] == []
    full = admin(emulator, "/journal", request_id=four[0]["request_id"]).json()["entries"][0]
    assert full["response_headers"]["x-amzn-RequestId"] == four[0]["request_id"]
    assert full["response_headers"]["Content-Type"] == "application/json"


def test_accounts_and_rule_books(emulator: RunningEmulator) -> None:
    accounts = admin(emulator, "/accounts").json()["accounts"]
    assert {item["name"] for item in accounts} >= {"acme-na", "nordwind-eu", "globex-readonly", "initech-in"}
    assert all(item["refresh_token"].startswith("Atzr|") for item in accounts)
    families = {book["family"]: book["rules"] for book in admin(emulator, "/rules").json()["families"]}
    from mockserver.domain.direct_fulfillment.rules import RULES as DF_RULES
    from mockserver.domain.retail.rules import RULES as RETAIL_RULES

    assert [rule["name"] for rule in families["retail"]] == list(RETAIL_RULES)
    assert [rule["name"] for rule in families["direct_fulfillment"]] == list(DF_RULES)


def test_the_conformance_report_narrows_to_one_client(emulator: RunningEmulator) -> None:
    emulator.session("acme-na", "second-integration").get(
        f"{emulator.base_url}{retail_support.ORDERS}/purchaseOrders", params={"limit": 1}, timeout=10
    )
    everyone = admin(emulator, "/report/conformance").json()
    second = admin(emulator, "/report/conformance", application="second-integration").json()
    assert second["calls"] == 1 < everyone["calls"]
    assert admin(emulator, "/report/conformance", application="nobody").json()["calls"] == 0
