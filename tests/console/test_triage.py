"""Triage keys: send and open next, done and open next, next unread; closed tasks hidden;
replying takes an unassigned task when the config says so; status in rows and header."""

from __future__ import annotations

from console.app import SwitchboardApp
from console.config import Config, OperatorConfig
from storage.constants import DONE
from tests.console.conftest import Data, frozen_clock, press, settle, started
from tests.console.test_keystrokes import until
from widgets.composer import Composer
from widgets.task_list import TaskList
from widgets.task_list_render import STATUS_MARKS
from widgets.thread_header import ThreadHeader


async def open_task(pilot, app, task_id: int) -> None:
    app.screen.query_one(TaskList).select_task_id(task_id)
    await settle(pilot)
    await press(pilot, "enter")
    await until(pilot, lambda: app.screen.current is not None
                and app.screen.current.id == task_id)


async def test_done_and_next_sets_done_and_opens_the_next_waiting_task(data: Data,
                                                                       make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, app, data.tasks["ivan"])
        await press(pilot, "ctrl+r")
        await until(pilot, lambda: app.screen.current.id != data.tasks["ivan"])
        assert data.store.get_task(data.tasks["ivan"]).status == DONE
        # the next in the client's-last-message order: Olga wrote one minute after Ivan
        assert app.screen.current.id == data.tasks["olga"]
        assert app.focused is app.screen.query_one(Composer)
        # done tasks leave the default list
        await until(pilot, lambda: data.tasks["ivan"] not in
                    {r.id for r in app.screen.query_one(TaskList).rows})


async def test_send_and_next_sends_to_the_written_task_then_moves_on(data: Data,
                                                                     make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, app, data.tasks["mark"])
        await pilot.press(*"On its way")
        await press(pilot, "f2")
        await until(pilot, lambda: app.screen.current.id != data.tasks["mark"])
        texts = [m.text for m in data.store.thread_before(data.tasks["mark"]).items]
        assert texts[-1] == "On its way"
        # next in the client's-last-message order after Mark (minute 2): Lena (minute 3)
        assert app.screen.current.id == data.tasks["lena"]
        assert app.screen.query_one(Composer).task_id == data.tasks["lena"]


async def test_next_unread_opens_the_oldest_unread_task(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "u")
        await until(pilot, lambda: app.screen.current is not None)
        assert app.screen.current.id == data.tasks["ivan"]
        assert "unread" in app.sub_title


async def test_status_shown_in_the_row_and_the_header(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, app, data.tasks["olga"])
        header = str(app.screen.query_one(ThreadHeader).render())
        assert f"#{data.store.get_task(data.tasks['olga']).number}" in header
        assert "New" in header
        lines = [str(app.screen.query_one(TaskList).render_line(y).text) for y in range(8)]
        assert any(STATUS_MARKS["new"] in line for line in lines)


async def test_replying_takes_an_unassigned_task_when_configured(data: Data) -> None:
    config = Config(operator=OperatorConfig("Anna", "operator"), reply_takes_unassigned=True)
    app = SwitchboardApp(data.store, config, data.anna, clock=frozen_clock)
    async with started(app) as pilot:
        await open_task(pilot, app, data.tasks["lena"])
        assert data.store.get_task(data.tasks["lena"]).assignee_id is None
        await pilot.press(*"Glad to help")
        await press(pilot, "ctrl+s")
        await until(pilot, lambda: data.store.get_task(data.tasks["lena"]).assignee_id
                    == data.anna.id)


async def test_without_the_setting_a_reply_leaves_the_task_unassigned(data: Data,
                                                                      make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, app, data.tasks["lena"])
        await pilot.press(*"Glad to help")
        await press(pilot, "ctrl+s")
        await until(pilot, lambda: data.store.thread_before(data.tasks["lena"]).items[-1].text
                    == "Glad to help")
        await settle(pilot)
        assert data.store.get_task(data.tasks["lena"]).assignee_id is None
