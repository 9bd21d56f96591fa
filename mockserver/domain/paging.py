"""Stable `nextToken` paging, shared by every family's listings.

A token is the listing's own state (its filters, with defaults resolved, and the sort key of the last item
returned), base64 JSON: every page of one listing reads the window fixed by the first call, and a page starts
after the last key returned, not at an offset, so documents arriving meanwhile never shift, skip or repeat a
page. Tokens are opaque to clients; a token that does not decode, or is another listing's, is 400.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from mockserver.domain.errors import InvalidInput

_T = TypeVar("_T")
_Item = TypeVar("_Item")


def invalid_next_token() -> InvalidInput:
    return InvalidInput("The nextToken is invalid.", "Invalid nextToken.")


def encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeError) as error:
        raise invalid_next_token() from error
    if not isinstance(state, dict):
        raise invalid_next_token()
    return state


def listing_state(token: Any, kind: str, account: str) -> dict[str, Any] | None:
    """The state a nextToken carries for this listing and account; None without a token. A token of another
    listing or account is refused (400), as one that does not decode."""
    if not token:
        return None
    state = decode_token(str(token))
    if state.get("kind") != kind or state.get("account") != account:
        raise invalid_next_token()
    return state


def keyset_page(
    rows: Sequence[_T], limit: int, key: Callable[[_T], Sequence[str]], state: dict[str, Any]
) -> tuple[Sequence[_T], str | None]:
    """A page from rows fetched with `limit + 1` (one more than the page): when the extra row is there, the
    page ends before it and the token names the page's last key."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_token({**state, "after": list(key(page[-1]))})


def page_after(
    items: Sequence[_Item],
    limit: int,
    key: Callable[[_Item], list[Any]],
    token: Any,
    state: dict[str, Any] | None = None,
) -> tuple[list[_Item], str | None]:
    """A page of a list already in sort order, starting after the key a nextToken names (items decided in
    memory: a few per account, not a table)."""
    start = 0
    if token:
        last = decode_token(str(token)).get("after")
        if not isinstance(last, list):
            raise invalid_next_token()
        start = next((index + 1 for index, item in enumerate(items) if key(item) == last), len(items))
    page = list(items[start : start + limit])
    next_token = None
    if start + limit < len(items) and page:
        next_token = encode_token({**(state or {}), "after": key(page[-1])})
    return page, next_token
