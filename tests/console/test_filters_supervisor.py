"""Filters switched from the keyboard, and the supervisor's view and take-over."""

from __future__ import annotations

from textual.widgets import Static

from console.screens.supervisor import SupervisorScreen
from storage.models import NEW
from tests.console.conftest import Data, press, settle, started
from widgets.composer import Composer
from widgets.supervisor_summary import SupervisorSummaryView, format_wait
from widgets.task_list import TaskList


def filter_label(app) -> str:
    return str(app.screen.query_one("#filter-bar", Static).visual)


def shown(app) -> set[int]:
    return {row.id for row in app.screen.query_one(TaskList).rows}


async def test_filters_from_the_keyboard(data: Data, make_app) -> None:
    store = data.store
    t = data.tasks
    store.assign([t["ivan"]], data.anna.id, data.anna.id)
    store.assign([t["olga"]], data.boris.id, data.anna.id)
    app = make_app(data.anna)
    async with started(app) as pilot:
        assert "All (open)" in filter_label(app) and shown(app) == set(t.values())
        await press(pilot, "1")
        assert "Mine" in filter_label(app) and shown(app) == {t["ivan"]}
        await press(pilot, "2")
        assert "Unassigned" in filter_label(app) and shown(app) == {t["mark"], t["lena"]}
        await press(pilot, "4")
        assert "Channel: web" in filter_label(app) and shown(app) == {t["olga"], t["mark"]}
        await press(pilot, "4")
        assert "Channel: tg" in filter_label(app) and shown(app) == {t["ivan"], t["lena"]}
        await press(pilot, "5")
        assert "Status: New" in filter_label(app)
        assert shown(app) == {i for i in t.values() if store.get_task(i).status == NEW}
        await press(pilot, "3")
        assert shown(app) == set(t.values())


async def test_filter_keys_type_text_in_the_composer(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "enter")
        await pilot.press("1", "2")
        assert app.screen.query_one(Composer).text == "12"
        assert "All (open)" in filter_label(app)
        await pilot.press("escape", "2")  # back in the task list, the key filters
        await settle(pilot)
        assert "Unassigned" in filter_label(app)


async def test_supervisor_reads_every_thread_and_takes_over(data: Data, make_app) -> None:
    store = data.store
    t = data.tasks
    store.assign([t["ivan"]], data.anna.id, data.anna.id)
    sofia = store.ensure_operator("Sofia", "supervisor")
    app = make_app(sofia)
    async with started(app) as pilot:
        assert isinstance(app.screen, SupervisorScreen)
        summary = app.screen.query_one(SupervisorSummaryView)
        rendered = str(summary.render())
        assert "Anna 1" in rendered and "Unassigned 3" in rendered
        assert "Waiting for a first reply: 4, the longest for" in rendered
        app.screen.query_one(TaskList).select_task_id(t["ivan"])
        await press(pilot, "enter")
        composer = app.screen.query_one(Composer)
        before = store.thread_count(t["ivan"])
        assert composer.read_only and "take the task over" in str(composer.border_title)
        await pilot.press(*"hello")
        await press(pilot, "ctrl+s")
        assert composer.text == ""
        assert store.thread_count(t["ivan"]) == before  # nothing was sent
        await press(pilot, "ctrl+t")
        assert store.get_task(t["ivan"]).assignee_id == sofia.id
        assert not composer.read_only and "Reply" in str(composer.border_title)
        await pilot.press(*"I am on it")
        await press(pilot, "ctrl+s")
        assert store.thread_before(t["ivan"]).items[-1].text == "I am on it"
        rendered = str(summary.render())
        assert "Sofia 1" in rendered and "Waiting for a first reply: 3" in rendered


async def test_supervisor_filters_by_operator(data: Data, make_app) -> None:
    store = data.store
    t = data.tasks
    store.assign([t["ivan"], t["lena"]], data.anna.id, data.anna.id)
    store.assign([t["olga"]], data.boris.id, data.anna.id)
    sofia = store.ensure_operator("Sofia", "supervisor")
    app = make_app(sofia)
    async with started(app) as pilot:
        await press(pilot, "6")
        assert "Operator: Anna" in filter_label(app) and shown(app) == {t["ivan"], t["lena"]}
        await press(pilot, "6")
        assert "Operator: Boris" in filter_label(app) and shown(app) == {t["olga"]}


def test_format_wait() -> None:
    assert format_wait(5) == "5s"
    assert format_wait(125) == "2m"
    assert format_wait(3 * 3600 + 5 * 60) == "3h 05m"
    assert format_wait(2 * 86400 + 4 * 3600) == "2d 4h"
