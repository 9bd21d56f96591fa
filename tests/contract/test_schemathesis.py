"""Schemathesis against the running emulator: every contract in contracts/, then Amazon's official models.

Each operation is exercised in three phases (examples, coverage, fuzzing) with positive and negative data.
The coverage phase derives its cases from the schemas alone; the fuzzing phase is seeded and derandomized,
and Hypothesis also draws some values from literals in the project's own (non-test) source, so a given
commit always sends the same requests. The emulator runs in memory with usage plans off, and every request
carries the LWA access token of the first writable demo account.

Checks (Schemathesis 4 built-ins unless said otherwise):

- run: not_a_server_error, status_code_conformance, content_type_conformance,
  response_headers_conformance, response_schema_conformance, negative_data_rejection (invalid input gets one
  of Amazon's 4xx), positive_data_acceptance (valid input gets a 2xx, or 404 for an unknown resource),
  unsupported_method (an undeclared method gets 405 with `Allow`), allow_header_conformance (`Allow` lists
  exactly the documented methods), missing_required_header (no Vendor operation declares a required header
  today, so it guards future contracts), and `access_token_enforced` (our own, below).
- not run:
  - ignored_auth: it only examines operations whose schema declares `security`; neither Amazon's models nor
    ours declare one (the LWA token is a convention, `x-amz-access-token`, not a security scheme), so it
    would pass vacuously. `access_token_enforced` checks the same thing against Amazon's convention.
  - use_after_free, ensure_resource_availability, object_level_authorization: they judge sequences of
    calls (DELETE then GET, POST then GET, one identity reading another's object) recorded by the stateful
    phase, which needs OpenAPI links the contracts do not have and which the pytest integration does not
    run; here they could only pass vacuously.
  - max_response_time: a wall-clock limit on a shared 2-core CI machine only adds flakiness;
    bench/ measures latency.

Where Amazon's model states something Amazon's service does not do, or Amazon refuses schema-valid input
for a reason no schema states, the check is narrowed for that case only, with the reason next to it
(`MODEL_ERRORS_NOT_ERROR_LISTS`, `BUSINESS_RULE_ANSWER`, `_operation_overrides`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import positive_data_acceptance, response_schema_conformance

from mockserver.contracts.loader import contract_files
from mockserver.contracts.registry import DEFAULT_CONTRACTS, OperationRegistry
from mockserver.pipeline.gateway import ANSWER_HEADER
from mockserver.pipeline.validate import RequestValidator
from mockserver.testing.server import RunningEmulator, start_emulator
from tests.reference import find_reference_models, reference_models_dir

TOKEN_HEADER = "x-amz-access-token"
SEED = 20_240_601
CONTRACT_EXAMPLES = 15  # fuzzing examples per operation and generation mode (coverage adds its own cases)
REFERENCE_EXAMPLES = 5

# Amazon's statuses for rejected input: 400 (invalid), 404 (no such route or resource), 405 (method),
# 413 (too large), 415 (media type). 403 and 429 cannot be the answer to bad data from a valid token with
# usage plans off.
REJECTION_STATUSES = ["400", "404", "405", "413", "415"]
# Valid input is answered; 404 stays allowed for a generated identifier that names no resource.
ACCEPTANCE_STATUSES = ["2xx", "404"]

# Amazon's models of this operation declare a bare `Error` object for every error status but 400, while the
# service answers every error of every SP-API operation as `{"errors": [Error, ...]}`, as the emulator does.
# Only the error responses of these operations skip response_schema_conformance; 2xx and 400 are checked.
MODEL_ERRORS_NOT_ERROR_LISTS = frozenset(
    {"GET /vendor/directFulfillment/transactions/2021-12-28/transactions/{transactionId}"}
)

# A stateful handler may refuse a schema-valid request for a reason no schema can state, as Amazon does:
# a `nextToken` the service never issued (they are opaque), a date window whose `createdBefore` is not
# after its `createdAfter`. The emulator marks such answers `error:handle` (contract validation answers
# `error:validate`), so positive_data_acceptance skips exactly those 400s and still fails any schema-valid
# request that the contract stage rejects.
BUSINESS_RULE_ANSWER = "error:handle"

# Schemathesis knows no `boolean` string format, so it would send any string where Amazon takes only a
# boolean (`includeDetails`, `isPOChanged`, ...); the emulator, like Amazon, rejects the rest with 400.
# The service accepts `True`/`False` as well as `true`/`false`.
schemathesis.openapi.format("boolean", st.sampled_from(["true", "false", "True", "False"]))


def _operation_overrides() -> list[dict[str, Any]]:
    return [
        {
            # createRestrictedDataToken checks more than its schema can say: each restricted resource needs
            # a supported method and an operation path starting with `/`, or Amazon answers 400
            # InvalidInput. A schema-valid `"path": ""` is such a request, so 400 is a correct answer to it.
            "include-operation-id": "createRestrictedDataToken",
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTANCE_STATUSES, "400"]}},
        }
    ]


def _config(max_examples: int, coverage_mode: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",  # positive and negative
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",  # nothing written to disk, nothing replayed from an earlier run
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True, "generation": {"mode": coverage_mode}},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
                "response_headers_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
                "negative_data_rejection": {"enabled": True, "expected-statuses": REJECTION_STATUSES},
                "positive_data_acceptance": {"enabled": True, "expected-statuses": ACCEPTANCE_STATUSES},
                "missing_required_header": {"enabled": True},
                "unsupported_method": {"enabled": True},
                "allow_header_conformance": {"enabled": True},
                "ignored_auth": {"enabled": False},
                "use_after_free": {"enabled": False},
                "ensure_resource_availability": {"enabled": False},
                "object_level_authorization": {"enabled": False},
            },
            "operations": _operation_overrides(),
        }
    )


def _schemas(directory: Path, max_examples: int, coverage_mode: str) -> dict[str, BaseSchema]:
    return {
        path.stem: schemathesis.openapi.from_path(path, config=_config(max_examples, coverage_mode))
        for path in contract_files(directory)
    }


def _start(tmp_path_factory: pytest.TempPathFactory, **overrides: Any) -> RunningEmulator:
    return start_emulator(
        data_dir=tmp_path_factory.mktemp("schemathesis"), store="memory", rate_limits=False, **overrides
    )


def _writable_token(emulator: RunningEmulator) -> str:
    account = next(item for item in emulator.accounts if not item["read_only"])
    return emulator.access_token(account["name"], account["application"])


def _access_token_enforced(token: str, session: requests.Session) -> schemathesis.CheckFunction:
    """A check: an operation that answers 2xx with the token answers 403 without it or with a forged one.

    Probed once per operation (the first 2xx), by replaying the request as sent.
    """
    probed: set[str] = set()

    def access_token_enforced(
        ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
    ) -> bool | None:
        label = case.operation.label
        if not 200 <= response.status_code < 300 or label in probed:
            return None
        probed.add(label)
        sent = response.request
        headers = {name: value for name, value in sent.headers.items() if name.lower() != TOKEN_HEADER}
        for forged in (None, f"{token}x"):
            probe_headers = headers if forged is None else {**headers, TOKEN_HEADER: forged}
            probe = session.request(
                str(sent.method), str(sent.url), headers=probe_headers, data=sent.body, timeout=10
            )
            errors = probe.json().get("errors") if probe.content else None
            assert probe.status_code == 403 and errors and errors[0].get("code") == "Unauthorized", (
                f"{label} answered {response.status_code} with the access token and {probe.status_code} "
                f"{'without one' if forged is None else 'with a forged one'}: {probe.text[:300]}"
            )
        return None

    return access_token_enforced


class Target:
    """One running emulator and how to call it: with the LWA access token of the first writable account, or
    its restricted data token for the operations that need one (Direct Fulfillment's personal data)."""

    def __init__(self, emulator: RunningEmulator) -> None:
        self.base_url = emulator.base_url
        self.emulator = emulator
        token = _writable_token(emulator)
        self.headers = {TOKEN_HEADER: token}
        self.session = requests.Session()  # keep-alive: a third less time per request than a new connection
        self.token_check = _access_token_enforced(token, self.session)

    def headers_for(self, case: schemathesis.Case) -> dict[str, str]:
        account = next(item for item in self.emulator.accounts if not item["read_only"])
        token = self.emulator.token_for(case.operation.method, case.operation.path, account["name"])
        return {TOKEN_HEADER: token}

    def exercise(self, case: schemathesis.Case) -> None:
        headers = self.headers_for(case)
        response = case.call(base_url=self.base_url, session=self.session, headers=headers)
        excluded: list[schemathesis.CheckFunction] = []
        if case.operation.label in MODEL_ERRORS_NOT_ERROR_LISTS and response.status_code > 400:
            excluded.append(response_schema_conformance)
        answered_by = response.headers.get(ANSWER_HEADER.lower(), [])
        if response.status_code == 400 and answered_by == [BUSINESS_RULE_ANSWER]:
            excluded.append(positive_data_acceptance)
        case.validate_response(
            response,
            headers=headers,
            additional_checks=[self.token_check],
            excluded_checks=excluded,
            transport_kwargs={"base_url": self.base_url, "session": self.session, "headers": headers},
        )

    def close(self) -> None:
        self.session.close()


@pytest.fixture(scope="module")
def contracts_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    running = _start(tmp_path_factory)
    target = Target(running)
    yield target
    target.close()
    running.stop()


@schemathesis.pytest.parametrize(**_schemas(DEFAULT_CONTRACTS, CONTRACT_EXAMPLES, coverage_mode="all"))
def test_contracts(case: schemathesis.Case, contracts_target: Target) -> None:
    contracts_target.exercise(case)


def test_error_shape_exception_names_exactly_the_operations_that_need_it() -> None:
    """`MODEL_ERRORS_NOT_ERROR_LISTS` neither hides an operation that does not need it nor goes stale."""
    error_list = {"errors": [{"code": "InvalidInput", "message": "Invalid input.", "details": ""}]}
    validator = RequestValidator(max_body_bytes=0)
    needing = {
        f"{operation.method} {operation.path}"
        for operation in OperationRegistry.from_directory(DEFAULT_CONTRACTS).operations
        for status, response in operation.responses.items()
        if int(status) >= 400
        and response.schema is not None
        and validator.response_violation(operation, status, error_list) is not None
    }
    assert needing == MODEL_ERRORS_NOT_ERROR_LISTS


REFERENCE_MODELS = find_reference_models()

if REFERENCE_MODELS is not None:

    @pytest.fixture(scope="module")
    def reference_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
        running = _start(tmp_path_factory, contracts_dir=reference_models_dir())
        target = Target(running)
        yield target
        target.close()
        running.stop()

    # The coverage phase derives its cases from the schema's facts alone, and Amazon's models state exactly
    # our contracts' facts (tests/contract/test_contracts_diff.py), so its negative half would resend the
    # ~11,800 invalid requests test_contracts already sent. Its positive half stays: every boundary and enum
    # value must also be accepted by the emulator serving Amazon's Swagger 2.0 files.
    @pytest.mark.reference
    @schemathesis.pytest.parametrize(
        **_schemas(REFERENCE_MODELS, REFERENCE_EXAMPLES, coverage_mode="positive")
    )
    def test_reference_models(case: schemathesis.Case, reference_target: Target) -> None:
        reference_target.exercise(case)

else:

    @pytest.mark.reference
    def test_reference_models() -> None:
        reference_models_dir()  # skips, or fails under CI, saying where the models are expected
