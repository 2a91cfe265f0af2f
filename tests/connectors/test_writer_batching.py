"""The group-commit writer's adaptive batching (issue 20): no timer by default.

With ``window=0`` the writer commits what it has after one turn of the event loop;
what arrives while a commit runs forms the next batch. These tests check the
batching by counting commits, never by timing anything.
"""

from __future__ import annotations

import asyncio
import threading

from connectors.writer import GroupCommitWriter
from storage.store import Store
from tests.connectors.gateway_helpers import inbound, spec


async def test_messages_handed_in_together_share_one_commit(sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = GroupCommitWriter(sqlite_store)  # the default: no timed window
    assert writer.window == 0
    await writer.start()
    try:
        results = await asyncio.gather(*[
            writer.ingest(inbound(web.id, f"chat-{i % 3}", f"текст {i}", f"t-{i}"))
            for i in range(40)])
    finally:
        await writer.stop()
    assert writer.batches == 1
    assert [r.message.text for r in results] == [f"текст {i}" for i in range(40)]


async def test_arrivals_during_a_commit_form_the_next_batch(sqlite_store: Store) -> None:
    """The first message commits alone; the ones sent while it commits go in one batch."""
    web = spec(sqlite_store, "webchat", "web")
    entered, release = threading.Event(), threading.Event()
    original = sqlite_store.ingest_many
    calls: list[int] = []

    def held(items: list) -> list:  # type: ignore[type-arg]
        calls.append(len(items))
        if len(calls) == 1:  # hold the first commit until the others are queued
            entered.set()
            release.wait(30)
        return original(items)

    sqlite_store.ingest_many = held  # type: ignore[method-assign]
    writer = GroupCommitWriter(sqlite_store)
    await writer.start()
    try:
        first = asyncio.create_task(writer.ingest(inbound(web.id, "a", "first", "f-0")))
        assert await asyncio.to_thread(entered.wait, 30)
        rest = [asyncio.create_task(writer.ingest(inbound(web.id, "b", str(i), f"r-{i}")))
                for i in range(25)]
        await asyncio.sleep(0)  # let them all reach the queue
        release.set()
        await asyncio.gather(first, *rest)
    finally:
        release.set()
        await writer.stop()
        sqlite_store.ingest_many = original  # type: ignore[method-assign]
    assert calls == [1, 25]
    assert writer.batches == 2
    assert sqlite_store.find_message(web.id, "r-24") is not None
