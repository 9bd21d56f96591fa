"""A real Chromium for the inspector's browser tests: Debian's /usr/bin/chromium driven by Playwright (the
PyPI package; no browser download). Screenshots go to build/artifacts/inspector/ (INSPECTOR_SCREENSHOTS
elsewhere), kept by CI as artifacts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPOSITORY = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(
    os.environ.get("INSPECTOR_SCREENSHOTS") or REPOSITORY / "build" / "artifacts" / "inspector"
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser tests (.ci/run installs chromium and playwright)")
    pytest.skip(f"{reason}; install Debian's chromium and `pip install playwright` to run the browser tests")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per module: Playwright's synchronous API runs an event loop on this thread while it is
    open, which later tests calling asyncio.run must not find."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGUMENTS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Any:
    """`screenshot(page, "name")` saves build/artifacts/inspector/<test>-<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take
