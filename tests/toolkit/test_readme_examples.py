"""The examples of README's "Test your client" section run as written: pytest ones through the plugin
(loaded by its entry point, as in a user's project), script ones as plain Python."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
_EXAMPLE = re.compile(r"<!-- example:(pytest|script) -->\n```python\n(.*?)```", re.DOTALL)


def _examples(kind: str) -> list[str]:
    return [code for found, code in _EXAMPLE.findall(README.read_text(encoding="utf-8")) if found == kind]


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(README.parent)}


def test_the_readme_has_examples_of_each_kind() -> None:
    assert len(_examples("pytest")) >= 3
    assert _examples("script")


def test_pytest_examples_pass(tmp_path: Path) -> None:
    for index, code in enumerate(_examples("pytest")):
        (tmp_path / f"test_readme_example_{index}.py").write_text(code, encoding="utf-8")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=_environment(),
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    assert "vendor-sandbox conformance" in completed.stdout  # the plugin's session summary


def test_script_examples_run(tmp_path: Path) -> None:
    for code in _examples("script"):
        completed = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env=_environment(),
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
