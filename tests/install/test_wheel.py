"""The product is the wheel: built from the tracked sources, installed into a fresh virtual environment and
run from a directory with no source tree beside it.

One wheel (and one source distribution) is built per module; every test then uses the installed program only.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

REPOSITORY = Path(__file__).resolve().parents[2]
CONTRACT_FILES = sorted(path.name for path in (REPOSITORY / "contracts").glob("*.yaml"))


@dataclass(frozen=True)
class Installed:
    wheel: Path
    sdist: Path
    venv: Path
    elsewhere: Path  # a working directory with no source tree in or above it

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    @property
    def program(self) -> str:
        return str(self.venv / "bin" / "vendor-sandbox")

    def run(self, *arguments: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.program, *arguments],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.elsewhere,
            env=_clean_environment(),
        )


def _clean_environment() -> dict[str, str]:
    """The test run's environment without what points at the checkout."""
    return {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "PYTHONHOME"}}


def _docker_ignored(name: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `name` out of the build context (the forms the file uses)."""
    parts = name.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatchcase(part, pattern[3:]) for part in parts):
                return True
        elif any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            return True
    return False


def _docker_context(target: Path) -> Path:
    """What a clone has (tracked and new, unignored files) less what .dockerignore leaves out: the sources the
    image is built from. Building from a copy also leaves the checkout untouched."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        capture_output=True,
        check=True,
        cwd=REPOSITORY,
    ).stdout.decode()
    ignore = (REPOSITORY / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [line.strip() for line in ignore if line.strip() and not line.startswith("#")]
    for name in filter(None, listed.split("\0")):
        source = REPOSITORY / name
        if source.is_file() and not _docker_ignored(name, patterns):
            destination = target / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def _pip(python: str, *arguments: str, cwd: Path) -> None:
    result = subprocess.run(
        [python, "-m", "pip", "--disable-pip-version-check", *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=cwd,
        env=_clean_environment(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    scratch = tmp_path_factory.mktemp("wheel")
    sources = _docker_context(scratch / "src")
    assert not (sources / "tests").exists() and (sources / "contracts").is_dir()
    dist = scratch / "dist"
    # The build tools come from the test extra (setuptools, wheel, build): no download, no isolation.
    result = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(sources)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=scratch,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    wheel = next(dist.glob("vendor_sandbox-*.whl"))
    sdist = next(dist.glob("vendor_sandbox-*.tar.gz"))
    venv = scratch / "venv"
    # A fresh environment: the package from the wheel only; its dependencies may come from the machine's.
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    _pip(str(venv / "bin" / "python"), "install", "--no-build-isolation", str(wheel), cwd=scratch)
    elsewhere = scratch / "elsewhere"
    elsewhere.mkdir()
    return Installed(wheel=wheel, sdist=sdist, venv=venv, elsewhere=elsewhere)


def test_the_wheel_carries_the_contracts_and_fixtures_and_nothing_of_the_tests(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    assert (
        sorted(
            name.removeprefix("mockserver/data/contracts/")
            for name in names
            if name.startswith("mockserver/data/contracts/") and name.endswith(".yaml")
        )
        == CONTRACT_FILES
    )
    assert "mockserver/data/fixtures/accounts.yaml" in names
    assert "mockserver/data/fixtures/plans/drift.yaml" in names  # `serve --faults drift` from a wheel
    # The inspector's templates and script are package data.
    assert {"mockserver/inspector/templates/base.html", "mockserver/inspector/static/inspector.js"} <= set(
        names
    )
    assert not [name for name in names if name.startswith(("tests/", "bench/", "contracts/", "fixtures/"))]


def test_the_source_distribution_carries_the_data_the_build_copies(installed: Installed) -> None:
    import tarfile

    with tarfile.open(installed.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {f"contracts/{name}" for name in CONTRACT_FILES} <= names
    assert {"fixtures/accounts.yaml", "setup.py", "pyproject.toml"} <= names


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installed) -> None:
    result = subprocess.run(
        [installed.python, "-c", "import mockserver.resources as r; print(r.contracts_dir())"],
        capture_output=True,
        text=True,
        cwd=installed.elsewhere,
        env=_clean_environment(),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(installed.venv)


def test_version_accounts_and_coverage_run_from_anywhere(installed: Installed) -> None:
    assert installed.run("--version").stdout.strip() == "vendor-sandbox 0.1.0"
    accounts = json.loads(installed.run("accounts", "--json").stdout)
    assert {item["name"] for item in accounts} >= {"acme-na", "nordwind-eu", "globex-readonly"}
    coverage = installed.run("coverage")
    assert coverage.returncode == 0, coverage.stderr
    assert len(json.loads(coverage.stdout)) == 52


def test_contracts_diff_runs_from_anywhere(installed: Installed) -> None:
    from tests.reference import reference_models_dir

    result = installed.run("contracts", "diff", "--against", str(reference_models_dir()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith(f"and {reference_models_dir()}")
    assert result.stdout.startswith("0 difference(s)")


@pytest.fixture
def served(installed: Installed) -> Iterator[str]:
    with subprocess.Popen(
        [installed.program, "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=installed.elsewhere,
        env=_clean_environment(),
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.search(r"serving at (http://127\.0\.0\.1:\d+)", line)
            assert match, line + (process.stderr.read() if process.stderr else "")
            yield match.group(1)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0


def test_serve_gets_a_token_and_answers_a_call(installed: Installed, served: str) -> None:
    account = next(
        item for item in json.loads(installed.run("accounts", "--json").stdout) if item["name"] == "acme-na"
    )
    token = requests.post(
        f"{served}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": account["refresh_token"],
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
        timeout=30,
    ).json()["access_token"]
    response = requests.get(
        f"{served}/vendor/orders/v1/purchaseOrders",
        params={"limit": 2},
        headers={"x-amz-access-token": token},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["payload"]["orders"]) == 2
    # The default data directory is beside where it was started, not beside the package.
    assert (installed.elsewhere / ".vendor-sandbox" / "state.sqlite3").is_file()
    # The inspector and the metrics come with the wheel.
    page = requests.get(f"{served}/_sandbox/ui/", timeout=30)
    assert page.status_code == 200 and "inspector.js" in page.text
    assert requests.get(f"{served}/_sandbox/ui/static/inspector.js", timeout=30).status_code == 200
    metrics = requests.get(f"{served}/metrics", timeout=30).text
    assert 'vendor_sandbox_requests_total{answered_by="stateful"' in metrics


def test_the_pytest_plugins_in_process_mode_runs_from_anywhere(installed: Installed) -> None:
    test_file = installed.elsewhere / "test_my_client.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import requests


            def test_in_process(sp_api_mock):
                credentials = sp_api_mock.credentials("acme-na")
                token = requests.post(
                    "https://api.amazon.com/auth/o2/token",
                    data={
                        "grant_type": "refresh_token",
                        "refresh_token": credentials["refresh_token"],
                        "client_id": credentials["client_id"],
                        "client_secret": credentials["client_secret"],
                    },
                ).json()["access_token"]
                response = requests.get(
                    "https://sellingpartnerapi-na.amazon.com/vendor/orders/v1/purchaseOrders",
                    params={"limit": 1},
                    headers={"x-amz-access-token": token},
                )
                assert response.status_code == 200, response.text
            """
        ),
        encoding="utf-8",
    )
    result = subprocess.run(
        [installed.python, "-m", "pytest", "-p", "no:cacheprovider", "-q", test_file.name],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=installed.elsewhere,
        env=_clean_environment(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_image_installs_the_wheel_as_an_unprivileged_user_with_a_healthcheck() -> None:
    """No Docker engine here: the Dockerfile's promises are read from it (the build itself is the wheel build
    above, from the same context), and the healthcheck command is tested against a served emulator with an
    admin token in tests/server/test_cli.py."""
    dockerfile = (REPOSITORY / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line.split(None, 1) for line in dockerfile.splitlines() if line and not line[0].isspace()]
    runs = [parts[1] for parts in instructions if parts[0] == "RUN"]
    assert any("python -m build --wheel" in run for run in runs)
    assert any("pip install --no-cache-dir /tmp/dist/*.whl" in run for run in runs)
    assert not any(" -e " in run or "--editable" in run for run in runs)
    users = [parts[1] for parts in instructions if parts[0] == "USER"]
    assert users and users[-1] not in {"root", "0"}
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK") :]
    assert "--start-period=" in healthcheck.split("CMD")[0]
    assert '"vendor-sandbox", "health"' in healthcheck
    compose = (REPOSITORY / "docker-compose.yml").read_text(encoding="utf-8")
    assert "start_period:" in compose and '"vendor-sandbox", "health"' in compose


def test_the_compose_file_runs_workers_on_redis_with_a_healthcheck_and_persistence() -> None:
    """No Docker engine here: the compose file's promises are read from it; the Redis options it gives are
    the ones the Redis restart test runs Redis with (tests/redis_support.py reads them from the file)."""
    compose = yaml.safe_load((REPOSITORY / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    emulator = services["vendor-sandbox"]
    command = [str(item) for item in emulator["command"]]
    assert command[:2] == ["vendor-sandbox", "serve"]
    options = dict(zip(command[2::2], command[3::2], strict=True))
    assert options["--store"] == "redis://redis:6379/0"
    assert int(options["--workers"]) >= 2
    assert options["--host"] == "0.0.0.0" and options["--port"] == "8000"
    assert emulator["depends_on"]["redis"]["condition"] == "service_healthy"
    assert emulator["healthcheck"]["test"][:3] == ["CMD", "vendor-sandbox", "health"]
    assert "start_period" in emulator["healthcheck"]
    redis = services["redis"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    persistence = dict(zip(redis["command"][1::2], redis["command"][2::2], strict=True))
    assert persistence["--appendonly"] == "yes" and persistence["--appendfsync"] in ("everysec", "always")
    assert any(volume.endswith(":/data") for volume in redis["volumes"])
