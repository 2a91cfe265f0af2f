"""The ingest writer in a helper process (connectors/ingest_process.py), on real SQLite
files and real child processes: results, events, a duplicate, a crash, Ctrl-C, a
helper that cannot start. The contract both writers keep (one commit for messages
handed in together, a bad message failing alone, a stop) is in test_writer_batching."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

import pytest

from connectors.ingest_process import ProcessCommitWriter, writer_for
from connectors.registry import policies
from connectors.writer import GroupCommitWriter
from storage import events as ev
from storage.events import Event, EventBus
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, inbound, spec


def helper(store: Store) -> ProcessCommitWriter:
    writer = writer_for(store, store.bus, store.db.database, in_process=False)
    assert isinstance(writer, ProcessCommitWriter)
    return writer


def stored_ids(events: list[Event]) -> list[int]:
    return [e.message_id for e in events
            if e.kind == ev.MESSAGE_STORED and e.message_id is not None]


def test_the_helper_is_chosen_only_where_its_events_can_be_told_apart(
        sqlite_store: Store) -> None:
    assert isinstance(helper(sqlite_store), ProcessCommitWriter)
    thread = writer_for(sqlite_store, sqlite_store.bus, sqlite_store.db.database,
                        in_process=True)
    assert type(thread) is GroupCommitWriter
    # a bus that cannot adopt a helper's events (PostgreSQL's LISTEN/NOTIFY, memory)
    assert type(writer_for(sqlite_store, EventBus(), "x.db", in_process=False)) is GroupCommitWriter
    memory = Store.open(":memory:", policies=policies())
    try:
        assert type(writer_for(memory, memory.bus, ":memory:", in_process=False)) \
            is GroupCommitWriter
    finally:
        memory.close()


async def test_messages_are_committed_by_the_helper_and_heard_once_here_and_elsewhere(
        sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    here: list[Event] = []  # what the gateway's own subscribers (outbox, rules…) hear
    sqlite_store.bus.subscribe(here.append)
    other = Store.open(sqlite_store.db.database, policies=policies())  # another process's
    there: list[Event] = []
    other.bus.subscribe(there.append)
    writer = helper(sqlite_store)
    await writer.start()
    try:
        assert writer.pid is not None and writer.pid != os.getpid()
        results = await asyncio.gather(*[
            writer.ingest(inbound(web.id, f"chat-{i % 3}", f"текст {i}", f"h-{i}"))
            for i in range(30)])
        assert [r.message.text for r in results] == [f"текст {i}" for i in range(30)]
        assert writer.batches < 30  # group commit in the helper
        ids = sorted(r.message.id for r in results)
        # Heard here once: from the helper's answer, not again from its datagram. A
        # later commit in this process is sent to the same sockets after the helper's
        # datagrams, so once the other store heard it, any copy would have come.
        last = results[-1].task.id
        sqlite_store.mark_read(last)  # a TASK_UPDATED committed here, after the helper's
        await eventually(lambda: any(e.kind == ev.TASK_UPDATED and e.task_id == last
                                     for e in there), timeout=30)
        heard = stored_ids(here)
        assert len(set(heard)) == len(heard) and set(ids) <= set(heard)  # each one, once
        assert sorted(stored_ids(there)) == sorted(heard)  # the other process heard the helper
    finally:
        await writer.stop()
        other.close()
    stored = [sqlite_store.find_message(web.id, f"h-{i}") for i in range(30)]
    assert all(m is not None for m in stored)


async def test_a_duplicate_delivery_is_answered_with_the_stored_message(
        sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = helper(sqlite_store)
    await writer.start()
    try:
        first = await writer.ingest(inbound(web.id, "c", "hello", "same-id"))
        again = await writer.ingest(inbound(web.id, "c", "hello", "same-id"))
    finally:
        await writer.stop()
    assert again.duplicate and not first.duplicate
    assert again.message.id == first.message.id


async def test_a_helper_killed_mid_burst_loses_nothing_and_a_new_one_takes_over(
        sqlite_store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """Callers in flight when the helper dies hear an error (a webhook answers 5xx and
    the platform delivers again); the redelivery is stored once, by a new helper."""
    web = spec(sqlite_store, "webchat", "web")
    writer = helper(sqlite_store)
    await writer.start()
    items = [inbound(web.id, f"chat-{i % 4}", f"msg {i}", f"k-{i}") for i in range(40)]
    try:
        first_pid = writer.pid
        assert first_pid is not None
        burst = [asyncio.ensure_future(writer.ingest(i)) for i in items]
        await asyncio.sleep(0)  # handed in: the turn's frame is written to the helper
        os.kill(first_pid, signal.SIGKILL)
        with caplog.at_level(logging.ERROR, logger="connectors.ingest_process"):
            outcomes = await asyncio.gather(*burst, return_exceptions=True)
        failed = [item for item, o in zip(items, outcomes, strict=True)
                  if isinstance(o, BaseException)]
        assert all(isinstance(o, ConnectionAbortedError)
                   for o in outcomes if isinstance(o, BaseException))
        for _attempt in range(3):  # the platform delivers the failed ones again
            again = await asyncio.gather(*[writer.ingest(i) for i in failed],
                                         return_exceptions=True)
            failed = [i for i, o in zip(failed, again, strict=True) if isinstance(o, BaseException)]
            if not failed:
                break
        assert not failed
        assert writer.starts == 2 and writer.pid not in (None, first_pid)
        after = await writer.ingest(inbound(web.id, "chat-0", "after", "k-after"))
        assert after.message.text == "after"
    finally:
        await writer.stop()
    for i in range(40):  # every message stored exactly once
        found = sqlite_store.find_message(web.id, f"k-{i}")
        assert found is not None and found.text == f"msg {i}"
    texts = [m.text for t in range(4) for m in sqlite_store.thread_before(
        sqlite_store.find_message(web.id, f"k-{t}").task_id).items  # type: ignore[union-attr]
        if m.kind == "inbound"]
    assert sorted(texts) == sorted([f"msg {i}" for i in range(40)] + ["after"])
    if any(isinstance(o, BaseException) for o in outcomes):
        assert "the ingest process stopped" in caplog.text


async def test_ctrl_c_in_the_terminal_does_not_stop_the_helper(sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web")
    writer = helper(sqlite_store)
    await writer.start()
    try:
        pid = writer.pid
        assert pid is not None
        os.kill(pid, signal.SIGINT)  # what Ctrl-C sends to the whole foreground group
        os.kill(pid, signal.SIGTERM)
        result = await writer.ingest(inbound(web.id, "c", "still here", "c-1"))
        assert result.message.text == "still here"
        assert writer.starts == 1 and writer.pid == pid
    finally:
        await writer.stop()


async def test_a_helper_that_cannot_start_leaves_the_work_to_a_thread(
        sqlite_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    web = spec(sqlite_store, "webchat", "web")
    origin = "ingest-test"
    assert sqlite_store.bus.adopt(origin)
    # the helper opens this path, which is a directory: it reports why, and exits
    writer = ProcessCommitWriter(sqlite_store, sqlite_store.bus, str(tmp_path), origin)
    with caplog.at_level(logging.WARNING, logger="connectors.ingest_process"):
        await writer.start()
    try:
        assert "did not start" in caplog.text and "committed in this process" in caplog.text
        result = await writer.ingest(inbound(web.id, "c", "via the thread", "f-1"))
        assert result.message.text == "via the thread"
        assert writer.pid is None and writer.batches == 1
    finally:
        await writer.stop()
    with pytest.raises(ConnectionAbortedError):
        await writer.ingest(inbound(web.id, "c", "late", "f-late"))
