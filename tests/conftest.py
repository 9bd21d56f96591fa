"""Shared fixtures: a real emulator on 127.0.0.1, served by waitress in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # The parsed-contract cache goes to a scratch directory, not the user's ~/.cache.
    import os
    import tempfile

    os.environ.setdefault("VENDOR_SANDBOX_CACHE_DIR", tempfile.mkdtemp(prefix="vendor-sandbox-cache-"))
    # Amazon's models fetched on this machine must not change what the tests see: none unless a test says so.
    scratch = os.environ["VENDOR_SANDBOX_CACHE_DIR"]
    os.environ["VENDOR_SANDBOX_MODELS_DIR"] = os.path.join(scratch, "no-models")


if TYPE_CHECKING:
    from mockserver.testing.server import RunningEmulator


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEmulator]:
    """One emulator for the session, with rates scaled up so ordinary tests are never throttled."""
    from mockserver.testing.server import start_emulator

    running = start_emulator(data_dir=tmp_path_factory.mktemp("emulator"), store="memory", rate_scale=1000.0)
    yield running
    running.stop()


@pytest.fixture
def fresh_emulator(tmp_path: Path) -> Iterator[RunningEmulator]:
    """An emulator of its own, at Amazon's real rates, for tests that meter or change state."""
    from mockserver.testing.server import start_emulator

    running = start_emulator(data_dir=tmp_path / "data", store="sqlite")
    yield running
    running.stop()
