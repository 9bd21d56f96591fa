"""`vendor-sandbox contracts fetch`: download Amazon's official models for static mode.

The models are Amazon's (Apache-2.0) and are fetched onto the user's machine on request; the project ships
none of them.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path, PurePosixPath

DEFAULT_MODELS_URL = "https://github.com/amzn/selling-partner-api-models/archive/refs/heads/main.zip"
# The APIs vendor-sandbox serves: the Vendor models plus Reports and Tokens.
_WANTED_MODEL_DIRS = ("vendor-", "reports-api-model", "tokens-api-model")


class FetchError(RuntimeError):
    pass


def _wanted(member: str) -> PurePosixPath | None:
    parts = PurePosixPath(member).parts
    if "models" not in parts:
        return None
    relative = PurePosixPath(*parts[parts.index("models") + 1 :])
    if len(relative.parts) < 2 or relative.suffix != ".json":
        return None
    if not relative.parts[0].startswith(_WANTED_MODEL_DIRS):
        return None
    if ".." in relative.parts:
        return None
    return relative


def fetch_official_models(url: str, target: Path, timeout: float = 60.0) -> list[Path]:
    import requests  # only this command needs an HTTP client; keep it off the start-up path

    try:
        response = requests.get(url, timeout=timeout)
        response.raise_for_status()
    except requests.RequestException as error:
        raise FetchError(f"could not download the official models from {url}: {error}") from error
    try:
        archive = zipfile.ZipFile(io.BytesIO(response.content))
    except zipfile.BadZipFile as error:
        raise FetchError(f"{url} did not answer a zip archive") from error
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    written = []
    for member in archive.namelist():
        relative = _wanted(member)
        if relative is None:
            continue
        destination = staging / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(archive.read(member))
        written.append(target / relative)
    if not written:
        shutil.rmtree(staging, ignore_errors=True)
        raise FetchError(f"{url}: the archive holds no models/ folder with Vendor, Reports or Tokens models")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return written
