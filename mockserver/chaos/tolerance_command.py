"""`vendor-sandbox report tolerance`: the tolerance report of a running emulator (text, JSON or JUnit XML)."""

from __future__ import annotations

import argparse
from typing import Any

from mockserver.chaos.commands import DEFAULT_URL, print_report
from mockserver.chaos.tolerance import TolerancePolicy, junit_xml, render_text

POLICY_OPTIONS = (
    ("max_repeats_after_200", int, "identical requests allowed after a drifted 2xx answer"),
    ("repeat_window", float, "seconds after a drifted answer in which repeats count"),
    ("max_error_increase", float, "growth allowed in the share of the client's own errors"),
)


def _report_tolerance(arguments: argparse.Namespace) -> int:
    query: dict[str, Any] = {}
    for name, _, _ in POLICY_OPTIONS:
        value = getattr(arguments, name)
        if value is not None:
            query[name] = value
    if arguments.expect:
        query["expect"] = arguments.expect
    if arguments.polling_operations is not None:
        query["polling_operations"] = arguments.polling_operations
    if arguments.allow_echo:
        query["allow_echo"] = "true"
    if arguments.since is not None:
        query["since"] = arguments.since
    return print_report(arguments, "tolerance", "tolerance report", query, render_text, junit_xml)


def add_report_tolerance(report_commands: Any) -> None:
    """Register `report tolerance` under the `report` command's subparsers."""
    tolerance = report_commands.add_parser(
        "tolerance",
        help="per-client verdict on surviving drifted answers; exit 1 on FAIL or when nothing was drifted",
    )
    tolerance.add_argument("--url", default=DEFAULT_URL, help=f"the emulator (default {DEFAULT_URL})")
    tolerance.add_argument("--junit", default=None, help="write a JUnit XML report here")
    tolerance.add_argument("--json", action="store_true", help="print the report as JSON")
    tolerance.add_argument("--admin-token", default=None, help="the emulator's --admin-token")
    tolerance.add_argument("--since", type=float, default=None, help="judge exchanges from this epoch time")
    tolerance.add_argument(
        "--expect", default=None, help="operations the client must still reach after drift (comma-separated)"
    )
    tolerance.add_argument(
        "--polling-operations",
        default=None,
        help="operations whose repeats are polls (default getTransaction,getTransactionStatus)",
    )
    defaults = TolerancePolicy()
    for name, kind, description in POLICY_OPTIONS:
        tolerance.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            type=kind,
            default=None,
            help=f"{description} (default {getattr(defaults, name)})",
        )
    tolerance.add_argument(
        "--allow-echo", action="store_true", help="do not fail a client that sends invented fields back"
    )
    tolerance.set_defaults(handler=_report_tolerance)


__all__ = ["add_report_tolerance"]
