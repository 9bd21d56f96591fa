"""Snapshots: the whole world saved under a name and restored exactly, whatever the store kind.

A snapshot is read and written through the store interfaces only (the document store's `collections`, `scan`,
`put_many`, `clear`; the order tables' `query`, `put_many`, `clear`), never as a database file, so a world
saved from SQLite restores into memory (or Redis) and the other way round. What is saved: every document
collection (transactions, shipment confirmations, invoices, receiving, DF labels and inventory, reports...),
every purchase order and DF order, and the sandbox clock. What is not: issued LWA tokens (`lwa_*`: a client's
token must survive a restore, as it survives a reset), the journal, usage-plan buckets and fault rules.

The clock is restored to the moment it showed when the snapshot was saved (frozen there, or running on from
it): a world saved months ago starts where it was, not months later with every hourly arrival since.

The file is gzip-compressed JSON Lines: a header (what and when), the documents, the purchase orders, the DF
orders, and a trailer with the counts, so that a truncated file is refused. A restore reads the whole file
once to check it before it changes anything.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mockserver import __version__, wire
from mockserver.store.df_orders import DfOrderQuery, DfOrderRow
from mockserver.store.purchase_orders import PurchaseOrderQuery, PurchaseOrderRow

if TYPE_CHECKING:
    from mockserver.app import Sandbox

FORMAT = "vendor-sandbox-snapshot"
VERSION = 1
SUFFIX = ".jsonl.gz"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Collections that are not the world: a client's token must outlive a restore.
KEPT_COLLECTION_PREFIXES = ("lwa_",)
PAGE = 1000
BATCH = 1000
_END = "\uffff"
_PO_FIELDS = tuple(field.name for field in fields(PurchaseOrderRow))
_DF_FIELDS = tuple(field.name for field in fields(DfOrderRow))


class SnapshotError(ValueError):
    """A snapshot that cannot be saved or restored; the message is one line for the user."""


class SnapshotNotFound(SnapshotError):
    pass


class SnapshotExists(SnapshotError):
    pass


class SnapshotStorageError(SnapshotError):
    """The snapshots directory cannot be written or read (permissions, a full disk): the server's problem."""


class SnapshotMismatch(SnapshotError):
    """A snapshot of a world this emulator cannot continue (another seed, other accounts)."""


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise SnapshotError(
            f"{str(name)[:60]!r} is not a snapshot name: 1 to 100 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def is_world_collection(name: str) -> bool:
    return not name.startswith(KEPT_COLLECTION_PREFIXES)


@dataclass(frozen=True)
class SnapshotInfo:
    """What a saved snapshot holds: when it was saved, clock, seed, store, accounts, counts and file size."""

    name: str
    saved_at: str
    clock: dict[str, Any]
    seed: int
    seed_size: int
    store: str
    version: str
    accounts: list[str]
    counts: dict[str, int]
    bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "saved_at": self.saved_at,
            "clock": self.clock,
            "seed": self.seed,
            "seed_size": self.seed_size,
            "store": self.store,
            "version": self.version,
            "accounts": self.accounts,
            "counts": self.counts,
            "bytes": self.bytes,
        }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()[:19] + "Z"


# Reading the world -----------------------------------------------------------------------------------------
def _purchase_order_rows(sandbox: Sandbox) -> Iterator[PurchaseOrderRow]:
    for account in sandbox.accounts.accounts:
        after: tuple[str, str] | None = None
        while True:
            rows = sandbox.purchase_orders.query(PurchaseOrderQuery(account=account, limit=PAGE, after=after))
            yield from rows
            if len(rows) < PAGE:
                break
            after = rows[-1].sort_key


def _df_order_rows(sandbox: Sandbox) -> Iterator[DfOrderRow]:
    for account in sandbox.accounts.accounts:
        after: tuple[str, str] | None = None
        while True:
            query = DfOrderQuery(account, created_after="", created_before=_END, limit=PAGE, after=after)
            rows = sandbox.df_orders.query(query)
            yield from rows
            if len(rows) < PAGE:
                break
            after = rows[-1].sort_key


def _row_record(kind: str, row: PurchaseOrderRow | DfOrderRow, names: tuple[str, ...]) -> dict[str, Any]:
    return {kind: {name: getattr(row, name) for name in names}}


def _world_records(sandbox: Sandbox) -> Iterator[dict[str, Any]]:
    for collection in sandbox.store.collections():
        if not is_world_collection(collection):
            continue
        for key, document in sandbox.store.scan(collection):
            yield {"c": collection, "k": key, "d": document}
    for row in _purchase_order_rows(sandbox):
        yield _row_record("po", row, _PO_FIELDS)
    for df_row in _df_order_rows(sandbox):
        yield _row_record("df", df_row, _DF_FIELDS)


def _header(name: str, sandbox: Sandbox) -> dict[str, Any]:
    clock = sandbox.clock
    settings = sandbox.settings
    return {
        "format": FORMAT,
        "format_version": VERSION,
        "name": name,
        "saved_at": _iso(time.time()),
        "version": __version__,
        "store": settings.store,
        "seed": settings.seed,
        "seed_size": settings.seed_size,
        "accounts": sorted(sandbox.accounts.accounts),
        "clock": {"now": clock.timestamp(), "frozen": clock.frozen, "offset": clock.offset},
    }


def _paused(sandbox: Sandbox) -> ExitStack:
    """The worlds held still, in every process sharing the store: no submission decided, no report made, no
    time brought in, while the world is read or written."""
    stack = ExitStack()
    # In the order every call takes them: Reports brings Retail and DF up to the clock.
    stack.enter_context(sandbox.reports.paused())
    stack.enter_context(sandbox.retail.paused())
    stack.enter_context(sandbox.direct_fulfillment.paused())
    return stack


# The directory of snapshots -------------------------------------------------------------------------------
class SnapshotDirectory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}{SUFFIX}"

    def save(self, name: str, sandbox: Sandbox, *, replace: bool = False) -> SnapshotInfo:
        """Write the world as snapshot `name` (atomically: a reader never sees half a file)."""
        target = self.path(name)
        if target.exists() and not replace:
            raise SnapshotExists(f"a snapshot named {name} exists: delete it first, or replace it")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            descriptor, scratch = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.directory)
        except OSError as error:
            raise SnapshotStorageError(
                f"cannot write snapshots in {self.directory}: {error.strerror}"
            ) from None
        counts = {"documents": 0, "purchase_orders": 0, "df_orders": 0}
        kinds = {"c": "documents", "po": "purchase_orders", "df": "df_orders"}
        try:
            with os.fdopen(descriptor, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
                with _paused(sandbox):
                    header = _header(name, sandbox)
                    out.write(wire.dumps(header) + b"\n")
                    for record in _world_records(sandbox):
                        counts[kinds[next(iter(record))]] += 1
                        out.write(wire.dumps(record) + b"\n")
                out.write(wire.dumps({"end": counts}) + b"\n")
                out.flush()
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(scratch, target)
        except OSError as error:
            Path(scratch).unlink(missing_ok=True)
            raise SnapshotStorageError(f"cannot write snapshot {name} in {self.directory}: {error}") from None
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise
        return self.describe(name)

    def describe(self, name: str) -> SnapshotInfo:
        """What a snapshot holds, from its header and trailer (the whole file is read: it is checked)."""
        path = self.path(name)
        header, counts = _check(path, name)
        return SnapshotInfo(
            name=name,
            saved_at=str(header["saved_at"]),
            clock=dict(header["clock"]),
            seed=int(header["seed"]),
            seed_size=int(header["seed_size"]),
            store=str(header.get("store", "")),
            version=str(header.get("version", "")),
            accounts=list(header["accounts"]),
            counts=counts,
            bytes=path.stat().st_size,
        )

    def list(self) -> list[dict[str, Any]]:
        """Every snapshot of the directory, by name; one that cannot be read says why."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            name = path.name[: -len(SUFFIX)]
            if not NAME_PATTERN.fullmatch(name):
                continue
            try:
                found.append(self.describe(name).to_dict())
            except SnapshotError as error:
                found.append({"name": name, "bytes": path.stat().st_size, "problem": str(error)})
        return found

    def delete(self, name: str) -> None:
        path = self.path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            raise SnapshotNotFound(f"no snapshot named {name}") from None
        except OSError as error:
            raise SnapshotStorageError(f"cannot delete snapshot {name}: {error.strerror}") from None

    def restore(self, name: str, sandbox: Sandbox) -> SnapshotInfo:
        """Replace the world with snapshot `name`: checked whole first, so a bad file changes nothing."""
        info = self.describe(name)
        settings = sandbox.settings
        if info.seed != settings.seed or info.seed_size != settings.seed_size:
            raise SnapshotMismatch(
                f"snapshot {name} is of a world seeded with --seed {info.seed} --seed-size {info.seed_size}; "
                f"this emulator runs --seed {settings.seed} --seed-size {settings.seed_size} (its catalogue "
                "and warehouses come from the seed): serve with those to restore it"
            )
        unknown = sorted(set(info.accounts) - set(sandbox.accounts.accounts))
        if unknown:
            raise SnapshotMismatch(
                f"snapshot {name} has accounts this emulator does not know: {', '.join(unknown)}"
            )
        path = self.path(name)
        with _paused(sandbox):
            for collection in sandbox.store.collections():
                if is_world_collection(collection):
                    sandbox.store.clear(collection)
            sandbox.purchase_orders.clear()
            sandbox.df_orders.clear()
            _load_documents(path, sandbox)
            sandbox.purchase_orders.put_many(
                PurchaseOrderRow(**record["po"]) for record in _records(path, b'{"po":')
            )
            sandbox.df_orders.put_many(DfOrderRow(**record["df"]) for record in _records(path, b'{"df":'))
            offset = info.clock.get("offset")
            sandbox.clock.restore(
                float(info.clock["now"]),
                bool(info.clock["frozen"]),
                float(offset) if isinstance(offset, int | float) else None,
            )
            sandbox.retail.reload()
            sandbox.direct_fulfillment.reload()
        if sandbox.runtime.shared:  # the other processes read the clock and forget what they kept
            sandbox.runtime.bump()
        return info


def _lines(path: Path) -> Iterator[bytes]:
    try:
        with gzip.open(path, "rb") as source:
            yield from source
    except FileNotFoundError:
        raise SnapshotNotFound(f"no snapshot named {path.name[: -len(SUFFIX)]}") from None
    except (OSError, EOFError) as error:  # not gzip, or cut short
        raise SnapshotError(f"{path.name} is not a readable snapshot: {error}") from None


def _records(path: Path, prefix: bytes) -> Iterator[dict[str, Any]]:
    """The records of one kind (their lines start with `prefix`), parsed."""
    for line in _lines(path):
        if line.startswith(prefix):
            yield wire.loads(line)


def _load_documents(path: Path, sandbox: Sandbox) -> None:
    batch: list[tuple[str, dict[str, Any]]] = []
    current: str | None = None
    for record in _records(path, b'{"c":'):
        if record["c"] != current and batch:
            sandbox.store.put_many(str(current), batch)
            batch = []
        current = record["c"]
        batch.append((record["k"], record["d"]))
        if len(batch) >= BATCH:
            sandbox.store.put_many(current, batch)
            batch = []
    if batch and current is not None:
        sandbox.store.put_many(current, batch)


def _check(path: Path, name: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The header and counts of a snapshot file, every line checked: a file cut short, of another format or
    with a malformed record is a SnapshotError naming the problem."""
    header: dict[str, Any] | None = None
    counts = {"documents": 0, "purchase_orders": 0, "df_orders": 0}
    trailer: dict[str, Any] | None = None
    checks: dict[str, tuple[str, Callable[[Any], bool]]] = {
        "c": ("documents", _document_record),
        "po": ("purchase_orders", lambda record: _row_record_ok(record.get("po"), _PO_FIELDS)),
        "df": ("df_orders", lambda record: _row_record_ok(record.get("df"), _DF_FIELDS)),
    }
    for number, line in enumerate(_lines(path), start=1):
        if trailer is not None:
            raise SnapshotError(f"{path.name}: line {number} follows the end of the snapshot")
        try:
            record = wire.loads(line)
        except ValueError:
            raise SnapshotError(f"{path.name}: line {number} is not JSON") from None
        if not isinstance(record, dict) or not record:
            raise SnapshotError(f"{path.name}: line {number} is not a snapshot record")
        if header is None:
            header = _checked_header(record, path)
            continue
        if "end" in record:
            trailer = record
            continue
        kind = next(iter(record))
        check = checks.get(kind)
        if check is None or not check[1](record):
            raise SnapshotError(f"{path.name}: line {number} is not a snapshot record")
        counts[check[0]] += 1
    if header is None:
        raise SnapshotError(f"{path.name} is empty")
    if trailer is None or trailer.get("end") != counts:
        raise SnapshotError(f"{path.name} is cut short (no end, or fewer records than it was saved with)")
    if header.get("name") != name:
        raise SnapshotError(f"{path.name} holds snapshot {header.get('name')!r}, not {name!r}")
    return header, counts


def _checked_header(record: dict[str, Any], path: Path) -> dict[str, Any]:
    if record.get("format") != FORMAT:
        raise SnapshotError(f"{path.name} is not a vendor-sandbox snapshot")
    if record.get("format_version") != VERSION:
        raise SnapshotError(
            f"{path.name} is a snapshot of format {record.get('format_version')!r}; "
            f"this version reads {VERSION}"
        )
    clock = record.get("clock")
    valid = (
        isinstance(record.get("seed"), int)
        and isinstance(record.get("seed_size"), int)
        and isinstance(record.get("accounts"), list)
        and isinstance(clock, dict)
        and isinstance(clock.get("now"), int | float)
        and isinstance(clock.get("frozen"), bool)
        and isinstance(record.get("saved_at"), str)
    )
    if not valid:
        raise SnapshotError(f"{path.name} has a damaged header")
    return record


def _document_record(record: dict[str, Any]) -> bool:
    return (
        set(record) == {"c", "k", "d"}
        and isinstance(record["c"], str)
        and isinstance(record["k"], str)
        and isinstance(record["d"], dict)
    )


def _row_record_ok(row: Any, names: Iterable[str]) -> bool:
    return isinstance(row, dict) and set(row) == set(names) and isinstance(row.get("document"), dict)


__all__ = [
    "SnapshotDirectory",
    "SnapshotError",
    "SnapshotExists",
    "SnapshotInfo",
    "SnapshotMismatch",
    "SnapshotNotFound",
    "SnapshotStorageError",
    "check_name",
]
