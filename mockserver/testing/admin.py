"""Admin helpers over the `/_sandbox/` API, the same for a served emulator and an in-process one.

The helpers call the admin API generically (method, path, JSON body), so admin calls added later (clock,
faults, ...) are reachable before a dedicated helper exists: `admin.call("POST", "/_sandbox/clock", {...})`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (method, path with query, JSON body or None) -> (status, parsed JSON body or None)
AdminTransport = Callable[[str, str, Any], tuple[int, Any]]


class AdminError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} answered {status}: {body}")
        self.status = status
        self.body = body


class AdminApi:
    """`reset()`, `clock(...)`, `faults(...)`, `journal(...)`, `conformance()`, snapshots (`save_snapshot`,
    `restore_snapshot`, `snapshots`, `delete_snapshot`), and `call()` for the rest."""

    def __init__(self, transport: AdminTransport) -> None:
        self._transport = transport

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """Any admin call; raises AdminError on a status of 400 or more, returns the JSON body."""
        if not path.startswith("/"):
            path = f"/_sandbox/{path}"
        status, payload = self._transport(method.upper(), path, body)
        if status >= 400:
            raise AdminError(method, path, status, payload)
        return payload

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("GET", "/_sandbox/health")
        return result

    def reset(self) -> None:
        """Back to the seeded state (journal and usage-plan buckets emptied)."""
        self.call("POST", "/_sandbox/reset")

    def clock(self, **body: Any) -> Any:
        """POST /_sandbox/clock with the given fields, where the server has that call."""
        return self.call("POST", "/_sandbox/clock", body)

    def faults(self, rules: Any = None, **body: Any) -> Any:
        """POST /_sandbox/faults: a list of rules, or the fields of one request body."""
        return self.call("POST", "/_sandbox/faults", rules if rules is not None else body)

    def clear_faults(self) -> Any:
        return self.call("DELETE", "/_sandbox/faults")

    def journal(self, limit: int = 0, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries, oldest first; filters as in GET /_sandbox/journal (`operation`, `status`, ...)."""
        query = "&".join(f"{name}={value}" for name, value in {**filters, "limit": limit}.items())
        entries: list[dict[str, Any]] = self.call("GET", f"/_sandbox/journal?{query}")["entries"]
        return entries

    def clear_journal(self) -> None:
        self.call("DELETE", "/_sandbox/journal")

    def conformance(self) -> dict[str, Any]:
        """The conformance report: per operation, calls made and violations; operations never exercised."""
        report: dict[str, Any] = self.call("GET", "/_sandbox/report/conformance")
        return report

    def save_snapshot(self, name: str, replace: bool = False) -> dict[str, Any]:
        """Save the world under `name` (the emulator's snapshots directory)."""
        saved: dict[str, Any] = self.call("POST", "/_sandbox/snapshots", {"name": name, "replace": replace})
        return saved

    def restore_snapshot(self, name: str) -> dict[str, Any]:
        """Replace the world with snapshot `name` (tokens, journal and fault rules stay)."""
        restored: dict[str, Any] = self.call("POST", f"/_sandbox/snapshots/{name}/restore")
        return restored

    def snapshots(self) -> list[dict[str, Any]]:
        listing: list[dict[str, Any]] = self.call("GET", "/_sandbox/snapshots")["snapshots"]
        return listing

    def delete_snapshot(self, name: str) -> None:
        self.call("DELETE", f"/_sandbox/snapshots/{name}")

    def strict(self, enabled: bool = True) -> None:
        """Strict mode on or off for this emulator from now on."""
        self.call("PUT", "/_sandbox/strict", {"enabled": enabled})


__all__ = ["AdminApi", "AdminError", "AdminTransport"]
