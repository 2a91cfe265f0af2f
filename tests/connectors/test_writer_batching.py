"""The group-commit writer's adaptive batching (issue 20): no timer by default.

With ``window=0`` the writer commits what it has after one turn of the event loop;
what arrives while a commit runs forms the next batch. These tests check the
batching by counting commits, never by timing anything. The contract every ingest
writer keeps runs on both: the thread of this process and the helper process
``switchboard serve`` uses on SQLite (``connectors/ingest_process.py``).
"""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from connectors.ingest_process import ProcessCommitWriter, writer_for
from connectors.writer import GroupCommitWriter
from storage.errors import RuleViolation
from storage.store import Store
from tests.connectors.gateway_helpers import inbound, spec

Writer = GroupCommitWriter | ProcessCommitWriter


@pytest.fixture(params=["thread", "process"])
def make_writer(request: pytest.FixtureRequest, sqlite_store: Store) -> Writer:
    """The default writer of each kind (``writer_for``, as the gateway wiring makes it)."""
    writer = writer_for(sqlite_store, sqlite_store.bus, sqlite_store.db.database,
                        in_process=request.param == "thread")
    assert (type(writer) is GroupCommitWriter) == (request.param == "thread")
    return writer


async def test_messages_handed_in_together_share_one_commit(
        sqlite_store: Store, make_writer: Writer) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = make_writer  # the default: no timed window
    assert getattr(writer, "window", 0) == 0
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


async def test_a_bad_message_fails_alone_and_its_batch_commits(
        sqlite_store: Store, make_writer: Writer) -> None:
    """One message the store refuses (no chat id) gets the error (across the pipe too);
    the others of its batch are committed and each caller gets its own message."""
    web = spec(sqlite_store, "webchat", "web")
    writer = make_writer
    await writer.start()
    try:
        items = [inbound(web.id, f"chat-{i % 4}", f"good {i}", f"g-{i}") for i in range(12)]
        items.insert(5, inbound(web.id, "", "bad", "bad-1"))
        results = await asyncio.gather(*[writer.ingest(i) for i in items],
                                       return_exceptions=True)
    finally:
        await writer.stop()
    assert isinstance(results[5], RuleViolation) and str(results[5])
    good = [r for k, r in enumerate(results) if k != 5]
    assert [r.message.text for r in good] == [f"good {i}" for i in range(12)]  # type: ignore[union-attr]
    for i, r in enumerate(good):
        stored = sqlite_store.find_message(web.id, f"g-{i}")
        assert stored is not None and stored.id == r.message.id  # type: ignore[union-attr]
    assert sqlite_store.find_message(web.id, "bad-1") is None


async def test_a_duplicate_inside_one_batch_is_stored_once(
        sqlite_store: Store, make_writer: Writer) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = make_writer
    await writer.start()
    try:
        first, other, again = await asyncio.gather(
            writer.ingest(inbound(web.id, "c", "hello", "same-id")),
            writer.ingest(inbound(web.id, "c", "other", "other-id")),
            writer.ingest(inbound(web.id, "c", "hello", "same-id")))
    finally:
        await writer.stop()
    assert writer.batches == 1
    assert again.duplicate and not first.duplicate and not other.duplicate
    assert again.message.id == first.message.id
    texts = [m.text for m in sqlite_store.thread_before(first.task.id).items if m.kind == "inbound"]
    assert texts == ["hello", "other"]


async def test_every_commit_runs_on_the_writers_one_thread(sqlite_store: Store) -> None:
    """One worker thread (one connection, warm statements), never the event loop's."""
    web = spec(sqlite_store, "webchat", "web")
    original = sqlite_store.ingest_many
    threads: list[int] = []

    def recording(items: list) -> list:  # type: ignore[type-arg]
        threads.append(threading.get_ident())
        return original(items)

    sqlite_store.ingest_many = recording  # type: ignore[method-assign]
    writer = GroupCommitWriter(sqlite_store)
    await writer.start()
    held: list[threading.Event] = []
    blockers: list[asyncio.Future[bool]] = []
    try:
        for k in range(4):  # one batch each, while the shared pool's threads are busy
            await asyncio.gather(*[writer.ingest(inbound(web.id, "c", f"{k}.{i}", f"{k}-{i}"))
                                   for i in range(3)])
            held.append(threading.Event())  # keep one more shared-pool thread occupied
            blockers.append(asyncio.ensure_future(asyncio.to_thread(held[-1].wait, 30)))
    finally:
        for event in held:
            event.set()
        await asyncio.gather(*blockers)
        await writer.stop()
        sqlite_store.ingest_many = original  # type: ignore[method-assign]
    assert len(threads) == 4 and len(set(threads)) == 1
    assert threads[0] != threading.get_ident()


async def test_stop_commits_what_was_handed_in_then_refuses(
        sqlite_store: Store, make_writer: Writer) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = make_writer
    await writer.start()
    helper = writer.pid if isinstance(writer, ProcessCommitWriter) else None
    pending = [asyncio.create_task(writer.ingest(inbound(web.id, "c", str(i), f"s-{i}")))
               for i in range(10)]
    await asyncio.sleep(0)  # every caller has handed its message in
    await writer.stop()
    assert [t.result().message.text for t in pending] == [str(i) for i in range(10)]
    with pytest.raises(ConnectionAbortedError):
        await writer.ingest(inbound(web.id, "c", "late", "s-late"))
    if helper is not None:
        with pytest.raises(ProcessLookupError):
            os.kill(helper, 0)  # the helper is gone (and reaped)
