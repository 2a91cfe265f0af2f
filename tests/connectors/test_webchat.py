"""The web chat over a real websocket (aiohttp's client) against a running gateway."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from connectors.gateway import Gateway
from connectors.webchat.connector import chat_id_for
from storage.models import DELIVERED, EVENT, INBOUND, NOTE, READ, SENT
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec

PAGE = "https://shop.example/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring&x=1"


class Visitor:
    """One browser tab, speaking the page's protocol."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http, self.url = http, url
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.token: str | None = None
        self.history: list[dict[str, Any]] = []

    async def connect(self, token: str | None = None, name: str = "", page: str = PAGE) -> None:
        self.ws = await self.http.ws_connect(self.url)
        await self.ws.send_json({"type": "hello", "token": token, "name": name, "page": page,
                                 "referrer": "https://search.example/?q=shop", "language": "ru-RU"})
        welcome = await self.receive("welcome")
        self.token = welcome["token"]
        self.history = (await self.receive("history"))["messages"]

    async def receive(self, kind: str, timeout: float = 5.0) -> dict[str, Any]:
        assert self.ws is not None
        while True:
            data = await asyncio.wait_for(self.ws.receive_json(), timeout)
            if data["type"] == kind:
                return data

    async def say(self, text: str, client_id: str) -> dict[str, Any]:
        assert self.ws is not None
        await self.ws.send_json({"type": "message", "id": client_id, "text": text})
        return await self.receive("ack")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


@pytest.fixture
async def gateway(store: Store) -> AsyncIterator[Gateway]:
    web = spec(store, "webchat", "web")
    async with running(store, [web]) as gw:
        yield gw


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def ws_url(gw: Gateway) -> str:
    return f"{gw.external_url()}/chat/web/ws"


async def test_page_is_self_contained(gateway: Gateway, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{gateway.external_url()}/chat/web") as response:
        html = await response.text()
    assert response.status == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # no external assets
    assert "innerHTML" not in html and "textContent" in html
    assert "Type a message" in html


async def test_message_becomes_a_task_with_page_referrer_and_utm(
        gateway: Gateway, http: aiohttp.ClientSession, store: Store) -> None:
    visitor = Visitor(http, ws_url(gateway))
    await visitor.connect(name="Мария")
    assert visitor.token and visitor.history == []
    ack = await visitor.say("Здравствуйте! Сколько стоит доставка?", "c1")
    message = store.get_message(ack["message_id"])  # committed before the ack
    assert message.kind == INBOUND and message.text.startswith("Здравствуйте")
    task = store.get_task(message.task_id)
    assert task.contact_name == "Мария"
    assert task.chat_id == chat_id_for(visitor.token) and visitor.token not in task.chat_id
    data = task.additional_data
    assert data["page"] == PAGE and data["referrer"] == "https://search.example/?q=shop"
    assert (data["utm_source"], data["utm_medium"], data["utm_campaign"]) == (
        "newsletter", "email", "spring")
    assert "x" not in data and data["language"] == "ru-RU"
    await visitor.close()


async def test_reload_shows_history_and_continues_the_same_task(
        gateway: Gateway, http: aiohttp.ClientSession, store: Store) -> None:
    first = Visitor(http, ws_url(gateway))
    await first.connect()
    ack = await first.say("первое", "a1")
    task_id = store.get_message(ack["message_id"]).task_id
    op = store.ensure_operator("Anna", "operator")
    reply = store.reply(task_id, op.id, "ответ")
    pushed = await first.receive("message")
    assert (pushed["id"], pushed["text"], pushed["from"]) == (reply.id, "ответ", "operator")
    store.note(task_id, op.id, "PRIVATE: client looks like a reseller")
    await first.close()

    again = Visitor(http, ws_url(gateway))  # a reload: same token
    await again.connect(token=first.token)
    assert again.token == first.token
    texts = [(m["from"], m["text"]) for m in again.history]
    assert texts == [("visitor", "первое"), ("operator", "ответ")]
    thread = store.thread_before(task_id).items
    assert any(m.kind == NOTE for m in thread) and any(m.kind == EVENT for m in thread)
    assert all("PRIVATE" not in m["text"] for m in again.history)  # never notes or events
    ack2 = await again.say("второе", "a2")
    assert store.get_message(ack2["message_id"]).task_id == task_id
    await again.close()


async def test_resent_message_id_is_stored_once(gateway: Gateway, http: aiohttp.ClientSession,
                                                store: Store) -> None:
    visitor = Visitor(http, ws_url(gateway))
    await visitor.connect()
    first = await visitor.say("дубль", "same-id")
    await visitor.close()
    again = Visitor(http, ws_url(gateway))  # the page resends its unacknowledged queue
    await again.connect(token=visitor.token)
    second = await again.say("дубль", "same-id")
    assert first["message_id"] == second["message_id"]
    assert store.thread_count(store.get_message(first["message_id"]).task_id) == 2
    await again.close()


async def test_reply_pushed_live_then_acknowledged(gateway: Gateway, http: aiohttp.ClientSession,
                                                   store: Store) -> None:
    visitor = Visitor(http, ws_url(gateway))
    await visitor.connect()
    second_tab = Visitor(http, ws_url(gateway))
    ack = await visitor.say("вопрос", "q1")
    await second_tab.connect(token=visitor.token)
    task_id = store.get_message(ack["message_id"]).task_id
    op = store.ensure_operator("Anna", "operator")
    reply = store.reply(task_id, op.id, "<b>ответ</b> [bold]")
    for tab in (visitor, second_tab):
        pushed = await tab.receive("message")
        assert pushed["text"] == "<b>ответ</b> [bold]" and pushed["author"] == "Anna"
    await eventually(lambda: store.get_message(reply.id).delivery_state == SENT)
    assert visitor.ws is not None
    await visitor.ws.send_json({"type": "receipt", "ids": [reply.id], "state": DELIVERED})
    await eventually(lambda: store.get_message(reply.id).delivery_state == DELIVERED)
    await visitor.ws.send_json({"type": "receipt", "ids": [reply.id], "state": READ})
    await eventually(lambda: store.get_message(reply.id).delivery_state == READ)
    await visitor.close()
    await second_tab.close()


async def test_offline_visitor_gets_the_reply_on_reconnect(
        gateway: Gateway, http: aiohttp.ClientSession, store: Store) -> None:
    visitor = Visitor(http, ws_url(gateway))
    await visitor.connect()
    ack = await visitor.say("я ушёл", "o1")
    await visitor.close()
    task_id = store.get_message(ack["message_id"]).task_id
    op = store.ensure_operator("Anna", "operator")
    reply = store.reply(task_id, op.id, "пока вас не было")
    await eventually(lambda: store.get_message(reply.id).delivery_state == SENT)
    back = Visitor(http, ws_url(gateway))
    await back.connect(token=visitor.token)
    assert back.history[-1]["id"] == reply.id and back.history[-1]["text"] == "пока вас не было"
    await back.close()


async def test_visitors_are_isolated(gateway: Gateway, http: aiohttp.ClientSession,
                                     store: Store) -> None:
    alice, bob = Visitor(http, ws_url(gateway)), Visitor(http, ws_url(gateway))
    await alice.connect()
    await bob.connect()
    ack = await alice.say("секрет Алисы", "s1")
    task_id = store.get_message(ack["message_id"]).task_id
    op = store.ensure_operator("Anna", "operator")
    reply = store.reply(task_id, op.id, "только для Алисы")
    await alice.receive("message")
    await eventually(lambda: store.get_message(reply.id).delivery_state == SENT)
    assert bob.ws is not None
    await bob.ws.send_json({"type": "receipt", "ids": [reply.id], "state": READ})  # not bob's
    await bob.say("привет", "b1")
    assert store.get_message(reply.id).delivery_state == SENT
    bob_again = Visitor(http, ws_url(gateway))
    await bob_again.connect(token=bob.token)
    assert [m["text"] for m in bob_again.history] == ["привет"]
    for v in (alice, bob, bob_again):
        await v.close()


async def test_bad_input_gets_a_clear_error_and_loses_nothing(
        gateway: Gateway, http: aiohttp.ClientSession, store: Store) -> None:
    ws = await http.ws_connect(ws_url(gateway))
    await ws.send_str("{not json")
    assert (await ws.receive_json())["type"] == "error"
    await ws.send_json({"type": "message", "id": "x", "text": "before hello"})
    assert "hello" in (await ws.receive_json())["text"]
    await ws.send_json({"type": "hello", "token": "short"})  # invalid token: a new one
    welcome = await ws.receive_json()
    assert welcome["type"] == "welcome" and welcome["token"] != "short"
    await ws.receive_json()  # history
    await ws.send_json({"type": "message", "id": "e1", "text": "   "})
    empty = await ws.receive_json()
    assert empty["type"] == "error" and empty["id"] == "e1"
    await ws.send_json({"type": "message", "id": "e2", "text": "x" * 10_001})
    assert "too long" in (await ws.receive_json())["text"]
    await ws.send_json({"type": "message", "id": "ok", "text": "после ошибок"})
    ack = await ws.receive_json()
    assert ack["type"] == "ack"
    assert store.get_message(ack["message_id"]).text == "после ошибок"
    await ws.close()


async def test_receipts_sent_at_once_are_never_lost(gateway: Gateway, http: aiohttp.ClientSession,
                                                    store: Store) -> None:
    """The page acknowledges a push immediately, possibly before the outbox has recorded
    it as sent; such a receipt must still land once the message is sent."""
    visitor = Visitor(http, ws_url(gateway))
    await visitor.connect()
    ack = await visitor.say("много ответов", "m1")
    task_id = store.get_message(ack["message_id"]).task_id
    op = store.ensure_operator("Anna", "operator")
    replies = [store.reply(task_id, op.id, f"ответ {i}") for i in range(5)]
    assert visitor.ws is not None
    for _reply in replies:
        pushed = await visitor.receive("message")
        await visitor.ws.send_json({"type": "receipt", "ids": [pushed["id"]], "state": READ})
    for reply in replies:
        await eventually(lambda r=reply: store.get_message(r.id).delivery_state == READ)
    await visitor.close()


async def test_receipt_before_the_outbox_recorded_sent_is_applied_after(
        gateway: Gateway, http: aiohttp.ClientSession, store: Store) -> None:
    """Drive the ordering by hand: the outbox worker is stopped; the test claims the
    reply, pushes it through the connector's send(), lets the page acknowledge, and only
    then records it as sent — as a slow outbox commit would."""
    await gateway.outbox.stop()
    visitor = Visitor(http, ws_url(gateway))
    await visitor.connect()
    ack = await visitor.say("вопрос", "r1")
    task_id = store.get_message(ack["message_id"]).task_id
    op = store.ensure_operator("Anna", "operator")
    reply = store.reply(task_id, op.id, "ответ")
    [item] = store.claim_outbox(10)
    result = await gateway.connectors["web"].send(item)
    pushed = await visitor.receive("message")
    assert visitor.ws is not None
    await visitor.ws.send_json({"type": "receipt", "ids": [pushed["id"]], "state": READ})
    await visitor.say("sync", "r2")  # the receipt above has been handled by now
    assert store.get_message(reply.id).delivery_state == "sending"
    store.mark_sent(item.message_id, result.external_id)
    await eventually(lambda: store.get_message(reply.id).delivery_state == READ)
    await visitor.close()


async def test_anonymous_visitor_gets_a_readable_name_and_can_name_themselves_later(
        gateway: Gateway, http: aiohttp.ClientSession, store: Store) -> None:
    visitor = Visitor(http, ws_url(gateway))
    await visitor.connect()
    ack = await visitor.say("без имени", "n1")
    task = store.get_task(store.get_message(ack["message_id"]).task_id)
    assert task.contact_name.startswith("Web visitor ") and visitor.token not in task.contact_name
    assert visitor.ws is not None
    await visitor.ws.send_json({"type": "name", "name": "Пётр"})
    await visitor.say("теперь с именем", "n2")
    assert store.get_task(task.id).additional_data["visitor_name"] == "Пётр"
    await visitor.close()
