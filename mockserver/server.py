"""Serving on a production WSGI server (waitress), never on Werkzeug's development server."""

from __future__ import annotations

import gc
import logging
import signal
import sys
from types import FrameType

from waitress.server import create_server

from mockserver.app import create_app
from mockserver.settings import Settings


def serve(settings: Settings) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # "Task queue depth is N" on every request that waits for a free thread: the normal state of a loaded
    # emulator, not news worth a line each.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    # What start-up built (contracts, validators, the seeded world) lives as long as the process: out of the
    # collector's sight, so its full collections no longer walk it while requests wait.
    gc.freeze()
    server = create_server(
        app,
        host=settings.host,
        port=settings.port,
        threads=settings.threads,
        ident="vendor-sandbox",
        clear_untrusted_proxy_headers=True,
        channel_timeout=120,
    )
    port = getattr(server, "effective_port", settings.port)
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"

    def stop(signum: int, frame: FrameType | None) -> None:
        server.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"vendor-sandbox serving at http://{host}:{port} (mode {settings.mode}, store {settings.store})")
    sys.stdout.flush()
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["vendor_sandbox"].close()
    return 0
