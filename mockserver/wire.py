"""JSON on the wire: orjson on the hot path, the standard library wherever orjson says no.

orjson is several times faster at both ends, but narrower: it refuses integers beyond 64 bits, NaN and
Infinity, and byte-order marks, all of which `json` accepts. Falling back keeps the emulator's behaviour
exactly that of `json` (what it accepts and the error texts clients see) while the common case stays fast.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact JSON bytes, as `json.dumps(value, separators=(",", ":"))` gives them, in UTF-8."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError: a huge integer, a non-str key, NaN...
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def loads(raw: bytes | str) -> Any:
    """Parse JSON; raises `json.JSONDecodeError` (or UnicodeDecodeError) with the standard library's text."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)
