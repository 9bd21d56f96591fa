"""What the benchmarks share: servers in process groups of their own, load from wrk (or Python threads),
server CPU from /proc, the machine's description, figures over interleaved rounds, start-up times.

Only 127.0.0.1 is used; every server is stopped on exit, Ctrl-C included. Nothing here judges timings.
"""

from __future__ import annotations

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
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import IO, Any

BENCH_DIR = Path(__file__).resolve().parent
REPOSITORY = BENCH_DIR.parent
HOST = "127.0.0.1"
HEALTH_PATH = "/_sandbox/health"
ACCOUNT = "acme-na"
APPLICATION = "demo-integration"

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


def free_port() -> int:
    """A port nothing listens on now (Prism takes a port, it cannot pick one and tell)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


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
    for name in ("granian", "flask", "werkzeug", "orjson", "jsonschema-rs", "redis", "waitress"):
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


def _server_environment() -> dict[str, str]:
    """The servers' environment: ours, except that Python may keep compiled bytecode.

    Some machines set PYTHONDONTWRITEBYTECODE (this project's CI machines do); then every start compiles the
    emulator's modules from source again, which no user's installed copy does. Each server has run once
    before its start-up is measured, so the measured starts use bytecode, as a user's second start does.
    """
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


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


def round_plan(duration: float, rounds: int, loader_kind: str) -> tuple[int, float]:
    """How many rounds of how many seconds make up --duration (wrk runs whole seconds only)."""
    seconds = duration / rounds
    if loader_kind == "wrk" and seconds < 1:
        rounds = max(1, int(duration))
        seconds = max(1.0, float(round(duration / rounds)))
    return rounds, seconds


def load_interleaved(
    servers: dict[str, tuple[Server, str]],
    targets: Sequence[Target],
    loader: Loader,
    duration: float,
    rounds: int,
    warmup: float,
    connections: int,
) -> dict[str, dict[str, list[LoadResult]]]:
    """Each operation, round after round, on each server in turn (rotating which goes first)."""
    rounds, seconds = round_plan(duration, rounds, loader.kind)
    results: dict[str, dict[str, list[LoadResult]]] = {name: {} for name in servers}
    for target in targets:
        if warmup > 0:
            for server, token in servers.values():
                python_load(server.port, target, request_headers(target, token), min(2, connections), warmup)
        names = ", ".join(servers)
        print(
            f"  loading {target.operation}: {rounds} round(s) of {seconds:g} s on each of {names} ...",
            file=sys.stderr,
        )
        for index in range(rounds):
            order = list(servers.items())
            shift = index % len(order)
            for name, (server, token) in order[shift:] + order[:shift]:
                cpu_before = process_cpu_seconds(server.process.pid)
                result = loader.run(server.port, target, request_headers(target, token), seconds)
                cpu_after = process_cpu_seconds(server.process.pid)
                if cpu_before is not None and cpu_after is not None:
                    result.server_cpu_s = round(cpu_after - cpu_before, 3)
                results[name].setdefault(target.operation, []).append(result)
    return results


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


def _ratio(ours: float, bare: float) -> float:
    return round(ours / bare, 3) if bare else float("nan")


def _figure(value: float | None, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)
