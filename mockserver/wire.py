"""JSON on the wire: orjson on the hot path, the standard library wherever orjson says no.

orjson is several times faster at both ends, but narrower: it refuses integers beyond 64 bits, NaN and
Infinity, and byte-order marks, all of which `json` accepts. Falling back keeps the emulator's behaviour
exactly that of `json` (what it accepts and the error texts clients see) while the common case stays fast.
"""

from __future__ import annotations

import json
import re
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


# Amazon's documents nest about ten levels deep; anything far deeper is an attack on the recursion of whatever
# walks it later (validation, redaction, the journal), refused where it comes in.
MAX_INPUT_DEPTH = 64


# Where orjson is narrower than JSON itself and `json` right to accept: numbers beyond a double, a BOM.
_JSON_ACCEPTS_RIGHTLY = re.compile(r"infinity when parsed as double|byte order mark")


class InvalidJson(ValueError):
    """JSON from outside that cannot be used; the message is one line saying why."""


def loads_input(raw: bytes | str, max_depth: int = MAX_INPUT_DEPTH) -> Any:
    """JSON that came from outside (a request body, a header, an admin call): as `loads`, but any failure -
    bad syntax or encoding, nesting deeper than `max_depth`, an integer too long to convert - is an
    InvalidJson, never a RecursionError or another ValueError escaping to a 500. NaN and Infinity, which
    `json` accepts, are refused."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        if "depth limit" in str(error):  # deeper than orjson's 1024: far beyond any limit of ours
            raise InvalidJson(f"nested deeper than {max_depth} levels") from None
        try:
            value = json.loads(raw, parse_constant=_refuse_constant)
        except json.JSONDecodeError as parse_error:
            raise InvalidJson(f"JSONDecodeError: {parse_error}") from None
        except UnicodeDecodeError as decode_error:
            raise InvalidJson(f"UnicodeDecodeError: {decode_error}") from None
        except RecursionError:
            raise InvalidJson(f"nested deeper than {max_depth} levels") from None
        except ValueError as value_error:  # e.g. an integer beyond Python's digit limit
            raise InvalidJson(f"ValueError: {value_error}") from None
        if not _JSON_ACCEPTS_RIGHTLY.search(str(error)):
            # `json` took what orjson refused for a reason (a lone surrogate, say): not JSON a service reads.
            raise InvalidJson(f"JSONDecodeError: {error}") from None
    # Nesting needs an opening bracket per level: a text with few of them (every ordinary body) is not walked.
    if isinstance(raw, bytes):
        brackets = raw.count(b"[") + raw.count(b"{")
    else:
        brackets = raw.count("[") + raw.count("{")
    if brackets > max_depth and nested_deeper_than(value, max_depth):
        raise InvalidJson(f"nested deeper than {max_depth} levels")
    return value


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259); Amazon's parsers refuse them, and so do we."""
    raise ValueError(f"{name} is not a JSON value")


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels (walked without recursion)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
