"""The pytest plugin (entry point `pytest11: vendor_sandbox`): fixtures for testing an SP-API client.

- `vendor_sandbox`: a real emulator on 127.0.0.1, fresh for each test (`VendorSandbox`).
- `vendor_sandbox_session`: one emulator for the whole session (state shared; `reset()` it where needed).
- `sp_api_mock`: in-process mode: `requests`/`httpx` calls to Amazon's hosts are answered by an emulator in
  the test process, without a socket (`SpApiMock`).
- `--vendor-sandbox-inprocess`: in-process mode for every test of the session, so that an existing test
  suite written for Amazon's sandbox runs unchanged, offline (static cases from the shared models directory).

Settings of a test's emulator come from the marker `@pytest.mark.vendor_sandbox(strict=True, ...)` (any
emulator setting, and `snapshot="name"`: the test starts from that saved world, found in `snapshots_dir`);
`--vendor-sandbox-strict` turns strict mode on for every emulator of the session. At the
end of the session the conformance report of every emulator the fixtures started is summed up in the
terminal summary (`--vendor-sandbox-report FILE` writes it as JSON, `--vendor-sandbox-junit FILE` as JUnit).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mockserver.testing.inprocess import SpApiMock
    from mockserver.testing.served import VendorSandbox

MARKER = "vendor_sandbox"
SNAPSHOT_OPTION = "snapshot"  # a marker option that is no setting: the saved world the test starts from
# Chaos (issue 5) and drift (issue 15): the `chaos` and `drift` fixtures and markers, in their own modules.
pytest_plugins = ["mockserver.testing.chaos", "mockserver.testing.drift"]
_REPORTS = pytest.StashKey[list[dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vendor-sandbox", "vendor-sandbox (SP-API Vendor emulator)")
    group.addoption(
        "--vendor-sandbox-strict",
        action="store_true",
        default=False,
        help="strict mode for every emulator the fixtures start",
    )
    group.addoption(
        "--vendor-sandbox-inprocess",
        action="store_true",
        default=False,
        help="every test's calls to Amazon's hosts answered in-process (an existing suite, unchanged)",
    )
    group.addoption("--vendor-sandbox-report", metavar="FILE", help="write the conformance report (JSON)")
    group.addoption("--vendor-sandbox-junit", metavar="FILE", help="write the conformance report (JUnit XML)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): settings of this test's emulator, e.g. strict=True, rate_limits=False",
    )
    config.stash[_REPORTS] = []


def _settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if request.config.getoption("--vendor-sandbox-strict"):
        settings["strict"] = True
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None:
        settings.update(marker.kwargs)
    return settings


def _keep_report(config: pytest.Config, report: dict[str, Any]) -> None:
    if report["calls"]:
        config.stash[_REPORTS].append(report)


@pytest.fixture
def vendor_sandbox(request: pytest.FixtureRequest) -> Iterator[VendorSandbox]:
    """A running emulator on 127.0.0.1, fresh for this test: base_url, accounts, session(), admin helpers."""
    from mockserver.testing.served import VendorSandbox

    settings = _settings(request)
    snapshot = settings.pop(SNAPSHOT_OPTION, None)
    sandbox = VendorSandbox(**settings)
    try:
        if snapshot is not None:
            sandbox.admin.restore_snapshot(str(snapshot))
        yield sandbox
        _keep_report(request.config, sandbox.conformance())
    finally:
        sandbox.stop()


@pytest.fixture(scope="session")
def vendor_sandbox_session(request: pytest.FixtureRequest) -> Iterator[VendorSandbox]:
    """One running emulator for the whole session (strict with `--vendor-sandbox-strict`)."""
    from mockserver.testing.served import VendorSandbox

    settings: dict[str, Any] = {"strict": True} if request.config.getoption("--vendor-sandbox-strict") else {}
    sandbox = VendorSandbox(**settings)
    try:
        yield sandbox
        _keep_report(request.config, sandbox.conformance())
    finally:
        sandbox.stop()


@pytest.fixture(scope="session", autouse=True)
def _vendor_sandbox_inprocess_session(request: pytest.FixtureRequest) -> Iterator[SpApiMock | None]:
    """With `--vendor-sandbox-inprocess`: one in-process emulator answering Amazon's hosts for every test."""
    if not request.config.getoption("--vendor-sandbox-inprocess"):
        yield None
        return
    from mockserver.testing.inprocess import SpApiMock

    settings: dict[str, Any] = {"strict": True} if request.config.getoption("--vendor-sandbox-strict") else {}
    mock = SpApiMock(**settings)
    with mock:
        yield mock
        _keep_report(request.config, mock.conformance())


@pytest.fixture
def sp_api_mock(request: pytest.FixtureRequest) -> Iterator[SpApiMock]:
    """Amazon's hosts answered in-process for this test; existing `requests`/`httpx` client code unchanged."""
    from mockserver.testing.inprocess import SpApiMock

    settings = _settings(request)
    snapshot = settings.pop(SNAPSHOT_OPTION, None)
    mock = SpApiMock(**settings)
    with mock:
        if snapshot is not None:
            mock.admin.restore_snapshot(str(snapshot))
        yield mock
        _keep_report(request.config, mock.conformance())


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    reports = config.stash.get(_REPORTS, [])
    if not reports:
        return
    from mockserver.conformance import junit_xml, merge_reports, render_text

    report = merge_reports(reports)
    terminalreporter.section("vendor-sandbox conformance")
    terminalreporter.write_line(
        render_text(report) if report["violation_count"] else render_text(report).split("\n")[0]
    )
    json_path = config.getoption("--vendor-sandbox-report")
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2), encoding="utf-8")
    junit_path = config.getoption("--vendor-sandbox-junit")
    if junit_path:
        Path(junit_path).write_text(junit_xml(report), encoding="utf-8")
