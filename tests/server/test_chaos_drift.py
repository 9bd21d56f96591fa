"""Drift and retirement through HTTP: a real client (requests over a socket) gets the drifted answer, and the
journal says exactly what was changed. Random plans (Hypothesis) end in answers valid against the contract
loosened as declared, the declared changes applied to the undrifted answer giving the drifted one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.chaos.drift import Loosening, apply_changes, loosen
from mockserver.chaos.plan import PlanError
from mockserver.cli import main
from mockserver.contracts.model import Operation
from mockserver.testing.server import RunningEmulator, start_emulator
from tests.unit.test_chaos_drift import draw_step

PURCHASE_ORDERS = "/vendor/orders/v1/purchaseOrders"
PURCHASE_ORDER = f"{PURCHASE_ORDERS}/4Z32PABC"
DF_ORDERS_V1 = "/vendor/directFulfillment/orders/v1/purchaseOrders"
DF_ORDERS_NEW = "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders"
DF_WINDOW = {"createdAfter": "2026-01-01T00:00:00Z", "createdBefore": "2026-01-02T00:00:00Z"}
DEPRECATED_NOT_REMOVED = "2026-12-01T12:00:00Z"
DRIFT_ACTIONS = {
    "extra_fields": {},
    "omit_optional": {},
    "deprecated_removed": {"fields": ["isBackOrderAllowed"]},
    "new_enum_value": {"fields": ["purchaseOrderType"]},
    "reordered": {},
    "nulls": {"fields": ["city", "postalCode", "listPrice"]},
}


_SESSIONS: dict[str, requests.Session] = {}


def shared(emulator: RunningEmulator) -> requests.Session:
    """One keep-alive session per emulator: a session per call would pile up open connections."""
    if emulator.base_url not in _SESSIONS:
        _SESSIONS[emulator.base_url] = emulator.session()
    return _SESSIONS[emulator.base_url]


@pytest.fixture(scope="module")
def drifting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("drift"), store="memory", rate_scale=1000.0, seed=7, seed_size=30
    )
    yield running
    _SESSIONS.pop(running.base_url).close()
    running.stop()


@pytest.fixture(autouse=True)
def frozen(drifting: RunningEmulator) -> Iterator[None]:
    # A frozen clock: reads of the Retail world give the same answer twice, so drift is all that differs.
    admin(drifting, "POST", "/clock", {"freeze": True})
    yield
    admin(drifting, "DELETE", "/faults")
    admin(drifting, "POST", "/reset")


def admin(emulator: RunningEmulator, method: str, path: str, body: Any = None, **params: Any) -> Any:
    response = requests.request(
        method, f"{emulator.base_url}/_sandbox{path}", json=body, params=params or None, timeout=10
    )
    assert response.status_code < 300, response.text
    return response.json()


def add_rules(emulator: RunningEmulator, rules: Any) -> None:
    admin(emulator, "POST", "/faults", rules)


def last_entry(emulator: RunningEmulator) -> dict[str, Any]:
    entry: dict[str, Any] = admin(emulator, "GET", "/journal", limit=1)["entries"][-1]
    return entry


def operation(emulator: RunningEmulator, name: str) -> Operation:
    return emulator.sandbox.registry.by_name[name]


def loosened_contract(op: Operation, status: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    loosening = Loosening()
    for record in records:
        loosening.merge(Loosening.from_dict(record.get("loosening") or {}))
    return loosen(op.responses[status].schema, op.api.definitions, loosening)


def declared_changes(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert not any(record.get("truncated") for record in records)
    return [change for record in records for change in record.get("changes", ())]


@pytest.mark.parametrize("action", sorted(DRIFT_ACTIONS))
def test_each_drift_action_reaches_the_client_exactly_as_the_journal_declares(
    drifting: RunningEmulator, action: str
) -> None:
    session = shared(drifting)
    before = session.get(drifting.base_url + PURCHASE_ORDER, timeout=10)
    add_rules(drifting, {"operation": "getPurchaseOrder", "action": action, "params": DRIFT_ACTIONS[action]})
    after = session.get(drifting.base_url + PURCHASE_ORDER, timeout=10)

    assert after.status_code == 200
    assert after.headers["x-vendor-sandbox-drift"] == action
    assert after.headers["x-vendor-sandbox-answer"] == "stateful"
    entry = last_entry(drifting)
    (record,) = entry["drift"]
    assert record["action"] == action and record["source"] == "rule" and record["changed"] > 0
    assert entry["response_body"] == after.json()  # the journal holds what crossed the wire
    assert json.dumps(apply_changes(before.json(), record["changes"])) == json.dumps(after.json())
    op = operation(drifting, "vendor/orders/v1#getPurchaseOrder")
    assert jsonschema.Draft202012Validator(loosened_contract(op, "200", entry["drift"])).is_valid(
        after.json()
    )
    assert after.text != before.text


def test_the_fault_header_drifts_one_request(drifting: RunningEmulator) -> None:
    session = shared(drifting)
    header = {"x-vendor-sandbox-fault": 'nulls fields=["paymentMethod"]'}
    drifted = session.get(drifting.base_url + PURCHASE_ORDER, headers=header, timeout=10)
    assert drifted.json()["payload"]["orderDetails"]["paymentMethod"] is None
    assert last_entry(drifting)["drift"][0]["source"] == "header"
    plain = session.get(drifting.base_url + PURCHASE_ORDER, timeout=10)
    assert plain.json()["payload"]["orderDetails"]["paymentMethod"] == "Invoice"
    assert "x-vendor-sandbox-drift" not in plain.headers
    assert last_entry(drifting)["drift"] is None


def test_every_drift_rule_that_fires_applies_together_with_another_fault(drifting: RunningEmulator) -> None:
    add_rules(
        drifting,
        [
            {"operation": "getPurchaseOrder", "action": "latency", "params": {"seconds": 0.01}},
            {"operation": "getPurchaseOrder", "action": "extra_fields"},
            {"operation": "getPurchaseOrder", "action": "reordered"},
        ],
    )
    response = shared(drifting).get(drifting.base_url + PURCHASE_ORDER, timeout=10)
    assert response.headers["x-vendor-sandbox-drift"] == "extra_fields,reordered"
    entry = last_entry(drifting)
    assert entry["fault"]["action"] == "latency"
    assert [record["action"] for record in entry["drift"]] == ["extra_fields", "reordered"]


def test_an_answer_a_fault_replaced_is_not_drifted(drifting: RunningEmulator) -> None:
    add_rules(
        drifting,
        [
            {"operation": "getPurchaseOrder", "action": "extra_fields"},
            {"operation": "getPurchaseOrder", "action": "quota_exceeded"},
        ],
    )
    response = shared(drifting).get(drifting.base_url + PURCHASE_ORDER, timeout=10)
    assert response.status_code == 429
    assert "driftAddedField" not in response.text
    assert last_entry(drifting)["drift"][0]["skipped"]


def test_the_services_own_errors_drift_too(drifting: RunningEmulator) -> None:
    add_rules(drifting, {"operation": "getPurchaseOrder", "action": "extra_fields", "params": {"value": 1}})
    response = shared(drifting).get(f"{drifting.base_url}{PURCHASE_ORDERS}/NOSUCHPO", timeout=10)
    assert response.status_code == 404
    assert response.json()["errors"][0]["driftAddedField"] == 1
    assert response.json()["errors"][0]["code"] == "NotFound"


def test_drift_never_changes_the_stored_world(drifting: RunningEmulator) -> None:
    session = shared(drifting)
    before = session.get(drifting.base_url + PURCHASE_ORDERS, params={"limit": 5}, timeout=10).json()
    add_rules(
        drifting,
        [
            {"action": "omit_optional"},
            {"action": "deprecated_removed", "params": {"fields": ["items", "orderedQuantity"]}},
            {"action": "nulls"},
            {"action": "reordered"},
        ],
    )
    for _ in range(3):
        drifted = session.get(drifting.base_url + PURCHASE_ORDERS, params={"limit": 5}, timeout=10)
        assert drifted.json() != before
    admin(drifting, "DELETE", "/faults")
    again = session.get(drifting.base_url + PURCHASE_ORDERS, params={"limit": 5}, timeout=10).json()
    assert json.dumps(again) == json.dumps(before)


def test_probability_and_draws_repeat_after_a_reset(drifting: RunningEmulator) -> None:
    add_rules(
        drifting,
        {
            "operation": "getPurchaseOrder",
            "action": "omit_optional",
            "probability": 0.5,
            "params": {"share": 0.5},
        },
    )
    session = shared(drifting)

    def run() -> list[str]:
        return [session.get(drifting.base_url + PURCHASE_ORDER, timeout=10).text for _ in range(6)]

    first = run()
    assert len(set(first)) > 1  # some drifted, some not, not all alike
    admin(drifting, "POST", "/reset")
    admin(drifting, "POST", "/clock", {"freeze": True})
    assert run() == first


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"action": "deprecated_removed"}, "needs `fields`"),
        ({"action": "omit_optional", "params": {"share": 3}}, "share must be"),
        ({"action": "retire"}, "needs a `date`"),
        ({"action": "retire", "params": {"date": "soon"}}, "ISO 8601"),
        ({"action": "retire", "params": {"date": "2027-01-01", "deprecated": "2028-01-01"}}, "not be after"),
        ({"action": "extra_fields", "endpoint": "lwa"}, "cannot apply to the LWA endpoint"),
        ({"action": "extra_fields", "api": 3}, "api must be"),
    ],
)
def test_bad_drift_and_retirement_rules_are_refused_with_the_reason(
    drifting: RunningEmulator, rules: Any, message: str
) -> None:
    response = requests.post(f"{drifting.base_url}/_sandbox/faults", json=rules, timeout=10)
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["details"]
    assert admin(drifting, "GET", "/faults")["rules"] == []


def test_a_bad_drift_header_is_amazons_400(drifting: RunningEmulator) -> None:
    header = {"x-vendor-sandbox-fault": "omit_optional share=7"}
    response = shared(drifting).get(drifting.base_url + PURCHASE_ORDER, headers=header, timeout=10)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Invalid fault header."


# -- retirement on the sandbox clock ----------------------------------------------------------------------

RETIRE_DF_V1 = {
    "id": "df-v1-retired",
    "api": "vendor/directFulfillment/*/v1",
    "action": "retire",
    "params": {
        "deprecated": "2026-06-01",
        "date": "2027-06-30T00:00:00Z",
        "successor": "/vendor/directFulfillment/orders/2021-12-28",
    },
}


def df_orders(emulator: RunningEmulator, path: str = DF_ORDERS_V1) -> requests.Response:
    return shared(emulator).get(emulator.base_url + path, params=DF_WINDOW, timeout=10)


def test_before_the_deprecation_date_there_is_no_notice(drifting: RunningEmulator) -> None:
    add_rules(drifting, RETIRE_DF_V1)
    admin(drifting, "POST", "/clock", {"set": "2026-05-31T23:59:59Z"})
    response = df_orders(drifting)
    assert response.status_code == 200
    assert "Deprecation" not in response.headers and "Sunset" not in response.headers
    assert last_entry(drifting)["drift"] is None


def test_a_deprecated_version_answers_with_a_notice_in_headers_and_journal(drifting: RunningEmulator) -> None:
    add_rules(drifting, RETIRE_DF_V1)
    admin(drifting, "POST", "/clock", {"set": DEPRECATED_NOT_REMOVED})
    response = df_orders(drifting)
    assert response.status_code == 200
    assert response.headers["Deprecation"] == "@1780272000"  # 2026-06-01T00:00:00Z
    assert response.headers["Sunset"] == "Wed, 30 Jun 2027 00:00:00 GMT"
    assert (
        response.headers["Link"] == '</vendor/directFulfillment/orders/2021-12-28>; rel="successor-version"'
    )
    entry = last_entry(drifting)
    assert entry["drift"] == [
        {
            "source": "rule",
            "rule": "df-v1-retired",
            "action": "retire",
            "state": "deprecated",
            "deprecated": "2026-06-01T00:00:00Z",
            "removal": "2027-06-30T00:00:00Z",
            "successor": "/vendor/directFulfillment/orders/2021-12-28",
        }
    ]
    assert any(note.startswith("deprecation notice: deprecated since 2026-06-01") for note in entry["notes"])
    assert "Deprecation" not in df_orders(drifting, DF_ORDERS_NEW).headers  # the successor is not deprecated


def test_from_the_removal_date_the_version_answers_as_a_removed_one(drifting: RunningEmulator) -> None:
    add_rules(drifting, RETIRE_DF_V1)
    admin(drifting, "POST", "/clock", {"set": "2027-06-30T00:00:00Z"})
    response = df_orders(drifting)
    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {"code": "Unauthorized", "message": "Access to requested resource is denied.", "details": ""}
        ]
    }
    assert "x-amzn-RateLimit-Limit" not in response.headers and "Deprecation" not in response.headers
    entry = last_entry(drifting)
    assert entry["answered_by"] == "fault:retire"
    assert entry["fault"]["action"] == "retire" and entry["fault"]["status"] == 403
    shipping = shared(drifting).get(
        f"{drifting.base_url}/vendor/directFulfillment/shipping/v1/shippingLabels",
        params=DF_WINDOW,
        timeout=10,
    )
    assert shipping.status_code == 403  # the glob covers every Direct Fulfillment v1 API
    assert df_orders(drifting, DF_ORDERS_NEW).status_code == 200
    # Sandbox time, not a latch: set the clock back and the version answers again.
    admin(drifting, "POST", "/clock", {"set": "2027-06-29T23:59:59Z"})
    assert df_orders(drifting).status_code == 200


def test_a_retirement_also_retires_operations_by_name(drifting: RunningEmulator) -> None:
    add_rules(
        drifting, {"operation": "getPurchaseOrder", "action": "retire", "params": {"date": "2020-01-01"}}
    )
    session = shared(drifting)
    assert session.get(drifting.base_url + PURCHASE_ORDER, timeout=10).status_code == 403
    assert session.get(drifting.base_url + PURCHASE_ORDERS, timeout=10).status_code == 200


# -- the shipped plan, the report, the command ---------------------------------------------------------------


def test_serve_loads_the_shipped_drift_plan_by_name(tmp_path: Path) -> None:
    running = start_emulator(data_dir=tmp_path, store="memory", seed_size=5, faults_file="drift")
    try:
        rules = admin(running, "GET", "/faults")["rules"]
        assert {rule["id"] for rule in rules} >= {"new-properties", "direct-fulfillment-orders-v1-retired"}
        with running.session() as session:
            response = session.get(running.base_url + PURCHASE_ORDERS, params={"limit": 2}, timeout=10)
        assert "extra_fields" in response.headers["x-vendor-sandbox-drift"]
    finally:
        running.stop()
    with pytest.raises(PlanError, match=r"no fault plan 'drfit'.*\(drift\)"):
        start_emulator(data_dir=tmp_path / "again", store="memory", seed_size=5, faults_file="drfit")


def test_the_tolerance_report_needs_evidence_and_judges_each_client(drifting: RunningEmulator) -> None:
    nothing = admin(drifting, "GET", "/report/tolerance")
    assert nothing["passed"] is False and nothing["evidence"] is False

    add_rules(drifting, {"operation": "getPurchaseOrders", "action": "extra_fields"})
    with drifting.session() as tolerant, drifting.session() as giving_up:
        tolerant.headers["User-Agent"] = "tolerant-erp/1"
        listing = tolerant.get(drifting.base_url + PURCHASE_ORDERS, params={"limit": 1}, timeout=10).json()
        number = listing["payload"]["orders"][0]["purchaseOrderNumber"]
        assert tolerant.get(f"{drifting.base_url}{PURCHASE_ORDERS}/{number}", timeout=10).status_code == 200
        giving_up.headers["User-Agent"] = "strict-erp/1"
        giving_up.get(drifting.base_url + PURCHASE_ORDERS, params={"limit": 1}, timeout=10)

    report = admin(drifting, "GET", "/report/tolerance")
    by_agent = {client["user_agent"]: client for client in report["clients"]}
    assert by_agent["tolerant-erp/1"]["passed"] is True
    assert by_agent["strict-erp/1"]["passed"] is False
    assert report["passed"] is False
    text = requests.get(f"{drifting.base_url}/_sandbox/report/tolerance?format=text", timeout=10).text
    assert text.startswith("tolerance verdict: FAIL") and "abandoned" in text
    junit = requests.get(f"{drifting.base_url}/_sandbox/report/tolerance?format=junit", timeout=10)
    assert junit.headers["Content-Type"].startswith("application/xml") and "<failure" in junit.text
    after = by_agent["strict-erp/1"]["evidence"][0]
    later = admin(drifting, "GET", "/journal", request_id=after["request_id"])["entries"][0]["sequence"]
    judged = admin(drifting, "GET", "/report/tolerance", after=later)
    assert judged["evidence"] is False  # nothing drifted after that point
    expecting = admin(drifting, "GET", "/report/tolerance", expect="getPurchaseOrder")
    assert {c["user_agent"]: c["passed"] for c in expecting["clients"]}["tolerant-erp/1"] is True


@pytest.mark.parametrize("query", ["max_repeats=1", "repeat_window=-1", "after=x"])
def test_a_bad_tolerance_report_request_is_a_400(drifting: RunningEmulator, query: str) -> None:
    response = requests.get(f"{drifting.base_url}/_sandbox/report/tolerance?{query}", timeout=10)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Invalid tolerance report request."


def test_report_tolerance_command_exits_on_the_verdict(
    drifting: RunningEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "tolerance", "--url", drifting.base_url]) == 1  # no evidence
    assert "no drifted answer reached any client" in capsys.readouterr().out
    add_rules(drifting, {"operation": "getPurchaseOrders", "action": "reordered"})
    session = shared(drifting)
    session.get(drifting.base_url + PURCHASE_ORDERS, params={"limit": 2}, timeout=10)
    session.get(drifting.base_url + PURCHASE_ORDER, timeout=10)
    junit = tmp_path / "tolerance.xml"
    assert main(["report", "tolerance", "--url", drifting.base_url, "--junit", str(junit)]) == 0
    assert "tolerance verdict: PASS" in capsys.readouterr().out
    assert 'failures="0"' in junit.read_text()
    assert (
        main(["report", "tolerance", "--url", drifting.base_url, "--expect", "submitInvoices", "--json"]) == 1
    )
    assert json.loads(capsys.readouterr().out)["passed"] is False
    assert main(["report", "tolerance", "--url", "http://127.0.0.1:9"]) == 2


# -- random plans through HTTP -----------------------------------------------------------------------------

TARGETS = [
    ("vendor/orders/v1#getPurchaseOrders", PURCHASE_ORDERS, {"limit": 2}),
    ("vendor/orders/v1#getPurchaseOrder", PURCHASE_ORDER, {}),
    ("vendor/orders/v1#getPurchaseOrdersStatus", "/vendor/orders/v1/purchaseOrdersStatus", {"limit": 2}),
    ("vendor/directFulfillment/orders/2021-12-28#getOrders", DF_ORDERS_NEW, DF_WINDOW),
]


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(target=st.sampled_from(TARGETS), count=st.integers(1, 3), data=st.data())
def test_random_plans_through_http_drift_exactly_as_declared(
    drifting: RunningEmulator, target: tuple[str, str, dict[str, Any]], count: int, data: st.DataObject
) -> None:
    name, path, params = target
    session = shared(drifting)
    try:
        original = session.get(drifting.base_url + path, params=params, timeout=10)
        assert original.status_code == 200, original.text
        steps = [draw_step(data.draw, original.json()) for _ in range(count)]
        plan = [{"operation": name, "action": kind, "params": step_params} for kind, step_params, _ in steps]
        add_rules(drifting, {"rules": plan})
        drifted = session.get(drifting.base_url + path, params=params, timeout=10)
        records = last_entry(drifting)["drift"]
        assert [record["action"] for record in records] == [kind for kind, _, _ in steps]
        changed = [record["action"] for record in records if record["changed"]]
        assert drifted.headers.get("x-vendor-sandbox-drift", "") == ",".join(changed)
        assert json.dumps(apply_changes(original.json(), declared_changes(records))) == json.dumps(
            drifted.json()
        )
        op = operation(drifting, name)
        assert jsonschema.Draft202012Validator(loosened_contract(op, "200", records)).is_valid(drifted.json())
    finally:
        admin(drifting, "DELETE", "/faults")
