"""The contract-testing commands of `vendor-sandbox`: verify-server, report conformance, proxy, replay."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8000"


def _write_bundle(arguments: argparse.Namespace) -> int:
    from mockserver.contracts.loader import contract_files
    from mockserver.contracts.registry import DEFAULT_CONTRACTS
    from mockserver.testing.verify import BundleError, bundle_contracts

    directory = Path(arguments.contracts) if arguments.contracts else DEFAULT_CONTRACTS
    target = Path(arguments.write_bundle)
    dropped: list[str] = []
    try:
        bundle = bundle_contracts(contract_files(directory), dropped)
        if target.suffix.lower() == ".json":
            text = json.dumps(bundle, indent=2)
        else:
            import yaml

            text = yaml.safe_dump(bundle, sort_keys=False, allow_unicode=True)
        target.write_text(text, encoding="utf-8")
    except (BundleError, OSError) as error:
        print(f"vendor-sandbox: no bundle of {directory}: {error}", file=sys.stderr)
        return 2
    for note in dropped:
        print(f"vendor-sandbox: left out {note}", file=sys.stderr)
    print(f"wrote {len(bundle['paths'])} path(s) of {directory} as one OpenAPI document to {target}")
    return 0


def _verify_server(arguments: argparse.Namespace) -> int:
    from mockserver.testing.verify import SEED, verify_server

    if arguments.write_bundle:
        return _write_bundle(arguments)
    if not arguments.url:
        print(
            "vendor-sandbox: verify-server needs the server's URL (or --write-bundle FILE)", file=sys.stderr
        )
        return 2

    credentials = {
        "client_id": arguments.client_id,
        "client_secret": arguments.client_secret,
        "refresh_token": arguments.refresh_token,
        "token_url": arguments.token_url,
    }
    phases = tuple(item.strip() for item in arguments.phases.split(",") if item.strip())
    try:
        result = verify_server(
            arguments.url,
            Path(arguments.contracts) if arguments.contracts else None,
            token=arguments.token,
            max_examples=arguments.max_examples,
            seed=SEED if arguments.seed is None else arguments.seed,
            phases=phases,
            progress=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
            **credentials,
        )
    except ModuleNotFoundError as error:
        from mockserver.testing import TOOLKIT_INSTALL

        print(
            f"vendor-sandbox: verify-server needs {error.name}: install the toolkit with `{TOOLKIT_INSTALL}`",
            file=sys.stderr,
        )
        return 2
    except (RuntimeError, OSError) as error:
        print(f"vendor-sandbox: {error}", file=sys.stderr)
        return 2
    print(result.summary())
    if arguments.junit:
        Path(arguments.junit).write_text(result.junit_xml(), encoding="utf-8")
    return 0 if result.ok else 1


def _admin_get(url: str, path: str, admin_token: str | None) -> Any:
    import requests

    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    response = requests.get(f"{url.rstrip('/')}{path}", headers=headers, timeout=30)
    response.raise_for_status()
    return response


def _report_conformance(arguments: argparse.Namespace) -> int:
    import requests

    from mockserver.conformance import junit_xml, render_text

    try:
        report = _admin_get(arguments.url, "/_sandbox/report/conformance", arguments.admin_token).json()
    except requests.RequestException as error:
        print(f"vendor-sandbox: no conformance report from {arguments.url}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if arguments.json else render_text(report))
    if arguments.junit:
        Path(arguments.junit).write_text(junit_xml(report), encoding="utf-8")
    return 0 if report["conforms"] else 1


def _proxy(arguments: argparse.Namespace) -> int:
    from mockserver.contracts.loader import ContractError
    from mockserver.proxy import serve_proxy
    from mockserver.server import ServeError

    try:
        return serve_proxy(
            arguments.target,
            host=arguments.host,
            port=arguments.port,
            contracts=Path(arguments.contracts) if arguments.contracts else None,
            har=Path(arguments.har) if arguments.har else None,
        )
    except (ValueError, ContractError, OSError, ServeError) as error:
        print(f"vendor-sandbox proxy: {_reason(error)}", file=sys.stderr)
        return 2


def _replay(arguments: argparse.Namespace) -> int:
    from mockserver.proxy import RecordingError, serve_replay
    from mockserver.server import ServeError

    try:
        return serve_replay(Path(arguments.recording), host=arguments.host, port=arguments.port)
    except (RecordingError, OSError, ServeError) as error:
        print(f"vendor-sandbox replay: {_reason(error)}", file=sys.stderr)
        return 2


def _reason(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror and not error.filename:
        return f"cannot listen: {error.strerror}"  # e.g. the address is in use
    return str(error)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 (any free one) to 65535, not {port}")
    return port


def add_toolkit_commands(commands: Any) -> None:
    verify = commands.add_parser(
        "verify-server", help="run the contracts (Schemathesis) against a server; non-zero exit on failures"
    )
    verify.add_argument("url", nargs="?", help="base URL of the server, e.g. http://127.0.0.1:8000")
    verify.add_argument("--contracts", default=None, help="contracts directory (default: the bundled ones)")
    verify.add_argument("--max-examples", type=int, default=10, help="generated examples per operation")
    verify.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the generated data (same seed, same run; default fixed)",
    )
    verify.add_argument("--junit", default=None, help="write a JUnit XML report here")
    verify.add_argument(
        "--phases", default="examples,coverage,fuzzing,stateful", help="Schemathesis phases to run"
    )
    verify.add_argument("--token", default=None, help="a ready access token (skips LWA)")
    verify.add_argument("--client-id", default=None, help="LWA client id (default: a demo account's)")
    verify.add_argument("--client-secret", default=None)
    verify.add_argument("--refresh-token", default=None)
    verify.add_argument("--token-url", default=None, help="LWA token URL (default: URL/auth/o2/token)")
    verify.add_argument(
        "--write-bundle",
        default=None,
        metavar="FILE",
        help="only write the contracts as the one OpenAPI document verify-server runs (.json or .yaml), "
        "for Schemathesis or another tool of your own",
    )
    verify.set_defaults(handler=_verify_server)

    report = commands.add_parser("report", help="reports of a running emulator")
    report_commands = report.add_subparsers(dest="report_command", required=True)
    conformance = report_commands.add_parser(
        "conformance", help="a client's conformance: calls and violations per operation; exit 1 on violations"
    )
    conformance.add_argument("--url", default=DEFAULT_URL, help=f"the emulator (default {DEFAULT_URL})")
    conformance.add_argument("--junit", default=None, help="write a JUnit XML report here")
    conformance.add_argument("--json", action="store_true", help="print the report as JSON")
    conformance.add_argument("--admin-token", default=None, help="the emulator's --admin-token")
    conformance.set_defaults(handler=_report_conformance)
    from mockserver.chaos.commands import add_report_retries

    add_report_retries(report_commands)
    from mockserver.chaos.tolerance_command import add_report_tolerance

    add_report_tolerance(report_commands)

    proxy = commands.add_parser(
        "proxy", help="forward to another endpoint, validating both ways and recording the journal"
    )
    proxy.add_argument("--target", required=True, help="the endpoint to forward to")
    proxy.add_argument("--host", default="127.0.0.1")
    proxy.add_argument("--port", type=_port, default=8001, help="port (default 8001; 0 picks a free one)")
    proxy.add_argument("--contracts", default=None, help="contracts directory (default: the bundled ones)")
    proxy.add_argument("--har", default=None, help="write the recording as HAR here on exit")
    proxy.set_defaults(handler=_proxy)

    replay = commands.add_parser("replay", help="serve a recording (HAR or journal JSON) back as fixtures")
    replay.add_argument("recording", help="a HAR file or a GET /_sandbox/journal JSON document")
    replay.add_argument("--host", default="127.0.0.1")
    replay.add_argument("--port", type=_port, default=8002, help="port (default 8002; 0 picks a free one)")
    replay.set_defaults(handler=_replay)


__all__ = ["add_toolkit_commands"]
