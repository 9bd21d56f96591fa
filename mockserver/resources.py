"""Where the data shipped with the program is: contracts and fixtures, found through importlib.resources.

A wheel carries them inside the package (`mockserver/data/`, copied there at build time from the repository's
top-level `contracts/` and `fixtures/`, the one source); an editable install or a source checkout has no copy
and reads those folders themselves.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE = "mockserver"


class MissingDataError(FileNotFoundError):
    pass


def shipped_data(name: str) -> Path:
    """The directory of shipped data called `name` (`contracts` or `fixtures`)."""
    shipped = files(PACKAGE) / "data" / name
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    package_dir = Path(str(files(PACKAGE)))
    checkout = package_dir.parent
    # Only a checkout of this project (its pyproject beside the package), never some other `contracts`
    # or `fixtures` folder that happens to sit beside an installed package.
    if _is_this_project(checkout) and (checkout / name).is_dir():
        return checkout / name
    raise MissingDataError(
        f"vendor-sandbox's {name}/ is missing from its installation ({package_dir}): reinstall the package "
        "(`pip install --force-reinstall vendor-sandbox`)"
    )


def _is_this_project(directory: Path) -> bool:
    try:
        return 'name = "vendor-sandbox"' in (directory / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return False


def shipped_data_or_expected(name: str) -> Path:
    """`shipped_data(name)`, or where it should have been: for defaults computed at import time, whose use
    later fails with a message naming that path rather than failing every import."""
    try:
        return shipped_data(name)
    except MissingDataError:
        return Path(str(files(PACKAGE))) / "data" / name


def contracts_dir() -> Path:
    return shipped_data("contracts")


def fixtures_dir() -> Path:
    return shipped_data("fixtures")
