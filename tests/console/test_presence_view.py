"""Presence in the task-list row and the thread header; WhatsApp's window countdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.presence import PresenceAnnouncer
from tests.console.conftest import Data, press, settle, started
from tests.console.test_keystrokes import until
from widgets.task_list import TaskList
from widgets.task_list_render import TYPING_MARK, VIEWING_MARK
from widgets.thread_header import ThreadHeader, countdown

NOW = datetime(2020, 6, 1, 12, 0, tzinfo=UTC)


def test_countdown() -> None:
    day = timedelta(hours=24)
    assert countdown(NOW - timedelta(hours=1, minutes=20), day, NOW) == "window 22h 40m left"
    assert countdown(NOW - timedelta(hours=23, minutes=55), day, NOW) == "window 5m left"
    assert countdown(NOW - timedelta(hours=25), day, NOW) == "window closed"
    assert countdown(NOW, None, NOW) == ""  # a channel without a window


async def test_another_operator_shows_in_the_row_and_the_header(data: Data, make_app) -> None:
    app = make_app(data.anna)
    boris = PresenceAnnouncer(data.store, data.boris.id, "Boris")
    async with started(app) as pilot:
        tasks = app.screen.query_one(TaskList)
        tasks.select_task_id(data.tasks["ivan"])
        await settle(pilot)
        await press(pilot, "enter")
        boris.start()
        try:
            boris.view(data.tasks["ivan"])
            await until(pilot, lambda: tasks.presence.get(data.tasks["ivan"]) == VIEWING_MARK)
            header = app.screen.query_one(ThreadHeader)
            await until(pilot, lambda: "Boris here" in str(header.render()))
            boris.typing(data.tasks["ivan"])
            await until(pilot, lambda: tasks.presence.get(data.tasks["ivan"]) == TYPING_MARK)
            await until(pilot, lambda: "Boris typing…" in str(header.render()))
        finally:
            boris.close()
        await until(pilot, lambda: data.tasks["ivan"] not in tasks.presence)
        # this console's own presence is never shown as someone else's
        assert app.presence_announcer.session not in {
            e.session for e in app.presence_tracker.entries() if e.operator_name == "Boris"}


async def test_whatsapp_thread_header_counts_down(data: Data, make_app) -> None:
    from tests.console.conftest import inbound

    wa = data.store.ensure_channel("whatsapp", "wa").id
    result = data.store.ingest(inbound(wa, "447700900123", "Hi from WhatsApp", 600, "Wendy"))
    app = make_app(data.anna)  # the frozen clock: 21:00, the client wrote at 19:00
    async with started(app) as pilot:
        app.screen.query_one(TaskList).select_task_id(result.task.id)
        await settle(pilot)
        await press(pilot, "enter")
        header = app.screen.query_one(ThreadHeader)
        await until(pilot, lambda: "window 22h 0m left" in str(header.render()))
