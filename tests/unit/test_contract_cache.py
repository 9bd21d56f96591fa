"""The parsed-contract cache speeds start-up and never serves a stale contract."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mockserver.contracts.loader import ANY_VALUE, load_operations
from mockserver.contracts.registry import DEFAULT_CONTRACTS
from tests.reference import reference_models_dir


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("VENDOR_SANDBOX_CACHE_DIR", str(directory))
    return directory


def test_second_load_comes_from_the_cache_and_equals_the_first(cache_dir: Path) -> None:
    first = load_operations(DEFAULT_CONTRACTS)
    assert len(list(cache_dir.glob("contracts-*.pickle"))) == 1
    second = load_operations(DEFAULT_CONTRACTS)
    assert [(o.method, o.path, o.parameters, o.responses) for o in first] == [
        (o.method, o.path, o.parameters, o.responses) for o in second
    ]


def test_editing_a_contract_invalidates_the_cache(cache_dir: Path, tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    shutil.copytree(DEFAULT_CONTRACTS, contracts)
    before = {o.operation_id for o in load_operations(contracts)}
    path = contracts / "tokens-2021-03-01.yaml"
    text = path.read_text().replace("operationId: createRestrictedDataToken", "operationId: renamed")
    path.write_text(text)
    after = {o.operation_id for o in load_operations(contracts)}
    assert "createRestrictedDataToken" in before
    assert "renamed" in after and "createRestrictedDataToken" not in after


def test_catch_all_marker_keeps_its_identity_through_the_cache(cache_dir: Path) -> None:
    models = reference_models_dir()
    load_operations(models)
    cached = load_operations(models)
    markers = [
        value
        for operation in cached
        for case in operation.static_cases
        for value in case.parameters.values()
        if repr(value) == "<any>"
    ]
    assert markers
    assert all(marker is ANY_VALUE for marker in markers)


def test_cache_can_be_switched_off(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VENDOR_SANDBOX_CONTRACT_CACHE", "0")
    load_operations(DEFAULT_CONTRACTS)
    assert not cache_dir.exists()


def test_an_unwritable_cache_directory_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("VENDOR_SANDBOX_CACHE_DIR", str(blocker / "cache"))
    assert len(load_operations(DEFAULT_CONTRACTS)) == 52


def test_a_corrupt_cache_file_is_ignored(cache_dir: Path) -> None:
    load_operations(DEFAULT_CONTRACTS)
    for path in cache_dir.glob("contracts-*.pickle"):
        path.write_bytes(b"garbage")
    assert len(load_operations(DEFAULT_CONTRACTS)) == 52
