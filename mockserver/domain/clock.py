"""The sandbox clock: wall time plus an offset, or frozen at one instant; read, frozen and advanced through
`/_sandbox/clock`. Its state is kept in the store, so a restart keeps the time the sandbox was set to; where
several processes share the store, a change calls `on_change` (which tells the others) and each process
re-reads the state (`reload`) when told."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mockserver.store import Store

_COLLECTION = "sandbox"
_KEY = "clock"
# The sandbox's time stays within these: worlds are seeded and reports computed in years the calendar and
# Amazon's date formats handle without surprises.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso(moment: datetime) -> str:
    """Fixed-width ISO 8601 UTC: text order is time order."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat() is C and pads the year to four digits: "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00".
    return moment.isoformat()[:19] + "Z"


_DAYS: dict[int, str] = {}  # days since 1970 -> "YYYY-MM-DDT"
_HOURS_MINUTES = tuple(f"{hour:02d}:{minute:02d}:" for hour in range(24) for minute in range(60))
_SECONDS = tuple(f"{second:02d}Z" for second in range(60))


def iso_seconds(timestamp: int) -> str:
    """`iso()` of a POSIX timestamp in whole seconds, without building a datetime: seeding a world of 100,000
    purchase orders formats about a million of them."""
    day, second = divmod(timestamp, 86400)
    prefix = _DAYS.get(day)
    if prefix is None:
        prefix = datetime.fromtimestamp(day * 86400, UTC).isoformat()[:11]
        if len(_DAYS) < 100_000:
            _DAYS[day] = prefix
    minute, second = divmod(second, 60)
    return prefix + _HOURS_MINUTES[minute] + _SECONDS[second]


def parse_iso(text: str) -> datetime:
    """ISO 8601 as clients send it (`Z`, an offset, fractions, or no zone meaning UTC)."""
    value = text.strip()
    if len(value) > 19 and value[19:].count(" ") == 1:
        value = value[:19] + value[19:].replace(" ", "+")  # a `+` decoded from an unescaped query string
    value = re.sub(r"(\.\d{6})\d+", r"\1", value)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class SandboxClock:
    def __init__(self, store: Store, on_change: Callable[[], None] | None = None) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._on_change = on_change
        self._offset: float = 0.0
        self._frozen_at: float | None = None
        self.reload()

    def reload(self) -> None:
        """Read the clock's state from the store (another process may have changed it)."""
        state = self._store.get(_COLLECTION, _KEY) or {}
        frozen = state.get("frozen_at")
        with self._lock:
            self._offset = float(state.get("offset", 0.0))
            self._frozen_at = float(frozen) if frozen is not None else None

    def timestamp(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self.timestamp()), UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self, at: datetime | None = None) -> None:
        with self._lock:
            self._frozen_at = at.timestamp() if at is not None else self.timestamp()
            self._save()

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None
            self._save()

    def check_change(self, at: datetime | None, seconds: float | None) -> None:
        """Raise ValueError, changing nothing, unless setting the clock to `at` and then advancing it by
        `seconds` keeps it within EARLIEST and LATEST."""
        moment = at.timestamp() if at is not None else self.timestamp()
        if seconds is not None:
            if not math.isfinite(seconds) or seconds < 0:
                raise ValueError("the clock only moves forward, by a finite number of seconds")
            moment += seconds
        if not EARLIEST.timestamp() <= moment < LATEST.timestamp():
            raise ValueError(f"the sandbox clock stays from {iso(EARLIEST)} to before {iso(LATEST)}")

    def advance(self, seconds: float) -> None:
        self.check_change(None, seconds)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
            else:
                self._offset += seconds
            self._save()

    def set(self, at: datetime) -> None:
        self.check_change(at, None)
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = at.timestamp()
            else:
                self._offset = at.timestamp() - time.time()
            self._save()

    @property
    def offset(self) -> float:
        return self._offset

    def restore(self, moment: float, frozen: bool, offset: float | None = None) -> None:
        """The clock at `moment` (a snapshot's): frozen there (with its offset then), or running from it."""
        with self._lock:
            if frozen:
                self._frozen_at = moment
                self._offset = offset if offset is not None else moment - time.time()
            else:
                self._frozen_at = None
                self._offset = moment - time.time()
            self._save()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None
            self._save()

    def describe(self) -> dict[str, Any]:
        return {"now": iso(self.now()), "frozen": self.frozen, "offset_seconds": round(self._offset, 3)}

    def _save(self) -> None:
        self._store.put(_COLLECTION, _KEY, {"offset": self._offset, "frozen_at": self._frozen_at})
        if self._on_change is not None:
            self._on_change()
