"""The one record of a split message's sent parts, shared by Telegram, Viber and Meta."""

from __future__ import annotations

from connectors.send_progress import SendProgress
from storage.store import Store


async def test_parts_are_kept_across_instances_and_cleared(sqlite_store: Store) -> None:
    progress = SendProgress(sqlite_store, "viber", 7)
    assert await progress.load(41) == []
    await progress.save(41, ["a", "b"])
    # A restart (a new connector on the same store) finds them under the same key.
    assert await SendProgress(sqlite_store, "viber", 7).load(41) == ["a", "b"]
    assert sqlite_store.get_state("viber:7:sending:41") == '["a", "b"]'
    # Another channel, or another message, has its own record.
    assert await SendProgress(sqlite_store, "telegram", 7).load(41) == []
    assert await progress.load(42) == []
    await progress.save(41, [])
    assert await progress.load(41) == [] and sqlite_store.get_state("viber:7:sending:41") == ""


async def test_a_damaged_record_means_nothing_was_sent(sqlite_store: Store) -> None:
    progress = SendProgress(sqlite_store, "facebook", 3)
    for damaged in ("{not json", '{"a": 1}', "17"):
        sqlite_store.set_state(progress.key(5), damaged)
        assert await progress.load(5) == []
    sqlite_store.set_state(progress.key(5), "[1, 2]")
    assert await progress.load(5) == ["1", "2"]
