"""Snapshots: the whole world saved under a name and restored exactly, into the same emulator, another store
kind, or after a restart; every wrong name, file, seed and order of calls refused, the world unchanged."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from mockserver.testing.server import RunningEmulator, start_emulator
from tests.server import df_support, retail_support
from tests.server.df_support import Flow

PROCESSING_DELAY = 0.05
SNAPSHOTS = "/_sandbox/snapshots"


def emulator_on(data_dir: Path, snapshots: Path, store: str, **settings: Any) -> RunningEmulator:
    return start_emulator(
        data_dir=data_dir,
        store=store,
        snapshots_dir=snapshots,
        rate_scale=1000.0,
        processing_delay=PROCESSING_DELAY,
        seed_size=60,
        **settings,
    )


@pytest.fixture
def snapshots(tmp_path: Path) -> Path:
    return tmp_path / "snapshots"


@pytest.fixture
def sqlite_emulator(tmp_path: Path, snapshots: Path) -> Iterator[RunningEmulator]:
    running = emulator_on(tmp_path / "sqlite", snapshots, "sqlite")
    yield running
    running.stop()


def admin(emulator: RunningEmulator, method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, emulator.base_url + path, json=body, timeout=30)


def freeze(emulator: RunningEmulator) -> None:
    assert admin(emulator, "POST", "/_sandbox/clock", {"freeze": True}).status_code == 200


def advance(emulator: RunningEmulator, seconds: float) -> None:
    assert admin(emulator, "POST", "/_sandbox/clock/advance", {"seconds": seconds}).status_code == 200


class World:
    """What a test did to an emulator's world, and the questions whose answers must come back identical."""

    def __init__(self) -> None:
        self.transactions: list[str] = []
        self.df_transactions: list[str] = []
        self.purchase_orders: list[str] = []
        self.df_orders: list[str] = []


def submit(emulator: RunningEmulator, path: str, body: Any, world: World, df: bool = False) -> str:
    response = emulator.session().post(emulator.base_url + path, json=body, timeout=10)
    assert response.status_code == 202, response.text
    payload = response.json()
    transaction_id = (payload.get("payload") or payload)["transactionId"]
    (world.df_transactions if df else world.transactions).append(transaction_id)
    return str(transaction_id)


def build_world(emulator: RunningEmulator, world: World, tag: str) -> None:
    """Acknowledged, shipped, received, invoiced and broken Retail documents; a DF order taken through to its
    invoice; the clock moved so that arrivals and receipts happen."""
    session = emulator.session()
    order = retail_support.new_purchase_order(emulator, session)
    number = order["purchaseOrderNumber"]
    world.purchase_orders.append(number)
    assert (
        retail_support.submit(emulator, session, retail_support.ACK, retail_support.acknowledgement(order))[
            "status"
        ]
        == "Success"
    )
    broken = retail_support.new_purchase_order(emulator, session)
    world.purchase_orders.append(broken["purchaseOrderNumber"])
    bad = retail_support.acknowledgement(broken, sellingParty={"partyId": "NOT-OURS"})
    assert retail_support.submit(emulator, session, retail_support.ACK, bad)["status"] == "Failure"
    confirmation = retail_support.shipment_confirmation(order, f"ASN-{tag}-{number}")
    assert retail_support.submit(emulator, session, retail_support.ASN, confirmation)["status"] == "Success"
    advance(emulator, 3 * 86400)  # the warehouse receives; new POs arrive
    assert (
        retail_support.submit(
            emulator, session, retail_support.INVOICES, retail_support.invoice(order, f"INV-{tag}-{number}")
        )["status"]
        == "Success"
    )
    flow = Flow(emulator)
    shipped = flow.shipped_order()
    world.df_orders.append(shipped["purchaseOrderNumber"])
    assert flow.invoice(shipped, f"DF-{tag}-{shipped['purchaseOrderNumber']}")["status"] == "Success"
    pending = flow.new_order()
    world.df_orders.append(pending["purchaseOrderNumber"])
    # Submitted, not yet decided when the snapshot is taken: decided alike after a restore.
    submit(
        emulator,
        df_support.acknowledgements_path(df_support.V2021),
        df_support.acknowledgement(pending),
        world,
        True,
    )


def answers(emulator: RunningEmulator, world: World) -> dict[str, Any]:
    """Every question a client could ask about what `world` did, with the answers (status and body)."""
    session = emulator.session()
    base = emulator.base_url
    questions: list[tuple[str, dict[str, Any]]] = [
        (f"{retail_support.ORDERS}/purchaseOrders", {"limit": 100}),
        (f"{retail_support.ORDERS}/purchaseOrders", {"limit": 100, "purchaseOrderState": "Acknowledged"}),
        (f"{retail_support.ORDERS}/purchaseOrders", {"limit": 100, "isPOChanged": "true"}),
        (f"{retail_support.ORDERS}/purchaseOrdersStatus", {"limit": 100}),
        ("/vendor/shipping/v1/shipments", {"limit": 50}),
        ("/_sandbox/clock", {}),
    ]
    questions += [
        (f"{retail_support.ORDERS}/purchaseOrders/{number}", {}) for number in world.purchase_orders
    ]
    questions += [(f"/vendor/transactions/v1/transactions/{tid}", {}) for tid in world.transactions]
    for version in df_support.VERSIONS:
        questions.append((df_support.orders_path(version), {**df_support.window(emulator, 30), "limit": 100}))
        questions += [(f"{df_support.orders_path(version)}/{number}", {}) for number in world.df_orders]
        questions += [(df_support.transaction_path(version, tid), {}) for tid in world.df_transactions]
    found: dict[str, Any] = {}
    for path, params in questions:
        response = session.get(base + path, params=params, timeout=10)
        key = f"{path}?{sorted(params.items())}"
        found[key] = (response.status_code, response.json())
    return found


def settle(emulator: RunningEmulator) -> None:
    """Let the processing delay pass, so that what is due is decided before the answers are compared."""
    time.sleep(PROCESSING_DELAY * 3)
    emulator.sandbox.retail.tick()
    emulator.sandbox.direct_fulfillment.tick()


def test_a_restored_world_answers_every_question_as_when_it_was_saved(
    sqlite_emulator: RunningEmulator, tmp_path: Path, snapshots: Path
) -> None:
    freeze(sqlite_emulator)
    world = World()
    build_world(sqlite_emulator, world, "a")
    # Saved with a DF acknowledgement still Processing: decided alike once restored.
    saved = admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "order-to-cash"})
    assert saved.status_code == 201, saved.text
    assert saved.json()["counts"]["purchase_orders"] > 0 and saved.json()["counts"]["documents"] > 0
    settle(sqlite_emulator)
    before = answers(sqlite_emulator, world)

    # Change everything: more documents, days of arrivals, a reset seeding a new world over it.
    build_world(sqlite_emulator, World(), "b")
    advance(sqlite_emulator, 5 * 86400)
    assert admin(sqlite_emulator, "POST", "/_sandbox/reset").status_code == 200
    assert answers(sqlite_emulator, world) != before  # the comparisons below must be able to fail

    restored = admin(sqlite_emulator, "POST", f"{SNAPSHOTS}/order-to-cash/restore")
    assert restored.status_code == 200, restored.text
    settle(sqlite_emulator)
    assert answers(sqlite_emulator, world) == before

    # A memory emulator of the same seed restores the SQLite world, and answers the same.
    other = emulator_on(tmp_path / "memory", snapshots, "memory")
    try:
        assert admin(other, "POST", f"{SNAPSHOTS}/order-to-cash/restore").status_code == 200
        settle(other)
        assert answers(other, world) == before
    finally:
        other.stop()


def test_a_world_saved_from_memory_restores_into_sqlite_and_survives_a_restart(
    tmp_path: Path, snapshots: Path
) -> None:
    source = emulator_on(tmp_path / "memory", snapshots, "memory")
    try:
        freeze(source)
        world = World()
        build_world(source, world, "m")
        settle(source)
        expected = answers(source, world)
        assert admin(source, "POST", SNAPSHOTS, {"name": "from-memory"}).status_code == 201
    finally:
        source.stop()
    target = emulator_on(tmp_path / "sqlite", snapshots, "sqlite")
    try:
        assert admin(target, "POST", f"{SNAPSHOTS}/from-memory/restore").status_code == 200
        settle(target)
        assert answers(target, world) == expected
    finally:
        target.stop()
    restarted = emulator_on(tmp_path / "sqlite", snapshots, "sqlite")
    try:
        assert answers(restarted, world) == expected
    finally:
        restarted.stop()


def test_the_clock_comes_back_to_the_moment_it_was_saved(sqlite_emulator: RunningEmulator) -> None:
    clock = sqlite_emulator.sandbox.clock
    saved_at = clock.timestamp()
    assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "running"}).status_code == 201
    advance(sqlite_emulator, 10 * 86400)
    started = time.monotonic()
    assert admin(sqlite_emulator, "POST", f"{SNAPSHOTS}/running/restore").status_code == 200
    assert not clock.frozen
    assert saved_at <= clock.timestamp() <= saved_at + (time.monotonic() - started) + 5

    freeze(sqlite_emulator)
    frozen_at = clock.timestamp()
    assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "frozen"}).status_code == 201
    assert (
        admin(sqlite_emulator, "POST", "/_sandbox/clock", {"freeze": False, "advance": 3600}).status_code
        == 200
    )
    assert admin(sqlite_emulator, "POST", f"{SNAPSHOTS}/frozen/restore").status_code == 200
    assert clock.frozen and clock.timestamp() == frozen_at


def test_a_client_keeps_its_token_across_a_restore(sqlite_emulator: RunningEmulator) -> None:
    session = sqlite_emulator.session()
    url = f"{sqlite_emulator.base_url}{retail_support.ORDERS}/purchaseOrders"
    assert session.get(url, params={"limit": 1}, timeout=10).status_code == 200
    assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "tokens"}).status_code == 201
    assert admin(sqlite_emulator, "POST", f"{SNAPSHOTS}/tokens/restore").status_code == 200
    assert session.get(url, params={"limit": 1}, timeout=10).status_code == 200


def test_list_describe_and_delete(sqlite_emulator: RunningEmulator, snapshots: Path) -> None:
    assert admin(sqlite_emulator, "GET", SNAPSHOTS).json()["snapshots"] == []
    for name in ("b-world", "a-world"):
        assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": name}).status_code == 201
    listing = admin(sqlite_emulator, "GET", SNAPSHOTS).json()
    assert listing["directory"] == str(snapshots)
    assert [item["name"] for item in listing["snapshots"]] == ["a-world", "b-world"]
    described = admin(sqlite_emulator, "GET", f"{SNAPSHOTS}/a-world").json()
    assert described["seed"] == 1 and described["seed_size"] == 60 and described["store"] == "sqlite"
    assert described["counts"]["purchase_orders"] == 4 * 60
    assert admin(sqlite_emulator, "DELETE", f"{SNAPSHOTS}/a-world").json() == {
        "status": "deleted",
        "name": "a-world",
    }
    assert [item["name"] for item in admin(sqlite_emulator, "GET", SNAPSHOTS).json()["snapshots"]] == [
        "b-world"
    ]
    assert admin(sqlite_emulator, "DELETE", f"{SNAPSHOTS}/a-world").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "../escape"},
        {"name": ".hidden"},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "a/b"},
        {"name": 7},
        {},
        {"name": "ok", "replace": "yes"},
        {"name": "ok", "overwrite": True},
    ],
)
def test_bad_save_requests_are_refused_in_amazons_shape(
    sqlite_emulator: RunningEmulator, snapshots: Path, body: dict[str, Any]
) -> None:
    response = admin(sqlite_emulator, "POST", SNAPSHOTS, body)
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"] == "InvalidInput"
    assert not snapshots.exists() or not any(snapshots.iterdir())


def test_saving_over_a_name_needs_replace(sqlite_emulator: RunningEmulator) -> None:
    assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "twice"}).status_code == 201
    again = admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "twice"})
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "Conflict"
    assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "twice", "replace": True}).status_code == 201


def test_restoring_what_is_not_there_is_404(sqlite_emulator: RunningEmulator) -> None:
    for path in (f"{SNAPSHOTS}/nothing/restore", f"{SNAPSHOTS}/nothing"):
        response = admin(sqlite_emulator, "POST" if path.endswith("restore") else "GET", path)
        assert response.status_code == 404
        assert "no snapshot named nothing" in response.json()["errors"][0]["details"]


def _purchase_order_count(emulator: RunningEmulator) -> int:
    return emulator.sandbox.purchase_orders.count()


def test_a_damaged_or_foreign_file_is_refused_and_changes_nothing(
    sqlite_emulator: RunningEmulator, snapshots: Path
) -> None:
    assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "whole"}).status_code == 201
    whole = gzip.decompress((snapshots / "whole.jsonl.gz").read_bytes()).splitlines(keepends=True)
    cases = {
        "cut": gzip.compress(b"".join(whole[: len(whole) // 2])),
        "no-trailer": gzip.compress(b"".join(whole[:-1])),
        "not-gzip": b"{}\n",
        "empty": gzip.compress(b""),
        "foreign": gzip.compress(b'{"format": "something-else"}\n'),
        "bad-record": gzip.compress(whole[0] + b'{"po": {"number": 1}}\n' + whole[-1]),
        "renamed": gzip.compress(b"".join(whole)),  # holds snapshot "whole", not "renamed"
        "truncated-gzip": gzip.compress(b"".join(whole))[:-20],
    }
    for name, content in cases.items():
        (snapshots / f"{name}.jsonl.gz").write_bytes(content)
    advance(sqlite_emulator, 2 * 3600)
    retail_support.get(sqlite_emulator, sqlite_emulator.session(), f"{retail_support.ORDERS}/purchaseOrders")
    count = _purchase_order_count(
        sqlite_emulator
    )  # two arrived since the snapshot: a restore would drop them
    for name in cases:
        response = admin(sqlite_emulator, "POST", f"{SNAPSHOTS}/{name}/restore")
        assert response.status_code == 400, (name, response.text)
        assert response.json()["errors"][0]["code"] == "InvalidInput"
        assert _purchase_order_count(sqlite_emulator) == count
    listing = {item["name"]: item for item in admin(sqlite_emulator, "GET", SNAPSHOTS).json()["snapshots"]}
    assert "problem" not in listing["whole"]
    assert all("problem" in listing[name] for name in cases)


def test_a_snapshot_of_another_seed_is_refused(
    sqlite_emulator: RunningEmulator, tmp_path: Path, snapshots: Path
) -> None:
    assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "seed-one"}).status_code == 201
    other = emulator_on(tmp_path / "other", snapshots, "memory", seed=2)
    try:
        response = admin(other, "POST", f"{SNAPSHOTS}/seed-one/restore")
        assert response.status_code == 409
        assert "--seed 1" in response.json()["errors"][0]["details"]
    finally:
        other.stop()


def test_concurrent_saves_and_restores_leave_readable_snapshots_and_a_whole_world(
    sqlite_emulator: RunningEmulator,
) -> None:
    assert admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": "base"}).status_code == 201
    statuses: list[int] = []

    def work(index: int) -> None:
        if index % 2:
            statuses.append(admin(sqlite_emulator, "POST", f"{SNAPSHOTS}/base/restore").status_code)
        else:
            statuses.append(admin(sqlite_emulator, "POST", SNAPSHOTS, {"name": f"copy-{index}"}).status_code)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 201, 201, 201]
    listing = admin(sqlite_emulator, "GET", SNAPSHOTS).json()["snapshots"]
    assert len(listing) == 4 and not [item for item in listing if "problem" in item]
    assert {item["counts"]["purchase_orders"] for item in listing} == {4 * 60}
    assert _purchase_order_count(sqlite_emulator) == 4 * 60


def test_the_snapshot_calls_need_the_admin_token(tmp_path: Path, snapshots: Path) -> None:
    guarded = emulator_on(tmp_path / "guarded", snapshots, "memory", admin_token="secret")
    try:
        assert admin(guarded, "GET", SNAPSHOTS).status_code == 403
        assert admin(guarded, "POST", SNAPSHOTS, {"name": "x"}).status_code == 403
        response = requests.get(
            guarded.base_url + SNAPSHOTS, headers={"Authorization": "Bearer secret"}, timeout=10
        )
        assert response.status_code == 200
    finally:
        guarded.stop()


def test_an_unwritable_snapshots_directory_is_said_plainly(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the directory should be", encoding="utf-8")
    running = emulator_on(tmp_path / "data", blocked, "memory")
    try:
        response = admin(running, "POST", SNAPSHOTS, {"name": "nowhere"})
        assert response.status_code == 500
        error = response.json()["errors"][0]
        assert error["code"] == "InternalFailure" and str(blocked) in error["details"]
        assert admin(running, "GET", SNAPSHOTS).json()["snapshots"] == []
    finally:
        running.stop()
