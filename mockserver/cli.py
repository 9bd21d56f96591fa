"""The `vendor-sandbox` command line: serve | accounts | contracts."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import Any

from mockserver import __version__
from mockserver.settings import Settings, SettingsError, load_settings


def _settings_from(arguments: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        "host": arguments.host,
        "port": arguments.port,
        "data_dir": arguments.data_dir,
        "store": arguments.store,
        "mode": arguments.mode,
        "region": arguments.region,
        "contracts_dir": arguments.contracts,
        "models_dir": arguments.models_dir,
        "seed": arguments.seed,
        "faults_file": arguments.faults,
        "rate_scale": arguments.rate_scale,
        "token_lifetime": arguments.token_lifetime,
        "seed_size": arguments.seed_size,
        "processing_delay": arguments.processing_delay,
        "report_processing_time": arguments.report_processing_time,
        "journal_size": arguments.journal_size,
        "journal_bytes": arguments.journal_bytes,
        "workers": arguments.workers,
        "threads": arguments.threads,
        "fsync": arguments.fsync,
        "admin_token": arguments.admin_token,
        "public_url": arguments.public_url,
    }
    if arguments.no_rate_limits:
        overrides["rate_limits"] = False
    if getattr(arguments, "strict", False):
        overrides["strict"] = True
    return load_settings(Path(arguments.config) if arguments.config else None, **overrides)


def _fail(message: object) -> int:
    print(f"vendor-sandbox: {message}", file=sys.stderr)
    return 2


def _serve(arguments: argparse.Namespace) -> int:
    # Start-up makes a few hundred thousand objects (modules, contracts, validators, the world's indexes) that
    # all live as long as the server: the collector's passes over them were a fifth of the time to the first
    # answer. `serve` turns it on again once the app is built and frozen out of its sight, before forking.
    collecting = gc.isenabled()
    gc.disable()
    try:
        from mockserver.chaos.plan import PlanError
        from mockserver.contracts.loader import ContractError
        from mockserver.resources import MissingDataError
        from mockserver.server import ServeError, StoreDamaged, serve

        try:
            return serve(_settings_from(arguments), reset=arguments.reset)
        except (SettingsError, ServeError, StoreDamaged, ContractError, PlanError, MissingDataError) as error:
            return _fail(error)
    finally:
        if collecting:
            gc.enable()


def _accounts(arguments: argparse.Namespace) -> int:
    from mockserver.accounts import load_accounts

    # The demo credentials come from fixtures/ and are the same whatever the data directory.
    directory = load_accounts(Settings().fixtures_dir)
    described = directory.describe()
    if arguments.json:
        print(json.dumps(described, indent=2))
        return 0
    for item in described:
        access = "read-only" if item["read_only"] else "writable"
        print(
            f"{item['name']:<18} {item['region']}  {access:<9}  "
            f"vendor codes {', '.join(item['vendor_codes'])}"
            f"  (application {item['application']})"
        )
        print(f"    client_id     {item['client_id']}")
        print(f"    client_secret {item['client_secret']}")
        print(f"    refresh_token {item['refresh_token']}")
    return 0


def _contracts_diff(arguments: argparse.Namespace) -> int:
    from mockserver.contracts.diff import diff_directories
    from mockserver.contracts.loader import ContractError
    from mockserver.contracts.registry import DEFAULT_CONTRACTS

    ours = Path(arguments.contracts) if arguments.contracts else DEFAULT_CONTRACTS
    try:
        differences = diff_directories(ours, Path(arguments.against))
    except (ContractError, OSError) as error:
        print(f"vendor-sandbox: {error}", file=sys.stderr)
        return 2
    for difference in differences:
        print(difference)
    print(f"{len(differences)} difference(s) between {ours} and {arguments.against}")
    return 1 if differences else 0


def _contracts_fetch(arguments: argparse.Namespace) -> int:
    from mockserver.contracts.fetch import FetchError, fetch_official_models

    if arguments.output:
        target = Path(arguments.output)
    else:
        try:
            target = load_settings().official_models_dir
        except SettingsError as error:
            return _fail(error)
    try:
        written = fetch_official_models(arguments.url, target)
    except FetchError as error:
        print(f"vendor-sandbox: {error}", file=sys.stderr)
        return 1
    print(f"fetched {len(written)} official model file(s) into {target}")
    return 0


def _coverage(arguments: argparse.Namespace) -> int:
    import tempfile

    from mockserver.app import Sandbox
    from mockserver.contracts.loader import load_operations
    from mockserver.coverage import coverage_markdown

    with tempfile.TemporaryDirectory() as scratch:
        sandbox = Sandbox(Settings(store="memory", data_dir=Path(scratch)))
        rows = sandbox.coverage()
        sandbox.close()
    static_counts: dict[tuple[str, str], int] = {}
    if arguments.official:
        for operation in load_operations(Path(arguments.official)):
            static_counts[(operation.method, operation.path)] = len(operation.static_cases)
    if arguments.markdown:
        print(coverage_markdown(rows, static_counts), end="")
    else:
        print(json.dumps(rows, indent=2))
    return 0


def _health(arguments: argparse.Namespace) -> int:
    """Exit 0 when the emulator at the URL answers its health call with ok (a container's healthcheck)."""
    import requests

    url = arguments.url
    if url is None:
        try:
            port = load_settings().port
        except SettingsError as error:
            return _fail(error)
        url = f"http://127.0.0.1:{port}"
    try:
        response = requests.get(f"{url.rstrip('/')}/_sandbox/health", timeout=arguments.timeout)
        body = response.json()
    except (requests.RequestException, ValueError) as error:
        print(f"vendor-sandbox: no health answer from {url}: {error}", file=sys.stderr)
        return 1
    if response.status_code != 200 or body.get("status") != "ok":
        problem = body.get("store", {}).get("problem") if isinstance(body, dict) else None
        print(f"vendor-sandbox: {url} is not healthy: {problem or response.text[:200]}", file=sys.stderr)
        return 1
    print(f"{url}: ok")
    return 0


def build_parser(only_serve: bool = False) -> argparse.ArgumentParser:
    """The command line's parser. `only_serve` leaves out every command but `serve`, whose parser is the
    same either way: the others' modules (report policies, snapshots, the toolkit) are a few percent of the
    server's start-up, and nothing `serve` parses needs them."""
    parser = argparse.ArgumentParser(
        prog="vendor-sandbox", description="Local emulator of Amazon's Selling Partner API Vendor APIs."
    )
    parser.add_argument("--version", action="version", version=f"vendor-sandbox {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_serve_command(commands)
    if not only_serve:
        _add_other_commands(commands)
    return parser


def _add_serve_command(commands: Any) -> None:
    serve = commands.add_parser("serve", help="run the emulator")
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--data-dir", default=None, help="where state is kept (default ./.vendor-sandbox)")
    serve.add_argument(
        "--store",
        default=None,
        metavar="sqlite|memory|redis://HOST:PORT/DB",
        help="where state is kept (default sqlite, in --data-dir); Redis is shared by several processes",
    )
    serve.add_argument("--mode", choices=("dynamic", "static"), default=None, help="default dynamic")
    serve.add_argument("--region", choices=("na", "eu", "fe"), default=None, help="default na")
    serve.add_argument("--contracts", default=None, help="serve from this directory of contracts instead")
    serve.add_argument(
        "--models-dir",
        default=None,
        help="Amazon's official models, for static mode (default: where `contracts fetch` puts them)",
    )
    serve.add_argument("--seed", type=int, default=None, help="seed for generated data")
    serve.add_argument("--rate-scale", type=float, default=None, help="multiply every rate and burst")
    serve.add_argument("--no-rate-limits", action="store_true", help="turn throttling off")
    serve.add_argument(
        "--strict", action="store_true", help="strict mode: Amazon's requirements beyond the schema"
    )
    serve.add_argument(
        "--faults", default=None, help="a fault plan (YAML or JSON) to apply from the start, or `drift`"
    )
    serve.add_argument("--token-lifetime", type=int, default=None, help="LWA token lifetime in seconds")
    serve.add_argument(
        "--seed-size", type=int, default=None, help="purchase orders (and DF orders) seeded per account (300)"
    )
    serve.add_argument(
        "--processing-delay", type=float, default=None, help="seconds before a transaction is decided (1)"
    )
    serve.add_argument(
        "--report-processing-time",
        type=float,
        default=None,
        help="sandbox seconds from createReport to DONE (2)",
    )
    serve.add_argument("--journal-size", type=int, default=None, help="journal entries kept (10000)")
    serve.add_argument(
        "--journal-bytes", type=int, default=None, help="bytes of recorded exchanges kept (32 MiB)"
    )
    serve.add_argument(
        "--workers", type=int, default=None, help="processes serving over the shared store (default 1)"
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=None,
        help="Python threads per process (default 1; more keep a latency fault from holding up others)",
    )
    serve.add_argument(
        "--fsync",
        action="store_true",
        default=None,
        help="SQLite: sync every accepted write to disk (survives a power loss, not only a crash)",
    )
    serve.add_argument("--admin-token", default=None, help="require this bearer token on /_sandbox/")
    serve.add_argument(
        "--public-url", default=None, help="where report document URLs point (default: the serving address)"
    )
    serve.add_argument("--config", default=None, help="YAML settings file")
    serve.add_argument(
        "--reset", action="store_true", help="remove the data directory's state first: a new seeded world"
    )
    serve.set_defaults(handler=_serve)


def _add_other_commands(commands: Any) -> None:
    from mockserver.contracts.fetch import DEFAULT_MODELS_URL
    from mockserver.snapshot_commands import add_snapshot_commands
    from mockserver.toolkit_cli import add_toolkit_commands

    accounts = commands.add_parser("accounts", help="list the demo accounts and their credentials")
    accounts.add_argument("--json", action="store_true", help="print a JSON list")
    accounts.add_argument("--data-dir", default=None, help="accepted and ignored: credentials are fixed")
    accounts.set_defaults(handler=_accounts)

    health = commands.add_parser("health", help="exit 0 when a running emulator is healthy")
    health.add_argument(
        "--url", default=None, help="the emulator (default http://127.0.0.1:PORT of the settings)"
    )
    health.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer")
    health.set_defaults(handler=_health)

    coverage = commands.add_parser("coverage", help="how each operation is answered")
    coverage.add_argument("--markdown", action="store_true", help="the Markdown table of docs/COVERAGE.md")
    coverage.add_argument("--official", default=None, help="official models dir, to count static cases")
    coverage.set_defaults(handler=_coverage)

    contracts = commands.add_parser("contracts", help="work with API contracts")
    contract_commands = contracts.add_subparsers(dest="contracts_command", required=True)
    diff = contract_commands.add_parser("diff", help="list every difference in facts from official models")
    diff.add_argument("--against", required=True, help="directory of official models (searched recursively)")
    diff.add_argument("--contracts", help="our contracts directory (default: the bundled contracts/)")
    diff.set_defaults(handler=_contracts_diff)
    fetch = contract_commands.add_parser("fetch", help="download Amazon's official models (for static mode)")
    fetch.add_argument("--url", default=DEFAULT_MODELS_URL, help="zip archive of the models repository")
    fetch.add_argument(
        "--output",
        default=None,
        help="store them here instead of the shared models directory (VENDOR_SANDBOX_MODELS_DIR, "
        "default ~/.cache/vendor-sandbox/official-models), where serve and the pytest plugin look",
    )
    fetch.set_defaults(handler=_contracts_fetch)
    add_snapshot_commands(commands)
    add_toolkit_commands(commands)


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    parser = build_parser(only_serve=given[:1] == ["serve"])
    arguments = parser.parse_args(argv)
    return int(arguments.handler(arguments) or 0)


if __name__ == "__main__":
    sys.exit(main())
