"""The inbox and its task list: channel tags come from the plug-ins' policies, and the
keys in the footer follow what can be done, not every cursor move."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from textual.widgets._footer import FooterKey

from connectors.registry import policies
from console.app import SwitchboardApp
from console.config import Config, OperatorConfig
from storage.channel_policy import ChannelPolicy
from storage.store import Store
from tests.console.conftest import Data, fill, frozen_clock, inbound, press, started
from widgets.key_footer import KeyFooter
from widgets.task_list import TaskList


def row_lines(tasks: TaskList) -> list[str]:
    return [tasks.render_line(y).text for y in range(tasks.scrollable_content_region.height)]


async def test_the_list_shows_the_tag_a_policy_declares(tmp_path: Path) -> None:
    rules = dict(policies())
    # A channel kind no table knows, and one whose declared tag is not its first letters.
    rules["pigeon"] = ChannelPolicy("pigeon", None, idempotent_send=False, tag="PGN")
    store = Store.open(str(tmp_path / "tags.db"), policies=rules)
    try:
        data = fill(store)
        loft = store.ensure_channel("pigeon", "loft").id
        store.ingest(inbound(loft, "coo", "Coo coo", 30, "Pigeon Fancier"))
        config = Config(operator=OperatorConfig("Anna", "operator"), theme="switchboard-dark")
        app = SwitchboardApp(store, config, data.anna, clock=frozen_clock)
        app.timezone = UTC
        async with started(app):
            tasks = app.screen.query_one(TaskList)
            lines = row_lines(tasks)
            assert "PGN Pigeon Fancier" in lines[0]  # newest first: the pigeon's task
            assert "TG  Lena" in lines[2]  # Telegram's plug-in declares "TG"
            assert tasks.channel_tags["pigeon"] == "PGN"
    finally:
        store.close()


async def test_footer_keys_follow_the_answers_not_every_press(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        footer = app.screen.query_one(KeyFooter)
        shown = list(footer.query(FooterKey))
        assert "merge_tasks" not in {key.action for key in shown}
        for key in "jjkj":
            await press(pilot, key)
        assert app.screen.query_one(TaskList).highlighted_task.id == data.tasks["olga"]
        assert list(footer.query(FooterKey)) == shown  # the same widgets: not rebuilt
        await press(pilot, "space", "j", "space")  # two marked tasks: merging is possible
        assert "merge_tasks" in {key.action for key in footer.query(FooterKey)}
        await press(pilot, "escape")  # on the list: clears the marks
        assert "merge_tasks" not in {key.action for key in footer.query(FooterKey)}
        await press(pilot, "enter")  # a task of nobody's open: it can be taken
        assert "take_over" in {key.action for key in footer.query(FooterKey)}
