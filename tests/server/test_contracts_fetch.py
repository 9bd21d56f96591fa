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


def test_fetch_stores_the_vendor_reports_and_tokens_models(
    models_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["contracts", "fetch", "--url", f"{models_server}/models.zip", "--data-dir", str(tmp_path)])
    assert code == 0
    target = tmp_path / "official-models"
    fetched = sorted(path.relative_to(target).as_posix() for path in target.rglob("*.json"))
    expected = sorted(
        path.relative_to(reference_models_dir()).as_posix() for path in reference_models_dir().rglob("*.json")
    )
    assert fetched == expected
    assert not (target / "orders-api-model").exists()
    assert "fetched 15 official model file(s)" in capsys.readouterr().out


def test_fetched_models_serve_static_mode(models_server: str, tmp_path: Path) -> None:
    from mockserver.testing.server import start_emulator

    assert (
        main(["contracts", "fetch", "--url", f"{models_server}/models.zip", "--data-dir", str(tmp_path)]) == 0
    )
    running = start_emulator(data_dir=tmp_path, store="memory", mode="static")
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
    models_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], path: str, message: str
) -> None:
    earlier = tmp_path / "official-models" / "kept.json"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("{}")
    code = main(["contracts", "fetch", "--url", f"{models_server}{path}", "--data-dir", str(tmp_path)])
    assert code == 1
    assert message in capsys.readouterr().err
    assert earlier.exists()
