"""Quote-reply in the web chat: the reply frame carries ``quote: {id, text}`` (the
visitor's own message it answers), live and in the history; the page builds the quote
block with textContent only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from importlib import resources

import aiohttp
import pytest

from connectors.gateway import Gateway
from storage.store import Store
from tests.connectors.gateway_helpers import running, spec
from tests.connectors.webchat_client import Visitor


@pytest.fixture
async def gateway(sqlite_store: Store) -> AsyncIterator[Gateway]:
    async with running(sqlite_store, [spec(sqlite_store, "webchat", "web")]) as gw:
        yield gw


async def test_the_reply_frame_carries_the_quote(gateway: Gateway, sqlite_store: Store) -> None:
    async with aiohttp.ClientSession() as http:
        visitor = Visitor(http, f"{gateway.external_url()}/chat/web/ws")
        await visitor.connect()
        asked = await visitor.say("Есть <b>синий</b>\nв размере M?", "q1")
        await visitor.say("И доставка?", "q2")
        task_id = sqlite_store.get_message(asked["message_id"]).task_id
        operator = sqlite_store.ensure_operator("Оля").id
        reply = sqlite_store.reply(task_id, operator, "Да, есть",
                                   quote_message_id=asked["message_id"])
        frame = await visitor.receive("message")
        assert frame["id"] == reply.id and frame["text"] == "Да, есть"
        assert frame["quote"] == {"id": asked["message_id"],
                                  "text": "Есть <b>синий</b> в размере M?"}
        plain = sqlite_store.reply(task_id, operator, "Доставка бесплатная")
        second = await visitor.receive("message")
        assert second["id"] == plain.id and "quote" not in second
        history = await visitor.connect(visitor.token)
        [again] = [m for m in history["messages"] if m["id"] == reply.id]
        assert again["quote"] == frame["quote"]
        await visitor.close()


def test_the_page_renders_the_quote_as_text() -> None:
    page = resources.files("connectors.webchat").joinpath("page.html").read_text("utf-8")
    assert "q.textContent = quote.text" in page and "innerHTML" not in page
