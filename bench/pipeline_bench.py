"""Throughput, latency and start-up of the emulator against the generic mocks a user would pick instead.

    python bench/pipeline_bench.py [--duration S] [--rounds N] [--connections N] [--servers LIST]
                                   [--loader auto|wrk|python] [--prism auto|none|PATH]
                                   [--wiremock auto|none|JAR] [--json FILE]

One run, on one machine, every server up the whole time:
- the emulator as a user starts it: `vendor-sandbox serve --no-rate-limits` on its default store (SQLite in a
  data directory), one process (`sqlite`) and two workers (`sqlite-workers`); beside it the memory store
  (`memory`) and Redis (`redis`, `redis-workers`, on a redis-server this script starts, persisting as
  docker-compose.yml configures it);
- Stoplight Prism (`prism mock`, default options) on Amazon's own model, the file a user would hand it:
  vendorOrders.json of the shared reference (`$VENDOR_SANDBOX_REFERENCE`, else ../shared/reference/...);
- WireMock serving one canned stub per operation: the emulator's own answer, byte for byte.

getPurchaseOrders (limit=10) and submitAcknowledgement go through the emulator's whole pipeline: LWA token
check, validation, the stateful handler, the journal, the check of its own answers (throttling off). Each is
loaded with wrk (16 keep-alive connections by default) round after round, rotating the servers, so that
other work on the machine hits them alike; requests/s, p50/p99 latency and server CPU per request are
printed with the ratios to Prism and to WireMock. Then start-up: spawn -> first answer, the emulator on a
data directory already seeded. Servers that are not installed are left out with a line saying how to get
them. This is a benchmark, not a test: it judges nothing.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402
    HEALTH_PROBE,
    HOST,
    REPOSITORY,
    TARGETS,
    BenchError,
    Loader,
    Measurement,
    Probe,
    Server,
    StartupResult,
    _request,
    _stop_all,
    _terminate,
    access_token,
    compare,
    free_port,
    load_interleaved,
    machine,
    request_headers,
    round_plan,
)

PRISM_ENVIRONMENT = "VENDOR_SANDBOX_PRISM"
PRISM_LOCAL = BENCH_DIR / ".prism" / "node_modules" / ".bin" / "prism"
PRISM_INSTALL = "npm install --prefix bench/.prism @stoplight/prism-cli@5"
WIREMOCK_ENVIRONMENT = "VENDOR_SANDBOX_WIREMOCK"
WIREMOCK_LOCAL = BENCH_DIR / ".wiremock" / "node_modules" / "wiremock" / "build"
WIREMOCK_INSTALL = "npm install --prefix bench/.wiremock wiremock@3 (needs java)"
AMAZON_MODEL = Path("models") / "vendor-orders-api-model" / "vendorOrders.json"
EMULATORS = ("sqlite", "sqlite-workers", "memory", "redis", "redis-workers")
DEFAULT_SERVERS = (*EMULATORS, "prism", "wiremock")
LABELS = {
    "sqlite": "emulator, SQLite (default)",
    "sqlite-workers": "emulator, SQLite, 2 workers",
    "memory": "emulator, memory",
    "redis": "emulator, Redis",
    "redis-workers": "emulator, Redis, 2 workers",
    "prism": "Prism, Amazon's model",
    "wiremock": "WireMock, canned stub",
}


@dataclass
class Found:
    """Where a comparison server is, or why it is not measured (said in the output, never silently)."""

    path: str | None
    note: str
    version: str | None = None


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_prism(setting: str) -> Found:
    """--prism auto|none|PATH. auto: $VENDOR_SANDBOX_PRISM, `prism` on PATH, then bench/.prism."""
    if setting == "none":
        return Found(None, "not measured (--prism none)")
    if setting != "auto":
        if not _executable(setting):
            raise BenchError(f"--prism {setting}: no executable there ({PRISM_INSTALL})")
        return Found(os.path.abspath(setting), "--prism")
    configured = os.environ.get(PRISM_ENVIRONMENT, "").strip()
    if configured:
        if not _executable(configured):
            raise BenchError(f"${PRISM_ENVIRONMENT}={configured}: no executable there ({PRISM_INSTALL})")
        return Found(os.path.abspath(configured), f"${PRISM_ENVIRONMENT}")
    on_path = shutil.which("prism")
    if on_path:
        return Found(on_path, "PATH")
    if _executable(str(PRISM_LOCAL)):
        return Found(str(PRISM_LOCAL), "bench/.prism")
    return Found(None, f"not found, not measured: `{PRISM_INSTALL}` (needs node), or ${PRISM_ENVIRONMENT}")


def find_wiremock(setting: str) -> Found:
    """--wiremock auto|none|JAR. auto: $VENDOR_SANDBOX_WIREMOCK, then bench/.wiremock; java on PATH."""
    if setting == "none":
        return Found(None, "not measured (--wiremock none)")
    if shutil.which("java") is None:
        return Found(
            None, "not measured: java is not installed (Debian: apt-get install default-jre-headless)"
        )
    candidates = [setting] if setting != "auto" else []
    if setting == "auto":
        configured = os.environ.get(WIREMOCK_ENVIRONMENT, "").strip()
        candidates += [configured] if configured else sorted(str(jar) for jar in WIREMOCK_LOCAL.glob("*.jar"))
    for candidate in candidates:
        if os.path.isfile(candidate):
            return Found(os.path.abspath(candidate), "jar")
    if setting != "auto" or os.environ.get(WIREMOCK_ENVIRONMENT, "").strip():
        raise BenchError(f"WireMock jar not found at {candidates[0]} ({WIREMOCK_INSTALL})")
    return Found(None, f"not found, not measured: `{WIREMOCK_INSTALL}`, or ${WIREMOCK_ENVIRONMENT}=JAR")


def amazon_model() -> Path | None:
    configured = os.environ.get("VENDOR_SANDBOX_REFERENCE")
    root = Path(configured) if configured else REPOSITORY / ".." / "shared" / "reference" / "sp-api-models"
    path = (root if root.is_absolute() else REPOSITORY / root) / AMAZON_MODEL
    return path.resolve() if path.is_file() else None


def version_of(command: list[str]) -> str | None:
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[-1].strip()[:80] if completed.returncode == 0 and lines else None


# ------------------------------------------------------------------------------------------------ servers


def emulator_command(port: int, data_dir: Path, *options: str) -> list[str]:
    """`vendor-sandbox serve` as a user runs it, with throttling off (the one flag the load needs)."""
    return [
        sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--no-rate-limits",
        "--data-dir", str(data_dir), *options,
    ]  # fmt: skip


def prism_command(prism: str, port: int, model: Path) -> list[str]:
    """Prism as its documentation runs it: static examples, request validation, default logging."""
    return [prism, "mock", "-h", HOST, "-p", str(port), str(model)]


def wiremock_command(jar: str, port: int, root: Path) -> list[str]:
    return ["java", "-jar", jar, "--bind-address", HOST, "--port", str(port), "--root-dir", str(root)]


def redis_command(port: int, directory: Path) -> list[str]:
    """Redis persisting as docker-compose.yml runs it (append-only file, synced every second)."""
    return [
        "redis-server", "--port", str(port), "--bind", HOST, "--dir", str(directory),
        "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
    ]  # fmt: skip


def wiremock_stubs(root: Path, answers: dict[str, tuple[int, str, bytes]]) -> None:
    """One stub per operation: the emulator's answer (status, Content-Type, body) byte for byte."""
    mappings = root / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    for target in TARGETS:
        status, content_type, body = answers[target.operation]
        path, _, query = target.path.partition("?")
        request: dict[str, Any] = {"method": target.method, "urlPath": path}
        if query:
            request["queryParameters"] = {
                name: {"equalTo": value} for name, value in (item.split("=", 1) for item in query.split("&"))
            }
        stub = {
            "request": request,
            "response": {
                "status": status,
                "headers": {"Content-Type": content_type},
                "base64Body": base64.b64encode(body).decode(),
            },
        }
        (mappings / f"{target.operation}.json").write_text(json.dumps(stub), encoding="utf-8")


@dataclass
class Contender:
    name: str
    command: Callable[[int], list[str]]
    probe: Probe
    emulator: bool


def check_answers(name: str, port: int, token: str) -> dict[str, dict[str, Any]]:
    """Each target as loaded: a BenchError unless its status is the expected one (a mock that refuses the
    request would be measured on its error path)."""
    answers = {}
    for target in TARGETS:
        status, headers, body = _request(
            port, target.method, target.path, target.body, request_headers(target, token)
        )
        if status != target.expected_status:
            raise BenchError(
                f"{name} answered {target.operation} with {status}, not {target.expected_status}: "
                f"{body[:400]!r}"
            )
        content_type = next((value for header, value in headers if header.lower() == "content-type"), "")
        answers[target.operation] = {"status": status, "content_type": content_type, "body": body}
    return answers


def measure_startup(
    name: str, command_for: Callable[[int], list[str]], probe: Probe, runs: int, scratch: Path
) -> StartupResult:
    """Spawn -> first answer to the probe, once per run, each process on its own."""
    times = []
    for run in range(runs):
        port = free_port()
        server = Server(
            f"{name} (start-up {run + 1})",
            command_for(port),
            scratch / f"{name}-startup-{run}.log",
            probe,
            port,
        )
        try:
            times.append(server.start() * 1000)
        finally:
            server.stop()
    import statistics

    return StartupResult([round(value, 1) for value in times], round(statistics.median(times), 1))


# ---------------------------------------------------------------------------------------------------- run


@dataclass
class Options:
    duration: float
    rounds: int
    connections: int
    loader: str
    wrk_threads: int
    warmup: float
    startup_runs: int
    servers: tuple[str, ...]
    prism: str
    wiremock: str
    json_file: Path | None


def run(options: Options) -> dict[str, Any]:
    loader_kind = options.loader
    if loader_kind == "auto":
        loader_kind = "wrk" if shutil.which("wrk") else "python"
    if loader_kind == "wrk" and not shutil.which("wrk"):
        raise BenchError("--loader wrk: wrk is not installed (Debian: apt-get install wrk)")
    notes: dict[str, str] = {}
    wanted = list(options.servers)
    prism = find_prism(options.prism) if "prism" in wanted else Found(None, "not asked for (--servers)")
    model = amazon_model()
    if prism.path is not None and model is None:
        prism = Found(
            None, f"not measured: Amazon's model {AMAZON_MODEL} not found (set VENDOR_SANDBOX_REFERENCE)"
        )
    if prism.path is not None:
        prism.version = version_of([prism.path, "--version"])
    wiremock = (
        find_wiremock(options.wiremock) if "wiremock" in wanted else Found(None, "not asked for (--servers)")
    )
    redis_server = shutil.which("redis-server")
    for name in wanted:
        if name.startswith("redis") and redis_server is None:
            notes[name] = "not measured: redis-server is not installed (Debian: apt-get install redis-server)"
    if prism.path is None and "prism" in wanted:
        notes["prism"] = prism.note
    if wiremock.path is None and "wiremock" in wanted:
        notes["wiremock"] = wiremock.note
    wanted = [name for name in wanted if name not in notes]
    for name, note in notes.items():
        print(f"{name}: {note}", file=sys.stderr)
    if "sqlite" not in wanted:
        raise BenchError(
            "--servers must include sqlite: the emulator's default configuration is the yardstick"
        )

    with tempfile.TemporaryDirectory(prefix="vendor-sandbox-bench-") as scratch_name:
        scratch = Path(scratch_name)
        loader = Loader(loader_kind, options.connections, options.wrk_threads, scratch)
        started: list[Server] = []
        try:
            redis_url = ""
            if any(name.startswith("redis") for name in wanted):
                redis_port = free_port()
                (scratch / "redis").mkdir()
                redis = Server(
                    "redis",
                    redis_command(redis_port, scratch / "redis"),
                    scratch / "redis.log",
                    Probe("GET", "/"),
                    redis_port,
                )
                started.append(redis)
                _wait_for_redis(redis_port)
                redis_url = f"redis://{HOST}:{redis_port}"
            contenders: dict[str, Contender] = {}
            emulator_options = {
                "sqlite": (),
                "sqlite-workers": ("--workers", "2"),
                "memory": ("--store", "memory"),
                "redis": ("--store", f"{redis_url}/1"),
                "redis-workers": ("--store", f"{redis_url}/2", "--workers", "2"),
            }
            for name in wanted:
                if name in emulator_options:
                    data_dir = scratch / f"{name}-data"
                    contenders[name] = Contender(
                        name,
                        lambda port, data_dir=data_dir, extra=emulator_options[name]: emulator_command(
                            port, data_dir, *extra
                        ),
                        HEALTH_PROBE,
                        emulator=True,
                    )
            servers: dict[str, tuple[Server, str]] = {}
            for name, contender in contenders.items():
                print(f"starting {LABELS[name]} ...", file=sys.stderr)
                port = free_port()
                server = Server(name, contender.command(port), scratch / f"{name}.log", contender.probe, port)
                started.append(server)
                server.start()
                servers[name] = (server, access_token(port))
            answers = {
                name: check_answers(name, server.port, token) for name, (server, token) in servers.items()
            }
            default_answers = answers["sqlite"]
            if prism.path is not None and model is not None:
                print("starting prism ...", file=sys.stderr)
                port = free_port()
                probe = _operation_probe("x")
                server = Server(
                    "prism", prism_command(prism.path, port, model), scratch / "prism.log", probe, port
                )
                started.append(server)
                server.start()
                answers["prism"] = check_answers("prism", port, "x")
                servers["prism"] = (server, "x")
            if wiremock.path is not None:
                print("starting wiremock ...", file=sys.stderr)
                root = scratch / "wiremock"
                wiremock_stubs(
                    root,
                    {op: (a["status"], a["content_type"], a["body"]) for op, a in default_answers.items()},
                )
                port = free_port()
                server = Server(
                    "wiremock",
                    wiremock_command(wiremock.path, port, root),
                    scratch / "wiremock.log",
                    _operation_probe("x"),
                    port,
                )
                started.append(server)
                server.start()
                answers["wiremock"] = check_answers("wiremock", port, "x")
                servers["wiremock"] = (server, "x")
                wiremock.version = Path(wiremock.path).stem
            results = load_interleaved(
                servers,
                TARGETS,
                loader,
                options.duration,
                options.rounds,
                options.warmup,
                options.connections,
            )
        finally:
            for server in reversed(started):
                server.stop()

        print(f"measuring start-up ({options.startup_runs} run(s) each) ...", file=sys.stderr)
        seeded = scratch / "startup-data"
        seeding_port = free_port()
        first = Server(
            "seeding",
            emulator_command(seeding_port, seeded),
            scratch / "seeding.log",
            HEALTH_PROBE,
            seeding_port,
        )
        try:
            first.start()  # the first start seeds the world; the measured ones find it seeded
        finally:
            first.stop()
        startup = {
            "sqlite": measure_startup(
                "emulator",
                lambda port: emulator_command(port, seeded),
                HEALTH_PROBE,
                options.startup_runs,
                scratch,
            )
        }
        if "prism" in servers and prism.path is not None and model is not None:
            prism_path = prism.path
            startup["prism"] = measure_startup(
                "prism",
                lambda port: prism_command(prism_path, port, model),
                _operation_probe("x"),
                options.startup_runs,
                scratch,
            )
        if "wiremock" in servers and wiremock.path is not None:
            jar = wiremock.path
            startup["wiremock"] = measure_startup(
                "wiremock",
                lambda port: wiremock_command(jar, port, scratch / "wiremock"),
                _operation_probe("x"),
                options.startup_runs,
                scratch,
            )
        loader_description = loader.description

    rounds, seconds = round_plan(options.duration, options.rounds, loader_kind)
    operations: dict[str, Any] = {}
    for target in TARGETS:
        figures: dict[str, Any] = {"request": f"{target.method} {target.path}", "servers": {}, "ratios": {}}
        for name in servers:
            figures["servers"][name] = {
                **asdict(Measurement.of(results[name][target.operation])),
                "response_bytes": len(answers[name][target.operation]["body"]),
            }
        for name in servers:
            if name not in EMULATORS:
                continue
            for other in ("prism", "wiremock"):
                if other in servers:
                    figures["ratios"][f"{name}/{other}"] = compare(
                        results[name][target.operation], results[other][target.operation]
                    )
        operations[target.operation] = figures
    return {
        "machine": asdict(machine()),
        "loader": loader_kind,
        "loader_description": loader_description,
        "settings": {
            "duration_s": rounds * seconds,
            "rounds": rounds,
            "round_s": seconds,
            "connections": options.connections,
            "warmup_s": options.warmup,
            "emulator_command": "vendor-sandbox serve --no-rate-limits [--workers 2] [--store memory|redis://...]",
        },
        "prism": {
            "path": prism.path,
            "version": prism.version,
            "model": str(model) if model else None,
            "note": prism.note,
        },
        "wiremock": {"path": wiremock.path, "version": wiremock.version, "note": wiremock.note},
        "not_measured": notes,
        "operations": operations,
        "startup": {name: asdict(result) for name, result in startup.items()},
    }


def _operation_probe(token: str) -> Probe:
    """A generic mock is up once it answers getPurchaseOrders (it has no health route)."""
    target = TARGETS[0]
    return Probe(target.method, target.path, request_headers(target, token), target.expected_status)


def _wait_for_redis(port: int) -> None:
    import socket
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise BenchError(f"redis-server did not answer on port {port}")


# -------------------------------------------------------------------------------------------------- report


def _format(value: float | None, spec: str) -> str:
    return "n/a" if value is None else f"{value:{spec}}"


def table(report: dict[str, Any]) -> str:
    box, settings = report["machine"], report["settings"]
    lines = [
        "vendor-sandbox pipeline benchmark (a machine shared with other work: compare within one run)",
        f"machine:  {box['cpu_model']}, {box['cores']} cores ({box['usable_cores']} usable), "
        f"Python {box['python']}",
        f"busy:     load average {box['load_average']} (1/5/15 min, at the end)",
        f"packages: {', '.join(f'{name} {version}' for name, version in box['packages'].items())}",
        f"loader:   {report['loader_description']}",
        f"emulator: {settings['emulator_command']}",
    ]
    if report["prism"]["path"]:
        lines.append(f"prism:    {report['prism']['version']}, `prism mock` on {report['prism']['model']}")
    if report["wiremock"]["path"]:
        lines.append(f"wiremock: {report['wiremock']['version']}, one canned stub per operation (our answer)")
    for name, note in report["not_measured"].items():
        lines.append(f"{name}: {note}")
    lines += [
        f"load:     {settings['duration_s']:g} s per server and operation, in {settings['rounds']} rounds of "
        f"{settings['round_s']:g} s rotating between the servers, after a {settings['warmup_s']:g} s "
        "warm-up; p50/p99: medians over the rounds",
    ]
    for operation, figures in report["operations"].items():
        lines += ["", f"{operation} ({figures['request']})"]
        lines.append(
            f"  {'server':<30} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms/req':>10} "
            f"{'errors':>6} {'bytes':>6}"
        )
        for name, result in figures["servers"].items():
            lines.append(
                f"  {LABELS[name]:<30} {result['requests_per_second']:>10.0f} {result['p50_ms']:>7.2f} "
                f"{result['p99_ms']:>7.2f} {_format(result['server_cpu_ms_per_request'], '.3f'):>10} "
                f"{result['errors']:>6} {result['response_bytes']:>6}"
            )
        if figures["ratios"]:
            lines.append(f"  {'ratio':<30} {'req/s':>10} {'(rounds)':>13} {'p99':>7}")
            for pair, ratio in figures["ratios"].items():
                ours, other = pair.split("/")
                spread = f"{ratio['throughput_rounds_min']:.2f}-{ratio['throughput_rounds_max']:.2f}"
                lines.append(
                    f"  {ours + ' / ' + other:<30} {ratio['throughput']:>9.2f}x {spread:>13} "
                    f"{ratio['p99_latency']:>6.2f}x"
                )
    lines += ["", "start-up (spawn -> first answered request), median:"]
    for name, result in report["startup"].items():
        each = ", ".join(f"{value:.0f}" for value in result["runs_ms"])
        what = "emulator, on a seeded data directory" if name == "sqlite" else LABELS[name]
        lines.append(f"  {what:<38} {result['median_ms']:>7.0f} ms   (runs: {each} ms)")
    return "\n".join(lines)


def parse_arguments(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per server and operation (10)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds each measurement is split into (5)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (16)")
    parser.add_argument(
        "--loader", choices=("auto", "wrk", "python"), default="auto", help="auto: wrk if found"
    )
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument(
        "--warmup", type=float, default=None, help="warm-up seconds (default min(1, duration))"
    )
    parser.add_argument("--startup-runs", type=int, default=3, help="start-up measurements per server (3)")
    parser.add_argument(
        "--servers",
        default=",".join(DEFAULT_SERVERS),
        help=f"comma-separated, of {', '.join(DEFAULT_SERVERS)}",
    )
    parser.add_argument(
        "--prism", default="auto", metavar="auto|none|PATH", help="Stoplight Prism to compare with"
    )
    parser.add_argument("--wiremock", default="auto", metavar="auto|none|JAR", help="WireMock standalone jar")
    parser.add_argument("--json", dest="json_file", default=None, help="also write the figures to this file")
    arguments = parser.parse_args(argv)
    servers = tuple(item.strip() for item in arguments.servers.split(",") if item.strip())
    unknown = sorted(set(servers) - set(DEFAULT_SERVERS))
    if unknown:
        parser.error(f"unknown server(s) {', '.join(unknown)}; choose from {', '.join(DEFAULT_SERVERS)}")
    if (
        arguments.duration <= 0
        or arguments.connections < 1
        or arguments.rounds < 1
        or arguments.startup_runs < 1
    ):
        parser.error("--duration, --connections, --rounds and --startup-runs must be positive")
    return Options(
        duration=arguments.duration,
        rounds=arguments.rounds,
        connections=arguments.connections,
        loader=arguments.loader,
        wrk_threads=arguments.wrk_threads,
        warmup=min(1.0, arguments.duration) if arguments.warmup is None else max(0.0, arguments.warmup),
        startup_runs=arguments.startup_runs,
        servers=servers,
        prism=arguments.prism,
        wiremock=arguments.wiremock,
        json_file=Path(arguments.json_file) if arguments.json_file else None,
    )


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
