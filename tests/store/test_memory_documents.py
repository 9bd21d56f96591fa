"""The memory store keeps documents as JSON bytes: values come back as JSON gives them, private copies, and
the collector does not walk them; a value beyond JSON (no stored document is one) is still a private copy."""

from __future__ import annotations

import gc

from mockserver.store import MemoryStore


def test_documents_are_kept_out_of_the_collectors_sight() -> None:
    store = MemoryStore()
    before = len(gc.get_objects())
    store.put_many(
        "c", ((f"k{index}", {"items": [{"n": index}], "tags": ["a", "b"]}) for index in range(2000))
    )
    # Kept as Python objects, each document would be four containers the collector tracks.
    assert len(gc.get_objects()) - before < 500
    assert store.get("c", "k7") == {"items": [{"n": 7}], "tags": ["a", "b"]}


def test_values_come_back_as_json_gives_them() -> None:
    store = MemoryStore()
    store.put("c", "k", {"tuple": (1, 2), "number": 1.5})
    assert store.get("c", "k") == {"tuple": [1, 2], "number": 1.5}


def test_a_document_beyond_json_is_kept_as_a_private_copy() -> None:
    store = MemoryStore()
    document = {"members": {1, 2}}
    store.put("c", "k", document)
    document["members"].add(3)
    kept = store.get("c", "k")
    assert kept == {"members": {1, 2}}
    assert kept is not None
    kept["members"].add(4)
    assert store.get("c", "k") == {"members": {1, 2}}
    assert [key for key, _ in store.scan("c")] == ["k"]
