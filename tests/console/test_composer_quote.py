"""Quote-reply, composer side: the thread picks a client message, the reply quotes it."""

from __future__ import annotations

from storage.constants import INBOUND, OUTBOUND
from tests.console.conftest import Data, press, settle, started
from tests.console.test_drafts import open_task
from widgets.composer import Composer
from widgets.thread_view import ThreadView


def last_of(data: Data, task_id: int, kind: str):
    return [m for m in data.store.thread_before(task_id).items if m.kind == kind][-1]


async def test_picked_client_message_is_shown_and_sent_as_the_quote(data: Data, make_app) -> None:
    ivan = data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        thread = app.screen.query_one(ThreadView)
        thread.focus()
        await press(pilot, "end", "q")  # the thread's quote key on the client's message
        assert composer.has_focus
        assert "Quoting: Hello, where is my order?" in str(composer.border_subtitle)
        await press(pilot, *"It left today", "ctrl+s")
        reply = last_of(data, ivan, OUTBOUND)
        quoted = last_of(data, ivan, INBOUND)
        assert reply.text == "It left today"
        assert reply.quote_message_id == quoted.id
        assert reply.quote_text == "Hello, where is my order?"
        assert composer.quote is None and composer.text == ""


async def test_the_quote_is_cleared_with_one_key(data: Data, make_app) -> None:
    ivan = data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        app.screen.quote_in_composer(last_of(data, ivan, INBOUND))
        await settle(pilot)
        assert composer.quote is not None
        await press(pilot, "f8", *"no quote", "ctrl+s")
        assert "Quoting" not in str(composer.border_subtitle)
        assert last_of(data, ivan, OUTBOUND).quote_message_id is None


async def test_another_tasks_message_is_not_quoted(data: Data, make_app) -> None:
    ivan, olga = data.tasks["ivan"], data.tasks["olga"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        app.screen.quote_in_composer(last_of(data, olga, INBOUND))
        await settle(pilot)
        assert composer.quote is None


async def test_quote_survives_nothing_across_tasks(data: Data, make_app) -> None:
    ivan, olga = data.tasks["ivan"], data.tasks["olga"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        app.screen.quote_in_composer(last_of(data, ivan, INBOUND))
        await settle(pilot)
        composer = await open_task(pilot, olga)
        assert composer.quote is None
        assert isinstance(composer, Composer)
