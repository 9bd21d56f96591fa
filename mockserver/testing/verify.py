"""`vendor-sandbox verify-server URL`: a Schemathesis run of the contracts against any server.

Every contract file of a directory (ours by default, or Amazon's Swagger 2.0 models) is run through
Schemathesis' engine: examples, coverage, fuzzing (positive and negative data) and, where the contracts link
operations (OpenAPI links), the stateful phase. Seeded and deterministic: the same requests every run.

Schemathesis runs one document at a time and does not follow a link into another file, so the OpenAPI 3
contracts of the directory are first bundled into ONE document in memory (`bundle_contracts`): paths merged,
component names that several files use namespaced by file (`vendor-orders-v1.Address`), duplicate
operationIds likewise (`submitAcknowledgement.vendor-orders-v1`), and every link turned into a same-document
`operationRef` (`#/paths/...`). A contract may therefore link to another file's operation with a relative
`operationRef` (`vendor-transaction-status-v1.yaml#/paths/~1vendor~1transactions~1v1~1transactions~1
{transactionId}/get`): submissions lead to getTransaction in the stateful phase. Swagger 2.0 files (Amazon's
models) have no links and run one by one.

Every call carries the LWA access token (`--token`, or one obtained with the credentials); the restricted
operations among the contracts (Direct Fulfillment's personal data) carry a restricted data token the server
issues for all of them (createRestrictedDataToken), as a client must send one.

Checks (Schemathesis built-ins unless said otherwise; the reasons are those of
tests/contract/test_schemathesis.py):
- run: not_a_server_error, status_code_conformance, content_type_conformance,
  response_headers_conformance, response_schema_conformance (see `MODEL_ERRORS_NOT_ERROR_LISTS`),
  negative_data_rejection (one of Amazon's 4xx), positive_data_acceptance (2xx, or 404 for an unknown
  resource), missing_required_header, unsupported_method, allow_header_conformance, use_after_free and
  ensure_resource_availability (meaningful in the stateful phase only); positive_data_acceptance skips a
  400 the emulator marks as a business rule's (`error:handle`).
- not run: ignored_auth (no contract declares `security`; the LWA token is a header convention),
  object_level_authorization (needs a second identity), max_response_time (wall-clock flakiness).
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import requests

SEED = 20_240_601
TOKEN_HEADER = "x-amz-access-token"
REJECTION_STATUSES = ["400", "404", "405", "413", "415"]
ACCEPTANCE_STATUSES = ["2xx", "404"]
# Amazon's models (and so ours) declare a bare `Error` for the error statuses of this operation, while the
# service answers every error as `{"errors": [...]}`: its errors above 400 skip the schema check.
MODEL_ERRORS_NOT_ERROR_LISTS = frozenset(
    {"GET /vendor/directFulfillment/transactions/2021-12-28/transactions/{transactionId}"}
)
CHECKS_RUN = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
)
STATEFUL_CHECKS = ("use_after_free", "ensure_resource_availability")
ANSWER_HEADER = "x-vendor-sandbox-answer"
BUSINESS_RULE_ANSWER = "error:handle"
CHECKS_OFF = ("ignored_auth", "object_level_authorization")  # max_response_time: unset, so off


@dataclass
class CheckFailure:
    operation: str
    check: str
    title: str
    message: str
    reproduce: str  # a curl command


@dataclass
class OperationResult:
    label: str
    phase: str
    status: str
    elapsed: float
    failures: list[CheckFailure] = field(default_factory=list)

    @property
    def tested(self) -> bool:
        """Whether any case ran (a scenario Schemathesis skipped, with no example to send, tested nothing)."""
        return self.status != "skip"


@dataclass
class VerifyResult:
    base_url: str
    contracts: Path
    operations: list[OperationResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def failures(self) -> list[CheckFailure]:
        unique: dict[tuple[str, str, str], CheckFailure] = {}
        for result in self.operations:
            for failure in result.failures:
                unique.setdefault((failure.operation, failure.check, failure.title), failure)
        return list(unique.values())

    @property
    def ok(self) -> bool:
        """Passed: operations were tested, none failed, nothing went wrong. A run that tested nothing (a
        server that does not answer, contracts with no operation) fails: never a pass on no evidence."""
        return bool(self.tested_labels) and not self.failures and not self.errors

    @property
    def tested_labels(self) -> set[str]:
        return {result.label for result in self.operations if result.tested}

    def summary(self) -> str:
        labels = self.tested_labels
        skipped = {result.label for result in self.operations} - labels
        failed = {failure.operation for failure in self.failures}
        lines = [
            f"verify-server {self.base_url} against {self.contracts}: {len(labels)} operation(s) tested"
            + (f" ({len(skipped)} skipped with nothing to send)" if skipped else "")
            + f", {len(failed)} failing, {len(self.failures)} distinct failure(s), {len(self.errors)} "
            f"error(s) in {self.elapsed:.1f}s"
        ]
        for failure in sorted(self.failures, key=lambda item: (item.operation, item.check)):
            lines.append(f"  FAIL {failure.operation}: [{failure.check}] {failure.title}")
            for line in failure.message.strip().splitlines()[:6]:
                lines.append(f"       {line}")
            if failure.reproduce:
                lines.append(f"       reproduce: {failure.reproduce}")
        for error in self.errors:
            lines.append(f"  ERROR {error}")
        lines.append("OK: zero failures" if self.ok else "FAILED")
        return "\n".join(lines)

    def junit_xml(self) -> str:
        root = ElementTree.Element("testsuites")
        by_label: dict[str, list[CheckFailure]] = {}
        elapsed: dict[str, float] = {}
        for result in self.operations:
            by_label.setdefault(result.label, [])
            elapsed[result.label] = elapsed.get(result.label, 0.0) + result.elapsed
        for failure in self.failures:
            by_label.setdefault(failure.operation, []).append(failure)
        suite = ElementTree.SubElement(
            root,
            "testsuite",
            name="vendor-sandbox verify-server",
            tests=str(len(by_label) + len(self.errors)),
            failures=str(sum(1 for items in by_label.values() if items)),
            errors=str(len(self.errors)),
        )
        for label in sorted(by_label):
            case = ElementTree.SubElement(
                suite, "testcase", name=label, classname="verify-server", time=f"{elapsed.get(label, 0):.3f}"
            )
            for failure in by_label[label]:
                element = ElementTree.SubElement(
                    case, "failure", type=failure.check, message=f"[{failure.check}] {failure.title}"
                )
                element.text = f"{failure.message}\n\nreproduce: {failure.reproduce}"
        for index, error in enumerate(self.errors):
            case = ElementTree.SubElement(
                suite, "testcase", name=f"error {index + 1}", classname="verify-server"
            )
            ElementTree.SubElement(case, "error", message=error[:200]).text = error
        return ElementTree.tostring(root, encoding="unicode", xml_declaration=True)


def obtain_token(
    base_url: str,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    refresh_token: str | None = None,
    token_url: str | None = None,
) -> str:
    """An access token from the server's LWA endpoint; by default with the first writable demo account."""
    if not (client_id and client_secret and refresh_token):
        from mockserver.accounts import load_accounts
        from mockserver.settings import Settings

        account = next(
            item for item in load_accounts(Settings().fixtures_dir).describe() if not item["read_only"]
        )
        client_id, client_secret = account["client_id"], account["client_secret"]
        refresh_token = account["refresh_token"]
    response = requests.post(
        token_url or f"{base_url.rstrip('/')}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "client_secret": client_secret,
        },
        timeout=30,
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"no access token from {response.url}: {response.status_code} {response.text[:300]}"
        )
    return str(response.json()["access_token"])


def restricted_resources_of(directory: Path) -> list[dict[str, str]]:
    """The restricted operations among the contracts of `directory` (Direct Fulfillment's personal data), as
    the restricted resources of createRestrictedDataToken (generic paths)."""
    from mockserver.contracts.loader import ContractError
    from mockserver.contracts.registry import OperationRegistry
    from mockserver.pipeline.strict import restricted_resources

    try:
        operations = OperationRegistry.from_directory(directory).operations
    except ContractError:
        return []  # no contract at all: the run says so, having tested nothing
    return restricted_resources(operations)


def obtain_restricted_data_token(base_url: str, token: str, resources: list[dict[str, str]]) -> str | None:
    """An RDT for the restricted operations, from the server's createRestrictedDataToken; None where the
    server issues none (then those operations are called with the access token, and refuse it)."""
    try:
        response = requests.post(
            f"{base_url.rstrip('/')}/tokens/2021-03-01/restrictedDataToken",
            headers={TOKEN_HEADER: token},
            json={"restrictedResources": resources},
            timeout=30,
        )
    except requests.RequestException:
        return None
    if response.status_code != 200:
        return None
    issued = response.json().get("restrictedDataToken")
    return issued if isinstance(issued, str) else None


def sp_api_response_schema_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    from schemathesis.specs.openapi.checks import response_schema_conformance

    if case.operation.label in MODEL_ERRORS_NOT_ERROR_LISTS and response.status_code > 400:
        return None
    if not _non_empty_path(ctx, case.path_parameters):
        return None  # the request reached another route: its answer is not this operation's
    result: bool | None = response_schema_conformance(ctx, response, case)
    return result


def sp_api_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, except a 400 the emulator says a business rule gave
    (`x-vendor-sandbox-answer: error:handle`): Amazon, too, refuses schema-valid input no schema can judge
    (a `nextToken` it never issued, a date window ending before it starts). A 400 of contract validation
    (`error:validate`) still fails."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    answered_by = response.headers.get(ANSWER_HEADER, [])
    if response.status_code == 400 and answered_by == [BUSINESS_RULE_ANSWER]:
        return None
    # The filter hooks below keep such cases out of generation, but a stateful step can still carry one in
    # (values a link supplies are merged after the hooks ran): what was sent is not what was generated.
    if not _representable_query(ctx, case.query) or not _non_empty_path(ctx, case.path_parameters):
        return None
    result: bool | None = positive_data_acceptance(ctx, response, case)
    return result


def _stateful_check(name: str) -> Callable[..., bool | None]:
    """A stateful built-in (`use_after_free`, `ensure_resource_availability`) that judges only answers the
    server says are stateful: the emulator marks answers generated from the contract (no state behind them)
    with `x-vendor-sandbox-answer: generated`; any other server's answers are all judged."""
    from schemathesis.specs.openapi import checks as builtin

    check = getattr(builtin, name)

    def stateful_only(ctx: Any, response: Any, case: Any) -> bool | None:
        if str(response.headers.get(ANSWER_HEADER, [""])[0]) == "generated":
            return None
        result: bool | None = check(ctx, response, case)
        return result

    stateful_only.__name__ = f"{name}_where_stateful"
    return stateful_only


def _representable_query(ctx: Any, query: dict[str, Any] | None) -> bool:
    """An array item holding a comma cannot be sent in `form` style with `explode: false` (the server reads
    two items): such generated queries are skipped rather than reported as the server's fault."""
    for value in (query or {}).values():
        if isinstance(value, list) and any(isinstance(item, str) and "," in item for item in value):
            return False
        # Already joined (Schemathesis' DelimitedValue): items are percent-encoded, the delimiters literal.
        if "%2c" in str(getattr(value, "encoded", "")).lower():
            return False
    return True


def _non_empty_path(ctx: Any, path_parameters: dict[str, Any] | None) -> bool:
    """An empty path parameter names another route (`/purchaseOrders/` is not `/purchaseOrders/{id}`):
    Schemathesis never generates one, but a link may carry an empty value from a request body."""
    return all(value not in ("", None) for value in (path_parameters or {}).values())


def _config(
    base_url: str,
    token: str,
    max_examples: int,
    phases: tuple[str, ...],
    restricted: list[dict[str, str]] | None = None,
    restricted_token: str | None = None,
    seed: int = SEED,
) -> Any:
    """The run's configuration: the access token on every call, the RDT on the restricted operations."""
    import schemathesis

    checks: dict[str, Any] = {name: {"enabled": True} for name in CHECKS_RUN}
    checks.update({name: {"enabled": False} for name in CHECKS_OFF})
    checks["negative_data_rejection"]["expected-statuses"] = REJECTION_STATUSES
    checks["positive_data_acceptance"]["expected-statuses"] = ACCEPTANCE_STATUSES
    # Replaced by the registered wrappers above (same checks, narrowed where said).
    for name in ("response_schema_conformance", "positive_data_acceptance", *STATEFUL_CHECKS):
        checks[name] = {"enabled": False}
    return schemathesis.Config.from_dict(
        {
            "base-url": base_url.rstrip("/"),
            "headers": {TOKEN_HEADER: token},
            "seed": seed,
            "generation": {
                "mode": "all",
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
            },
            "phases": {
                name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")
            },
            "checks": checks,
            "operations": [
                {
                    # createRestrictedDataToken checks more than its schema says (a path starting with `/`,
                    # a supported method, a restricted operation): Amazon answers such schema-valid
                    # requests 400 InvalidInput.
                    "include-operation-id": "createRestrictedDataToken",
                    "checks": {
                        "positive_data_acceptance": {"expected-statuses": [*ACCEPTANCE_STATUSES, "400"]}
                    },
                },
                *(
                    {
                        "include-name": f"{resource['method']} {resource['path']}",
                        "headers": {TOKEN_HEADER: restricted_token},
                    }
                    for resource in (restricted or [])
                    if restricted_token
                ),
            ],
        }
    )


_registered = False


def _register_checks() -> None:
    global _registered
    if _registered:
        return
    import schemathesis
    from hypothesis import strategies as st

    schemathesis.check(sp_api_response_schema_conformance)
    schemathesis.check(sp_api_positive_data_acceptance)
    for name in STATEFUL_CHECKS:
        schemathesis.check(_stateful_check(name))
    # Schemathesis knows no `boolean` string format, so it would send any string where Amazon takes only a
    # boolean (`includeDetails`, `isPOChanged`); the service accepts `true`/`false` in either case.
    schemathesis.openapi.format("boolean", st.sampled_from(["true", "false", "True", "False"]))
    _registered = True


# -- one document of many ----------------------------------------------------------------------------------

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class BundleError(ValueError):
    """Contract files that cannot be one document (the same path in two files, a link to nowhere)."""


def load_document(path: Path) -> dict[str, Any]:
    """A contract file parsed as Schemathesis parses it (YAML 1.1 quirks included)."""
    from schemathesis.core.deserialization import deserialize_yaml

    text = path.read_text(encoding="utf-8")
    document = json.loads(text) if path.suffix.lower() == ".json" else deserialize_yaml(text)
    if not isinstance(document, dict):
        raise BundleError(f"{path.name} is not an OpenAPI document")
    return document


def _namespace(path: Path) -> str:
    return _UNSAFE_NAME.sub("_", path.stem)


def _operation_pointer(api_path: str, method: str) -> str:
    return f"#/paths/{api_path.replace('~', '~0').replace('/', '~1')}/{method}"


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for api_path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method, operation in item.items():
            if method in HTTP_METHODS and isinstance(operation, dict):
                yield api_path, method, operation


def _link_maps(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every map of links defined in place: under the operations' responses, reusable responses, and
    `components/links`."""
    components = document.get("components") or {}
    responses = [
        response
        for _, _, operation in _operations(document)
        for response in (operation.get("responses") or {}).values()
    ]
    responses.extend((components.get("responses") or {}).values())
    for response in responses:
        if isinstance(response, dict) and isinstance(response.get("links"), dict):
            yield response["links"]
    if isinstance(components.get("links"), dict):
        yield components["links"]


def bundle_contracts(files: Sequence[Path], dropped: list[str] | None = None) -> dict[str, Any]:
    """ONE OpenAPI 3 document of several, so links between files become links within a document.

    Paths are merged (a path in two files is an error); a component name used by several files is renamed
    `<file stem>.<name>` in each of them (and every `$ref` to it rewritten), other names are kept; an
    operationId of several files becomes `<operationId>.<file stem>`; a link's target (`operationId` of the
    same file, or `operationRef` into the same or another bundled file) becomes the same-document
    `operationRef` `#/paths/<path>/<method>`. A link into a file that is not bundled (a run of some of the
    contracts) is left out and described in `dropped`; an operationId naming no operation is an error.
    A top-level `security` moves onto the file's operations.
    """
    documents = {path.resolve(): copy.deepcopy(load_document(path)) for path in files}
    if not documents:
        raise BundleError("no contract files to bundle")
    owners: dict[tuple[str, str], list[Path]] = {}
    operation_ids: dict[str, list[tuple[Path, str, str]]] = {}
    path_owner: dict[str, Path] = {}
    for path, document in documents.items():
        if not str(document.get("openapi", "")).startswith("3."):
            raise BundleError(f"{path.name} is not an OpenAPI 3 document")
        for kind, items in (document.get("components") or {}).items():
            for name in items or {}:
                owners.setdefault((kind, name), []).append(path)
        for api_path, method, operation in _operations(document):
            if "operationId" in operation:
                operation_ids.setdefault(str(operation["operationId"]), []).append((path, api_path, method))
        for api_path in document.get("paths") or {}:
            if api_path in path_owner:
                raise BundleError(f"{api_path} is in both {path_owner[api_path].name} and {path.name}")
            path_owner[api_path] = path

    def component_name(path: Path, kind: str, name: str) -> str:
        return name if len(owners.get((kind, name), [])) < 2 else f"{_namespace(path)}.{name}"

    def target_document(path: Path, reference: str) -> Path | None:
        """The bundled file a reference's file part names (`` is the file itself), or None."""
        location = reference.partition("#")[0]
        if not location:
            return path
        candidate = (path.parent / location).resolve()
        return candidate if candidate in documents else None

    def rewrite_reference(path: Path, reference: str) -> str:
        target = target_document(path, reference)
        fragment = reference.partition("#")[2]
        if target is None:
            return reference  # outside the bundle: left as written
        parts = fragment.split("/")
        if len(parts) >= 4 and parts[:2] == ["", "components"]:
            name = parts[3].replace("~1", "/").replace("~0", "~")
            parts[3] = component_name(target, parts[2], name).replace("~", "~0").replace("/", "~1")
        return "#" + "/".join(parts)

    def link_target(path: Path, link: dict[str, Any]) -> str | None:
        if "operationRef" in link:
            reference = str(link["operationRef"])
            if target_document(path, reference) is None:
                return None
            return "#" + reference.partition("#")[2]
        operation_id = str(link.get("operationId"))
        candidates = operation_ids.get(operation_id, [])
        same_file = [item for item in candidates if item[0] == path]
        chosen = same_file or (candidates if len(candidates) == 1 else [])
        if not chosen:
            raise BundleError(
                f"{path.name}: link to operationId {operation_id}, which names no one operation"
            )
        return _operation_pointer(chosen[0][1], chosen[0][2])

    first = next(iter(documents.values()))
    bundle: dict[str, Any] = {
        "openapi": max(str(document["openapi"]) for document in documents.values()),
        "info": {"title": "vendor-sandbox contracts, bundled", "version": "bundle"},
        "servers": first.get("servers") or [{"url": "/"}],
        "paths": {},
        "components": {},
    }
    tags: dict[str, Any] = {}
    for path, document in documents.items():
        # Links first (their operationId / operationRef are not `$ref`s), then every `$ref` of the file.
        for links in _link_maps(document):
            for name, link in list(links.items()):
                if not isinstance(link, dict) or "$ref" in link:
                    continue
                target = link_target(path, link)
                if target is None:
                    del links[name]
                    if dropped is not None:
                        dropped.append(f"{path.name}: link {name} to {link['operationRef']} (not bundled)")
                    continue
                link["operationRef"] = target
                link.pop("operationId", None)
        for node in _walk(document):
            if isinstance(node.get("$ref"), str):
                node["$ref"] = rewrite_reference(path, node["$ref"])
        for _, _, operation in _operations(document):
            operation_id = operation.get("operationId")
            if operation_id is not None and len(operation_ids[str(operation_id)]) > 1:
                operation["operationId"] = f"{operation_id}.{_namespace(path)}"
            if "security" in document and "security" not in operation:
                operation["security"] = document["security"]
        bundle["paths"].update(document.get("paths") or {})
        for kind, items in (document.get("components") or {}).items():
            merged = bundle["components"].setdefault(kind, {})
            for name, value in (items or {}).items():
                if component_name(path, kind, name) in merged:
                    raise BundleError(
                        f"{path.name}: {kind} {component_name(path, kind, name)} is defined twice"
                    )
                merged[component_name(path, kind, name)] = value
        for tag in document.get("tags") or []:
            tags.setdefault(tag.get("name"), tag)
        if document.get("webhooks"):
            bundle.setdefault("webhooks", {}).update(document["webhooks"])
    if tags:
        bundle["tags"] = list(tags.values())
    return bundle


def _runs(directory: Path, dropped: list[str] | None = None) -> list[tuple[str, Any]]:
    """What Schemathesis loads: one bundle per OpenAPI 3.x version, each other file alone."""
    from mockserver.contracts.loader import contract_files

    groups: dict[str, list[Path]] = {}
    alone: list[Path] = []
    for path in contract_files(directory):
        version = str(load_document(path).get("openapi", ""))
        if version.startswith("3."):
            groups.setdefault(version.rpartition(".")[0], []).append(path)
        else:
            alone.append(path)
    runs: list[tuple[str, Any]] = []
    for files in groups.values():
        if len(files) == 1:
            runs.append((files[0].name, files[0]))
        else:
            runs.append((f"{len(files)} contract files as one document", bundle_contracts(files, dropped)))
    runs.extend((path.name, path) for path in alone)
    return runs


def verify_server(
    base_url: str,
    contracts: Path | None = None,
    *,
    token: str | None = None,
    max_examples: int = 10,
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful"),
    progress: Callable[[str], None] | None = None,
    seed: int = SEED,
    **credentials: Any,
) -> VerifyResult:
    import schemathesis
    from schemathesis.engine import Status, events

    from mockserver.contracts.registry import DEFAULT_CONTRACTS

    directory = contracts or DEFAULT_CONTRACTS
    started = time.monotonic()
    result = VerifyResult(base_url=base_url, contracts=directory)
    problem = _unreachable(base_url)
    if problem is not None:
        result.errors.append(problem)
        result.elapsed = time.monotonic() - started
        return result
    token = token or obtain_token(base_url, **credentials)
    _register_checks()
    restricted = restricted_resources_of(directory)
    restricted_token = obtain_restricted_data_token(base_url, token, restricted) if restricted else None
    if restricted and restricted_token is None and progress:
        progress("no restricted data token from the server: restricted operations get the access token")
    config = _config(base_url, token, max_examples, phases, restricted, restricted_token, seed)
    dropped: list[str] = []
    try:
        runs = _runs(directory, dropped)
    except (BundleError, ValueError, OSError) as error:
        result.errors.append(f"{directory}: {error}")
        runs = []
    if progress:
        for note in dropped:
            progress(f"left out {note}")
    for name, source in runs:
        if progress:
            progress(f"{name} ...")
        if isinstance(source, Path):
            schema = schemathesis.openapi.from_path(source, config=config)
        else:
            schema = schemathesis.openapi.from_dict(source, config=config)
        schema.hook("filter_query")(_representable_query)
        schema.hook("filter_path_parameters")(_non_empty_path)
        for event in schemathesis.engine.from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                operation = OperationResult(
                    label=event.recorder.label,
                    phase=str(event.phase.value if hasattr(event.phase, "value") else event.phase),
                    status=str(event.status.value),
                    elapsed=event.elapsed_time,
                )
                for checks in event.recorder.checks.values():
                    for check in checks:
                        if check.status == Status.FAILURE and check.failure_info is not None:
                            failure = check.failure_info.failure
                            operation.failures.append(
                                CheckFailure(
                                    operation=failure.operation or event.recorder.label,
                                    check=check.name,
                                    title=failure.title,
                                    message=failure.message,
                                    reproduce=check.failure_info.code_sample,
                                )
                            )
                result.operations.append(operation)
            elif isinstance(event, events.NonFatalError):
                result.errors.append(f"{event.label}: {event.value}")
            elif isinstance(event, events.FatalError):
                result.errors.append(f"{name}: {event.exception}")
    if not result.tested_labels and not result.errors:
        result.errors.append(
            f"no operation was tested: the contracts in {directory} define none, or the phases "
            f"({', '.join(phases)}) had nothing to send"
        )
    result.elapsed = time.monotonic() - started
    return result


def _unreachable(base_url: str) -> str | None:
    """Why the server cannot be tested (it does not answer at all), or None. Any HTTP answer will do."""
    try:
        requests.get(base_url, timeout=30, allow_redirects=False).close()
    except requests.RequestException as error:
        return f"{base_url} does not answer: {type(error).__name__}: {error}"
    return None


__all__ = [
    "BundleError",
    "CheckFailure",
    "VerifyResult",
    "bundle_contracts",
    "load_document",
    "obtain_restricted_data_token",
    "obtain_token",
    "verify_server",
]
