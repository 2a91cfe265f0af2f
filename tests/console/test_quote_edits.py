"""Quote-reply from the thread, what a reply answers, edits with their versions, deleted
messages kept visible, and a queued reply's waiting reason."""

from __future__ import annotations

from console.screens.versions import VersionsDialog
from tests.console.conftest import Data, press, settle, started
from tests.console.test_keystrokes import until
from widgets.composer import Composer
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView


def thread_text(view: ThreadView) -> str:
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


async def open_thread(pilot, app, task_id: int) -> ThreadView:
    app.screen.query_one(TaskList).select_task_id(task_id)
    await settle(pilot)
    await press(pilot, "enter")
    view = app.screen.query_one(ThreadView)
    await until(pilot, lambda: view.messages and view.current_task.id == task_id)
    view.focus()
    await settle(pilot)
    return view


async def select_client_message(pilot, view: ThreadView) -> None:
    """Move the cursor up to the newest client message (events come after it)."""
    await press(pilot, "end")
    for _ in range(6):
        if view.selected_message is not None and view.selected_message.kind == "inbound":
            return
        await press(pilot, "k")
    raise AssertionError("no client message in the thread")


async def test_q_picks_the_client_message_and_the_reply_shows_what_it_answers(
        data: Data, make_app) -> None:
    task_id = data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        view = await open_thread(pilot, app, task_id)
        await select_client_message(pilot, view)
        await press(pilot, "q")
        composer = app.screen.query_one(Composer)
        assert composer.quote is not None and composer.quote[0] == view.selected_message.id
        assert app.focused is composer
        message = data.store.reply(task_id, data.anna.id, "It ships today.",
                                   quote_message_id=view.selected_message.id)
        await until(pilot, lambda: any(m.id == message.id for m in view.messages))
        assert "┃ Hello, where is my order?" in thread_text(view)


async def test_an_edited_message_shows_edited_and_v_lists_versions(data: Data,
                                                                  make_app) -> None:
    task_id = data.tasks["ivan"]
    first = data.store.thread_before(task_id).items[-1]
    data.store.edit_inbound(first.channel_id, first.external_id, "Where is order 42?")
    app = make_app(data.anna)
    async with started(app) as pilot:
        view = await open_thread(pilot, app, task_id)
        assert "edited" in thread_text(view)
        await select_client_message(pilot, view)
        await press(pilot, "v")
        assert isinstance(app.screen, VersionsDialog)
        shown = str(app.screen.query_one(".version-at").render())
        assert shown
        texts = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Hello, where is my order?" in texts and "Where is order 42?" in texts
        await press(pilot, "escape")
        assert not isinstance(app.screen, VersionsDialog)


async def test_a_deleted_message_stays_visible_and_marked(data: Data, make_app) -> None:
    task_id = data.tasks["olga"]
    first = data.store.thread_before(task_id).items[-1]
    data.store.mark_inbound_deleted(first.channel_id, first.external_id)
    app = make_app(data.anna)
    async with started(app) as pilot:
        view = await open_thread(pilot, app, task_id)
        text = thread_text(view)
        assert "deleted by the client" in text and "Не работает оплата" in text


async def test_a_queued_reply_says_why_it_waits(data: Data, make_app) -> None:
    task_id = data.tasks["ivan"]
    message = data.store.reply(task_id, data.anna.id, "Checking now.")
    data.store.mark_waiting([message.id], "The channel tg is not running.")
    app = make_app(data.anna)
    async with started(app) as pilot:
        view = await open_thread(pilot, app, task_id)
        assert "Waiting: The channel tg is not running." in thread_text(view)
