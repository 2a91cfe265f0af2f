"""The collision notice: another operator typing, or a reply since we started typing."""

from __future__ import annotations

import threading

from console.presence_wiring import PresenceWiring
from console.screens.confirm import ConfirmDialog
from storage.constants import OUTBOUND
from storage.presence import PresenceAnnouncer, PresenceTracker
from tests.console.conftest import Data, press, started
from tests.console.test_drafts import open_task

WAIT = 10.0  # seconds at most for a presence event to cross threads


def wait_until(changed: threading.Event, condition) -> None:
    """Block until ``condition()`` holds, woken by each presence change (at most WAIT each)."""
    while True:
        changed.clear()
        if condition():
            return
        assert changed.wait(WAIT), "no presence change arrived"


def outbound_texts(data: Data, task_id: int) -> list[str]:
    return [m.text for m in data.store.thread_before(task_id).items if m.kind == OUTBOUND]


def notice_text(app) -> str:
    return str(app.screen.query_one("#confirm-text").render())


async def test_a_reply_since_we_started_typing_is_shown_before_sending(data: Data,
                                                                       make_app) -> None:
    store, ivan = data.store, data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        await press(pilot, *"Your order left")
        store.reply(ivan, data.boris.id, "Boris here: shipped yesterday")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmDialog)
        assert "Boris replied: Boris here: shipped yesterday" in notice_text(app)
        await press(pilot, "enter")  # the safe answer is highlighted first: nothing sent
        assert composer.text == "Your order left"
        assert outbound_texts(data, ivan) == ["Boris here: shipped yesterday"]
        await press(pilot, "ctrl+s", "down", "enter")  # send anyway: one deliberate choice
        assert outbound_texts(data, ivan) == ["Boris here: shipped yesterday", "Your order left"]
        assert composer.text == ""


async def test_nobody_else_means_no_notice(data: Data, make_app) -> None:
    ivan = data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        await open_task(pilot, ivan)
        data.store.reply(ivan, data.anna.id, "mine, from another console")
        await press(pilot, *"second", "ctrl+s")
        assert not isinstance(app.screen, ConfirmDialog)
        assert outbound_texts(data, ivan)[-1] == "second"


async def test_typing_is_announced_and_another_typist_is_named(data: Data, make_app) -> None:
    store, ivan = data.store, data.tasks["ivan"]
    seen = threading.Event()
    watcher = PresenceTracker(store, seen.set)  # another console's picture
    boris = PresenceAnnouncer(store, data.boris.id, "Boris")
    app = make_app(data.anna)
    wiring = PresenceWiring(store, data.anna, on_change=seen.set)
    wiring.attach(app)
    watcher.start()
    boris.start()
    try:
        async with started(app) as pilot:
            await open_task(pilot, ivan)
            await press(pilot, *"typing")
            wait_until(seen, lambda: any(e.operator_name == "Anna" and e.typing
                                         for e in watcher.in_task(ivan)))
            boris.typing(ivan)
            wait_until(seen, lambda: any(e.operator_name == "Boris" and e.typing
                                         for e in wiring.tracker.in_task(ivan)))
            await press(pilot, "ctrl+s")
            assert isinstance(app.screen, ConfirmDialog)
            assert "Boris is typing in this task now." in notice_text(app)
    finally:
        boris.close()
        watcher.stop()
        wiring.close()
