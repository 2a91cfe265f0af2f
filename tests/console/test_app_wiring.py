"""App-level wiring: themes and their persistence, the key map, help, palette, events
bridge, the keyboard reference document, and channel health from a real gateway."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from textual.command import CommandPalette
from textual.widgets import DataTable

from console.config import ChannelConfig, Config, OperatorConfig, ServerConfig
from console.events_bridge import EventsBridge, Wakeup
from console.keymap import DOC_PATH, binding_table, check_keymap, render_markdown
from console.screens.help import HelpScreen
from console.screens.merge_contacts import MergeContactsDialog
from console.themes import SHIPPED, STATE_KEY, ThemeFileError, load_themes, theme_from_mapping
from storage.events import Event, InProcessBus
from tests.console.conftest import Data, press, settle, started
from widgets.composer import Composer
from widgets.status_bar import StatusBar


def test_three_shipped_themes_load() -> None:
    names = [t.name for t in load_themes()]
    assert sorted(names) == sorted(SHIPPED)
    light = next(t for t in load_themes() if t.name == "switchboard-light")
    assert light.dark is False


def test_bad_theme_file_is_refused_with_a_clear_message() -> None:
    try:
        theme_from_mapping({"name": "x", "primary": "#fff", "primray": "#000"}, "x.yaml")
    except ThemeFileError as err:
        assert "x.yaml" in str(err) and "primray" in str(err)
    else:
        raise AssertionError("an unknown key was accepted")


async def test_theme_choice_persists(data: Data, make_app) -> None:
    app = make_app(data.anna, theme="switchboard-light")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "switchboard-light"
        await press(pilot, "f4")
        assert app.theme != "switchboard-light" and app.theme in SHIPPED
        chosen = app.theme
    assert data.store.get_state(STATE_KEY) == chosen
    again = make_app(data.anna, theme="switchboard-light")
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert again.theme == chosen  # the persisted choice wins over the config default


async def test_keymap_from_config_rebinds_and_reports_unknown_ids(data: Data, make_app) -> None:
    app = make_app(data.anna, keys={"composer.send": "f5", "composer.sned": "f6"})
    async with started(app) as pilot:
        assert any("composer.sned" in n.message for n in app._notifications)
        await press(pilot, "enter")
        await pilot.press(*"via f5")
        await pilot.press("ctrl+s")  # the default no longer sends
        await settle(pilot)
        assert app.screen.query_one(Composer).text == "via f5"
        await press(pilot, "f5")
        assert data.store.thread_before(data.tasks["lena"]).items[-1].text == "via f5"
        assert "f5 send" in str(app.screen.query_one(Composer).border_subtitle)


def test_check_keymap() -> None:
    assert check_keymap({"tasks.next": "n"}) == []
    assert "nope.nothing" in check_keymap({"nope.nothing": "x"})[0]


async def test_help_lists_every_binding_with_user_keys(data: Data, make_app) -> None:
    app = make_app(data.anna, keys={"inbox.toggle_card": "f3"})
    async with started(app) as pilot:
        await press(pilot, "f1")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        rows = binding_table({"inbox.toggle_card": "f3"})
        assert table.row_count == len(rows)
        cells = {str(table.get_row_at(i)[3]): str(table.get_row_at(i)[1])
                 for i in range(table.row_count)}
        assert cells["inbox.toggle_card"] == "f3"
        assert cells["composer.send"] == "ctrl+s"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


def test_keyboard_reference_document_is_current() -> None:
    """docs/keyboard.md is generated from the bindings: regenerate with
    ``python -m console.keymap`` after changing a binding."""
    assert Path(DOC_PATH).read_text(encoding="utf-8") == render_markdown()


def test_every_binding_has_an_id_and_a_description() -> None:
    rows = binding_table()
    ids = [r.binding_id for r in rows]
    assert len(ids) == len(set(ids))
    assert all(r.description for r in rows)
    for needed in ("composer.send", "composer.toggle_note", "app.search", "inbox.merge_tasks",
                   "tasks.mark", "thread.retry", "inbox.take_over", "inbox.filter_mine"):
        assert needed in ids


async def test_palette_reaches_screen_actions(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        await press(pilot, "ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await press(pilot, *"merge contacts")
        await press(pilot, "enter")
        assert isinstance(app.screen, MergeContactsDialog)


def test_bridge_coalesces_a_burst_from_other_threads() -> None:
    bus = InProcessBus()
    posted: list[object] = []
    bridge = EventsBridge(bus, lambda message: posted.append(message) or True)
    bridge.start()

    def burst() -> None:
        for n in range(500):
            bus.dispatch(Event("message.stored", task_id=n % 7, message_id=n))

    threads = [threading.Thread(target=burst) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 1 <= len(posted) <= 4 and all(isinstance(m, Wakeup) for m in posted)
    events = bridge.drain()
    assert len(events) == 2000
    assert bridge.drain() == ()
    bus.dispatch(Event("task.updated", task_id=1))
    assert len(posted) >= 2  # a new batch wakes the app again
    bridge.stop()
    bus.dispatch(Event("task.updated", task_id=2))
    assert [e.task_id for e in bridge.drain()] == [1]


async def test_status_bar_shows_operator_and_channel_health(data: Data) -> None:
    from console.app import SwitchboardApp
    from console.gateway_wiring import make_gateway

    store = data.store
    config = Config(operator=OperatorConfig("Anna"), server=ServerConfig(port=0),
                    channels=(ChannelConfig(name="web", kind="webchat"),))
    gateway = make_gateway(store, config)
    app = SwitchboardApp(store, config, data.anna, gateway)
    async with started(app) as pilot:
        # until the gateway has reported the channel's health to the app, with a deadline
        deadline = time.monotonic() + 10
        while "web" not in app.health:
            assert time.monotonic() < deadline, "no health for 'web' within 10 s"
            await pilot.pause()  # idle: the HealthChanged message is handled
        bar = app.screen.query_one(StatusBar)
        text = str(bar.render())
        assert "Anna" in text and "SQLite" in text and "channels on" in text
        assert "web" in bar.health and f"web: {bar.health['web'][0]}" in text
