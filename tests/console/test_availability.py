"""Available / away in the console: the key (``app.toggle_available``) and the palette
command toggle it, the status bar shows it, and auto-assignment honours it."""

from __future__ import annotations

from storage.auto_assign import auto_assign
from storage.availability import is_available, set_available
from tests.console.conftest import Data, inbound, press, started
from tests.console.test_keystrokes import until
from widgets.status_bar import StatusBar


def bar_text(app) -> str:
    return str(app.screen.query_one(StatusBar).render())


def new_task_assignee(data: Data, chat: str) -> int | None:
    task = data.store.ingest(inbound(data.web, chat, "hello", 100)).task
    auto_assign(data.store, task.id)
    return data.store.get_task(task.id).assignee_id


async def test_the_key_toggles_it_and_auto_assignment_follows(data: Data, make_app) -> None:
    data.store.ensure_channel("webchat", "web", {"auto_assign": True})
    app = make_app(data.anna)
    async with started(app) as pilot:
        await until(pilot, lambda: "Anna (operator)  away" in bar_text(app))  # never marked
        await press(pilot, "f6")
        await until(pilot, lambda: "Anna (operator)  available" in bar_text(app))
        assert is_available(data.store, data.anna.id)
        assert new_task_assignee(data, "newcomer") == data.anna.id
        await press(pilot, "f6")
        await until(pilot, lambda: "Anna (operator)  away" in bar_text(app))
        assert not is_available(data.store, data.anna.id)
        assert new_task_assignee(data, "latecomer") is None


async def test_the_palette_command(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "ctrl+p")
        await pilot.press(*"available / away")
        await until(pilot, lambda: app.screen.query_one("CommandList").option_count > 0)
        await press(pilot, "enter")
        await until(pilot, lambda: is_available(data.store, data.anna.id)
                    and "available" in bar_text(app))


async def test_a_change_made_elsewhere_shows(data: Data, make_app) -> None:
    """``switchboard operator available`` in a shell shows in the running console."""
    app = make_app(data.anna)
    async with started(app) as pilot:
        await until(pilot, lambda: "away" in bar_text(app))
        set_available(data.store, data.anna.id, True)
        await until(pilot, lambda: "Anna (operator)  available" in bar_text(app))
        set_available(data.store, data.boris.id, True)  # someone else's: not shown here
        set_available(data.store, data.anna.id, False)
        await until(pilot, lambda: "Anna (operator)  away" in bar_text(app))
