"""In-process mode, like moto for AWS: calls to Amazon's hosts are answered by an emulator in this process.

`requests` and `httpx` (sync and async) calls to `api.amazon.com` / `api.amazon.co.uk` / `api.amazon.co.jp`
(Login with Amazon) and `[sandbox.]sellingpartnerapi-{na,eu,fe}.amazon.com` (SP-API) never leave the
process: they are dispatched to the emulator's Flask app through WSGI, with their `Host` header, so region
and sandbox host rules apply as on a served emulator. Every other host goes out as usual.

    from mockserver.testing import mock_sp_api

    with mock_sp_api() as sandbox:
        ...  # existing client code, unchanged, with the demo credentials (sandbox.credentials())

    @mock_sp_api(rate_limits=False)
    def test_my_client() -> None:
        ...
"""

from __future__ import annotations

import functools
import inspect
import io
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from flask import Flask
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from werkzeug.test import EnvironBuilder, run_wsgi_app

from mockserver.app import Sandbox, create_app, sandbox_of
from mockserver.settings import Settings, load_settings
from mockserver.testing.admin import AdminApi

AMAZON_HOST = re.compile(
    r"^(api\.amazon\.(com|co\.uk|co\.jp)|(sandbox\.)?sellingpartnerapi-(na|eu|fe)\.amazon\.com)(:\d+)?$",
    re.IGNORECASE,
)
F = TypeVar("F", bound=Callable[..., Any])

_patch_lock = threading.Lock()
_active: list[SpApiMock] = []  # innermost last; the innermost mock answers
_originals: dict[str, Any] = {}


def is_amazon_host(host: str) -> bool:
    return AMAZON_HOST.match(host or "") is not None


def _current() -> SpApiMock | None:
    return _active[-1] if _active else None


def active_mock() -> SpApiMock:
    """The innermost active mock: what a function decorated with `@mock_sp_api()` reaches its emulator by."""
    mock = _current()
    if mock is None:
        raise RuntimeError("no mock_sp_api() is active")
    return mock


def _wsgi_call(
    app: Flask, method: str, url: str, headers: dict[str, str], body: bytes | None
) -> tuple[int, str, list[tuple[str, str]], bytes]:
    parts = urlsplit(url)
    builder = EnvironBuilder(
        path=parts.path or "/",
        base_url=f"{parts.scheme}://{parts.netloc}",
        query_string=parts.query,
        method=method,
        headers=list(headers.items()),
        data=body or b"",
    )
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    app_iter, status, response_headers = run_wsgi_app(app, environ, buffered=True)
    try:
        payload = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    code, _, reason = status.partition(" ")
    return int(code), reason, list(response_headers.items()), payload


# -- requests ----------------------------------------------------------------------------------------------


def _requests_send(adapter: HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> Any:
    mock = _current()
    host = urlsplit(request.url or "").netloc
    if mock is None or not is_amazon_host(host):
        return _originals["requests"](adapter, request, **kwargs)
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    elif body is not None and not isinstance(body, bytes):
        body = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in body)
    status, reason, headers, payload = _wsgi_call(
        mock.app, request.method or "GET", request.url or "", dict(request.headers), body
    )
    response = requests.Response()
    response.status_code = status
    response.reason = reason
    response.headers = CaseInsensitiveDict(headers)
    response.encoding = get_encoding_from_headers(response.headers)
    response.raw = io.BytesIO(payload)
    response._content = payload
    response._content_consumed = True  # type: ignore[attr-defined]
    response.url = request.url or ""
    response.request = request
    response.connection = adapter
    return response


# -- httpx -------------------------------------------------------------------------------------------------


def _httpx_response(request: Any, status: int, headers: list[tuple[str, str]], payload: bytes) -> Any:
    import httpx

    return httpx.Response(status, headers=headers, content=payload, request=request)


def _httpx_dispatch(mock: SpApiMock, request: Any, payload: bytes) -> Any:
    headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in request.headers.raw}
    status, _, response_headers, body = _wsgi_call(
        mock.app, request.method, str(request.url), headers, payload
    )
    # The body is complete: drop framing headers that described the WSGI response, httpx sets its own.
    kept = [(name, value) for name, value in response_headers if name.lower() != "content-length"]
    return _httpx_response(request, status, kept, body)


def _httpx_handle(transport: Any, request: Any) -> Any:
    mock = _current()
    if mock is None or not is_amazon_host(request.url.netloc.decode("ascii")):
        return _originals["httpx"](transport, request)
    return _httpx_dispatch(mock, request, request.read())


async def _httpx_handle_async(transport: Any, request: Any) -> Any:
    mock = _current()
    if mock is None or not is_amazon_host(request.url.netloc.decode("ascii")):
        return await _originals["httpx_async"](transport, request)
    return _httpx_dispatch(mock, request, await request.aread())


def _install() -> None:
    _originals["requests"] = HTTPAdapter.send
    HTTPAdapter.send = _requests_send  # type: ignore[method-assign,assignment]
    try:
        import httpx
    except ImportError:  # httpx is optional
        return
    _originals["httpx"] = httpx.HTTPTransport.handle_request
    _originals["httpx_async"] = httpx.AsyncHTTPTransport.handle_async_request
    httpx.HTTPTransport.handle_request = _httpx_handle  # type: ignore[method-assign,assignment]
    httpx.AsyncHTTPTransport.handle_async_request = _httpx_handle_async  # type: ignore[method-assign,assignment]


def _uninstall() -> None:
    HTTPAdapter.send = _originals.pop("requests")  # type: ignore[method-assign]
    if "httpx" in _originals:
        import httpx

        httpx.HTTPTransport.handle_request = _originals.pop("httpx")  # type: ignore[method-assign]
        httpx.AsyncHTTPTransport.handle_async_request = _originals.pop(  # type: ignore[method-assign]
            "httpx_async"
        )


def forget_cached_lwa_tokens() -> None:
    """Clients that cache LWA access tokens process-wide (python-amazon-sp-api keeps them ~53 minutes) would
    send a token of an earlier emulator, unknown to this fresh one: their caches are emptied on start."""
    import sys

    module = sys.modules.get("sp_api.auth.access_token_client")
    for name in ("cache", "grantless_cache"):
        cache = getattr(module, name, None)
        if cache is not None and hasattr(cache, "clear"):
            cache.clear()


class SpApiMock:
    """An emulator answering Amazon's hosts inside this process: a context manager and a decorator.

    Keyword arguments are emulator settings (`rate_limits=False`, `strict=True`, `seed=7`, ...); state is in
    memory and fresh each time the mock starts.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        self._settings = settings
        self._overrides = overrides
        self._app: Flask | None = None
        self._data_dir: Path | None = None
        self.admin = AdminApi(self._admin_call)

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self) -> SpApiMock:
        if self._app is not None:
            raise RuntimeError("this SpApiMock is already started")
        self._data_dir = Path(tempfile.mkdtemp(prefix="vendor-sandbox-inprocess-"))
        overrides = {"store": "memory", **self._overrides, "data_dir": self._data_dir}
        self._app = create_app(self._settings or load_settings(), **overrides)
        forget_cached_lwa_tokens()
        with _patch_lock:
            if not _active:
                _install()
            _active.append(self)
        return self

    def stop(self) -> None:
        if self._app is None:
            return
        with _patch_lock:
            _active.remove(self)
            if not _active:
                _uninstall()
        sandbox_of(self._app).close()
        self._app = None
        if self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    def __enter__(self) -> SpApiMock:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __call__(self, function: F) -> F:
        """As a decorator: the mock is active for each call of the function (sync or async)."""
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with SpApiMock(self._settings, **self._overrides):
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with SpApiMock(self._settings, **self._overrides):
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]

    # -- what tests use ----------------------------------------------------------------------------------

    @property
    def app(self) -> Flask:
        if self._app is None:
            raise RuntimeError("the SpApiMock is not started")
        return self._app

    @property
    def sandbox(self) -> Sandbox:
        return sandbox_of(self.app)

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return self.sandbox.accounts.describe()

    def credentials(self, name: str | None = None, application: str = "demo-integration") -> dict[str, Any]:
        """LWA credentials of a demo account (default: the first writable one): refresh_token, client_id,
        client_secret, plus the account's marketplace ids and vendor codes."""
        for item in self.accounts:
            if item["application"] != application:
                continue
            if (name is None and not item["read_only"]) or item["name"] == name:
                return item
        raise KeyError(name)

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return self.admin.journal(**filters)

    def conformance(self) -> dict[str, Any]:
        return self.admin.conformance()

    def reset(self) -> None:
        self.admin.reset()

    def _admin_call(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        response = self.app.test_client().open(path, method=method, json=body)
        return response.status_code, response.get_json(silent=True)


def mock_sp_api(settings: Settings | None = None, **overrides: Any) -> SpApiMock:
    """An in-process emulator for Amazon's hosts: `with mock_sp_api(): ...` or `@mock_sp_api()`."""
    return SpApiMock(settings, **overrides)


__all__ = [
    "AMAZON_HOST",
    "SpApiMock",
    "active_mock",
    "forget_cached_lwa_tokens",
    "is_amazon_host",
    "mock_sp_api",
]
