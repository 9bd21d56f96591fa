"""Strict mode: what Amazon requires of a client beyond the schema, checked on every request.

Each rule has a name (the `rule` of a recorded violation, and a line in README's rules table):

- `date-time-utc`      every date-time parameter and body field is ISO 8601 with seconds, in UTC (`Z` or
                       `+00:00`): 400 InvalidInput.
- `marketplace-id`     every `marketplaceId(s)` sent is one of the calling account's marketplaces: 400.
- `next-token`         a `nextToken` is one the service issued to this account for this operation, sent back
                       as given: 400 InvalidInput.
- `ignored-429`        after a 429, no request of the same operation before the usage plan allows one: 429
                       (as throttling answers anyway), recorded as a violation.
- `token-kind`         restricted operations (personal data of Direct Fulfillment) need a restricted data
                       token, not an LWA access token: 403 Unauthorized (the gateway refuses one in every
                       dynamic mode; strict mode records the violation).
- `extra-query-parameter`, `extra-body-property`: tolerated as Amazon does, but reported.

Contract violations (`contract`: the request fails validation) are recorded in every mode, from the journal.
Violations are appended to the exchange's list; the journal keeps them; the conformance report reads them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema_rs

from mockserver.contracts.model import Operation
from mockserver.pipeline import errors
from mockserver.pipeline.validate import FORMATS, is_date_time
from mockserver.store.runtime import LocalRuntime, Runtime

ENABLED_VALUE = "strict.enabled"
ISSUED = "strict.issued:"  # nextTokens issued, shared: "strict.issued:<account>|<operation>|<token>"
THROTTLED = "strict.throttled:"

Violation = dict[str, str]

_UTC_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]00:?00)$")
MARKETPLACE_FIELDS = frozenset({"marketplaceId", "marketplaceIds"})
NEXT_TOKEN = "nextToken"
# Operations that return personal data and need a restricted data token (Amazon's Tokens API use case guide).
RESTRICTED_OPERATIONS = frozenset(
    {
        ("vendor/directFulfillment/orders", "getOrders"),
        ("vendor/directFulfillment/orders", "getOrder"),
        ("vendor/directFulfillment/shipping", "getShippingLabels"),
        ("vendor/directFulfillment/shipping", "getShippingLabel"),
        ("vendor/directFulfillment/shipping", "createShippingLabels"),
        ("vendor/directFulfillment/shipping", "getPackingSlips"),
        ("vendor/directFulfillment/shipping", "getPackingSlip"),
        ("vendor/directFulfillment/shipping", "getCustomerInvoices"),
        ("vendor/directFulfillment/shipping", "getCustomerInvoice"),
    }
)
_NEXT_TOKENS_KEPT = 10_000


def is_utc_date_time(value: str) -> bool:
    return bool(_UTC_DATE_TIME.match(value)) and is_date_time(value)


STRICT_FORMATS: dict[str, Any] = {**FORMATS, "date-time": is_utc_date_time}


def violation(rule: str, message: str) -> Violation:
    return {"rule": rule, "message": message}


def is_restricted(operation: Operation) -> bool:
    api = operation.api.api_id.rsplit("/", 1)[0]
    return (api, operation.operation_id) in RESTRICTED_OPERATIONS


def restricted_resources(operations: Iterable[Operation]) -> list[dict[str, str]]:
    """Every restricted operation as a restricted resource of createRestrictedDataToken (its generic path)."""
    return [
        {"method": operation.method, "path": operation.path}
        for operation in operations
        if is_restricted(operation)
    ]


def _closed(schema: Any) -> Any:
    """The schema with `additionalProperties: false` wherever an object lists its properties and says nothing
    about others: what an extra property fails against. (The contracts compose no schemas with allOf.)"""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: _closed(value) for key, value in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema and "allOf" not in schema:
        closed["additionalProperties"] = False
    return closed


class _StrictOperation:
    def __init__(self, operation: Operation) -> None:
        self.date_time_parameters = [
            parameter.name
            for parameter in operation.parameters
            if parameter.schema.get("format") == "date-time"
        ]
        self.known_query = {p.name for p in operation.parameters if p.location == "query"}
        self.body = None
        self.closed_body = None
        if operation.body is not None:
            document = operation.schema_document(operation.body.schema)
            self.body = jsonschema_rs.Draft202012Validator(
                document, validate_formats=True, formats=STRICT_FORMATS
            )
            self.closed_body = jsonschema_rs.Draft202012Validator(_closed(document), validate_formats=False)


class StrictChecker:
    """Amazon's requirements beyond the schema; `enabled` may change at run time (`PUT /_sandbox/strict`).

    What it remembers (the nextTokens issued, the clients just throttled) is the runtime's where several
    processes share it: a nextToken issued by one process is honoured by the others."""

    def __init__(self, enabled: bool = False, runtime: Runtime | None = None) -> None:
        self.runtime: Runtime = runtime if runtime is not None else LocalRuntime()
        self._enabled = enabled
        self._compiled: dict[str, _StrictOperation] = {}
        self._next_tokens: dict[tuple[str, str], set[str]] = {}
        self._throttled: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        if self.runtime.shared:
            saved = self.runtime.get_value(ENABLED_VALUE)
            if saved is None:
                self.runtime.set_value(ENABLED_VALUE, enabled)
            else:
                self._enabled = bool(saved)

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        if self.runtime.shared:
            self.runtime.set_value(ENABLED_VALUE, enabled)
            self.runtime.bump()

    def reload(self) -> None:
        if self.runtime.shared:
            self._enabled = bool(self.runtime.get_value(ENABLED_VALUE))

    def reset(self) -> None:
        with self._lock:
            self._next_tokens.clear()
            self._throttled.clear()
        if self.runtime.shared:
            self.runtime.delete_values(ISSUED)
            self.runtime.delete_values(THROTTLED)

    def _strict(self, operation: Operation) -> _StrictOperation:
        compiled = self._compiled.get(operation.name)
        if compiled is None:
            compiled = self._compiled[operation.name] = _StrictOperation(operation)
        return compiled

    # -- before throttling ---------------------------------------------------------------------------------

    def check_token_kind(self, operation: Operation, token_kind: str, found: list[Violation]) -> None:
        if is_restricted(operation) and token_kind != "rdt":
            found.append(
                violation(
                    "token-kind",
                    f"{operation.operation_id} returns personal data and needs a restricted data token "
                    "(createRestrictedDataToken), not an LWA access token.",
                )
            )
            raise errors.not_authorized()

    def throttled(self, key: tuple[str, str, str], found: list[Violation]) -> None:
        if self.runtime.shared:
            name = THROTTLED + "|".join(key)
            again = bool(self.runtime.get_value(name))
            self.runtime.set_value(name, True)
        else:
            with self._lock:
                again = key in self._throttled
                self._throttled.add(key)
        if again:
            found.append(
                violation(
                    "ignored-429",
                    "Request sent after a 429 before the usage plan allowed another: wait at least "
                    "1/rate seconds (x-amzn-RateLimit-Limit) and back off.",
                )
            )

    def admitted(self, key: tuple[str, str, str]) -> None:
        if self.runtime.shared:
            self.runtime.set_value(THROTTLED + "|".join(key), None)
        elif key in self._throttled:
            with self._lock:
                self._throttled.discard(key)

    # -- after validation ---------------------------------------------------------------------------------

    def check_request(
        self,
        operation: Operation,
        account: str,
        marketplace_ids: tuple[str, ...],
        query: Any,  # MultiDict
        path_parameters: Mapping[str, str],
        body: Any,
        found: list[Violation],
    ) -> None:
        """Record every violation; raise Amazon's answer for the first one that Amazon refuses."""
        compiled = self._strict(operation)
        refusal: errors.SpApiError | None = None
        for name in compiled.date_time_parameters:
            value = query.get(name) if name not in path_parameters else path_parameters[name]
            if value is not None and not is_utc_date_time(value):
                found.append(
                    violation(
                        "date-time-utc",
                        f"Parameter '{name}' is {value!r}: send ISO 8601 in UTC, e.g. 2024-01-31T23:59:59Z.",
                    )
                )
                refusal = refusal or errors.invalid_input(
                    f"Invalid value for parameter '{name}'.", f"'{value}' is not an ISO 8601 UTC date-time."
                )
        for name in query:
            if name not in compiled.known_query:
                found.append(
                    violation("extra-query-parameter", f"Query parameter '{name}' is not in the contract.")
                )
        marketplaces = [*query.getlist("marketplaceIds"), *query.getlist("marketplaceId")]
        marketplaces = [item for value in marketplaces for item in value.split(",") if item]
        if body is not None and compiled.body is not None:
            for error in compiled.body.iter_errors(body):
                if error.kind.__class__.__name__ == "Format":
                    where = "".join(f"[{part}]" for part in error.instance_path)
                    found.append(
                        violation(
                            "date-time-utc",
                            f"body{where} is {error.instance!r}: send ISO 8601 in UTC, "
                            "e.g. 2024-01-31T23:59:59Z.",
                        )
                    )
                    refusal = refusal or errors.invalid_input(
                        "Invalid request body.",
                        f"body{where}: '{error.instance}' is not an ISO 8601 UTC date-time.",
                    )
            if compiled.closed_body is not None:
                for error in compiled.closed_body.iter_errors(body):
                    if error.kind.__class__.__name__ == "AdditionalProperties":
                        where = "".join(f"[{part}]" for part in error.instance_path)
                        found.append(violation("extra-body-property", f"body{where}: {error.message}"))
            marketplaces.extend(_marketplace_values(body))
        unknown = [item for item in marketplaces if item not in marketplace_ids]
        if unknown:
            found.append(
                violation(
                    "marketplace-id",
                    f"Marketplace {', '.join(unknown)} is not one of {account}'s marketplaces "
                    f"({', '.join(marketplace_ids)}).",
                )
            )
            refusal = refusal or errors.invalid_input(
                "Invalid marketplaceIds.", f"{', '.join(unknown)}: not a marketplace of the selling partner."
            )
        next_token = query.get(NEXT_TOKEN)
        if next_token is not None:
            if self.runtime.shared:
                issued = bool(self.runtime.get_value(f"{ISSUED}{account}|{operation.name}|{next_token}"))
            else:
                with self._lock:
                    issued = next_token in self._next_tokens.get((account, operation.name), ())
            if not issued:
                found.append(
                    violation(
                        "next-token",
                        f"nextToken {next_token!r} was never issued to {account} by "
                        f"{operation.operation_id}: send the token of the previous page as given.",
                    )
                )
                refusal = refusal or errors.invalid_input("Invalid nextToken.", "The nextToken is not valid.")
        if refusal is not None:
            refusal.stage = "strict"
            raise refusal

    # -- on the way out -----------------------------------------------------------------------------------

    def observe_response(self, operation: Operation, account: str, payload: Any) -> None:
        """Remember the nextTokens this account was given, so that it may send them back."""
        tokens = list(_next_tokens(payload))
        if not tokens:
            return
        if self.runtime.shared:
            for token in tokens:
                self.runtime.set_value(f"{ISSUED}{account}|{operation.name}|{token}", True)
            return
        with self._lock:
            kept = self._next_tokens.setdefault((account, operation.name), set())
            if len(kept) > _NEXT_TOKENS_KEPT:
                kept.clear()
            kept.update(tokens)


def _marketplace_values(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in MARKETPLACE_FIELDS:
                found.extend(str(v) for v in (item if isinstance(item, list) else [item]))
            else:
                found.extend(_marketplace_values(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_marketplace_values(item))
    return found


def _next_tokens(value: Any, depth: int = 0) -> list[str]:
    if depth > 4:
        return []
    if isinstance(value, dict):
        found = [value[NEXT_TOKEN]] if isinstance(value.get(NEXT_TOKEN), str) else []
        for key, item in value.items():
            if key != NEXT_TOKEN and isinstance(item, dict):
                found.extend(_next_tokens(item, depth + 1))
        return found
    return []


__all__ = [
    "RESTRICTED_OPERATIONS",
    "StrictChecker",
    "Violation",
    "is_restricted",
    "is_utc_date_time",
    "restricted_resources",
]
