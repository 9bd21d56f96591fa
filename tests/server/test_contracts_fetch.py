"""`vendor-sandbox contracts fetch` downloads Amazon's models (here from a local server) for static mode."""

from __future__ import annotations

import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.cli import main
from tests.reference import reference_models_dir


def _archive_of_reference() -> bytes:
    """A zip laid out like GitHub's archive of Amazon's models repository."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in reference_models_dir().rglob("*.json"):
            relative = path.relative_to(reference_models_dir())
            archive.write(path, f"selling-partner-api-models-main/models/{relative.as_posix()}")
        archive.writestr("selling-partner-api-models-main/models/orders-api-model/ordersV0.json", "{}")
        archive.writestr("selling-partner-api-models-main/README.md", "models")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def models_server() -> Iterator[str]:
    files = {"/models.zip": _archive_of_reference(), "/not-a-zip": b"<html>nope</html>"}
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("something/else.txt", "x")
    files["/empty.zip"] = empty.getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def shared_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared models directory as a user configures it: VENDOR_SANDBOX_MODELS_DIR."""
    target = tmp_path / "models-cache"
    monkeypatch.setenv("VENDOR_SANDBOX_MODELS_DIR", str(target))
    return target


def test_fetch_stores_the_vendor_reports_and_tokens_models(
    models_server: str, shared_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["contracts", "fetch", "--url", f"{models_server}/models.zip"])
    assert code == 0
    target = shared_models
    fetched = sorted(path.relative_to(target).as_posix() for path in target.rglob("*.json"))
    expected = sorted(
        path.relative_to(reference_models_dir()).as_posix() for path in reference_models_dir().rglob("*.json")
    )
    assert fetched == expected
    assert not (target / "orders-api-model").exists()
    assert "fetched 15 official model file(s)" in capsys.readouterr().out


def test_fetched_models_serve_static_mode(models_server: str, shared_models: Path, tmp_path: Path) -> None:
    from mockserver.testing.server import start_emulator

    assert main(["contracts", "fetch", "--url", f"{models_server}/models.zip"]) == 0
    running = start_emulator(data_dir=tmp_path / "data", store="memory", mode="static")
    try:
        response = running.session().get(f"{running.base_url}/reports/2021-06-30/reports/ID323")
        assert response.status_code == 200
        assert response.json()["reportId"] == "ReportId1"
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing.zip", "could not download"),
        ("/not-a-zip", "did not answer a zip archive"),
        ("/empty.zip", "holds no models/ folder"),
    ],
)
def test_fetch_failures_say_what_went_wrong_and_keep_earlier_models(
    models_server: str, shared_models: Path, capsys: pytest.CaptureFixture[str], path: str, message: str
) -> None:
    earlier = shared_models / "kept.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}")
    code = main(["contracts", "fetch", "--url", f"{models_server}{path}"])
    assert code == 1
    assert message in capsys.readouterr().err
    assert earlier.exists()


def test_without_settings_the_models_go_to_the_user_cache_where_in_process_mode_finds_them(
    models_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One shared place: `contracts fetch` writes it, the in-process mode (a fresh temporary data directory
    each time) reads it, so Amazon's sandbox hosts get static answers with no setting at all."""
    import requests

    from mockserver.testing.inprocess import mock_sp_api

    monkeypatch.delenv("VENDOR_SANDBOX_MODELS_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["contracts", "fetch", "--url", f"{models_server}/models.zip"]) == 0
    assert (tmp_path / "cache" / "vendor-sandbox" / "official-models" / "reports-api-model").is_dir()
    with mock_sp_api() as sandbox:
        credentials = sandbox.credentials()
        token = requests.post(
            "https://api.amazon.com/auth/o2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": credentials["refresh_token"],
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
            },
            timeout=10,
        ).json()["access_token"]
        response = requests.get(
            "https://sandbox.sellingpartnerapi-na.amazon.com/reports/2021-06-30/reports/ID323",
            headers={"x-amz-access-token": token},
            timeout=10,
        )
    assert response.status_code == 200, response.text
    assert response.json()["reportId"] == "ReportId1"
