"""Where the tests find Amazon's official models (the reference copy beside the repository).

Plain functions, no fixtures, so any test module can import them:

    from tests.reference import reference_models_dir

    MODELS = reference_models_dir()  # skips the calling test (or module, at import) when absent

The copy lives outside the repository (it is never copied into it): `$VENDOR_SANDBOX_REFERENCE` when set (a
relative value is taken from the repository root), else `../shared/reference/sp-api-models` from the
repository root. Where it is absent the tests that need it are skipped with a message saying so - except
under CI (`$CI` set, to any value), where its absence is a failure rather than a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_ENV = "VENDOR_SANDBOX_REFERENCE"
DEFAULT_REFERENCE = Path("..") / "shared" / "reference" / "sp-api-models"


def reference_root() -> Path:
    """The reference copy's root directory (holding `models/`), whether or not it exists."""
    configured = os.environ.get(REFERENCE_ENV)
    path = Path(configured).expanduser() if configured else DEFAULT_REFERENCE
    return path if path.is_absolute() else (REPOSITORY_ROOT / path).resolve()


def find_reference_models() -> Path | None:
    """The `models/` folder of Amazon's official models, or None where it is absent (never skips)."""
    models = reference_root() / "models"
    if models.is_dir() and any(models.rglob("*.json")):
        return models
    return None


def reference_models_dir() -> Path:
    """The `models/` folder of Amazon's official models; skips (fails under CI) when it is not there.

    Call it from a test (skips that test) or at module level (skips the module).
    """
    models = find_reference_models()
    if models is not None:
        return models
    message = (
        f"Amazon's official SP-API models not found at {reference_root() / 'models'}: set {REFERENCE_ENV} "
        "to a copy of amzn/selling-partner-api-models (the folder holding models/) to run the tests that "
        "need them"
    )
    if "CI" in os.environ:
        pytest.fail(f"{message} (required under CI)", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def reference_report_schemas_dir() -> Path:
    """The `schemas/reports/` folder of the reference copy (Amazon's JSON schemas of the report documents);
    skips (fails under CI) when it is not there, as `reference_models_dir` does."""
    folder = reference_root() / "schemas" / "reports"
    if folder.is_dir() and any(folder.glob("*.json")):
        return folder
    message = (
        f"Amazon's report document schemas not found at {folder}: set {REFERENCE_ENV} to a copy of "
        "amzn/selling-partner-api-models (the folder holding schemas/) to run the tests that need them"
    )
    if "CI" in os.environ:
        pytest.fail(f"{message} (required under CI)", pytrace=False)
    pytest.skip(message, allow_module_level=True)
