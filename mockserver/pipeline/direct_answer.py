"""An answer written straight to the WSGI server, byte for byte what Werkzeug's Response would send for it.

Building a Response and having it work out its WSGI headers (copying them, looking for Location and
Content-Length, wrapping the body in a closing iterator) was a tenth of a submission's CPU. An SP-API answer
needs none of that: its headers are known, its body is bytes. Answers Werkzeug treats specially (a Location
to make absolute, a status without a body) still go through a Response (`direct_answer` says None).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from werkzeug.http import HTTP_STATUS_CODES

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

# Headers Werkzeug rewrites on the way out (made absolute, percent-encoded).
_REWRITTEN = frozenset({"location", "content-location"})


def status_line(code: int) -> str:
    """The status line as Werkzeug writes it: "202 ACCEPTED", "599 UNKNOWN"."""
    reason = HTTP_STATUS_CODES.get(code)
    return f"{code} {reason.upper()}" if reason is not None else f"{code} UNKNOWN"


class DirectAnswer:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(self.status, self.headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


def direct_answer(status: int, headers: Mapping[str, str], body: bytes) -> DirectAnswer | None:
    """The answer with exactly these headers (Content-Type and Content-Length among them, last), or None
    where Werkzeug would change something on the way out."""
    if status < 200 or status in (204, 304):
        return None
    if any(name.lower() in _REWRITTEN for name in headers):
        return None
    return DirectAnswer(status_line(status), list(headers.items()), body)


__all__ = ["DirectAnswer", "direct_answer", "status_line"]
