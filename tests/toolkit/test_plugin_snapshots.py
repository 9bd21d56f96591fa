"""A test suite starting each test from a named world: `@pytest.mark.vendor_sandbox(snapshot="name")`."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.testing.admin import AdminError
from mockserver.testing.served import VendorSandbox

WORLDS = Path(tempfile.mkdtemp(prefix="vendor-sandbox-worlds-"))
ORDERS = "/vendor/orders/v1/purchaseOrders"


@pytest.fixture(scope="module", autouse=True)
def frozen_world() -> Iterator[str]:
    """A world whose clock stands still at a moment of its own, saved as `frozen` in WORLDS."""
    sandbox = VendorSandbox(snapshots_dir=WORLDS, seed_size=30)
    try:
        sandbox.clock(freeze=True, set="2030-06-01T12:00:00Z")
        sandbox.admin.save_snapshot("frozen")
        yield "frozen"
    finally:
        sandbox.stop()


@pytest.mark.vendor_sandbox(snapshots_dir=WORLDS, seed_size=30, snapshot="frozen")
def test_the_marker_starts_the_test_from_the_saved_world(vendor_sandbox: VendorSandbox) -> None:
    clock = vendor_sandbox.admin.call("GET", "/_sandbox/clock")
    assert clock == {"now": "2030-06-01T12:00:00Z", "frozen": True, "offset_seconds": clock["offset_seconds"]}
    assert [item["name"] for item in vendor_sandbox.admin.snapshots()] == ["frozen"]


@pytest.mark.vendor_sandbox(snapshots_dir=WORLDS, seed_size=30)
def test_helpers_save_restore_and_delete(vendor_sandbox: VendorSandbox) -> None:
    saved = vendor_sandbox.admin.save_snapshot("mine")
    assert saved["counts"]["purchase_orders"] == 4 * 30
    vendor_sandbox.admin.restore_snapshot("frozen")
    assert vendor_sandbox.admin.call("GET", "/_sandbox/clock")["now"] == "2030-06-01T12:00:00Z"
    vendor_sandbox.admin.delete_snapshot("mine")
    with pytest.raises(AdminError) as missing:
        vendor_sandbox.admin.restore_snapshot("mine")
    assert missing.value.status == 404


@pytest.mark.vendor_sandbox(snapshots_dir=WORLDS, snapshot="frozen")
def test_a_world_of_another_size_is_refused_with_the_reason(request: pytest.FixtureRequest) -> None:
    with pytest.raises(AdminError) as refused:
        request.getfixturevalue("vendor_sandbox")
    assert refused.value.status == 409
    assert "--seed-size 30" in str(refused.value)
