"""The outer interface other tools rely on: `vendor-sandbox serve | accounts | contracts`."""

from __future__ import annotations

import gc
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.store.integrity import closed_cleanly
from tests.reference import reference_models_dir
from tests.server.cli_support import REPOSITORY, serving
from tests.server.cli_support import accounts as _accounts
from tests.server.cli_support import command as _command
from tests.server.cli_support import token_for as _token


def test_accounts_json_lists_the_demo_accounts_with_credentials() -> None:
    accounts = _accounts()
    for item in accounts:
        assert {
            "name",
            "client_id",
            "client_secret",
            "refresh_token",
            "read_only",
            "marketplace_ids",
            "vendor_codes",
            "region",
        } <= set(item)
    writable = [item for item in accounts if not item["read_only"]]
    assert {item["region"] for item in writable} >= {"na", "eu"}
    assert len({code for item in writable for code in item["vendor_codes"]}) >= 2
    assert any(item["read_only"] for item in accounts)


def test_serve_prints_the_base_url_creates_the_data_dir_and_is_healthy(tmp_path: Path) -> None:
    data_dir = tmp_path / "does" / "not" / "exist"
    with serving("--host", "127.0.0.1", "--data-dir", str(data_dir)) as base_url:
        response = requests.get(f"{base_url}/_sandbox/health", timeout=10)
        assert response.status_code == 200
        assert response.json()["status"] == "ok"
        assert data_dir.is_dir()


def test_serve_accepts_odd_host_headers(tmp_path: Path) -> None:
    account = _accounts()[0]
    with serving("--data-dir", str(tmp_path)) as base_url:
        token = _token(base_url, account)
        port = base_url.rsplit(":", 1)[1]
        response = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            headers={"x-amz-access-token": token, "Host": f"27.0.0.1:{port}"},
            timeout=10,
        )
        assert response.status_code == 200


def test_accepted_state_survives_a_restart(tmp_path: Path) -> None:
    """A token issued before a restart still works after it, on the SQLite store."""
    account = _accounts()[0]
    with serving("--data-dir", str(tmp_path)) as base_url:
        token = _token(base_url, account)
    with serving("--data-dir", str(tmp_path)) as base_url:
        response = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            headers={"x-amz-access-token": token},
            timeout=10,
        )
        assert response.status_code == 200, response.text


def test_memory_store_forgets_on_restart(tmp_path: Path) -> None:
    account = _accounts()[0]
    with serving("--data-dir", str(tmp_path), "--store", "memory") as base_url:
        token = _token(base_url, account)
    with serving("--data-dir", str(tmp_path), "--store", "memory") as base_url:
        response = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            headers={"x-amz-access-token": token},
            timeout=10,
        )
        assert response.status_code == 403


def test_serve_static_mode_from_official_models(tmp_path: Path) -> None:
    account = _accounts()[0]
    with serving(
        "--data-dir", str(tmp_path), "--mode", "static", "--contracts", str(reference_models_dir())
    ) as url:
        response = requests.get(
            f"{url}/reports/2021-06-30/reports/ID323",
            headers={"x-amz-access-token": _token(url, account)},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["reportId"] == "ReportId1"


def test_static_mode_without_models_says_how_to_get_them(tmp_path: Path) -> None:
    result = subprocess.run(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path), "--mode", "static"),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPOSITORY,
    )
    assert result.returncode == 2
    assert "vendor-sandbox contracts fetch" in result.stderr
    assert "--models-dir" in result.stderr


def test_with_several_workers_the_start_up_lines_are_printed_once(tmp_path: Path) -> None:
    with subprocess.Popen(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path), "--workers", "3"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPOSITORY,
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        base_url = re.search(r"serving at (http://127\.0\.0\.1:\d+)", first)
        assert base_url, first
        for _ in range(6):  # every worker answers (and so has loaded the app) before the server stops
            assert requests.get(f"{base_url.group(1)}/_sandbox/health", timeout=10).ok
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        rest = process.stdout.read()
    assert "workers: 3 processes" in rest
    assert "serving at" not in rest and rest.count("token for ") == 1


def test_several_workers_over_the_memory_store_are_refused_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path), "--workers", "4", "--store", "memory"),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPOSITORY,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "vendor-sandbox: --workers N needs a store the workers share: sqlite (one host) or a Redis URL, "
        "not memory"
    ]


def test_serve_from_a_directory_of_official_models_in_dynamic_mode(tmp_path: Path) -> None:
    account = _accounts()[0]
    with serving("--data-dir", str(tmp_path), "--contracts", str(reference_models_dir())) as url:
        response = requests.get(
            f"{url}/vendor/orders/v1/purchaseOrders",
            headers={"x-amz-access-token": _token(url, account)},
            timeout=10,
        )
        assert response.status_code == 200
        assert "payload" in response.json()


def test_startup_is_quick(tmp_path: Path) -> None:
    """Not a timing assertion: only that serving starts at all within a generous bound."""
    started = time.monotonic()
    with serving("--data-dir", str(tmp_path)) as base_url:
        assert requests.get(f"{base_url}/_sandbox/health", timeout=10).status_code == 200
    assert time.monotonic() - started < 60


def test_serve_parses_as_the_whole_command_line_does() -> None:
    """`serve` is parsed without the other commands' parsers: its help, its defaults and its errors are
    the same as the whole command line's."""
    from mockserver.cli import build_parser

    def serve_parser(only_serve: bool) -> Any:
        commands = next(action for action in build_parser(only_serve)._actions if action.dest == "command")
        return commands.choices["serve"]

    whole, alone = serve_parser(False), serve_parser(True)
    assert alone.format_help() == whole.format_help()
    assert "--no-rate-limits" in alone.format_help()
    arguments = ["serve", "--port", "0", "--workers", "2", "--no-rate-limits"]
    assert vars(build_parser(True).parse_args(arguments)) == vars(build_parser().parse_args(arguments))
    assert "report" in build_parser()._actions[-1].choices
    assert "report" not in build_parser(True)._actions[-1].choices


def test_serve_starts_without_importing_what_only_other_commands_and_calls_use() -> None:
    """What `serve` imports before its first answer is most of its start-up: the report builders, the
    retry and tolerance reports, XML and waitress wait until a call or another command needs them."""
    script = (
        "import sys\n"
        "from mockserver.cli import build_parser\n"
        "import mockserver.app, mockserver.server\n"
        "build_parser(only_serve=True).parse_args(['serve'])\n"
        "print(' '.join(sorted(name for name in sys.modules if name.startswith(("
        "'mockserver.domain.reports.processing', 'mockserver.chaos.verdict', "
        "'mockserver.chaos.tolerance', 'mockserver.contracts.generate', 'xml.', 'waitress')))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPOSITORY
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []
    assert (
        "mockserver.chaos.verdict"
        in subprocess.run(
            [sys.executable, "-c", script.replace("only_serve=True", "only_serve=False")],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPOSITORY,
        ).stdout.split()
    )


def _serve_fails(*arguments: str, env: dict[str, str] | None = None) -> str:
    """Run `serve` expecting a refusal: its one line of stderr (exit 2, nothing on stdout)."""
    result = subprocess.run(
        _command("serve", *arguments),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPOSITORY,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vendor-sandbox: ")
    return lines[0].removeprefix("vendor-sandbox: ")


def test_a_port_in_use_is_one_line_before_anything_is_seeded(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        message = _serve_fails("--port", str(port), "--data-dir", str(data_dir))
    assert message == f"port {port} on 127.0.0.1 is in use: choose another with --port"
    assert not data_dir.exists(), "nothing may be created or seeded before the port is bound"


def test_serve_holds_the_collector_off_only_while_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Start-up runs with the collector off (its passes over the objects start-up makes were a fifth of it);
    a start that fails, in this process, leaves it as it found it."""
    from mockserver.cli import main

    assert gc.isenabled()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]) == 2
    assert "is in use" in capsys.readouterr().err
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--port", "70000"), "port must be from 0 to 65535 (0 picks a free one), not 70000"),
        (("--port", "-1"), "port must be from 0 to 65535 (0 picks a free one), not -1"),
        (("--config", "/nonexistent/settings.yaml"), "config file /nonexistent/settings.yaml does not exist"),
        (("--workers", "0"), "workers must be at least 1"),
    ],
)
def test_bad_flags_are_one_line_errors(tmp_path: Path, arguments: tuple[str, ...], message: str) -> None:
    assert _serve_fails("--data-dir", str(tmp_path), *arguments) == message


def test_a_misspelt_admin_token_does_not_leave_the_admin_api_open(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("admin-tokn: secret\n", encoding="utf-8")
    message = _serve_fails("--data-dir", str(tmp_path / "data"), "--config", str(config))
    assert message == f"unknown setting 'admin_tokn' in {config} (did you mean 'admin_token'?)"
    message = _serve_fails("--data-dir", str(tmp_path / "data"), env={"VENDOR_SANDBOX_ADMINTOKEN": "secret"})
    assert message == (
        "unknown environment variable VENDOR_SANDBOX_ADMINTOKEN (did you mean 'VENDOR_SANDBOX_ADMIN_TOKEN'?)"
    )


def test_the_admin_token_from_a_config_file_guards_the_admin_api(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("admin_token: from-the-file\n", encoding="utf-8")
    with serving("--data-dir", str(tmp_path / "data"), "--config", str(config)) as base_url:
        assert requests.post(f"{base_url}/_sandbox/reset", timeout=10).status_code == 403
        headers = {"Authorization": "Bearer from-the-file"}
        assert requests.post(f"{base_url}/_sandbox/reset", headers=headers, timeout=10).status_code == 200


def _seeded(data_dir: Path) -> Path:
    with serving("--data-dir", str(data_dir), "--seed-size", "50"):
        pass
    database = data_dir / "state.sqlite3"
    assert database.is_file()
    return database


def test_a_data_directory_that_is_not_a_database_is_one_line_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "state.sqlite3").write_text("these are not the bytes of a database\n" * 100)
    message = _serve_fails("--port", "0", "--data-dir", str(tmp_path))
    assert message.startswith(f"{tmp_path / 'state.sqlite3'} is not a usable vendor-sandbox database")
    assert message.endswith("move it away, or start with --reset to begin a new world")
    with serving("--data-dir", str(tmp_path), "--reset") as base_url:
        assert requests.get(f"{base_url}/_sandbox/health", timeout=10).json()["status"] == "ok"


def test_a_damaged_database_is_refused_at_start(tmp_path: Path) -> None:
    database = _seeded(tmp_path)
    with sqlite3.connect(database) as connection:  # everything into the main file, so cutting it damages it
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with database.open("r+b") as handle:
        handle.truncate(database.stat().st_size // 3)
    message = _serve_fails("--port", "0", "--data-dir", str(tmp_path))
    assert str(database) in message and "--reset" in message


def test_a_clean_stop_is_noted_and_a_killed_server_leaves_no_note(tmp_path: Path) -> None:
    """The next start reads the whole file unless the last stop was a normal one and nothing touched the
    file since (store/integrity.py): a server killed must not leave a note vouching for the file."""
    database = _seeded(tmp_path)
    note = tmp_path / "state.sqlite3-clean"
    assert closed_cleanly(database)
    with serving("--data-dir", str(tmp_path)) as base_url:
        assert not note.exists()  # while serving, the file changes: no note
        account = _accounts()[0]
        assert requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            params={"limit": 1},
            headers={"x-amz-access-token": _token(base_url, account)},
            timeout=10,
        ).ok
    assert closed_cleanly(database)

    with subprocess.Popen(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPOSITORY,
        start_new_session=True,
    ) as process:
        assert process.stdout is not None
        assert "serving at" in process.stdout.readline()
        assert not note.exists()
        os.killpg(process.pid, signal.SIGKILL)  # the server and its worker
        process.wait(timeout=10)
    assert not note.exists() and not closed_cleanly(database)
    with serving("--data-dir", str(tmp_path)) as base_url:
        assert requests.get(f"{base_url}/_sandbox/health", timeout=10).json()["status"] == "ok"
    assert closed_cleanly(database)


def test_a_data_directory_that_is_a_file_is_refused(tmp_path: Path) -> None:
    occupied = tmp_path / "occupied"
    occupied.write_text("")
    assert _serve_fails("--port", "0", "--data-dir", str(occupied)) == (
        f"data directory {occupied} is a file, not a directory"
    )


def test_damage_while_serving_turns_the_health_call_to_503(tmp_path: Path) -> None:
    """Damage after the start check (a body overwritten, a table gone) must not leave health saying ok."""
    account = _accounts()[0]
    database = _seeded(tmp_path)
    with serving("--data-dir", str(tmp_path)) as base_url:
        headers = {"x-amz-access-token": _token(base_url, account)}
        listed = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders", params={"limit": 1}, headers=headers, timeout=10
        ).json()["payload"]["orders"][0]["purchaseOrderNumber"]
        with sqlite3.connect(database) as connection:
            connection.execute("UPDATE purchase_order_bodies SET body = '{\"broken' ")
        # A PO not read before (not in the decoded cache): its body is now unreadable.
        unread = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            params={"limit": 2, "sortOrder": "ASC"},
            headers=headers,
            timeout=10,
        )
        assert unread.status_code == 500, unread.text
        assert unread.json()["errors"][0]["code"] == "InternalFailure"
        assert "Traceback" not in unread.text
        health = requests.get(f"{base_url}/_sandbox/health", timeout=10)
        assert health.status_code == 503
        assert health.json()["status"] == "damaged"
        assert "cannot be decoded" in health.json()["store"]["problem"]
        assert listed
    with serving("--data-dir", str(tmp_path), "--reset") as base_url:
        assert requests.get(f"{base_url}/_sandbox/health", timeout=10).status_code == 200


def test_a_dropped_table_shows_in_the_health_call(tmp_path: Path) -> None:
    database = _seeded(tmp_path)
    with serving("--data-dir", str(tmp_path)) as base_url:
        assert requests.get(f"{base_url}/_sandbox/health", timeout=10).status_code == 200
        with sqlite3.connect(database) as connection:
            connection.execute("DROP TABLE purchase_order_bodies")
        health = requests.get(f"{base_url}/_sandbox/health", timeout=10)
        assert health.status_code == 503
        assert health.json()["store"]["status"] == "damaged"


def test_serve_says_where_state_is_who_the_accounts_are_and_how_to_get_a_token(tmp_path: Path) -> None:
    with subprocess.Popen(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPOSITORY,
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline().rstrip("\n") for _ in range(5)]
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    url = re.search(r"serving at (http://127\.0\.0\.1:\d+)", lines[0])
    assert url and lines[0].startswith("vendor-sandbox 0.1.0 ")
    assert lines[1] == f"data directory: {tmp_path.resolve()}"
    assert lines[2].startswith(
        "accounts: acme-na (NA, writable), nordwind-eu (EU, writable), globex-readonly"
    )
    assert lines[3].startswith("token for acme-na: curl -s ") and "grant_type=refresh_token" in lines[3]
    assert lines[4] == f"inspector: {url.group(1)}/_sandbox/ui  metrics: {url.group(1)}/metrics"


def test_the_printed_token_command_works(tmp_path: Path) -> None:
    """The line is a command a person pastes: run it (its curl arguments, through requests)."""
    import shlex

    with subprocess.Popen(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path), "--store", "memory"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPOSITORY,
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline().rstrip("\n") for _ in range(5)]
            words = shlex.split(lines[3].split(": ", 1)[1])
            url = words[2]
            form = dict(word.split("=", 1) for word in words[3:] if word != "-d")
            response = requests.post(url, data=form, timeout=10)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    assert lines[1].startswith("data directory: none")
    assert response.status_code == 200, response.text
    assert response.json()["access_token"].startswith("Atza|")


def test_version() -> None:
    result = subprocess.run(_command("--version"), capture_output=True, text=True, timeout=30, cwd=REPOSITORY)
    assert (result.returncode, result.stdout.strip()) == (0, "vendor-sandbox 0.1.0")


def test_the_health_command_says_whether_an_emulator_is_up(tmp_path: Path) -> None:
    with serving("--data-dir", str(tmp_path), "--admin-token", "secret") as base_url:
        healthy = subprocess.run(
            _command("health", "--url", base_url), capture_output=True, text=True, timeout=30, cwd=REPOSITORY
        )
    assert healthy.returncode == 0, healthy.stderr
    closed = subprocess.run(
        _command("health", "--url", base_url, "--timeout", "2"),
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPOSITORY,
    )
    assert closed.returncode == 1
    assert f"no health answer from {base_url}" in closed.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_serve_started_in_the_background_stops_on_both_signals(tmp_path: Path, signum: int) -> None:
    with subprocess.Popen(
        _command("serve", "--port", "0", "--data-dir", str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPOSITORY,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    ) as process:
        assert process.stdout is not None
        assert "serving at" in process.stdout.readline()
        process.send_signal(signum)
        try:
            assert process.wait(timeout=30) == 0
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("serve did not stop")
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


def test_a_redis_store_that_does_not_answer_is_one_line_before_anything_is_built(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run(
        _command(
            "serve", "--port", "0", "--data-dir", str(tmp_path), "--store", f"redis://127.0.0.1:{port}/0"
        ),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPOSITORY,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"vendor-sandbox: Redis at redis://127.0.0.1:{port}/0: ")
    assert lines[0].endswith("start Redis there, or choose another --store")
