"""Where the tests find a Redis server, and Redis servers of their own for the tests that restart one.

    from tests.redis_support import redis_url

    URL = redis_url()  # skips the calling test (or module, at import) when no Redis answers

`$VENDOR_SANDBOX_TEST_REDIS` names the server (default redis://127.0.0.1:6379/15); `.ci/run` starts
Debian's redis-server and sets it. Where no server answers, the Redis tests are skipped with a message saying
so - except under CI (`$CI` set), where that is a failure rather than a silent skip. Every test starts on a
database without the emulator's keys (`clean`), so the database named must hold nothing else of value.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REDIS_ENV = "VENDOR_SANDBOX_TEST_REDIS"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
_checked: dict[str, str | None] = {}


def _missing(message: str) -> None:
    if "CI" in os.environ:
        pytest.fail(f"{message} (required under CI)", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def redis_url() -> str:
    """The test Redis server's URL; skips (fails under CI) when it does not answer."""
    url = os.environ.get(REDIS_ENV) or DEFAULT_REDIS
    if url not in _checked:
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
            _checked[url] = None
        except redis.RedisError as error:
            _checked[url] = (
                f"no Redis server answers at {url} ({error}): start one (`redis-server --port 6390`) and "
                f"set {REDIS_ENV}=redis://127.0.0.1:6390/0 to run the Redis store's tests"
            )
    problem = _checked[url]
    if problem is not None:
        _missing(problem)
    return url


def clean(url: str) -> None:
    """Delete the emulator's keys (and only those) from the test database."""
    from mockserver.store.redis.connection import client, delete_matching

    delete_matching(client(url), "*")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        _missing("redis-server is not installed (Debian: apt-get install redis-server)")
    assert found is not None
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def compose_redis_options() -> dict[str, str]:
    """The persistence options docker-compose.yml gives Redis (`--name value` pairs of its command)."""
    import yaml

    compose = yaml.safe_load((Path(__file__).resolve().parents[1] / "docker-compose.yml").read_text("utf-8"))
    command = [str(item) for item in compose["services"]["redis"]["command"]]
    assert command[0] == "redis-server"
    return {name.removeprefix("--"): value for name, value in zip(command[1::2], command[2::2], strict=True)}


@dataclass
class OwnRedis:
    """A redis-server of a test's own (started, stopped, killed, restarted at will), persisting as
    docker-compose.yml configures Redis (its options are read from there)."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        options = {
            **compose_redis_options(),
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.directory),
        }
        arguments = [item for name, value in options.items() for item in (f"--{name}", value)]
        self.process = subprocess.Popen(
            [redis_server_binary(), *arguments],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM: Redis writes what it holds, then exits)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)
        self.process = None


@contextmanager
def own_redis(directory: Path) -> Iterator[OwnRedis]:
    directory.mkdir(parents=True, exist_ok=True)
    server = OwnRedis(directory, free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()


STORE_KINDS = ("memory", "sqlite", "redis")


def store_location(kind: str) -> str:
    """What `--store` says for a store kind of the behavioural suite: Redis on a clean test database."""
    if kind != "redis":
        return kind
    url = redis_url()
    clean(url)
    return url
