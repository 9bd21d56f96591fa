"""Receiving over time without HTTP: the index of shipments still being received survives a restart of a
SQLite-backed world (and is rebuilt from the ASNs of a store written without it), and a shipment fully
received leaves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mockserver.accounts import load_accounts
from mockserver.domain.clock import SandboxClock, iso
from mockserver.domain.retail.service import RECEIVING, RECEIVING_DUE, RetailWorld
from mockserver.settings import Settings
from mockserver.store import SqliteStore
from mockserver.store.purchase_orders import SqlitePurchaseOrderTable
from tests.server.retail_support import acknowledgement, shipment_confirmation

FROZEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "acme-na"
DELIVERY = FROZEN + timedelta(days=1)


class World:
    """A world on SQLite files in one directory; `restart()` closes them and opens a new world on them."""

    def __init__(self, directory: Path, *, shared: bool = False, arrival_interval: float = 3600.0) -> None:
        self.directory = directory
        self.shared = shared  # as a worker of `serve --workers` opens the store
        self.arrival_interval = arrival_interval
        self._open()

    def _open(self) -> None:
        self.store = SqliteStore(self.directory / "state.sqlite3", shared=self.shared)
        self.table = SqlitePurchaseOrderTable(self.directory / "purchase-orders.sqlite3")
        self.clock = SandboxClock(self.store)
        if not self.clock.frozen:
            self.clock.freeze(FROZEN)
        self.world = RetailWorld(
            load_accounts(Settings().fixtures_dir),
            self.store,
            self.table,
            self.clock,
            seed=7,
            seed_size=40,
            processing_delay=0,
            arrival_interval=self.arrival_interval,
        )
        self.world.ensure_seeded()

    def close(self) -> None:
        self.table.close()
        self.store.close()

    def restart(self) -> None:
        self.close()
        self._open()

    def submit(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        transaction_id = self.world.submit(ACCOUNT, kind, body)
        self.world.tick()  # no processing delay: decided at the next tick
        status: dict[str, Any] = self.world.transaction_status(ACCOUNT, transaction_id)
        return status

    def receive_status(self, number: str) -> set[str]:
        payload = self.world.list_purchase_order_statuses(ACCOUNT, {"purchaseOrderNumber": number})
        (status,) = payload["ordersStatus"]
        return {item["receivingStatus"]["receiveStatus"] for item in status["itemStatus"]}


@pytest.fixture
def world(tmp_path: Path) -> Any:
    opened = World(tmp_path)
    yield opened
    opened.close()


def _shipped_order(world: World, identifier: str) -> str:
    """A New PO acknowledged and shipped in full, the ASN due at DELIVERY."""
    orders = world.world.list_purchase_orders(ACCOUNT, {"purchaseOrderState": "New", "limit": 100})["orders"]
    order = next(
        o for o in orders if all(item["orderedQuantity"]["amount"] > 0 for item in o["orderDetails"]["items"])
    )
    assert world.submit("acknowledgement", acknowledgement(order))["transactionStatus"]["status"] == "Success"
    asn = shipment_confirmation(
        order, identifier, shippedDate=iso(FROZEN), estimatedDeliveryDate=iso(DELIVERY)
    )
    assert world.submit("shipmentConfirmation", asn)["transactionStatus"]["status"] == "Success"
    return str(order["purchaseOrderNumber"])


def test_receiving_progresses_after_a_restart_and_a_received_shipment_leaves_the_index(world: World) -> None:
    number = _shipped_order(world, "ASN-RESTART")
    assert world.world.receiving_pending(ACCOUNT) == {"ASN-RESTART": iso(DELIVERY)}
    world.restart()
    world.world.tick()  # not yet due: nothing is received
    assert world.receive_status(number) == {"NOT_RECEIVED"}
    assert world.world.receiving_pending(ACCOUNT) == {"ASN-RESTART": iso(DELIVERY)}
    world.clock.advance(2 * 86400)
    world.restart()
    assert world.receive_status(number) == {"RECEIVED"}
    assert world.world.receiving_pending(ACCOUNT) == {}


def test_the_index_is_rebuilt_from_the_asns_of_a_store_written_without_it(world: World) -> None:
    number = _shipped_order(world, "ASN-OLD-STORE")
    for account in world.world.accounts.accounts:
        world.store.delete(RECEIVING, account)
    world.store.delete(*RECEIVING_DUE)
    world.clock.advance(2 * 86400)
    world.restart()
    assert world.receive_status(number) == {"RECEIVED"}
    assert world.world.receiving_pending(ACCOUNT) == {}


def test_a_replaced_asn_is_received_when_its_replacement_is_due(world: World) -> None:
    number = _shipped_order(world, "ASN-REPLACED")
    orders = world.world.list_purchase_orders(ACCOUNT, {"purchaseOrderNumber": number})["orders"]
    later = DELIVERY + timedelta(days=3)
    replacement = shipment_confirmation(
        orders[0],
        "ASN-REPLACED",
        shipmentConfirmationType="Replace",
        shippedDate=iso(FROZEN),
        estimatedDeliveryDate=iso(later),
    )
    assert world.submit("shipmentConfirmation", replacement)["transactionStatus"]["status"] == "Success"
    assert world.world.receiving_pending(ACCOUNT) == {"ASN-REPLACED": iso(later)}
    world.clock.advance(2 * 86400)  # past the first delivery date, before the replacement's
    world.world.tick()
    assert world.receive_status(number) == {"NOT_RECEIVED"}
    world.clock.advance(3 * 86400)
    world.world.tick()
    assert world.receive_status(number) == {"RECEIVED"}
    assert world.world.receiving_pending(ACCOUNT) == {}


def test_reset_empties_the_index_with_the_asns(world: World) -> None:
    _shipped_order(world, "ASN-BEFORE-RESET")
    assert world.world.receiving_pending(ACCOUNT) == {"ASN-BEFORE-RESET": iso(DELIVERY)}
    world.world.reset()
    assert world.store.get(RECEIVING, ACCOUNT) is None
    assert world.store.get(*RECEIVING_DUE) is None
    world.world.tick()
    assert world.world.receiving_pending(ACCOUNT) == {}


def test_a_worker_receives_a_shipment_another_worker_confirmed_after_it_worked_out_what_is_due(
    tmp_path: Path,
) -> None:
    """Where workers share the store, what one worked out is next due (here the next arrival, a month away)
    holds only while what it was worked out from is unchanged: an ASN confirmed through another worker makes
    its receipt due sooner."""
    here = World(tmp_path, shared=True, arrival_interval=30 * 86400)
    there = World(tmp_path, shared=True, arrival_interval=30 * 86400)
    try:
        here.world.tick()
        assert here.world.receiving_pending(ACCOUNT) == {}
        number = _shipped_order(there, "ASN-THERE")
        assert here.receive_status(number) == {"NOT_RECEIVED"}  # due at DELIVERY, not yet
        there.clock.advance(2 * 86400)
        here.clock.reload()  # as a worker does when the shared generation changes
        assert here.receive_status(number) == {"RECEIVED"}
        assert there.world.receiving_pending(ACCOUNT) == {}
    finally:
        here.close()
        there.close()
