"""The `drift` marker and fixture of the pytest plugin: a strict client that rejects unknown fields gets a
failing tolerance verdict, a tolerant one passes, and a verdict without drifted answers fails loudly."""

from __future__ import annotations

import time
from typing import Any

import pytest

from mockserver.contracts.registry import OperationRegistry
from mockserver.testing.chaos import VerdictFailed
from mockserver.testing.drift import DriftControl
from mockserver.testing.served import VendorSandbox

ORDERS = "/vendor/orders/v1/purchaseOrders"
NEW_PROPERTIES = {
    "rules": [{"operation": ["getPurchaseOrders", "getPurchaseOrder"], "action": "extra_fields"}]
}
FLOW = ["submitAcknowledgement", "getTransaction"]
KNOWN = {
    name
    for operation in OperationRegistry.from_directory().operations
    if operation.api.api_id in ("vendor/orders/v1", "vendor/transactions/v1")
    for definition in operation.api.definitions.values()
    for name in (definition.get("properties") or {})
}


class UnknownProperty(ValueError):
    pass


class Integration:
    """A vendor's order job over plain `requests`: strict ones refuse properties their model lacks."""

    def __init__(self, sandbox: VendorSandbox, agent: str, *, strict: bool, runs: int = 1) -> None:
        self.session = sandbox.session("acme-na")
        self.session.headers["User-Agent"] = agent
        self.strict = strict
        self.runs = runs  # how often its scheduler re-runs a failed job at once

    def _read(self, path: str, **params: Any) -> Any:
        response = self.session.get(path, params=params)
        response.raise_for_status()
        body = response.json()
        if self.strict:
            self._check(body)
        return body["payload"]

    def _check(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key not in KNOWN:
                    raise UnknownProperty(f"unknown property {key!r}")
                self._check(item)
        elif isinstance(value, list):
            for item in value:
                self._check(item)

    def run(self) -> str:
        for run in range(self.runs):
            try:
                listing = self._read(ORDERS, purchaseOrderState="New", limit=10)
                break
            except UnknownProperty:
                if run == self.runs - 1:
                    raise
        order = self._read(f"{ORDERS}/{listing['orders'][0]['purchaseOrderNumber']}")
        items = [
            {
                "itemSequenceNumber": item["itemSequenceNumber"],
                "orderedQuantity": {"amount": item["orderedQuantity"]["amount"], "unitOfMeasure": "Eaches"},
                "itemAcknowledgements": [
                    {
                        "acknowledgementCode": "Rejected",
                        "rejectionReason": "TemporarilyUnavailable",
                        "acknowledgedQuantity": {"amount": 0, "unitOfMeasure": "Eaches"},
                    }
                ],
            }
            for item in order["orderDetails"]["items"]
        ]
        submitted = self.session.post(
            "/vendor/orders/v1/acknowledgements",
            json={
                "acknowledgements": [
                    {
                        "purchaseOrderNumber": order["purchaseOrderNumber"],
                        "sellingParty": {"partyId": order["orderDetails"]["sellingParty"]["partyId"]},
                        "acknowledgementDate": "2026-01-01T00:00:00Z",
                        "items": items,
                    }
                ]
            },
        )
        transaction = submitted.json()["payload"]["transactionId"]
        for _ in range(100):
            status: str = self._read(f"/vendor/transactions/v1/transactions/{transaction}")[
                "transactionStatus"
            ]["status"]
            if status != "Processing":
                return status
            time.sleep(0.05)
        raise AssertionError("still Processing")


@pytest.mark.vendor_sandbox(processing_delay=0.05, seed_size=30)
@pytest.mark.drift(plan=NEW_PROPERTIES, tolerance={"expect": FLOW})
def test_a_tolerant_client_passes_the_tolerance_verdict(
    vendor_sandbox: VendorSandbox, drift: DriftControl
) -> None:
    assert Integration(vendor_sandbox, "tolerant-erp/1", strict=False).run() in ("Success", "Failure")
    verdict = drift.tolerance()
    verdict.assert_passed()
    assert verdict.client(user_agent="tolerant-erp/1")["observations"]["drifted_answers"] == 2
    drift.verdict().assert_passed()  # the retry verdict, beside it


@pytest.mark.vendor_sandbox(processing_delay=0.05, seed_size=30)
@pytest.mark.drift(plan=NEW_PROPERTIES, tolerance={"expect": FLOW})
def test_a_strict_client_that_rejects_unknown_fields_fails_it(
    vendor_sandbox: VendorSandbox, drift: DriftControl
) -> None:
    with pytest.raises(UnknownProperty):
        Integration(vendor_sandbox, "strict-erp/1", strict=True).run()
    verdict = drift.tolerance()
    verdict.assert_failed("flow_continued")
    with pytest.raises(VerdictFailed, match="did not tolerate the drift"):
        verdict.assert_passed()


@pytest.mark.vendor_sandbox(seed_size=30)
@pytest.mark.drift(plan=NEW_PROPERTIES)
def test_a_strict_client_rerun_at_once_by_its_scheduler_is_a_retry_storm_on_a_200(
    vendor_sandbox: VendorSandbox, drift: DriftControl
) -> None:
    with pytest.raises(UnknownProperty):
        Integration(vendor_sandbox, "strict-erp/2", strict=True, runs=5).run()
    verdict = drift.tolerance()
    verdict.assert_failed("no_retry_storm")
    assert "flow_continued" not in verdict.failed_checks()  # it kept calling: only the storm gives it away


@pytest.mark.vendor_sandbox(seed_size=30)
def test_without_drifted_answers_the_tolerance_verdict_fails_for_want_of_evidence(
    vendor_sandbox: VendorSandbox, drift: DriftControl
) -> None:
    assert drift.rules() == []  # no marker: no plan
    vendor_sandbox.session("acme-na").get(ORDERS).raise_for_status()
    verdict = drift.tolerance()
    assert not verdict.passed
    with pytest.raises(VerdictFailed, match="no drifted answer reached any client"):
        verdict.assert_passed()


@pytest.mark.vendor_sandbox(seed_size=30)
@pytest.mark.drift()
def test_the_marker_applies_the_shipped_drift_plan_by_default(
    vendor_sandbox: VendorSandbox, drift: DriftControl
) -> None:
    assert {"new-properties", "deprecated-field-removed"} <= {rule["id"] for rule in drift.rules()}
    response = vendor_sandbox.session("acme-na").get(ORDERS, params={"limit": 2})
    assert "extra_fields" in response.headers["x-vendor-sandbox-drift"]


def test_drift_control_works_on_any_running_emulator(vendor_sandbox: VendorSandbox) -> None:
    with DriftControl(vendor_sandbox.base_url) as control:
        added = control.apply({"rules": [{"operation": "getPurchaseOrders", "action": "reordered"}]})
        assert added[0]["action"] == "reordered"
        vendor_sandbox.session("acme-na").get(ORDERS, params={"limit": 3})
        vendor_sandbox.session("acme-na").get(ORDERS, params={"limit": 1})
        assert control.tolerance(max_repeats_after_200=0).passed
        with pytest.raises(RuntimeError, match="400"):
            control.apply({"rules": [{"action": "deprecated_removed"}]})
