"""Run the emulator on 127.0.0.1 in a background thread, on the same WSGI server as `serve`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask
from waitress import wasyncore

from mockserver.app import Sandbox, create_app, sandbox_of
from mockserver.contracts.registry import RouteMatch
from mockserver.pipeline.strict import is_restricted, restricted_resources
from mockserver.server import bind
from mockserver.settings import Settings, load_settings

IN_THREAD_THREADS = 8


@dataclass
class RunningEmulator:
    app: Flask
    base_url: str
    _server: Any
    _thread: threading.Thread
    _tokens: dict[str, str] = field(default_factory=dict)

    @property
    def sandbox(self) -> Sandbox:
        return sandbox_of(self.app)

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return self.sandbox.accounts.describe()

    def account(self, name: str, application: str = "demo-integration") -> dict[str, Any]:
        for item in self.accounts:
            if item["name"] == name and item["application"] == application:
                return item
        raise KeyError(name)

    def access_token(self, name: str = "acme-na", application: str = "demo-integration") -> str:
        """An LWA access token for a demo account, obtained the way a client does."""
        key = f"{name}/{application}"
        if key not in self._tokens:
            account = self.account(name, application)
            response = requests.post(
                f"{self.base_url}/auth/o2/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": account["refresh_token"],
                    "client_id": account["client_id"],
                    "client_secret": account["client_secret"],
                },
                timeout=10,
            )
            response.raise_for_status()
            self._tokens[key] = response.json()["access_token"]
        return self._tokens[key]

    def restricted_data_token(self, name: str = "acme-na", application: str = "demo-integration") -> str:
        """A restricted data token for every restricted operation (their generic paths), issued to the
        account's access token as createRestrictedDataToken issues one (no exchange in the journal)."""
        key = f"rdt:{name}/{application}"
        if key not in self._tokens:
            tokens = self.sandbox.tokens
            parent = tokens.lookup(self.access_token(name, application))
            if parent is None:
                raise KeyError(name)
            resources = restricted_resources(self.sandbox.registry.operations)
            self._tokens[key] = tokens.issue_restricted_data_token(parent, resources).access_token
        return self._tokens[key]

    def token_for(
        self, method: str, path: str, name: str = "acme-na", application: str = "demo-integration"
    ) -> str:
        """The token a client sends for a call: an RDT for a restricted operation, else the access token."""
        match = self.sandbox.registry.match(method.upper(), urlsplit(path).path)
        if isinstance(match, RouteMatch) and is_restricted(match.operation):
            return self.restricted_data_token(name, application)
        return self.access_token(name, application)

    def session(self, name: str = "acme-na", application: str = "demo-integration") -> requests.Session:
        """A session that sends, like an SP-API client, an RDT to restricted operations and the LWA access
        token to every other."""
        return _ClientSession(self, name, application)

    def stop(self) -> None:
        """Let requests in progress finish, then close every socket from the server's own loop thread.

        Closing from another thread left the loop running while a client kept a connection alive (the join
        then waited its full timeout) and raced the worker threads' wake-ups (EBADF on a closed trigger).
        """
        server = self._server
        try:
            server.task_dispatcher.shutdown()
            try:
                server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            except OSError:
                # The loop already closed its trigger (it stopped on its own): close what is left from here.
                wasyncore.close_all(server._map)
            self._thread.join(timeout=10)
        finally:
            self.sandbox.close()


class _ClientSession(requests.Session):
    def __init__(self, emulator: RunningEmulator, name: str, application: str) -> None:
        super().__init__()
        self._emulator = emulator
        self._name = name
        self._application = application
        self.headers["x-amz-access-token"] = emulator.access_token(name, application)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        text_url = url.decode() if isinstance(url, bytes) else url
        text_method = method.decode() if isinstance(method, bytes) else method
        headers = dict(kwargs.pop("headers", None) or {})
        if not any(name.lower() == "x-amz-access-token" for name in headers):
            headers["x-amz-access-token"] = self._emulator.token_for(
                text_method, text_url.removeprefix(self._emulator.base_url), self._name, self._application
            )
        kwargs["headers"] = headers
        return super().request(method, url, *args, **kwargs)


def start_emulator(settings: Settings | None = None, **overrides: Any) -> RunningEmulator:
    # Without explicit settings: the defaults, a user's VENDOR_SANDBOX_* variables (a models directory...).
    settings = (settings or load_settings()).with_overrides(host="127.0.0.1", port=0, **overrides).validated()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    # On waitress (granian needs a process of its own), with its connection limit and timeouts, on a free
    # port; with threads enough for the requests a test holds open (latency faults, trickles) and the
    # calls it makes meanwhile.
    server = bind(settings.host, settings.port, max(settings.threads, IN_THREAD_THREADS))
    server.application = app
    port = server.effective_port
    thread = threading.Thread(target=server.run, name="vendor-sandbox", daemon=True)
    thread.start()
    return RunningEmulator(app=app, base_url=f"http://127.0.0.1:{port}", _server=server, _thread=thread)
