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

from mockserver.testing.chaos import Chaos, ClientVerdict

MARKER = "drift"
SHIPPED_PLAN = "drift"


class ToleranceVerdict(ClientVerdict):
    """The report of `GET /_sandbox/report/tolerance`, with assertions."""

    what = "tolerance verdict"
    failure = "the client did not tolerate the drift"

    def render(self) -> str:
        from mockserver.chaos.tolerance import render_text

        return render_text(self.report)


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
