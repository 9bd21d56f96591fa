"""`vendor-sandbox report retries`: the retry verdict of a running emulator, as text, JSON or JUnit XML."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mockserver.chaos.verdict import RetryPolicy, junit_xml, render_text

DEFAULT_URL = "http://127.0.0.1:8000"
POLICY_OPTIONS = (
    ("max_attempts", int, "attempts per call, first one included"),
    ("min_backoff", float, "seconds a retry must wait after a failure"),
    ("growth_factor", float, "how much each wait must grow over the previous one"),
    ("min_wait_after_throttle", float, "seconds to wait after a 429 (default: min backoff)"),
)


def _report_retries(arguments: argparse.Namespace) -> int:
    query: dict[str, Any] = {}
    for name, _, _ in POLICY_OPTIONS:
        value = getattr(arguments, name)
        if value is not None:
            query[name] = value
    if arguments.allow_duplicates:
        query["no_duplicate_submissions"] = "false"
    if arguments.since is not None:
        query["since"] = arguments.since
    return print_report(arguments, "retries", "retry report", query, render_text, junit_xml)


def print_report(
    arguments: argparse.Namespace,
    report_path: str,
    what: str,
    query: dict[str, Any],
    render: Callable[[dict[str, Any]], str],
    junit: Callable[[dict[str, Any]], str],
) -> int:
    """`report retries|tolerance`: fetch `/_sandbox/report/<report_path>`, print it (text or `--json`), write
    `--junit`; exit 0 when it passed, 1 when not, 2 when there is no report."""
    import requests

    headers = {"Authorization": f"Bearer {arguments.admin_token}"} if arguments.admin_token else {}
    url = f"{arguments.url.rstrip('/')}/_sandbox/report/{report_path}"
    try:
        response = requests.get(url, params=query, headers=headers, timeout=30)
        response.raise_for_status()
        report = response.json()
    except (requests.RequestException, ValueError) as error:
        print(f"vendor-sandbox: no {what} from {arguments.url}: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if arguments.json else render(report))
    if arguments.junit:
        Path(arguments.junit).write_text(junit(report), encoding="utf-8")
    return 0 if report["passed"] else 1


def add_report_retries(report_commands: Any) -> None:
    """Register `report retries` under the `report` command's subparsers."""
    retries = report_commands.add_parser(
        "retries", help="per-client verdict on retry and backoff logic; exit 1 when a client fails"
    )
    retries.add_argument("--url", default=DEFAULT_URL, help=f"the emulator (default {DEFAULT_URL})")
    retries.add_argument("--junit", default=None, help="write a JUnit XML report here")
    retries.add_argument("--json", action="store_true", help="print the report as JSON")
    retries.add_argument("--admin-token", default=None, help="the emulator's --admin-token")
    retries.add_argument("--since", type=float, default=None, help="judge exchanges from this epoch time")
    defaults = RetryPolicy()
    for name, kind, description in POLICY_OPTIONS:
        retries.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            type=kind,
            default=None,
            help=f"{description} (default {getattr(defaults, name)})",
        )
    retries.add_argument(
        "--allow-duplicates", action="store_true", help="do not fail on duplicate submissions"
    )
    retries.set_defaults(handler=_report_retries)


__all__ = ["add_report_retries"]
