"""Throughput, latency and start-up of the whole emulator pipeline, against a bare Flask baseline and Prism.

    python bench/pipeline_bench.py [--duration S] [--connections N] [--loader auto|wrk|python]
                                   [--prism auto|none|PATH] [--json FILE]

One run:
1. serves `python -m mockserver serve --port 0 --no-rate-limits --store memory` in a subprocess, obtains an
   LWA access token and captures the emulator's answer to getPurchaseOrders and submitAcknowledgement;
2. serves bench/baseline_app.py (bare Flask, same waitress server and thread count) answering exactly the
   captured status, Content-Type, headers and body;
3. when Stoplight Prism is found, serves our own contract contracts/vendor-orders-v1.yaml with
   `prism mock` (the generic mock server the project sets out to beat) and checks that it answers both
   operations, sent the very same requests, with 200 and 202 (its bodies are example data, not ours);
4. loads each operation for --duration seconds on each server, in --rounds rounds that rotate between the
   servers (so that other work on the machine hits all alike), through the emulator's whole pipeline (auth,
   validation, handler, response validation, journal), and prints requests/s, p50/p99 latency, server CPU
   per request and the ratios emulator / baseline and emulator / prism;
5. measures start-up, median over --startup-runs: spawn -> first answered GET /_sandbox/health for the
   emulator and the baseline, spawn -> first answered getPurchaseOrders for Prism (it has no health route).

Prism is looked for (--prism auto) in $VENDOR_SANDBOX_PRISM, then as `prism` on PATH, then in bench/.prism
(`npm install --prefix bench/.prism @stoplight/prism-cli@5`); without it the run says so and goes on without
it. Figures from another machine would say nothing about this one, hence Prism in the same run.

Load comes from `wrk` (with a Lua script for the token header and the POST body) when it is installed, else
from a Python generator (threads, one keep-alive http.client connection each). Only 127.0.0.1 is used; every
server runs in its own process group, and the group (node's children included) is stopped on exit, Ctrl-C
included. This is a benchmark, not a test: nothing here judges timings.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import platform
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPOSITORY = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from baseline_app import CannedResponse  # noqa: E402

HOST = "127.0.0.1"
HEALTH_PATH = "/_sandbox/health"
CONTRACT = REPOSITORY / "contracts" / "vendor-orders-v1.yaml"
PRISM_ENVIRONMENT = "VENDOR_SANDBOX_PRISM"
PRISM_LOCAL = BENCH_DIR / ".prism" / "node_modules" / ".bin" / "prism"
PRISM_INSTALL = "npm install --prefix bench/.prism @stoplight/prism-cli@5"
ACCOUNT = "acme-na"
APPLICATION = "demo-integration"
# Hop-by-hop or per-response headers the WSGI server writes itself; every other emulator header is replayed.
SERVER_WRITTEN_HEADERS = frozenset(
    {"date", "server", "content-length", "content-type", "connection", "keep-alive", "transfer-encoding"}
)
SUBMIT_ACKNOWLEDGEMENT_BODY: dict[str, Any] = {
    "acknowledgements": [
        {
            "purchaseOrderNumber": "2JK3S9VC",
            "sellingParty": {"partyId": "ACME1"},
            "acknowledgementDate": "2024-01-15T10:00:00Z",
            "items": [
                {
                    "itemSequenceNumber": "1",
                    "amazonProductIdentifier": "B07DFVDRAB",
                    "vendorProductIdentifier": "9782700001659",
                    "orderedQuantity": {"amount": 10, "unitOfMeasure": "Eaches", "unitSize": 1},
                    "netCost": {"currencyCode": "USD", "amount": "10.20"},
                    "itemAcknowledgements": [
                        {
                            "acknowledgementCode": "Accepted",
                            "acknowledgedQuantity": {"amount": 10, "unitOfMeasure": "Eaches", "unitSize": 1},
                            "scheduledShipDate": "2024-01-20T10:00:00Z",
                            "scheduledDeliveryDate": "2024-01-25T10:00:00Z",
                        }
                    ],
                }
            ],
        }
    ]
}


@dataclass(frozen=True)
class Target:
    """One benchmarked operation: what is sent, and the status the emulator must answer with."""

    operation: str
    method: str
    path: str  # with the query string
    body: bytes | None
    expected_status: int

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]


TARGETS = (
    Target("getPurchaseOrders", "GET", "/vendor/orders/v1/purchaseOrders?limit=10", None, 200),
    Target(
        "submitAcknowledgement",
        "POST",
        "/vendor/orders/v1/acknowledgements",
        json.dumps(SUBMIT_ACKNOWLEDGEMENT_BODY, separators=(",", ":")).encode(),
        202,
    ),
)


@dataclass(frozen=True)
class Probe:
    """The request that tells a server is up: the end of its start-up, and what start() waits for.

    A setting of each server because Prism has no health route: it is ready once it answers an operation.
    """

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    expected_status: int = 200

    def describe(self) -> str:
        return f"{self.method} {self.path}"


HEALTH_PROBE = Probe("GET", HEALTH_PATH)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int  # connection errors, timeouts and unexpected statuses
    loader: str
    server_cpu_s: float | None = None  # CPU time the server process spent meanwhile (Linux /proc)


@dataclass
class StartupResult:
    runs_ms: list[float]
    median_ms: float


@dataclass
class Machine:
    cpu_model: str
    cores: int
    usable_cores: int
    python: str
    platform: str
    load_average: str  # /proc/loadavg when the figures were printed: other work competes for the cores
    packages: dict[str, str] = field(default_factory=dict)


class BenchError(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------- subprocesses

_children: list[subprocess.Popen[Any]] = []
_groups: set[int] = set()  # pids of children that lead a process group of their own
_children_lock = threading.Lock()


def _spawn(command: Sequence[str], own_group: bool = False, **options: Any) -> subprocess.Popen[Any]:
    """Start a child and remember it, so that whatever happens it is stopped on exit.

    With own_group it leads a new process group: stopping it signals the whole group, so that processes it
    spawned itself (node may fork) go too, and Ctrl-C at the terminal reaches only this script, which then
    stops every group in order instead of leaving servers to die mid-request.
    """
    with _children_lock:
        process: subprocess.Popen[Any] = subprocess.Popen(
            list(command), process_group=0 if own_group else None, **options
        )
        _children.append(process)
        if own_group:
            _groups.add(process.pid)
    return process


def _signal(process: subprocess.Popen[Any], signum: int, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, signum)
        elif process.poll() is None:
            process.send_signal(signum)
    except ProcessLookupError:
        pass


def _stop(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    group = process.pid in _groups
    if process.poll() is None:
        _signal(process, signal.SIGTERM, group)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL, group)
            process.wait()
    if group:
        # The leader is gone; whatever it left behind in its group goes too.
        _signal(process, signal.SIGKILL, group)
    with _children_lock:
        if process in _children:
            _children.remove(process)
        _groups.discard(process.pid)


def _stop_all() -> None:
    with _children_lock:
        remaining = list(_children)
    for process in remaining:
        _stop(process, timeout=5.0)


def _tail(path: Path, size: int = 2000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-size:]
    except OSError:
        return ""


class Server:
    """A server subprocess, in a process group of its own, and how to tell it is up.

    Without a port, the server picks one and prints its base URL (http://127.0.0.1:PORT) on its standard
    output, read here. With a port (Prism: chosen free beforehand), its output goes to the log file unread -
    Prism logs several lines per request, which nothing here should spend CPU on - and start() polls the
    probe until it answers.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        log_file: Path,
        probe: Probe = HEALTH_PROBE,
        port: int | None = None,
    ) -> None:
        self.name = name
        self.probe = probe
        self.spawned = time.perf_counter()
        self._log: IO[bytes] = log_file.open("wb")
        self.log_file = log_file
        self.port = port or 0
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.process = _spawn(
            command,
            own_group=True,
            cwd=REPOSITORY,
            env={**_server_environment(), "PYTHONPATH": str(REPOSITORY), "PYTHONUNBUFFERED": "1"},
            stdout=self._log if port else subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
        )
        if not port:
            threading.Thread(target=self._drain, name=f"{name}-stdout", daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self._lines.put(raw.decode("utf-8", "replace"))
        self._lines.put(None)

    def wait_for_url(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(f"{self.name} printed no URL within {timeout:.0f} s; see {self.log_file}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise BenchError(
                    f"{self.name} exited ({self.process.wait()}) before serving: {_tail(self.log_file)}"
                )
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                return

    def wait_until_answering(self, timeout: float = 60.0) -> float:
        """Poll the probe until it answers as expected; the seconds since spawning."""
        probe = self.probe
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited ({self.process.returncode}) before answering {probe.describe()}: "
                    f"{_tail(self.log_file)}"
                )
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                try:
                    connection.request(probe.method, probe.path, headers=probe.headers)
                    response = connection.getresponse()
                    response.read()
                    if response.status == probe.expected_status:
                        return time.perf_counter() - self.spawned
                finally:
                    connection.close()
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.002)
        raise BenchError(
            f"{self.name} did not answer {probe.describe()} with {probe.expected_status} within "
            f"{timeout:.0f} s: {_tail(self.log_file)}"
        )

    def start(self) -> float:
        if not self.port:
            self.wait_for_url()
        return self.wait_until_answering()

    def stop(self) -> None:
        _stop(self.process)
        self._log.close()


def emulator_command(data_dir: Path, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "mockserver",
        "serve",
        "--port",
        "0",
        "--no-rate-limits",
        "--store",
        "memory",
        "--data-dir",
        str(data_dir),
        "--threads",
        str(threads),
    ]


def baseline_command(responses_file: Path, threads: int) -> list[str]:
    return [
        sys.executable,
        str(BENCH_DIR / "baseline_app.py"),
        "--responses",
        str(responses_file),
        "--port",
        "0",
        "--threads",
        str(threads),
    ]


def prism_command(prism: str, port: int) -> list[str]:
    """Prism as its documentation runs it: static examples, request validation, default logging."""
    return [prism, "mock", "-h", HOST, "-p", str(port), str(CONTRACT)]


def free_port() -> int:
    """A port nothing listens on now (Prism takes a port, it cannot pick one and tell)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class PrismChoice:
    """Where Prism is, or why it is not measured (said in the output, so a missing Prism is never silent)."""

    path: str | None
    note: str
    version: str | None = None


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_prism(setting: str) -> PrismChoice:
    """--prism auto|none|PATH. auto: $VENDOR_SANDBOX_PRISM, `prism` on PATH, then bench/.prism.

    An explicit PATH, or the environment variable, that does not lead to an executable is an error rather than
    a silent skip: whoever set it meant Prism to be measured.
    """
    if setting == "none":
        return PrismChoice(None, "not measured (--prism none)")
    if setting != "auto":
        if not _executable(setting):
            raise BenchError(f"--prism {setting}: no executable there ({PRISM_INSTALL})")
        return PrismChoice(os.path.abspath(setting), "--prism")
    configured = os.environ.get(PRISM_ENVIRONMENT, "").strip()
    if configured:
        if not _executable(configured):
            raise BenchError(f"${PRISM_ENVIRONMENT}={configured}: no executable there ({PRISM_INSTALL})")
        return PrismChoice(os.path.abspath(configured), f"${PRISM_ENVIRONMENT}")
    on_path = shutil.which("prism")
    if on_path:
        return PrismChoice(on_path, "PATH")
    if _executable(str(PRISM_LOCAL)):
        return PrismChoice(str(PRISM_LOCAL), "bench/.prism")
    return PrismChoice(
        None,
        f"not found, not measured: install it with `{PRISM_INSTALL}` (needs node), "
        f"or set ${PRISM_ENVIRONMENT} or --prism to its path",
    )


def prism_version(prism: str) -> str | None:
    try:
        completed = subprocess.run(
            [prism, "--version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = completed.stdout.strip().splitlines()
    return lines[-1].strip() if completed.returncode == 0 and lines else None


# --------------------------------------------------------------------------------------------- HTTP helpers


def _request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _accounts() -> list[dict[str, Any]]:
    output = subprocess.run(
        [sys.executable, "-m", "mockserver", "accounts", "--json"],
        cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return list(json.loads(output))


def access_token(port: int) -> str:
    for account in _accounts():
        if account["name"] == ACCOUNT and account["application"] == APPLICATION:
            break
    else:
        raise BenchError(f"no demo account {ACCOUNT}/{APPLICATION} in `python -m mockserver accounts --json`")
    from urllib.parse import urlencode

    form = urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": account["refresh_token"],
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        }
    ).encode()
    status, _, body = _request(
        port, "POST", "/auth/o2/token", form, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    if status != 200:
        raise BenchError(f"LWA token request answered {status}: {body[:300]!r}")
    return str(json.loads(body)["access_token"])


def request_headers(target: Target, token: str) -> dict[str, str]:
    headers = {"x-amz-access-token": token, "Accept": "application/json"}
    if target.body is not None:
        headers["Content-Type"] = "application/json"
    return headers


def capture(port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> CannedResponse:
    status, response_headers, response_body = _request(port, method, path, body, headers)
    content_type = ""
    replayed: dict[str, str] = {}
    for name, value in response_headers:
        if name.lower() == "content-type":
            content_type = value
        elif name.lower() not in SERVER_WRITTEN_HEADERS:
            replayed[name] = value
    return CannedResponse(method, path.split("?", 1)[0], status, content_type, replayed, response_body)


# ------------------------------------------------------------------------------------------ load generators


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def python_load(
    port: int, target: Target, headers: dict[str, str], connections: int, duration: float
) -> LoadResult:
    """Threads, each with one keep-alive connection, sending back to back until the deadline."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    ready = threading.Barrier(connections + 1)
    window: dict[str, float] = {}

    def worker(index: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        mine = latencies[index]
        ready.wait()
        deadline = window["deadline"]
        try:
            while True:
                started = time.perf_counter()
                if started >= deadline:
                    break
                try:
                    connection.request(target.method, target.path, body=target.body, headers=headers)
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection(HOST, port, timeout=10)
                    errors[index] += 1
                    continue
                finished = time.perf_counter()
                if finished > deadline:
                    break
                if status != target.expected_status:
                    errors[index] += 1
                mine.append(finished - started)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(index,), name=f"load-{index}", daemon=True)
        for index in range(connections)
    ]
    for thread in threads:
        thread.start()
    window["start"] = time.perf_counter()
    window["deadline"] = window["start"] + duration
    ready.wait()
    for thread in threads:
        thread.join(timeout=duration + 30)
    elapsed = max(1e-9, min(time.perf_counter(), window["deadline"]) - window["start"])
    ordered = sorted(value for chunk in latencies for value in chunk)
    return LoadResult(
        requests=len(ordered),
        seconds=round(elapsed, 3),
        requests_per_second=len(ordered) / elapsed,
        p50_ms=_percentile(ordered, 0.50) * 1000,
        p99_ms=_percentile(ordered, 0.99) * 1000,
        errors=sum(errors),
        loader="python",
    )


def _lua_string(text: str) -> str:
    level = "=" * 4
    while f"]{level}]" in text:
        level += "="
    return f"[{level}[{text}]{level}]"


WRK_DONE = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\\"requests\\":%.0f,\\"duration_us\\":%.0f,\\"p50_us\\":%.0f,\\"p99_us\\":%.0f," ..
    "\\"connect\\":%.0f,\\"read\\":%.0f,\\"write\\":%.0f,\\"status\\":%.0f,\\"timeout\\":%.0f}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk_script(target: Target, headers: dict[str, str]) -> str:
    lines = [f"wrk.method = {_lua_string(target.method)}"]
    for name, value in headers.items():
        lines.append(f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}")
    if target.body is not None:
        lines.append(f"wrk.body = {_lua_string(target.body.decode())}")
    return "\n".join(lines) + "\n" + WRK_DONE


def wrk_load(
    wrk: str,
    port: int,
    target: Target,
    headers: dict[str, str],
    connections: int,
    duration: float,
    wrk_threads: int,
    scratch: Path,
) -> LoadResult:
    script = scratch / f"{target.operation}.lua"
    script.write_text(wrk_script(target, headers), encoding="utf-8")
    seconds = max(1, round(duration))  # wrk takes whole seconds
    command = [
        wrk,
        f"-t{max(1, min(wrk_threads, connections))}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{target.path}",
    ]
    process = _spawn(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = process.communicate(timeout=seconds + 60)
    finally:
        _stop(process)
    match = re.search(r"^BENCH_JSON (\{.*\})$", stdout, re.MULTILINE)
    if process.returncode != 0 or not match:
        raise BenchError(f"wrk failed ({process.returncode}): {stdout[-1000:]} {stderr[-1000:]}")
    figures = json.loads(match.group(1))
    elapsed = figures["duration_us"] / 1e6
    errors = sum(int(figures[key]) for key in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=int(figures["requests"]),
        seconds=round(elapsed, 3),
        requests_per_second=figures["requests"] / max(elapsed, 1e-9),
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=errors,
        loader="wrk",
    )


class Loader:
    def __init__(self, kind: str, connections: int, wrk_threads: int, scratch: Path) -> None:
        self.kind = kind
        self.connections = connections
        self.wrk_threads = wrk_threads
        self.scratch = scratch
        self.wrk = shutil.which("wrk") if kind == "wrk" else None

    @property
    def description(self) -> str:
        if self.kind == "wrk":
            version = subprocess.run([self.wrk or "wrk", "-v"], capture_output=True, text=True).stdout
            first = version.splitlines()[0].split(" [")[0] if version else "wrk"
            threads = max(1, min(self.wrk_threads, self.connections))
            return f"{first} ({threads} thread(s), {self.connections} keep-alive connections)"
        return f"python (threads + http.client, {self.connections} keep-alive connections)"

    def run(self, port: int, target: Target, headers: dict[str, str], duration: float) -> LoadResult:
        if self.kind == "wrk" and self.wrk:
            return wrk_load(
                self.wrk, port, target, headers, self.connections, duration, self.wrk_threads, self.scratch
            )
        return python_load(port, target, headers, self.connections, duration)


# -------------------------------------------------------------------------------------------------- machine


def machine() -> Machine:
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    try:
        load_average = " ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])
    except OSError:
        load_average = "unknown"
    packages: dict[str, str] = {}
    for name in ("flask", "werkzeug", "waitress", "jsonschema-rs"):
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return Machine(
        cpu_model=cpu_model,
        cores=os.cpu_count() or 1,
        usable_cores=usable,
        python=platform.python_version(),
        platform=platform.platform(),
        load_average=load_average,
        packages=packages,
    )


# -------------------------------------------------------------------------------------------------- the run


@dataclass
class Options:
    duration: float
    connections: int
    threads: int
    loader: str
    wrk_threads: int
    warmup: float
    rounds: int
    startup_runs: int
    json_file: Path | None
    prism: str = "auto"  # auto | none | a path


def _server_environment() -> dict[str, str]:
    """The servers' environment: ours, except that Python may keep compiled bytecode.

    Some machines set PYTHONDONTWRITEBYTECODE (this project's CI machines do); then every start compiles the
    emulator's modules from source again, which no user's installed copy does. Each server has run once
    before its start-up is measured, so the measured starts use bytecode, as a user's second start does.
    """
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def measure_startup(
    name: str,
    command_for: Callable[[int, int | None], list[str]],
    runs: int,
    scratch: Path,
    probe: Probe = HEALTH_PROBE,
    fixed_port: bool = False,
) -> StartupResult:
    """Spawn -> first answer to the probe, once per run, each process on its own.

    command_for(run, port) gets a free port when fixed_port (the server cannot pick one), else None.
    """
    times: list[float] = []
    for run in range(runs):
        port = free_port() if fixed_port else None
        server = Server(
            f"{name} (start-up run {run + 1})",
            command_for(run, port),
            scratch / f"{name}-startup-{run}.log",
            probe=probe,
            port=port,
        )
        try:
            times.append(server.start() * 1000)
        finally:
            server.stop()
    return StartupResult(
        runs_ms=[round(value, 1) for value in times], median_ms=round(statistics.median(times), 1)
    )


@dataclass
class Measurement:
    """One server and operation, over every round: totals, and the median of the rounds' percentiles."""

    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    rounds_requests_per_second: list[float]
    # Server CPU per request: much less disturbed than requests/s by other work on the machine.
    server_cpu_ms_per_request: float | None

    @classmethod
    def of(cls, rounds: list[LoadResult]) -> Measurement:
        requests = sum(item.requests for item in rounds)
        seconds = sum(item.seconds for item in rounds)
        cpu = [item.server_cpu_s for item in rounds]
        cpu_per_request = (
            None
            if not requests or any(value is None for value in cpu)
            else round(sum(value or 0.0 for value in cpu) * 1000 / requests, 4)
        )
        return cls(
            requests=requests,
            seconds=round(seconds, 3),
            requests_per_second=requests / max(seconds, 1e-9),
            p50_ms=statistics.median(item.p50_ms for item in rounds),
            p99_ms=statistics.median(item.p99_ms for item in rounds),
            errors=sum(item.errors for item in rounds),
            rounds_requests_per_second=[round(item.requests_per_second, 1) for item in rounds],
            server_cpu_ms_per_request=cpu_per_request,
        )


def round_plan(options: Options, loader_kind: str) -> tuple[int, float]:
    """How many rounds of how many seconds make up --duration (wrk runs whole seconds only)."""
    rounds = options.rounds
    seconds = options.duration / rounds
    if loader_kind == "wrk" and seconds < 1:
        rounds = max(1, int(options.duration))
        seconds = max(1.0, float(round(options.duration / rounds)))
    return rounds, seconds


def _stat_fields(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    return Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process and of every process under it so far, from /proc.

    The whole tree because node may run part of Prism in child processes; the children's time goes on
    counting once they exit and are waited for (cutime, cstime of their parent). None where there is no /proc.
    """
    try:
        clock = os.sysconf("SC_CLK_TCK")
        parents: dict[int, int] = {}
        times: dict[int, int] = {}
        with os.scandir("/proc") as entries:
            for entry in entries:
                if not entry.name.isdigit():
                    continue
                try:
                    fields = _stat_fields(entry.name)
                except (OSError, IndexError):
                    continue  # gone meanwhile
                # After the name: state, ppid, ... utime (index 11), stime, cutime, cstime.
                parents[int(entry.name)] = int(fields[1])
                times[int(entry.name)] = sum(int(value) for value in fields[11:15])
        if pid not in times:
            return None
        tree = {pid}
        grown = True
        while grown:
            grown = False
            for child, parent in parents.items():
                if parent in tree and child not in tree:
                    tree.add(child)
                    grown = True
        return sum(times[member] for member in tree) / clock
    except (OSError, ValueError, IndexError):
        return None


def load_interleaved(
    servers: dict[str, Server], loader: Loader, token: str, options: Options
) -> dict[str, dict[str, list[LoadResult]]]:
    """Each operation, round after round, on each server in turn (rotating which goes first).

    All the servers are up the whole time, so whatever else the machine is doing hits them alike; rotating
    the order puts each server in each position as often as the rounds allow.
    """
    rounds, seconds = round_plan(options, loader.kind)
    results: dict[str, dict[str, list[LoadResult]]] = {name: {} for name in servers}
    for target in TARGETS:
        headers = request_headers(target, token)
        if options.warmup > 0:
            for server in servers.values():
                python_load(server.port, target, headers, min(2, options.connections), options.warmup)
        print(
            f"  loading {target.operation}: {rounds} round(s) of {seconds:g} s on each of "
            f"{', '.join(servers)} ...",
            file=sys.stderr,
        )
        for index in range(rounds):
            order = list(servers.items())
            shift = index % len(order)
            for name, server in order[shift:] + order[:shift]:
                cpu_before = process_cpu_seconds(server.process.pid)
                result = loader.run(server.port, target, headers, seconds)
                cpu_after = process_cpu_seconds(server.process.pid)
                if cpu_before is not None and cpu_after is not None:
                    result.server_cpu_s = round(cpu_after - cpu_before, 3)
                results[name].setdefault(target.operation, []).append(result)
    return results


def prism_probe(token: str) -> Probe:
    """Prism is up once it answers getPurchaseOrders, sent as under load (it checks the request)."""
    target = TARGETS[0]
    return Probe(target.method, target.path, request_headers(target, token), target.expected_status)


def check_prism(port: int, token: str, targets: Sequence[Target] = TARGETS) -> dict[str, dict[str, Any]]:
    """Prism's answer to each target, sent as under load; a BenchError unless it is the expected status.

    Prism checks requests against the contract: an answer other than 200/202 would mean loading it measures
    its error path, not a mock answer. Its bodies are example data, so only their size is recorded.
    """
    answers: dict[str, dict[str, Any]] = {}
    for target in targets:
        status, headers, body = _request(
            port, target.method, target.path, target.body, request_headers(target, token)
        )
        if status != target.expected_status:
            raise BenchError(
                f"prism answered {target.operation} ({target.method} {target.path}) with {status}, not "
                f"{target.expected_status}; it checks each request against "
                f"{CONTRACT.relative_to(REPOSITORY)}: {body[:500]!r}"
            )
        content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
        answers[target.operation] = {
            "status": status,
            "content_type": content_type,
            "response_bytes": len(body),
        }
    return answers


def compare(ours: list[LoadResult], theirs: list[LoadResult]) -> dict[str, float | None]:
    """Emulator / other server: the totals' ratios, and the spread of the round-by-round throughput ratio."""
    mine, other = Measurement.of(ours), Measurement.of(theirs)
    paired = [
        _ratio(one.requests_per_second, two.requests_per_second)
        for one, two in zip(ours, theirs, strict=True)
    ]
    return {
        "throughput": _ratio(mine.requests_per_second, other.requests_per_second),
        "throughput_rounds_min": min(paired),
        "throughput_rounds_max": max(paired),
        "p50_latency": _ratio(mine.p50_ms, other.p50_ms),
        "p99_latency": _ratio(mine.p99_ms, other.p99_ms),
        "server_cpu_per_request": (
            _ratio(mine.server_cpu_ms_per_request, other.server_cpu_ms_per_request)
            if mine.server_cpu_ms_per_request is not None and other.server_cpu_ms_per_request is not None
            else None
        ),
    }


def run(options: Options) -> dict[str, Any]:
    if options.loader == "wrk" and not shutil.which("wrk"):
        raise BenchError("--loader wrk: wrk is not installed (Debian: apt-get install wrk)")
    loader_kind = options.loader
    if loader_kind == "auto":
        loader_kind = "wrk" if shutil.which("wrk") else "python"
    prism = find_prism(options.prism)
    if prism.path is None:
        print(f"prism: {prism.note}", file=sys.stderr)
    else:
        prism.version = prism_version(prism.path)
        print(
            f"prism: {prism.path} ({prism.version or 'version unknown'}, from {prism.note})", file=sys.stderr
        )
    prism_answers: dict[str, dict[str, Any]] = {}
    prism_startup: StartupResult | None = None
    with tempfile.TemporaryDirectory(prefix="vendor-sandbox-bench-") as scratch_name:
        scratch = Path(scratch_name)
        loader = Loader(loader_kind, options.connections, options.wrk_threads, scratch)
        servers: list[Server] = []
        try:
            # 1. The emulator: a token, and its answers captured.
            print("starting the emulator ...", file=sys.stderr)
            emulator = Server(
                "emulator",
                emulator_command(scratch / "emulator-data", options.threads),
                scratch / "emulator.log",
            )
            servers.append(emulator)
            emulator.start()
            token = access_token(emulator.port)
            canned: list[CannedResponse] = [capture(emulator.port, "GET", HEALTH_PATH, None, {})]
            for target in TARGETS:
                answer = capture(
                    emulator.port, target.method, target.path, target.body, request_headers(target, token)
                )
                if answer.status != target.expected_status:
                    raise BenchError(
                        f"the emulator answered {target.operation} with {answer.status}, not "
                        f"{target.expected_status}: {answer.body[:500]!r}"
                    )
                canned.append(answer)

            # 2. The baseline: the same bytes, bare Flask on the same server.
            responses_file = scratch / "responses.json"
            responses_file.write_text(
                json.dumps({"routes": [item.to_json() for item in canned]}), encoding="utf-8"
            )
            print("starting the baseline ...", file=sys.stderr)
            baseline = Server(
                "baseline", baseline_command(responses_file, options.threads), scratch / "baseline.log"
            )
            servers.append(baseline)
            baseline.start()
            for target, expected in zip(TARGETS, canned[1:], strict=True):
                status, _, body = _request(
                    baseline.port, target.method, target.path, target.body, request_headers(target, token)
                )
                if (status, body) != (expected.status, expected.body):
                    raise BenchError(f"the baseline does not replay {target.operation} byte for byte")
            loaded = {"emulator": emulator, "baseline": baseline}

            # 3. Prism on our contract, sent the very same requests.
            if prism.path is not None:
                print("starting prism ...", file=sys.stderr)
                prism_port = free_port()
                prism_server = Server(
                    "prism",
                    prism_command(prism.path, prism_port),
                    scratch / "prism.log",
                    probe=prism_probe(token),
                    port=prism_port,
                )
                servers.append(prism_server)
                prism_server.start()
                prism_answers = check_prism(prism_port, token)
                loaded["prism"] = prism_server

            # 4. Load, interleaved.
            results = load_interleaved(loaded, loader, token, options)
        finally:
            for server in servers:
                server.stop()

        # 5. Start-up, each process on its own.
        print(f"measuring start-up ({options.startup_runs} run(s) each) ...", file=sys.stderr)
        emulator_startup = measure_startup(
            "emulator",
            lambda run, port: emulator_command(scratch / f"startup-data-{run}", options.threads),
            options.startup_runs,
            scratch,
        )
        baseline_startup = measure_startup(
            "baseline",
            lambda run, port: baseline_command(responses_file, options.threads),
            options.startup_runs,
            scratch,
        )
        if prism.path is not None:
            prism_path = prism.path
            prism_startup = measure_startup(
                "prism",
                lambda run, port: prism_command(prism_path, port or 0),
                options.startup_runs,
                scratch,
                probe=prism_probe(token),
                fixed_port=True,
            )
        loader_description = loader.description

    rounds, seconds = round_plan(options, loader_kind)
    operations: dict[str, Any] = {}
    for target, answer in zip(TARGETS, canned[1:], strict=True):
        figures: dict[str, Any] = {
            "request": f"{target.method} {target.path}",
            "status": answer.status,
            "response_bytes": len(answer.body),
            "emulator": asdict(Measurement.of(results["emulator"][target.operation])),
            "baseline": asdict(Measurement.of(results["baseline"][target.operation])),
            "ratio": compare(results["emulator"][target.operation], results["baseline"][target.operation]),
        }
        if "prism" in results:
            figures["prism"] = asdict(Measurement.of(results["prism"][target.operation]))
            figures["prism_response"] = prism_answers[target.operation]
            figures["ratio_prism"] = compare(
                results["emulator"][target.operation], results["prism"][target.operation]
            )
        operations[target.operation] = figures
    startup: dict[str, Any] = {
        "emulator": asdict(emulator_startup),
        "baseline": asdict(baseline_startup),
        "ratio": _ratio(emulator_startup.median_ms, baseline_startup.median_ms),
        "probe": {"emulator": HEALTH_PROBE.describe(), "baseline": HEALTH_PROBE.describe()},
    }
    if prism_startup is not None:
        startup["prism"] = asdict(prism_startup)
        startup["ratio_prism"] = _ratio(emulator_startup.median_ms, prism_startup.median_ms)
        startup["probe"]["prism"] = f"{TARGETS[0].method} {TARGETS[0].path} ({TARGETS[0].operation})"
    return {
        "machine": asdict(machine()),
        "loader": loader_kind,
        "loader_description": loader_description,
        "settings": {
            "duration_s": rounds * seconds,
            "rounds": rounds,
            "round_s": seconds,
            "connections": options.connections,
            "server_threads": options.threads,
            "warmup_s": options.warmup,
            "emulator_flags": "--no-rate-limits --store memory",
        },
        "prism": {
            "measured": prism.path is not None,
            "path": prism.path,
            "version": prism.version,
            "found": prism.note,
            "command": f"prism mock -h {HOST} -p PORT {CONTRACT.relative_to(REPOSITORY)}",
            # CPU per request counts node's whole process tree, as for every server.
            "cpu": "process tree (/proc)",
        },
        "operations": operations,
        "startup": startup,
    }


def _ratio(ours: float, bare: float) -> float:
    return round(ours / bare, 3) if bare else float("nan")


def _figure(value: float | None, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def _ratio_block(report: dict[str, Any], title: str, key: str) -> list[str]:
    lines = [
        "",
        f"{title:<22} {'throughput':>11} {'(rounds)':>13} {'p50 latency':>12} "
        f"{'p99 latency':>12} {'server cpu/req':>15}",
    ]
    for name, figures in report["operations"].items():
        ratio = figures[key]
        spread = f"{ratio['throughput_rounds_min']:.2f}-{ratio['throughput_rounds_max']:.2f}"
        cpu = _figure(ratio["server_cpu_per_request"], ".2f", "x")
        lines.append(
            f"{name:<22} {ratio['throughput']:>11.3f} {spread:>13} {ratio['p50_latency']:>11.2f}x "
            f"{ratio['p99_latency']:>11.2f}x {cpu:>15}"
        )
    return lines


def table(report: dict[str, Any]) -> str:
    box = report["machine"]
    settings = report["settings"]
    prism = report["prism"]
    servers = ["emulator", "baseline"] + (["prism"] if prism["measured"] else [])
    lines = [
        "vendor-sandbox pipeline benchmark",
        f"machine:  {box['cpu_model']}, {box['cores']} cores ({box['usable_cores']} usable), "
        f"Python {box['python']}, {box['platform']}",
        f"busy:     load average {box['load_average']} (1/5/15 min, at the end; other work shares the cores)",
        f"packages: {', '.join(f'{name} {version}' for name, version in box['packages'].items())}",
        f"loader:   {report['loader_description']}",
        f"server:   waitress, {settings['server_threads']} threads; emulator {settings['emulator_flags']}",
    ]
    if prism["measured"]:
        lines.append(
            f"prism:    {prism['version'] or 'version unknown'} ({prism['path']}), `{prism['command']}`, "
            "default options; cpu of its process tree"
        )
    else:
        lines.append(f"prism:    {prism['found']}")
    lines += [
        f"load:     {settings['duration_s']:g} s per server and operation, in {settings['rounds']} rounds of "
        f"{settings['round_s']:g} s rotating between {', '.join(servers)}",
        f"          after a {settings['warmup_s']:g} s warm-up; p50/p99 are the medians over the rounds",
        "",
        f"{'operation':<22} {'server':<9} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu ms/req':>11} {'requests':>9} {'errors':>6} {'bytes':>6}",
    ]
    for name, figures in report["operations"].items():
        for server in servers:
            result = figures[server]
            size = (
                figures["prism_response"]["response_bytes"]
                if server == "prism"
                else figures["response_bytes"]
            )
            lines.append(
                f"{name:<22} {server:<9} {result['requests_per_second']:>11.1f} {result['p50_ms']:>8.2f} "
                f"{result['p99_ms']:>8.2f} {_figure(result['server_cpu_ms_per_request'], '.3f'):>11} "
                f"{result['requests']:>9} {result['errors']:>6} {size:>6}"
            )
    if prism["measured"]:
        lines.append("(bytes: response body; Prism answers example data shaped by the contract, not ours)")
    lines += _ratio_block(report, "emulator / baseline", "ratio")
    if prism["measured"]:
        lines += _ratio_block(report, "emulator / prism", "ratio_prism")
    lines.append(
        "(throughput below 1: the emulator serves fewer requests/s; latency and cpu above 1: it costs more)"
    )
    startup = report["startup"]
    runs = len(startup["emulator"]["runs_ms"])
    lines += ["", f"start-up (spawn -> first answered request), median of {runs}:"]
    for server in servers:
        result = startup[server]
        each = ", ".join(f"{value:.0f}" for value in result["runs_ms"])
        lines.append(
            f"  {server:<9} {result['median_ms']:>8.0f} ms   (runs: {each} ms; {startup['probe'][server]})"
        )
    summary = f"  emulator / baseline {startup['ratio']:.2f}x"
    if prism["measured"]:
        summary += f"; emulator / prism {startup['ratio_prism']:.2f}x"
    lines.append(summary)
    return "\n".join(lines)


def parse_arguments(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections (8)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads of both servers (default 8)")
    parser.add_argument(
        "--loader",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator (auto: wrk if found)",
    )
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--warmup", type=float, default=None, help="warm-up seconds (default min(1, duration))"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="split each measurement into rounds, interleaving servers (5)"
    )
    parser.add_argument("--startup-runs", type=int, default=3, help="start-up measurements per server (3)")
    parser.add_argument(
        "--prism",
        default="auto",
        metavar="auto|none|PATH",
        help=f"Stoplight Prism to compare with (auto: ${PRISM_ENVIRONMENT}, PATH, bench/.prism; none: skip)",
    )
    parser.add_argument("--json", dest="json_file", default=None, help="also write the figures to this file")
    arguments = parser.parse_args(argv)
    if arguments.duration <= 0 or arguments.connections < 1 or arguments.threads < 1:
        parser.error("--duration, --connections and --threads must be positive")
    if arguments.startup_runs < 1 or arguments.rounds < 1:
        parser.error("--startup-runs and --rounds must be at least 1")
    warmup = min(1.0, arguments.duration) if arguments.warmup is None else max(0.0, arguments.warmup)
    return Options(
        duration=arguments.duration,
        connections=arguments.connections,
        threads=arguments.threads,
        loader=arguments.loader,
        wrk_threads=arguments.wrk_threads,
        warmup=warmup,
        rounds=arguments.rounds,
        startup_runs=arguments.startup_runs,
        json_file=Path(arguments.json_file) if arguments.json_file else None,
        prism=arguments.prism,
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    try:
        report = run(options)
    except BenchError as error:
        print(f"pipeline_bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pipeline_bench: interrupted", file=sys.stderr)
        return 130
    finally:
        _stop_all()
    print(table(report))
    if options.json_file is not None:
        options.json_file.parent.mkdir(parents=True, exist_ok=True)
        options.json_file.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"figures written to {options.json_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
