"""Serving on a production WSGI server, never on Werkzeug's development server.

`serve` runs granian (a Rust HTTP server with a WSGI interface): N worker processes (`--workers`), each
with one Python thread by default (`--threads`), over the shared store. Measured on the same app, data
directory and requests (bench/server_bench.py), granian serves 1.7 to 2.3 times what waitress's eight
threads do at half the CPU per request, and one thread per process serves about 1.7 times what two do (two
threads of a process hand the GIL back and forth around granian's own work). A latency or trickle fault
holds its thread while it sleeps: with one thread, the process's other clients wait with it (`--threads`
gives them threads of their own, at that cost). Waitress still serves the emulator that tests and the
pytest plugin run in a thread (`bind`, `testing/server.py`): granian needs a process of its own.

Everything that can be wrong with the setup is found before any work is done: the port and the data
directory are checked before the world is seeded, and each problem is one line naming what to fix.
"""

from __future__ import annotations

import atexit
import errno
import functools
import gc
import logging
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from mockserver import __version__
from mockserver.settings import Settings
from mockserver.store.integrity import (
    StoreDamaged,
    check_database_file,
    database_path,
    forget_clean_stop,
    note_clean_stop,
    remove_database,
)
from mockserver.store.redis.connection import describe_url, is_redis_url

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
    """Create the data directory and apply `--reset` (on Redis: the emulator's keys go)."""
    if is_redis_url(settings.store):
        check_redis(settings.store)
        if reset:
            from mockserver.store.redis.connection import client, delete_matching

            delete_matching(client(settings.store), "*")
        return
    if settings.store != "sqlite":
        return
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ServeError(f"data directory {settings.data_dir} cannot be created: {error.strerror}") from None
    if reset:
        remove_database(settings.data_dir)
    forget_clean_stop(database_path(settings.data_dir))  # a crash from here on must leave no note behind
    if settings.workers > 1:
        from mockserver.store.sqlite_runtime import remove_runtime

        remove_runtime(settings.data_dir)  # the workers' journal and buckets start empty, as one process's


def check_redis(url: str) -> None:
    """A Redis store that does not answer stops `serve` with one line, before anything is built."""
    from mockserver.store.redis.connection import client
    from mockserver.store.redis.documents import redis_problem

    problem = redis_problem(client(url), url)
    if problem is not None:
        raise ServeError(f"{problem}: start Redis there, or choose another --store")


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
    from waitress.server import create_server  # not imported by `serve` (granian): 10 ms of its start-up

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
        f"vendor-sandbox {__version__} serving at {base_url} "
        f"(mode {settings.mode}, store {describe_url(settings.store)})"
    ]
    if settings.store == "sqlite":
        lines.append(f"data directory: {Path(settings.data_dir).resolve()}")
    elif is_redis_url(settings.store):
        lines.append(f"state: Redis at {describe_url(settings.store)}, shared by every process using it")
    else:
        lines.append("data directory: none (memory store: state ends with the process)")
    if settings.workers > 1:
        lines.append(f"workers: {settings.workers} processes, {settings.threads} thread(s) each")
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


def check_port(host: str, port: int) -> int:
    """The port `serve` will listen on (a free one for 0), or a ServeError saying in one line why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
            return int(probe.getsockname()[1])
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            message = f"port {port} on {host} is in use: choose another with --port"
        elif error.errno == errno.EACCES:
            message = f"not allowed to listen on {host}:{port}: choose a port above 1023 with --port"
        else:
            message = f"cannot listen on {host}:{port}: {error.strerror or error}"
        raise ServeError(message) from None


class _DroppedConnections(logging.Filter):
    """granian logs a traceback when a response body raises; a connection dropped by a fault rule does so
    on purpose (the client sees the connection close), which is no error of the server."""

    def filter(self, record: logging.LogRecord) -> bool:
        from mockserver.pipeline.faults import ConnectionDropped

        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ConnectionDropped):
            return False
        return "connection dropped by a fault rule" not in record.getMessage()


_GRANIAN_LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"dropped": {"()": _DroppedConnections}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "filters": ["dropped"]}
    },
    "loggers": {"_granian": {"handlers": ["console"], "level": "WARNING", "propagate": False}},
}


def worker_application(app: Any, host: str, port: int, lines: list[str], announcer: int) -> Any:
    """What each worker process serves: the app `serve` built before forking the workers (its store
    connections reopen in the worker). The worker that reads the one byte `serve` put in the `announcer`
    pipe (a pipe hands each byte to one reader) prints the start-up lines once its socket accepts
    connections; the others, and workers respawned later, find the pipe at its end (no writer is left)."""
    if os.read(announcer, 1) == b"1":
        announce = threading.Thread(target=_announce, args=(host, port, lines), name="announce")
        announce.daemon = True
        announce.start()
    return app


def _count_metrics_across_workers() -> None:
    """`/metrics` of any worker sums every worker's counters: prometheus-client's files in a directory of
    this run's own (emptied at start, as its multiprocess mode requires), removed when the server stops."""
    from mockserver.metrics import use_multiprocess_directory

    directory = Path(tempfile.mkdtemp(prefix="vendor-sandbox-metrics-"))
    parent = os.getpid()

    def remove() -> None:
        if os.getpid() == parent:  # not a worker leaving: the files are the whole run's
            shutil.rmtree(directory, ignore_errors=True)

    atexit.register(remove)
    use_multiprocess_directory(directory)


def _announce(host: str, port: int, lines: list[str]) -> None:
    """Print the start-up lines once the port accepts a connection (the worker listens after its app is
    built), so that whoever reads them can call at once."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                break
        except OSError:
            time.sleep(0.002)
    for line in lines:
        print(line)
    sys.stdout.flush()


def serve(settings: Settings, reset: bool = False) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    check_data_dir(settings, reset=reset)
    port = check_port(settings.host, settings.port)
    prepare_data_dir(settings, reset=reset)

    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    from mockserver.app import create_app

    if settings.workers > 1:
        _count_metrics_across_workers()
    # Built once, here: the world is seeded (or found seeded) and every setting checked before a worker
    # exists, and the workers are forked with it built, so they answer at once. Its store connections are
    # closed first: each worker opens its own.
    app = create_app(settings)
    sandbox = app.extensions["vendor_sandbox"]
    sandbox.close()
    # What start-up built (contracts, validators, the seeded world) lives as long as the processes: out of
    # the collector's sight (its full collections no longer walk it while requests wait), and the pages the
    # workers share stay shared.
    gc.freeze()
    gc.enable()  # off while starting (cli.py): on in the workers
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    lines = startup_lines(settings, f"http://{host}:{port}", sandbox.accounts.describe())
    multiprocessing.set_start_method("fork", force=True)  # the workers inherit the app; nothing is pickled
    announcer, token = os.pipe()
    os.write(token, b"1")
    os.close(token)
    server = Server(
        "vendor-sandbox",
        address=settings.host,
        port=port,
        interface=Interfaces.WSGI,
        workers=settings.workers,
        blocking_threads=settings.threads,
        backlog=2048,
        log_level=LogLevels.warning,
        log_dictconfig=_GRANIAN_LOGGING,
        respawn_failed_workers=True,  # a worker killed (or crashed) is replaced; the others keep serving
        respawn_interval=0.0,
        workers_kill_timeout=10,
    )
    _raise_open_file_limit(CONNECTION_LIMIT + 256)
    loader = functools.partial(worker_application, app, settings.host, port, lines, announcer)
    server.serve(target_loader=loader, wrap_loader=False)
    if settings.store == "sqlite":  # the workers are gone: the next start need not read the whole file
        note_clean_stop(database_path(settings.data_dir))
    return 0


__all__ = [
    "ServeError",
    "StoreDamaged",
    "bind",
    "check_data_dir",
    "check_port",
    "prepare_data_dir",
    "serve",
    "startup_lines",
    "worker_application",
]
