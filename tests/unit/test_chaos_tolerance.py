"""The tolerance report on hand-made journals: each check breaks on the behaviour it names, and a report
without a drifted answer fails for want of evidence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mockserver.chaos.tolerance import (
    NO_EVIDENCE,
    TolerancePolicy,
    TolerancePolicyError,
    junit_xml,
    render_text,
    tolerance_report,
)
from mockserver.journal import JournalEntry

LIST = ("GET", "/vendor/orders/v1/purchaseOrders", "getPurchaseOrders")
READ = ("GET", "/vendor/orders/v1/purchaseOrders/4Z32PABC", "getPurchaseOrder")
ACK = ("POST", "/vendor/orders/v1/acknowledgements", "submitAcknowledgement")
POLL = ("GET", "/vendor/transactions/v1/transactions/t-1", "getTransaction")
EXTRA = {
    "action": "extra_fields",
    "changed": 3,
    "fields": ["driftAddedField"],
    "loosening": {"extra_properties": ["driftAddedField"]},
}
ENUM = {
    "action": "new_enum_value",
    "changed": 1,
    "fields": ["purchaseOrderType"],
    "loosening": {"enum_values": {"purchaseOrderType": ["ReplenishmentOrder"]}},
}


class Journal:
    def __init__(self) -> None:
        self.entries: list[JournalEntry] = []
        self.at = 100.0

    def call(
        self,
        call: tuple[str, str, str],
        status: int = 200,
        *,
        drift: list[dict[str, Any]] | None = None,
        body: Any = None,
        answered_by: str = "stateful",
        agent: str = "erp/1",
        wait: float = 1.0,
        fault: dict[str, Any] | None = None,
    ) -> JournalEntry:
        self.at += wait
        method, path, operation = call
        entry = JournalEntry(
            sequence=len(self.entries) + 1,
            time=self.at,
            request_id=f"r{len(self.entries) + 1}",
            method=method,
            path=path,
            operation=f"vendor/orders/v1#{operation}",
            operation_id=operation,
            account="acme-na",
            application="demo-integration",
            status=status,
            latency_ms=10.0,
            answered_by=answered_by,
            request_headers={"User-Agent": agent},
            request_body=json.dumps(body).encode() if body is not None else None,
            drift=drift,
            fault=fault,
        )
        self.entries.append(entry)
        return entry

    def report(self, **policy: Any) -> dict[str, Any]:
        return tolerance_report(self.entries, TolerancePolicy.from_mapping(policy))

    def checks(self, **policy: Any) -> dict[str, bool]:
        (client,) = [item for item in self.report(**policy)["clients"] if item["exercised"]]
        return {check["name"]: check["passed"] for check in client["checks"]}


def tolerant_flow(journal: Journal, drift: list[dict[str, Any]] | None = None) -> None:
    journal.call(LIST, drift=drift or [EXTRA])
    journal.call(READ, drift=drift or [EXTRA])
    journal.call(ACK, 202, body={"acknowledgements": [{"purchaseOrderNumber": "4Z32PABC"}]})
    journal.call(POLL, wait=0.1)
    journal.call(POLL, wait=0.1)


def test_a_client_that_carries_on_passes_every_check() -> None:
    journal = Journal()
    tolerant_flow(journal)
    assert all(journal.checks(expect=["submitAcknowledgement"]).values())
    report = journal.report()
    assert report["passed"] and report["evidence"]
    (client,) = report["clients"]
    assert client["observations"]["drifted_answers"] == 2
    assert client["evidence"][0]["next"][0]["operation"] == "getPurchaseOrder"


def test_no_drifted_answer_means_no_evidence_and_a_failing_report() -> None:
    journal = Journal()
    journal.call(LIST)
    journal.call(LIST, drift=[{"action": "reordered", "changed": 0}])  # nothing was changed
    journal.call(LIST, 500, drift=[EXTRA])  # not an answer the client could use
    report = journal.report()
    assert not report["passed"] and not report["evidence"]
    assert report["detail"] == NO_EVIDENCE
    assert report["clients"][0]["exercised"] is False
    assert "FAIL" in render_text(report) and "not exercised" in render_text(report)
    assert 'name="evidence"' in junit_xml(report) and 'failures="1"' in junit_xml(report)
    assert not tolerance_report([])["passed"]


def test_a_client_that_stops_after_the_drifted_answer_abandoned_the_flow() -> None:
    journal = Journal()
    journal.call(LIST)
    journal.call(LIST, drift=[EXTRA])
    checks = journal.checks()
    assert not checks["flow_continued"]
    assert "abandoned" in journal.report()["clients"][0]["checks"][0]["detail"]


def test_expect_names_the_operations_a_client_must_still_reach() -> None:
    journal = Journal()
    journal.call(LIST, drift=[EXTRA])
    journal.call(LIST, drift=[EXTRA], wait=20)
    assert journal.checks()["flow_continued"]
    assert not journal.checks(expect="submitAcknowledgement")["flow_continued"]
    journal.call(ACK, 400, answered_by="error:handle")
    assert not journal.checks(expect="submitAcknowledgement")["flow_continued"]  # reached, but refused


def test_a_request_refused_as_malformed_after_the_drift_fails_well_formed() -> None:
    journal = Journal()
    journal.call(ACK, 400, answered_by="error:validate")  # before the drift: the baseline, not judged
    journal.call(LIST, drift=[EXTRA])
    journal.call(ACK, 202)
    assert journal.checks()["well_formed"]
    journal.call(ACK, 400, answered_by="error:validate")
    assert not journal.checks()["well_formed"]


def test_sending_back_an_invented_field_or_enum_value_fails_no_echo_unless_allowed() -> None:
    journal = Journal()
    journal.call(LIST, drift=[EXTRA, ENUM])
    journal.call(ACK, 202, body={"acknowledgements": [{"driftAddedField": "added later"}]})
    assert not journal.checks()["no_echo"]
    assert "no_echo" not in journal.checks(allow_echo=True)

    values = Journal()
    values.call(LIST, drift=[ENUM])
    values.call(ACK, 202, body={"note": "ReplenishmentOrder"})
    assert not values.checks()["no_echo"]


def test_an_invented_field_sent_before_it_was_invented_is_not_an_echo() -> None:
    journal = Journal()
    journal.call(ACK, 202, body={"driftAddedField": 1})
    journal.call(LIST, drift=[EXTRA])
    journal.call(READ)
    assert journal.checks()["no_echo"]


def test_a_burst_of_own_errors_after_the_drift_fails_but_throttling_and_faults_do_not_count() -> None:
    journal = Journal()
    for _ in range(4):
        journal.call(READ)
    journal.call(LIST, drift=[EXTRA])
    journal.call(READ, 429, answered_by="error:throttle")
    journal.call(READ, 503, answered_by="fault:service_unavailable")
    journal.call(READ, 403, answered_by="fault:retire", fault={"action": "retire"})
    journal.call(READ)
    assert journal.checks()["no_error_burst"]
    journal.call(READ, 404, answered_by="error:handle")
    journal.call(READ, 404, answered_by="error:handle")
    assert not journal.checks()["no_error_burst"]
    assert journal.checks(max_error_increase=0.5)["no_error_burst"]


def test_retrying_a_drifted_200_again_and_again_is_a_retry_storm() -> None:
    journal = Journal()
    journal.call(LIST, drift=[EXTRA])
    for _ in range(4):
        journal.call(LIST, drift=[EXTRA], wait=0.2)  # a parser failing on every answer, retried at once
    checks = journal.checks()
    assert not checks["no_retry_storm"]
    assert checks["flow_continued"]  # it kept calling, which is why the storm check exists
    assert journal.checks(max_repeats_after_200=4)["no_retry_storm"]
    assert journal.checks(repeat_window=0.3)["no_retry_storm"]


def test_polling_a_transaction_is_not_a_retry_storm() -> None:
    journal = Journal()
    journal.call(LIST, drift=[EXTRA])
    for _ in range(6):
        journal.call(POLL, drift=[EXTRA], wait=0.1)
    assert journal.checks()["no_retry_storm"]
    assert not journal.checks(polling_operations="")["no_retry_storm"]


def test_a_client_that_repeats_calls_anyway_is_judged_against_its_own_baseline() -> None:
    journal = Journal()
    for _ in range(5):
        journal.call(LIST, wait=0.5)  # its normal polling of the listing, undrifted
    for _ in range(5):
        journal.call(LIST, drift=[EXTRA], wait=0.5)
    assert journal.checks()["no_retry_storm"]


def test_clients_are_judged_apart_and_one_without_drift_is_not_exercised() -> None:
    journal = Journal()
    tolerant_flow(journal)
    journal.call(LIST, drift=[EXTRA], agent="strict/1")
    journal.call(POLL, agent="monitor/1")
    report = journal.report()
    by_agent = {client["user_agent"]: client for client in report["clients"]}
    assert by_agent["erp/1"]["passed"] is True
    assert by_agent["strict/1"]["passed"] is False
    assert by_agent["monitor/1"]["exercised"] is False and by_agent["monitor/1"]["passed"] is None
    assert not report["passed"]
    text = render_text(report)
    assert "PASS  demo-integration  erp/1" in text and "FAIL  demo-integration  strict/1" in text
    xml = junit_xml(report)
    assert "flow_continued" in xml and "<failure" in xml


def test_deprecation_notices_and_retired_answers_are_observed() -> None:
    journal = Journal()
    journal.call(READ, drift=[{"action": "retire", "state": "deprecated"}])
    journal.call(LIST, drift=[EXTRA])
    journal.call(READ, 403, answered_by="fault:retire", fault={"action": "retire"})
    (client,) = journal.report()["clients"]
    assert client["observations"]["deprecation_notices"] == 1
    assert client["observations"]["retired_answers"] == 1


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"max_repeats": 1}, "unknown tolerance policy field"),
        ({"max_repeats_after_200": "many"}, "max_repeats_after_200"),
        ({"repeat_window": -1}, "must not be negative"),
        ({"expect": 3}, "expect"),
    ],
)
def test_a_bad_policy_is_refused_with_the_reason(policy: dict[str, Any], message: str) -> None:
    with pytest.raises(TolerancePolicyError, match=message):
        TolerancePolicy.from_mapping(policy)


def test_policy_fields_come_as_query_strings_too() -> None:
    policy = TolerancePolicy.from_mapping(
        {"expect": "a,b", "allow_echo": "true", "max_repeats_after_200": "3", "repeat_window": "2.5"}
    )
    assert policy == TolerancePolicy(("a", "b"), 3, 2.5, allow_echo=True)
