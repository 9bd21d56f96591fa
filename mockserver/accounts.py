"""Applications, vendor accounts and the refresh tokens that bind them, read from fixtures/."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Application:
    """An SP-API application that calls the emulator: its LWA client credentials and redirect URIs."""

    name: str
    application_id: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VendorAccount:
    """A vendor's selling-partner account: its region, marketplaces, vendor codes, party ids, and access."""

    name: str
    selling_partner_id: str
    region: str
    marketplace_ids: tuple[str, ...]
    vendor_codes: tuple[str, ...]
    party_ids: tuple[str, ...]
    read_only: bool


@dataclass(frozen=True, slots=True)
class Authorization:
    """A vendor account's authorization of an application, and the refresh token that grants it."""

    application: Application
    account: VendorAccount
    refresh_token: str


@dataclass(frozen=True, slots=True)
class UsagePlanOverride:
    """A rate and burst that replace an operation's usage plan, for one account or (None) for all."""

    operation: str
    rate: float
    burst: int
    account: str | None = None


@dataclass
class AccountDirectory:
    """The applications, vendor accounts, authorizations and usage-plan overrides of the accounts fixture."""

    applications: dict[str, Application] = field(default_factory=dict)
    accounts: dict[str, VendorAccount] = field(default_factory=dict)
    authorizations: list[Authorization] = field(default_factory=list)
    usage_plans: list[UsagePlanOverride] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: Path) -> AccountDirectory:
        document = _read_fixture(path)
        directory = cls()
        for raw in document.get("applications") or []:
            application = Application(
                name=raw["name"],
                application_id=raw["application_id"],
                client_id=raw["client_id"],
                client_secret=raw["client_secret"],
                redirect_uris=tuple(raw.get("redirect_uris") or ()),
            )
            directory.applications[application.name] = application
        for raw in document.get("accounts") or []:
            account = VendorAccount(
                name=raw["name"],
                selling_partner_id=raw["selling_partner_id"],
                region=raw["region"],
                marketplace_ids=tuple(raw.get("marketplace_ids") or ()),
                vendor_codes=tuple(raw.get("vendor_codes") or ()),
                party_ids=tuple(raw.get("party_ids") or raw.get("vendor_codes") or ()),
                read_only=bool(raw.get("read_only", False)),
            )
            directory.accounts[account.name] = account
        for raw in document.get("authorizations") or []:
            directory.authorizations.append(
                Authorization(
                    application=directory.applications[raw["application"]],
                    account=directory.accounts[raw["account"]],
                    refresh_token=raw["refresh_token"],
                )
            )
        for raw in document.get("usage_plans") or []:
            directory.usage_plans.append(
                UsagePlanOverride(
                    operation=raw["operation"],
                    rate=float(raw["rate"]),
                    burst=int(raw["burst"]),
                    account=raw.get("account"),
                )
            )
        return directory

    def application_by_client_id(self, client_id: str) -> Application | None:
        for application in self.applications.values():
            if application.client_id == client_id:
                return application
        return None

    def account_by_partner_id(self, selling_partner_id: str) -> VendorAccount | None:
        for account in self.accounts.values():
            if account.selling_partner_id == selling_partner_id:
                return account
        return None

    def authorization_for_refresh_token(self, refresh_token: str) -> Authorization | None:
        for authorization in self.authorizations:
            if authorization.refresh_token == refresh_token:
                return authorization
        return None

    def describe(self) -> list[dict[str, Any]]:
        """What `vendor-sandbox accounts --json` prints: one item per authorization."""
        return [
            {
                "name": authorization.account.name,
                "application": authorization.application.name,
                "selling_partner_id": authorization.account.selling_partner_id,
                "client_id": authorization.application.client_id,
                "client_secret": authorization.application.client_secret,
                "refresh_token": authorization.refresh_token,
                "read_only": authorization.account.read_only,
                "marketplace_ids": list(authorization.account.marketplace_ids),
                "vendor_codes": list(authorization.account.vendor_codes),
                "party_ids": list(authorization.account.party_ids),
                "region": authorization.account.region,
            }
            for authorization in self.authorizations
        ]


def load_accounts(fixtures_dir: Path) -> AccountDirectory:
    return AccountDirectory.from_file(fixtures_dir / "accounts.yaml")


def _read_fixture(path: Path) -> dict[str, Any]:
    """The accounts file's content, read through the parsed-contract cache (as JSON, keyed by the file's
    path, size and modification time): a start with the cache imports no YAML parser."""
    from mockserver.contracts.loader import cached_json

    def parse() -> Any:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}

    document = cached_json(path, parse)
    return document if isinstance(document, dict) else {}
