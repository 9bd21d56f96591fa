"""Who made the calls in a journal: the clients the retry verdict and the tolerance report judge.

A client is an application and a user agent; admin calls, LWA exchanges, calls to no operation and
unauthenticated calls belong to none. Nothing here imports Flask.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mockserver.journal import JournalEntry


@dataclass
class Client:
    application: str
    user_agent: str
    entries: list[JournalEntry] = field(default_factory=list)


def request_header(entry: JournalEntry, name: str) -> str:
    """A request header of the exchange (`name` in lower case), or ""."""
    for key, value in entry.request_headers.items():
        if key.lower() == name:
            return str(value)
    return ""


def clients_of(entries: Iterable[JournalEntry]) -> list[Client]:
    """The journal's exchanges grouped by client, in the order each client first appears."""
    found: dict[tuple[str, str], Client] = {}
    for entry in entries:
        if entry.operation is None or entry.application is None:
            continue  # admin calls, LWA, unknown routes, unauthenticated calls
        key = (entry.application, request_header(entry, "user-agent"))
        found.setdefault(key, Client(*key)).entries.append(entry)
    return list(found.values())


def request_json(body: Any) -> Any:
    """A request body as the journal keeps it (the bytes sent), parsed; text where it is not JSON."""
    if isinstance(body, bytes | bytearray):
        try:
            return json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return body.decode("utf-8", errors="replace")
    return body
