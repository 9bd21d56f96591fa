"""Request and transaction ids: version 4 UUIDs, never repeated."""

from __future__ import annotations

import threading
import uuid

from mockserver.ids import unique_id


def test_ids_are_version_4_uuids() -> None:
    for _ in range(100):
        text = unique_id()
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_ids_do_not_repeat_across_threads() -> None:
    seen: list[str] = []
    lock = threading.Lock()

    def draw() -> None:
        mine = [unique_id() for _ in range(5000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == len(set(seen)) == 40_000
