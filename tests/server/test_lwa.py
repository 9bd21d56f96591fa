"""Login with Amazon emulation: the token endpoint, token state and the website authorization workflow."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import flask
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from mockserver.accounts import AccountDirectory, Application, VendorAccount, load_accounts
from mockserver.lwa import GRANTLESS_SCOPES, LwaError, TokenService, create_lwa_blueprint
from mockserver.settings import Settings
from mockserver.store import MemoryStore, SqliteStore
from mockserver.store.base import Document

LIFETIME = 5
TOKEN_URL = "/auth/o2/token"
CONSENT_URL = "/apps/authorize/consent"
CONFIRM_URL = "/apps/authorize/confirm"
JSON_CONTENT_TYPE = "application/json;charset=UTF-8"

INVALID_CLIENT = (401, "invalid_client", "Client authentication failed")
INVALID_REFRESH_TOKEN = (400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
REVOKED_REFRESH_TOKEN = (
    400,
    "invalid_grant",
    "The request has an invalid grant parameter : refresh_token. "
    "User may have revoked or didn't grant the permission.",
)
INVALID_CODE = (400, "invalid_grant", "The request has an invalid grant parameter : code")
INVALID_REDIRECT_URI = (400, "invalid_grant", "The request has an invalid grant parameter : redirect_uri")
UNSUPPORTED_GRANT_TYPE = (
    400,
    "unsupported_grant_type",
    "The authorization grant type is not supported by the authorization server",
)
INVALID_SCOPE = (400, "invalid_scope", "The request has an invalid parameter : scope")
MALFORMED_REQUEST = (400, "invalid_request", "Malformed request")


def missing(name: str) -> tuple[int, str, str]:
    return (400, "invalid_request", f"The request is missing a required parameter : {name}")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingStore(MemoryStore):
    """A MemoryStore that counts reads, to show lookups are served from the cache."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, collection: str, key: str) -> Document | None:
        self.reads += 1
        return super().get(collection, key)


@pytest.fixture
def accounts() -> AccountDirectory:
    return load_accounts(Settings().fixtures_dir)


@pytest.fixture
def demo(accounts: AccountDirectory) -> Application:
    return accounts.applications["demo-integration"]


@pytest.fixture
def second(accounts: AccountDirectory) -> Application:
    return accounts.applications["second-integration"]


@pytest.fixture
def acme(accounts: AccountDirectory) -> VendorAccount:
    return accounts.accounts["acme-na"]


@pytest.fixture
def nordwind(accounts: AccountDirectory) -> VendorAccount:
    return accounts.accounts["nordwind-eu"]


@pytest.fixture
def acme_refresh_token(accounts: AccountDirectory, demo: Application, acme: VendorAccount) -> str:
    return next(
        a.refresh_token for a in accounts.authorizations if a.application == demo and a.account == acme
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def tokens(store: CountingStore, accounts: AccountDirectory, clock: FakeClock) -> TokenService:
    return TokenService(store, accounts, token_lifetime=LIFETIME, clock=clock)


@pytest.fixture
def client(tokens: TokenService, accounts: AccountDirectory) -> FlaskClient:
    app = flask.Flask(__name__)
    app.register_blueprint(create_lwa_blueprint(tokens, accounts))
    return app.test_client()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite3"


def refresh_form(application: Application, refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": application.client_id,
        "client_secret": application.client_secret,
    }


def grantless_form(application: Application, scope: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_id": application.client_id,
        "client_secret": application.client_secret,
    }


def code_form(application: Application, code: str, redirect_uri: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": application.client_id,
        "client_secret": application.client_secret,
    }


def assert_token_endpoint_headers(response: TestResponse) -> None:
    assert response.headers["Content-Type"] == JSON_CONTENT_TYPE
    assert response.headers["Cache-Control"] == "no-store"


def assert_lwa_error(response: TestResponse, expected: tuple[int, str, str]) -> None:
    status, error, description = expected
    assert (response.status_code, response.get_json()) == (
        status,
        {"error": error, "error_description": description},
    )
    assert_token_endpoint_headers(response)


def query_of(response: TestResponse) -> dict[str, str]:
    assert response.status_code == 302
    return {
        name: values[0] for name, values in parse_qs(urlsplit(response.headers["Location"]).query).items()
    }


def authorization_code(
    client: FlaskClient, application: Application, account: VendorAccount, **extra: str
) -> tuple[str, str]:
    """Run the non-interactive consent shortcut; the code and the URI Amazon redirected to."""
    arguments = {
        "application_id": application.application_id,
        "state": "s-1",
        "selling_partner_id": account.selling_partner_id,
        "auto_confirm": "true",
        **extra,
    }
    response = client.get(CONSENT_URL, query_string=arguments)
    location = response.headers["Location"]
    return query_of(response)["spapi_oauth_code"], location.split("?", 1)[0]


# -- grant_type=refresh_token ----------------------------------------------------------------------------


def test_refresh_token_grant_answers_like_amazon(
    client: FlaskClient, tokens: TokenService, demo: Application, acme: VendorAccount, acme_refresh_token: str
) -> None:
    response = client.post(TOKEN_URL, data=refresh_form(demo, acme_refresh_token))

    assert response.status_code == 200
    assert_token_endpoint_headers(response)
    body = response.get_json()
    assert list(body) == ["access_token", "refresh_token", "token_type", "expires_in"]
    assert body["access_token"].startswith("Atza|IwEB")
    assert body["refresh_token"] == acme_refresh_token
    assert (body["token_type"], body["expires_in"]) == ("bearer", LIFETIME)
    info = tokens.lookup(body["access_token"])
    assert info is not None
    assert (info.kind, info.application, info.account, info.expired) == ("access", demo, acme, False)


def test_every_refresh_issues_a_new_access_token(
    client: FlaskClient, demo: Application, acme_refresh_token: str
) -> None:
    first = client.post(TOKEN_URL, data=refresh_form(demo, acme_refresh_token)).get_json()
    second = client.post(TOKEN_URL, data=refresh_form(demo, acme_refresh_token)).get_json()
    assert first["access_token"] != second["access_token"]


def test_token_endpoint_accepts_a_json_body(
    client: FlaskClient, tokens: TokenService, demo: Application, acme: VendorAccount, acme_refresh_token: str
) -> None:
    response = client.post(TOKEN_URL, json=refresh_form(demo, acme_refresh_token))

    assert response.status_code == 200
    info = tokens.lookup(response.get_json()["access_token"])
    assert info is not None and info.account == acme


def test_token_endpoint_reads_a_body_without_content_type_as_a_form(
    client: FlaskClient, demo: Application, acme_refresh_token: str
) -> None:
    body = urlencode(refresh_form(demo, acme_refresh_token))
    response = client.post(TOKEN_URL, data=body.encode())

    assert response.status_code == 200


def test_token_endpoint_accepts_client_credentials_in_http_basic(
    client: FlaskClient, demo: Application, acme_refresh_token: str
) -> None:
    credentials = base64.b64encode(f"{demo.client_id}:{demo.client_secret}".encode()).decode()
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "refresh_token", "refresh_token": acme_refresh_token},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert response.status_code == 200


def test_wrong_basic_credentials_get_a_challenge(
    client: FlaskClient, demo: Application, acme_refresh_token: str
) -> None:
    credentials = base64.b64encode(f"{demo.client_id}:wrong".encode()).decode()
    response = client.post(
        TOKEN_URL,
        data={"grant_type": "refresh_token", "refresh_token": acme_refresh_token},
        headers={"Authorization": f"Basic {credentials}"},
    )
    assert_lwa_error(response, INVALID_CLIENT)
    assert response.headers["WWW-Authenticate"].startswith("Basic")


# -- grant_type=client_credentials -----------------------------------------------------------------------


@pytest.mark.parametrize("scope", sorted(GRANTLESS_SCOPES))
def test_grantless_token_for_each_scope(
    client: FlaskClient, tokens: TokenService, demo: Application, scope: str
) -> None:
    response = client.post(TOKEN_URL, data=grantless_form(demo, scope))

    assert response.status_code == 200
    assert_token_endpoint_headers(response)
    body = response.get_json()
    assert list(body) == ["access_token", "scope", "token_type", "expires_in"]
    assert body["access_token"].startswith("Atc|MQEB")
    assert (body["scope"], body["token_type"], body["expires_in"]) == (scope, "bearer", LIFETIME)
    info = tokens.lookup(body["access_token"])
    assert info is not None
    assert (info.kind, info.application, info.account, info.scopes) == ("grantless", demo, None, (scope,))


def test_grantless_token_with_several_scopes(
    client: FlaskClient, tokens: TokenService, demo: Application
) -> None:
    scope = "sellingpartnerapi::notifications  sellingpartnerapi::migration"
    body = client.post(TOKEN_URL, data=grantless_form(demo, scope)).get_json()

    assert body["scope"] == "sellingpartnerapi::notifications sellingpartnerapi::migration"
    info = tokens.lookup(body["access_token"])
    assert info is not None
    assert info.scopes == ("sellingpartnerapi::notifications", "sellingpartnerapi::migration")


# -- errors of the token endpoint ------------------------------------------------------------------------


def test_wrong_client_secret(client: FlaskClient, demo: Application, acme_refresh_token: str) -> None:
    form = refresh_form(demo, acme_refresh_token) | {"client_secret": "amzn1.oa2-cs.v1.wrong"}
    assert_lwa_error(client.post(TOKEN_URL, data=form), INVALID_CLIENT)


def test_unknown_client(client: FlaskClient, demo: Application, acme_refresh_token: str) -> None:
    form = refresh_form(demo, acme_refresh_token) | {"client_id": "amzn1.application-oa2-client.unknown"}
    assert_lwa_error(client.post(TOKEN_URL, data=form), INVALID_CLIENT)


def test_grantless_with_wrong_secret(client: FlaskClient, demo: Application) -> None:
    form = grantless_form(demo, "sellingpartnerapi::notifications") | {"client_secret": "wrong"}
    assert_lwa_error(client.post(TOKEN_URL, data=form), INVALID_CLIENT)


def test_unknown_refresh_token(client: FlaskClient, demo: Application) -> None:
    form = refresh_form(demo, "Atzr|IwEBunknown")
    assert_lwa_error(client.post(TOKEN_URL, data=form), INVALID_REFRESH_TOKEN)


def test_refresh_token_of_another_application(
    client: FlaskClient, accounts: AccountDirectory, demo: Application, second: Application
) -> None:
    token_of_second = next(a.refresh_token for a in accounts.authorizations if a.application == second)
    assert_lwa_error(client.post(TOKEN_URL, data=refresh_form(demo, token_of_second)), INVALID_REFRESH_TOKEN)


def test_revoked_refresh_token(
    client: FlaskClient, tokens: TokenService, demo: Application, acme_refresh_token: str
) -> None:
    access_token = client.post(TOKEN_URL, data=refresh_form(demo, acme_refresh_token)).get_json()[
        "access_token"
    ]

    assert tokens.revoke_authorization(acme_refresh_token) is True

    assert_lwa_error(
        client.post(TOKEN_URL, data=refresh_form(demo, acme_refresh_token)), REVOKED_REFRESH_TOKEN
    )
    assert tokens.lookup(access_token) is None  # its access tokens go with the authorization
    assert tokens.revoke_authorization(acme_refresh_token) is False
    assert tokens.revoke_authorization("Atzr|IwEBunknown") is False


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({"refresh_token": "Atzr|x", "client_id": "c", "client_secret": "s"}, missing("grant_type")),
        (
            {"grant_type": "refresh_token", "refresh_token": "Atzr|x", "client_secret": "s"},
            missing("client_id"),
        ),
        (
            {"grant_type": "refresh_token", "refresh_token": "Atzr|x", "client_id": "c"},
            missing("client_secret"),
        ),
        ({"grant_type": "refresh_token", "client_id": "c", "client_secret": "s"}, missing("refresh_token")),
        ({"grant_type": "client_credentials", "client_id": "c", "client_secret": "s"}, missing("scope")),
        (
            {"grant_type": "client_credentials", "client_id": "c", "client_secret": "s", "scope": " "},
            missing("scope"),
        ),
        (
            {"grant_type": "authorization_code", "client_id": "c", "client_secret": "s", "redirect_uri": "u"},
            missing("code"),
        ),
        ({"grant_type": "password", "client_id": "c", "client_secret": "s"}, UNSUPPORTED_GRANT_TYPE),
        ({"grant_type": "implicit"}, UNSUPPORTED_GRANT_TYPE),
    ],
    ids=[
        "grant_type",
        "client_id",
        "client_secret",
        "refresh_token",
        "scope",
        "blank-scope",
        "code",
        "password-grant",
        "implicit-grant",
    ],
)
def test_malformed_token_requests(
    client: FlaskClient, form: dict[str, str], expected: tuple[int, str, str]
) -> None:
    assert_lwa_error(client.post(TOKEN_URL, data=form), expected)


@pytest.mark.parametrize(
    "scope",
    ["sellingpartnerapi::orders", "profile", "sellingpartnerapi::notifications sellingpartnerapi::unknown"],
)
def test_bad_scope(client: FlaskClient, demo: Application, scope: str) -> None:
    assert_lwa_error(client.post(TOKEN_URL, data=grantless_form(demo, scope)), INVALID_SCOPE)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('["grant_type", "refresh_token"]', "application/json"),
        ('{"grant_type": "refresh_token", "client_id": 42}', "application/json"),
        ("grant_type=refresh_token", "text/plain"),
    ],
    ids=["broken-json", "json-array", "json-number", "text-plain"],
)
def test_malformed_bodies_get_json_errors(client: FlaskClient, body: str, content_type: str) -> None:
    response = client.post(TOKEN_URL, data=body, content_type=content_type)
    assert_lwa_error(response, MALFORMED_REQUEST)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_methods_get_json_errors(client: FlaskClient, method: str) -> None:
    response = client.open(TOKEN_URL, method=method)

    assert_lwa_error(response, (405, "invalid_request", f"The request method {method} is not supported"))
    assert response.headers["Allow"] == "POST"


# -- access tokens: expiry, revocation, cache ------------------------------------------------------------


def test_access_tokens_expire_with_the_clock(
    client: FlaskClient, tokens: TokenService, clock: FakeClock, demo: Application, acme_refresh_token: str
) -> None:
    access_token = client.post(TOKEN_URL, data=refresh_form(demo, acme_refresh_token)).get_json()[
        "access_token"
    ]
    info = tokens.lookup(access_token)
    assert info is not None
    assert info.expires_at == clock.now + LIFETIME

    clock.advance(LIFETIME - 1)
    assert info.expired is False
    clock.advance(1)
    assert info.expired is True
    expired = tokens.lookup(access_token)
    assert expired is not None and expired.expired  # still known, so the API can say "expired"


def test_long_expired_tokens_are_purged(
    tokens: TokenService, clock: FakeClock, demo: Application, acme_refresh_token: str
) -> None:
    access_token = tokens.refresh(demo.client_id, demo.client_secret, acme_refresh_token).access_token

    clock.advance(LIFETIME + 60)
    assert tokens.purge_expired(retention=60) == 1
    assert tokens.lookup(access_token) is None


def test_revoked_access_token_no_longer_looks_up(
    tokens: TokenService, demo: Application, acme_refresh_token: str
) -> None:
    access_token = tokens.refresh(demo.client_id, demo.client_secret, acme_refresh_token).access_token

    assert tokens.revoke(access_token) is True
    assert tokens.lookup(access_token) is None
    assert tokens.revoke(access_token) is False


def test_lookup_of_unknown_tokens(tokens: TokenService) -> None:
    assert tokens.lookup("Atza|IwEBunknown") is None
    assert tokens.lookup("") is None


def test_lookups_are_served_from_memory(
    tokens: TokenService, store: CountingStore, demo: Application, acme_refresh_token: str
) -> None:
    access_token = tokens.refresh(demo.client_id, demo.client_secret, acme_refresh_token).access_token
    reads = store.reads

    for _ in range(100):
        assert tokens.lookup(access_token) is not None
    assert store.reads == reads


def test_a_second_service_reads_tokens_through_the_store(
    tokens: TokenService,
    store: CountingStore,
    accounts: AccountDirectory,
    clock: FakeClock,
    demo: Application,
    acme_refresh_token: str,
) -> None:
    access_token = tokens.refresh(demo.client_id, demo.client_secret, acme_refresh_token).access_token
    other_worker = TokenService(store, accounts, token_lifetime=LIFETIME, clock=clock)

    info = other_worker.lookup(access_token)
    assert info is not None and info.refresh_token == acme_refresh_token


# -- restricted data tokens ------------------------------------------------------------------------------

RESTRICTED_RESOURCES: list[dict[str, Any]] = [
    {
        "method": "GET",
        "path": "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders",
        "dataElements": [],
    },
    {"method": "GET", "path": "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders/PO-1"},
]


def test_restricted_data_token(
    tokens: TokenService, clock: FakeClock, demo: Application, acme: VendorAccount, acme_refresh_token: str
) -> None:
    parent = tokens.lookup(
        tokens.refresh(demo.client_id, demo.client_secret, acme_refresh_token).access_token
    )
    assert parent is not None

    issued = tokens.issue_restricted_data_token(parent, RESTRICTED_RESOURCES, lifetime=60)

    assert issued.access_token.startswith("Atz.sprdt|")
    assert (issued.expires_in, issued.refresh_token) == (60, None)
    rdt = tokens.lookup(issued.access_token)
    assert rdt is not None
    assert (rdt.kind, rdt.application, rdt.account) == ("rdt", demo, acme)
    assert rdt.restricted_resources == RESTRICTED_RESOURCES
    assert rdt.expires_at == clock.now + 60
    clock.advance(60)
    assert rdt.expired


def test_restricted_data_token_needs_a_selling_partner_access_token(
    tokens: TokenService, demo: Application, acme_refresh_token: str
) -> None:
    grantless = tokens.lookup(
        tokens.grantless(demo.client_id, demo.client_secret, "sellingpartnerapi::migration").access_token
    )
    access = tokens.lookup(
        tokens.refresh(demo.client_id, demo.client_secret, acme_refresh_token).access_token
    )
    assert grantless is not None and access is not None
    rdt = tokens.lookup(tokens.issue_restricted_data_token(access, RESTRICTED_RESOURCES).access_token)
    assert rdt is not None

    for parent in (grantless, rdt):
        with pytest.raises(ValueError, match="issued from an access token"):
            tokens.issue_restricted_data_token(parent, RESTRICTED_RESOURCES)


# -- grant_type=authorization_code -----------------------------------------------------------------------


def test_code_exchange_gives_a_new_refresh_token(
    client: FlaskClient,
    tokens: TokenService,
    demo: Application,
    nordwind: VendorAccount,
    accounts: AccountDirectory,
) -> None:
    code = tokens.create_authorization_code(demo, nordwind, demo.redirect_uris[0])

    response = client.post(TOKEN_URL, data=code_form(demo, code, demo.redirect_uris[0]))

    assert response.status_code == 200
    assert_token_endpoint_headers(response)
    body = response.get_json()
    assert list(body) == ["access_token", "refresh_token", "token_type", "expires_in"]
    assert body["refresh_token"].startswith("Atzr|IwEB")
    assert body["refresh_token"] not in {a.refresh_token for a in accounts.authorizations}
    info = tokens.lookup(body["access_token"])
    assert info is not None and (info.application, info.account) == (demo, nordwind)
    [issued] = tokens.issued_authorizations()
    assert (issued.application, issued.account, issued.refresh_token) == (
        demo,
        nordwind,
        body["refresh_token"],
    )


def test_code_is_single_use(
    client: FlaskClient, tokens: TokenService, demo: Application, acme: VendorAccount
) -> None:
    code = tokens.create_authorization_code(demo, acme, demo.redirect_uris[0])
    form = code_form(demo, code, demo.redirect_uris[0])

    assert client.post(TOKEN_URL, data=form).status_code == 200
    assert_lwa_error(client.post(TOKEN_URL, data=form), INVALID_CODE)


def test_code_expires_after_five_minutes(
    client: FlaskClient, tokens: TokenService, clock: FakeClock, demo: Application, acme: VendorAccount
) -> None:
    fresh = tokens.create_authorization_code(demo, acme, demo.redirect_uris[0])
    stale = tokens.create_authorization_code(demo, acme, demo.redirect_uris[0])

    clock.advance(299)
    assert client.post(TOKEN_URL, data=code_form(demo, fresh, demo.redirect_uris[0])).status_code == 200
    clock.advance(1)
    assert_lwa_error(client.post(TOKEN_URL, data=code_form(demo, stale, demo.redirect_uris[0])), INVALID_CODE)


def test_unknown_code(client: FlaskClient, demo: Application) -> None:
    assert_lwa_error(
        client.post(TOKEN_URL, data=code_form(demo, "NoSuchCode", demo.redirect_uris[0])), INVALID_CODE
    )


def test_code_of_another_application(
    client: FlaskClient, tokens: TokenService, demo: Application, second: Application, acme: VendorAccount
) -> None:
    code = tokens.create_authorization_code(demo, acme, demo.redirect_uris[0])
    assert_lwa_error(
        client.post(TOKEN_URL, data=code_form(second, code, demo.redirect_uris[0])), INVALID_CODE
    )


def test_code_exchange_with_another_redirect_uri(
    client: FlaskClient, tokens: TokenService, demo: Application, acme: VendorAccount
) -> None:
    code = tokens.create_authorization_code(demo, acme, demo.redirect_uris[0])

    mismatch = client.post(TOKEN_URL, data=code_form(demo, code, demo.redirect_uris[1]))

    assert_lwa_error(mismatch, INVALID_REDIRECT_URI)
    # A mismatch does not consume the code: the right redirect URI still redeems it.
    assert client.post(TOKEN_URL, data=code_form(demo, code, demo.redirect_uris[0])).status_code == 200


def test_code_exchange_without_redirect_uri(
    client: FlaskClient, tokens: TokenService, demo: Application, acme: VendorAccount
) -> None:
    """python-amazon-sp-api's authorize_auth_code sends no redirect_uri: the code alone redeems."""
    code = tokens.create_authorization_code(demo, acme, demo.redirect_uris[0])
    form = code_form(demo, code, "")
    del form["redirect_uri"]

    response = client.post(TOKEN_URL, data=form)

    assert response.status_code == 200
    info = tokens.lookup(response.get_json()["access_token"])
    assert info is not None and info.account == acme


def test_code_without_redirect_uri(tokens: TokenService, demo: Application, acme: VendorAccount) -> None:
    """A code handed over outside the browser (getAuthorizationCode) is bound to no redirect URI."""
    code = tokens.create_authorization_code(demo, acme, None)

    issued = tokens.exchange_code(demo.client_id, demo.client_secret, code, demo.redirect_uris[1])

    assert issued.refresh_token is not None and issued.refresh_token.startswith("Atzr|IwEB")


def test_code_for_an_unregistered_redirect_uri_is_refused(
    tokens: TokenService, demo: Application, acme: VendorAccount
) -> None:
    with pytest.raises(ValueError, match="not a redirect URI"):
        tokens.create_authorization_code(demo, acme, "https://evil.example.com/callback")


def test_revoked_issued_refresh_token(
    client: FlaskClient, tokens: TokenService, demo: Application, acme: VendorAccount
) -> None:
    code = tokens.create_authorization_code(demo, acme, demo.redirect_uris[0])
    refresh_token = client.post(TOKEN_URL, data=code_form(demo, code, demo.redirect_uris[0])).get_json()[
        "refresh_token"
    ]

    assert tokens.revoke_authorization(refresh_token) is True

    assert_lwa_error(client.post(TOKEN_URL, data=refresh_form(demo, refresh_token)), REVOKED_REFRESH_TOKEN)
    assert tokens.issued_authorizations() == []


def test_service_raises_lwa_errors(tokens: TokenService, demo: Application) -> None:
    with pytest.raises(LwaError) as raised:
        tokens.refresh(demo.client_id, "wrong", "Atzr|x")
    assert (raised.value.status, raised.value.error, raised.value.description) == INVALID_CLIENT


# -- the website authorization workflow ------------------------------------------------------------------


def test_consent_flow_end_to_end(
    client: FlaskClient, tokens: TokenService, demo: Application, nordwind: VendorAccount
) -> None:
    page = client.get(
        CONSENT_URL,
        query_string={"application_id": demo.application_id, "state": "xyz-42", "version": "beta"},
    )
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.get_data(as_text=True)
    assert demo.name in html
    for name in ("acme-na", "nordwind-eu", "globex-readonly"):
        assert name in html
    assert 'value="confirm"' in html and 'value="cancel"' in html
    assert 'action="/apps/authorize/confirm"' in html

    confirmed = client.post(
        CONFIRM_URL,
        data={
            "application_id": demo.application_id,
            "state": "xyz-42",
            "redirect_uri": demo.redirect_uris[0],
            "selling_partner_id": nordwind.selling_partner_id,
            "decision": "confirm",
        },
    )

    assert confirmed.headers["Location"].startswith(demo.redirect_uris[0] + "?")
    query = query_of(confirmed)
    assert set(query) == {"spapi_oauth_code", "state", "selling_partner_id"}
    assert (query["state"], query["selling_partner_id"]) == ("xyz-42", nordwind.selling_partner_id)

    exchanged = client.post(TOKEN_URL, data=code_form(demo, query["spapi_oauth_code"], demo.redirect_uris[0]))
    assert exchanged.status_code == 200
    refresh_token = exchanged.get_json()["refresh_token"]

    refreshed = client.post(TOKEN_URL, data=refresh_form(demo, refresh_token))
    assert refreshed.status_code == 200
    info = tokens.lookup(refreshed.get_json()["access_token"])
    assert info is not None and (info.application, info.account) == (demo, nordwind)


def test_consent_with_a_registered_redirect_uri(
    client: FlaskClient, demo: Application, acme: VendorAccount
) -> None:
    code, redirected_to = authorization_code(client, demo, acme, redirect_uri=demo.redirect_uris[2])

    assert redirected_to == demo.redirect_uris[2]
    assert_lwa_error(
        client.post(TOKEN_URL, data=code_form(demo, code, demo.redirect_uris[0])), INVALID_REDIRECT_URI
    )
    assert client.post(TOKEN_URL, data=code_form(demo, code, demo.redirect_uris[2])).status_code == 200


def test_consent_page_carries_the_chosen_redirect_uri(client: FlaskClient, demo: Application) -> None:
    page = client.get(
        CONSENT_URL,
        query_string={
            "application_id": demo.application_id,
            "state": "s",
            "redirect_uri": demo.redirect_uris[1],
        },
    )
    assert f'name="redirect_uri" value="{demo.redirect_uris[1]}"' in page.get_data(as_text=True)


def test_cancel_redirects_with_access_denied(client: FlaskClient, demo: Application) -> None:
    response = client.post(
        CONFIRM_URL,
        data={
            "application_id": demo.application_id,
            "state": "xyz",
            "redirect_uri": "",
            "decision": "cancel",
        },
    )

    assert response.headers["Location"].startswith(demo.redirect_uris[0] + "?")
    assert query_of(response) == {"error": "access_denied", "state": "xyz"}


def test_auto_confirm_redirects_at_once(
    client: FlaskClient, tokens: TokenService, demo: Application, acme: VendorAccount
) -> None:
    code, redirected_to = authorization_code(client, demo, acme)

    assert redirected_to == demo.redirect_uris[0]
    body = client.post(TOKEN_URL, data=code_form(demo, code, redirected_to)).get_json()
    info = tokens.lookup(body["access_token"])
    assert info is not None and info.account == acme


def test_consent_state_is_escaped(client: FlaskClient, demo: Application) -> None:
    page = client.get(
        CONSENT_URL, query_string={"application_id": demo.application_id, "state": '"><script>'}
    )
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "&quot;&gt;&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("method", "url", "parameters", "message"),
    [
        ("GET", CONSENT_URL, {"application_id": "amzn1.sp.solution.unknown", "state": "s"}, "No application"),
        ("GET", CONSENT_URL, {"state": "s"}, "missing a required parameter : application_id"),
        ("GET", CONSENT_URL, {"application_id": "DEMO", "state": ""}, "missing a required parameter : state"),
        (
            "GET",
            CONSENT_URL,
            {"application_id": "DEMO", "state": "s", "redirect_uri": "https://evil.example.com/cb"},
            "is not registered",
        ),
        (
            "GET",
            CONSENT_URL,
            {"application_id": "DEMO", "state": "s", "auto_confirm": "true"},
            "No vendor account",
        ),
        (
            "GET",
            CONSENT_URL,
            {"application_id": "DEMO", "state": "s", "auto_confirm": "true", "selling_partner_id": "A0NOPE"},
            "No vendor account",
        ),
        (
            "POST",
            CONFIRM_URL,
            {"application_id": "amzn1.sp.solution.unknown", "state": "s", "decision": "confirm"},
            "No application",
        ),
        (
            "POST",
            CONFIRM_URL,
            {
                "application_id": "DEMO",
                "state": "s",
                "redirect_uri": "https://evil.example.com/cb",
                "decision": "cancel",
            },
            "is not registered",
        ),
        (
            "POST",
            CONFIRM_URL,
            {"application_id": "DEMO", "state": "s", "decision": "confirm"},
            "No vendor account",
        ),
        (
            "POST",
            CONFIRM_URL,
            {"application_id": "DEMO", "state": "s", "decision": "maybe"},
            "confirm or cancel",
        ),
    ],
    ids=[
        "unknown-application",
        "no-application",
        "no-state",
        "unregistered-redirect-uri",
        "auto-confirm-without-account",
        "auto-confirm-unknown-account",
        "confirm-unknown-application",
        "cancel-to-unregistered-redirect-uri",
        "confirm-without-account",
        "unknown-decision",
    ],
)
def test_consent_refusals_are_400_pages_never_redirects(
    client: FlaskClient, demo: Application, method: str, url: str, parameters: dict[str, str], message: str
) -> None:
    parameters = {
        name: demo.application_id if value == "DEMO" else value for name, value in parameters.items()
    }
    if method == "GET":
        response = client.get(url, query_string=parameters)
    else:
        response = client.post(url, data=parameters)

    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.headers["Content-Type"].startswith("text/html")
    assert message in response.get_data(as_text=True)


# -- persistence -----------------------------------------------------------------------------------------


def test_tokens_survive_a_restart_with_sqlite(
    sqlite_path: Path,
    accounts: AccountDirectory,
    clock: FakeClock,
    demo: Application,
    nordwind: VendorAccount,
    acme_refresh_token: str,
) -> None:
    before = SqliteStore(sqlite_path)
    tokens = TokenService(before, accounts, token_lifetime=LIFETIME, clock=clock)
    access_token = tokens.refresh(demo.client_id, demo.client_secret, acme_refresh_token).access_token
    grantless_token = tokens.grantless(demo.client_id, demo.client_secret, "sellingpartnerapi::notifications")
    code = tokens.create_authorization_code(demo, nordwind, demo.redirect_uris[0])
    issued_refresh_token = tokens.exchange_code(
        demo.client_id, demo.client_secret, code, demo.redirect_uris[0]
    )
    parent = tokens.lookup(access_token)
    assert parent is not None
    rdt = tokens.issue_restricted_data_token(parent, RESTRICTED_RESOURCES)
    pending_code = tokens.create_authorization_code(demo, nordwind, demo.redirect_uris[0])
    assert issued_refresh_token.refresh_token is not None
    before.close()

    after = SqliteStore(sqlite_path)
    try:
        restarted = TokenService(after, accounts, token_lifetime=LIFETIME, clock=clock)
        info = restarted.lookup(access_token)
        assert info is not None and (info.kind, info.account) == ("access", accounts.accounts["acme-na"])
        grantless = restarted.lookup(grantless_token.access_token)
        assert grantless is not None and grantless.scopes == ("sellingpartnerapi::notifications",)
        restricted = restarted.lookup(rdt.access_token)
        assert restricted is not None and restricted.restricted_resources == RESTRICTED_RESOURCES
        refreshed = restarted.refresh(demo.client_id, demo.client_secret, issued_refresh_token.refresh_token)
        refreshed_info = restarted.lookup(refreshed.access_token)
        assert refreshed_info is not None and refreshed_info.account == nordwind
        assert restarted.exchange_code(
            demo.client_id, demo.client_secret, pending_code, demo.redirect_uris[0]
        )
        with pytest.raises(LwaError, match="invalid grant parameter : code"):
            restarted.exchange_code(demo.client_id, demo.client_secret, code, demo.redirect_uris[0])
    finally:
        after.close()


def test_revocation_survives_a_restart_with_sqlite(
    sqlite_path: Path,
    accounts: AccountDirectory,
    clock: FakeClock,
    demo: Application,
    acme_refresh_token: str,
) -> None:
    before = SqliteStore(sqlite_path)
    TokenService(before, accounts, token_lifetime=LIFETIME, clock=clock).revoke_authorization(
        acme_refresh_token
    )
    before.close()

    after = SqliteStore(sqlite_path)
    try:
        restarted = TokenService(after, accounts, token_lifetime=LIFETIME, clock=clock)
        with pytest.raises(LwaError) as raised:
            restarted.refresh(demo.client_id, demo.client_secret, acme_refresh_token)
        assert (raised.value.status, raised.value.error, raised.value.description) == REVOKED_REFRESH_TOKEN
    finally:
        after.close()
