"""The journal: every exchange, bounded, newest last; later tools (reports, inspector) read from it."""

from __future__ import annotations

import base64
import logging
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from mockserver import wire

if TYPE_CHECKING:
    from mockserver.store.runtime import Runtime

log = logging.getLogger(__name__)

REDACTED = "***"
_SECRET_FIELDS = frozenset(
    {
        "x-amz-access-token",
        "authorization",
        "access_token",
        "refresh_token",
        "client_secret",
        "spapi_oauth_code",
        "restrictedDataToken",
        "x-amz-security-token",
    }
)
# `code` is a secret only as the authorization code of an LWA grant; `errors[].code` is Amazon's error code.
_GRANT_SECRET_FIELDS = frozenset({"code"})


@dataclass(slots=True)
class JournalEntry:
    """One recorded exchange: the request, the answer, who made it, how it was answered, and any fault."""

    sequence: int
    time: float
    request_id: str
    method: str
    path: str
    operation: str | None
    operation_id: str | None
    account: str | None
    application: str | None
    status: int
    latency_ms: float
    answered_by: str  # "stateful" | "generated" | "static-case" | "lwa" | "admin" | "error:<stage>"
    request_headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    request_body: Any = None
    response_body: Any = None
    notes: list[str] = field(default_factory=list)
    violations: list[dict[str, str]] = field(default_factory=list)  # strict mode: {"rule", "message"}
    fault: dict[str, Any] | None = None  # chaos: the fault injected into this exchange (pipeline/faults.py)
    drift: list[dict[str, Any]] | None = None  # chaos: drift and deprecation notices applied to the answer
    response_headers: dict[str, str] = field(default_factory=dict)  # as answered (the inspector shows them)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["request_body"] = _readable(self.request_body)
        data["response_body"] = _readable(self.response_body)
        return data


def _readable(body: Any) -> Any:
    """A body kept as raw bytes becomes JSON (redacted) when read; other values were redacted on record."""
    if not isinstance(body, bytes | bytearray):
        return body
    if not body:
        return None
    try:
        return redact(wire.loads_input(bytes(body)))
    except wire.InvalidJson:  # kept as it came: not JSON, or JSON no part of the emulator would read
        return body.decode("utf-8", errors="replace")


def redact(value: Any) -> Any:
    """Tokens and secrets never reach the journal."""
    if isinstance(value, dict):
        return _redact_dict(value)
    if isinstance(value, list):
        return _redact_list(value)
    return value


# Whether a `str` key names a secret, remembered: the journal copies every body on the request path, and the
# same few hundred property names come back on every request. Bounded, since keys may come from clients.
_SECRET_NAME_CACHE_SIZE = 4096
_secret_names: dict[str, bool] = {}


def _names_secret(key: Any) -> bool:
    secret = str(key).lower() in _SECRET_FIELDS or key in _SECRET_FIELDS
    if type(key) is str and len(_secret_names) < _SECRET_NAME_CACHE_SIZE:
        _secret_names[key] = secret
    return secret


def _redact_dict(value: dict[Any, Any]) -> dict[Any, Any]:
    # The same as redacting each item with `redact`, without a call per scalar.
    grant = "grant_type" in value
    known = _secret_names.get
    redacted: dict[Any, Any] = {}
    for key, item in value.items():
        secret = known(key) if type(key) is str else None
        if secret is None:
            secret = _names_secret(key)
        if secret or (grant and key in _GRANT_SECRET_FIELDS):
            redacted[key] = REDACTED
        elif isinstance(item, dict):
            redacted[key] = _redact_dict(item)
        elif isinstance(item, list):
            redacted[key] = _redact_list(item)
        else:
            redacted[key] = item
    return redacted


def _redact_list(value: list[Any]) -> list[Any]:
    return [
        _redact_dict(item)
        if isinstance(item, dict)
        else _redact_list(item)
        if isinstance(item, list)
        else item
        for item in value
    ]


# What an entry costs beyond its bodies and headers: the entry object, its fields, dicts and strings.
ENTRY_OVERHEAD_BYTES = 1024


def entry_bytes(entry: JournalEntry) -> int:
    """About how much memory an entry holds: its bodies (kept as the bytes that crossed the wire), its
    headers and query, and a fixed overhead."""
    size = ENTRY_OVERHEAD_BYTES
    for body in (entry.request_body, entry.response_body):
        if isinstance(body, bytes | bytearray | str):
            size += len(body)
        elif body is not None:
            size += len(wire.dumps(body))
    size += sum(len(name) + len(str(value)) for name, value in entry.request_headers.items())
    size += sum(len(name) + len(str(value)) for name, value in entry.response_headers.items())
    size += sum(len(name) + len(str(values)) for name, values in entry.query.items())
    return size


class Journal:
    """The newest exchanges, at most `size` entries and about `max_bytes` of memory: the oldest go first.

    A byte budget as well as a count, because entries differ by orders of magnitude: a page of 100 purchase
    orders is ~170 KB, a token exchange well under 1 KB."""

    def __init__(self, size: int, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.size = max(1, size)
        self.max_bytes = max(1, max_bytes)
        self._entries: deque[tuple[JournalEntry, int]] = deque()
        self._bytes = 0
        self._sequence = 0
        self._lock = threading.Lock()
        # Called with each entry as it is recorded (the metrics count exchanges here), outside the lock.
        self.observers: list[Callable[[JournalEntry], None]] = []

    def next_sequence(self) -> int:
        with self._lock:
            self._sequence += 1
            return self._sequence

    def record(self, entry: JournalEntry) -> None:
        cost = entry_bytes(entry)
        if entry.sequence <= 0:
            entry.sequence = self.next_sequence()
        with self._lock:
            self._entries.append((entry, cost))
            self._bytes += cost
            # The newest entry stays even when it alone is over the budget: the last exchange is always there.
            while len(self._entries) > 1 and (len(self._entries) > self.size or self._bytes > self.max_bytes):
                _, dropped = self._entries.popleft()
                self._bytes -= dropped
        self._observed(entry)

    def _observed(self, entry: JournalEntry) -> None:
        for observe in self.observers:
            try:
                observe(entry)
            except Exception:  # an observer's failure must not cost the client its answer
                log.exception("a journal observer failed")

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def entries(self) -> list[JournalEntry]:
        with self._lock:
            return [entry for entry, _ in self._entries]

    def query(
        self,
        *,
        operation: str | None = None,
        account: str | None = None,
        application: str | None = None,
        status: int | None = None,
        status_class: int | None = None,
        answered_by: str | None = None,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        after_sequence: int | None = None,
        limit: int = 100,
    ) -> list[JournalEntry]:
        """The newest `limit` entries (0: all) that pass every filter given, oldest first; `status_class` is
        the hundreds digit (4 for any 4xx)."""

        def keep(entry: JournalEntry) -> bool:
            return (
                (operation is None or operation in (entry.operation, entry.operation_id))
                and (account is None or entry.account == account)
                and (application is None or entry.application == application)
                and (status is None or entry.status == status)
                and (status_class is None or entry.status // 100 == status_class)
                and (answered_by is None or entry.answered_by.startswith(answered_by))
                and (request_id is None or entry.request_id == request_id)
                and (since is None or entry.time >= since)
                and (until is None or entry.time <= until)
                and (after_sequence is None or entry.sequence > after_sequence)
            )

        selected: Iterable[JournalEntry] = (entry for entry in self.entries() if keep(entry))
        result = list(selected)
        return result[-limit:] if limit > 0 else result


_BODIES = ("request_body", "response_body")
_FIELDS = tuple(
    item.name for item in fields(JournalEntry) if item.name not in _BODIES and item.name != "sequence"
)
_LENGTH = struct.Struct(">I")
_AS_BYTES = "bodies_as_bytes"


def encode_entry(entry: JournalEntry) -> bytes:
    """An entry as one record, for a journal shared between processes: the length of its JSON metadata, the
    metadata, then each body kept as bytes (as it crossed the wire), length first. The bodies stay out of the
    JSON: escaping a page of purchase orders into a JSON string cost more than the rest of the record."""
    data: dict[str, Any] = {name: getattr(entry, name) for name in _FIELDS}
    kept: list[bytes] = []
    as_bytes: list[str] = []
    for name in _BODIES:
        body = getattr(entry, name)
        if isinstance(body, bytes | bytearray):
            as_bytes.append(name)
            kept.append(bytes(body))
        else:  # a value (None, or what a proxy or a fault recorded): in the metadata
            data[name] = body
    data[_AS_BYTES] = as_bytes
    metadata = wire.dumps(data)
    parts = [_LENGTH.pack(len(metadata)), metadata]
    for body in kept:
        parts += (_LENGTH.pack(len(body)), body)
    return b"".join(parts)


def decode_entry(sequence: int, record: bytes) -> JournalEntry:
    if record[:1] == b"{":  # no length could start so (2 GB of metadata): a record of an earlier version
        return _decode_json_entry(sequence, record)
    (size,) = _LENGTH.unpack_from(record, 0)
    position = _LENGTH.size + size
    data = wire.loads(record[_LENGTH.size : position])
    for name in data.pop(_AS_BYTES):
        (size,) = _LENGTH.unpack_from(record, position)
        position += _LENGTH.size
        data[name] = record[position : position + size]
        position += size
    if position != len(record):
        raise ValueError(f"journal record {sequence}: {len(record) - position} bytes beyond its bodies")
    return JournalEntry(sequence=sequence, **data)


def _decode_json_entry(sequence: int, record: bytes) -> JournalEntry:
    """A record as versions before the bodies-as-bytes one wrote them, all JSON, each body as
    ["text", str], ["base64", str] or ["value", any]: a Redis journal outlives an upgrade of its emulators."""
    data = wire.loads(record)
    for name in _BODIES:
        kind, value = data[name]
        if kind == "text":
            data[name] = value.encode()
        elif kind == "base64":
            data[name] = base64.b64decode(value)
        else:
            data[name] = value
    return JournalEntry(sequence=sequence, **data)


class SharedJournal(Journal):
    """The journal of several processes, kept by the runtime they share (SQLite beside the data directory,
    or Redis): one sequence, one bound, one view, whichever process answered."""

    def __init__(self, runtime: Runtime, size: int, max_bytes: int = 64 * 1024 * 1024) -> None:
        super().__init__(size, max_bytes)
        self.runtime = runtime

    def next_sequence(self) -> int:
        return 0  # the runtime numbers each entry as it appends it

    def record(self, entry: JournalEntry) -> None:
        entry.sequence = self.runtime.journal_append(
            encode_entry(entry), entry_bytes(entry), self.size, self.max_bytes
        )
        self._observed(entry)

    @property
    def bytes(self) -> int:
        return self.runtime.journal_stats()[1]

    def __len__(self) -> int:
        return self.runtime.journal_stats()[0]

    def clear(self) -> None:
        self.runtime.journal_clear()

    def entries(self) -> list[JournalEntry]:
        return [decode_entry(sequence, record) for sequence, record in self.runtime.journal_records()]
