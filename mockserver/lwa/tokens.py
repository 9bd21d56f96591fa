"""Login with Amazon token state: refresh tokens, access tokens, grantless tokens, RDTs, authorization codes.

Everything is persisted in the store (collections prefixed `lwa_`), so tokens survive a restart with the
SQLite store. Access-token lookups, on the hot path of every API request, go through an in-memory cache
kept in front of the store (write-through).
"""

from __future__ import annotations

import copy
import hmac
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from mockserver.accounts import AccountDirectory, Application, Authorization, VendorAccount
from mockserver.store.base import Document, Store

ACCESS_TOKENS = "lwa_access_tokens"  # access, grantless and restricted data tokens
REFRESH_TOKENS = "lwa_refresh_tokens"  # issued by the website workflow, and revoked fixture tokens
AUTHORIZATION_CODES = "lwa_authorization_codes"

SCOPE_NOTIFICATIONS = "sellingpartnerapi::notifications"
SCOPE_CLIENT_CREDENTIAL_ROTATION = "sellingpartnerapi::client_credential:rotation"
SCOPE_MIGRATION = "sellingpartnerapi::migration"
GRANTLESS_SCOPES = frozenset({SCOPE_NOTIFICATIONS, SCOPE_CLIENT_CREDENTIAL_ROTATION, SCOPE_MIGRATION})

ACCESS_TOKEN_PREFIX = "Atza|IwEB"
REFRESH_TOKEN_PREFIX = "Atzr|IwEB"
GRANTLESS_TOKEN_PREFIX = "Atc|MQEB"  # Amazon's client_credentials tokens start with Atc|
RESTRICTED_DATA_TOKEN_PREFIX = "Atz.sprdt|IQEB"
TOKEN_BYTES = 96

AUTHORIZATION_CODE_LIFETIME = 300  # seconds: Amazon's spapi_oauth_code is valid for five minutes
AUTHORIZATION_CODE_LENGTH = 20
RESTRICTED_DATA_TOKEN_LIFETIME = 3600
EXPIRED_TOKEN_RETENTION = 86_400.0  # expired tokens still look up (as expired) for a day, then are purged
PURGE_EVERY = 1000  # issued tokens between two purges of long-expired tokens

TokenKind = Literal["access", "grantless", "rdt"]
Clock = Callable[[], float]


class LwaError(Exception):
    """An error of the LWA token endpoint, as Amazon answers it: status, `error`, `error_description`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def as_response(self) -> dict[str, str]:
        return {"error_description": self.description, "error": self.error}


def missing_parameter(name: str) -> LwaError:
    return LwaError(400, "invalid_request", f"The request is missing a required parameter : {name}")


def malformed_request() -> LwaError:
    return LwaError(400, "invalid_request", "Malformed request")


def invalid_client() -> LwaError:
    return LwaError(401, "invalid_client", "Client authentication failed")


def invalid_grant(parameter: str, *, revoked: bool = False) -> LwaError:
    description = f"The request has an invalid grant parameter : {parameter}"
    if revoked:
        description += ". User may have revoked or didn't grant the permission."
    return LwaError(400, "invalid_grant", description)


def unsupported_grant_type() -> LwaError:
    return LwaError(
        400,
        "unsupported_grant_type",
        "The authorization grant type is not supported by the authorization server",
    )


def invalid_scope() -> LwaError:
    return LwaError(400, "invalid_scope", "The request has an invalid parameter : scope")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """What the token endpoint answers (and what an RDT issuance returns)."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None
    scope: str | None = None
    token_type: str = "bearer"

    def as_response(self) -> dict[str, Any]:
        body: dict[str, Any] = {"access_token": self.access_token}
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.scope is not None:
            body["scope"] = self.scope
        body["token_type"] = self.token_type
        body["expires_in"] = self.expires_in
        return body


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What an access token stands for: who may call, for which vendor account, until when."""

    token: str
    kind: TokenKind
    application: Application
    account: VendorAccount | None  # None for grantless tokens
    scopes: tuple[str, ...]
    expires_at: float
    restricted_resources: list[dict[str, Any]]  # RDTs: [{"method", "path", "dataElements"}]
    refresh_token: str | None  # the authorization it came from; None for grantless tokens
    clock: Clock = field(repr=False, compare=False)

    @property
    def expired(self) -> bool:
        return self.clock() >= self.expires_at


class TokenService:
    def __init__(
        self,
        store: Store,
        accounts: AccountDirectory,
        token_lifetime: int,
        clock: Clock = time.time,
        on_revoke: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._on_revoke = on_revoke  # processes sharing the store forget their cached tokens
        self._accounts = accounts
        self.token_lifetime = token_lifetime
        self._clock = clock
        self._cache: dict[str, TokenInfo] = {}
        self._lock = threading.Lock()
        self._issued_since_purge = 0

    # -- grants of the token endpoint --------------------------------------------------------------------

    def refresh(self, client_id: str, client_secret: str, refresh_token: str) -> IssuedToken:
        """grant_type=refresh_token: a new access token for the authorization behind the refresh token."""
        _require(client_id=client_id, client_secret=client_secret, refresh_token=refresh_token)
        application = self.authenticate_client(client_id, client_secret)
        authorization = self._authorization_for(application, refresh_token)
        return self._issue_access_token(authorization)

    def grantless(self, client_id: str, client_secret: str, scope: str) -> IssuedToken:
        """grant_type=client_credentials: a token for grantless operations, bound to no vendor account."""
        _require(client_id=client_id, client_secret=client_secret, scope=scope.strip())
        application = self.authenticate_client(client_id, client_secret)
        scopes = _grantless_scopes(scope)
        info = self._new_info(
            GRANTLESS_TOKEN_PREFIX, "grantless", application, None, scopes, self.token_lifetime
        )
        self._remember(info)
        return IssuedToken(info.token, self.token_lifetime, scope=" ".join(scopes))

    def create_authorization_code(
        self, application: Application, account: VendorAccount, redirect_uri: str | None
    ) -> str:
        """The spapi_oauth_code of the website workflow: single use, valid five minutes.

        `redirect_uri` is the one the browser was sent to; None for a code handed over otherwise
        (the Authorization API's getAuthorizationCode).
        """
        if redirect_uri is not None and redirect_uri not in application.redirect_uris:
            raise ValueError(f"{redirect_uri!r} is not a redirect URI of {application.name}")
        code = _new_authorization_code()
        document = {
            "client_id": application.client_id,
            "selling_partner_id": account.selling_partner_id,
            "redirect_uri": redirect_uri,
            "expires_at": self._clock() + AUTHORIZATION_CODE_LIFETIME,
        }
        self._store.put(AUTHORIZATION_CODES, code, document)
        return code

    def exchange_code(
        self, client_id: str, client_secret: str, code: str, redirect_uri: str | None = None
    ) -> IssuedToken:
        """grant_type=authorization_code: a new refresh token bound to (application, account).

        A redirect_uri, when sent, must be the one the code was sent to. Some clients send none
        (python-amazon-sp-api's authorize_auth_code), so none is accepted.
        """
        _require(client_id=client_id, client_secret=client_secret, code=code)
        application = self.authenticate_client(client_id, client_secret)
        account = self._redeem_code(application, code, redirect_uri)
        refresh_token = _new_token(REFRESH_TOKEN_PREFIX)
        document = {
            "client_id": application.client_id,
            "selling_partner_id": account.selling_partner_id,
            "created_at": self._clock(),
            "revoked": False,
        }
        self._store.put(REFRESH_TOKENS, refresh_token, document)
        return self._issue_access_token(Authorization(application, account, refresh_token))

    def authenticate_client(self, client_id: str, client_secret: str) -> Application:
        application = self._accounts.application_by_client_id(client_id)
        if application is None or not hmac.compare_digest(
            application.client_secret.encode(), client_secret.encode()
        ):
            raise invalid_client()
        return application

    # -- tokens ------------------------------------------------------------------------------------------

    def lookup(self, access_token: str) -> TokenInfo | None:
        """The token behind an x-amz-access-token header, expired or not; None when unknown or revoked."""
        if not access_token:
            return None
        info = self._cache.get(access_token)
        if info is not None:
            return info
        document = self._store.get(ACCESS_TOKENS, access_token)
        if document is None:
            return None
        info = self._info_from_document(access_token, document)
        if info is not None:
            with self._lock:
                self._cache[access_token] = info
        return info

    def issue_restricted_data_token(
        self,
        parent: TokenInfo,
        restricted_resources: list[dict[str, Any]],
        lifetime: int = RESTRICTED_DATA_TOKEN_LIFETIME,
    ) -> IssuedToken:
        """An RDT (`Atz.sprdt|...`) for the parent's application and vendor account.

        The caller has authenticated the parent (and checked it has not expired).
        """
        if parent.kind != "access":
            raise ValueError(
                f"a restricted data token is issued from an access token, not a {parent.kind} token"
            )
        info = self._new_info(
            RESTRICTED_DATA_TOKEN_PREFIX,
            "rdt",
            parent.application,
            parent.account,
            parent.scopes,
            lifetime,
            restricted_resources=copy.deepcopy(restricted_resources),
            refresh_token=parent.refresh_token,
        )
        self._remember(info)
        return IssuedToken(info.token, lifetime)

    def revoke(self, access_token: str) -> bool:
        with self._lock:
            cached = self._cache.pop(access_token, None)
        deleted = self._store.delete(ACCESS_TOKENS, access_token)
        if self._on_revoke is not None:
            self._on_revoke()
        return deleted or cached is not None

    def forget_cached(self) -> None:
        """Another process revoked tokens: read each from the store again."""
        with self._lock:
            self._cache.clear()

    def revoke_authorization(self, refresh_token: str) -> bool:
        """The selling partner revokes the authorization: its refresh token and access tokens stop working."""
        document = self._store.get(REFRESH_TOKENS, refresh_token)
        if document is None:
            authorization = self._accounts.authorization_for_refresh_token(refresh_token)
            if authorization is None:
                return False
            document = {
                "client_id": authorization.application.client_id,
                "selling_partner_id": authorization.account.selling_partner_id,
                "created_at": None,
            }
        elif document.get("revoked"):
            return False
        document.update(revoked=True, revoked_at=self._clock())
        self._store.put(REFRESH_TOKENS, refresh_token, document)
        for token in self._tokens_of(refresh_token):
            self.revoke(token)
        return True

    def issued_authorizations(self) -> list[Authorization]:
        """Authorizations created through the website workflow and not revoked (beyond the fixtures)."""
        authorizations = []
        for refresh_token, document in self._store.scan(REFRESH_TOKENS):
            authorization = (
                None if document.get("revoked") else self._authorization_from(refresh_token, document)
            )
            if authorization is not None:
                authorizations.append(authorization)
        return authorizations

    def purge_expired(self, retention: float = EXPIRED_TOKEN_RETENTION) -> int:
        """Forget tokens expired more than `retention` seconds ago, and expired codes; how many went."""
        now = self._clock()
        cutoff = now - retention
        stale_tokens = _keys_expired_by(self._store.scan(ACCESS_TOKENS), cutoff)
        stale_codes = _keys_expired_by(self._store.scan(AUTHORIZATION_CODES), now)
        for token in stale_tokens:
            self._store.delete(ACCESS_TOKENS, token)
        for code in stale_codes:
            self._store.delete(AUTHORIZATION_CODES, code)
        with self._lock:
            for token in [token for token, info in self._cache.items() if info.expires_at <= cutoff]:
                del self._cache[token]
        return len(stale_tokens) + len(stale_codes)

    # -- internals ---------------------------------------------------------------------------------------

    def _authorization_for(self, application: Application, refresh_token: str) -> Authorization:
        document = self._store.get(REFRESH_TOKENS, refresh_token)
        if document is not None:
            authorization = self._authorization_from(refresh_token, document)
        else:
            authorization = self._accounts.authorization_for_refresh_token(refresh_token)
        if authorization is None or authorization.application.client_id != application.client_id:
            raise invalid_grant("refresh_token")
        if document is not None and document.get("revoked"):
            raise invalid_grant("refresh_token", revoked=True)
        return authorization

    def _authorization_from(self, refresh_token: str, document: Document) -> Authorization | None:
        application = self._accounts.application_by_client_id(document["client_id"])
        account = self._accounts.account_by_partner_id(document["selling_partner_id"])
        if application is None or account is None:
            return None
        return Authorization(application, account, refresh_token)

    def _redeem_code(self, application: Application, code: str, redirect_uri: str | None) -> VendorAccount:
        document = self._store.get(AUTHORIZATION_CODES, code)
        if document is None or document["client_id"] != application.client_id:
            raise invalid_grant("code")
        if self._clock() >= document["expires_at"]:
            self._store.delete(AUTHORIZATION_CODES, code)
            raise invalid_grant("code")
        if redirect_uri and document["redirect_uri"] not in (None, redirect_uri):
            raise invalid_grant("redirect_uri")
        # Deleting is the atomic step: of two concurrent exchanges, only one deletes the code.
        if not self._store.delete(AUTHORIZATION_CODES, code):
            raise invalid_grant("code")
        account = self._accounts.account_by_partner_id(document["selling_partner_id"])
        if account is None:
            raise invalid_grant("code")
        return account

    def _issue_access_token(self, authorization: Authorization) -> IssuedToken:
        info = self._new_info(
            ACCESS_TOKEN_PREFIX,
            "access",
            authorization.application,
            authorization.account,
            (),
            self.token_lifetime,
            refresh_token=authorization.refresh_token,
        )
        self._remember(info)
        return IssuedToken(info.token, self.token_lifetime, refresh_token=authorization.refresh_token)

    def _new_info(
        self,
        prefix: str,
        kind: TokenKind,
        application: Application,
        account: VendorAccount | None,
        scopes: tuple[str, ...],
        lifetime: int,
        *,
        restricted_resources: list[dict[str, Any]] | None = None,
        refresh_token: str | None = None,
    ) -> TokenInfo:
        return TokenInfo(
            token=_new_token(prefix),
            kind=kind,
            application=application,
            account=account,
            scopes=scopes,
            expires_at=self._clock() + lifetime,
            restricted_resources=restricted_resources or [],
            refresh_token=refresh_token,
            clock=self._clock,
        )

    def _remember(self, info: TokenInfo) -> None:
        self._store.put(ACCESS_TOKENS, info.token, _document_of(info))
        with self._lock:
            self._cache[info.token] = info
            self._issued_since_purge += 1
            due = self._issued_since_purge >= PURGE_EVERY
            if due:
                self._issued_since_purge = 0
        if due:
            self.purge_expired()

    def _info_from_document(self, token: str, document: Document) -> TokenInfo | None:
        application = self._accounts.application_by_client_id(document["client_id"])
        if application is None:
            return None
        account = None
        if document.get("selling_partner_id"):
            account = self._accounts.account_by_partner_id(document["selling_partner_id"])
            if account is None:
                return None
        return TokenInfo(
            token=token,
            kind=document["kind"],
            application=application,
            account=account,
            scopes=tuple(document.get("scopes") or ()),
            expires_at=float(document["expires_at"]),
            restricted_resources=list(document.get("restricted_resources") or []),
            refresh_token=document.get("refresh_token"),
            clock=self._clock,
        )

    def _tokens_of(self, refresh_token: str) -> list[str]:
        return [
            token
            for token, document in self._store.scan(ACCESS_TOKENS)
            if document.get("refresh_token") == refresh_token
        ]


def _require(**parameters: str) -> None:
    for name, value in parameters.items():
        if not value:
            raise missing_parameter(name)


def _grantless_scopes(scope: str) -> tuple[str, ...]:
    scopes = tuple(dict.fromkeys(scope.split()))
    if any(name not in GRANTLESS_SCOPES for name in scopes):
        raise invalid_scope()
    return scopes


def _new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def _new_authorization_code() -> str:
    return "".join(secrets.choice(string.ascii_letters) for _ in range(AUTHORIZATION_CODE_LENGTH))


def _document_of(info: TokenInfo) -> Document:
    return {
        "kind": info.kind,
        "client_id": info.application.client_id,
        "selling_partner_id": info.account.selling_partner_id if info.account else None,
        "scopes": list(info.scopes),
        "expires_at": info.expires_at,
        "restricted_resources": info.restricted_resources,
        "refresh_token": info.refresh_token,
    }


def _keys_expired_by(documents: Iterable[tuple[str, Document]], cutoff: float) -> list[str]:
    return [key for key, document in documents if float(document["expires_at"]) <= cutoff]
