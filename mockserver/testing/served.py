"""`VendorSandbox`: a running emulator on 127.0.0.1 as a test sees it (the `vendor_sandbox` fixture)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from mockserver.testing.admin import AdminApi
from mockserver.testing.inprocess import forget_cached_lwa_tokens
from mockserver.testing.server import RunningEmulator, start_emulator

TOKEN_HEADER = "x-amz-access-token"


class SpApiSession(requests.Session):
    """A `requests` session that sends an account's access token and resolves paths against the base URL."""

    def __init__(self, base_url: str, access_token: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.headers[TOKEN_HEADER] = access_token

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and url.startswith("/"):
            url = urljoin(self.base_url, url)
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


class VendorSandbox:
    """A real emulator served on 127.0.0.1 in a thread, with its accounts and admin helpers.

    `base_url`, `accounts`, `credentials(name)`, `access_token(name)`, `session(name)` (an authenticated
    `requests` session: `session().get("/vendor/orders/v1/purchaseOrders")`), and the admin helpers
    `reset()`, `clock(...)`, `faults(...)`, `journal(...)`, `conformance()`, `admin.call(...)`.
    """

    def __init__(self, **settings: Any) -> None:
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if "data_dir" not in settings:
            self._scratch = tempfile.TemporaryDirectory(prefix="vendor-sandbox-")
            settings["data_dir"] = Path(self._scratch.name)
        settings.setdefault("store", "memory")
        self.emulator: RunningEmulator = start_emulator(**settings)
        forget_cached_lwa_tokens()  # a token cached from an earlier emulator is unknown to this one
        self.base_url = self.emulator.base_url
        self.admin = AdminApi(self._admin_call)
        self._http = requests.Session()

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return self.emulator.accounts

    def credentials(self, name: str | None = None, application: str = "demo-integration") -> dict[str, Any]:
        """A demo account's LWA credentials (default: the first writable account)."""
        for item in self.accounts:
            if item["application"] != application:
                continue
            if (name is None and not item["read_only"]) or item["name"] == name:
                return item
        raise KeyError(name)

    def access_token(self, name: str | None = None, application: str = "demo-integration") -> str:
        return self.emulator.access_token(self.credentials(name, application)["name"], application)

    def session(self, name: str | None = None, application: str = "demo-integration") -> SpApiSession:
        return SpApiSession(self.base_url, self.access_token(name, application))

    # Admin helpers
    def reset(self) -> None:
        self.admin.reset()

    def clock(self, **body: Any) -> Any:
        return self.admin.clock(**body)

    def faults(self, rules: Any = None, **body: Any) -> Any:
        return self.admin.faults(rules, **body)

    def journal(self, **filters: Any) -> list[dict[str, Any]]:
        return self.admin.journal(**filters)

    def conformance(self) -> dict[str, Any]:
        return self.admin.conformance()

    def _admin_call(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        response = self._http.request(method, self.base_url + path, json=body, timeout=30)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def stop(self) -> None:
        try:
            self._http.close()
            self.emulator.stop()
        finally:
            if self._scratch is not None:
                self._scratch.cleanup()


__all__ = ["SpApiSession", "VendorSandbox"]
