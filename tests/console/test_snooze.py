"""Snooze from the console: until a time or until the client writes; the list hides it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.console.conftest import Data, inbound, press, settle, started
from tests.console.test_drafts import open_task
from widgets.task_list import TaskList


def listed(app) -> list[int]:
    return [t.id for t in app.screen.query_one(TaskList).rows]


async def test_snooze_until_a_time_hides_the_task(data: Data, make_app) -> None:
    store, ivan = data.store, data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, ivan)
        app.screen.query_one(TaskList).focus()
        await press(pilot, "z", *"+3h", "enter")
        await settle(pilot)
        task = store.get_task(ivan)
        assert task.snoozed_until is not None
        assert timedelta(hours=2, minutes=59) < task.snoozed_until - datetime.now(UTC) \
            <= timedelta(hours=3)
        assert ivan not in listed(app)
        # back on time: the snooze ends (as the automation runner does when it falls due)
        store.end_snoozes(now=task.snoozed_until + timedelta(seconds=1))
        await settle(pilot)
        assert ivan in listed(app)


async def test_snooze_until_the_client_writes(data: Data, make_app) -> None:
    store, olga = data.store, data.tasks["olga"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, olga)
        app.screen.query_one(TaskList).focus()
        await press(pilot, "z", "enter")  # empty: until the client writes
        await settle(pilot)
        task = store.get_task(olga)
        assert task.snooze_until_client and task.snoozed_until is None
        assert olga not in listed(app)
        store.ingest(inbound(data.web, "olga", "Ещё вопрос", 30, "Ольга Смирнова"))
        await settle(pilot)
        assert olga in listed(app)


async def test_escape_snoozes_nothing(data: Data, make_app) -> None:
    store, ivan = data.store, data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, ivan)
        app.screen.query_one(TaskList).focus()
        await press(pilot, "z", *"+1h", "escape")
        assert not store.get_task(ivan).snoozed()


async def test_the_new_actions_are_in_the_command_palette(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app):
        titles = [title for title, _help, _run in app.screen.palette_commands()]
        for title in ("Snooze the open task", "Scheduled replies", "Why: rules of the open task",
                      "Notifications", "Write in the editor", "Send at…", "Attach a file",
                      "Send a template", "Open the file of the selected message",
                      "Save the file of the selected message", "Take the open task"):
            assert title in titles
