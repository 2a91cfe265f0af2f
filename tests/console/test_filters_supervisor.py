"""Filters switched from the keyboard, and the supervisor's view and take-over."""

from __future__ import annotations

from textual.widgets import Static

from console.screens.supervisor import SupervisorScreen
from storage.models import NEW
from tests.console.conftest import Data, settle
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
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "All tasks" in filter_label(app) and shown(app) == set(t.values())
        await pilot.press("1")
        await settle(pilot)
        assert "Mine" in filter_label(app) and shown(app) == {t["ivan"]}
        await pilot.press("2")
        await settle(pilot)
        assert "Unassigned" in filter_label(app) and shown(app) == {t["mark"], t["lena"]}
        await pilot.press("4")
        await settle(pilot)
        assert "Channel: web" in filter_label(app) and shown(app) == {t["olga"], t["mark"]}
        await pilot.press("4")
        await settle(pilot)
        assert "Channel: tg" in filter_label(app) and shown(app) == {t["ivan"], t["lena"]}
        await pilot.press("5")
        await settle(pilot)
        assert "Status: New" in filter_label(app)
        assert shown(app) == {i for i in t.values() if store.get_task(i).status == NEW}
        await pilot.press("3")
        await settle(pilot)
        assert shown(app) == set(t.values())


async def test_filter_keys_type_text_in_the_composer(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("1", "2")
        assert app.screen.query_one(Composer).text == "12"
        assert "All tasks" in filter_label(app)
        await pilot.press("escape", "2")  # back in the task list, the key filters
        await settle(pilot)
        assert "Unassigned" in filter_label(app)


async def test_supervisor_reads_every_thread_and_takes_over(data: Data, make_app) -> None:
    store = data.store
    t = data.tasks
    store.assign([t["ivan"]], data.anna.id, data.anna.id)
    sofia = store.ensure_operator("Sofia", "supervisor")
    app = make_app(sofia)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SupervisorScreen)
        summary = app.screen.query_one(SupervisorSummaryView)
        rendered = str(summary.render())
        assert "Anna 1" in rendered and "Unassigned 3" in rendered
        assert "Waiting for a first reply: 4, the longest for" in rendered
        app.screen.query_one(TaskList).select_task_id(t["ivan"])
        await pilot.press("enter")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        before = store.thread_count(t["ivan"])
        assert composer.read_only and "take the task over" in str(composer.border_title)
        await pilot.press(*"hello")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert composer.text == ""
        assert store.thread_count(t["ivan"]) == before  # nothing was sent
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert store.get_task(t["ivan"]).assignee_id == sofia.id
        assert not composer.read_only and "Reply" in str(composer.border_title)
        await pilot.press(*"I am on it")
        await pilot.press("ctrl+s")
        await settle(pilot)
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
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        assert "Operator: Anna" in filter_label(app) and shown(app) == {t["ivan"], t["lena"]}
        await pilot.press("6")
        await settle(pilot)
        assert "Operator: Boris" in filter_label(app) and shown(app) == {t["olga"]}


def test_format_wait() -> None:
    assert format_wait(5) == "5s"
    assert format_wait(125) == "2m"
    assert format_wait(3 * 3600 + 5 * 60) == "3h 05m"
    assert format_wait(2 * 86400 + 4 * 3600) == "2d 4h"
