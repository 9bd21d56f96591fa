"""The inspector's pages over HTTP: served from the package, nothing fetched from elsewhere, behind the admin
token (login, cookie, the header a change needs), every page answering."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator

TOKEN = "inspector-secret"
PAGES = ("", "journal", "world", "clock", "faults", "reports", "snapshots", "accounts", "rules", "exchange/x")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("inspector"), store="memory", seed_size=10, admin_token=TOKEN
    )
    yield running
    running.stop()


def logged_in(emulator: RunningEmulator) -> requests.Session:
    session = requests.Session()
    response = session.post(
        f"{emulator.base_url}/_sandbox/ui/login",
        data={"token": TOKEN, "next": "/_sandbox/ui/world"},
        timeout=10,
    )
    assert response.status_code == 200 and response.url.endswith("/_sandbox/ui/world")
    return session


def test_every_page_answers_with_the_project_name_and_the_account(guarded: RunningEmulator) -> None:
    session = logged_in(guarded)
    for page in PAGES:
        response = session.get(
            f"{guarded.base_url}/_sandbox/ui/{page}", params={"account": "initech-in"}, timeout=10
        )
        assert response.status_code == 200, page
        assert response.headers["Content-Type"].startswith("text/html")
        assert "vendor-sandbox" in response.text and 'data-account="initech-in"' in response.text
        assert 'id="account-region"' in response.text
    unknown = session.get(f"{guarded.base_url}/_sandbox/ui/world/acme-na/bogus/1", timeout=10)
    assert unknown.status_code == 404


def test_nothing_is_fetched_from_another_origin() -> None:
    """No CDN, no font service: every file of the inspector refers to this server only."""
    package = resources.files("mockserver.inspector")
    files = [*package.joinpath("templates").iterdir(), *package.joinpath("static").iterdir()]
    assert {Path(str(item)).suffix for item in files} == {".html", ".css", ".js"}
    for item in files:
        text = item.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)\s*=\s*[\"'](https?:)?//", text), item.name
        assert not re.search(r"@import|url\(\s*[\"']?https?:", text), item.name
        assert 'fetch("http' not in text and "fetch('http" not in text


def test_pages_need_the_admin_token_and_send_a_person_to_the_login_page(guarded: RunningEmulator) -> None:
    page = requests.get(
        f"{guarded.base_url}/_sandbox/ui/faults?account=acme-na", allow_redirects=False, timeout=10
    )
    assert page.status_code == 302
    assert page.headers["Location"] == "/_sandbox/ui/login?next=/_sandbox/ui/faults%3Faccount%3Dacme-na"
    # The login page and its stylesheet are open; the API behind it is not.
    assert requests.get(f"{guarded.base_url}/_sandbox/ui/login", timeout=10).status_code == 200
    assert requests.get(f"{guarded.base_url}/_sandbox/ui/static/inspector.css", timeout=10).status_code == 200
    assert requests.get(f"{guarded.base_url}/_sandbox/journal", timeout=10).status_code == 403


def test_a_wrong_token_is_refused_and_sets_nothing(guarded: RunningEmulator) -> None:
    session = requests.Session()
    response = session.post(f"{guarded.base_url}/_sandbox/ui/login", data={"token": "wrong"}, timeout=10)
    assert response.status_code == 403 and "That is not the admin token." in response.text
    assert not session.cookies
    assert session.get(f"{guarded.base_url}/_sandbox/journal", timeout=10).status_code == 403


def test_the_cookie_holds_no_token_and_is_strict(guarded: RunningEmulator) -> None:
    response = requests.post(
        f"{guarded.base_url}/_sandbox/ui/login", data={"token": TOKEN}, allow_redirects=False, timeout=10
    )
    cookie = response.headers["Set-Cookie"]
    assert TOKEN not in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_sandbox/" in cookie


def test_the_cookie_reads_but_a_change_needs_the_inspectors_header(guarded: RunningEmulator) -> None:
    """Another site's page could make a browser send the cookie with a form; it cannot add the header."""
    session = logged_in(guarded)
    base = guarded.base_url
    assert session.get(f"{base}/_sandbox/journal", timeout=10).status_code == 200
    assert session.get(f"{base}/metrics", timeout=10).status_code == 403  # the cookie is for /_sandbox/ only
    refused = session.post(f"{base}/_sandbox/clock/advance", json={"seconds": 60}, timeout=10)
    assert refused.status_code == 403 and "X-Requested-With" in refused.json()["errors"][0]["details"]
    header = {"X-Requested-With": "vendor-sandbox-inspector"}
    assert (
        session.post(f"{base}/_sandbox/clock/advance", json={"seconds": 60}, headers=header).status_code
        == 200
    )
    # Logging out forgets it.
    session.post(f"{base}/_sandbox/ui/logout", timeout=10)
    assert session.get(f"{base}/_sandbox/journal", timeout=10).status_code == 403


@pytest.mark.parametrize(
    "target", ["https://elsewhere.example/", "//elsewhere.example/x", "/_sandbox/journal", "/\\x"]
)
def test_login_never_redirects_off_the_inspector(guarded: RunningEmulator, target: str) -> None:
    response = requests.post(
        f"{guarded.base_url}/_sandbox/ui/login",
        data={"token": TOKEN, "next": target},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302 and response.headers["Location"] == "/_sandbox/ui/"


def test_without_an_admin_token_the_inspector_is_open(emulator: RunningEmulator) -> None:
    assert requests.get(f"{emulator.base_url}/_sandbox/ui/", timeout=10).status_code == 200
    login = requests.get(f"{emulator.base_url}/_sandbox/ui/login", allow_redirects=False, timeout=10)
    assert login.status_code == 302 and login.headers["Location"] == "/_sandbox/ui/"


def test_opening_pages_adds_nothing_to_the_journal(emulator: RunningEmulator) -> None:
    """A browser asks for /favicon.ico unless told otherwise: the pages tell it, so the journal shows the
    client's traffic only."""
    before = len(emulator.sandbox.journal)
    for page in PAGES:
        html = requests.get(f"{emulator.base_url}/_sandbox/ui/{page}", timeout=10).text
        assert '<link rel="icon" href="data:,">' in html
    assert len(emulator.sandbox.journal) == before


def test_accounts_page_has_each_credential_and_ready_snippets(emulator: RunningEmulator) -> None:
    html = requests.get(f"{emulator.base_url}/_sandbox/ui/accounts", timeout=10).text
    for item in emulator.accounts:
        assert item["refresh_token"].replace("|", "|") in html
        assert item["client_secret"] in html
    assert f"curl -s -X POST {emulator.base_url}/auth/o2/token" in html
    assert "import requests" in html


def test_a_start_with_a_fresh_checkout_layout_needs_no_build(tmp_path: Path) -> None:
    """The templates and script are package data: an emulator started from anywhere serves them."""
    running = start_emulator(data_dir=tmp_path / "data", store="memory", seed_size=5)
    try:
        script = requests.get(f"{running.base_url}/_sandbox/ui/static/inspector.js", timeout=10)
        assert script.status_code == 200 and "function journalPage" in script.text
    finally:
        running.stop()
