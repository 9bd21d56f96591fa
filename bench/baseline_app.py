"""The baseline of pipeline_bench: a bare Flask app answering with bytes captured from the emulator.

It serves the benchmarked routes (and /_sandbox/health, for the start-up measurement) with exactly the status,
Content-Type, headers and body the emulator answered, on the same WSGI server as `vendor-sandbox serve`
(waitress, same options), so the difference in the figures is the emulator's pipeline and nothing else.

    python bench/baseline_app.py --responses FILE [--port 0] [--threads 8]

FILE is JSON written by pipeline_bench.py: {"routes": [{"method", "path", "status", "content_type",
"headers", "body_base64"}]}. Once listening it prints "baseline serving at http://127.0.0.1:PORT".
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask, Response, request
from waitress.server import create_server


@dataclass(frozen=True)
class CannedResponse:
    method: str
    path: str
    status: int
    content_type: str
    headers: dict[str, str]
    body: bytes

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> CannedResponse:
        return cls(
            method=str(item["method"]).upper(),
            path=str(item["path"]),
            status=int(item["status"]),
            content_type=str(item["content_type"]),
            headers={str(key): str(value) for key, value in dict(item.get("headers") or {}).items()},
            body=base64.b64decode(item["body_base64"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "content_type": self.content_type,
            "headers": self.headers,
            "body_base64": base64.b64encode(self.body).decode("ascii"),
        }


def load_responses(path: Path) -> list[CannedResponse]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return [CannedResponse.from_json(item) for item in document["routes"]]


def create_baseline_app(responses: list[CannedResponse]) -> Flask:
    app = Flask(__name__)

    for index, canned in enumerate(responses):

        def view(canned: CannedResponse = canned) -> Response:
            request.get_data()  # read the body, as any real endpoint would
            return Response(
                canned.body, status=canned.status, headers=canned.headers, content_type=canned.content_type
            )

        app.add_url_rule(canned.path, f"canned_{index}", view, methods=[canned.method])
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--responses", required=True, help="JSON file of captured responses")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--threads", type=int, default=8, help="threads of the WSGI server (default 8)")
    arguments = parser.parse_args(argv)

    app = create_baseline_app(load_responses(Path(arguments.responses)))
    # The same server and options as mockserver/server.py.
    server = create_server(
        app,
        host="127.0.0.1",
        port=arguments.port,
        threads=arguments.threads,
        ident="vendor-sandbox",
        clear_untrusted_proxy_headers=True,
        channel_timeout=120,
    )
    port = getattr(server, "effective_port", arguments.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"baseline serving at http://127.0.0.1:{port}")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
