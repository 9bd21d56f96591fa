"""Drift in pytest: rehearse an API change within one test and assert on the tolerance verdict.

Registered by the vendor-sandbox pytest plugin (`plugin.py` lists it in `pytest_plugins`):

```python
@pytest.mark.drift()                        # the drift plan shipped in fixtures/plans/drift.yaml
def test_my_client_survives_an_api_change(drift):
    my_client.run_the_order_flow(base_url=drift.base_url)   # the test's own emulator (vendor_sandbox)
    drift.tolerance(expect=["submitAcknowledgement"]).assert_passed()
    drift.verdict().assert_passed()          # the retry verdict, beside it
```

`@pytest.mark.drift(plan=..., policy=..., tolerance=...)` takes a plan (a mapping, a list of rules, a plan
file or the name of a shipped plan; default `drift`), the retry policy and the tolerance policy. `drift` is a
`Chaos` (fault rules, journal, retry verdict) with `tolerance()`; it runs on the test's `vendor_sandbox`
emulator, judges only the exchanges made after the plan was applied, and removes the rules when the test ends.
`DriftControl(base_url)` does the same on any running emulator.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver.testing.chaos import Chaos, VerdictFailed

MARKER = "drift"
SHIPPED_PLAN = "drift"


class ToleranceVerdict:
    """The report of `GET /_sandbox/report/tolerance`, with assertions."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report

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
        raise KeyError(f"no client {application!r} {user_agent!r} in the tolerance report")

    def failed_checks(self, **client: str) -> list[str]:
        chosen = [self.client(**client)] if client else self.clients
        return [check["name"] for item in chosen for check in item["checks"] if not check["passed"]]

    def text(self) -> str:
        from mockserver.chaos.tolerance import render_text

        return render_text(self.report)

    def assert_passed(self) -> None:
        if not self.passed:
            raise VerdictFailed(f"the client did not tolerate the drift:\n{self.text()}")

    def assert_failed(self, *checks: str, **client: str) -> None:
        chosen = self.client(**client) if client else None
        passed = chosen["passed"] if chosen is not None else self.passed
        if passed:
            raise VerdictFailed(f"expected a failing tolerance verdict:\n{self.text()}")
        missing = set(checks) - set(self.failed_checks(**client))
        if missing:
            raise VerdictFailed(f"expected failed check(s) {sorted(missing)}:\n{self.text()}")


def _plans_dir() -> Path:
    from mockserver.settings import Settings

    return Settings().fixtures_dir / "plans"


class DriftControl(Chaos):
    """Fault rules, the retry verdict and the tolerance report of one running emulator."""

    def __init__(self, base_url: str, admin_token: str | None = None) -> None:
        super().__init__(base_url, admin_token)
        self._tolerance: dict[str, Any] = {}

    def apply(
        self,
        plan: Any = SHIPPED_PLAN,
        policy: dict[str, Any] | None = None,
        tolerance: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Add a plan's rules (default: the shipped drift plan) and start judging from now."""
        if isinstance(plan, str | Path):
            from mockserver.chaos.plan import resolve_plan

            plan = resolve_plan(plan, _plans_dir())
        if tolerance:
            self._tolerance.update(tolerance)
        return super().apply(plan, policy)

    def tolerance(self, **policy: Any) -> ToleranceVerdict:
        params: dict[str, Any] = {}
        for name, value in {**self._tolerance, **policy}.items():
            if isinstance(value, bool):
                params[name] = json.dumps(value)
            elif isinstance(value, list | tuple):
                params[name] = ",".join(value)
            else:
                params[name] = value
        if self._after is not None:
            params["after"] = self._after
        return ToleranceVerdict(self._call("GET", "/report/tolerance", **params))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(plan='drift', policy=None, tolerance=None): apply this drift plan to the test's emulator "
        "(fixture `drift`)",
    )


@pytest.fixture
def drift(request: pytest.FixtureRequest) -> Iterator[DriftControl]:
    """Drift on the test's `vendor_sandbox` emulator; `@pytest.mark.drift(plan=..., tolerance=...)`."""
    sandbox = request.getfixturevalue("vendor_sandbox")
    control = DriftControl(sandbox.base_url)
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        plan = marker.kwargs.get("plan", marker.args[0] if marker.args else SHIPPED_PLAN)
        control.apply(plan, marker.kwargs.get("policy"), marker.kwargs.get("tolerance"))
    else:
        control.mark()
    try:
        yield control
    finally:
        control.clear()
        control.close()


__all__ = ["DriftControl", "ToleranceVerdict", "drift"]
