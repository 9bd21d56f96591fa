"""Reading the admin API's input: every bad value is Amazon's 400 `InvalidInput` naming it, never a 500.

Handlers raise `AdminInputError`; app.py answers it in Amazon's error shape.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from mockserver import wire
from mockserver.journal import Journal, JournalEntry


class AdminInputError(ValueError):
    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(f"{message} {details}".strip())
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        return {"errors": [{"code": "InvalidInput", "message": self.message, "details": self.details}]}


def json_body(what: str, *, required: bool = True) -> Any:
    """The request's JSON body (None when empty and not required)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise AdminInputError(f"Invalid {what}.", "The body must be JSON.")
        return None
    try:
        return wire.loads_input(raw)
    except wire.InvalidJson as error:
        raise AdminInputError(f"Invalid {what}.", f"The body is not usable JSON: {error}") from None


def json_object(what: str, *, required: bool = True) -> dict[str, Any]:
    """The request's body as a JSON object ({} when empty and not required)."""
    document = json_body(what, required=required)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise AdminInputError(f"Invalid {what}.", "Send a JSON object.")
    return document


def int_arg(name: str, *, minimum: int, maximum: int, what: str = "admin request") -> int | None:
    """A whole-number query parameter within bounds, or None when absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not (text.lstrip("-").isdigit() and len(text) <= 19):
        raise AdminInputError(f"Invalid {what}.", f"{name} must be a whole number, not {raw[:40]!r}.")
    value = int(text)
    if not minimum <= value <= maximum:
        raise AdminInputError(f"Invalid {what}.", f"{name} must be from {minimum} to {maximum}, not {value}.")
    return value


def float_arg(name: str, what: str = "admin request") -> float | None:
    """A finite number query parameter, or None when absent."""
    raw = request.args.get(name)
    if raw is None:
        return None
    return finite_number(raw, name, what)


def finite_number(value: Any, name: str, what: str | None = None) -> float:
    """`value` as a finite float, or an AdminInputError naming `name`."""
    message = f"Invalid {what or name}."
    if isinstance(value, bool):
        raise AdminInputError(message, f"{name} must be a number.")
    try:
        number = float(value) if len(str(value)) <= 40 else math.nan
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise AdminInputError(message, f"{name} must be a finite number, not {str(value)[:40]!r}.")
    return number


REPORT_FILTERS = frozenset({"format", "since", "after"})


def journal_window(journal: Journal, what: str) -> list[JournalEntry]:
    """The journal's entries a report judges: all, or from `since` (epoch seconds) or `after` a sequence."""
    since = float_arg("since", what=what)
    after = int_arg("after", minimum=0, maximum=2**62, what=what)
    return [
        entry
        for entry in journal.entries()
        if (since is None or entry.time >= since) and (after is None or entry.sequence > after)
    ]


def report_answer(
    report: dict[str, Any], render: Callable[[Any], str], junit: Callable[[Any], str]
) -> ResponseReturnValue:
    """A report as `?format=` asks: JSON (the default), `text` or `junit`."""
    output = request.args.get("format", "json")
    if output == "junit":
        return Response(junit(report), content_type="application/xml")
    if output == "text":
        return Response(render(report) + "\n", content_type="text/plain; charset=utf-8")
    return jsonify(report)
