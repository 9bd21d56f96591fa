"""Retirement of an operation or API version on the sandbox clock: deprecated, then removed. No Flask here.

Amazon announces deprecations out of band (the SP-API Deprecations table, the changelog's monthly reminders)
and says "calls to deprecated resources will continue to be successful until their removal date; after the
removal date, calls will fail". A removed version answers as the SP-API gateway answers a path it does not
serve: `403 Unauthorized` "Access to requested resource is denied." (what integrations saw from the Feeds
API 2020-09-04 after its removal on June 27, 2024). Amazon sends no deprecation header (its list of response
headers has none), so the notice before the removal date uses the IETF's: `Deprecation` (RFC 9745, `@` and
epoch seconds), `Sunset` (RFC 8594, an HTTP date) and, where a successor is named, `Link` with
`rel="successor-version"`. The notice is also written in the journal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

DEFAULT_NOTICE_DAYS = 180  # notices start this long before the removal date unless `deprecated` is given
RETIRED_DETAILS = ""  # Amazon's gateway says nothing more for a path it no longer serves


class RetirementError(ValueError):
    pass


def moment(value: Any, name: str) -> datetime:
    """A date (midnight UTC) or a date-time (UTC unless it says otherwise), from YAML, JSON or a header."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        except ValueError as error:
            raise RetirementError(f"{name} must be an ISO 8601 date or date-time, not {value!r}") from error
    else:
        raise RetirementError(f"{name} must be an ISO 8601 date or date-time")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@dataclass(frozen=True)
class Retirement:
    """When an operation or API version is deprecated and removed (sandbox clock), and what succeeds it."""

    removal: datetime  # from this instant on the sandbox clock, calls fail
    deprecated: datetime  # from this instant, answers carry the notice
    successor: str | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Retirement:
        if "date" not in params:
            raise RetirementError("retire needs a `date`: the removal date on the sandbox clock")
        removal = moment(params["date"], "date")
        if "deprecated" in params:
            deprecated = moment(params["deprecated"], "deprecated")
        else:
            deprecated = removal - timedelta(days=DEFAULT_NOTICE_DAYS)
        if deprecated > removal:
            raise RetirementError("deprecated must not be after the removal date")
        successor = params.get("successor")
        if successor is not None and not (isinstance(successor, str) and successor.strip()):
            raise RetirementError("successor must be a path or URL")
        return cls(removal, deprecated, successor.strip() if successor else None)

    def state(self, now: float) -> str:
        """`active`, `deprecated` or `retired` at `now` (epoch seconds on the sandbox clock)."""
        if now >= self.removal.timestamp():
            return "retired"
        if now >= self.deprecated.timestamp():
            return "deprecated"
        return "active"

    def notice_headers(self) -> dict[str, str]:
        headers = {
            "Deprecation": f"@{int(self.deprecated.timestamp())}",
            "Sunset": format_datetime(self.removal, usegmt=True),
        }
        if self.successor:
            headers["Link"] = f'<{self.successor}>; rel="successor-version"'
        return headers

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "deprecated": self.deprecated.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "removal": self.removal.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if self.successor:
            data["successor"] = self.successor
        return data

    def notice(self) -> str:
        text = f"deprecated since {self.describe()['deprecated']}; removed on {self.describe()['removal']}"
        return text + (f"; successor {self.successor}" if self.successor else "")


__all__ = ["DEFAULT_NOTICE_DAYS", "RETIRED_DETAILS", "Retirement", "RetirementError", "moment"]
