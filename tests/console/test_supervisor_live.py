"""The supervisor's live view: per-operator numbers updated on events; a race-free take."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from console.screens.supervisor import SupervisorScreen
from storage.taking import take
from tests.console.conftest import Data, press, settle, started
from widgets.composer import Composer
from widgets.supervisor_summary import SupervisorSummaryView
from widgets.task_list import TaskList


def summary_text(app) -> str:
    return str(app.screen.query_one(SupervisorSummaryView).render())


async def test_per_operator_numbers_follow_the_events(data: Data, make_app) -> None:
    store, t = data.store, data.tasks
    store.assign([t["ivan"], t["olga"]], data.boris.id, data.boris.id)
    store.reply(t["ivan"], data.boris.id, "On its way")
    sofia = store.ensure_operator("Sofia", "supervisor")
    app = make_app(sofia)
    async with started(app) as pilot:
        assert isinstance(app.screen, SupervisorScreen)
        text = summary_text(app)
        assert "Boris: 2 open · 1 awaiting reply · 1 replies today · first reply" in text
        assert "Anna: 0 open · 0 awaiting reply · 0 replies today" in text
        store.reply(t["olga"], data.boris.id, "Проверяю оплату")  # another console
        await settle(pilot)
        assert "Boris: 2 open · 0 awaiting reply · 2 replies today" in summary_text(app)


async def test_the_read_only_composer_does_not_offer_send(data: Data, make_app) -> None:
    store, t = data.store, data.tasks
    store.assign([t["ivan"]], data.anna.id, data.anna.id)
    sofia = store.ensure_operator("Sofia", "supervisor")
    app = make_app(sofia)
    async with started(app) as pilot:
        app.screen.query_one(TaskList).select_task_id(t["ivan"])
        await press(pilot, "enter")
        composer = app.screen.query_one(Composer)
        assert composer.has_focus and composer.read_only
        labels = [key.description for key in app.screen.query(FooterKey)]
        assert "Send" not in labels and "Reply/Note" not in labels


async def test_a_lost_take_names_the_winner(data: Data, make_app) -> None:
    store, ivan = data.store, data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        app.screen.query_one(TaskList).select_task_id(ivan)
        await press(pilot, "enter")
        assert app.screen.current.assignee_id is None
        take(store, ivan, data.boris.id)  # another console is first…
        app.screen.action_take_over()  # …while this one still shows it unassigned
        await settle(pilot)
        assert store.get_task(ivan).assignee_id == data.boris.id
        assert any("Boris took task #1 first." in n.message for n in app._notifications)


async def test_a_won_take_says_so(data: Data, make_app) -> None:
    store, ivan = data.store, data.tasks["ivan"]
    app = make_app(data.anna)
    async with started(app) as pilot:
        app.screen.query_one(TaskList).select_task_id(ivan)
        await press(pilot, "enter", "ctrl+t")
        assert store.get_task(ivan).assignee_id == data.anna.id
        assert any("You took task #1." in n.message for n in app._notifications)
