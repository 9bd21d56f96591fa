"""Authentication: `x-amz-access-token` -> who is calling, or Amazon's 403."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from mockserver.accounts import Application, VendorAccount
from mockserver.contracts.model import Operation
from mockserver.pipeline import errors

TOKEN_HEADER = "x-amz-access-token"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# POSTs that only read: a restricted data token is how restricted data is read (its handler lets a read-only
# account name GET resources only).
_READING_WRITES = frozenset({"createRestrictedDataToken"})


class TokenInfoLike(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def application(self) -> Application: ...

    @property
    def account(self) -> VendorAccount | None: ...

    @property
    def restricted_resources(self) -> Any: ...

    @property
    def expired(self) -> bool: ...


class TokenLookup(Protocol):
    def lookup(self, access_token: str) -> TokenInfoLike | None: ...


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the application and vendor account of the access token (or restricted data token)."""

    application: Application
    account: VendorAccount
    token_kind: str  # "access" | "rdt"
    token: TokenInfoLike


def authenticate(
    token: str | None, operation: Operation, tokens: TokenLookup, region: str | None, request_path: str
) -> Principal:
    if not token:
        raise errors.missing_token()
    info = tokens.lookup(token)
    if info is None:
        raise errors.invalid_token()
    if info.expired:
        raise errors.expired_token()
    account = info.account
    if info.kind == "grantless" or account is None:
        # Grantless tokens reach only grantless operations, and no Vendor operation is one.
        raise errors.not_authorized()
    if info.kind == "rdt" and not _rdt_covers(info.restricted_resources, operation, request_path):
        raise errors.not_authorized()
    if region is not None and account.region != region:
        # The endpoint of one region does not serve a selling partner registered in another.
        raise errors.not_authorized()
    if (
        account.read_only
        and operation.method in _WRITE_METHODS
        and operation.operation_id not in _READING_WRITES
    ):
        # A read-only account changes nothing: no submission, no report or schedule created or cancelled.
        raise errors.not_authorized()
    return Principal(info.application, account, info.kind, info)


def _rdt_covers(resources: Any, operation: Operation, request_path: str) -> bool:
    for resource in resources:
        if str(resource.get("method", "")).upper() != operation.method:
            continue
        path = str(resource.get("path", ""))
        if path in (operation.path, request_path) or _template_matches(path, request_path):
            return True
    return False


def _template_matches(template: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
    return re.match(pattern, path) is not None
