"""Keys typed in one burst right after Enter reach where the focus lands, in order.

A terminal delivers a fast typist's keys together; :func:`burst` posts them to the
app all at once, as the driver does, without waiting between them (``pilot.press``
waits for the app to go idle after every key, which hides the problem).
"""

from __future__ import annotations

import time

from textual import events

from tests.console.conftest import Data, press, settle, started
from widgets.composer import Composer
from widgets.quick_reply_picker import QuickReplyPicker
from widgets.task_list import TaskList

CHARACTERS = {"asterisk": "*", "enter": "\r", "space": " ", "escape": "\x1b"}


async def until(pilot, condition, timeout: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (a chain of workers and messages)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await pilot.pause()
    await settle(pilot)


def burst(app, *keys: str) -> None:
    """Post ``keys`` to the app in one go, as the terminal driver delivers a burst."""
    for key in keys:
        event = events.Key(key, CHARACTERS.get(key, key if len(key) == 1 else None))
        event.set_sender(app)
        app._driver.send_message(event)


async def test_enter_star_word_enter_in_one_burst(data: Data, make_app) -> None:
    before = data.store.thread_count(data.tasks["ivan"])
    app = make_app(data.anna)
    async with started(app) as pilot:
        app.screen.query_one(TaskList).select_task_id(data.tasks["ivan"])
        await settle(pilot)
        burst(app, "enter", "asterisk", *"greet", "enter")
        await settle(pilot)
        # Enter came before the results for "greet": the picker chooses once they are in
        await until(pilot, lambda: not isinstance(app.screen, QuickReplyPicker))
        composer = app.screen.query_one(Composer)
        assert composer.text == "Hello Ivan Petrov, this is Anna."
        assert composer.task_id == data.tasks["ivan"]
        assert app.focused is composer
    assert data.store.thread_count(data.tasks["ivan"]) == before  # nothing was sent


async def test_words_typed_right_after_enter_land_in_the_composer(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        app.screen.query_one(TaskList).select_task_id(data.tasks["olga"])
        await settle(pilot)
        burst(app, "enter", *"good morning")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.text == "good morning"
        assert composer.task_id == data.tasks["olga"]


async def test_text_typed_for_one_task_is_never_sent_to_the_next(data: Data, make_app) -> None:
    store = data.store
    ivan, olga = data.tasks["ivan"], data.tasks["olga"]
    counts = store.thread_count(ivan), store.thread_count(olga)
    app = make_app(data.anna)
    async with started(app) as pilot:
        tasks = app.screen.query_one(TaskList)
        tasks.select_task_id(ivan)
        await press(pilot, "enter")
        # typed for Ivan, then straight to Olga's task and ctrl+s, all in one burst
        burst(app, *"for Ivan only", "escape")
        await settle(pilot)
        tasks.select_task_id(olga)
        await settle(pilot)
        burst(app, "enter", "ctrl+s")
        await settle(pilot)
        composer = app.screen.query_one(Composer)
        assert composer.task_id == olga and composer.text == ""
    assert (store.thread_count(ivan), store.thread_count(olga)) == counts  # nothing sent
    assert store.drafts.get(ivan, data.anna.id).text == "for Ivan only"


async def test_a_star_inside_a_word_keeps_the_burst_in_the_composer(data: Data,
                                                                    make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        app.screen.query_one(TaskList).select_task_id(data.tasks["ivan"])
        await settle(pilot)
        burst(app, "enter", *"2", "asterisk", *"3 = 6")
        await settle(pilot)
        assert not isinstance(app.screen, QuickReplyPicker)
        assert app.screen.query_one(Composer).text == "2*3 = 6"
