"""Which WSGI server `serve` runs: the same app, data directory and requests under each candidate.

    python bench/server_bench.py [--duration S] [--rounds N] [--connections N] [--candidates LIST]
                                 [--loader auto|wrk|python] [--json FILE]

The candidates serve the emulator in its default configuration (SQLite store, throttling off) from one
seeded data directory, each in its own process group, all up the whole time and loaded in rotating rounds
(so other work on the machine hits them alike) with getPurchaseOrders and submitAcknowledgement:

- `waitress-8`: waitress with 8 threads (how `serve` ran before granian);
- `waitress-1`: waitress with 1 thread;
- `granian-1x1`, `granian-1x2`, `granian-1x4`: granian, one process with 1, 2 or 4 Python threads;
- `granian-2x1`: granian, 2 worker processes of 1 thread (`serve --workers 2`; the runtime shared in SQLite).

It prints requests/s, p50/p99 latency and server CPU per request for each. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import atexit
import json
import shutil
import signal
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from harness import (  # noqa: E402
    HEALTH_PROBE,
    TARGETS,
    BenchError,
    Loader,
    Measurement,
    Server,
    _stop_all,
    _terminate,
    access_token,
    free_port,
    load_interleaved,
    machine,
    round_plan,
)

CANDIDATES = ("waitress-8", "waitress-1", "granian-1x1", "granian-1x2", "granian-1x4", "granian-2x1")
WAITRESS_RUNNER = """
import sys
from waitress import serve
from mockserver.app import create_app
from mockserver.settings import load_settings
import gc
port, threads, data_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
app = create_app(load_settings(data_dir=data_dir, rate_limits=False))
gc.freeze()
serve(app, host="127.0.0.1", port=port, threads=threads, connection_limit=4096, channel_timeout=60,
      clear_untrusted_proxy_headers=True, ident="vendor-sandbox", _quiet=True)
"""


def command(candidate: str, port: int, data_dir: Path, runner: Path) -> list[str]:
    server, shape = candidate.split("-")
    if server == "waitress":
        return [sys.executable, str(runner), str(port), shape, str(data_dir)]
    workers, threads = shape.split("x")
    return [
        sys.executable, "-m", "mockserver", "serve", "--port", str(port), "--no-rate-limits",
        "--data-dir", str(data_dir), "--workers", workers, "--threads", threads,
    ]  # fmt: skip


def run(arguments: argparse.Namespace) -> dict[str, Any]:
    loader_kind = arguments.loader
    if loader_kind == "auto":
        loader_kind = "wrk" if shutil.which("wrk") else "python"
    candidates = [item.strip() for item in arguments.candidates.split(",") if item.strip()]
    unknown = sorted(set(candidates) - set(CANDIDATES))
    if unknown:
        raise BenchError(f"unknown candidate(s) {', '.join(unknown)}; choose from {', '.join(CANDIDATES)}")
    with tempfile.TemporaryDirectory(prefix="vendor-sandbox-servers-") as scratch_name:
        scratch = Path(scratch_name)
        runner = scratch / "waitress_runner.py"
        runner.write_text(WAITRESS_RUNNER, encoding="utf-8")
        loader = Loader(loader_kind, arguments.connections, arguments.wrk_threads, scratch)
        servers: dict[str, tuple[Server, str]] = {}
        try:
            for candidate in candidates:
                # Each its own copy of one seeded world (two servers over one SQLite file would share it).
                data_dir = scratch / f"{candidate}-data"
                print(f"starting {candidate} ...", file=sys.stderr)
                port = free_port()
                server = Server(
                    candidate,
                    command(candidate, port, data_dir, runner),
                    scratch / f"{candidate}.log",
                    HEALTH_PROBE,
                    port,
                )
                servers[candidate] = (server, "")
                server.start()
                servers[candidate] = (server, access_token(port))
            rounds, seconds = round_plan(arguments.duration, arguments.rounds, loader.kind)
            results = load_interleaved(
                servers, TARGETS, loader, arguments.duration, arguments.rounds, 1.0, arguments.connections
            )
            description = loader.description
        finally:
            for server, _ in servers.values():
                server.stop()
    return {
        "machine": asdict(machine()),
        "loader_description": description,
        "rounds": rounds,
        "round_s": seconds,
        "operations": {
            target.operation: {
                name: asdict(Measurement.of(results[name][target.operation])) for name in servers
            }
            for target in TARGETS
        },
    }


def table(report: dict[str, Any]) -> str:
    box = report["machine"]
    lines = [
        "vendor-sandbox: which server (same app, SQLite store, throttling off; a shared machine: compare "
        "within one run)",
        f"machine: {box['cpu_model']}, {box['cores']} cores, Python {box['python']}, "
        f"load average {box['load_average']} at the end",
        f"loader:  {report['loader_description']}; {report['rounds']} rounds of {report['round_s']:g} s per "
        "server and operation, rotating",
    ]
    for operation, servers in report["operations"].items():
        lines += [
            "",
            operation,
            f"  {'server':<14} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'cpu ms/req':>10}",
        ]
        for name, result in servers.items():
            cpu = result["server_cpu_ms_per_request"]
            lines.append(
                f"  {name:<14} {result['requests_per_second']:>10.0f} {result['p50_ms']:>7.2f} "
                f"{result['p99_ms']:>7.2f} {'n/a' if cpu is None else f'{cpu:.3f}':>10}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per server and operation (10)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds each measurement is split into (5)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (16)")
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--candidates", default=",".join(CANDIDATES), help=", ".join(CANDIDATES))
    parser.add_argument("--json", dest="json_file", default=None)
    arguments = parser.parse_args(argv)
    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        report = run(arguments)
    except BenchError as error:
        print(f"server_bench: {error}", file=sys.stderr)
        return 1
    finally:
        _stop_all()
    print(table(report))
    if arguments.json_file:
        Path(arguments.json_file).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
