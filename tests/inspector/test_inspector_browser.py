"""The inspector as a person uses it, in a real Chromium: logging in, a Failure followed from the live
journal to the rule it broke, a fault rule added from the form and removed, the clock moved and frozen, a
purchase order's history. Each test saves screenshots (build/artifacts/inspector/)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server import retail_support

TOKEN = "browser-secret"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
TIMEOUT = 10_000  # ms: the journal polls every 1.5 s


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(
        data_dir=tmp_path_factory.mktemp("browser"),
        store="memory",
        seed_size=40,
        rate_scale=1000.0,
        processing_delay=0.05,
        admin_token=TOKEN,
    )
    yield running
    running.stop()


@pytest.fixture
def page(browser: Any, guarded: RunningEmulator) -> Iterator[Any]:
    """A fresh browser context, logged in through the login page; any script error fails the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    opened.goto(f"{guarded.base_url}/_sandbox/ui/")
    assert "/_sandbox/ui/login" in opened.url
    opened.fill("#token", TOKEN)
    opened.click("#login-button")
    opened.wait_for_selector("#journal-filters")
    yield opened
    context.close()
    assert errors == []


def test_a_wrong_token_keeps_the_inspector_closed(
    browser: Any, guarded: RunningEmulator, screenshot: Any
) -> None:
    context = browser.new_context()
    opened = context.new_page()
    opened.goto(f"{guarded.base_url}/_sandbox/ui/world")
    opened.fill("#token", "not-it")
    opened.click("#login-button")
    assert opened.inner_text("#login-error") == "That is not the admin token."
    screenshot(opened, "login-refused")
    context.close()


def test_a_failure_in_the_live_journal_leads_to_the_rule_it_broke(
    page: Any, guarded: RunningEmulator, screenshot: Any
) -> None:
    session = guarded.session()
    # A client's own path, shown as text: markup in it must never run.
    session.get(f"{guarded.base_url}/vendor/<img src=x onerror=alert(1)>", timeout=10)
    order = retail_support.new_purchase_order(guarded, session)
    broken = retail_support.acknowledgement(order, sellingParty={"partyId": "NOT-OURS"})
    # The page is open already: the rows arrive without a reload.
    assert retail_support.submit(guarded, session, retail_support.ACK, broken)["status"] == "Failure"
    failure = page.locator("#journal-rows tr[data-outcome=Failure]").first
    failure.wait_for()
    assert "ack-selling-party" in failure.inner_text()
    assert page.locator("#journal-rows td.path", has_text="<img src=x onerror=alert(1)>").count() == 1
    screenshot(page, "journal")

    failure.locator("a.exchange-link").click()
    rule = page.locator("#exchange-outcome .broken-rules a.rule-link[data-rule=ack-selling-party]")
    rule.wait_for()
    assert "INVALID_SELLING_PARTY" in page.inner_text("#exchange-outcome")
    assert "x-amzn-RequestId" in page.inner_text("#exchange-response")
    screenshot(page, "exchange", full_page=True)

    rule.click()
    page.wait_for_url("**/_sandbox/ui/rules*#rule-ack-selling-party")
    target = page.locator("tr#rule-ack-selling-party")
    assert target.is_visible()
    assert page.evaluate("document.querySelector(':target').id") == "rule-ack-selling-party"
    assert "The selling party does not own the purchase order." in target.inner_text()
    screenshot(page, "rule")


def test_a_fault_rule_is_added_from_the_form_and_removed(
    page: Any, guarded: RunningEmulator, screenshot: Any
) -> None:
    page.click("#nav-faults")
    page.wait_for_selector("#fault-form")
    page.select_option("#fault-action", "service_unavailable")
    page.select_option("#fault-operation", "vendor/orders/v1#getPurchaseOrders")
    page.fill("#fault-first", "1")
    page.click("#fault-add")
    row = page.locator("#fault-rows tr").first
    row.wait_for()
    assert "service_unavailable" in row.inner_text() and "getPurchaseOrders" in row.inner_text()

    url = f"{guarded.base_url}{retail_support.ORDERS}/purchaseOrders"
    session = guarded.session()
    assert session.get(url, params={"limit": 1}, timeout=10).status_code == 503
    assert session.get(url, params={"limit": 1}, timeout=10).status_code == 200
    page.reload()
    page.locator("#fault-rows tr td:nth-child(8)", has_text="1").wait_for()  # fired once
    screenshot(page, "fault-added")

    # What the server refuses is said on the form, and nothing is added.
    page.select_option("#fault-action", "latency")
    page.fill("#fault-params", '{"seconds": -5}')
    page.click("#fault-add")
    page.locator("#fault-error", has_text="parameter 'seconds' must be a finite number").wait_for()
    page.fill("#fault-params", "{not json")
    page.click("#fault-add")
    page.locator("#fault-error", has_text="JSON").wait_for()
    assert (
        len(requests.get(f"{guarded.base_url}/_sandbox/faults", headers=ADMIN, timeout=10).json()["rules"])
        == 1
    )

    row.locator("button.remove-rule").click()
    page.locator("#faults-empty").wait_for(state="visible")
    assert (
        requests.get(f"{guarded.base_url}/_sandbox/faults", headers=ADMIN, timeout=10).json()["rules"] == []
    )
    screenshot(page, "fault-removed")


def _clock(guarded: RunningEmulator) -> dict[str, Any]:
    clock: dict[str, Any] = requests.get(
        f"{guarded.base_url}/_sandbox/clock", headers=ADMIN, timeout=10
    ).json()
    return clock


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_clock_advances_and_freezes_from_its_page(
    page: Any, guarded: RunningEmulator, screenshot: Any
) -> None:
    page.click("#nav-clock")
    page.locator("#clock-now", has_text="T").wait_for()
    before = _moment(page.inner_text("#clock-now"))
    page.click("#advance-day")
    page.wait_for_function(
        "before => document.querySelector('#clock-now').textContent !== before",
        arg=page.inner_text("#clock-now"),
    )
    after = _moment(page.inner_text("#clock-now"))
    assert 86_400 <= (after - before).total_seconds() < 86_400 + 60
    assert abs((_moment(_clock(guarded)["now"]) - after).total_seconds()) < 60
    assert page.inner_text("#header-clock").startswith(page.inner_text("#clock-now"))

    page.click("#clock-freeze")
    page.locator("#clock-state", has_text="frozen").wait_for()
    assert _clock(guarded)["frozen"] is True
    screenshot(page, "clock-frozen")
    page.fill("#clock-set", "not a time")
    page.click("#clock-set-form button")
    page.locator("#error-banner", has_text="Clock").wait_for()
    page.click("#clock-freeze")
    page.locator("#clock-state", has_text="running").wait_for()
    assert _clock(guarded)["frozen"] is False


def test_a_purchase_order_shows_its_documents_and_history(
    page: Any, guarded: RunningEmulator, screenshot: Any
) -> None:
    session = guarded.session()
    order = retail_support.new_purchase_order(guarded, session)
    number = order["purchaseOrderNumber"]
    ack = retail_support.acknowledgement(order)
    assert retail_support.submit(guarded, session, retail_support.ACK, ack)["status"] == "Success"
    page.click("#nav-world")
    page.select_option("#po-state", "Acknowledged")
    link = page.locator(f"#po-rows tr[data-number='{number}'] a")
    link.wait_for()
    page.locator("#world-summary .tile").first.wait_for()
    screenshot(page, "world")
    link.click()
    page.locator("#po-history li", has_text="acknowledged").first.wait_for()
    assert "Acknowledged" in page.inner_text("#record-body h2")
    assert page.locator("#record-body a[href*='/transactions/']").count() >= 1
    screenshot(page, "purchase-order", full_page=True)


def test_an_answer_arriving_late_does_not_replace_the_chosen_filter(
    page: Any, guarded: RunningEmulator
) -> None:
    """The world page loads every state and, if the state is chosen at once, both answers are in flight:
    the first one's answer, held here until the second has been shown, must not replace its rows."""
    session = guarded.session()
    order = retail_support.new_purchase_order(guarded, session)
    ack = retail_support.acknowledgement(order)
    assert retail_support.submit(guarded, session, retail_support.ACK, ack)["status"] == "Success"
    held: list[Any] = []

    def hold_the_unfiltered(route: Any) -> None:
        if "state=" in route.request.url:
            route.continue_()
        else:
            held.append(route)

    page.route("**/world/*/purchase-orders?*", hold_the_unfiltered)
    page.click("#nav-world")
    while not held:
        page.wait_for_timeout(20)
    page.select_option("#po-state", "Acknowledged")
    page.locator(f"#po-rows tr[data-number='{order['purchaseOrderNumber']}']").wait_for()
    with page.expect_response(lambda answer: answer.request == held[0].request):
        held[0].continue_()
    page.wait_for_timeout(300)  # the page's script handles the late answer
    states = page.locator("#po-rows tr td:nth-child(2)").all_inner_texts()
    assert states and set(states) == {"Acknowledged"}, states


def test_a_clock_read_arriving_after_a_change_does_not_turn_it_back(page: Any) -> None:
    """The header reads the clock as the page opens; a day advanced before that read's answer arrives must
    stay shown, in the header and on the clock page, when the older answer comes."""
    held: list[tuple[Any, Any]] = []

    def answer_the_first_read_late(route: Any) -> None:
        if route.request.method == "GET" and not held:
            held.append((route, route.fetch()))  # answered now, delivered later
        else:
            route.continue_()

    page.route("**/_sandbox/clock", answer_the_first_read_late)
    page.click("#nav-clock")
    while not held:
        page.wait_for_timeout(20)
    page.click("#advance-day")
    page.locator("#clock-now", has_text="T").wait_for()
    advanced = page.inner_text("#clock-now")
    assert page.inner_text("#header-clock").startswith(advanced)
    route, earlier = held[0]
    with page.expect_response(lambda answer: answer.request == route.request):
        route.fulfill(response=earlier)
    page.wait_for_timeout(300)  # the page's script handles the late answer
    assert page.inner_text("#clock-now") == advanced
    assert page.inner_text("#header-clock").startswith(advanced)
