"""WhatsApp templates in the composer: said before typing, picked, sent as a template."""

from __future__ import annotations

import dataclasses

from console.config_schema import ChannelConfig
from console.screens.templates import TemplatesDialog
from storage.constants import OUTBOUND
from tests.console.conftest import Data, inbound, press, started
from tests.console.test_drafts import open_task


async def test_closed_window_offers_the_configured_templates(data: Data, make_app) -> None:
    store = data.store
    wa = store.ensure_channel("whatsapp", "wa").id
    task_id = store.ingest(inbound(wa, "79001234567", "Hi", 50, "Nina")).task.id  # 2020: closed
    app = make_app(data.anna)
    app.config = dataclasses.replace(app.config, channels=(ChannelConfig(
        name="wa", kind="whatsapp", options={"templates": ["order_update", "hello_again"]}),))
    async with started(app) as pilot:
        composer = await open_task(pilot, task_id)
        assert "only a template can be sent (f9 Templates)" in str(composer.border_subtitle)
        await press(pilot, *"plain words", "ctrl+s")  # refused by the store, text kept
        assert composer.text == "plain words"
        assert [m for m in store.thread_before(task_id).items if m.kind == OUTBOUND] == []
        await press(pilot, "f9")
        assert isinstance(app.screen, TemplatesDialog)
        await press(pilot, "down", "enter")
        sent = [m for m in store.thread_before(task_id).items if m.kind == OUTBOUND]
        assert [(m.text, m.meta.get("template")) for m in sent] == [
            ("Template: hello_again", "hello_again")]


async def test_an_open_window_says_nothing(data: Data, make_app) -> None:
    app = make_app(data.anna)
    async with started(app) as pilot:
        composer = await open_task(pilot, data.tasks["ivan"])
        assert "template" not in str(composer.border_subtitle)
