"""One typed settings object: defaults, then a YAML file, then VENDOR_SANDBOX_* variables, then the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
ENV_PREFIX = "VENDOR_SANDBOX_"

MODES = ("dynamic", "static")
REGIONS = ("na", "eu", "fe")
STORES = ("sqlite", "memory")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".vendor-sandbox")
    store: str = "sqlite"
    mode: str = "dynamic"
    region: str = "na"
    contracts_dir: Path | None = None  # None: the bundled contracts/
    fixtures_dir: Path = PROJECT_ROOT / "fixtures"
    seed: int = 1
    # Retail Procurement world: purchase orders seeded per account; seconds before a transaction is decided
    seed_size: int = 300
    processing_delay: float = 1.0
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
    # Journal
    journal_size: int = 10_000
    # Serving
    workers: int = 1
    threads: int = 8
    extra: dict[str, Any] = field(default_factory=dict)

    def with_overrides(self, **overrides: Any) -> Settings:
        known = {f.name for f in fields(self)}
        clean = {key: value for key, value in overrides.items() if key in known and value is not None}
        return replace(self, **{key: _coerce(self, key, value) for key, value in clean.items()})

    def validated(self) -> Settings:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.region not in REGIONS:
            raise ValueError(f"region must be one of {', '.join(REGIONS)}, not {self.region!r}")
        if self.store not in STORES:
            raise ValueError(f"store must be one of {', '.join(STORES)}, not {self.store!r}")
        if self.seed_size < 0:
            raise ValueError("seed size must not be negative")
        if self.processing_delay < 0:
            raise ValueError("processing delay must not be negative")
        if self.rate_scale <= 0:
            raise ValueError("rate scale must be positive")
        if self.token_lifetime <= 0:
            raise ValueError("token lifetime must be positive")
        return self


def _coerce(settings: Settings, key: str, value: Any) -> Any:
    current = getattr(settings, key)
    if key in ("contracts_dir", "faults_file"):
        return Path(value) if value not in ("", None) else None
    if isinstance(current, bool):
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes", "on"}
        return bool(value)
    if isinstance(current, Path):
        return Path(value)
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    return value


def load_settings(
    config_file: Path | None = None, environ: dict[str, str] | None = None, **cli: Any
) -> Settings:
    settings = Settings()
    if config_file is not None:
        document = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        settings = settings.with_overrides(
            **{key.replace("-", "_"): value for key, value in document.items()}
        )
    environ = dict(os.environ if environ is None else environ)
    from_env = {
        key[len(ENV_PREFIX) :].lower(): value for key, value in environ.items() if key.startswith(ENV_PREFIX)
    }
    settings = settings.with_overrides(**from_env)
    return settings.with_overrides(**cli).validated()
