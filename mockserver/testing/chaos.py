"""Chaos in pytest: apply a fault plan within one test and assert on the retry verdict.

Registered by the vendor-sandbox pytest plugin (`plugin.py` lists it in `pytest_plugins`):

```python
THROTTLED = {"rules": [{"operation": "getPurchaseOrders", "first": 2, "action": "quota_exceeded"}]}

@pytest.mark.chaos(plan=THROTTLED, policy={"min_backoff": 0.1})
def test_my_client_backs_off(chaos):
    my_client.list_purchase_orders(base_url=chaos.base_url)   # the test's own emulator (vendor_sandbox)
    chaos.verdict().assert_passed()
```

`chaos` runs on the test's `vendor_sandbox` emulator; `Chaos(base_url)` works on any running emulator. The
plan is a mapping (`rules`, `policy`), a list of rules, or a path to a YAML/JSON plan file; the rules are
removed when the test ends. The verdict judges only the exchanges made after the plan was applied.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

MARKER = "chaos"


class VerdictFailed(AssertionError):
    pass


class ClientVerdict:
    """A per-client report of the admin API (the retry verdict, the drift tolerance report), with assertions.

    Subclasses say what the report is called and how it renders as text."""

    what = "verdict"
    failure = "the client failed the verdict"

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report

    def render(self) -> str:
        raise NotImplementedError

    @property
    def passed(self) -> bool:
        return bool(self.report["passed"])

    @property
    def clients(self) -> list[dict[str, Any]]:
        clients: list[dict[str, Any]] = self.report["clients"]
        return clients

    def client(self, application: str | None = None, user_agent: str | None = None) -> dict[str, Any]:
        for item in self.clients:
            if application not in (None, item["application"]):
                continue
            if user_agent is not None and user_agent not in item["user_agent"]:
                continue
            return item
        raise KeyError(f"no client {application!r} {user_agent!r} in the {self.what}")

    def failed_checks(self, **client: str) -> list[str]:
        chosen = [self.client(**client)] if client else self.clients
        return [check["name"] for item in chosen for check in item["checks"] if not check["passed"]]

    def text(self) -> str:
        return self.render()

    def assert_passed(self) -> None:
        if not self.passed:
            raise VerdictFailed(f"{self.failure}:\n{self.text()}")

    def assert_failed(self, *checks: str, **client: str) -> None:
        """The report (or the named client's part of it) failed, with at least these checks."""
        chosen = self.client(**client) if client else None
        passed = chosen["passed"] if chosen is not None else self.passed
        if passed:
            raise VerdictFailed(f"expected a failing {self.what}:\n{self.text()}")
        missing = set(checks) - set(self.failed_checks(**client))
        if missing:
            raise VerdictFailed(f"expected failed check(s) {sorted(missing)}:\n{self.text()}")


class RetryVerdict(ClientVerdict):
    """The report of `GET /_sandbox/report/retries`, with assertions."""

    what = "verdict"
    failure = "the client's retry logic failed the policy"

    def render(self) -> str:
        from mockserver.chaos.verdict import render_text

        return render_text(self.report)


class Chaos:
    """Fault rules and the retry verdict of one running emulator, through its admin API."""

    def __init__(self, base_url: str, admin_token: str | None = None) -> None:
        import requests

        self.base_url = base_url.rstrip("/")
        self._http = requests.Session()
        if admin_token:
            self._http.headers["Authorization"] = f"Bearer {admin_token}"
        self._after: int | None = None
        self._policy: dict[str, Any] = {}

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self._http.request(
            method, f"{self.base_url}/_sandbox{path}", json=body, params=params or None, timeout=30
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} /_sandbox{path} answered {response.status_code}: {response.text}")
        return response.json()

    def mark(self) -> None:
        """Judge only the exchanges from now on."""
        entries = self._call("GET", "/journal", limit=1)["entries"]
        self._after = entries[-1]["sequence"] if entries else 0

    def apply(self, plan: Any, policy: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Add a plan's rules (a mapping, a list of rules or a plan file) and start judging from now."""
        if isinstance(plan, str | Path):
            from mockserver.chaos.plan import load_plan

            loaded = load_plan(Path(plan))
            plan = {"rules": loaded.rules, "policy": loaded.policy}
        if isinstance(plan, dict) and plan.get("policy"):
            self._policy = dict(plan["policy"])
        if policy:
            self._policy.update(policy)
        self.mark()
        added: list[dict[str, Any]] = self._call("POST", "/faults", plan)["added"]
        return added

    def add(self, **rule: Any) -> dict[str, Any]:
        added: dict[str, Any] = self._call("POST", "/faults", rule)["added"][0]
        return added

    def rules(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self._call("GET", "/faults")["rules"]
        return rules

    def clear(self) -> None:
        self._call("DELETE", "/faults")

    def journal(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._call("GET", "/journal", limit=0)["entries"]
        return [entry for entry in entries if self._after is None or entry["sequence"] > self._after]

    def verdict(self, **policy: Any) -> RetryVerdict:
        params = {
            name: json.dumps(value) if isinstance(value, bool) else value
            for name, value in {**self._policy, **policy}.items()
        }
        if self._after is not None:
            params["after"] = self._after
        return RetryVerdict(self._call("GET", "/report/retries", **params))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Chaos:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(plan=None, policy=None): apply this fault plan to the test's emulator (fixture `chaos`)",
    )


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> Iterator[Chaos]:
    """Fault injection on the test's `vendor_sandbox` emulator; `@pytest.mark.chaos(plan=..., policy=...)`."""
    sandbox = request.getfixturevalue("vendor_sandbox")
    control = Chaos(sandbox.base_url)
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        plan = marker.kwargs.get("plan", marker.args[0] if marker.args else None)
        if plan is not None:
            control.apply(plan, marker.kwargs.get("policy"))
        elif marker.kwargs.get("policy"):
            control._policy = dict(marker.kwargs["policy"])
    if control._after is None:
        control.mark()
    try:
        yield control
    finally:
        control.clear()
        control.close()


__all__ = ["Chaos", "RetryVerdict", "VerdictFailed", "chaos"]
