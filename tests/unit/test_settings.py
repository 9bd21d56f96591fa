"""Settings from every source are checked alike: unknown keys and wrong kinds are one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.settings import Settings, SettingsError, default_models_dir, load_settings


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_source_applies_in_order(tmp_path: Path) -> None:
    config = _config(tmp_path, "port: 9001\nrate-scale: 2\nadmin_token: from-file\nstrict: true\n")
    settings = load_settings(
        config, {"VENDOR_SANDBOX_PORT": "9002", "VENDOR_SANDBOX_STRICT": "off"}, port=9003
    )
    assert (settings.port, settings.rate_scale, settings.admin_token, settings.strict) == (
        9003,
        2.0,
        "from-file",
        False,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("admin_tokn: secret\n", "unknown setting 'admin_tokn' in {path} (did you mean 'admin_token'?)"),
        ("rate_scael: 2\n", "unknown setting 'rate_scael' in {path} (did you mean 'rate_scale'?)"),
        ("completely_unrelated: 1\n", "unknown setting 'completely_unrelated' in {path}"),
        ("port: eighty\n", "setting 'port' in {path} must be a whole number, not 'eighty'"),
        ("port: 80.5\n", "setting 'port' in {path} must be a whole number, not 80.5"),
        ("port: true\n", "setting 'port' in {path} must be a whole number, not True"),
        ("strict: perhaps\n", "setting 'strict' in {path} must be true or false, not 'perhaps'"),
        ("rate_scale: .nan\n", "setting 'rate_scale' in {path} must be a number, not nan"),
        ("data_dir: [a, b]\n", "setting 'data_dir' in {path} must be a path, not ['a', 'b']"),
        ("admin_token: {a: 1}\n", "setting 'admin_token' in {path} must be text, not {'a': 1}"),
        ("- port\n", "config file {path} must hold a mapping of settings, not a list"),
        ("port: [\n", "config file {path} is not valid YAML (line 2)"),
    ],
)
def test_a_bad_config_file_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = _config(tmp_path, text)
    with pytest.raises(SettingsError) as raised:
        load_settings(path, {})
    assert str(raised.value) == message.replace("{path}", str(path))


def test_a_config_file_that_does_not_exist_or_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"^config file .*missing\.yaml does not exist$"):
        load_settings(tmp_path / "missing.yaml", {})
    with pytest.raises(SettingsError, match="is a directory"):
        load_settings(tmp_path, {})


def test_an_empty_config_file_changes_nothing(tmp_path: Path) -> None:
    assert load_settings(_config(tmp_path, ""), {}) == load_settings(None, {})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"VENDOR_SANDBOX_ADMN_TOKEN": "x"},
            "unknown environment variable VENDOR_SANDBOX_ADMN_TOKEN "
            "(did you mean 'VENDOR_SANDBOX_ADMIN_TOKEN'?)",
        ),
        ({"VENDOR_SANDBOX_port": "1"}, "unknown environment variable VENDOR_SANDBOX_port"),
        ({"VENDOR_SANDBOX_PORT": "abc"}, "VENDOR_SANDBOX_PORT must be a whole number, not 'abc'"),
        ({"VENDOR_SANDBOX_PORT": "9" * 5000}, "VENDOR_SANDBOX_PORT must be a whole number, not '999"),
        ({"VENDOR_SANDBOX_RATE_SCALE": "inf"}, "VENDOR_SANDBOX_RATE_SCALE must be a number, not 'inf'"),
        ({"VENDOR_SANDBOX_RATE_LIMITS": "sometimes"}, "VENDOR_SANDBOX_RATE_LIMITS must be true or false"),
    ],
)
def test_a_bad_environment_variable_is_refused_naming_it(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(None, environ)
    assert str(raised.value).startswith(message)
    assert len(str(raised.value)) < 200


def test_variables_read_outside_the_settings_are_known() -> None:
    environ = {
        "VENDOR_SANDBOX_CACHE_DIR": "/tmp/x",
        "VENDOR_SANDBOX_CONTRACT_CACHE": "0",
        "VENDOR_SANDBOX_REFERENCE": "/tmp/models",
        "VENDOR_SANDBOX_PRISM": "/usr/bin/prism",
        "OTHER_VARIABLE": "ignored",
    }
    assert load_settings(None, environ) == load_settings(None, {})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"port": 70000}, "port must be from 0 to 65535 (0 picks a free one), not 70000"),
        ({"port": -1}, "port must be from 0 to 65535 (0 picks a free one), not -1"),
        (
            {"store": "postgres"},
            "store must be one of sqlite, memory or a Redis URL (redis://HOST:PORT/DB), not 'postgres'",
        ),
        ({"store": "redis://"}, "store 'redis://' names no Redis host: use redis://HOST:PORT/DB"),
        (
            {"store": "redis://cache:6379/main"},
            "store 'redis://cache:6379/main': the Redis database must be a number (redis://HOST:PORT/0)",
        ),
        (
            {"store": "redis://cache:99999/0"},
            "store 'redis://cache:99999/0' is not a usable Redis URL: Port out of range 0-65535",
        ),
        (
            {"store": "memory", "workers": 2},
            "--workers N needs a store the workers share: sqlite (one host) or a Redis URL, not memory",
        ),
        ({"workers": 0}, "workers must be at least 1"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"journal_bytes": 0}, "journal bytes must be positive"),
        ({"admin_token": ""}, None),  # empty means unset: the admin API stays open, as documented
        ({"report_processing_time": -1}, "report processing time must not be negative"),
        (
            {"public_url": "localhost:8000"},
            "public URL must be a scheme and a host (http://host:port), without a path",
        ),
        (
            {"public_url": "http://localhost:8000/reports"},
            "public URL must be a scheme and a host (http://host:port), without a path",
        ),
    ],
)
def test_values_out_of_range_are_refused(overrides: dict[str, object], message: str | None) -> None:
    if message is None:
        assert load_settings(None, {}, **overrides).admin_token is None
        return
    with pytest.raises(SettingsError) as raised:
        load_settings(None, {}, **overrides)
    assert str(raised.value) == message


def test_a_misspelt_setting_in_code_is_refused_too() -> None:
    """The pytest marker and create_app(**overrides) go through the same check."""
    with pytest.raises(SettingsError, match=r"unknown setting 'strcit' \(did you mean 'strict'\?\)"):
        Settings().with_overrides(strcit=True)


def test_the_shared_models_directory_follows_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_models_dir() == tmp_path / "vendor-sandbox" / "official-models"
    assert Settings().official_models_dir == default_models_dir()
    chosen = load_settings(None, {"VENDOR_SANDBOX_MODELS_DIR": str(tmp_path / "mine")})
    assert chosen.official_models_dir == tmp_path / "mine"


@pytest.mark.parametrize(
    "store",
    ["sqlite", "memory", "redis://127.0.0.1:6379/0", "rediss://user:pw@redis.example:6380/3", "redis://r"],
)
def test_every_kind_of_store_is_accepted(store: str) -> None:
    assert load_settings(None, {}, store=store).store == store


def test_a_redis_password_never_shows_where_the_store_is_named() -> None:
    from mockserver.store.redis.connection import describe_url

    assert describe_url("redis://:secret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert describe_url("redis://user:secret@cache:6379/0") == "redis://user:***@cache:6379/0"
    assert describe_url("redis://cache:6379/0") == "redis://cache:6379/0"
