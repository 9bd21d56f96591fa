"""The journal through the admin API: what each exchange records, the filters, redaction, bounds, reset."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

TOKEN_HEADER = "x-amz-access-token"
PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
PURCHASE_ORDERS_STATUS = "/vendor/orders/v1/purchaseOrdersStatus"
DF_ORDERS = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
RDT_PATH = "/tokens/2021-03-01/restrictedDataToken"
GET_PURCHASE_ORDERS = "vendor/orders/v1#getPurchaseOrders"
GET_PURCHASE_ORDERS_STATUS = "vendor/orders/v1#getPurchaseOrdersStatus"
ENTRY_FIELDS = {
    "sequence",
    "time",
    "request_id",
    "method",
    "path",
    "operation",
    "operation_id",
    "account",
    "application",
    "status",
    "latency_ms",
    "answered_by",
    "request_headers",
    "query",
    "request_body",
    "response_body",
    "notes",
    "violations",
    "fault",
    "drift",
    "response_headers",
}


@pytest.fixture(scope="module")
def journaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    data_dir: Path = tmp_path_factory.mktemp("journaled")
    running = start_emulator(data_dir=data_dir, store="memory", rate_scale=1000.0)
    yield running
    running.stop()


@pytest.fixture
def emulator(journaled: RunningEmulator) -> RunningEmulator:
    """The module's emulator with an empty journal."""
    assert requests.post(f"{journaled.base_url}/_sandbox/reset", timeout=10).status_code == 200
    return journaled


def journal(emulator: RunningEmulator, **filters: Any) -> list[dict[str, Any]]:
    response = requests.get(f"{emulator.base_url}/_sandbox/journal", params=filters, timeout=10)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def call(
    emulator: RunningEmulator,
    path: str = PURCHASE_ORDERS,
    account: str = "acme-na",
    application: str = "demo-integration",
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    # As a client does: a restricted data token for a restricted operation, else the access token.
    sent = {TOKEN_HEADER: emulator.token_for("GET", path, account, application), **(headers or {})}
    return requests.get(f"{emulator.base_url}{path}", headers=sent, timeout=10, **kwargs)


# -- what an entry records ----------------------------------------------------------------------------------


def test_entry_records_the_exchange(emulator: RunningEmulator) -> None:
    response = call(emulator, params={"limit": "5", "MarketplaceId": "ATVPDKIKX0DER"})
    assert response.status_code == 200

    (entry,) = journal(emulator)

    assert set(entry) == ENTRY_FIELDS
    assert entry["request_id"] == response.headers["x-amzn-RequestId"]
    # The headers the emulator answered with (the WSGI server adds Date and Server on the wire).
    assert {name: response.headers[name] for name in entry["response_headers"]} == entry["response_headers"]
    assert entry["response_headers"]["x-vendor-sandbox-answer"] == "stateful"
    assert entry["method"] == "GET"
    assert entry["path"] == PURCHASE_ORDERS
    assert entry["operation"] == GET_PURCHASE_ORDERS
    assert entry["operation_id"] == "getPurchaseOrders"
    assert entry["account"] == "acme-na"
    assert entry["application"] == "demo-integration"
    assert entry["status"] == 200
    assert entry["answered_by"] == "stateful"
    assert isinstance(entry["latency_ms"], float)
    assert entry["latency_ms"] > 0
    assert entry["query"] == {"limit": ["5"], "MarketplaceId": ["ATVPDKIKX0DER"]}
    assert entry["request_body"] is None
    assert entry["response_body"] == response.json()
    assert entry["notes"] == []


def test_entry_records_the_request_body(emulator: RunningEmulator) -> None:
    body: dict[str, Any] = {"acknowledgements": []}
    response = emulator.session().post(
        f"{emulator.base_url}/vendor/orders/v1/acknowledgements", json=body, timeout=10
    )
    assert response.status_code == 202

    (entry,) = journal(emulator)

    assert (entry["method"], entry["status"], entry["answered_by"]) == ("POST", 202, "stateful")
    assert entry["request_body"] == body
    assert entry["request_id"] == response.headers["x-amzn-RequestId"]


@pytest.mark.parametrize(
    ("send", "status", "operation", "account", "answered_by"),
    [
        (
            lambda e: requests.get(f"{e.base_url}{PURCHASE_ORDERS}", timeout=10),
            403,
            GET_PURCHASE_ORDERS,
            None,
            "error:auth",
        ),
        (lambda e: call(e, "/vendor/orders/v9/nothing"), 404, None, None, "error:route"),
        (
            lambda e: e.session().delete(f"{e.base_url}{PURCHASE_ORDERS}", timeout=10),
            405,
            None,
            None,
            "error:route",
        ),
        (
            lambda e: call(e, DF_ORDERS),
            400,
            "vendor/directFulfillment/orders/2021-12-28#getOrders",
            "acme-na",
            "error:validate",
        ),
        (
            lambda e: call(e, headers={"Host": "sandbox.sellingpartnerapi-na.amazon.com"}),
            400,
            GET_PURCHASE_ORDERS,
            "acme-na",
            "error:static",
        ),
    ],
    ids=["auth", "route-404", "route-405", "validate", "static"],
)
def test_errors_are_journaled_with_their_stage(
    emulator: RunningEmulator,
    send: Any,
    status: int,
    operation: str | None,
    account: str | None,
    answered_by: str,
) -> None:
    response = send(emulator)
    assert response.status_code == status

    (entry,) = journal(emulator)

    assert entry["request_id"] == response.headers["x-amzn-RequestId"]
    assert (entry["status"], entry["operation"], entry["account"], entry["answered_by"]) == (
        status,
        operation,
        account,
        answered_by,
    )
    assert entry["response_body"] == response.json()


def test_error_codes_are_kept_in_journaled_bodies(emulator: RunningEmulator) -> None:
    response = call(emulator, DF_ORDERS)

    (entry,) = journal(emulator)

    assert entry["response_body"]["errors"][0]["code"] == "InvalidInput"
    assert entry["response_body"] == response.json()


def test_throttled_call_is_journaled(tmp_path: Path) -> None:
    running = start_emulator(data_dir=tmp_path / "data", store="memory", rate_scale=0.1)  # burst 1
    try:
        responses = [call(running) for _ in range(2)]
        entries = journal(running)
    finally:
        running.stop()

    assert [response.status_code for response in responses] == [200, 429]
    assert [(entry["status"], entry["answered_by"]) for entry in entries] == [
        (200, "stateful"),
        (429, "error:throttle"),
    ]
    assert [entry["request_id"] for entry in entries] == [r.headers["x-amzn-RequestId"] for r in responses]


def test_entries_are_in_order_with_increasing_sequence(emulator: RunningEmulator) -> None:
    responses = [call(emulator) for _ in range(3)]

    entries = journal(emulator)

    assert [entry["request_id"] for entry in entries] == [r.headers["x-amzn-RequestId"] for r in responses]
    sequences = [entry["sequence"] for entry in entries]
    assert sequences == sorted(sequences)
    assert len(set(sequences)) == 3
    times = [entry["time"] for entry in entries]
    assert times == sorted(times)


# -- filters ------------------------------------------------------------------------------------------------


@pytest.fixture
def mixed(emulator: RunningEmulator) -> dict[str, requests.Response]:
    """Six exchanges of two operations, two accounts, two applications and three statuses."""
    return {
        "acme-orders": call(emulator),
        "acme-status": call(emulator, PURCHASE_ORDERS_STATUS),
        "globex-orders": call(emulator, account="globex-readonly"),
        "second-orders": call(emulator, application="second-integration"),
        "acme-bad-limit": call(emulator, params={"limit": "0"}),
        "anonymous": requests.get(f"{emulator.base_url}{PURCHASE_ORDERS_STATUS}", timeout=10),
    }


def ids(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["request_id"] for entry in entries]


def expected(mixed: dict[str, requests.Response], *names: str) -> list[str]:
    return [mixed[name].headers["x-amzn-RequestId"] for name in names]


def test_without_filters_every_entry_is_listed_oldest_first(
    emulator: RunningEmulator, mixed: dict[str, requests.Response]
) -> None:
    assert ids(journal(emulator)) == expected(mixed, *mixed)


@pytest.mark.parametrize("operation", [GET_PURCHASE_ORDERS_STATUS, "getPurchaseOrdersStatus"])
def test_filter_by_operation_name_or_operation_id(
    emulator: RunningEmulator, mixed: dict[str, requests.Response], operation: str
) -> None:
    assert ids(journal(emulator, operation=operation)) == expected(mixed, "acme-status", "anonymous")


def test_filter_by_status(emulator: RunningEmulator, mixed: dict[str, requests.Response]) -> None:
    assert ids(journal(emulator, status=400)) == expected(mixed, "acme-bad-limit")
    assert ids(journal(emulator, status=403)) == expected(mixed, "anonymous")
    assert ids(journal(emulator, status=500)) == []


def test_filter_by_account(emulator: RunningEmulator, mixed: dict[str, requests.Response]) -> None:
    assert ids(journal(emulator, account="globex-readonly")) == expected(mixed, "globex-orders")
    assert ids(journal(emulator, account="acme-na")) == expected(
        mixed, "acme-orders", "acme-status", "second-orders", "acme-bad-limit"
    )


def test_filter_by_application(emulator: RunningEmulator, mixed: dict[str, requests.Response]) -> None:
    assert ids(journal(emulator, application="second-integration")) == expected(mixed, "second-orders")


def test_filter_by_answered_by(emulator: RunningEmulator, mixed: dict[str, requests.Response]) -> None:
    assert ids(journal(emulator, answered_by="error")) == expected(mixed, "acme-bad-limit", "anonymous")
    assert ids(journal(emulator, answered_by="error:auth")) == expected(mixed, "anonymous")


def test_limit_keeps_the_newest(emulator: RunningEmulator, mixed: dict[str, requests.Response]) -> None:
    assert ids(journal(emulator, limit=2)) == expected(mixed, "acme-bad-limit", "anonymous")
    assert ids(journal(emulator, limit=1)) == expected(mixed, "anonymous")


def test_filters_combine(emulator: RunningEmulator, mixed: dict[str, requests.Response]) -> None:
    found = journal(emulator, operation="getPurchaseOrders", account="acme-na", status=200, limit=1)

    assert ids(found) == expected(mixed, "second-orders")


def test_filter_after_a_sequence(emulator: RunningEmulator, mixed: dict[str, requests.Response]) -> None:
    entries = journal(emulator)

    assert ids(journal(emulator, after=entries[3]["sequence"])) == expected(
        mixed, "acme-bad-limit", "anonymous"
    )


@pytest.mark.parametrize(
    ("filters", "details"),
    [
        ({"status": "ok"}, "status must be a whole number, not 'ok'."),
        ({"limit": "all"}, "limit must be a whole number, not 'all'."),
        ({"limit": "-1"}, "limit must be from 0 to 100000, not -1."),
        ({"limit": "9" * 5000}, "limit must be a whole number, not '" + "9" * 40 + "'."),
        ({"since": "today"}, "since must be a finite number, not 'today'."),
        ({"since": "nan"}, "since must be a finite number, not 'nan'."),
    ],
)
def test_invalid_filter_is_400(emulator: RunningEmulator, filters: dict[str, str], details: str) -> None:
    response = requests.get(f"{emulator.base_url}/_sandbox/journal", params=filters, timeout=10)

    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"code": "InvalidInput", "message": "Invalid journal filter.", "details": details}]
    }


# -- redaction -----------------------------------------------------------------------------------------------


def test_access_token_is_redacted(emulator: RunningEmulator) -> None:
    token = emulator.access_token()
    call(emulator)

    (entry,) = journal(emulator)

    headers = {name.lower(): value for name, value in entry["request_headers"].items()}
    assert headers[TOKEN_HEADER] == "***"
    assert token not in json.dumps(journal(emulator))


def test_restricted_data_token_is_redacted(emulator: RunningEmulator) -> None:
    window = {"createdAfter": "2024-05-01T00:00:00Z", "createdBefore": "2024-05-02T00:00:00Z"}
    body = {"restrictedResources": [{"method": "GET", "path": DF_ORDERS}]}
    response = emulator.session().post(f"{emulator.base_url}{RDT_PATH}", json=body, timeout=10)
    rdt = response.json()["restrictedDataToken"]
    rdt_response = requests.get(
        f"{emulator.base_url}{DF_ORDERS}", params=window, headers={TOKEN_HEADER: rdt}, timeout=10
    )
    assert rdt_response.status_code == 200

    issued, used = journal(emulator)

    assert issued["response_body"] == {"restrictedDataToken": "***", "expiresIn": 3600}
    assert issued["request_body"] == body
    assert used["request_headers"]["X-Amz-Access-Token"] == "***"
    assert rdt not in json.dumps([issued, used])


def test_lwa_exchange_leaves_no_secret_in_the_journal(emulator: RunningEmulator) -> None:
    account = emulator.account("acme-na")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": account["refresh_token"],
        "client_id": account["client_id"],
        "client_secret": account["client_secret"],
    }
    issued = requests.post(f"{emulator.base_url}/auth/o2/token", data=form, timeout=10)
    assert issued.status_code == 200
    access_token = issued.json()["access_token"]
    requests.get(f"{emulator.base_url}{PURCHASE_ORDERS}", headers={TOKEN_HEADER: access_token}, timeout=10)

    text = json.dumps(journal(emulator))

    for secret in (account["refresh_token"], account["client_secret"], access_token):
        assert secret not in text
    lwa_entries = [entry for entry in journal(emulator) if entry["path"] == "/auth/o2/token"]
    for entry in lwa_entries:  # where the token endpoint is journaled at all, its secrets are masked
        assert entry["request_body"]["client_secret"] == "***"
        assert entry["request_body"]["refresh_token"] == "***"
        assert entry["response_body"]["access_token"] == "***"


def test_secrets_in_query_and_body_are_redacted(emulator: RunningEmulator) -> None:
    body = {"acknowledgements": [], "client_secret": "s3cr3t-value", "nested": {"refresh_token": "Atzr|leak"}}
    response = emulator.session().post(
        f"{emulator.base_url}/vendor/orders/v1/acknowledgements",
        params={"access_token": "Atza|leak"},
        json=body,
        timeout=10,
    )
    assert response.status_code == 202

    (entry,) = journal(emulator)

    assert entry["query"] == {"access_token": "***"}
    assert entry["request_body"] == {
        "acknowledgements": [],
        "client_secret": "***",
        "nested": {"refresh_token": "***"},
    }
    assert "leak" not in json.dumps(entry)
    assert "s3cr3t" not in json.dumps(entry)


# -- bounds and reset ---------------------------------------------------------------------------------------


def test_journal_keeps_only_the_newest_entries(tmp_path: Path) -> None:
    running = start_emulator(data_dir=tmp_path / "data", store="memory", journal_size=5)
    try:
        responses = [call(running) for _ in range(8)]
        entries = journal(running)
        many = journal(running, limit=100)
    finally:
        running.stop()

    assert ids(entries) == [response.headers["x-amzn-RequestId"] for response in responses[-5:]]
    assert many == entries


def test_journal_keeps_a_byte_budget_dropping_the_oldest(tmp_path: Path) -> None:
    """Entries differ by orders of magnitude (a page of 100 POs with details is ~170 KB): a count alone would
    let the journal grow to gigabytes, so it is bounded by bytes too."""
    running = start_emulator(data_dir=tmp_path / "data", store="memory", journal_bytes=400_000)
    try:
        large = [call(running, params={"limit": 100, "includeDetails": "true"}) for _ in range(6)]
        stats = requests.get(f"{running.base_url}/_sandbox/journal/stats", timeout=10).json()
        entries = journal(running, limit=100)
    finally:
        running.stop()
    assert all(len(response.content) > 100_000 for response in large)
    assert stats["max_bytes"] == 400_000 and stats["max_entries"] == 10_000
    assert 0 < stats["bytes"] <= 400_000
    assert stats["entries"] == len(entries) < 6
    assert ids(entries) == [response.headers["x-amzn-RequestId"] for response in large[-len(entries) :]]


def test_an_entry_over_the_whole_budget_is_still_kept_alone() -> None:
    from mockserver.journal import Journal, JournalEntry

    budget = Journal(size=100, max_bytes=5_000)

    def entry(sequence: int, body: bytes) -> JournalEntry:
        return JournalEntry(
            sequence,
            0.0,
            f"r{sequence}",
            "GET",
            "/",
            None,
            None,
            None,
            None,
            200,
            0.0,
            "x",
            {},
            {},
            None,
            body,
        )

    for sequence in range(1, 4):
        budget.record(entry(sequence, b"x" * 500))
    assert [item.request_id for item in budget.entries()] == ["r1", "r2", "r3"]
    budget.record(entry(4, b"x" * 50_000))
    assert [item.request_id for item in budget.entries()] == ["r4"]
    budget.record(entry(5, b"x" * 10))
    assert [item.request_id for item in budget.entries()] == ["r5"]
    assert budget.bytes < 5_000


def test_reset_clears_the_journal(emulator: RunningEmulator) -> None:
    call(emulator)
    assert len(journal(emulator)) == 1

    response = requests.post(f"{emulator.base_url}/_sandbox/reset", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"status": "reset"}
    assert journal(emulator) == []
    after = call(emulator)
    assert ids(journal(emulator)) == [after.headers["x-amzn-RequestId"]]


def test_delete_journal_clears_it(emulator: RunningEmulator) -> None:
    call(emulator)

    response = requests.delete(f"{emulator.base_url}/_sandbox/journal", timeout=10)

    assert response.status_code == 200
    assert response.json() == {"status": "cleared"}
    assert journal(emulator) == []


def test_reset_keeps_issued_tokens(emulator: RunningEmulator) -> None:
    call(emulator)
    requests.post(f"{emulator.base_url}/_sandbox/reset", timeout=10)

    response = call(emulator)

    assert response.status_code == 200
    uuid.UUID(response.headers["x-amzn-RequestId"])


def test_authorization_code_of_a_grant_is_redacted_but_other_codes_are_kept(
    emulator: RunningEmulator,
) -> None:
    call(emulator, params={"grant_type": "authorization_code", "code": "ANcLyDzfQrKSgxuGSAhM"})
    call(emulator, params={"code": "ACME1"})

    grant, plain = journal(emulator)

    assert grant["query"] == {"grant_type": ["authorization_code"], "code": "***"}
    assert plain["query"] == {"code": ["ACME1"]}
