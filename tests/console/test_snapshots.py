"""Snapshot tests (``snap_compare``): regenerate with ``pytest tests/console --snapshot-update``
after a deliberate UI change and review the SVGs in tests/console/__snapshots__.

Deterministic by construction: fixed 2020 message times, a frozen clock (task ages,
"Today", the supervisor's waiting times) and the UTC zone given to the app, the cursor
blink off, no toasts.
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import Input, TextArea

from console.themes import SHIPPED
from storage.store import Store
from tests.console.conftest import settle
from tests.console.fixtures.scenes import busy, every_kind, pin_times
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView


async def steady(pilot, timeout: float = 20.0) -> None:
    """Workers done, cursor blink off, no notifications: the screen is final.

    No timed pause: it waits for conditions (workers, message queues, animations, the
    thread's scroll at its end) and then until two renders in a row are the same."""
    await settle(pilot)
    for widget in pilot.app.screen.query(TextArea):
        widget.cursor_blink = False
        # TextArea caches its lines under a key that, with the blink off, ignores the
        # focus: drop the cache so the cursor is drawn whatever was painted before.
        widget.notify_style_update()
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    pilot.app.clear_notifications()
    await settle(pilot, rounds=2)
    await pilot.wait_for_scheduled_animations()
    deadline = time.monotonic() + timeout
    # The thread opens at its end; its scroll lands on a refresh after the page arrived.
    for thread in pilot.app.screen.query(ThreadView):
        while thread.current_task is not None and thread.scroll_y < thread.max_scroll_y:
            assert time.monotonic() < deadline, "the thread never scrolled to its end"
            await settle(pilot, rounds=1)
    before = pilot.app.export_screenshot()
    while True:
        await settle(pilot, rounds=1)
        after = pilot.app.export_screenshot()
        if after == before:
            return
        assert time.monotonic() < deadline, "the screen never settled"
        before = after


def open_task(task_id: int | None = None, *keys: str):
    async def run(pilot) -> None:
        await settle(pilot)
        if task_id is not None:
            pilot.app.screen.query_one(TaskList).select_task_id(task_id)
            await settle(pilot, rounds=1)
            await pilot.press("enter")
        for key in keys:
            await settle(pilot, rounds=1)
            await pilot.press(key)
        await steady(pilot)
    return run


def test_empty_first_start(snap_compare, sqlite_store: Store, make_app) -> None:
    sqlite_store.ensure_channel("webchat", "web")
    assert snap_compare(make_app(), terminal_size=(120, 36), run_before=open_task())


def test_busy_inbox(snap_compare, sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    assert snap_compare(make_app(data.anna), terminal_size=(120, 36), run_before=open_task())


def test_thread_with_every_kind_and_state(snap_compare, sqlite_store: Store, make_app) -> None:
    data, task = every_kind(sqlite_store)
    assert snap_compare(make_app(data.anna), terminal_size=(130, 50),
                        run_before=open_task(task))


def test_quick_replies_picker(snap_compare, sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)

    async def run(pilot) -> None:
        await open_task(data.tasks["ivan"])(pilot)
        await pilot.press(*"Hello ", "asterisk")
        await settle(pilot)
        await pilot.press(*"gree")
        await steady(pilot)

    assert snap_compare(make_app(data.anna), terminal_size=(120, 36), run_before=run)


def test_contact_card(snap_compare, sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    sqlite_store.merge_contacts(data.contacts["mark"], data.contacts["ivan"], data.anna.id)
    assert snap_compare(make_app(data.anna), terminal_size=(130, 40),
                        run_before=open_task(data.tasks["mark"], "ctrl+o"))


def test_merge_dialog(snap_compare, sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)

    async def run(pilot) -> None:
        await settle(pilot)
        tasks = pilot.app.screen.query_one(TaskList)
        for key in ("ivan", "lena"):
            tasks.select_task_id(data.tasks[key])
            await pilot.press("space")
        await settle(pilot)
        await pilot.press("m")
        await steady(pilot)

    assert snap_compare(make_app(data.anna), terminal_size=(120, 36), run_before=run)


@pytest.mark.parametrize("theme", SHIPPED)
def test_each_theme(snap_compare, sqlite_store: Store, make_app, theme: str) -> None:
    data, task = every_kind(sqlite_store)
    assert snap_compare(make_app(data.anna, theme=theme), terminal_size=(120, 36),
                        run_before=open_task(task))


def test_80x24(snap_compare, sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    assert snap_compare(make_app(data.anna), terminal_size=(80, 24),
                        run_before=open_task(data.tasks["olga"]))


def test_80x24_contact_card(snap_compare, sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    assert snap_compare(make_app(data.anna), terminal_size=(80, 24),
                        run_before=open_task(data.tasks["mark"], "ctrl+o"))


def test_supervisor_view(snap_compare, sqlite_store: Store, make_app) -> None:
    data = busy(sqlite_store)
    sofia = sqlite_store.ensure_operator("Sofia", "supervisor")
    sqlite_store.assign([data.tasks["ivan"]], data.anna.id, data.anna.id)
    pin_times(sqlite_store, start_minute=600)
    assert snap_compare(make_app(sofia), terminal_size=(120, 36),
                        run_before=open_task(data.tasks["ivan"]))
