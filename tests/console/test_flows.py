"""The operator's core flows, driven from the keyboard against a real SQLite store."""

from __future__ import annotations

import time

from storage.models import FAILED, INBOUND, NOTE, OUTBOUND, QUEUED, SENT, utcnow
from tests.console.conftest import Data, inbound, press, settle, started
from widgets.composer import Composer
from widgets.task_list import TaskList
from widgets.thread_view import ThreadView


async def open_first(pilot) -> None:
    await settle(pilot)
    await press(pilot, "enter")


async def test_open_task_shows_thread_and_marks_read(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        tasks = app.screen.query_one(TaskList)
        assert tasks.has_focus
        top = tasks.highlighted_task
        assert top is not None and top.id == data.tasks["lena"]  # newest activity first
        assert data.store.get_task(top.id).unread_count == 1
        await press(pilot, "enter")
        thread = app.screen.query_one(ThreadView)
        assert thread.current_task is not None and thread.current_task.id == top.id
        assert any(m.kind == INBOUND and m.text == "Thanks, got it." for m in thread.messages)
        assert data.store.get_task(top.id).unread_count == 0
        assert isinstance(app.focused, Composer)


async def test_reply_then_private_note(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_first(pilot)
        composer = app.screen.query_one(Composer)
        assert "Reply" in str(composer.border_title)
        await pilot.press(*"Hello Lena")
        await pilot.press("enter")  # enter is a newline, not send
        await pilot.press(*"bye")
        await press(pilot, "ctrl+s")
        last = data.store.thread_before(data.tasks["lena"]).items[-1]
        assert (last.kind, last.text, last.delivery_state) == (OUTBOUND, "Hello Lena\nbye", QUEUED)
        assert composer.text == ""
        await pilot.press("ctrl+n")
        assert composer.private and "not sent" in str(composer.border_title)
        assert composer.has_class("-note")
        await pilot.press(*"internal only")
        await press(pilot, "ctrl+s")
        last = data.store.thread_before(data.tasks["lena"]).items[-1]
        assert (last.kind, last.text, last.delivery_state) == (NOTE, "internal only", None)
        thread = app.screen.query_one(ThreadView)
        assert [m.text for m in thread.messages][-2:] == ["Hello Lena\nbye", "internal only"]


async def test_failed_reply_keeps_the_text(data: Data, make_app) -> None:
    store = data.store
    now = utcnow()
    orphan = store.m.Task.create(title="No channel", status="new", created_at=now,
                                 last_activity_at=now)
    orphan.number = orphan.id
    orphan.save()
    app = make_app(data.anna)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_first(pilot)  # the orphan is the newest task
        assert app.screen.query_one(ThreadView).current_task.id == orphan.id
        await pilot.press(*"are you there?")
        await press(pilot, "ctrl+s")
        composer = app.screen.query_one(Composer)
        assert composer.text == "are you there?"
        assert any("not bound to any channel" in n.message for n in app._notifications)
        assert store.thread_count(orphan.id) == 0


async def test_retry_failed_message_from_keyboard(data: Data, make_app) -> None:
    store = data.store
    message = store.reply(data.tasks["lena"], data.anna.id, "will fail")
    store.claim_outbox(10, utcnow(), None)
    store.mark_failed(message.id, "Forbidden: bot was blocked by the user")
    assert store.get_message(message.id).delivery_state == FAILED
    app = make_app(data.anna)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_first(pilot)
        await pilot.press("shift+tab")  # composer → conversation
        assert isinstance(app.focused, ThreadView)
        await pilot.press("end")  # selects the newest message: the failed one
        assert app.focused.selected_message.id == message.id
        await press(pilot, "r")
        assert store.get_message(message.id).delivery_state == QUEUED


async def test_live_updates_move_tasks_and_show_messages(data: Data, make_app) -> None:
    store = data.store
    app = make_app(data.anna)
    async with app.run_test(size=(120, 36)) as pilot:
        await open_first(pilot)  # Lena's task is open
        tasks = app.screen.query_one(TaskList)
        thread = app.screen.query_one(ThreadView)
        store.ingest(inbound(data.tg, "ivan", "Any news?", 100, "Ivan Petrov"))
        await settle(pilot)
        assert tasks.rows[0].id == data.tasks["ivan"]
        assert tasks.highlighted_task.id == data.tasks["lena"]  # the operator keeps their place
        store.ingest(inbound(data.tg, "lena", "One more thing", 101, "Lena"))
        await settle(pilot)
        assert thread.messages[-1].text == "One more thing"
        reply = store.reply(data.tasks["lena"], data.anna.id, "Sure")
        await settle(pilot)
        assert thread.messages[-1].delivery_state == QUEUED
        store.claim_outbox(10, utcnow(), None)
        store.mark_sent(reply.id, "tg-1")
        await settle(pilot)
        shown = next(m for m in thread.messages if m.id == reply.id)
        assert shown.delivery_state == SENT


async def test_search_opens_the_thread_at_the_hit(data: Data, make_app) -> None:
    from console.screens.search import SearchScreen

    store = data.store
    for n in range(30):
        store.ingest(inbound(data.tg, "ivan", f"filler message {n}", 200 + n, "Ivan Petrov"))
    hit = store.ingest(inbound(data.tg, "ivan", "my parcel number is zebra42", 300, "Ivan Petrov"))
    for n in range(30):
        store.ingest(inbound(data.tg, "ivan", f"later message {n}", 400 + n, "Ivan Petrov"))
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "slash")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"zebra42")
        # until the debounced search has answered (workers done, app idle), with a deadline
        deadline = time.monotonic() + 10
        while not app.screen.query_one("#search-results").option_count:
            assert time.monotonic() < deadline, "no search results within 10 s"
            await settle(pilot, rounds=1)
        await press(pilot, "enter")
        thread = app.screen.query_one(ThreadView)
        assert thread.current_task.id == data.tasks["ivan"]
        assert thread.selected_message is not None
        assert thread.selected_message.id == hit.message.id
