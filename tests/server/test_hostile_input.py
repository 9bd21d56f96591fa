"""No input gets a 5xx: bodies, query strings, headers, fault plans and headers, admin calls, the consent flow
and the LWA form, each fuzzed with Hypothesis over what a hostile or broken client sends (very deep nesting,
integers of thousands of digits, NaN, control characters, wrong types), through HTTP to a real emulator.
After all of it, everything that reads the journal still answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.testing.server import RunningEmulator, start_emulator

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SUBMISSIONS = (
    "/vendor/orders/v1/acknowledgements",
    "/vendor/shipping/v1/shipmentConfirmations",
    "/vendor/payments/v1/invoices",
    "/vendor/directFulfillment/orders/2021-12-28/acknowledgements",
    "/reports/2021-06-30/reports",
    "/tokens/2021-03-01/restrictedDataToken",
)
READS = (
    "/vendor/orders/v1/purchaseOrders",
    "/vendor/orders/v1/purchaseOrdersStatus",
    "/vendor/directFulfillment/orders/2021-12-28/purchaseOrders",
    "/reports/2021-06-30/reports",
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    running = start_emulator(data_dir=tmp_path_factory.mktemp("hostile"), store="sqlite", rate_limits=False)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def session(hostile: RunningEmulator) -> Iterator[requests.Session]:
    client = hostile.session()
    yield client
    client.close()


def _deep(depth: int, opener: str = "[") -> str:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return '{"a":' * depth + "1" + closer * depth
    return opener * depth + closer * depth


HOSTILE_JSON_TEXT = st.one_of(
    st.integers(min_value=1, max_value=200_000).map(_deep),
    st.integers(min_value=60, max_value=5_000).map(lambda depth: _deep(depth, "{")),
    st.integers(min_value=4_000, max_value=20_000).map(lambda digits: '{"limit": ' + "9" * digits + "}"),
    st.sampled_from(["NaN", '{"a": Infinity}', '{"a": -Infinity}', "[1e999]", '{"a": 1e400}']),
    st.sampled_from(['"\\ud800"', '{"\\u0000": 1}', "\ufeff{}", "{}\x00", '{"a":' * 3]),
)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=25,
)
BODY = st.one_of(
    HOSTILE_JSON_TEXT.map(str.encode),
    ANY_JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=300),
)
CONTENT_TYPE = st.sampled_from(
    [
        None,
        "application/json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/x-www-form-urlencoded",
    ]
)
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=200
)


def _assert_amazon_answer(response: requests.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text
    assert response.headers.get("x-amzn-RequestId")
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
        "application/json"
    ):
        body = response.json()
        assert isinstance(body, dict) and ("errors" in body or "error" in body), body


@FUZZ
@given(path=st.sampled_from(SUBMISSIONS), body=BODY, content_type=CONTENT_TYPE)
def test_no_body_gets_a_5xx(
    hostile: RunningEmulator, session: requests.Session, path: str, body: bytes, content_type: str | None
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    _assert_amazon_answer(session.post(hostile.base_url + path, data=body, headers=headers, timeout=30))


@FUZZ
@given(
    path=st.sampled_from(READS),
    query=st.lists(
        st.tuples(
            st.sampled_from(["limit", "createdAfter", "nextToken", "sortOrder", "reportTypes", "x"]),
            st.one_of(HEADER_TEXT, st.integers(min_value=10**20).map(str), st.just("9" * 5000)),
        ),
        max_size=4,
    ),
)
def test_no_query_string_gets_a_5xx(
    hostile: RunningEmulator, session: requests.Session, path: str, query: list[tuple[str, str]]
) -> None:
    _assert_amazon_answer(session.get(hostile.base_url + path, params=query, timeout=30))


@FUZZ
@given(segment=st.text(max_size=60).filter(lambda text: "/" not in text))
def test_no_path_parameter_gets_a_5xx(
    hostile: RunningEmulator, session: requests.Session, segment: str
) -> None:
    from urllib.parse import quote

    url = f"{hostile.base_url}/vendor/orders/v1/purchaseOrders/{quote(segment, safe='')}"
    _assert_amazon_answer(session.get(url, timeout=30))


# Parameter values a broken plan sends: out of range, not finite, not numbers, header-breaking text. Valid
# durations stay small, so that a fault the header legitimately asks for does not hold the test up.
HOSTILE_PARAMETER = st.one_of(
    st.sampled_from([-1, 0, 0.01, 1, 601, 1e308, 10**400, "nan", "inf", "a\r\nb", True, None, [], {}]),
    st.sampled_from([{"X-A": "a\r\nb"}, {"bad name": "v"}, {"X-Ok": "fine"}, "9" * 5000]),
    st.text(max_size=20),
)


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(["x-amz-access-token", "Host", "Content-Type", "x-amz-date", "User-Agent", "Accept"]),
        HEADER_TEXT,
        min_size=1,
        max_size=4,
    ),
    post=st.booleans(),
)
def test_no_header_gets_a_5xx(
    hostile: RunningEmulator, session: requests.Session, headers: dict[str, str], post: bool
) -> None:
    url = hostile.base_url + (
        "/vendor/orders/v1/acknowledgements" if post else "/vendor/orders/v1/purchaseOrders"
    )
    sent = {**session.headers, **headers}
    response = requests.request(
        "POST" if post else "GET", url, headers=sent, data=b"{}" if post else None, timeout=30
    )
    _assert_amazon_answer(response)


FAULT_ACTIONS = ["latency", "drop", "trickle", "truncate", "error", "throttle_storm", "quota_exceeded", "x"]
FAULT_PARAMETERS = [
    "seconds",
    "status",
    "headers",
    "code",
    "keep",
    "fraction",
    "chunk_bytes",
    "rate",
    "delay",
]
FAULT_HEADER_VALUES = st.one_of(
    HEADER_TEXT,
    st.tuples(
        st.sampled_from(FAULT_ACTIONS),
        st.dictionaries(st.sampled_from(FAULT_PARAMETERS), HOSTILE_PARAMETER, max_size=3),
    ).map(lambda pair: json.dumps({"action": pair[0], **pair[1]})),
)
STATUSES = "/vendor/orders/v1/purchaseOrdersStatus"


@FUZZ
@given(value=FAULT_HEADER_VALUES)
def test_no_fault_header_gets_a_5xx_of_its_own(
    hostile: RunningEmulator, session: requests.Session, value: str
) -> None:
    """A fault header may ask for a 5xx (that is its point); a broken one is Amazon's 400 naming it."""
    try:
        response = session.get(
            hostile.base_url + STATUSES,
            params={"limit": 1},
            headers={"x-vendor-sandbox-fault": value.encode("latin-1", errors="replace").decode("latin-1")},
            timeout=30,
        )
    except requests.RequestException:
        return  # a drop or truncate the header asked for
    finally:
        requests.delete(hostile.base_url + "/_sandbox/faults", timeout=30)  # ends a storm it asked for
    if response.headers.get("x-vendor-sandbox-answer", "").startswith("fault:"):
        return  # the fault it asked for, whatever its status
    _assert_amazon_answer(response)


ADMIN_CALLS = [
    ("POST", "/_sandbox/faults"),
    ("POST", "/_sandbox/clock"),
    ("POST", "/_sandbox/clock/advance"),
    ("PUT", "/_sandbox/strict"),
]


@FUZZ
@given(call=st.sampled_from(ADMIN_CALLS), body=BODY)
def test_no_admin_body_gets_a_5xx(hostile: RunningEmulator, call: tuple[str, str], body: bytes) -> None:
    method, path = call
    response = requests.request(
        method, hostile.base_url + path, data=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    _assert_amazon_answer(response)
    requests.delete(hostile.base_url + "/_sandbox/faults", timeout=30)
    requests.put(hostile.base_url + "/_sandbox/strict", json={"enabled": False}, timeout=30)


@FUZZ
@given(
    path=st.sampled_from(["/_sandbox/journal", "/_sandbox/report/retries", "/_sandbox/report/conformance"]),
    query=st.dictionaries(
        st.sampled_from(["limit", "status", "since", "after", "max_attempts", "min_backoff", "format"]),
        st.one_of(HEADER_TEXT, st.sampled_from(["-1", "nan", "inf", "9" * 5000, "1e400"])),
        max_size=3,
    ),
)
def test_no_admin_query_gets_a_5xx(hostile: RunningEmulator, path: str, query: dict[str, str]) -> None:
    _assert_amazon_answer(requests.get(hostile.base_url + path, params=query, timeout=60))


@FUZZ
@given(
    form=st.dictionaries(
        st.sampled_from(["grant_type", "refresh_token", "client_id", "client_secret", "scope", "code", "x"]),
        st.one_of(HEADER_TEXT, st.just("x" * 100_000)),
        max_size=5,
    ),
    as_json=st.booleans(),
)
def test_no_lwa_request_gets_a_5xx(hostile: RunningEmulator, form: dict[str, str], as_json: bool) -> None:
    url = hostile.base_url + "/auth/o2/token"
    response = (
        requests.post(url, json=form, timeout=30) if as_json else requests.post(url, data=form, timeout=30)
    )
    assert response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text


@FUZZ
@given(body=HOSTILE_JSON_TEXT)
def test_no_hostile_lwa_json_gets_a_5xx(hostile: RunningEmulator, body: str) -> None:
    response = requests.post(
        hostile.base_url + "/auth/o2/token",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, response.text[:300]
    assert response.json()["error"] == "invalid_request"


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["application_id", "state", "redirect_uri", "version", "account"]),
        HEADER_TEXT,
        max_size=5,
    ),
    post=st.booleans(),
)
def test_no_consent_request_gets_a_5xx(hostile: RunningEmulator, query: dict[str, str], post: bool) -> None:
    url = hostile.base_url + "/apps/authorize/consent"
    response = (
        requests.post(url, data=query, timeout=30, allow_redirects=False)
        if post
        else requests.get(url, params=query, timeout=30, allow_redirects=False)
    )
    assert response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text


def test_what_reads_the_journal_still_answers_after_the_fuzzing(hostile: RunningEmulator) -> None:
    """Hostile exchanges are recorded as they came; reading them back must not fail on them."""
    deep = _deep(50_000).encode()
    huge = ('{"acknowledgements": [{"purchaseOrderNumber": ' + "9" * 5000 + "}]}").encode()
    session = hostile.session()
    for body in (deep, huge):
        response = session.post(
            hostile.base_url + "/vendor/orders/v1/acknowledgements",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["message"] == "The request body is not valid JSON."
    for path in (
        "/_sandbox/journal?limit=100000",
        "/_sandbox/journal/har",
        "/_sandbox/report/conformance",
        "/_sandbox/report/retries",
    ):
        response = requests.get(hostile.base_url + path, timeout=60)
        assert response.status_code == 200, (path, response.text[:300])
    health = requests.get(hostile.base_url + "/_sandbox/health", timeout=30).json()
    assert health["status"] == "ok"


@pytest.mark.parametrize(
    ("body", "details"),
    [
        (_deep(100_000), "nested deeper than 64 levels"),
        ('{"a":' * 65 + "1" + "}" * 65, "nested deeper than 64 levels"),
        ('{"x": ' + "9" * 5000 + "}", "ValueError: Exceeds the limit (4300 digits)"),
        ('{"x": NaN}', "NaN is not a JSON value"),
    ],
    ids=["100000-deep", "65-deep", "5000-digits", "NaN"],
)
def test_hostile_json_is_amazons_400_naming_the_problem(
    hostile: RunningEmulator, session: requests.Session, body: str, details: str
) -> None:
    response = session.post(
        hostile.base_url + "/vendor/orders/v1/acknowledgements",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["message"]) == ("InvalidInput", "The request body is not valid JSON.")
    assert details in error["details"]


@pytest.mark.parametrize(
    ("value", "details"),
    [
        ('{"action": "error", "status": 400, "headers": {"X-A": "a\\r\\nb"}}', "not a valid HTTP header"),
        ('{"action": "error", "status": "' + "9" * 5000 + '"}', "must be a finite number"),
        ('{"action": "error", "status": 99}', "must be a finite number of at least 100"),
        ("latency seconds=1e308", "delay must be from 0 to 600 seconds"),
        ("latency seconds=nan", "must be a finite number"),
        ("trickle chunk_bytes=0", "must be a finite number of at least 1"),
        ('{"action": "latency", "params": ' + "[" * 5000 + "]" * 5000 + "}", "nested deeper than 64 levels"),
    ],
    ids=["header-crlf", "5000-digit-status", "status-99", "latency-1e308", "latency-nan", "chunk-0", "deep"],
)
def test_a_broken_fault_header_is_a_400_naming_it(
    hostile: RunningEmulator, session: requests.Session, value: str, details: str
) -> None:
    response = session.get(
        hostile.base_url + "/vendor/orders/v1/purchaseOrders",
        params={"limit": 1},
        headers={"x-vendor-sandbox-fault": value},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    assert details in error["details"] or details in error["message"], error


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"advance": "NaN"}, "advance must be a finite number"),
        ({"advance": 1e300}, "the sandbox clock stays from 2000-01-01T00:00:00Z"),
        ({"set": "0001-01-01T00:00:00Z"}, "the sandbox clock stays from"),
        ({"set": "2024-01-01T00:00:00Z", "advance": -5}, "the clock only moves forward"),
        ({"freeze": "yes"}, "freeze must be true or false"),
        ({"rewind": 5}, "Unknown field(s): rewind"),
    ],
)
def test_a_bad_clock_request_is_a_400_and_changes_nothing(
    hostile: RunningEmulator, body: dict[str, Any], details: str
) -> None:
    before = requests.get(hostile.base_url + "/_sandbox/clock", timeout=30).json()
    response = requests.post(hostile.base_url + "/_sandbox/clock", json=body, timeout=30)
    assert response.status_code == 400, response.text
    assert details in response.json()["errors"][0]["details"]
    after = requests.get(hostile.base_url + "/_sandbox/clock", timeout=30).json()
    assert after["frozen"] == before["frozen"] and abs(after["offset_seconds"] - before["offset_seconds"]) < 5
