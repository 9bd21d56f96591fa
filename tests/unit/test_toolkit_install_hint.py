"""A wheel user without the toolkit's extra is told which `pip install` brings it."""

from __future__ import annotations

import subprocess
import sys

HINT = "pip install 'vendor-sandbox[toolkit]'"


def _without(module: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", f"import sys; sys.modules[{module!r}] = None\n{code}"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_strategies_name_the_extra_when_hypothesis_is_missing() -> None:
    result = _without("hypothesis", "import mockserver.testing.strategies")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"ModuleNotFoundError: this part of vendor-sandbox's toolkit needs hypothesis: `{HINT}`"
    )


def test_verify_server_names_the_extra_when_schemathesis_is_missing() -> None:
    result = _without(
        "schemathesis",
        "from mockserver.cli import main\nsys.exit(main(['verify-server', 'http://127.0.0.1:9']))",
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"vendor-sandbox: verify-server needs schemathesis: install the toolkit with `{HINT}`"
    )
