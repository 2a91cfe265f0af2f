"""Before a reply is queued: the ownership notice, and the channel's limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from pathlib import Path

from connectors.registry import policies
from console.app import SwitchboardApp
from console.config import Config, OperatorConfig
from console.filters import FilterChoice
from console.screens.confirm import ConfirmDialog
from storage.models import COMPLETED, OUTBOUND
from storage.store import Store
from tests.console.conftest import Data, fill, frozen_clock, inbound, press, settle, started
from widgets.composer import Composer
from widgets.task_list import TaskList


async def open_task(pilot, task_id: int) -> Composer:
    tasks = pilot.app.screen.query_one(TaskList)
    tasks.focus()
    tasks.select_task_id(task_id)
    await settle(pilot)
    await press(pilot, "enter")
    return pilot.app.screen.query_one(Composer)


def outbound(store: Store, task_id: int) -> list[str]:
    return [m.text for m in store.thread_before(task_id).items if m.kind == OUTBOUND]


async def test_replying_into_another_operators_task_asks_once(data: Data, make_app) -> None:
    store = data.store
    ivan = data.tasks["ivan"]
    store.assign([ivan], data.boris.id, data.boris.id)
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, ivan)
        await press(pilot, *"I can help too")
        await press(pilot, "ctrl+s")
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        question = str(dialog.query_one("#confirm-text").visual)
        assert "Boris" in question and "Ivan Petrov" in question
        await press(pilot, "enter")  # the safe answer: cancel
        assert composer.text == "I can help too" and outbound(store, ivan) == []
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmDialog)
        await press(pilot, "down", "enter")  # send anyway
        assert outbound(store, ivan) == ["I can help too"]
        await press(pilot, *"and again")
        await press(pilot, "ctrl+s")  # asked once per opening: no question now
        assert not isinstance(app.screen, ConfirmDialog)
        assert outbound(store, ivan) == ["I can help too", "and again"]


async def test_replying_into_a_completed_task_names_the_state(data: Data, make_app) -> None:
    store = data.store
    lena = data.tasks["lena"]
    store.set_status([lena], COMPLETED, data.anna.id)
    app = make_app(data.anna)
    async with started(app) as pilot:
        # completed tasks are out of the default lists: show that status first
        app.screen.set_choice(FilterChoice("status", status=COMPLETED))
        await settle(pilot)
        await open_task(pilot, lena)
        await press(pilot, *"one more thing")
        await press(pilot, "ctrl+s")
        assert isinstance(app.screen, ConfirmDialog)
        assert "Completed" in str(app.screen.query_one("#confirm-text").visual)


async def test_a_closed_window_is_refused_in_the_composer(data: Data, make_app) -> None:
    store = data.store
    wa = store.ensure_channel("whatsapp", "wa").id
    task = store.ingest(inbound(wa, "79001234567", "Hi from WhatsApp", 30, "Pavel")).task.id
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, task)
        await press(pilot, *"late answer")
        await press(pilot, "ctrl+s")
        assert composer.text == "late answer"
        assert "24" in str(composer.border_subtitle) and composer.has_class("-refused")
        assert outbound(store, task) == []
        await press(pilot, "!")
        assert not composer.has_class("-refused")  # the reason goes when the text changes


async def test_a_reply_over_a_limit_that_cannot_be_split_is_refused(tmp_path: Path) -> None:
    rules = dict(policies())
    rules["telegram"] = replace(rules["telegram"], text_limit=20, split_long=False)
    store = Store.open(str(tmp_path / "strict.db"), policies=rules)
    try:
        data = fill(store)
        config = Config(operator=OperatorConfig("Anna", "operator"), theme="switchboard-dark")
        app = SwitchboardApp(store, config, data.anna, clock=frozen_clock)
        app.timezone = UTC
        ivan = data.tasks["ivan"]
        async with started(app) as pilot:
            composer = await open_task(pilot, ivan)
            await press(pilot, *"this reply is far too long")
            await press(pilot, "ctrl+s")
            assert composer.text == "this reply is far too long"
            assert "20" in str(composer.border_subtitle)
            assert outbound(store, ivan) == []
    finally:
        store.close()
