"""Helpers that fill a real store for the widget tests (no mocks: real SQLite, real rows)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.inputs import Inbound
from storage.store import Store
from tests.workers import workers_done

BASE = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def fill_tasks(store: Store, count: int, channel_id: int, start: datetime = BASE) -> list[int]:
    """``count`` tasks, one inbound message each, task i active at ``start + i minutes``.

    Returns task ids oldest activity first (so the list shows them reversed).
    """
    batch = [
        Inbound(channel_id=channel_id, chat_id=f"chat-{i}", sender_id=f"chat-{i}",
                text=f"hello from client {i}", external_id=f"m-{i}",
                sent_at=start + timedelta(minutes=i), display_name=f"Client {i:05d}")
        for i in range(count)
    ]
    ids: list[int] = []
    for chunk in range(0, len(batch), 500):
        ids.extend(r.task.id for r in store.ingest_many(batch[chunk:chunk + 500]))
    return ids


@pytest.fixture
def web(sqlite_store: Store) -> int:
    return sqlite_store.ensure_channel("webchat", "web").id


@pytest.fixture
def anna(sqlite_store: Store) -> int:
    return sqlite_store.ensure_operator("Anna").id


@pytest.fixture
def small_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(str(tmp_path / "small.db"))
    try:
        yield store
    finally:
        store.close()


def fill_thread(store: Store, channel_id: int, count: int, chat: str = "long",
                start: datetime = BASE, name: str = "Long Talker") -> list[int]:
    """One task with ``count`` inbound messages one minute apart; returns message ids.

    The first message goes through ``ingest`` (contact, task, "created" event: the real
    path); the rest are bulk-inserted rows of the same shape in one transaction, because
    ingesting a long thread one message at a time costs seconds per test.
    """
    first = store.ingest(Inbound(channel_id=channel_id, chat_id=chat, sender_id=chat,
                                 text="line 00000", external_id=f"{chat}-0", sent_at=start,
                                 display_name=name))
    M = store.m.Message
    rows = [
        {"task": first.task.id, "kind": first.message.kind, "text": f"line {i:05d}",
         "created_at": start + timedelta(minutes=i), "channel": channel_id,
         "external_id": f"{chat}-{i}", "author_contact": first.contact_id, "meta": {}}
        for i in range(1, count)
    ]
    with store.transaction():
        for chunk in range(0, len(rows), 200):
            M.insert_many(rows[chunk:chunk + 200]).execute()
        store.m.Task.update(last_activity_at=start + timedelta(minutes=count - 1)).where(
            store.m.Task.id == first.task.id).execute()
    query = (M.select(M.id).where((M.task == first.task.id) & (M.kind == first.message.kind))
             .order_by(M.created_at, M.id))
    return [row.id for row in query]


async def settle(pilot: object, rounds: int = 4) -> None:
    """Let thread workers finish and their result messages be handled (a few rounds)."""
    app = pilot.app  # type: ignore[attr-defined]
    for _ in range(rounds):
        await workers_done(app)
        await pilot.pause()  # type: ignore[attr-defined]


def screen_lines(widget: object) -> list[str]:
    """The text of every line the widget shows now (what the operator sees)."""
    height = widget.scrollable_content_region.height  # type: ignore[attr-defined]
    return [widget.render_line(y).text for y in range(height)]  # type: ignore[attr-defined]
