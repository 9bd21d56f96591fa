"""`vendor-sandbox snapshot save|restore|list|delete NAME`: snapshots of a running emulator's world, through
its admin API (`/_sandbox/snapshots`), so they work whatever its store and wherever it runs (a container)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mockserver.settings import SettingsError, load_settings


def _target(arguments: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """The emulator's URL and admin headers: from the flags, else from the settings (port, admin token)."""
    url, token = arguments.url, arguments.admin_token
    if url is None or token is None:
        settings = load_settings()
        url = url or f"http://127.0.0.1:{settings.port}"
        token = token if token is not None else settings.admin_token
    return url.rstrip("/"), ({"Authorization": f"Bearer {token}"} if token else {})


def _call(arguments: argparse.Namespace, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    import requests

    from mockserver.snapshots import SnapshotError, check_name

    name = getattr(arguments, "name", None)
    if name is not None:
        try:
            check_name(name)
        except SnapshotError as error:
            print(f"vendor-sandbox: {error}", file=sys.stderr)
            return 2, None

    try:
        url, headers = _target(arguments)
    except SettingsError as error:
        print(f"vendor-sandbox: {error}", file=sys.stderr)
        return 2, None
    try:
        response = requests.request(method, f"{url}{path}", json=body, headers=headers, timeout=600)
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        print(f"vendor-sandbox: no answer from {url}: {error}", file=sys.stderr)
        return 2, None
    if response.status_code >= 400:
        errors = document.get("errors") if isinstance(document, dict) else None
        detail = (errors[0].get("details") or errors[0].get("message")) if errors else response.text[:200]
        print(f"vendor-sandbox: {detail}", file=sys.stderr)
        return 1, None
    return 0, document


def _summary(snapshot: dict[str, Any]) -> str:
    counts = snapshot.get("counts") or {}
    clock = snapshot.get("clock") or {}
    from mockserver.domain.clock import iso_seconds

    moment = iso_seconds(int(clock["now"])) if isinstance(clock.get("now"), int | float) else "?"
    return (
        f"{counts.get('purchase_orders', 0)} purchase orders, {counts.get('df_orders', 0)} DF orders, "
        f"{counts.get('documents', 0)} documents; sandbox clock {moment}"
        f"{' (frozen)' if clock.get('frozen') else ''}; saved {snapshot.get('saved_at', '?')}"
    )


def _save(arguments: argparse.Namespace) -> int:
    body = {"name": arguments.name, "replace": arguments.replace}
    code, snapshot = _call(arguments, "POST", "/_sandbox/snapshots", body)
    if code == 0:
        print(f"saved snapshot {arguments.name}: {_summary(snapshot)}")
    return code


def _restore(arguments: argparse.Namespace) -> int:
    code, snapshot = _call(arguments, "POST", f"/_sandbox/snapshots/{arguments.name}/restore")
    if code == 0:
        print(f"restored snapshot {arguments.name}: {_summary(snapshot)}")
    return code


def _list(arguments: argparse.Namespace) -> int:
    code, listing = _call(arguments, "GET", "/_sandbox/snapshots")
    if code != 0:
        return code
    if arguments.json:
        print(json.dumps(listing, indent=2))
        return 0
    snapshots = listing["snapshots"]
    if not snapshots:
        print(f"no snapshots in {listing['directory']}")
    for snapshot in snapshots:
        if "problem" in snapshot:
            print(f"{snapshot['name']}  unreadable: {snapshot['problem']}")
        else:
            print(f"{snapshot['name']}  {_summary(snapshot)}")
    return 0


def _delete(arguments: argparse.Namespace) -> int:
    code, _ = _call(arguments, "DELETE", f"/_sandbox/snapshots/{arguments.name}")
    if code == 0:
        print(f"deleted snapshot {arguments.name}")
    return code


def add_snapshot_commands(commands: Any) -> None:
    snapshot = commands.add_parser(
        "snapshot", help="save, restore, list or delete named worlds of a running emulator"
    )
    actions = snapshot.add_subparsers(dest="snapshot_command", required=True)

    def common(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--url", default=None, help="the emulator (default http://127.0.0.1:PORT of the settings)"
        )
        parser.add_argument(
            "--admin-token", default=None, help="the emulator's admin token (default: the settings')"
        )

    save = actions.add_parser("save", help="save the world now under NAME")
    save.add_argument("name")
    save.add_argument("--replace", action="store_true", help="replace a snapshot of that name")
    common(save)
    save.set_defaults(handler=_save)
    restore = actions.add_parser("restore", help="replace the world with snapshot NAME")
    restore.add_argument("name")
    common(restore)
    restore.set_defaults(handler=_restore)
    listing = actions.add_parser("list", help="the saved snapshots")
    listing.add_argument("--json", action="store_true", help="print the listing as JSON")
    common(listing)
    listing.set_defaults(handler=_list)
    delete = actions.add_parser("delete", help="delete snapshot NAME")
    delete.add_argument("name")
    common(delete)
    delete.set_defaults(handler=_delete)


__all__ = ["add_snapshot_commands"]
