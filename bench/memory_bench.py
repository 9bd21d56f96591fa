"""Server memory under a long mixed load: RSS of `vendor-sandbox serve` after N requests, large pages too.

    python bench/memory_bench.py [--requests 1000000] [--connections 16] [--chunk-seconds 30] [--json FILE]

Serves `python -m mockserver serve` in its default configuration (SQLite store in a scratch data directory,
default journal budget) with usage plans off (`--no-rate-limits`: a load generator is not a client), obtains a
token and loads it with wrk (from Debian's `wrk` package) running a mix of calls:

| share | call |
|---|---|
| 35% | getPurchaseOrders, limit=100 with details (~170 KB answers) |
| 30% | getPurchaseOrders, limit=10 |
| 20% | getPurchaseOrder of a known PO |
| 10% | getPurchaseOrdersStatus, limit=50 |
| 5% | submitAcknowledgement (a new transaction each, stored on disk) |

in chunks of --chunk-seconds until --requests were answered, printing after each chunk the requests so far,
the server's resident memory (VmRSS) and the journal's size. The start-up RSS is the baseline the growth is
measured against. A benchmark, not a test: it prints figures and judges nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

REPOSITORY = Path(__file__).resolve().parents[1]

LUA = r"""
local calls = {}
local weights = {}
function init(args)
  local token = args[1]
  local number = args[2]
  local headers = {["x-amz-access-token"] = token}
  local post = {["x-amz-access-token"] = token, ["Content-Type"] = "application/json"}
  local ack = '{"acknowledgements":[{"purchaseOrderNumber":"' .. number ..
    '","sellingParty":{"partyId":"ACME1"},"acknowledgementDate":"2026-01-01T00:00:00Z","items":[]}]}'
  calls = {
    wrk.format("GET", "/vendor/orders/v1/purchaseOrders?limit=100&includeDetails=true", headers),
    wrk.format("GET", "/vendor/orders/v1/purchaseOrders?limit=10", headers),
    wrk.format("GET", "/vendor/orders/v1/purchaseOrders/" .. number, headers),
    wrk.format("GET", "/vendor/orders/v1/purchaseOrdersStatus?limit=50", headers),
    wrk.format("POST", "/vendor/orders/v1/acknowledgements", post, ack),
  }
  weights = {35, 30, 20, 10, 5}
end
function request()
  local pick = math.random(100)
  for index, weight in ipairs(weights) do
    if pick <= weight then return calls[index] end
    pick = pick - weight
  end
  return calls[1]
end
"""


def _rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _token(base_url: str) -> str:
    output = subprocess.run(
        [sys.executable, "-m", "mockserver", "accounts", "--json"], capture_output=True, text=True, check=True
    ).stdout
    account = next(item for item in json.loads(output) if item["name"] == "acme-na")
    response = requests.post(
        f"{base_url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": account["refresh_token"],
            "client_id": account["client_id"],
            "client_secret": account["client_secret"],
        },
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _wrk(base_url: str, script: Path, token: str, number: str, connections: int, seconds: float) -> int:
    """Requests wrk completed in one chunk (non-2xx answers included: they are answers too)."""
    result = subprocess.run(
        [
            "wrk",
            f"-t{min(4, connections)}",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "-s",
            str(script),
            base_url,
            "--",
            token,
            number,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"(\d+) requests in", result.stdout)
    if not match:
        raise RuntimeError(f"no request count from wrk: {result.stdout}{result.stderr}")
    return int(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--chunk-seconds", type=float, default=30.0)
    parser.add_argument("--json", default=None, help="write the figures here as JSON")
    arguments = parser.parse_args()
    if shutil.which("wrk") is None:
        print("memory_bench: needs wrk (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="vendor-sandbox-memory-"))
    script = scratch / "mix.lua"
    script.write_text(LUA, encoding="utf-8")
    server = subprocess.Popen(
        [sys.executable, "-m", "mockserver", "serve", "--port", "0", "--no-rate-limits"],
        cwd=scratch,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    rows: list[dict[str, Any]] = []
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if not match:
            raise RuntimeError(f"the emulator did not start: {line!r}")
        base_url = match.group(1)
        token = _token(base_url)
        number = requests.get(
            f"{base_url}/vendor/orders/v1/purchaseOrders",
            params={"limit": 1},
            headers={"x-amz-access-token": token},
            timeout=30,
        ).json()["payload"]["orders"][0]["purchaseOrderNumber"]
        baseline = _rss_kib(server.pid)
        print(
            f"vendor-sandbox serve (SQLite, default journal budget) at start: RSS {baseline / 1024:.1f} MiB"
        )
        print(
            f"{'requests':>10} {'RSS MiB':>8} {'growth MiB':>10} {'journal entries':>15} {'journal MiB':>11}"
        )
        done = 0
        started = time.monotonic()
        while done < arguments.requests:
            done += _wrk(base_url, script, token, number, arguments.connections, arguments.chunk_seconds)
            rss = _rss_kib(server.pid)
            journal = requests.get(f"{base_url}/_sandbox/journal/stats", timeout=60).json()
            row = {
                "requests": done,
                "rss_mib": round(rss / 1024, 1),
                "growth_mib": round((rss - baseline) / 1024, 1),
                "journal_entries": journal["entries"],
                "journal_mib": round(journal["bytes"] / 1024 / 1024, 1),
            }
            rows.append(row)
            print(
                f"{row['requests']:>10} {row['rss_mib']:>8} {row['growth_mib']:>10} "
                f"{row['journal_entries']:>15} {row['journal_mib']:>11}",
                flush=True,
            )
        peak = max(row["rss_mib"] for row in rows)
        print(
            f"after {done} requests in {time.monotonic() - started:.0f} s: RSS {rows[-1]['rss_mib']} MiB, "
            f"peak {peak} MiB, start {baseline / 1024:.1f} MiB"
        )
        if arguments.json:
            Path(arguments.json).write_text(
                json.dumps({"baseline_mib": round(baseline / 1024, 1), "rows": rows}, indent=2),
                encoding="utf-8",
            )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
