"""Throughput, latency and start-up of the whole emulator pipeline, against a bare Flask baseline.

    python bench/pipeline_bench.py [--duration S] [--connections N] [--loader auto|wrk|python] [--json FILE]

One run:
1. serves `python -m mockserver serve --port 0 --no-rate-limits --store memory` in a subprocess, obtains an
   LWA access token and captures the emulator's answer to getPurchaseOrders and submitAcknowledgement;
2. serves bench/baseline_app.py (bare Flask, same waitress server and thread count) answering exactly the
   captured status, Content-Type, headers and body;
3. loads each operation for --duration seconds on each server, in --rounds rounds that alternate between the
   two (so that other work on the machine hits both alike), through the emulator's whole pipeline (auth,
   validation, handler, response validation, journal), and prints requests/s, p50/p99 latency and the
   emulator/baseline ratios;
4. measures start-up (spawn -> first answered GET /_sandbox/health), median over --startup-runs, of both.

Load comes from `wrk` (with a Lua script for the token header and the POST body) when it is installed, else
from a Python generator (threads, one keep-alive http.client connection each). Only 127.0.0.1 is used; every
subprocess is stopped on exit, Ctrl-C included. This is a benchmark, not a test: nothing here judges timings.
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
_children_lock = threading.Lock()


def _spawn(command: Sequence[str], **options: Any) -> subprocess.Popen[Any]:
    with _children_lock:
        process: subprocess.Popen[Any] = subprocess.Popen(list(command), **options)
        _children.append(process)
    return process


def _stop(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        except ProcessLookupError:
            pass
    with _children_lock:
        if process in _children:
            _children.remove(process)


def _stop_all() -> None:
    with _children_lock:
        remaining = list(_children)
    for process in remaining:
        _stop(process, timeout=5.0)


class Server:
    """A server subprocess that prints its base URL on its first line of output."""

    def __init__(self, name: str, command: Sequence[str], log_file: Path) -> None:
        self.name = name
        self.spawned = time.perf_counter()
        self._log: IO[bytes] = log_file.open("wb")
        self.log_file = log_file
        self.process = _spawn(
            command,
            cwd=REPOSITORY,
            env={**os.environ, "PYTHONPATH": str(REPOSITORY), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain, name=f"{name}-stdout", daemon=True).start()
        self.port = 0

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
                    f"{self.name} exited ({self.process.wait()}) before serving: "
                    f"{self.log_file.read_text(errors='replace')[-2000:]}"
                )
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match:
                self.port = int(match.group(1))
                return

    def wait_until_answering(self, timeout: float = 60.0) -> float:
        """Poll /_sandbox/health until it answers 200; the seconds since spawning."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited ({self.process.returncode}); see {self.log_file}")
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                try:
                    connection.request("GET", HEALTH_PATH)
                    response = connection.getresponse()
                    response.read()
                    if response.status == 200:
                        return time.perf_counter() - self.spawned
                finally:
                    connection.close()
            except OSError:
                pass
            time.sleep(0.002)
        raise BenchError(f"{self.name} did not answer {HEALTH_PATH} within {timeout:.0f} s")

    def start(self) -> float:
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


def measure_startup(
    name: str, command_for: Callable[[int], list[str]], runs: int, scratch: Path
) -> StartupResult:
    times: list[float] = []
    for run in range(runs):
        server = Server(
            f"{name} (start-up run {run + 1})", command_for(run), scratch / f"{name}-startup-{run}.log"
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


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def load_interleaved(
    servers: dict[str, Server], loader: Loader, token: str, options: Options
) -> dict[str, dict[str, list[LoadResult]]]:
    """Each operation, round after round, on each server in turn (alternating which goes first).

    Both servers are up the whole time, so whatever else the machine is doing hits both alike.
    """
    rounds, seconds = round_plan(options, loader.kind)
    results: dict[str, dict[str, list[LoadResult]]] = {name: {} for name in servers}
    for target in TARGETS:
        headers = request_headers(target, token)
        if options.warmup > 0:
            for server in servers.values():
                python_load(server.port, target, headers, min(2, options.connections), options.warmup)
        print(
            f"  loading {target.operation}: {rounds} round(s) of {seconds:g} s on each server ...",
            file=sys.stderr,
        )
        for index in range(rounds):
            order = list(servers.items())
            if index % 2:
                order.reverse()
            for name, server in order:
                cpu_before = process_cpu_seconds(server.process.pid)
                result = loader.run(server.port, target, headers, seconds)
                cpu_after = process_cpu_seconds(server.process.pid)
                if cpu_before is not None and cpu_after is not None:
                    result.server_cpu_s = round(cpu_after - cpu_before, 3)
                results[name].setdefault(target.operation, []).append(result)
    return results


def run(options: Options) -> dict[str, Any]:
    if options.loader == "wrk" and not shutil.which("wrk"):
        raise BenchError("--loader wrk: wrk is not installed (Debian: apt-get install wrk)")
    loader_kind = options.loader
    if loader_kind == "auto":
        loader_kind = "wrk" if shutil.which("wrk") else "python"
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

            # 3. Load, interleaved.
            results = load_interleaved({"emulator": emulator, "baseline": baseline}, loader, token, options)
        finally:
            for server in servers:
                server.stop()

        # 4. Start-up, each process on its own.
        print(f"measuring start-up ({options.startup_runs} run(s) each) ...", file=sys.stderr)
        emulator_startup = measure_startup(
            "emulator",
            lambda run: emulator_command(scratch / f"startup-data-{run}", options.threads),
            options.startup_runs,
            scratch,
        )
        baseline_startup = measure_startup(
            "baseline",
            lambda run: baseline_command(responses_file, options.threads),
            options.startup_runs,
            scratch,
        )
        loader_description = loader.description

    rounds, seconds = round_plan(options, loader_kind)
    operations: dict[str, Any] = {}
    for target, answer in zip(TARGETS, canned[1:], strict=True):
        ours = Measurement.of(results["emulator"][target.operation])
        bare = Measurement.of(results["baseline"][target.operation])
        paired = [
            _ratio(mine.requests_per_second, theirs.requests_per_second)
            for mine, theirs in zip(
                results["emulator"][target.operation], results["baseline"][target.operation], strict=True
            )
        ]
        operations[target.operation] = {
            "request": f"{target.method} {target.path}",
            "status": answer.status,
            "response_bytes": len(answer.body),
            "emulator": asdict(ours),
            "baseline": asdict(bare),
            "ratio": {
                "throughput": _ratio(ours.requests_per_second, bare.requests_per_second),
                "throughput_rounds_min": min(paired),
                "throughput_rounds_max": max(paired),
                "p50_latency": _ratio(ours.p50_ms, bare.p50_ms),
                "p99_latency": _ratio(ours.p99_ms, bare.p99_ms),
                "server_cpu_per_request": (
                    _ratio(ours.server_cpu_ms_per_request, bare.server_cpu_ms_per_request)
                    if ours.server_cpu_ms_per_request is not None
                    and bare.server_cpu_ms_per_request is not None
                    else None
                ),
            },
        }
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
        "operations": operations,
        "startup": {
            "emulator": asdict(emulator_startup),
            "baseline": asdict(baseline_startup),
            "ratio": _ratio(emulator_startup.median_ms, baseline_startup.median_ms),
        },
    }


def _ratio(ours: float, bare: float) -> float:
    return round(ours / bare, 3) if bare else float("nan")


def _figure(value: float | None, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def table(report: dict[str, Any]) -> str:
    box = report["machine"]
    settings = report["settings"]
    lines = [
        "vendor-sandbox pipeline benchmark",
        f"machine:  {box['cpu_model']}, {box['cores']} cores ({box['usable_cores']} usable), "
        f"Python {box['python']}, {box['platform']}",
        f"busy:     load average {box['load_average']} (1/5/15 min, at the end; other work shares the cores)",
        f"packages: {', '.join(f'{name} {version}' for name, version in box['packages'].items())}",
        f"loader:   {report['loader_description']}",
        f"server:   waitress, {settings['server_threads']} threads; emulator {settings['emulator_flags']}",
        f"load:     {settings['duration_s']:g} s per server and operation, in {settings['rounds']} rounds of "
        f"{settings['round_s']:g} s alternating emulator and baseline",
        f"          after a {settings['warmup_s']:g} s warm-up; p50/p99 are the medians over the rounds",
        "",
        f"{'operation':<22} {'server':<9} {'requests/s':>11} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'cpu ms/req':>11} {'requests':>9} {'errors':>6}",
    ]
    for name, figures in report["operations"].items():
        for server in ("emulator", "baseline"):
            result = figures[server]
            lines.append(
                f"{name:<22} {server:<9} {result['requests_per_second']:>11.1f} {result['p50_ms']:>8.2f} "
                f"{result['p99_ms']:>8.2f} {_figure(result['server_cpu_ms_per_request'], '.3f'):>11} "
                f"{result['requests']:>9} {result['errors']:>6}"
            )
    lines += [
        "",
        f"{'emulator / baseline':<22} {'throughput':>11} {'(rounds)':>13} {'p50 latency':>12} "
        f"{'p99 latency':>12} {'server cpu/req':>15}",
    ]
    for name, figures in report["operations"].items():
        ratio = figures["ratio"]
        spread = f"{ratio['throughput_rounds_min']:.2f}-{ratio['throughput_rounds_max']:.2f}"
        cpu = _figure(ratio["server_cpu_per_request"], ".2f", "x")
        lines.append(
            f"{name:<22} {ratio['throughput']:>11.3f} {spread:>13} {ratio['p50_latency']:>11.2f}x "
            f"{ratio['p99_latency']:>11.2f}x {cpu:>15}"
        )
    lines.append(
        "(throughput below 1: the emulator serves fewer requests/s; latency and cpu above 1: it costs more)"
    )
    startup = report["startup"]
    runs = len(startup["emulator"]["runs_ms"])
    lines += ["", f"start-up (spawn -> first answered GET {HEALTH_PATH}), median of {runs}:"]
    for server in ("emulator", "baseline"):
        result = startup[server]
        each = ", ".join(f"{value:.0f}" for value in result["runs_ms"])
        lines.append(f"  {server:<9} {result['median_ms']:>8.0f} ms   (runs: {each} ms)")
    lines.append(f"  emulator / baseline {startup['ratio']:.2f}x")
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
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, _terminate)
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
