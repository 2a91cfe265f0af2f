"""Both widgets on both backends (SQLite file and real PostgreSQL): same pages, same order."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Horizontal

from storage.store import Store
from tests.widgets.conftest import fill_tasks, fill_thread, screen_lines, settle
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView


class Both(App[None]):
    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield TaskList(self.store, id="tasks", page_size=30)
            yield ThreadView(self.store, id="thread", page_size=40)

    def on_task_list_selected(self, message: TaskList.Selected) -> None:
        self.query_one(ThreadView).show_task(message.task)


async def test_list_and_thread_page_on_each_backend(store: Store) -> None:
    web = store.ensure_channel("webchat", "web").id
    task_ids = fill_tasks(store, 30, web)
    message_ids = fill_thread(store, web, 120)  # the newest task: first in the list
    async with Both(store).run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        tasks = pilot.app.query_one(TaskList)
        assert len(tasks.rows) == 30 and not tasks.exhausted and tasks.rows[1].id == task_ids[-1]
        await pilot.press("enter")
        await settle(pilot)
        view = pilot.app.query_one(ThreadView)
        assert view.messages[-1].id == message_ids[-1] and view.at_end
        assert any("line 00119" in line for line in screen_lines(view))
        view.scroll_to(y=0, animate=False, force=True)
        await settle(pilot)
        view.scroll_to(y=0, animate=False, force=True)
        await settle(pilot)
        assert view.at_start and [m.id for m in view.messages if m.kind == "inbound"] == message_ids
