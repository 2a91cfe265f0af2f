"""Actions act on what the operator sees, and every dialog and notice names its tasks."""

from __future__ import annotations

import time

from textual.widgets import Static

from console.screens.assign import AssignDialog
from console.screens.status import StatusDialog
from storage.models import DONE, NEW
from tests.console.conftest import Data, press, settle, started
from widgets.search_results import SearchResultsList
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView


def notices(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def until(pilot, condition, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (the search waits for a typing pause)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await pilot.pause()
    await settle(pilot)


async def test_after_a_search_jump_status_acts_on_the_opened_task(data: Data, make_app) -> None:
    store = data.store
    olga, lena = data.tasks["olga"], data.tasks["lena"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        tasks = app.screen.query_one(TaskList)
        assert tasks.highlighted_task.id == lena  # the newest task is highlighted
        await press(pilot, "slash")
        await press(pilot, *"оплата")
        results = app.screen.query_one(SearchResultsList)
        await until(pilot, lambda: results.highlighted_hit() is not None)
        await press(pilot, "enter")
        inbox = app.screen
        assert inbox.query_one(ThreadView).current_task.id == olga
        assert tasks.highlighted_task.id == olga  # the highlight followed the jump
        await press(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, StatusDialog)
        title = str(dialog.query_one(".dialog").border_title)
        assert f"#{store.get_task(olga).number}" in title and "Ольга Смирнова" in title
        await press(pilot, "down", "down", "down", "enter")  # new → … → done
        assert store.get_task(olga).status == DONE
        assert store.get_task(lena).status == NEW
        assert any("Ольга Смирнова" in n and "Done" in n for n in notices(app))


async def test_the_open_task_wins_over_the_highlighted_row(data: Data, make_app) -> None:
    store = data.store
    ivan, mark = data.tasks["ivan"], data.tasks["mark"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        tasks = app.screen.query_one(TaskList)
        tasks.select_task_id(ivan)
        await press(pilot, "enter")  # Ivan's task is open
        await press(pilot, "escape")  # back to the list, and the cursor moves on
        tasks.select_task_id(mark)
        await settle(pilot)
        await press(pilot, "a")
        dialog = app.screen
        assert isinstance(dialog, AssignDialog)
        assert "Ivan Petrov" in str(dialog.query_one(".dialog").border_title)
        await press(pilot, "down", "enter")  # Boris
        assert store.get_task(ivan).assignee_id == data.boris.id
        assert store.get_task(mark).assignee_id is None
        assert any("Boris" in n and "Ivan Petrov" in n for n in notices(app))


async def test_marked_tasks_are_named_and_said_to_be_marked(data: Data, make_app) -> None:
    ivan, olga = data.tasks["ivan"], data.tasks["olga"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        tasks = app.screen.query_one(TaskList)
        tasks.select_task_id(ivan)
        await press(pilot, "enter")  # an open task, but marks win
        await press(pilot, "escape")
        for task_id in (ivan, olga):
            tasks.select_task_id(task_id)
            await press(pilot, "space")
        await press(pilot, "s")
        dialog = app.screen
        assert isinstance(dialog, StatusDialog)
        assert "2 marked tasks" in str(dialog.query_one(".dialog").border_title)
        named = str(dialog.query_one("#dialog-tasks", Static).visual)
        assert "Ivan Petrov" in named and "Ольга Смирнова" in named
