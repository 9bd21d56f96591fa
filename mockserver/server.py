"""Serving on a production WSGI server (waitress), never on Werkzeug's development server.

Everything that can be wrong with the setup is found before any work is done: the port is bound and the data
directory checked before the world is seeded, and each problem is one line naming what to fix.
"""

from __future__ import annotations

import errno
import gc
import logging
import resource
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from waitress.server import create_server

from mockserver import __version__
from mockserver.settings import Settings
from mockserver.store.integrity import StoreDamaged, check_database_file, database_path, remove_database

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# Idle and slow connections cost waitress nothing but a socket (its loop reads them; threads only run whole
# requests), so the limit on connections is set high and idle ones are closed after a while.
CONNECTION_LIMIT = 4096
CHANNEL_TIMEOUT = 60


class ServeError(RuntimeError):
    """A setting or a resource `serve` cannot work with; the message is one line for the user."""


def _starting(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """What a connection accepted while the world is still being built gets: Amazon's 503 shape."""
    body = b'{"errors":[{"code":"ServiceUnavailable","message":"The emulator is starting.","details":""}]}'
    start_response("503 Service Unavailable", [("Content-Type", "application/json"), ("Retry-After", "1")])
    return [body]


def check_data_dir(settings: Settings, reset: bool = False) -> None:
    """Refuse a data directory that cannot be used, changing nothing (the port may still turn out busy)."""
    if settings.store != "sqlite":
        return
    data_dir = settings.data_dir
    if data_dir.exists() and not data_dir.is_dir():
        raise ServeError(f"data directory {data_dir} is a file, not a directory")
    if not reset:
        check_database_file(database_path(data_dir))


def prepare_data_dir(settings: Settings, reset: bool = False) -> None:
    """Create the data directory and apply `--reset`."""
    if settings.store != "sqlite":
        return
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ServeError(f"data directory {settings.data_dir} cannot be created: {error.strerror}") from None
    if reset:
        remove_database(settings.data_dir)


def _raise_open_file_limit(wanted: int) -> None:
    """Enough file descriptors for CONNECTION_LIMIT sockets, where the hard limit allows."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        pass


def bind(host: str, port: int, threads: int = 8) -> Any:
    """A waitress server listening on host:port (answering 503 until its `application` is set), or a
    ServeError saying in one line why it cannot listen."""
    _raise_open_file_limit(CONNECTION_LIMIT + 256)
    try:
        return create_server(
            _starting,
            host=host,
            port=port,
            threads=threads,
            ident="vendor-sandbox",
            clear_untrusted_proxy_headers=True,
            channel_timeout=CHANNEL_TIMEOUT,
            connection_limit=CONNECTION_LIMIT,
        )
    except OSError as error:
        where = f"{host}:{port}"
        if error.errno == errno.EADDRINUSE:
            message = f"port {port} on {host} is in use: choose another with --port"
        elif error.errno == errno.EACCES:
            message = f"not allowed to listen on {where}: choose a port above 1023 with --port"
        else:
            message = f"cannot listen on {where}: {error.strerror or error}"
        raise ServeError(message) from None


def on_stop_signals(stop: Callable[[], None]) -> None:
    """Call `stop` on SIGTERM and on SIGINT, whatever the parent left them as (a shell's `&` starts a job
    with SIGINT ignored, so Ctrl-C's KeyboardInterrupt cannot be relied on). Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def startup_lines(settings: Settings, base_url: str, accounts: list[dict[str, Any]]) -> list[str]:
    """What a person starting the server by hand needs: where, where state is, who, how to get a token."""
    lines = [
        f"vendor-sandbox {__version__} serving at {base_url} (mode {settings.mode}, store {settings.store})"
    ]
    if settings.store == "sqlite":
        lines.append(f"data directory: {Path(settings.data_dir).resolve()}")
    else:
        lines.append("data directory: none (memory store: state ends with the process)")
    described = [
        f"{item['name']} ({item['region'].upper()}, {'read-only' if item['read_only'] else 'writable'})"
        for item in accounts
        if item["application"] == accounts[0]["application"]
    ]
    lines.append(f"accounts: {', '.join(described)}; credentials: vendor-sandbox accounts")
    first = next((item for item in accounts if not item["read_only"]), None)
    if first is not None:
        lines.append(
            f"token for {first['name']}: curl -s {base_url}/auth/o2/token -d grant_type=refresh_token "
            f"-d 'refresh_token={first['refresh_token']}' -d client_id={first['client_id']} "
            f"-d client_secret={first['client_secret']}"
        )
    lines.append(f"inspector: {base_url}/_sandbox/ui  metrics: {base_url}/metrics")
    return lines


def serve(settings: Settings, reset: bool = False) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # "Task queue depth is N" on every request that waits for a free thread: the normal state of a loaded
    # emulator, not news worth a line each.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    check_data_dir(settings, reset=reset)
    server = bind(settings.host, settings.port, settings.threads)
    stopping = False

    def stop() -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        server.close()
        raise SystemExit(0)

    on_stop_signals(stop)

    from mockserver.app import create_app

    try:
        prepare_data_dir(settings, reset=reset)
        app = create_app(settings)
    except BaseException:
        server.close()
        raise
    # What start-up built (contracts, validators, the seeded world) lives as long as the process: out of the
    # collector's sight, so its full collections no longer walk it while requests wait.
    gc.freeze()
    server.application = app
    port = getattr(server, "effective_port", settings.port)
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    sandbox = app.extensions["vendor_sandbox"]
    for line in startup_lines(settings, f"http://{host}:{port}", sandbox.accounts.describe()):
        print(line)
    sys.stdout.flush()
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        sandbox.close()
    return 0


__all__ = [
    "ServeError",
    "StoreDamaged",
    "bind",
    "check_data_dir",
    "prepare_data_dir",
    "serve",
    "startup_lines",
]
