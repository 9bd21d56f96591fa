"""One typed settings object: defaults, then a YAML file, then VENDOR_SANDBOX_* variables, then the CLI.

Every source is checked the same way: an unknown key or a value of the wrong kind is a `SettingsError`
naming the key, where it came from and the closest valid key, before any work is done. A misspelt
`admin_token` must not leave the admin API open.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mockserver.resources import shipped_data_or_expected

ENV_PREFIX = "VENDOR_SANDBOX_"

MODES = ("dynamic", "static")
REGIONS = ("na", "eu", "fe")
STORES = ("sqlite", "memory")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
MAX_PORT = 65535

# Variables with the prefix that are read where they are needed, not settings of a server.
ENVIRONMENT_ONLY = {
    "CACHE_DIR": "where parsed contracts are cached (default: the user cache directory)",
    "CONTRACT_CACHE": "0 turns the parsed-contract cache off",
    "REFERENCE": "the project's own tests: where Amazon's official models are",
    "PRISM": "benchmarks: the Prism executable to compare with",
    "TEST_REDIS": "the project's own tests: the Redis server the Redis store's tests use (a URL)",
}


class SettingsError(ValueError):
    """A setting that cannot be used; its message is one line for the user."""


def default_models_dir() -> Path:
    """The one shared place for Amazon's fetched models: the user cache directory."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vendor-sandbox" / "official-models"


@dataclass(frozen=True)
class Settings:
    """The emulator's settings: these defaults, overridden by a config file, the environment and the CLI."""

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".vendor-sandbox")
    store: str = "sqlite"  # sqlite | memory | redis://HOST:PORT/DB
    # SQLite: sync every write to disk (survives a power loss) instead of to the OS (survives a crash)
    fsync: bool = False
    mode: str = "dynamic"
    region: str = "na"
    contracts_dir: Path | None = None  # None: the contracts shipped with the package
    fixtures_dir: Path = field(default_factory=lambda: shipped_data_or_expected("fixtures"))
    # Amazon's official models (static mode); None: default_models_dir(), where `contracts fetch` puts them
    models_dir: Path | None = None
    seed: int = 1
    # Retail Procurement world: purchase orders seeded per account; seconds before a transaction is decided
    seed_size: int = 300
    processing_delay: float = 1.0
    report_processing_time: float = 2.0  # sandbox seconds from createReport to DONE (IN_QUEUE the first half)
    faults_file: Path | None = None  # chaos: a fault plan (YAML/JSON) loaded at start
    # Usage plans
    rate_limits: bool = True
    rate_scale: float = 1.0
    default_rate: float = 10.0  # operations whose contract states no usage plan
    default_burst: int = 10
    # LWA
    token_lifetime: int = 3600
    # Requests
    max_body_bytes: int = 10 * 1024 * 1024
    validate_responses: bool = True
    strict: bool = False  # strict mode: Amazon's requirements beyond the schema (pipeline/strict.py)
    # Journal: at most this many entries and this many bytes of recorded exchanges, oldest dropped first
    journal_size: int = 10_000
    journal_bytes: int = 32 * 1024 * 1024
    # Serving
    workers: int = 1
    threads: int = 1  # Python threads per process: see server.py
    admin_token: str | None = None  # required as a bearer token on /_sandbox/ when set
    snapshots_dir: Path | None = None  # saved worlds (`snapshot save NAME`); None: data_dir/snapshots
    # Where the emulator's own URLs (report documents) point, e.g. http://localhost:8000 behind Docker;
    # None: the address it serves on (or, serving on every interface, the request's Host)
    public_url: str | None = None

    @property
    def snapshot_directory(self) -> Path:
        return self.snapshots_dir if self.snapshots_dir is not None else self.data_dir / "snapshots"

    @property
    def official_models_dir(self) -> Path:
        return self.models_dir if self.models_dir is not None else default_models_dir()

    def with_overrides(self, **overrides: Any) -> Settings:
        """These settings with `overrides` applied (None values skipped); an unknown key is an error."""
        return self.applied(overrides, lambda key: f"setting {key!r}")

    def applied(self, overrides: Mapping[str, Any], name_of: Callable[[str], str]) -> Settings:
        """`with_overrides`, naming each key in errors as `name_of(key)` says (its file, its variable)."""
        clean = {key: value for key, value in overrides.items() if value is not None}
        for key in clean:
            if key not in SETTING_NAMES:
                raise SettingsError(f"unknown {name_of(key)}{_did_you_mean(key, SETTING_NAMES)}")
        return replace(self, **{key: _coerce(key, value, name_of(key)) for key, value in clean.items()})

    def validated(self) -> Settings:
        if self.mode not in MODES:
            raise SettingsError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.region not in REGIONS:
            raise SettingsError(f"region must be one of {', '.join(REGIONS)}, not {self.region!r}")
        if self.store not in STORES and not self.store.startswith(REDIS_SCHEMES):
            raise SettingsError(
                f"store must be one of {', '.join(STORES)} or a Redis URL (redis://HOST:PORT/DB), "
                f"not {self.store!r}"
            )
        if self.store.startswith(REDIS_SCHEMES):
            _check_redis_url(self.store)
        if self.workers > 1 and self.store == "memory":
            raise SettingsError(
                "--workers N needs a store the workers share: sqlite (one host) or a Redis URL, not memory"
            )
        if not 0 <= self.port <= MAX_PORT:
            raise SettingsError(f"port must be from 0 to {MAX_PORT} (0 picks a free one), not {self.port}")
        checks: list[tuple[bool, str]] = [
            (self.seed_size >= 0, "seed size must not be negative"),
            (self.processing_delay >= 0, "processing delay must not be negative"),
            (self.report_processing_time >= 0, "report processing time must not be negative"),
            (self.rate_scale > 0, "rate scale must be positive"),
            (self.default_rate > 0 and self.default_burst > 0, "default rate and burst must be positive"),
            (self.token_lifetime > 0, "token lifetime must be positive"),
            (self.max_body_bytes > 0, "max body bytes must be positive"),
            (self.journal_size > 0, "journal size must be positive"),
            (self.journal_bytes > 0, "journal bytes must be positive"),
            (self.workers >= 1, "workers must be at least 1"),
            (self.threads >= 1, "threads must be at least 1"),
            (self.admin_token != "", "admin token must not be empty (leave it unset for an open admin API)"),
            (
                self.public_url is None or re.fullmatch(r"https?://[^/?#\s]+", self.public_url) is not None,
                "public URL must be a scheme and a host (http://host:port), without a path",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)
        return self


def _check_redis_url(url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
        database = parts.path.strip("/")
    except ValueError as error:
        raise SettingsError(f"store {url!r} is not a usable Redis URL: {error}") from None
    if parts.scheme != "unix" and not parts.hostname:
        raise SettingsError(f"store {url!r} names no Redis host: use redis://HOST:PORT/DB")
    if parts.scheme != "unix" and database and not database.isdigit():
        raise SettingsError(f"store {url!r}: the Redis database must be a number (redis://HOST:PORT/0)")
    del port


SETTING_NAMES = tuple(item.name for item in fields(Settings))
_PATHS = {"data_dir", "contracts_dir", "fixtures_dir", "models_dir", "faults_file", "snapshots_dir"}
_OPTIONAL = {"contracts_dir", "models_dir", "faults_file", "admin_token", "snapshots_dir", "public_url"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _did_you_mean(key: str, candidates: tuple[str, ...], prefix: str = "") -> str:
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    return f" (did you mean {prefix}{close[0]!r}?)" if close else ""


def _coerce(key: str, value: Any, where: str) -> Any:
    """`value` as the type of setting `key`; a value of the wrong kind is a SettingsError naming `where`."""
    default = getattr(_DEFAULTS, key)
    if key in _OPTIONAL and value == "":
        return None
    if key in _PATHS:
        if isinstance(value, str | Path):
            return Path(value).expanduser()
        raise SettingsError(f"{where} must be a path, not {value!r}")
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise SettingsError(f"{where} must be true or false, not {value!r}")
    if isinstance(default, int):
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise SettingsError(f"{where} must be a whole number, not {value!r}")
        try:
            text = str(value).strip()
            if len(text) > 20:
                raise ValueError
            return int(float(text)) if isinstance(value, float) else int(text)
        except (TypeError, ValueError):
            raise SettingsError(f"{where} must be a whole number, not {_short(value)}") from None
    if isinstance(default, float):
        if isinstance(value, bool):
            raise SettingsError(f"{where} must be a number, not {value!r}")
        try:
            number = float(str(value).strip()) if len(str(value)) <= 40 else float("nan")
        except (TypeError, ValueError):
            number = float("nan")
        if number != number or number in (float("inf"), float("-inf")):
            raise SettingsError(f"{where} must be a number, not {_short(value)}")
        return number
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise SettingsError(f"{where} must be text, not {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_DEFAULTS = Settings()


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings of a YAML file (keys with `-` or `_`); a missing or misshapen file is an error."""
    import yaml  # only for a config file: the emulator starts without it

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise SettingsError(f"config file {path} is a directory, not a YAML file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"config file {path} cannot be read: {error}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SettingsError(f"config file {path} is not valid YAML{where}") from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise SettingsError(
            f"config file {path} must hold a mapping of settings, not a {type(document).__name__}"
        )
    return {str(key).replace("-", "_"): value for key, value in document.items()}


def settings_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The VENDOR_SANDBOX_* settings of an environment; an unknown variable is an error."""
    found: dict[str, str] = {}
    names = tuple(ENV_PREFIX + name.upper() for name in SETTING_NAMES)
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        name = variable[len(ENV_PREFIX) :]
        if name in ENVIRONMENT_ONLY:
            continue
        if variable.upper() != variable or name.lower() not in SETTING_NAMES:
            raise SettingsError(
                f"unknown environment variable {variable}"
                f"{_did_you_mean(variable.upper(), names + tuple(ENV_PREFIX + n for n in ENVIRONMENT_ONLY))}"
            )
        found[name.lower()] = value
    return found


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None, **cli: Any
) -> Settings:
    settings = Settings()
    if config_file is not None:
        settings = settings.applied(
            read_config_file(config_file), lambda key: f"setting {key!r} in {config_file}"
        )
    from_env = settings_from_environment(os.environ if environ is None else environ)
    settings = settings.applied(from_env, lambda key: f"{ENV_PREFIX}{key.upper()}")
    return settings.with_overrides(**cli).validated()
