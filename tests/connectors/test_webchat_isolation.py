"""The first promise on the web chat's live paths: a visitor's socket only ever carries
their own chat. Live pushes, the backlog kept while a page's history is read, older pages
asked for with someone else's cursor, and a reply handed to send() for another chat."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from connectors.base import PermanentSendError
from connectors.gateway import Gateway
from connectors.webchat.connector import WebChatConnector, chat_id_for
from connectors.webchat.session import Session
from storage.constants import SENT
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.webchat_client import Visitor


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def gw(sqlite_store: Store) -> AsyncIterator[Gateway]:
    async with running(sqlite_store, [spec(sqlite_store, "webchat", "web")]) as gateway:
        yield gateway


def url(gw: Gateway) -> str:
    return f"{gw.external_url()}/chat/web/ws"


def connector(gw: Gateway) -> WebChatConnector:
    found = gw.connectors["web"]
    assert isinstance(found, WebChatConnector)
    return found


def texts(frames: list[dict[str, Any]]) -> str:
    return repr(frames)


async def test_live_frames_reach_every_tab_of_the_visitor_and_no_one_else(
        gw: Gateway, sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    alice, alice_tab, bob = Visitor(http, url(gw)), Visitor(http, url(gw)), Visitor(http, url(gw))
    await alice.connect()
    await alice_tab.connect(token=alice.token)
    await bob.connect()
    ack = await alice.say("Alice's secret", "a1")
    echo = await alice_tab.receive("message")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    task_id = sqlite_store.get_message(ack["message_id"]).task_id
    reply = sqlite_store.reply(task_id, operator.id, "only for Alice")
    pushed = [await alice.receive("message"), await alice_tab.receive("message")]
    await eventually(lambda: sqlite_store.get_message(reply.id).delivery_state == SENT)
    await alice.receipt([reply.id], "read")
    await alice.receive("receipt_ack")
    await bob.say("Bob here", "b1")  # whatever was pushed to bob came before this ack
    for v in (alice, alice_tab, bob):
        await v.close()
    assert echo["text"] == "Alice's secret"
    assert [p["text"] for p in pushed] == ["only for Alice", "only for Alice"]
    assert [f["type"] for f in bob.frames] == ["ack"]
    assert "Alice" not in texts(bob.frames)


async def test_the_backlog_kept_during_the_history_holds_only_the_visitors_own_frames(
        gw: Gateway, http: aiohttp.ClientSession) -> None:
    pages = connector(gw).pages
    alice, bob = Visitor(http, url(gw)), Visitor(http, url(gw))
    await alice.connect()
    alice_chat = chat_id_for(alice.token or "")
    go_live = pages.go_live
    held: list[list[dict[str, Any]]] = []

    async def pushes_while_the_history_is_out(session: Session) -> None:
        # Bob's history frame is out, his socket not live yet: a push for Alice and one
        # for Bob arrive now.
        await pages.push(alice_chat, {"type": "message", "id": -1, "text": "for Alice"})
        await pages.push(session.chat_id, {"type": "message", "id": -2, "text": "for Bob"})
        held.append(list(session.backlog))
        await go_live(session)

    pages.go_live = pushes_while_the_history_is_out  # type: ignore[method-assign]
    try:
        await bob.connect()
    finally:
        pages.go_live = go_live  # type: ignore[method-assign]
    for_bob = await bob.receive("message")
    for_alice = await alice.receive("message")
    await bob.say("sync", "b1")
    await alice.close()
    await bob.close()
    assert [[f["text"] for f in backlog] for backlog in held] == [["for Bob"]]
    assert for_bob["text"] == "for Bob" and for_alice["text"] == "for Alice"
    assert "for Alice" not in texts(bob.frames)


async def test_older_pages_are_the_visitors_own_whatever_cursor_is_sent(
        gw: Gateway, sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    alice, bob = Visitor(http, url(gw)), Visitor(http, url(gw))
    await alice.connect()
    await bob.connect()
    for i in range(3):
        await alice.say(f"Alice {i}", f"a{i}")
    await bob.say("Bob 0", "b0")
    assert bob.ws is not None
    alice_cursor = list(sqlite_store.get_message(
        (await alice.say("Alice 3", "a3"))["message_id"]).cursor)
    pages = []
    for before in (alice_cursor, [2 ** 62, 2 ** 62]):
        await bob.ws.send_json({"type": "older", "before": before})
        pages.append(await bob.receive("older"))
    await alice.close()
    await bob.close()
    assert [[m["text"] for m in page["messages"]] for page in pages] == [["Bob 0"], ["Bob 0"]]


async def test_send_refuses_a_reply_handed_in_for_another_chat(
        gw: Gateway, sqlite_store: Store, http: aiohttp.ClientSession) -> None:
    await gw.outbox.stop()  # the test hands the reply to send() itself
    alice, bob = Visitor(http, url(gw)), Visitor(http, url(gw))
    await alice.connect()
    await bob.connect()
    ack = await alice.say("question", "a1")
    operator = sqlite_store.ensure_operator("Anna", "operator")
    sqlite_store.reply(sqlite_store.get_message(ack["message_id"]).task_id, operator.id,
                       "for Alice only")
    [item] = sqlite_store.claim_outbox(10)
    forged = dataclasses.replace(item, chat_id=chat_id_for(bob.token or ""))
    with pytest.raises(PermanentSendError):
        await connector(gw).send(forged)
    await connector(gw).send(item)
    pushed = await alice.receive("message")
    await bob.say("sync", "b1")
    await alice.close()
    await bob.close()
    assert pushed["text"] == "for Alice only"
    assert "Alice" not in texts(bob.frames)
