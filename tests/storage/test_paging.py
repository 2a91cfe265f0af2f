"""Keyset paging of the task list and of threads: every row once, in order, no gaps,
even when many rows share a timestamp (the id breaks the tie)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.errors import NotFound
from storage.inputs import Inbound, TaskFilter
from storage.models import to_micros
from storage.store import Store
from tests.storage.conftest import Desk

MINUTES = [0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 4, 5, 5, 6, 7, 7, 7, 8, 9, 9, 10, 10, 10]


def all_task_pages(store: Store, limit: int, f: TaskFilter | None = None) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = store.list_tasks(f, after=cursor, limit=limit)
        pages.append([t.id for t in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("limit", [1, 4, 5, 23, 50])
def test_task_pages_have_no_duplicates_or_gaps(desk: Desk, limit: int) -> None:
    for n, minute in enumerate(MINUTES):
        desk.say(desk.web, f"client-{n}", minute=minute)
    pages = all_task_pages(desk.store, limit)
    flat = [t for page in pages for t in page]
    assert len(flat) == len(set(flat)) == len(MINUTES) == desk.store.count_tasks()
    rows = [desk.store.get_task(t) for t in flat]
    keys = [(to_micros(r.last_activity_at), r.id) for r in rows]
    assert keys == sorted(keys, reverse=True)  # newest activity first, ties by id
    assert all(len(p) == limit for p in pages[:-1]) and len(pages[-1]) <= limit


def test_task_pages_with_a_filter(desk: Desk) -> None:
    for n, minute in enumerate(MINUTES):
        desk.say(desk.web if n % 2 else desk.telegram, f"c-{n}", minute=minute)
    flat = [t for p in all_task_pages(desk.store, 3, TaskFilter(channel_id=desk.web)) for t in p]
    assert len(flat) == len(set(flat)) == desk.store.count_tasks(TaskFilter(channel_id=desk.web))
    assert {desk.store.get_task(t).channel_id for t in flat} == {desk.web}


def test_thread_pages_backwards_and_forwards(desk: Desk) -> None:
    task = 0
    for n, minute in enumerate(MINUTES * 2):
        task = desk.say(desk.telegram, "1", f"m{n}", minute=minute).task.id
    everything = desk.store.thread_before(task, limit=1000).items
    assert len(everything) == desk.store.thread_count(task) == len(MINUTES) * 2 + 1
    assert [m.cursor for m in everything] == sorted(m.cursor for m in everything)
    # Backwards from the newest, 7 at a time.
    seen, cursor = [], None
    while True:
        page = desk.store.thread_before(task, before=cursor, limit=7)
        assert [m.cursor for m in page.items] == sorted(m.cursor for m in page.items)
        seen = [m.id for m in page.items] + seen
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [m.id for m in everything]
    # Forwards from the first message.
    ids, cursor = [everything[0].id], everything[0].cursor
    while cursor is not None:
        page = desk.store.thread_after(task, after=cursor, limit=6)
        ids += [m.id for m in page.items]
        cursor = page.next_cursor
    assert ids == [m.id for m in everything]


def test_thread_around_a_message(desk: Desk) -> None:
    task = 0
    for n, minute in enumerate(MINUTES):
        task = desk.say(desk.telegram, "1", f"m{n}", minute=minute).task.id
    everything = [m.id for m in desk.store.thread_before(task, limit=1000).items]
    target = everything[12]
    before, after = desk.store.thread_around(task, target, limit=10)
    assert [m.id for m in before.items] == everything[8:13]  # ends at the message
    assert [m.id for m in after.items] == everything[13:18]
    with pytest.raises(NotFound, match="not in task"):
        desk.store.thread_around(task + 1000, target)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(minutes=st.lists(st.integers(0, 5), min_size=0, max_size=30),
       limit=st.integers(1, 8))
def test_paging_property(sqlite_store: Store, minutes: list[int], limit: int) -> None:
    """Any mix of timestamps and page sizes: pages concatenate to the full ordered list."""
    channel = sqlite_store.ensure_channel("webchat", f"ch-{len(sqlite_store.list_channels())}")
    start = sqlite_store.m.Task.select().count()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n, minute in enumerate(minutes):
        sqlite_store.ingest(Inbound(channel.id, f"c{n}", f"c{n}", "x", external_id=f"{start}-{n}",
                                    sent_at=base + timedelta(minutes=minute)))
    f = TaskFilter(channel_id=channel.id)
    flat = [t for p in all_task_pages(sqlite_store, limit, f) for t in p]
    full = [t.id for t in sqlite_store.list_tasks(f, limit=1000).items]
    assert flat == full and len(set(flat)) == len(minutes)
