"""The retry verdict on hand-made journals: each check breaks on the behaviour it names."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from mockserver.chaos.verdict import PolicyError, RetryPolicy, junit_xml, render_text, retry_report
from mockserver.journal import JournalEntry


def entry(
    sequence: int,
    at: float,
    status: int,
    *,
    method: str = "GET",
    body: bytes | None = None,
    fault: dict[str, Any] | None = None,
    agent: str = "agent/1",
    answered_by: str | None = None,
) -> JournalEntry:
    return JournalEntry(
        sequence=sequence,
        time=at,
        request_id=f"r{sequence}",
        method=method,
        path="/vendor/orders/v1/purchaseOrders" if method == "GET" else "/vendor/orders/v1/acknowledgements",
        operation="getPurchaseOrders" if method == "GET" else "submitAcknowledgement",
        operation_id=None,
        account="acme-na",
        application="demo-integration",
        status=status,
        latency_ms=0.0,
        answered_by=answered_by or ("generated" if status < 400 else "fault:x"),
        request_headers={"User-Agent": agent},
        request_body=body,
        fault=fault,
    )


def chain(waits: list[float], final: int = 200, failure: int = 503) -> list[JournalEntry]:
    at, entries = 100.0, [entry(1, 100.0, failure)]
    for index, wait in enumerate(waits, start=2):
        at += wait
        entries.append(entry(index, at, failure if index <= len(waits) else final))
    return entries


def checks(entries: list[JournalEntry], **policy: Any) -> dict[str, bool]:
    report = retry_report(entries, RetryPolicy(**policy))
    (client,) = report["clients"]
    return {check["name"]: check["passed"] for check in client["checks"]}


def test_exponential_backoff_passes_every_check() -> None:
    assert all(checks(chain([0.1, 0.2, 0.4])).values())


def test_immediate_retries_fail_min_backoff() -> None:
    assert not checks(chain([0.001, 0.001]))["min_backoff"]


def test_constant_waits_fail_growth() -> None:
    assert not checks(chain([0.2, 0.2, 0.2]), growth_factor=2.0, jitter_tolerance=0.1)["growth"]


def test_a_fixed_interval_fails_the_default_policy_whose_waits_must_grow() -> None:
    report = retry_report(chain([0.5, 0.5, 0.5, 0.5]))
    check = next(item for item in report["clients"][0]["checks"] if item["name"] == "growth")
    assert not check["passed"]
    assert "waits grow x1.00 per retry" in check["detail"] and "needs at least x1.22" in check["detail"]


def test_shrinking_waits_fail_growth() -> None:
    assert not checks(chain([0.8, 0.4, 0.2]))["growth"]


def test_jitter_around_a_growing_trend_passes_and_jitter_without_one_fails() -> None:
    import random

    draw = random.Random(7)
    jittered_exponential = [
        chain([0.1 * 2**step * draw.uniform(0.6, 1.4) for step in range(5)]) for _ in range(4)
    ]
    entries = [
        dataclasses.replace(item, sequence=index, time=item.time + 100 * number)
        for number, calls in enumerate(jittered_exponential)
        for index, item in enumerate(calls, start=number * 10)
    ]
    assert checks(entries)["growth"]
    jitter_only = chain([0.5 * draw.uniform(0.6, 1.4) for _ in range(6)])
    assert not checks(jitter_only)["growth"]


def test_a_jitter_tolerance_of_one_or_more_is_refused() -> None:
    with pytest.raises(PolicyError):
        RetryPolicy(jitter_tolerance=1.0)


def test_too_many_attempts_fail_max_attempts() -> None:
    assert not checks(chain([0.1, 0.2, 0.4, 0.8, 1.6]), max_attempts=3)["max_attempts"]


def test_a_short_wait_after_429_fails_even_when_backoff_is_met_elsewhere() -> None:
    result = checks(chain([0.2], failure=429), min_backoff=0.1, min_wait_after_throttle=1.0)
    assert not result["min_backoff"]


def test_hammering_after_recovering_from_429_fails_throttle_respected() -> None:
    entries = [entry(1, 1.0, 429), entry(2, 2.0, 200)] + [entry(n, 2.0 + n, 429) for n in range(3, 8)]
    assert not checks(entries)["throttle_respected"]


def test_using_an_expired_token_again_fails_token_refreshed() -> None:
    entries = [
        entry(1, 1.0, 403, fault={"source": "rule", "action": "expired_token"}),
        entry(2, 1.5, 403, fault={"source": "expired-token", "action": "expired_token"}),
    ]
    assert not checks(entries)["token_refreshed"]


def _acknowledgement(*numbers: str, date: str = "2024-05-01T10:00:00Z") -> bytes:
    documents = [
        {"purchaseOrderNumber": number, "acknowledgementDate": date, "sellingParty": {"partyId": "ACME1"}}
        for number in numbers
    ]
    return json.dumps({"acknowledgements": documents}).encode()


def test_a_submission_accepted_twice_fails_no_duplicate_submissions() -> None:
    body = _acknowledgement("PO1")
    entries = [
        entry(1, 1.0, 202, method="POST", body=body, fault={"source": "rule", "action": "drop"}),
        entry(2, 2.0, 202, method="POST", body=body),
    ]
    assert not checks(entries)["no_duplicate_submissions"]
    assert "no_duplicate_submissions" not in checks(entries, no_duplicate_submissions=False)


def test_the_same_document_re_sent_with_a_new_date_is_a_duplicate() -> None:
    """Judged by what it does: the acknowledgement of PO1 accepted twice, though the bodies differ."""
    entries = [
        entry(1, 1.0, 202, method="POST", body=_acknowledgement("PO1"), fault={"action": "drop"}),
        entry(2, 2.0, 202, method="POST", body=_acknowledgement("PO1", date="2024-05-01T10:00:05Z")),
    ]
    report = retry_report(entries)
    check = next(
        item for item in report["clients"][0]["checks"] if item["name"] == "no_duplicate_submissions"
    )
    assert not check["passed"]
    assert "acknowledgements:purchaseOrderNumber=PO1 2 times (request ids r1, r2)" in check["detail"]


def test_a_batch_overlapping_an_accepted_one_is_a_duplicate_of_what_they_share() -> None:
    entries = [
        entry(1, 1.0, 202, method="POST", body=_acknowledgement("PO1", "PO2")),
        entry(2, 2.0, 202, method="POST", body=_acknowledgement("PO2", "PO3")),
    ]
    assert not checks(entries)["no_duplicate_submissions"]


def test_different_documents_or_a_refused_first_attempt_are_not_duplicates() -> None:
    different = [
        entry(1, 1.0, 202, method="POST", body=_acknowledgement("PO1")),
        entry(2, 2.0, 202, method="POST", body=_acknowledgement("PO2")),
    ]
    assert checks(different)["no_duplicate_submissions"]
    retried_after_503 = [
        entry(1, 1.0, 503, method="POST", body=_acknowledgement("PO1")),
        entry(2, 2.0, 202, method="POST", body=_acknowledgement("PO1")),
    ]
    assert checks(retried_after_503)["no_duplicate_submissions"]


def test_an_asn_and_its_replacement_are_two_documents() -> None:
    from mockserver.chaos.submissions import submitted_documents

    def asn(kind: str) -> dict[str, Any]:
        return {"shipmentConfirmations": [{"shipmentIdentifier": "ASN1", "shipmentConfirmationType": kind}]}

    original, replacement = (
        submitted_documents(None, "/", asn("Original")),
        submitted_documents(None, "/", asn("Replace")),
    )
    assert original and replacement and original != replacement
    assert submitted_documents("createReport", "/reports/2021-06-30/reports", {"reportType": "X"}) == []
    assert submitted_documents(
        "createShippingLabels", "/vendor/directFulfillment/shipping/2021-12-28/shippingLabels/PO1", {}
    ) == ["createShippingLabels:/vendor/directFulfillment/shipping/2021-12-28/shippingLabels/PO1"]


def test_jitter_is_observed_and_can_be_required() -> None:
    steady = chain([0.1, 0.2, 0.4])
    assert retry_report(steady)["clients"][0]["observations"]["jitter"] is False
    assert not checks(steady, require_jitter=True)["jitter"]
    jittered = chain([0.1, 0.23, 0.41])
    assert retry_report(jittered)["clients"][0]["observations"]["jitter"] is True


def test_clients_are_told_apart_by_user_agent() -> None:
    entries = chain([0.1, 0.2]) + [entry(10 + n, 200.0 + n * 0.001, 503, agent="other/2") for n in range(3)]
    report = retry_report(entries)
    verdicts = {client["user_agent"]: client["passed"] for client in report["clients"]}
    assert verdicts == {"agent/1": True, "other/2": False}
    assert "FAIL  demo-integration  other/2" in render_text(report)
    assert 'classname="demo-integration.other/2" name="min_backoff"' in junit_xml(report)


def test_policy_from_a_mapping_refuses_unknown_fields_and_bad_values() -> None:
    assert RetryPolicy.from_mapping({"max_attempts": "3", "require_jitter": "true"}).max_attempts == 3
    with pytest.raises(PolicyError):
        RetryPolicy.from_mapping({"colour": 1})
    with pytest.raises(PolicyError):
        RetryPolicy.from_mapping({"min_backoff": "soon"})


def test_serve_takes_a_fault_plan_file(tmp_path: Path) -> None:
    from mockserver.cli import _settings_from, build_parser

    arguments = build_parser().parse_args(["serve", "--faults", str(tmp_path / "plan.yaml")])
    assert _settings_from(arguments).faults_file == tmp_path / "plan.yaml"
