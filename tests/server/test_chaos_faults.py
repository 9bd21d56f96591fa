"""Chaos: fault rules and actions reach a real HTTP client (requests over a socket) as declared."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.testing.server import RunningEmulator, start_emulator

PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
ACKNOWLEDGEMENTS = "/vendor/orders/v1/acknowledgements"
FAULT_HEADER = "x-vendor-sandbox-fault"


@pytest.fixture(scope="module")
def chaotic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("chaos"), store="memory", rate_scale=1000.0, seed=7
    )
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def no_rules(chaotic: RunningEmulator) -> Iterator[None]:
    yield
    requests.delete(f"{chaotic.base_url}/_sandbox/faults", timeout=10)
    requests.post(f"{chaotic.base_url}/_sandbox/reset", timeout=10)


def add_rules(emulator: RunningEmulator, rules: Any) -> dict[str, Any]:
    response = requests.post(f"{emulator.base_url}/_sandbox/faults", json=rules, timeout=10)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def orders(emulator: RunningEmulator, session: requests.Session, **headers: str) -> requests.Response:
    return session.get(f"{emulator.base_url}{PURCHASE_ORDERS}", headers=headers, timeout=10)


def last_entry(emulator: RunningEmulator) -> dict[str, Any]:
    entries = requests.get(f"{emulator.base_url}/_sandbox/journal?limit=1", timeout=10).json()["entries"]
    entry: dict[str, Any] = entries[-1]
    return entry


@pytest.mark.parametrize(
    ("action", "status", "code", "message"),
    [
        ("quota_exceeded", 429, "QuotaExceeded", "You exceeded your quota for the requested resource."),
        ("internal_failure", 500, "InternalFailure", "We encountered an internal error. Please try again."),
        (
            "service_unavailable",
            503,
            "ServiceUnavailable",
            "Temporary overloading or maintenance of the server. Please try again.",
        ),
        ("expired_token", 403, "Unauthorized", "Access to requested resource is denied."),
    ],
)
def test_error_actions_answer_amazons_status_body_and_headers(
    chaotic: RunningEmulator, action: str, status: int, code: str, message: str
) -> None:
    add_rules(chaotic, {"operation": "getPurchaseOrders", "action": action})
    response = orders(chaotic, chaotic.session())
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["x-amzn-RequestId"]
    error = response.json()["errors"][0]
    assert (error["code"], error["message"]) == (code, message)
    if status == 429:
        assert "x-amzn-RateLimit-Limit" not in response.headers
    entry = last_entry(chaotic)
    assert entry["answered_by"] == f"fault:{action}"
    assert entry["fault"]["action"] == action
    assert entry["fault"]["source"] == "rule"


def test_invalid_input_action_carries_the_given_message(chaotic: RunningEmulator) -> None:
    add_rules(
        chaotic,
        {"operation": "getPurchaseOrders", "action": "invalid_input", "params": {"message": "Bad limit."}},
    )
    response = orders(chaotic, chaotic.session())
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"code": "InvalidInput", "message": "Bad limit.", "details": ""}


def test_an_expired_token_stays_expired_until_the_client_refreshes(
    chaotic: RunningEmulator,
) -> None:
    account = chaotic.account("acme-na")
    token = requests.post(
        f"{chaotic.base_url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": account["refresh_token"],
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
        timeout=10,
    ).json()["access_token"]
    add_rules(chaotic, {"operation": "getPurchaseOrders", "action": "expired_token", "nth": 1})
    session = requests.Session()
    session.headers["x-amz-access-token"] = token
    assert orders(chaotic, session).status_code == 403
    again = orders(chaotic, session)
    assert again.status_code == 403
    assert again.json()["errors"][0]["details"] == "The access token you provided has expired."
    assert last_entry(chaotic)["fault"]["source"] == "expired-token"
    assert orders(chaotic, chaotic.session()).status_code == 200  # another (fresh) token works


def test_latency_fixed_delays_the_answer(chaotic: RunningEmulator) -> None:
    add_rules(chaotic, {"operation": "getPurchaseOrders", "action": "latency", "params": {"seconds": 0.3}})
    started = time.perf_counter()
    response = orders(chaotic, chaotic.session())
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.3


@pytest.mark.parametrize(
    "params",
    [
        {"distribution": "uniform", "low": 0.1, "high": 0.2},
        {"distribution": "lognormal", "median": 0.15, "sigma": 0.1, "max": 0.3},
    ],
)
def test_latency_distributions_stay_within_their_bounds(
    chaotic: RunningEmulator, params: dict[str, Any]
) -> None:
    add_rules(chaotic, {"operation": "getPurchaseOrders", "action": "latency", "params": params})
    session = chaotic.session()
    for _ in range(3):
        started = time.perf_counter()
        assert orders(chaotic, session).status_code == 200
        elapsed = time.perf_counter() - started
        assert 0.05 <= elapsed < 1.0
        delay = last_entry(chaotic)["fault"]["delay"]
        assert 0.0 < delay <= 0.3


def test_a_dropped_connection_really_drops_for_requests(chaotic: RunningEmulator) -> None:
    add_rules(chaotic, {"operation": "getPurchaseOrders", "action": "drop"})
    with pytest.raises(requests.ConnectionError) as raised:
        orders(chaotic, chaotic.session())
    assert "Remote end closed connection without response" in str(raised.value)
    entry = last_entry(chaotic)
    assert entry["status"] == 0
    assert entry["fault"]["drop"] is True


def test_a_dropped_connection_sends_no_byte_at_the_socket(chaotic: RunningEmulator) -> None:
    """A raw socket: the server closes the connection and not one byte of an answer comes back."""
    token = chaotic.access_token()
    host, port = chaotic.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.sendall(
            (
                f"GET {PURCHASE_ORDERS} HTTP/1.1\r\nHost: {host}\r\nx-amz-access-token: {token}\r\n"
                f"{FAULT_HEADER}: drop\r\n\r\n"
            ).encode()
        )
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    assert received == b""


def test_a_drop_after_handle_runs_the_handler_and_loses_the_answer(chaotic: RunningEmulator) -> None:
    session = chaotic.session()
    with pytest.raises(requests.ConnectionError):
        session.post(
            f"{chaotic.base_url}{ACKNOWLEDGEMENTS}",
            json={"acknowledgements": []},
            headers={FAULT_HEADER: "drop after_handle=true"},
            timeout=10,
        )
    entry = last_entry(chaotic)
    assert 200 <= entry["status"] < 300  # the submission was accepted: a blind resend duplicates it
    assert entry["fault"]["after_handle"] is True


def test_a_truncated_body_breaks_the_read(chaotic: RunningEmulator) -> None:
    add_rules(chaotic, {"operation": "getPurchaseOrders", "action": "truncate", "params": {"keep": 100}})
    with pytest.raises(requests.exceptions.ChunkedEncodingError) as raised:
        orders(chaotic, chaotic.session())
    assert "IncompleteRead(100 bytes read" in str(raised.value)


def test_malformed_json_keeps_status_and_content_type(chaotic: RunningEmulator) -> None:
    add_rules(chaotic, {"operation": "getPurchaseOrders", "action": "malformed_json"})
    response = orders(chaotic, chaotic.session())
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_a_trickle_sends_the_body_in_timed_chunks(chaotic: RunningEmulator) -> None:
    expected = orders(chaotic, chaotic.session()).content
    chunk = max(len(expected) // 5, 1)
    add_rules(
        chaotic,
        {
            "operation": "getPurchaseOrders",
            "action": "trickle",
            "params": {"chunk_bytes": chunk, "interval": 0.1},
        },
    )
    started = time.perf_counter()
    response = chaotic.session().get(f"{chaotic.base_url}{PURCHASE_ORDERS}", stream=True, timeout=10)
    arrivals = []
    body = b""
    for piece in response.iter_content(chunk):
        body += piece
        arrivals.append(time.perf_counter() - started)
    assert len(body) == len(expected)
    assert json.loads(body)["payload"]
    assert arrivals[-1] - arrivals[0] >= 0.3  # spread over time, not one burst
    assert len(arrivals) >= 5


def test_a_throttle_storm_cuts_the_rate_then_ends(chaotic: RunningEmulator) -> None:
    add_rules(
        chaotic,
        {
            "operation": "getPurchaseOrders",
            "nth": 1,
            "action": "throttle_storm",
            "params": {"rate": 5, "burst": 1, "seconds": 2.5},
        },
    )
    session = chaotic.session()
    first = orders(chaotic, session)
    started = time.monotonic()  # the storm began with the first call, before this
    assert first.status_code == 429
    assert first.json()["errors"][0]["code"] == "QuotaExceeded"
    hammered = [orders(chaotic, session).status_code for _ in range(5)]
    assert 429 in hammered
    time.sleep(0.25)  # a token at 5/s
    paced = orders(chaotic, session)
    assert paced.status_code == 200
    assert paced.headers["x-amzn-RateLimit-Limit"] == "5.0"
    listing = requests.get(f"{chaotic.base_url}/_sandbox/faults", timeout=10).json()
    assert listing["storms"][0]["operation"].endswith("getPurchaseOrders")
    time.sleep(max(0.0, started + 2.6 - time.monotonic()))
    after = [orders(chaotic, session).status_code for _ in range(5)]
    assert after == [200] * 5


def test_lwa_token_endpoint_failures(chaotic: RunningEmulator) -> None:
    add_rules(chaotic, {"endpoint": "lwa", "action": "lwa_error", "params": {"status": 503}, "first": 1})
    account = chaotic.account("acme-na")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": account["refresh_token"],
        "client_id": account["client_id"],
        "client_secret": account["client_secret"],
    }
    failed = requests.post(f"{chaotic.base_url}/auth/o2/token", data=form, timeout=10)
    assert failed.status_code == 503
    assert failed.json()["error"] == "temporarily_unavailable"
    assert failed.headers["Cache-Control"] == "no-store"
    assert requests.post(f"{chaotic.base_url}/auth/o2/token", data=form, timeout=10).status_code == 200
    entry = last_entry(chaotic)
    assert entry["path"] == "/auth/o2/token"
    assert entry["fault"]["action"] == "lwa_error"
    assert entry["request_body"]["refresh_token"] == "***"

    add_rules(chaotic, {"endpoint": "lwa", "action": "drop", "nth": 1})
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{chaotic.base_url}/auth/o2/token", data=form, timeout=10)


def test_rules_match_by_method_path_account_application_and_header(chaotic: RunningEmulator) -> None:
    add_rules(
        chaotic,
        [
            {"account": "nordwind-eu", "action": "internal_failure"},
            {"application": "second-integration", "action": "service_unavailable"},
            {"header": {"x-test-case": "teapot"}, "action": "error", "params": {"status": 418}},
            {"method": "POST", "path": "/vendor/orders/v1/ack*", "action": "quota_exceeded"},
        ],
    )
    assert orders(chaotic, chaotic.session()).status_code == 200
    assert orders(chaotic, chaotic.session("nordwind-eu")).status_code == 500
    assert orders(chaotic, chaotic.session("acme-na", "second-integration")).status_code == 503
    assert orders(chaotic, chaotic.session(), **{"x-test-case": "teapot"}).status_code == 418
    posted = chaotic.session().post(
        f"{chaotic.base_url}{ACKNOWLEDGEMENTS}", json={"acknowledgements": []}, timeout=10
    )
    assert posted.status_code == 429


def test_nth_first_and_times_fire_on_exactly_the_declared_calls(chaotic: RunningEmulator) -> None:
    add_rules(
        chaotic,
        [
            {"id": "third", "operation": "getPurchaseOrders", "nth": 3, "action": "internal_failure"},
            {"id": "first-two", "operation": "getPurchaseOrders", "first": 2, "action": "quota_exceeded"},
        ],
    )
    session = chaotic.session()
    assert [orders(chaotic, session).status_code for _ in range(5)] == [429, 429, 500, 200, 200]
    rules = {rule["id"]: rule for rule in requests.get(f"{chaotic.base_url}/_sandbox/faults").json()["rules"]}
    assert (rules["third"]["matched"], rules["third"]["fired"]) == (5, 1)
    assert (rules["first-two"]["matched"], rules["first-two"]["fired"]) == (5, 2)


def test_a_window_fires_only_within_its_seconds(chaotic: RunningEmulator) -> None:
    session = chaotic.session()
    orders(chaotic, session)  # warm
    # The window counts from when the emulator armed the rule: somewhere between `before` and `after`.
    # Each call is placed where it falls before, inside or after the window whenever in that span it was
    # armed, with a second of room for a slow call on a busy machine.
    before = time.monotonic()
    add_rules(
        chaotic,
        {
            "operation": "getPurchaseOrders",
            "window": {"start": 1.0, "end": 3.0},
            "action": "internal_failure",
        },
    )
    after = time.monotonic()
    status = orders(chaotic, session).status_code
    if time.monotonic() < before + 1.0:  # answered before the window could open
        assert status == 200
    time.sleep(max(0.0, after + 1.0 - time.monotonic()))
    inside = orders(chaotic, session).status_code
    assert time.monotonic() < before + 3.0, "too slow a machine to place a call inside the window"
    assert inside == 500
    time.sleep(max(0.0, after + 3.1 - time.monotonic()))
    assert orders(chaotic, session).status_code == 200


def test_probability_is_deterministic_under_the_seed(chaotic: RunningEmulator) -> None:
    rule = {"id": "coin", "operation": "getPurchaseOrders", "probability": 0.5, "action": "internal_failure"}
    session = chaotic.session()
    runs = []
    for _ in range(2):
        add_rules(chaotic, rule)
        runs.append([orders(chaotic, session).status_code for _ in range(12)])
        requests.delete(f"{chaotic.base_url}/_sandbox/faults/coin", timeout=10)
    assert runs[0] == runs[1]
    assert {200, 500} == set(runs[0])


def test_admin_api_lists_removes_and_clears_rules(chaotic: RunningEmulator) -> None:
    added = add_rules(chaotic, [{"id": "a", "action": "internal_failure"}, {"action": "drop", "nth": 9}])
    assert [rule["id"] for rule in added["added"]] == ["a", added["added"][1]["id"]]
    assert requests.delete(f"{chaotic.base_url}/_sandbox/faults/a", timeout=10).status_code == 200
    assert requests.delete(f"{chaotic.base_url}/_sandbox/faults/a", timeout=10).status_code == 404
    assert len(requests.get(f"{chaotic.base_url}/_sandbox/faults", timeout=10).json()["rules"]) == 1
    assert requests.delete(f"{chaotic.base_url}/_sandbox/faults", timeout=10).status_code == 200
    assert requests.get(f"{chaotic.base_url}/_sandbox/faults", timeout=10).json()["rules"] == []


@pytest.mark.parametrize(
    "rules",
    [
        {"action": "no_such_action"},
        {"action": "latency"},
        {"action": "internal_failure", "probability": 2},
        {"action": "internal_failure", "nth": 0},
        {"action": "internal_failure", "colour": "red"},
        [{"action": "internal_failure"}, {"action": "bogus"}],
    ],
)
def test_bad_rules_are_refused_and_none_is_added(chaotic: RunningEmulator, rules: Any) -> None:
    response = requests.post(f"{chaotic.base_url}/_sandbox/faults", json=rules, timeout=10)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"
    assert requests.get(f"{chaotic.base_url}/_sandbox/faults", timeout=10).json()["rules"] == []


def test_the_fault_header_targets_one_request(chaotic: RunningEmulator) -> None:
    session = chaotic.session()
    assert orders(chaotic, session, **{FAULT_HEADER: "internal_failure"}).status_code == 500
    assert orders(chaotic, session).status_code == 200
    as_json = orders(chaotic, session, **{FAULT_HEADER: '{"action": "error", "status": 502, "code": "X"}'})
    assert as_json.status_code == 502
    assert last_entry(chaotic)["fault"]["source"] == "header"
    bad = orders(chaotic, session, **{FAULT_HEADER: "no_such_action"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["message"] == "Invalid fault header."


def test_serve_loads_a_fault_plan_file(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "rules:\n  - operation: getPurchaseOrders\n    first: 1\n    action: service_unavailable\n"
        "policy:\n  max_attempts: 3\n",
        encoding="utf-8",
    )
    running = start_emulator(data_dir=tmp_path / "data", store="memory", faults_file=plan)
    try:
        session = running.session()
        assert session.get(f"{running.base_url}{PURCHASE_ORDERS}", timeout=10).status_code == 503
        assert session.get(f"{running.base_url}{PURCHASE_ORDERS}", timeout=10).status_code == 200
        listing = requests.get(f"{running.base_url}/_sandbox/faults", timeout=10).json()
        assert listing["policy"] == {"max_attempts": 3}
        requests.post(f"{running.base_url}/_sandbox/reset", timeout=10)  # re-arms the rules
        assert session.get(f"{running.base_url}{PURCHASE_ORDERS}", timeout=10).status_code == 503
    finally:
        running.stop()


def test_a_json_plan_with_a_bad_rule_is_refused_at_start(tmp_path: Path) -> None:
    from mockserver.chaos.plan import PlanError

    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"action": "nope"}]), encoding="utf-8")
    with pytest.raises(PlanError, match="unknown fault action"):
        start_emulator(data_dir=tmp_path / "data", store="memory", faults_file=plan)


@settings(max_examples=8, deadline=None)
@given(
    first=st.integers(0, 3),
    nth=st.lists(st.integers(1, 6), max_size=2),
    calls=st.integers(1, 6),
)
def test_rules_fire_on_the_declared_calls_through_http(
    chaotic: RunningEmulator, first: int, nth: list[int], calls: int
) -> None:
    """Over a real client: `first` answers 429, then the `nth` calls 500, the rest 200."""
    requests.delete(f"{chaotic.base_url}/_sandbox/faults", timeout=10)
    rules: list[dict[str, Any]] = [
        {"operation": "getPurchaseOrders", "first": first, "action": "quota_exceeded"}
    ]
    if nth:
        rules.append({"operation": "getPurchaseOrders", "nth": nth, "action": "internal_failure"})
    add_rules(chaotic, rules)
    session = chaotic.session()
    statuses = [orders(chaotic, session).status_code for _ in range(calls)]
    expected = [429 if n <= first else 500 if n in nth else 200 for n in range(1, calls + 1)]
    assert statuses == expected
